package redpanda

import (
	"fmt"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
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

// UserInviteCreate is what CreateUserInvite sends: whom to invite and with which roles.
// Redpanda sets everything else (ID, invite URL, timestamps).
type UserInviteCreate struct {
	Email        string        `json:"email"`
	RoleBindings []RoleBinding `json:"role_bindings"`
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

// createUserInviteRequest is the POST body (CreateUserInviteRequest).
type createUserInviteRequest struct {
	UserInvite UserInviteCreate `json:"user_invite"`
}

// userInviteResponse is the reply of CreateUserInvite and UpdateUserInvite.
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

// decodeOptions read every timestamp of a reply leniently (lenientTime): Redpanda documents
// none of them as required.
var decodeOptions = json.WithUnmarshalers(json.UnmarshalFromFunc(lenientTime))

// lenientTime decodes a google.protobuf.Timestamp in its JSON form (RFC 3339, optional
// fractional seconds, any offset) and takes null and "" as the zero time.
func lenientTime(dec *jsontext.Decoder, t *time.Time) error {
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	switch tok.Kind() {
	case 'n':
		*t = time.Time{}
		return nil
	case '"':
	default:
		return fmt.Errorf("timestamp: want a string, got %v", tok.Kind())
	}
	s := tok.String()
	if s == "" {
		*t = time.Time{}
		return nil
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	*t = v
	return nil
}
