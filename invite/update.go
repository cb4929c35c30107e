package invite

import "time"

// Update is a change to an invitation. Only the fields that are set are changed: ExpiresAt when
// non-nil, role bindings when SetRoleBindings (so an empty list can clear them).
type Update struct {
	ExpiresAt       *time.Time
	RoleBindings    []RoleBinding
	SetRoleBindings bool
}

// Validate checks what can be checked without the provider: something must change, an expiry
// must lie in the future, and every role binding needs a role name and a scope.
func (u *Update) Validate(now time.Time) error {
	if u.ExpiresAt == nil && !u.SetRoleBindings {
		return Errorf(CodeBadUserInput, "input must set expiresAt or roleBindings")
	}
	if u.ExpiresAt != nil && !u.ExpiresAt.After(now) {
		return Errorf(CodeBadUserInput, "expiresAt must be in the future")
	}
	for i, rb := range u.RoleBindings {
		if rb.RoleName == "" {
			return Errorf(CodeBadUserInput, "roleBindings[%d].roleName must not be empty", i)
		}
		if rb.Scope == nil || rb.Scope.ResourceID == "" {
			return Errorf(CodeBadUserInput, "roleBindings[%d].scope.resourceId must not be empty", i)
		}
	}
	return nil
}

// Mask lists the changed fields as the GraphQL input names them, in a fixed order.
func (u *Update) Mask() []string {
	var m []string
	if u.ExpiresAt != nil {
		m = append(m, "expiresAt")
	}
	if u.SetRoleBindings {
		m = append(m, "roleBindings")
	}
	return m
}
