package resolvers

import (
	"strings"

	"github.com/invitegw/invitegw/graph/model"
	"github.com/invitegw/invitegw/invite"
)

// toFilter turns the GraphQL filter input into the domain filter.
func toFilter(in *model.InvitationFilter) (*invite.Filter, error) {
	f := &invite.Filter{}
	if in == nil {
		return f, nil
	}
	f.Providers = in.Providers
	f.Statuses = in.Status
	f.ExpiresBefore = in.ExpiresBefore
	if in.Email != nil {
		f.Email = strings.TrimSpace(*in.Email)
		if f.Email == "" {
			return nil, invite.Errorf(invite.CodeBadUserInput, "filter.email must not be blank")
		}
	}
	if in.OrganizationID != nil {
		src, err := invite.ParseOrgID(*in.OrganizationID)
		if err != nil {
			return nil, err
		}
		f.Organization = &src
	}
	return f, nil
}

// toUpdate turns the mutation input into the domain update.
func toUpdate(in *model.UpdateInvitationInput) invite.Update {
	u := invite.Update{ExpiresAt: in.ExpiresAt, SetRoleBindings: in.RoleBindings != nil}
	for _, rb := range in.RoleBindings {
		b := invite.RoleBinding{RoleName: strings.TrimSpace(rb.RoleName)}
		if rb.Scope != nil {
			b.Scope = &invite.Scope{ResourceType: rb.Scope.ResourceType, ResourceID: rb.Scope.ResourceID}
		}
		u.RoleBindings = append(u.RoleBindings, b)
	}
	return u
}

// firstOrDefault is the page size asked for, or invite.DefaultFirst when first is absent; the
// range (1..invite.MaxFirst) is checked by invite.PageOf, not here.
func firstOrDefault(n *int) int {
	if n == nil {
		return invite.DefaultFirst
	}
	return *n
}
