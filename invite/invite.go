// Package invite holds invitegw's unified domain: invitations, role bindings, groups and
// organizations as clients see them, independent of which upstream they came from.
//
// Everything here is computation (status, filters, order, IDs, cursors); nothing does I/O.
// The upstream packages convert their wire types into these, the loaders fetch them, and the
// GraphQL layer binds to them directly (gqlgen autobind).
package invite

import (
	"time"
)

// Invitation is one pending (or expired, or accepted) invitation from any provider.
//
// Its status is not stored: it is derived at read time by StatusAt, so an invitation held in a
// cache turns EXPIRED the moment its expiry passes.
type Invitation struct {
	// ID is the unified, opaque-looking ID (see FormatID). It never contains a secret.
	ID       string
	Provider Provider
	Email    string
	// OrgID is the provider's own organization ID. Empty for Redpanda, whose API token is
	// bound to one organization and whose invites carry no organization ID.
	OrgID      string
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	AcceptedAt *time.Time
	// ExpiredFlag is Elastic's own `expired` boolean, as last fetched.
	ExpiredFlag bool
	// InviteURL is Redpanda's invite link; empty elsewhere.
	InviteURL *string
	// Bindings are the role bindings known without further lookups (Redpanda, Elastic).
	// Frontier invitations carry RoleIDs instead, resolved to names through a loader.
	Bindings []RoleBinding
	// RoleIDs and GroupIDs are Frontier's raw references.
	RoleIDs  []string
	GroupIDs []string
	// Metadata is Frontier's free-form metadata object; nil elsewhere.
	Metadata map[string]any

	// joined is what one request looked up for this copy (see Joined); never cached.
	joined *Joined
}

// Joined is what one request looked up for an invitation beyond its own list, and the moment
// the request derives statuses at. The GraphQL layer reads an invitation's status,
// organization, role bindings and groups from it as plain values, so answering a page of
// invitations starts no resolver (and no goroutine) per field; the loaders fill it in one
// round of batched lookups (loaders.Join).
type Joined struct {
	At        time.Time
	Org       *Organization
	OrgErr    error
	Roles     []*RoleBinding // a Frontier invitation's bindings, role IDs turned into names
	RolesErr  error
	Groups    []*Group // a Frontier invitation's groups
	GroupsErr error
}

// errNotJoined means a code path handed the GraphQL layer an invitation it did not join: a
// wiring bug, reported as an internal error rather than as a silent null.
var errNotJoined = Errorf(CodeInternal, "invitation fields were not looked up")

// WithJoined returns a copy of inv that answers from j.
func (inv Invitation) WithJoined(j *Joined) *Invitation {
	inv.joined = j
	return &inv
}

// Status is the invitation's status at the moment its request derives statuses at.
func (inv *Invitation) Status() Status {
	if inv.joined == nil {
		return inv.StatusAt(time.Now())
	}
	return inv.StatusAt(inv.joined.At)
}

// Organization is the invitation's organization, as its request looked it up; nil when the
// organization is not configured.
func (inv *Invitation) Organization() (*Organization, error) {
	if inv.joined == nil {
		return nil, errNotJoined
	}
	return inv.joined.Org, inv.joined.OrgErr
}

// RoleBindings are the roles the invitation grants. Redpanda and Elastic invitations carry
// them; a Frontier invitation's role IDs are named by its request's lookups.
func (inv *Invitation) RoleBindings() ([]*RoleBinding, error) {
	if inv.Provider != Frontier {
		out := make([]*RoleBinding, len(inv.Bindings))
		for i := range inv.Bindings {
			out[i] = &inv.Bindings[i]
		}
		return out, nil
	}
	if len(inv.RoleIDs) == 0 {
		return []*RoleBinding{}, nil
	}
	if inv.joined == nil {
		return nil, errNotJoined
	}
	return inv.joined.Roles, inv.joined.RolesErr
}

// Groups are the Frontier groups the invitee will join; empty elsewhere.
func (inv *Invitation) Groups() ([]*Group, error) {
	if inv.Provider != Frontier || len(inv.GroupIDs) == 0 {
		return []*Group{}, nil
	}
	if inv.joined == nil {
		return nil, errNotJoined
	}
	return inv.joined.Groups, inv.joined.GroupsErr
}

// StatusAt derives the invitation's status at now: accepted wins, then expiry (by time, or by the
// provider's own flag), else pending.
func (inv *Invitation) StatusAt(now time.Time) Status {
	switch {
	case inv.AcceptedAt != nil:
		return StatusAccepted
	case inv.ExpiredFlag, inv.ExpiresAt != nil && !now.Before(*inv.ExpiresAt):
		return StatusExpired
	default:
		return StatusPending
	}
}

// Source returns the upstream list this invitation belongs to.
func (inv *Invitation) Source() Source {
	return Source{Provider: inv.Provider, OrgID: inv.OrgID}
}

// RoleBinding grants a role, optionally limited to a scope.
type RoleBinding struct {
	RoleName string
	Scope    *Scope
}

// Scope is the resource a role binding applies to.
type Scope struct {
	ResourceType ScopeType
	ResourceID   string
}

// Group is a Frontier group an invitee will join.
type Group struct {
	ID    string
	Name  string
	Title *string
}

// Role is a Frontier role, used to turn role IDs into names.
type Role struct {
	ID    string
	Name  string
	Title string
}

// Organization is a tenant in one provider.
type Organization struct {
	// ID is the unified ID, "<provider>:<org id>".
	ID       string
	Provider Provider
	Name     string
	// OrgID is the provider's own ID.
	OrgID string
}

// Source names one upstream invitation list: a provider plus, for Elastic and Frontier, an
// organization. Redpanda has a single list per token, so its OrgID is empty.
// It is comparable, so it serves directly as a dataloader and cache key.
type Source struct {
	Provider Provider
	OrgID    string
}

// String is the source in its log and cache-key form, e.g. "elastic:1234".
func (s Source) String() string {
	if s.OrgID == "" {
		return s.Provider.Slug()
	}
	return s.Provider.Slug() + ":" + s.OrgID
}
