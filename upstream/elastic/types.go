package elastic

import "time"

// The wire types below keep Elastic's JSON names (swagger definitions in cloud-sdk-go's
// api/apidocs-user.json). Every field decodes to its zero value when absent.

// OrganizationInvitation is one open invitation to an organization.
type OrganizationInvitation struct {
	// Token accepts the invitation and identifies it for get and delete. Secret: see Token.
	Token     Token     `json:"token"`
	Email     string    `json:"email"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// Expired is Elastic's own verdict at the time of the call.
	Expired    bool       `json:"expired"`
	AcceptedAt *time.Time `json:"accepted_at,omitempty"`
	// Organization is the organization the invitation is to; Elastic embeds it in every item.
	Organization Organization `json:"organization"`
	// RoleAssignments are the roles the invitee gets on acceptance; nil when Elastic sent none.
	RoleAssignments *RoleAssignments `json:"role_assignments,omitempty"`
}

// OrganizationInvitationRequest is what CreateInvitations sends.
type OrganizationInvitationRequest struct {
	// Emails are the addresses to invite; at least one.
	Emails []string `json:"emails"`
	// ExpiresIn is how long the invitations last, a duration such as "72h" or "7d"; Elastic's
	// default (72h) when empty.
	ExpiresIn string `json:"expires_in,omitempty"`
	// RoleAssignments are the roles the invitees get on acceptance; nil sends none.
	RoleAssignments *RoleAssignments `json:"role_assignments,omitempty"`
}

// Organization is an Elastic Cloud organization.
type Organization struct {
	ID                               string   `json:"id"`
	Name                             string   `json:"name"`
	DefaultDiskUsageAlertsEnabled    bool     `json:"default_disk_usage_alerts_enabled"`
	NotificationsAllowedEmailDomains []string `json:"notifications_allowed_email_domains,omitempty"`
	BillingContacts                  []string `json:"billing_contacts,omitempty"`
	OperationalContacts              []string `json:"operational_contacts,omitempty"`
	// SSOLoginIdentifier appears only in the newer published docs, not in the 2025-06 spec.
	SSOLoginIdentifier string `json:"sso_login_identifier,omitempty"`
}

// RoleAssignments are the roles granted by an invitation, by kind of scope.
type RoleAssignments struct {
	Platform     []PlatformRoleAssignment     `json:"platform,omitempty"`
	Organization []OrganizationRoleAssignment `json:"organization,omitempty"`
	Deployment   []DeploymentRoleAssignment   `json:"deployment,omitempty"`
	Project      *ProjectRoleAssignments      `json:"project,omitempty"`
}

// PlatformRoleAssignment is a role that is not tied to any resource.
type PlatformRoleAssignment struct {
	RoleID string `json:"role_id"`
}

// OrganizationRoleAssignment is a role on an organization.
type OrganizationRoleAssignment struct {
	RoleID         string `json:"role_id"`
	OrganizationID string `json:"organization_id"`
}

// DeploymentRoleAssignment is a role on some deployments, or on all of them when All is set
// (Elastic then omits DeploymentIDs).
type DeploymentRoleAssignment struct {
	RoleID           string   `json:"role_id"`
	OrganizationID   string   `json:"organization_id"`
	All              bool     `json:"all,omitempty"`
	DeploymentIDs    []string `json:"deployment_ids,omitempty"`
	ApplicationRoles []string `json:"application_roles,omitempty"`
}

// ProjectRoleAssignments are serverless project roles, by project type.
type ProjectRoleAssignments struct {
	Elasticsearch []ProjectRoleAssignment `json:"elasticsearch,omitempty"`
	Observability []ProjectRoleAssignment `json:"observability,omitempty"`
	Security      []ProjectRoleAssignment `json:"security,omitempty"`
}

// ProjectRoleAssignment is a role on some projects of one type, or on all of them when All is
// set (Elastic then omits ProjectIDs).
type ProjectRoleAssignment struct {
	RoleID           string   `json:"role_id"`
	OrganizationID   string   `json:"organization_id"`
	All              bool     `json:"all,omitempty"`
	ProjectIDs       []string `json:"project_ids,omitempty"`
	ApplicationRoles []string `json:"application_roles,omitempty"`
}
