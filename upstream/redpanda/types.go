package redpanda

import (
	"encoding/json"
	"fmt"
	"time"
)

// The wire types below keep Redpanda's JSON names (OpenAPI components.schemas of
// cloud-controlplane.yaml, FACTS.md 1.4 and 5). Redpanda marks no field required, so every field
// decodes to its zero value when absent.

// UserInvite is an open invitation to the token's organization.
type UserInvite struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	// InviteURL is the link the invitee follows to accept.
	InviteURL string `json:"invite_url"`
	// CreatedAt and ExpiresAt are zero when Redpanda left them out (or sent "" or null).
	CreatedAt    time.Time     `json:"created_at"`
	ExpiresAt    time.Time     `json:"expires_at"`
	RoleBindings []RoleBinding `json:"role_bindings"`
}

// UnmarshalJSON decodes the timestamps leniently: a missing, null or empty timestamp is the zero
// time rather than an error, because Redpanda documents none of them as required.
func (u *UserInvite) UnmarshalJSON(b []byte) error {
	type plain UserInvite
	aux := struct {
		*plain
		// These shadow the embedded fields of the same JSON name.
		CreatedAt timestamp `json:"created_at"`
		ExpiresAt timestamp `json:"expires_at"`
	}{plain: (*plain)(u)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	u.CreatedAt, u.ExpiresAt = time.Time(aux.CreatedAt), time.Time(aux.ExpiresAt)
	return nil
}

// RoleBinding grants a role, by name, on a scope (UserInvite.RoleBinding).
type RoleBinding struct {
	// RoleName is Reader, Writer, Admin or a custom role's name.
	RoleName string `json:"role_name"`
	Scope    *Scope `json:"scope,omitempty"`
}

// Scope is the resource a role binding applies to.
type Scope struct {
	ResourceID string `json:"resource_id"`
	// ResourceType is the full enum name, e.g. "SCOPE_RESOURCE_TYPE_CLUSTER". It stays a string
	// so that values added after this client was written decode without failing.
	ResourceType string `json:"resource_type"`
	// DataplaneID is set only for data-plane resource types (a 20-character XID).
	DataplaneID *string `json:"dataplane_id,omitempty"`
}

// The scope resource types this client knows by name (ScopeResourceType enum).
const (
	ResourceTypeResourceGroup     = "SCOPE_RESOURCE_TYPE_RESOURCE_GROUP"
	ResourceTypeNetwork           = "SCOPE_RESOURCE_TYPE_NETWORK"
	ResourceTypeCluster           = "SCOPE_RESOURCE_TYPE_CLUSTER"
	ResourceTypeServerlessCluster = "SCOPE_RESOURCE_TYPE_SERVERLESS_CLUSTER"
	ResourceTypeNetworkPeering    = "SCOPE_RESOURCE_TYPE_NETWORK_PEERING"
	ResourceTypeOrganization      = "SCOPE_RESOURCE_TYPE_ORGANIZATION"
)

// UserInviteUpdate is the writable part of an invite. Only the fields named in the update mask
// are applied; a masked field left out here is cleared by Redpanda.
type UserInviteUpdate struct {
	ExpiresAt    *time.Time    `json:"expires_at,omitempty"`
	RoleBindings []RoleBinding `json:"role_bindings,omitempty"`
}

// Organization is the organization a token is bound to (FACTS.md 5).
type Organization struct {
	ID                     string  `json:"id"`
	Name                   string  `json:"name"`
	Auth0ID                string  `json:"auth0_id"`
	DefaultResourceGroupID *string `json:"default_resource_group_id,omitempty"`
	MFAEnforced            bool    `json:"mfa_enforced"`
	WelcomeClusterID       *string `json:"welcome_cluster_id,omitempty"`
}

// listUserInvitesResponse is one page of ListUserInvites.
type listUserInvitesResponse struct {
	NextPageToken string       `json:"next_page_token"`
	UserInvites   []UserInvite `json:"user_invites"`
}

// userInviteResponse is the reply of GetUserInvite and UpdateUserInvite.
type userInviteResponse struct {
	UserInvite *UserInvite `json:"user_invite"`
}

// updateUserInviteBody is the PATCH body (UpdateUserInviteBody).
type updateUserInviteBody struct {
	// UpdateMask is a google.protobuf.FieldMask in its JSON form: comma-separated lowerCamelCase
	// paths. protojson rejects snake_case paths (FACTS.md 1.6).
	UpdateMask string           `json:"update_mask"`
	UserInvite UserInviteUpdate `json:"user_invite"`
}

// getCurrentOrganizationResponse is the reply of GetCurrentOrganization.
type getCurrentOrganizationResponse struct {
	Organization *Organization `json:"organization"`
}

// timestamp decodes a google.protobuf.Timestamp in its JSON form (RFC 3339, optional fractional
// seconds, any offset) and treats null and "" as the zero time.
type timestamp time.Time

func (t *timestamp) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = timestamp{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	if s == "" {
		*t = timestamp{}
		return nil
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	*t = timestamp(v)
	return nil
}
