package loaders

import (
	"context"
	"slices"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/invitegw/invitegw/invite"
)

// Invitation is an invitation as one request answers it: the domain invitation plus what the
// request looked up for it beyond its own list (see joinable), and the moment the request
// derives statuses at. gqlgen binds the schema's Invitation to it, and its status,
// organization, roleBindings and groups to the methods below, which return plain values: a
// page of invitations starts no resolver, and no goroutine, per field and element.
//
// Only Join makes one; its answers belong to one request and are never cached.
type Invitation struct {
	invite.Invitation

	at     time.Time
	org    joined[*invite.Organization]
	roles  joined[[]*invite.RoleBinding] // a Frontier invitation's role IDs, named
	groups joined[[]*invite.Group]       // a Frontier invitation's groups
}

// errNotJoined means a code path handed the GraphQL layer an invitation field it did not look
// up: a wiring bug, reported as an internal error rather than as a silent null (or a status
// derived at some other moment).
var errNotJoined = invite.Errorf(invite.CodeInternal, "invitation fields were not looked up")

// IsEntity marks Invitation as an Apollo Federation entity (@key(fields: "id")). gqlgen's
// federation runtime binds entity types through this marker interface; it has no behaviour.
func (Invitation) IsEntity() {}

// Status is the invitation's status at the moment its request derives statuses at.
func (inv *Invitation) Status() (invite.Status, error) {
	if inv.at.IsZero() {
		return "", errNotJoined
	}
	return inv.StatusAt(inv.at), nil
}

// Organization is the invitation's organization, as its request looked it up; nil when the
// organization is not configured.
func (inv *Invitation) Organization() (*invite.Organization, error) {
	return inv.org.get()
}

// RoleBindings are the roles the invitation grants. Redpanda and Elastic invitations carry
// them; a Frontier invitation's role IDs are named by its request's lookups.
func (inv *Invitation) RoleBindings() ([]*invite.RoleBinding, error) {
	if inv.Provider != invite.Frontier {
		out := make([]*invite.RoleBinding, len(inv.Bindings))
		for i := range inv.Bindings {
			out[i] = &inv.Bindings[i]
		}
		return out, nil
	}
	if len(inv.RoleIDs) == 0 {
		return []*invite.RoleBinding{}, nil
	}
	return inv.roles.get()
}

// Groups are the Frontier groups the invitee will join; empty elsewhere.
func (inv *Invitation) Groups() ([]*invite.Group, error) {
	if inv.Provider != invite.Frontier || len(inv.GroupIDs) == 0 {
		return []*invite.Group{}, nil
	}
	return inv.groups.get()
}

// joined is one looked-up field of an Invitation: what its lookup answered, once Join has
// filled it in.
type joined[T any] struct {
	v    T
	err  error
	done bool
}

func (j *joined[T]) set(v T, err error) { j.v, j.err, j.done = v, err, true }

func (j *joined[T]) get() (T, error) {
	if !j.done {
		var zero T
		return zero, errNotJoined
	}
	return j.v, j.err
}

// joinable is every Invitation field read from lookups beyond the invitation's own list, and
// the one place that says how each is looked up. Adding one: its entry here, its joined value
// in Invitation and its method above (gqlgen binds the field to the method by name).
var joinable = [...]struct {
	field string // the schema's name of the Invitation field
	// prefetch starts the lookups every invitation of sources could need, beside the lists.
	prefetch func(l *Loaders, ctx context.Context, sources []invite.Source)
	// held primes the loader with what the lookups of invs read, when this instance holds
	// all of it fresh (see Join).
	held func(l *Loaders, ctx context.Context, invs []*Invitation)
	// join starts the lookups of invs and returns what waits for them and fills them in.
	join func(l *Loaders, ctx context.Context, invs []*Invitation) (wait func())
}{
	{"organization", (*Loaders).prefetchOrganizations, (*Loaders).heldOrganizations, (*Loaders).joinOrganizations},
	{"roleBindings", (*Loaders).prefetchRoles, (*Loaders).heldRoles, (*Loaders).joinRoleBindings},
	{"groups", (*Loaders).prefetchGroups, (*Loaders).heldGroups, (*Loaders).joinGroups},
}

// Joins names what a query reads of each invitation beyond its own list (a set of joinable
// fields). Invitations starts those lookups beside the lists, so a cold query waits for the
// slowest list once instead of for the lists and then for a second round of lookups.
type Joins uint32

var _ = [32 - len(joinable)]struct{}{} // Joins has a bit for each joinable field

// Select adds field to js when it is one of Invitation's joinable fields; any other field
// needs no lookup and is ignored.
func (js *Joins) Select(field string) {
	for i := range joinable {
		if joinable[i].field == field {
			*js |= 1 << i
		}
	}
}

func (js Joins) has(i int) bool { return js&(1<<i) != 0 }

// prefetch starts the lookups js needs for invitations of sources without waiting for them:
// the loaders memoize per request, so Join finds them in flight or done. It is speculative: an
// organization with no invitation on the page still gets its lookup (once, and cached like any
// other), which is cheaper than a second upstream round trip on every cold query. Errors
// surface only where a resolver asks for the result.
func (l *Loaders) prefetch(ctx context.Context, sources []invite.Source, js Joins) {
	if len(sources) == 0 {
		return
	}
	l.mu.Lock()
	l.prefetched |= js
	l.mu.Unlock()
	for i := range joinable {
		if js.has(i) {
			joinable[i].prefetch(l, ctx, sources)
		}
	}
}

// Join returns invs as the request answers them: looked up for js, with statuses at now. Every
// lookup starts before any is waited for, so they are batched together (and usually already
// started beside the lists, see prefetch): Frontier role names take one call for the platform
// roles and one per organization, whatever the number of invitations.
func (l *Loaders) Join(ctx context.Context, invs []*invite.Invitation, js Joins, now time.Time) []*Invitation {
	vals := make([]Invitation, len(invs))
	out := make([]*Invitation, len(invs))
	for i, inv := range invs {
		vals[i] = Invitation{Invitation: *inv, at: now}
		out[i] = &vals[i]
	}
	l.mu.Lock()
	prefetched := l.prefetched
	l.mu.Unlock()
	var waits [len(joinable)]func()
	for i := range joinable {
		if !js.has(i) {
			continue
		}
		// A warm request (see heldLists) prefetched nothing: the page's lookups are primed
		// from what this instance holds, so that they neither wait for a batch window nor run
		// a batch. What it does not hold is loaded as before.
		if !prefetched.has(i) {
			joinable[i].held(l, ctx, out)
		}
		waits[i] = joinable[i].join(l, ctx, out)
	}
	for _, wait := range waits {
		if wait != nil {
			wait()
		}
	}
	return out
}

// prefetchOrganizations starts the organization of every source.
func (l *Loaders) prefetchOrganizations(ctx context.Context, sources []invite.Source) {
	orgs := make([]invite.Source, len(sources))
	for i, src := range sources {
		orgs[i] = orgKey(src)
	}
	start(ctx, l.organizations, orgs)
}

// heldOrganizations primes the organizations of invs.
func (l *Loaders) heldOrganizations(ctx context.Context, invs []*Invitation) {
	var keys []invite.Source
	for _, inv := range invs {
		if src := orgKey(inv.Source()); l.set.Configured(src) && !slices.Contains(keys, src) {
			keys = append(keys, src)
		}
	}
	held(ctx, l, l.organizations, keys, l.set.HeldOrganizations)
}

// orgKey is the organizations loader's key of src's organization: Redpanda has one per token.
func orgKey(src invite.Source) invite.Source {
	if src.Provider == invite.Redpanda {
		src.OrgID = ""
	}
	return src
}

// joinOrganizations looks up each invitation's organization.
func (l *Loaders) joinOrganizations(ctx context.Context, invs []*Invitation) func() {
	orgs := make([]func() (*invite.Organization, error), len(invs))
	for i, inv := range invs {
		orgs[i] = l.organization(ctx, inv.Source())
	}
	return func() {
		for i, inv := range invs {
			inv.org.set(orgs[i]())
		}
	}
}

// prefetchRoles starts the platform roles and the roles of every Frontier source.
func (l *Loaders) prefetchRoles(ctx context.Context, sources []invite.Source) {
	if orgs := frontierOrgs(sources); len(orgs) > 0 {
		start(ctx, l.roles, append([]string{""}, orgs...)) // "" is the platform roles
	}
}

// heldRoles primes the platform roles and the roles of the organizations of invs' Frontier
// invitations with role IDs.
func (l *Loaders) heldRoles(ctx context.Context, invs []*Invitation) {
	keys := frontierKeys(invs, func(inv *Invitation) bool { return len(inv.RoleIDs) > 0 })
	if len(keys) > 0 {
		keys = append([]string{""}, keys...) // "" is the platform roles
	}
	held(ctx, l, l.roles, keys, l.set.HeldFrontierRoles)
}

// joinRoleBindings names each Frontier invitation's role IDs; the other providers send their
// bindings with the invitation.
func (l *Loaders) joinRoleBindings(ctx context.Context, invs []*Invitation) func() {
	type pending struct {
		platform, org dataloader.Thunk[[]invite.Role]
	}
	ps := make([]pending, len(invs))
	for i, inv := range invs {
		if inv.Provider == invite.Frontier && len(inv.RoleIDs) > 0 {
			ps[i] = pending{l.roles.Load(ctx, ""), l.roles.Load(ctx, inv.OrgID)}
		}
	}
	return func() {
		for i, inv := range invs {
			if ps[i].platform != nil {
				inv.roles.set(roleBindings(&inv.Invitation, ps[i].platform, ps[i].org))
			}
		}
	}
}

// prefetchGroups starts the groups of every Frontier source.
func (l *Loaders) prefetchGroups(ctx context.Context, sources []invite.Source) {
	if orgs := frontierOrgs(sources); len(orgs) > 0 {
		start(ctx, l.groups, orgs)
	}
}

// heldGroups primes the groups of the organizations of invs' Frontier invitations with groups.
func (l *Loaders) heldGroups(ctx context.Context, invs []*Invitation) {
	keys := frontierKeys(invs, func(inv *Invitation) bool { return len(inv.GroupIDs) > 0 })
	held(ctx, l, l.groups, keys, l.set.HeldFrontierGroups)
}

// frontierKeys are the distinct organization IDs of the Frontier invitations of invs that need.
func frontierKeys(invs []*Invitation, need func(*Invitation) bool) []string {
	var out []string
	for _, inv := range invs {
		if inv.Provider == invite.Frontier && need(inv) && !slices.Contains(out, inv.OrgID) {
			out = append(out, inv.OrgID)
		}
	}
	return out
}

// held primes ld with the values of keys when this instance holds every one fresh (peek):
// loading them then neither waits for a batch window nor runs a batch. Otherwise they are
// loaded as any others.
func held[K comparable, V any](ctx context.Context, l *Loaders, ld *dataloader.Loader[K, V], keys []K,
	peek func(context.Context, []K) ([]V, time.Time, bool)) {
	if len(keys) == 0 {
		return
	}
	vals, until, ok := peek(ctx, keys)
	if !ok {
		return
	}
	l.noteFreshness(until, true)
	for i, k := range keys {
		ld.Prime(ctx, k, vals[i])
	}
}

// joinGroups names the groups of each Frontier invitation.
func (l *Loaders) joinGroups(ctx context.Context, invs []*Invitation) func() {
	ps := make([]dataloader.Thunk[[]invite.Group], len(invs))
	for i, inv := range invs {
		if inv.Provider == invite.Frontier && len(inv.GroupIDs) > 0 {
			ps[i] = l.groups.Load(ctx, inv.OrgID)
		}
	}
	return func() {
		for i, inv := range invs {
			if ps[i] != nil {
				inv.groups.set(groups(&inv.Invitation, ps[i]))
			}
		}
	}
}

// frontierOrgs are the organization IDs of the Frontier sources.
func frontierOrgs(sources []invite.Source) []string {
	var out []string
	for _, src := range sources {
		if src.Provider == invite.Frontier {
			out = append(out, src.OrgID)
		}
	}
	return out
}

// roleBindings names a Frontier invitation's role IDs with the platform and organization roles.
func roleBindings(inv *invite.Invitation, platform, org dataloader.Thunk[[]invite.Role]) ([]*invite.RoleBinding, error) {
	names := map[string]string{}
	for _, thunk := range []dataloader.Thunk[[]invite.Role]{platform, org} {
		list, err := thunk()
		if err != nil {
			return nil, err
		}
		for _, r := range list {
			names[r.ID] = r.Name
		}
	}
	out := make([]*invite.RoleBinding, 0, len(inv.RoleIDs))
	for _, id := range inv.RoleIDs {
		name, ok := names[id]
		if !ok {
			// A role deleted since the invitation was made: keep the binding, named by its ID,
			// rather than silently dropping it.
			name = id
		}
		out = append(out, &invite.RoleBinding{
			RoleName: name,
			Scope:    &invite.Scope{ResourceType: invite.ScopeOrganization, ResourceID: inv.OrgID},
		})
	}
	return out, nil
}

// groups names the groups a Frontier invitation adds the invitee to.
func groups(inv *invite.Invitation, thunk dataloader.Thunk[[]invite.Group]) ([]*invite.Group, error) {
	list, err := thunk()
	if err != nil {
		return nil, err
	}
	out := make([]*invite.Group, 0, len(inv.GroupIDs))
	for _, id := range inv.GroupIDs {
		i := slices.IndexFunc(list, func(g invite.Group) bool { return g.ID == id })
		if i < 0 {
			// A deleted group: keep its ID visible instead of dropping it.
			out = append(out, &invite.Group{ID: id, Name: id})
			continue
		}
		out = append(out, &list[i])
	}
	return out, nil
}
