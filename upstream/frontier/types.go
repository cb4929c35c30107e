package frontier

import (
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// The wire types below keep Frontier's JSON names (proto package raystack.frontier.v1beta1,
// marshalled with UseProtoNames). They are the same for the REST gateway and for ConnectRPC;
// every field decodes to its zero value when absent (Connect omits empty fields) or null.

// PlatformOrgID is the org_id of platform roles (the nil UUID): roles defined by Frontier itself,
// such as app_organization_viewer, rather than by one organization.
const PlatformOrgID = "00000000-0000-0000-0000-000000000000"

// Invitation is a pending invitation to an organization. "Pending" means not yet accepted:
// Frontier lists expired invitations too.
type Invitation struct {
	ID string `json:"id"`
	// UserID is the invitee's email address (lower-cased by Frontier), not a user UUID.
	UserID string `json:"user_id"`
	OrgID  string `json:"org_id"`
	// GroupIDs are the groups the invitee joins on acceptance.
	GroupIDs IDs `json:"group_ids"`
	// Metadata is free-form. Frontier stores group_ids and role_ids inside it, so in practice it
	// repeats those lists under the same keys.
	Metadata  map[string]any `json:"metadata"`
	CreatedAt time.Time      `json:"created_at"`
	ExpiresAt time.Time      `json:"expires_at"`
	// RoleIDs are the roles the invitee gets. Frontier keeps them only when the platform
	// preference invite_with_roles is "true"; otherwise the list is always empty.
	RoleIDs IDs `json:"role_ids"`
}

// CreateInvitationRequest is what CreateOrganizationInvitation sends (the fields of
// CreateOrganizationInvitationRequest besides org_id).
type CreateInvitationRequest struct {
	// UserIDs are the invitees' email addresses (Frontier lower-cases them): 1 to
	// MaxInvitationUserIDs.
	UserIDs []string `json:"user_ids"`
	// GroupIDs are groups of the organization the invitees join on acceptance.
	GroupIDs []string `json:"group_ids,omitempty"`
	// RoleIDs are roles the invitees get; Frontier drops them unless its invite_with_roles
	// preference is "true".
	RoleIDs []string `json:"role_ids,omitempty"`
}

// IDs is a list of IDs that also decodes from a lone string, the shape of Frontier's published
// example response: "" and null are no IDs, any other string is a one-element list.
type IDs []string

// UnmarshalJSONFrom decodes an array of IDs or a lone ID (see IDs).
func (l *IDs) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if dec.PeekKind() != '"' {
		var ids []string
		if err := json.UnmarshalDecode(dec, &ids); err != nil {
			return err
		}
		*l = ids
		return nil
	}
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	*l = nil
	if s := tok.String(); s != "" {
		*l = IDs{s}
	}
	return nil
}

// Role is a platform role (OrgID PlatformOrgID) or an organization's custom role.
type Role struct {
	ID string `json:"id"`
	// Name is the role's slug, e.g. "app_organization_viewer".
	Name        string   `json:"name"`
	Permissions []string `json:"permissions"`
	// Title is the display name, e.g. "Member".
	Title     string         `json:"title"`
	Metadata  map[string]any `json:"metadata"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
	OrgID     string         `json:"org_id"`
	// State is "enabled" or "disabled"; other values decode as is.
	State string `json:"state"`
	// Scopes are the namespaces the role applies to, e.g. "app/organization".
	Scopes []string `json:"scopes"`
}

// Group is a group inside an organization.
type Group struct {
	ID string `json:"id"`
	// Name is the group's slug; Title its display name (often empty).
	Name      string         `json:"name"`
	Title     string         `json:"title"`
	OrgID     string         `json:"org_id"`
	Metadata  map[string]any `json:"metadata"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
	// Users and MembersCount are filled only when asked for (with_members, with_member_count).
	Users        []User `json:"users"`
	MembersCount int32  `json:"members_count"`
}

// User is a Frontier user, as embedded in a Group.
type User struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Title     string         `json:"title"`
	Email     string         `json:"email"`
	Metadata  map[string]any `json:"metadata"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
	State     string         `json:"state"`
	Avatar    string         `json:"avatar"`
}

// Organization is a Frontier organization (a tenant of the deployment).
type Organization struct {
	ID string `json:"id"`
	// Name is the organization's unique slug; Title its display name.
	Name      string         `json:"name"`
	Title     string         `json:"title"`
	Metadata  map[string]any `json:"metadata"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
	// State is "enabled" or "disabled"; other values decode as is.
	State  string `json:"state"`
	Avatar string `json:"avatar"`
}
