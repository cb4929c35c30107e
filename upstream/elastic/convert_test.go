package elastic

import (
	"reflect"
	"testing"
	"time"

	"github.com/invitegw/invitegw/invite"
)

func scope(t invite.ScopeType, id string) *invite.Scope {
	return &invite.Scope{ResourceType: t, ResourceID: id}
}

func TestToInvitation(t *testing.T) {
	// A non-UTC offset proves the conversion normalises to UTC.
	plus2 := time.FixedZone("", 2*60*60)
	acceptedLocal := accepted.In(plus2)
	id := "elastic:" + testOrg + ":" + invite.TokenDigest(testToken)
	tests := []struct {
		name string
		in   OrganizationInvitation
		want invite.Invitation
	}{
		{
			name: "every kind of role assignment",
			in: OrganizationInvitation{
				Token: testToken, Email: "ada@example.com", CreatedAt: created.In(plus2), ExpiresAt: expires,
				AcceptedAt: &acceptedLocal, Organization: Organization{ID: testOrg, Name: "Acme Search"},
				RoleAssignments: fullAssignments,
			},
			want: invite.Invitation{
				ID: id, Provider: invite.Elastic, Email: "ada@example.com", OrgID: testOrg,
				CreatedAt: created, ExpiresAt: &expires, AcceptedAt: &accepted,
				Bindings: []invite.RoleBinding{
					{RoleName: "platform-viewer"},
					{RoleName: "billing-admin", Scope: scope(invite.ScopeOrganization, testOrg)},
					{RoleName: "deployment-editor", Scope: scope(invite.ScopeDeployment, "d1")},
					{RoleName: "deployment-editor", Scope: scope(invite.ScopeDeployment, "d2")},
					{RoleName: "deployment-viewer", Scope: scope(invite.ScopeDeployment, "*")},
					{RoleName: "admin", Scope: scope(invite.ScopeProject, "es1")},
					{RoleName: "viewer", Scope: scope(invite.ScopeProject, "*")},
					{RoleName: "editor", Scope: scope(invite.ScopeProject, "sec1")},
					{RoleName: "editor", Scope: scope(invite.ScopeProject, "sec2")},
				},
			},
		},
		{
			name: "no role assignments and no expiry",
			in:   OrganizationInvitation{Token: testToken, Email: "bob@example.com", CreatedAt: created, Expired: true},
			want: invite.Invitation{
				ID: id, Provider: invite.Elastic, Email: "bob@example.com", OrgID: testOrg,
				CreatedAt: created, ExpiredFlag: true,
			},
		},
		{
			name: "all wins over listed ids and empty assignments grant nothing",
			in: OrganizationInvitation{
				Token: testToken, CreatedAt: created, ExpiresAt: expires,
				RoleAssignments: &RoleAssignments{
					Deployment: []DeploymentRoleAssignment{
						{RoleID: "deployment-admin", All: true, DeploymentIDs: []string{"ignored"}},
						{RoleID: "deployment-nothing"},
					},
					Project: &ProjectRoleAssignments{Security: []ProjectRoleAssignment{{RoleID: "none"}}},
				},
			},
			want: invite.Invitation{
				ID: id, Provider: invite.Elastic, OrgID: testOrg, CreatedAt: created, ExpiresAt: &expires,
				Bindings: []invite.RoleBinding{{RoleName: "deployment-admin", Scope: scope(invite.ScopeDeployment, "*")}},
			},
		},
		{
			name: "the organization id comes from the caller",
			in:   OrganizationInvitation{Token: testToken, CreatedAt: created, Organization: Organization{ID: "other"}},
			want: invite.Invitation{ID: id, Provider: invite.Elastic, OrgID: testOrg, CreatedAt: created},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ToInvitation(testOrg, &tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ToInvitation:\n got %#v\nwant %#v", got, tt.want)
			}
			if got.AcceptedAt != nil && got.AcceptedAt == tt.in.AcceptedAt {
				t.Error("AcceptedAt aliases the wire value")
			}
			if _, err := invite.ParseID(got.ID); err != nil {
				t.Errorf("ID %q does not parse: %v", got.ID, err)
			}
		})
	}
}

func TestToOrganization(t *testing.T) {
	got := ToOrganization(&Organization{ID: testOrg, Name: "Acme Search", BillingContacts: []string{"b@x"}})
	want := invite.Organization{ID: "elastic:" + testOrg, Provider: invite.Elastic, Name: "Acme Search", OrgID: testOrg}
	if got != want {
		t.Errorf("got %#v, want %#v", got, want)
	}
}
