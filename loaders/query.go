package loaders

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/invitegw/invitegw/invite"
	"github.com/invitegw/invitegw/upstream"
)

// Invitations loads every invitation the filter can match, from all wanted sources at once,
// and returns the matches sorted (invite.Sort). A failing source drops out of the result and
// adds one error per failed provider, so the caller can answer with partial data. The lookups
// js asks for start at once, beside the lists (see prefetch).
// The result is shared with other requests (Views): read it, never change it.
func (l *Loaders) Invitations(ctx context.Context, f *invite.Filter, now time.Time, js Joins) ([]*invite.Invitation, []error) {
	vw, _, errs := l.matches(ctx, f, now, js)
	if vw == nil {
		return nil, errs
	}
	return vw.sortedMatches(), errs
}

// matches is the view of the invitations f matches at now: kept from an earlier request of
// the process when the same lists were matched (kept is true), else matched now and kept
// for the next. Nil when nothing could be loaded to match.
func (l *Loaders) matches(ctx context.Context, f *invite.Filter, now time.Time, js Joins) (vw *view, kept bool, _ []error) {
	var sources []invite.Source
	for _, src := range l.set.Sources() {
		if f.Wants(src) {
			sources = append(sources, src)
		}
	}
	lists, errs, warm := l.heldLists(ctx, sources)
	var loading []dataloader.Thunk[[]invite.Invitation]
	if !warm {
		// The lists first: they usually hold the slowest chain of calls (Redpanda's pages).
		loading = start(ctx, l.invitations, sources)
		l.prefetch(ctx, sources, js)
	}
	redpandaOrg := l.redpandaOrg(ctx, f, sources)
	if !warm {
		lists, errs = l.await(sources, loading)
	}
	org, err := redpandaOrg()
	if err != nil {
		errs.add(invite.Redpanda, err)
		return nil, false, errs.list
	}
	key := viewKey(f, sources)
	if vw := l.views.get(key, lists, org, now); vw != nil {
		l.noteChanges(vw.changes)
		return vw, true, errs.list
	}
	n := 0
	for _, list := range lists {
		n += len(list)
	}
	// Pointers into the loaded lists, which nobody changes: sorting 600 invitations by value
	// copied a quarter of a megabyte around.
	out := make([]*invite.Invitation, 0, n)
	for _, list := range lists {
		for j := range list {
			if f.Match(&list[j], now, org) {
				out = append(out, &list[j])
			}
		}
	}
	vw = &view{lists: lists, redpandaOrg: org, matches: out, changes: statusesUntil(lists, now), byStatus: len(f.Statuses) > 0}
	l.noteChanges(vw.changes)
	l.views.put(key, vw)
	return vw, false, errs.list
}

// heldLists returns the lists of sources when this instance holds every one decoded and fresh
// (providers.Set.HeldInvitations): a warm request then reads them in one pass over the cache,
// not one loader key each, and starts no speculative lookups (prefetch), so that its cost does
// not grow with the number of organizations. Views are only kept with a cache, so without one
// this is never tried.
func (l *Loaders) heldLists(ctx context.Context, sources []invite.Source) ([][]invite.Invitation, providerErrors, bool) {
	if l.views == nil || len(sources) == 0 {
		return nil, providerErrors{}, false
	}
	lists, until, ok := l.set.HeldInvitations(ctx, sources)
	if ok {
		l.noteFreshness(until, true)
	}
	return lists, providerErrors{}, ok
}

// await waits for the lists loading; a failed source is nil in lists and adds its provider's
// error.
func (l *Loaders) await(sources []invite.Source, loading []dataloader.Thunk[[]invite.Invitation]) (lists [][]invite.Invitation, errs providerErrors) {
	lists = make([][]invite.Invitation, len(loading))
	for i, thunk := range loading {
		list, err := thunk()
		if err != nil {
			errs.add(sources[i].Provider, err)
			continue
		}
		lists[i] = list
	}
	return lists, errs
}

// redpandaOrg starts looking up what f's organization is matched against in Redpanda's list:
// Redpanda invites carry no organization ID, so a filter on a Redpanda organization matches
// the token's. The ID is "" when f has no such filter.
func (l *Loaders) redpandaOrg(ctx context.Context, f *invite.Filter, sources []invite.Source) func() (string, error) {
	if f.Organization == nil || f.Organization.Provider != invite.Redpanda || len(sources) == 0 {
		return func() (string, error) { return "", nil }
	}
	thunk := l.organization(ctx, invite.Source{Provider: invite.Redpanda})
	return func() (string, error) {
		org, err := thunk()
		if err != nil || org == nil {
			return "", err
		}
		return org.OrgID, nil
	}
}

// start adds keys to ld's batch and returns their thunks without waiting. dataloader's
// LoadMany would start a goroutine per key only to call Load from it; here the Load that
// fills the batch dispatches it (see New), before the caller moves on.
func start[K comparable, V any](ctx context.Context, ld *dataloader.Loader[K, V], keys []K) []dataloader.Thunk[V] {
	out := make([]dataloader.Thunk[V], len(keys))
	for i, k := range keys {
		out[i] = ld.Load(ctx, k)
	}
	return out
}

// Invitation loads one invitation by its parsed ID; nil when it does not exist or its
// organization is not configured.
func (l *Loaders) Invitation(ctx context.Context, id invite.ID) (*invite.Invitation, error) {
	src := id.Source()
	if !l.set.Configured(src) {
		return nil, nil
	}
	// Every lookup reads its source's list: one call (or a cache hit) shared by all lookups and
	// lists of the request, where per-ID gets would cost a call each (50 federation entities,
	// 50 calls). Elastic has no get-by-ID that avoids the secret token anyway, and Frontier's
	// answers an unknown ID with a 500.
	list, err := l.invitations.Load(ctx, src)()
	if err != nil {
		return nil, err
	}
	want := id.String()
	for i := range list {
		if list[i].ID == want {
			return &list[i], nil
		}
	}
	return nil, nil
}

// Organization loads one configured organization; nil when src is not configured. A Redpanda
// src with an OrgID must match the token's organization.
func (l *Loaders) Organization(ctx context.Context, src invite.Source) (*invite.Organization, error) {
	return l.organization(ctx, src)()
}

// organization starts loading src's organization and returns a function that waits for it.
func (l *Loaders) organization(ctx context.Context, src invite.Source) func() (*invite.Organization, error) {
	if !l.set.Configured(src) {
		return func() (*invite.Organization, error) { return nil, nil }
	}
	key := src
	if src.Provider == invite.Redpanda {
		key.OrgID = "" // one organization per token, whatever ID was asked for
	}
	thunk := l.organizations.Load(ctx, key)
	return func() (*invite.Organization, error) {
		org, err := thunk()
		if err != nil {
			return nil, err
		}
		if src.Provider == invite.Redpanda && src.OrgID != "" && src.OrgID != org.OrgID {
			return nil, nil
		}
		return org, nil
	}
}

// Organizations loads every configured organization, of one provider when p is non-nil.
func (l *Loaders) Organizations(ctx context.Context, p *invite.Provider) ([]*invite.Organization, []error) {
	var sources []invite.Source
	for _, src := range l.set.Sources() {
		if p == nil || src.Provider == *p {
			sources = append(sources, src)
		}
	}
	var (
		out  []*invite.Organization
		errs providerErrors
	)
	for i, thunk := range start(ctx, l.organizations, sources) {
		org, err := thunk()
		if err != nil {
			errs.add(sources[i].Provider, err)
			continue
		}
		out = append(out, org)
	}
	return out, errs.list
}

// Connection is one page of invitations as the request answers it: invite.PageOf's page with
// its invitations joined (gqlgen binds InvitationConnection to it).
type Connection = invite.Connection[*Invitation]

// Edge is a joined invitation with its cursor (gqlgen binds InvitationEdge to it).
type Edge = invite.Edge[*Invitation]

// Page cuts one page (first, after) of the invitations f matches and joins its invitations
// for js at now. A bad page request fails before any upstream call; failed providers come
// back as errs beside the partial page.
func (l *Loaders) Page(ctx context.Context, f *invite.Filter, first int, after *string, js Joins, now time.Time) (conn *Connection, errs []error, err error) {
	if _, err := invite.PageOf(nil, first, after); err != nil {
		return nil, nil, err
	}
	// A view read again is sorted once and paged by binary search; the first time, the page is
	// selected without sorting every match (invite.PageOf).
	vw, kept, errs := l.matches(ctx, f, now, js)
	var page *invite.Connection[*invite.Invitation]
	switch {
	case vw == nil:
		page, err = invite.PageOf(nil, first, after)
	case kept:
		page, err = invite.PageSorted(vw.sortedMatches(), first, after)
	default:
		page, err = invite.PageOf(vw.matches, first, after)
	}
	if err != nil {
		return nil, errs, err
	}
	conn = &Connection{Edges: make([]Edge, len(page.Edges)), PageInfo: page.PageInfo, TotalCount: page.TotalCount}
	for i, inv := range l.Join(ctx, page.Nodes(), js, now) {
		conn.Edges[i] = Edge{Cursor: page.Edges[i].Cursor, Node: inv}
	}
	return conn, errs, nil
}

// List is every invitation f matches, joined for js at now (see Invitations and Join).
func (l *Loaders) List(ctx context.Context, f *invite.Filter, js Joins, now time.Time) ([]*Invitation, []error) {
	invs, errs := l.Invitations(ctx, f, now, js)
	return l.Join(ctx, invs, js, now), errs
}

// Find is Invitation joined for js at now; nil when the invitation does not exist.
func (l *Loaders) Find(ctx context.Context, id invite.ID, js Joins, now time.Time) (*Invitation, error) {
	inv, err := l.Invitation(ctx, id)
	if inv == nil || err != nil {
		return nil, err
	}
	if inv.ExpiresAt != nil && inv.StatusAt(now) == invite.StatusPending {
		l.noteChanges(*inv.ExpiresAt)
	}
	return l.Join(ctx, []*invite.Invitation{inv}, js, now)[0], nil
}

// providerErrors keeps the first error of each provider: one GraphQL error per failed
// provider, however many of its organizations failed.
type providerErrors struct {
	seen []invite.Provider
	list []error
}

func (e *providerErrors) add(p invite.Provider, err error) {
	if slices.Contains(e.seen, p) {
		return
	}
	e.seen = append(e.seen, p)
	var ue *upstream.Error
	if !errors.As(err, &ue) {
		err = fmt.Errorf("%s: %w", p.Slug(), err)
	}
	e.list = append(e.list, err)
}
