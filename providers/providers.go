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
	"sync"
	"time"

	"github.com/invitegw/invitegw/cache"
	"github.com/invitegw/invitegw/invite"
	"github.com/invitegw/invitegw/upstream"
	"github.com/invitegw/invitegw/upstream/elastic"
	"github.com/invitegw/invitegw/upstream/frontier"
	"github.com/invitegw/invitegw/upstream/redpanda"
)

// Set is the configured upstreams. A nil client means that provider is off.
type Set struct {
	Redpanda     *redpanda.Client
	Elastic      *elastic.Client
	ElasticOrgs  []string
	Frontier     *frontier.Client
	FrontierOrgs []string

	// Cache holds upstream reads; nil means no caching.
	Cache *cache.Cache
	TTL   TTL

	once          sync.Once
	tenants       map[invite.Provider]string
	responseScope string
	noCache       *cache.Cache
}

// TTL is how long each kind of data stays fresh in the cache.
type TTL struct {
	// Invitations: invitation lists and single invites. Default 30s.
	Invitations time.Duration
	// Directory: organizations, roles and groups, which change rarely. Default 5m.
	Directory time.Duration
}

// Default TTLs.
const (
	DefaultTTLInvitations = 30 * time.Second
	DefaultTTLDirectory   = 5 * time.Minute
)

// Enabled reports whether provider p is configured.
func (s *Set) Enabled(p invite.Provider) bool {
	switch p {
	case invite.Redpanda:
		return s.Redpanda != nil
	case invite.Elastic:
		return s.Elastic != nil
	case invite.Frontier:
		return s.Frontier != nil
	}
	return false
}

// Sources lists every configured invitation list: Redpanda's single list, then each Elastic
// and Frontier organization.
func (s *Set) Sources() []invite.Source {
	var out []invite.Source
	if s.Redpanda != nil {
		out = append(out, invite.Source{Provider: invite.Redpanda})
	}
	if s.Elastic != nil {
		for _, org := range s.ElasticOrgs {
			out = append(out, invite.Source{Provider: invite.Elastic, OrgID: org})
		}
	}
	if s.Frontier != nil {
		for _, org := range s.FrontierOrgs {
			out = append(out, invite.Source{Provider: invite.Frontier, OrgID: org})
		}
	}
	return out
}

// Configured reports whether src names a configured organization. invitegw only reads the
// organizations it was configured with, whatever else a credential could reach. A Redpanda
// source is always its single token-bound list.
func (s *Set) Configured(src invite.Source) bool {
	switch src.Provider {
	case invite.Redpanda:
		return s.Redpanda != nil
	case invite.Elastic:
		return s.Elastic != nil && slices.Contains(s.ElasticOrgs, src.OrgID)
	case invite.Frontier:
		return s.Frontier != nil && slices.Contains(s.FrontierOrgs, src.OrgID)
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
		list, err := s.Redpanda.ListUserInvites(ctx)
		return convertAll(list, err, redpanda.ToInvitation)
	case invite.Elastic:
		list, err := s.Elastic.ListInvitations(ctx, src.OrgID)
		return convertAll(list, err, func(inv *elastic.OrganizationInvitation) invite.Invitation {
			return elastic.ToInvitation(src.OrgID, inv)
		})
	default:
		list, err := s.Frontier.ListOrganizationInvitations(ctx, src.OrgID, "")
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
		o, err := s.Redpanda.GetCurrentOrganization(ctx)
		if err != nil {
			return nil, err
		}
		org = redpanda.ToOrganization(o)
	case invite.Elastic:
		o, err := s.Elastic.GetOrganization(ctx, src.OrgID)
		if err != nil {
			return nil, err
		}
		org = elastic.ToOrganization(o)
	default:
		o, err := s.Frontier.GetOrganization(ctx, src.OrgID)
		if err != nil {
			return nil, err
		}
		org = frontier.ToOrganization(src.OrgID, o)
	}
	return &org, nil
}

// frontierRoles lists Frontier's roles: the platform roles when orgID is empty, else the
// organization's custom roles. An invitation's role IDs may name either kind.
func (s *Set) frontierRoles(ctx context.Context, orgID string) ([]invite.Role, error) {
	if s.Frontier == nil {
		return nil, fmt.Errorf("%w: frontier", errNotConfigured)
	}
	var (
		roles []frontier.Role
		err   error
	)
	if orgID == "" {
		roles, err = s.Frontier.ListRoles(ctx)
	} else {
		roles, err = s.Frontier.ListOrganizationRoles(ctx, orgID)
	}
	return convertAll(roles, err, frontier.ToRole)
}

// frontierGroups lists a Frontier organization's groups.
func (s *Set) frontierGroups(ctx context.Context, orgID string) ([]invite.Group, error) {
	if s.Frontier == nil {
		return nil, fmt.Errorf("%w: frontier", errNotConfigured)
	}
	groups, err := s.Frontier.ListOrganizationGroups(ctx, orgID)
	return convertAll(groups, err, frontier.ToGroup)
}

// UpdateRedpandaInvite applies upd to a Redpanda invite and returns the invite as Redpanda
// answered. An unknown invite is a NOT_FOUND error; a binding Redpanda cannot express is
// BAD_USER_INPUT.
func (s *Set) UpdateRedpandaInvite(ctx context.Context, id string, upd invite.Update) (*invite.Invitation, error) {
	if s.Redpanda == nil {
		return nil, invite.Errorf(invite.CodeNotFound, "invitation not found")
	}
	body := redpanda.UserInviteUpdate{ExpiresAt: upd.ExpiresAt}
	for i, rb := range upd.RoleBindings {
		rt, ok := redpanda.FromScopeType(rb.Scope.ResourceType)
		if !ok {
			return nil, invite.Errorf(invite.CodeBadUserInput,
				"roleBindings[%d].scope.resourceType %s is not a Redpanda resource type", i, rb.Scope.ResourceType)
		}
		body.RoleBindings = append(body.RoleBindings, redpanda.RoleBinding{
			RoleName: rb.RoleName,
			Scope:    &redpanda.Scope{ResourceType: rt, ResourceID: rb.Scope.ResourceID},
		})
	}
	u, err := s.Redpanda.UpdateUserInvite(ctx, id, body, upd.Mask())
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
