// Package providers is the set of configured upstreams, speaking invitegw's unified types.
//
// It is the one place that knows which provider answers which question (Redpanda's token-bound
// organization, the configured Elastic and Frontier organizations, Frontier's role and group
// directories), so the loaders above it deal only in invite.Source keys. It is also where the
// cache sits between the loaders and the upstream clients.
package providers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/invitegw/invitegw/cache"
	"github.com/invitegw/invitegw/invite"
	"github.com/invitegw/invitegw/upstream"
	"github.com/invitegw/invitegw/upstream/elastic"
	"github.com/invitegw/invitegw/upstream/frontier"
	"github.com/invitegw/invitegw/upstream/redpanda"
)

// Set is the configured upstreams, built once by New and never changed after: safe for
// concurrent use.
type Set struct {
	redpanda     *redpanda.Client
	elastic      *elastic.Client
	elasticOrgs  []string
	frontier     *frontier.Client
	frontierOrgs []string

	cache *cache.Cache // never nil: a Noop store when nothing is cached
	ttl   TTL
	// tenants hashes each provider's base URL and credential into cache keys; responses
	// caches whole answers, under a scope hashing every tenant and configured organization
	// (nil without a cache).
	tenants   map[invite.Provider]string
	responses *cache.Responses

	// sources is every configured invitation list (Sources), and listKeys their cache keys:
	// built once, as every query reads them all.
	sources  []invite.Source
	listKeys map[invite.Source]string
}

// TTL is how long each kind of data stays fresh in the cache.
type TTL struct {
	// Invitations: invitation lists and single invites.
	Invitations time.Duration
	// Directory: organizations, roles and groups, which change rarely.
	Directory time.Duration
}

// Options are what a Set is made of. A nil client means that provider is off.
type Options struct {
	Redpanda     *redpanda.Client
	Elastic      *elastic.Client
	ElasticOrgs  []string
	Frontier     *frontier.Client
	FrontierOrgs []string
	// Cache holds upstream reads; nil means no caching (identical concurrent reads are still
	// shared).
	Cache *cache.Cache
	// TTL is required: config holds the defaults.
	TTL TTL
}

// New builds a Set. It rejects a TTL that is not positive and a provider without
// organizations to read.
func New(o Options) (*Set, error) {
	if o.TTL.Invitations <= 0 || o.TTL.Directory <= 0 {
		return nil, fmt.Errorf("providers: TTLs must be positive, got %+v", o.TTL)
	}
	if (o.Elastic != nil && len(o.ElasticOrgs) == 0) || (o.Frontier != nil && len(o.FrontierOrgs) == 0) {
		return nil, errors.New("providers: Elastic and Frontier need at least one organization each")
	}
	s := &Set{
		redpanda: o.Redpanda, elastic: o.Elastic, elasticOrgs: slices.Clone(o.ElasticOrgs),
		frontier: o.Frontier, frontierOrgs: slices.Clone(o.FrontierOrgs), cache: o.Cache, ttl: o.TTL,
		tenants: map[invite.Provider]string{},
	}
	if s.redpanda != nil {
		s.tenants[invite.Redpanda] = cache.Tenant("redpanda", s.redpanda.BaseURL(), s.redpanda.CredentialID())
	}
	if s.elastic != nil {
		s.tenants[invite.Elastic] = cache.Tenant("elastic", s.elastic.BaseURL(), s.elastic.CredentialID())
	}
	if s.frontier != nil {
		// The protocol is part of the tenant: the two APIs may answer differently for one
		// deployment, and an operator switching protocols must not read the other's entries.
		s.tenants[invite.Frontier] = cache.Tenant("frontier", s.frontier.Protocol(), s.frontier.BaseURL(), s.frontier.CredentialID())
	}
	if s.cache == nil {
		s.cache = cache.New(cache.Noop{}, cache.Options{})
	} else {
		// A whole response depends on every tenant and on which organizations are configured.
		scope := []string{"elastic-orgs", strings.Join(s.elasticOrgs, ","), "frontier-orgs", strings.Join(s.frontierOrgs, ",")}
		for _, p := range invite.Providers {
			scope = append(scope, string(p), s.tenants[p])
		}
		s.responses = s.cache.Responses(cache.Tenant(scope...))
	}
	if s.redpanda != nil {
		s.sources = append(s.sources, invite.Source{Provider: invite.Redpanda})
	}
	if s.elastic != nil {
		for _, org := range s.elasticOrgs {
			s.sources = append(s.sources, invite.Source{Provider: invite.Elastic, OrgID: org})
		}
	}
	if s.frontier != nil {
		for _, org := range s.frontierOrgs {
			s.sources = append(s.sources, invite.Source{Provider: invite.Frontier, OrgID: org})
		}
	}
	s.listKeys = make(map[invite.Source]string, len(s.sources))
	for _, src := range s.sources {
		s.listKeys[src] = s.key(kindInvitations, src.Provider, src.String())
	}
	return s, nil
}

// FrontierOrgs is how many Frontier organizations are configured.
func (s *Set) FrontierOrgs() int { return len(s.frontierOrgs) }

// Enabled reports whether provider p is configured.
func (s *Set) Enabled(p invite.Provider) bool {
	switch p {
	case invite.Redpanda:
		return s.redpanda != nil
	case invite.Elastic:
		return s.elastic != nil
	case invite.Frontier:
		return s.frontier != nil
	}
	return false
}

// Sources lists every configured invitation list: Redpanda's single list, then each Elastic
// and Frontier organization. The slice is shared: read it, never change it.
func (s *Set) Sources() []invite.Source { return slices.Clip(s.sources) }

// Configured reports whether src names a configured organization. invitegw only reads the
// organizations it was configured with, whatever else a credential could reach. A Redpanda
// source is always its single token-bound list.
func (s *Set) Configured(src invite.Source) bool {
	switch src.Provider {
	case invite.Redpanda:
		return s.redpanda != nil
	case invite.Elastic:
		return s.elastic != nil && slices.Contains(s.elasticOrgs, src.OrgID)
	case invite.Frontier:
		return s.frontier != nil && slices.Contains(s.frontierOrgs, src.OrgID)
	}
	return false
}

// errNotConfigured is a programming error: callers check Configured first.
var errNotConfigured = errors.New("providers: source not configured")

// listInvitations fetches every invitation of one source.
func (s *Set) listInvitations(ctx context.Context, src invite.Source) ([]invite.Invitation, error) {
	if !s.Configured(src) {
		return nil, fmt.Errorf("%w: %s", errNotConfigured, src)
	}
	switch src.Provider {
	case invite.Redpanda:
		list, err := s.redpanda.ListUserInvites(ctx)
		return convertAll(list, err, redpanda.ToInvitation)
	case invite.Elastic:
		list, err := s.elastic.ListInvitations(ctx, src.OrgID)
		return convertAll(list, err, func(inv *elastic.OrganizationInvitation) invite.Invitation {
			return elastic.ToInvitation(src.OrgID, inv)
		})
	default:
		list, err := s.frontier.ListOrganizationInvitations(ctx, src.OrgID, "")
		return convertAll(list, err, func(inv *frontier.Invitation) invite.Invitation {
			return frontier.ToInvitation(src.OrgID, inv)
		})
	}
}

// organization fetches one organization. For Redpanda, src.OrgID is ignored: the token's own
// organization is the only one there is.
func (s *Set) organization(ctx context.Context, src invite.Source) (*invite.Organization, error) {
	if !s.Configured(src) {
		return nil, fmt.Errorf("%w: %s", errNotConfigured, src)
	}
	var org invite.Organization
	switch src.Provider {
	case invite.Redpanda:
		o, err := s.redpanda.GetCurrentOrganization(ctx)
		if err != nil {
			return nil, err
		}
		org = redpanda.ToOrganization(o)
	case invite.Elastic:
		o, err := s.elastic.GetOrganization(ctx, src.OrgID)
		if err != nil {
			return nil, err
		}
		org = elastic.ToOrganization(o)
	default:
		o, err := s.frontier.GetOrganization(ctx, src.OrgID)
		if err != nil {
			return nil, err
		}
		org = frontier.ToOrganization(src.OrgID, o)
	}
	return &org, nil
}

// listFrontierRoles lists Frontier's roles: the platform roles when orgID is empty, else the
// organization's custom roles. An invitation's role IDs may name either kind.
func (s *Set) listFrontierRoles(ctx context.Context, orgID string) ([]invite.Role, error) {
	if s.frontier == nil {
		return nil, fmt.Errorf("%w: frontier", errNotConfigured)
	}
	var (
		roles []frontier.Role
		err   error
	)
	if orgID == "" {
		roles, err = s.frontier.ListRoles(ctx)
	} else {
		roles, err = s.frontier.ListOrganizationRoles(ctx, orgID)
	}
	return convertAll(roles, err, frontier.ToRole)
}

// listFrontierGroups lists a Frontier organization's groups.
func (s *Set) listFrontierGroups(ctx context.Context, orgID string) ([]invite.Group, error) {
	if s.frontier == nil {
		return nil, fmt.Errorf("%w: frontier", errNotConfigured)
	}
	groups, err := s.frontier.ListOrganizationGroups(ctx, orgID)
	return convertAll(groups, err, frontier.ToGroup)
}

// UpdateRedpandaInvite applies upd to a Redpanda invite and returns the invite as Redpanda
// answered. An unknown invite is a NOT_FOUND error; a binding Redpanda cannot express is
// BAD_USER_INPUT.
func (s *Set) UpdateRedpandaInvite(ctx context.Context, id string, upd invite.Update) (*invite.Invitation, error) {
	if s.redpanda == nil {
		return nil, invite.Errorf(invite.CodeNotFound, "invitation not found")
	}
	bindings, err := redpandaBindings(upd.RoleBindings)
	if err != nil {
		return nil, err
	}
	body := redpanda.UserInviteUpdate{ExpiresAt: upd.ExpiresAt}
	if len(bindings) > 0 {
		body.RoleBindings = bindings
	}
	u, err := s.redpanda.UpdateUserInvite(ctx, id, body, upd.Mask())
	if err == nil || errors.Is(err, upstream.ErrNotFound) {
		// Changed, or gone: either way cached copies are wrong now. A failed call may also have
		// changed the invite, but cannot be told apart from one that did not; the TTL bounds it.
		s.invalidateRedpandaInvites(ctx)
	}
	if errors.Is(err, upstream.ErrNotFound) {
		return nil, invite.Errorf(invite.CodeNotFound, "invitation not found")
	}
	if err != nil {
		return nil, err
	}
	inv := redpanda.ToInvitation(u)
	return &inv, nil
}

// convertAll converts a fetched list, passing a fetch error through.
func convertAll[W, T any](list []W, err error, conv func(*W) T) ([]T, error) {
	if err != nil {
		return nil, err
	}
	out := make([]T, len(list))
	for i := range list {
		out[i] = conv(&list[i])
	}
	return out, nil
}
