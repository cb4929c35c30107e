package frontier

import (
	"reflect"
	"testing"
	"time"

	"github.com/invitegw/invitegw/invite"
)

func TestToInvitation(t *testing.T) {
	// A non-UTC offset proves the conversion normalises to UTC.
	plus2 := time.FixedZone("", 2*60*60)
	tests := []struct {
		name  string
		orgID string
		in    Invitation
		want  invite.Invitation
	}{
		{
			name:  "every field",
			orgID: testOrg,
			in: Invitation{
				ID: "inv-1", UserID: "ada@example.com", OrgID: testOrg,
				GroupIDs: []string{"g1"}, RoleIDs: []string{"r1", "r2"},
				Metadata:  map[string]any{"key": "value", "group_ids": []any{"g1"}, "role_ids": []any{"r1", "r2"}},
				CreatedAt: created.In(plus2), ExpiresAt: expires.In(plus2),
			},
			want: invite.Invitation{
				ID: "frontier:" + testOrg + ":inv-1", Provider: invite.Frontier, Email: "ada@example.com", OrgID: testOrg,
				CreatedAt: created, ExpiresAt: &expires, RoleIDs: []string{"r1", "r2"}, GroupIDs: []string{"g1"},
				Metadata: map[string]any{"key": "value", "group_ids": []any{"g1"}, "role_ids": []any{"r1", "r2"}},
			},
		},
		{
			name:  "the configured organization wins over the invitation's org_id",
			orgID: "acme-corp",
			in:    Invitation{ID: "inv-2", UserID: "bob@example.com", OrgID: testOrg, CreatedAt: created},
			want: invite.Invitation{
				ID: "frontier:acme-corp:inv-2", Provider: invite.Frontier, Email: "bob@example.com", OrgID: "acme-corp",
				CreatedAt: created, RoleIDs: []string{}, GroupIDs: []string{},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ToInvitation(tt.orgID, &tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			if got.ExpiresAt != nil && got.ExpiresAt.Location() != time.UTC {
				t.Errorf("expiry not in UTC: %v", got.ExpiresAt)
			}
		})
	}

	t.Run("the result shares no slices or maps with the wire value", func(t *testing.T) {
		in := Invitation{ID: "i", RoleIDs: []string{"r"}, GroupIDs: []string{"g"}, Metadata: map[string]any{"k": "v"}}
		got := ToInvitation(testOrg, &in)
		got.RoleIDs[0], got.GroupIDs[0], got.Metadata["k"] = "x", "x", "x"
		if in.RoleIDs[0] != "r" || in.GroupIDs[0] != "g" || in.Metadata["k"] != "v" {
			t.Errorf("wire value changed: %+v", in)
		}
	})
}

func TestToRole(t *testing.T) {
	in := Role{ID: "r1", Name: "app_organization_viewer", Title: "Member", OrgID: PlatformOrgID, State: "enabled",
		Permissions: []string{"p"}, Scopes: []string{"app/organization"}}
	want := invite.Role{ID: "r1", Name: "app_organization_viewer", Title: "Member"}
	if got := ToRole(&in); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestToGroup(t *testing.T) {
	title := "Data Engineering"
	tests := []struct {
		name string
		in   Group
		want invite.Group
	}{
		{"with a title", Group{ID: "g1", Name: "data-eng", Title: title, OrgID: testOrg},
			invite.Group{ID: "g1", Name: "data-eng", Title: &title}},
		{"empty title is nil", Group{ID: "g2", Name: "sre", OrgID: testOrg},
			invite.Group{ID: "g2", Name: "sre"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ToGroup(&tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestToOrganization(t *testing.T) {
	tests := []struct {
		name  string
		orgID string
		in    Organization
		want  invite.Organization
	}{
		{"title is the name", testOrg, Organization{ID: testOrg, Name: "acme-corp", Title: "Acme Corp"},
			invite.Organization{ID: "frontier:" + testOrg, Provider: invite.Frontier, Name: "Acme Corp", OrgID: testOrg}},
		{"slug when the title is empty", testOrg, Organization{ID: testOrg, Name: "acme-corp"},
			invite.Organization{ID: "frontier:" + testOrg, Provider: invite.Frontier, Name: "acme-corp", OrgID: testOrg}},
		{"configured id wins over the reply's", "acme-corp", Organization{ID: testOrg, Name: "acme-corp", Title: "Acme"},
			invite.Organization{ID: "frontier:acme-corp", Provider: invite.Frontier, Name: "Acme", OrgID: "acme-corp"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ToOrganization(tt.orgID, &tt.in); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
