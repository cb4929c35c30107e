package elastic

import (
	"github.com/invitegw/invitegw/invite"
)

// AllResources is the resource ID of a binding that covers every deployment (or every project
// of a type): Elastic's `all: true`. The unified model has no "all" flag, so a single binding
// with this wildcard ID stands for it rather than an empty or missing scope.
const AllResources = "*"

// ToInvitation converts an invitation of organizationID to the unified type. The token enters
// only as its digest (Token.Digest, the key invite.ElasticID would make of it), inside the ID:
// it never becomes a plain string here.
//
// Bindings come in a fixed order, each kind in Elastic's order: platform (no scope),
// organization, deployment, then projects (elasticsearch, observability, security). A
// deployment or project assignment becomes one binding per listed resource, or one binding on
// AllResources when `all` is set (any listed IDs are then ignored; Elastic forbids both). An
// assignment with neither grants nothing and yields no binding. application_roles (Kibana
// roles inside a deployment or project) have no unified equivalent and are not mapped.
func ToInvitation(organizationID string, inv *OrganizationInvitation) invite.Invitation {
	out := invite.Invitation{
		ID:          invite.ID{Provider: invite.Elastic, OrgID: organizationID, Key: inv.Token.Digest()}.String(),
		Provider:    invite.Elastic,
		Email:       inv.Email,
		OrgID:       organizationID,
		CreatedAt:   inv.CreatedAt.UTC(),
		ExpiredFlag: inv.Expired,
	}
	if !inv.ExpiresAt.IsZero() {
		out.ExpiresAt = invite.UTCPtr(inv.ExpiresAt)
	}
	if inv.AcceptedAt != nil {
		out.AcceptedAt = invite.UTCPtr(*inv.AcceptedAt)
	}
	if ra := inv.RoleAssignments; ra != nil {
		out.Bindings = bindings(ra)
	}
	return out
}

// ToOrganization converts an organization to the unified type.
func ToOrganization(o *Organization) invite.Organization {
	return invite.Organization{
		ID:       invite.OrgID(invite.Elastic, o.ID),
		Provider: invite.Elastic,
		Name:     o.Name,
		OrgID:    o.ID,
	}
}

func bindings(ra *RoleAssignments) []invite.RoleBinding {
	var out []invite.RoleBinding
	for _, a := range ra.Platform {
		out = append(out, invite.RoleBinding{RoleName: a.RoleID})
	}
	for _, a := range ra.Organization {
		out = append(out, scoped(a.RoleID, invite.ScopeOrganization, a.OrganizationID))
	}
	for _, a := range ra.Deployment {
		out = appendEach(out, a.RoleID, invite.ScopeDeployment, a.All, a.DeploymentIDs)
	}
	if p := ra.Project; p != nil {
		for _, list := range [][]ProjectRoleAssignment{p.Elasticsearch, p.Observability, p.Security} {
			for _, a := range list {
				out = appendEach(out, a.RoleID, invite.ScopeProject, a.All, a.ProjectIDs)
			}
		}
	}
	return out
}

// appendEach appends one binding per resource, or a single AllResources binding when all is set.
func appendEach(out []invite.RoleBinding, role string, t invite.ScopeType, all bool, ids []string) []invite.RoleBinding {
	if all {
		return append(out, scoped(role, t, AllResources))
	}
	for _, id := range ids {
		out = append(out, scoped(role, t, id))
	}
	return out
}

func scoped(role string, t invite.ScopeType, id string) invite.RoleBinding {
	return invite.RoleBinding{RoleName: role, Scope: &invite.Scope{ResourceType: t, ResourceID: id}}
}
