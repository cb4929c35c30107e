package frontier

import (
	"maps"

	"github.com/invitegw/invitegw/invite"
)

// ToInvitation converts an invitation listed for orgID to the unified type. orgID is the ID the
// list was fetched with (the configured one), not the invitation's own org_id, so the unified ID
// stays stable whichever form the configuration uses.
//
// Frontier invitations carry role and group IDs, not names: they are copied as RoleIDs and
// GroupIDs (never nil) and resolved later through role and group lookups, so Bindings is empty.
// Metadata is passed on as Frontier sent it, including the group_ids and role_ids keys Frontier
// stores there itself; nil when absent.
func ToInvitation(orgID string, inv *Invitation) invite.Invitation {
	out := invite.Invitation{
		ID:        invite.FrontierID(orgID, inv.ID),
		Provider:  invite.Frontier,
		Email:     inv.UserID,
		OrgID:     orgID,
		CreatedAt: inv.CreatedAt.UTC(),
		RoleIDs:   append([]string{}, inv.RoleIDs...),
		GroupIDs:  append([]string{}, inv.GroupIDs...),
		Metadata:  maps.Clone(inv.Metadata),
	}
	if !inv.ExpiresAt.IsZero() {
		out.ExpiresAt = invite.UTCPtr(inv.ExpiresAt)
	}
	return out
}

// ToRole converts a role to the unified type.
func ToRole(r *Role) invite.Role {
	return invite.Role{ID: r.ID, Name: r.Name, Title: r.Title}
}

// ToGroup converts a group to the unified type. An empty title (common: Frontier groups need
// only a name) becomes nil.
func ToGroup(g *Group) invite.Group {
	out := invite.Group{ID: g.ID, Name: g.Name}
	if g.Title != "" {
		title := g.Title
		out.Title = &title
	}
	return out
}

// ToOrganization converts the organization read for orgID (the configured ID, as in
// ToInvitation) to the unified type. Frontier's `name` is the organization's unique URL slug
// ("acme-corp") and `title` the name people gave it ("Acme Corp"), so the unified Name is the
// title, falling back to the slug when the title is empty.
func ToOrganization(orgID string, o *Organization) invite.Organization {
	name := o.Title
	if name == "" {
		name = o.Name
	}
	return invite.Organization{
		ID:       invite.OrgID(invite.Frontier, orgID),
		Provider: invite.Frontier,
		Name:     name,
		OrgID:    orgID,
	}
}
