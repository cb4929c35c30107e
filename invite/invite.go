// Package invite holds invitegw's unified domain: invitations, role bindings, groups and
// organizations as clients see them, independent of which upstream they came from.
//
// Everything here is computation (status, filters, order, IDs, cursors); nothing does I/O.
// The upstream packages convert their wire types into these, the loaders fetch them, and the
// GraphQL layer binds to them directly (gqlgen autobind), except Invitation: what one request
// looked up for an invitation (its organization, role names, groups, the moment its status is
// derived at) lives with the loaders, and GraphQL binds to loaders.Invitation, which embeds it.
package invite

import (
	"time"
)

// Invitation is one pending (or expired, or accepted) invitation from any provider.
//
// Its status is not stored: it is derived at read time by StatusAt, so an invitation held in a
// cache turns EXPIRED the moment its expiry passes. It holds nothing of a request: it is what
// the provider sent, safe to cache and to share.
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
}

// UTCPtr is t in UTC, by pointer: how the provider conversions fill an Invitation's optional
// times, so that they print alike whichever provider sent them.
func UTCPtr(t time.Time) *time.Time {
	t = t.UTC()
	return &t
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

// NextStatusChange is the first moment after now at which an invitation of invs changes status
// (a pending one reaching its expiry); zero when none will by time alone.
func NextStatusChange(invs []Invitation, now time.Time) time.Time {
	var first time.Time
	for i := range invs {
		inv := &invs[i]
		if inv.ExpiresAt == nil || inv.StatusAt(now) != StatusPending {
			continue
		}
		if first.IsZero() || inv.ExpiresAt.Before(first) {
			first = *inv.ExpiresAt
		}
	}
	return first
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
