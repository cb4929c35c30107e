package providers

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/invitegw/invitegw/invite"
	"github.com/invitegw/invitegw/upstream"
	"github.com/invitegw/invitegw/upstream/elastic"
	"github.com/invitegw/invitegw/upstream/frontier"
	"github.com/invitegw/invitegw/upstream/redpanda"
)

// Created is the outcome of inviting one email into one organization: the invitation as the
// provider answered, or why not.
type Created struct {
	Invitation *invite.Invitation
	Err        error
}

// CheckGrant checks, before any call, that src's provider can express g: a grant it cannot is
// the caller's mistake (BAD_USER_INPUT) and nothing is sent. Frontier's role names are
// resolved later, by Create.
func (s *Set) CheckGrant(src invite.Source, g invite.Grant) error {
	if len(g.GroupIDs) > 0 && src.Provider != invite.Frontier {
		return invite.Errorf(invite.CodeBadUserInput, "groupIds: only Frontier invitations join groups")
	}
	switch src.Provider {
	case invite.Redpanda:
		_, err := redpandaBindings(g.RoleBindings)
		return err
	case invite.Elastic:
		_, err := elasticAssignments(src.OrgID, g.RoleBindings)
		return err
	case invite.Frontier:
		for i, rb := range g.RoleBindings {
			if rb.Scope == nil || rb.Scope.ResourceType != invite.ScopeOrganization {
				return invite.Errorf(invite.CodeBadUserInput, "roleBindings[%d]: Frontier invitations grant organization roles only", i)
			}
		}
	}
	return nil
}

// redpandaBindings is bindings in Redpanda's words.
func redpandaBindings(bindings []invite.RoleBinding) ([]redpanda.RoleBinding, error) {
	out := make([]redpanda.RoleBinding, 0, len(bindings))
	for i, rb := range bindings {
		if rb.Scope == nil {
			return nil, invite.Errorf(invite.CodeBadUserInput, "roleBindings[%d] needs a scope", i)
		}
		rt, ok := redpanda.FromScopeType(rb.Scope.ResourceType)
		if !ok {
			return nil, invite.Errorf(invite.CodeBadUserInput,
				"roleBindings[%d].scope.resourceType %s is not a Redpanda resource type", i, rb.Scope.ResourceType)
		}
		out = append(out, redpanda.RoleBinding{RoleName: rb.RoleName, Scope: &redpanda.Scope{ResourceType: rt, ResourceID: rb.Scope.ResourceID}})
	}
	return out, nil
}

// elasticProjectTypes are Elastic's serverless project types. Its project role IDs start with
// the type (elasticsearch-viewer, observability-editor, security-admin): the API names the
// type only by where the assignment sits, so invitegw reads it off the role ID.
var elasticProjectTypes = []string{"elasticsearch", "observability", "security"}

// elasticAssignments is bindings as Elastic role assignments in organization org: the role
// name is Elastic's role_id, and a resource ID of * means every resource of the kind.
func elasticAssignments(org string, bindings []invite.RoleBinding) (*elastic.RoleAssignments, error) {
	if len(bindings) == 0 {
		return nil, nil
	}
	ra := &elastic.RoleAssignments{}
	for i, rb := range bindings {
		if rb.Scope == nil {
			return nil, invite.Errorf(invite.CodeBadUserInput, "roleBindings[%d] needs a scope", i)
		}
		all, ids := rb.Scope.ResourceID == "*", []string{rb.Scope.ResourceID}
		if all {
			ids = nil
		}
		switch rb.Scope.ResourceType {
		case invite.ScopeOrganization:
			ra.Organization = append(ra.Organization, elastic.OrganizationRoleAssignment{RoleID: rb.RoleName, OrganizationID: org})
		case invite.ScopeDeployment:
			ra.Deployment = append(ra.Deployment, elastic.DeploymentRoleAssignment{RoleID: rb.RoleName, OrganizationID: org, All: all, DeploymentIDs: ids})
		case invite.ScopeProject:
			a := elastic.ProjectRoleAssignment{RoleID: rb.RoleName, OrganizationID: org, All: all, ProjectIDs: ids}
			if ra.Project == nil {
				ra.Project = &elastic.ProjectRoleAssignments{}
			}
			switch projectType(rb.RoleName) {
			case "elasticsearch":
				ra.Project.Elasticsearch = append(ra.Project.Elasticsearch, a)
			case "observability":
				ra.Project.Observability = append(ra.Project.Observability, a)
			case "security":
				ra.Project.Security = append(ra.Project.Security, a)
			default:
				return nil, invite.Errorf(invite.CodeBadUserInput,
					"roleBindings[%d].roleName: a project role ID starts with its project type (%s)", i, strings.Join(elasticProjectTypes, ", "))
			}
		default:
			return nil, invite.Errorf(invite.CodeBadUserInput,
				"roleBindings[%d].scope.resourceType %s: Elastic invitations grant ORGANIZATION, DEPLOYMENT or PROJECT roles", i, rb.Scope.ResourceType)
		}
	}
	return ra, nil
}

func projectType(roleID string) string {
	for _, t := range elasticProjectTypes {
		if strings.HasPrefix(roleID, t+"-") {
			return t
		}
	}
	return ""
}

// Create invites emails (normalized, distinct) into src with g, batching as the provider
// allows: Redpanda one POST per email, Elastic one POST for all, Frontier POSTs of up to 10.
// Creating is never retried (upstream.Caller retries GETs only). The result has one entry per
// email, in order. The organization's list and every kept response are invalidated after.
func (s *Set) Create(ctx context.Context, src invite.Source, emails []string, g invite.Grant) []Created {
	out := make([]Created, len(emails))
	if !s.Configured(src) {
		for i := range out {
			out[i].Err = invite.Errorf(invite.CodeNotFound, "organization %s is not configured", invite.OrgID(src.Provider, src.OrgID))
		}
		return out
	}
	defer s.invalidateLists(context.WithoutCancel(ctx), []invite.Source{src})
	switch src.Provider {
	case invite.Redpanda:
		s.createRedpanda(ctx, emails, g, out)
	case invite.Elastic:
		s.createElastic(ctx, src.OrgID, emails, g, out)
	case invite.Frontier:
		s.createFrontier(ctx, src.OrgID, emails, g, out)
	}
	return out
}

func (s *Set) createRedpanda(ctx context.Context, emails []string, g invite.Grant, out []Created) {
	bindings, err := redpandaBindings(g.RoleBindings)
	for i, email := range emails {
		if err != nil {
			out[i].Err = err
			continue
		}
		u, e := s.redpanda.CreateUserInvite(ctx, redpanda.UserInviteCreate{Email: email, RoleBindings: bindings})
		if e != nil {
			out[i].Err = createError(e)
			continue
		}
		inv := redpanda.ToInvitation(u)
		out[i].Invitation = &inv
	}
}

func (s *Set) createElastic(ctx context.Context, org string, emails []string, g invite.Grant, out []Created) {
	ra, err := elasticAssignments(org, g.RoleBindings)
	if err != nil {
		fill(out, err)
		return
	}
	invs, err := s.elastic.CreateInvitations(ctx, org, elastic.OrganizationInvitationRequest{Emails: emails, RoleAssignments: ra})
	if err != nil {
		fill(out, createError(err))
		return
	}
	conv := make([]invite.Invitation, len(invs))
	for i := range invs {
		conv[i] = elastic.ToInvitation(org, &invs[i])
	}
	match(out, emails, conv, "elastic", "CreateInvitations")
}

func (s *Set) createFrontier(ctx context.Context, org string, emails []string, g invite.Grant, out []Created) {
	roleIDs, err := s.frontierRoleIDs(ctx, org, g.RoleBindings)
	if err != nil {
		fill(out, err)
		return
	}
	for start := 0; start < len(emails); start += frontier.MaxInvitationUserIDs {
		end := min(start+frontier.MaxInvitationUserIDs, len(emails))
		batch := emails[start:end]
		invs, err := s.frontier.CreateOrganizationInvitation(ctx, org, frontier.CreateInvitationRequest{UserIDs: batch, GroupIDs: g.GroupIDs, RoleIDs: roleIDs})
		if err != nil {
			fill(out[start:end], createError(err))
			continue
		}
		conv := make([]invite.Invitation, len(invs))
		for i := range invs {
			conv[i] = frontier.ToInvitation(org, &invs[i])
		}
		match(out[start:end], batch, conv, "frontier", "CreateOrganizationInvitation")
	}
}

// frontierRoleIDs resolves role names (or IDs) to Frontier role IDs: the platform's roles and
// the organization's own, through the cached directory.
func (s *Set) frontierRoleIDs(ctx context.Context, org string, bindings []invite.RoleBinding) ([]string, error) {
	if len(bindings) == 0 {
		return nil, nil
	}
	byName := map[string]string{}
	for _, res := range s.FrontierRoles(ctx, []string{"", org}) {
		if res.Err != nil {
			return nil, res.Err
		}
		for _, r := range res.Value {
			byName[r.Name], byName[r.ID] = r.ID, r.ID
		}
	}
	ids := make([]string, 0, len(bindings))
	for i, rb := range bindings {
		id, ok := byName[rb.RoleName]
		if !ok {
			return nil, invite.Errorf(invite.CodeBadUserInput, "roleBindings[%d]: Frontier has no role %s", i, rb.RoleName)
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// match gives each email its invitation from a provider's answer for a batch.
func match(out []Created, emails []string, invs []invite.Invitation, provider, op string) {
	byEmail := make(map[string]*invite.Invitation, len(invs))
	for i := range invs {
		byEmail[strings.ToLower(invs[i].Email)] = &invs[i]
	}
	for i, email := range emails {
		if inv, ok := byEmail[email]; ok {
			out[i].Invitation = inv
			continue
		}
		out[i].Err = &upstream.Error{Provider: provider, Op: op, Kind: upstream.ErrBadResponse, Message: "no invitation for one of the emails sent"}
	}
}

func fill(out []Created, err error) {
	for i := range out {
		out[i].Err = err
	}
}

// alreadyCodes are the providers' codes for an invitee who is already a member or already
// invited.
var alreadyCodes = []string{
	"organization.invitation_already_exists", "organization.user_organization_already_belongs", // Elastic
	"already_exists", "6", // Frontier (Connect, REST)
	"ALREADY_EXISTS", // Redpanda (rpc.Status)
}

// createError is how a refused creation reads: ALREADY_EXISTS or BAD_USER_INPUT when the
// provider says so (in our words), else the upstream error as for queries.
func createError(err error) error {
	var ue *upstream.Error
	if !errors.As(err, &ue) {
		return err
	}
	switch {
	case slices.Contains(alreadyCodes, ue.Code):
		return invite.Errorf(invite.CodeAlreadyExists, "already a member of the organization, or already invited")
	case errors.Is(err, upstream.ErrInvalidArgument):
		return invite.Errorf(invite.CodeBadUserInput, "the provider refused the invitation as invalid (check its roles and groups)")
	}
	return err
}

// Resend sends an invitation again. Only Elastic can: its create "creates or refreshes", so
// the same email is posted again with the invitation's role assignments, found in a fresh
// read of the organization's list. Redpanda and Frontier have no resend.
func (s *Set) Resend(ctx context.Context, id invite.ID) (*invite.Invitation, error) {
	if id.Provider != invite.Elastic {
		return nil, invite.Errorf(invite.CodeUnsupported, "%s invitations cannot be sent again", id.Provider)
	}
	if !s.Configured(id.Source()) {
		return nil, errInvitationNotFound()
	}
	list, err := s.elastic.ListInvitations(ctx, id.OrgID)
	if err != nil {
		return nil, err
	}
	for i := range list {
		inv := &list[i]
		if inv.Token.Digest() != id.Key {
			continue
		}
		defer s.invalidateLists(context.WithoutCancel(ctx), []invite.Source{id.Source()})
		invs, err := s.elastic.CreateInvitations(ctx, id.OrgID, elastic.OrganizationInvitationRequest{
			Emails: []string{inv.Email}, RoleAssignments: inv.RoleAssignments})
		if err != nil {
			return nil, createError(err)
		}
		out := make([]Created, 1)
		conv := make([]invite.Invitation, len(invs))
		for j := range invs {
			conv[j] = elastic.ToInvitation(id.OrgID, &invs[j])
		}
		match(out, []string{strings.ToLower(inv.Email)}, conv, "elastic", "CreateInvitations")
		return out[0].Invitation, out[0].Err
	}
	return nil, errInvitationNotFound()
}

// Unreadable is a source whose list could not be read, and why.
type Unreadable struct {
	Source invite.Source
	Err    error
}

// OpenInvitationsTo reads every configured list fresh from the upstreams (never the cache:
// an invitation created a moment ago must not be missed) and returns the PENDING and EXPIRED
// invitations to email, and the sources that could not be read.
func (s *Set) OpenInvitationsTo(ctx context.Context, email string, now time.Time) ([]invite.Invitation, []Unreadable) {
	srcs := s.Sources()
	lists := make([][]invite.Invitation, len(srcs))
	errs := make([]error, len(srcs))
	var wg sync.WaitGroup
	for i, src := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lists[i], errs[i] = s.listInvitations(ctx, src)
		}()
	}
	wg.Wait()
	var (
		found  []invite.Invitation
		failed []Unreadable
	)
	for i, src := range srcs {
		if errs[i] != nil {
			failed = append(failed, Unreadable{Source: src, Err: errs[i]})
			continue
		}
		for _, inv := range lists[i] {
			if strings.EqualFold(strings.TrimSpace(inv.Email), email) && inv.StatusAt(now) != invite.StatusAccepted {
				found = append(found, inv)
			}
		}
	}
	return found, failed
}
