package redpanda

import "github.com/invitegw/invitegw/invite"

// scopeTypes pairs Redpanda's resource types with the unified ones. Types not listed (MCP
// servers, AI agents, Kafka topics and whatever comes next) become invite.ScopeOther.
var scopeTypes = []struct {
	wire    string
	unified invite.ScopeType
}{
	{ResourceTypeOrganization, invite.ScopeOrganization},
	{ResourceTypeResourceGroup, invite.ScopeResourceGroup},
	{ResourceTypeNetwork, invite.ScopeNetwork},
	{ResourceTypeCluster, invite.ScopeCluster},
	{ResourceTypeServerlessCluster, invite.ScopeServerlessCluster},
	{ResourceTypeNetworkPeering, invite.ScopeNetworkPeering},
}

// ToInvitation converts an invite to the unified type. OrgID stays empty: the invite belongs to
// the token's organization, which Redpanda does not repeat in it. A missing expiry or invite URL
// stays nil rather than becoming a zero value.
func ToInvitation(u *UserInvite) invite.Invitation {
	out := invite.Invitation{
		ID:        invite.RedpandaID(u.ID),
		Provider:  invite.Redpanda,
		Email:     u.Email,
		CreatedAt: u.CreatedAt.UTC(),
	}
	if !u.ExpiresAt.IsZero() {
		t := u.ExpiresAt.UTC()
		out.ExpiresAt = &t
	}
	if u.InviteURL != "" {
		s := u.InviteURL
		out.InviteURL = &s
	}
	for _, rb := range u.RoleBindings {
		b := invite.RoleBinding{RoleName: rb.RoleName}
		if rb.Scope != nil {
			b.Scope = &invite.Scope{ResourceType: ToScopeType(rb.Scope.ResourceType), ResourceID: rb.Scope.ResourceID}
		}
		out.Bindings = append(out.Bindings, b)
	}
	return out
}

// ToOrganization converts the token's organization to the unified type.
func ToOrganization(o *Organization) invite.Organization {
	return invite.Organization{
		ID:       invite.OrgID(invite.Redpanda, o.ID),
		Provider: invite.Redpanda,
		Name:     o.Name,
		OrgID:    o.ID,
	}
}

// ToScopeType maps a Redpanda resource type to the unified scope type; an unknown one is
// invite.ScopeOther, so a new Redpanda type never breaks a read.
func ToScopeType(resourceType string) invite.ScopeType {
	for _, st := range scopeTypes {
		if st.wire == resourceType {
			return st.unified
		}
	}
	return invite.ScopeOther
}

// FromScopeType maps a unified scope type back to Redpanda's name. It reports false for types
// Redpanda has no name for (DEPLOYMENT, PROJECT) and for OTHER, which stands for many.
func FromScopeType(t invite.ScopeType) (string, bool) {
	for _, st := range scopeTypes {
		if st.unified == t {
			return st.wire, true
		}
	}
	return "", false
}
