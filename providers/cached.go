package providers

import (
	"context"
	"time"

	"github.com/invitegw/invitegw/cache"
	"github.com/invitegw/invitegw/invite"
)

// Cache kinds, the <kind> part of a key (see package cache).
const (
	kindInvitations  = "inv"
	kindOrganization = "org"
	kindRoles        = "roles"
	kindGroups       = "groups"
)

// Cached reports whether the set's reads go through a cache (else every read is a fetch).
func (s *Set) Cached() bool { return s.responses != nil }

// Responses is the response cache of everything this set reads; nil without a cache.
func (s *Set) Responses() *cache.Responses { return s.responses }

// key is the store key of one item of provider p.
func (s *Set) key(kind string, p invite.Provider, id string) string {
	return cache.Key(kind, s.tenants[p], id)
}

// listsKind is how invitation lists are cached; the other kinds below likewise.
func (s *Set) listsKind() cache.Kind[invite.Source, []invite.Invitation] {
	return cache.Kind[invite.Source, []invite.Invitation]{
		Key: func(src invite.Source) string {
			if k, ok := s.listKeys[src]; ok {
				return k
			}
			return s.key(kindInvitations, src.Provider, src.String())
		},
		TTL:        s.ttl.Invitations,
		FreshUntil: listFreshUntil,
	}
}

// Invitations loads the invitation lists of srcs, in order.
func (s *Set) Invitations(ctx context.Context, srcs []invite.Source) []cache.Result[[]invite.Invitation] {
	return cache.Load(ctx, s.cache, s.listsKind(), srcs, s.listInvitations)
}

// HeldInvitations returns the invitation lists of srcs, in order, with the earliest moment one
// of them stops being fresh, when this instance holds every one fresh (cache.Peek); else ok is
// false and Invitations loads them.
func (s *Set) HeldInvitations(ctx context.Context, srcs []invite.Source) (lists [][]invite.Invitation, freshUntil time.Time, ok bool) {
	return cache.Peek(ctx, s.cache, s.listsKind(), srcs)
}

func (s *Set) organizationsKind() cache.Kind[invite.Source, *invite.Organization] {
	return cache.Kind[invite.Source, *invite.Organization]{
		Key: func(src invite.Source) string { return s.key(kindOrganization, src.Provider, src.String()) },
		TTL: s.ttl.Directory,
	}
}

// Organizations loads organizations (Redpanda's is the token's own, whatever OrgID says).
func (s *Set) Organizations(ctx context.Context, srcs []invite.Source) []cache.Result[*invite.Organization] {
	return cache.Load(ctx, s.cache, s.organizationsKind(), srcs, s.organization)
}

// HeldOrganizations is Organizations when this instance holds every one fresh (cache.Peek).
func (s *Set) HeldOrganizations(ctx context.Context, srcs []invite.Source) ([]*invite.Organization, time.Time, bool) {
	return cache.Peek(ctx, s.cache, s.organizationsKind(), srcs)
}

func (s *Set) rolesKind() cache.Kind[string, []invite.Role] {
	return cache.Kind[string, []invite.Role]{
		Key: func(org string) string { return s.key(kindRoles, invite.Frontier, org) },
		TTL: s.ttl.Directory,
	}
}

// FrontierRoles loads Frontier role lists: platform roles for "", else an organization's.
func (s *Set) FrontierRoles(ctx context.Context, orgIDs []string) []cache.Result[[]invite.Role] {
	return cache.Load(ctx, s.cache, s.rolesKind(), orgIDs, s.listFrontierRoles)
}

// HeldFrontierRoles is FrontierRoles when this instance holds every list fresh (cache.Peek).
func (s *Set) HeldFrontierRoles(ctx context.Context, orgIDs []string) ([][]invite.Role, time.Time, bool) {
	return cache.Peek(ctx, s.cache, s.rolesKind(), orgIDs)
}

func (s *Set) groupsKind() cache.Kind[string, []invite.Group] {
	return cache.Kind[string, []invite.Group]{
		Key: func(org string) string { return s.key(kindGroups, invite.Frontier, org) },
		TTL: s.ttl.Directory,
	}
}

// FrontierGroups loads Frontier organizations' groups.
func (s *Set) FrontierGroups(ctx context.Context, orgIDs []string) []cache.Result[[]invite.Group] {
	return cache.Load(ctx, s.cache, s.groupsKind(), orgIDs, s.listFrontierGroups)
}

// HeldFrontierGroups is FrontierGroups when this instance holds every list fresh (cache.Peek).
func (s *Set) HeldFrontierGroups(ctx context.Context, orgIDs []string) ([][]invite.Group, time.Time, bool) {
	return cache.Peek(ctx, s.cache, s.groupsKind(), orgIDs)
}

// invalidateRedpandaInvites deletes exactly what a change to a Redpanda invite makes stale:
// the tenant's invite list, where every read of an invite comes from, and every cached
// response (any may show the invite).
func (s *Set) invalidateRedpandaInvites(ctx context.Context) {
	s.invalidateLists(ctx, []invite.Source{{Provider: invite.Redpanda}})
}

// listFreshUntil ends a list's freshness at the first moment one of its invitations changes
// status (a pending one reaching its expiry), so a cached list never outlives its statuses.
// Statuses are derived at read time anyway; this also refetches what the provider may have
// changed at that moment (Elastic's expired flag, say).
func listFreshUntil(invs []invite.Invitation, now time.Time) (time.Time, bool) {
	first := invite.NextStatusChange(invs, now)
	return first, !first.IsZero()
}
