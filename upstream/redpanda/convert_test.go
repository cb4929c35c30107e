package redpanda

import (
	"reflect"
	"testing"
	"time"

	"github.com/invitegw/invitegw/invite"
)

func TestToInvitation(t *testing.T) {
	url := "https://cloud.redpanda.com/invite/abc"
	cest := time.FixedZone("CEST", 2*3600)
	tests := []struct {
		name string
		in   UserInvite
		want invite.Invitation
	}{
		{
			name: "every field",
			in: UserInvite{
				ID: "abc", Email: "ada@example.com", InviteURL: url,
				CreatedAt: created.In(cest), ExpiresAt: expires,
				RoleBindings: []RoleBinding{
					{RoleName: "Admin", Scope: &Scope{ResourceType: ResourceTypeOrganization, ResourceID: testOrgID}},
					{RoleName: "Writer", Scope: &Scope{ResourceType: ResourceTypeServerlessCluster, ResourceID: "sc-1",
						DataplaneID: ptr("d0dataplane000000000")}},
					{RoleName: "Reader", Scope: &Scope{ResourceType: "SCOPE_RESOURCE_TYPE_MCPSERVER", ResourceID: "mcp-1"}},
					{RoleName: "Reader", Scope: &Scope{ResourceType: "SCOPE_RESOURCE_TYPE_FROM_THE_FUTURE", ResourceID: "f"}},
					{RoleName: "Custom"},
				},
			},
			want: invite.Invitation{
				ID: "redpanda:abc", Provider: invite.Redpanda, Email: "ada@example.com",
				CreatedAt: created, ExpiresAt: &expires, InviteURL: &url,
				Bindings: []invite.RoleBinding{
					{RoleName: "Admin", Scope: &invite.Scope{ResourceType: invite.ScopeOrganization, ResourceID: testOrgID}},
					{RoleName: "Writer", Scope: &invite.Scope{ResourceType: invite.ScopeServerlessCluster, ResourceID: "sc-1"}},
					{RoleName: "Reader", Scope: &invite.Scope{ResourceType: invite.ScopeOther, ResourceID: "mcp-1"}},
					{RoleName: "Reader", Scope: &invite.Scope{ResourceType: invite.ScopeOther, ResourceID: "f"}},
					{RoleName: "Custom"},
				},
			},
		},
		{
			name: "missing expiry, url and bindings stay nil",
			in:   UserInvite{ID: "x", Email: "e@example.com", CreatedAt: created},
			want: invite.Invitation{ID: "redpanda:x", Provider: invite.Redpanda, Email: "e@example.com", CreatedAt: created},
		},
		{
			name: "empty bindings list stays nil",
			in:   UserInvite{ID: "x", RoleBindings: []RoleBinding{}},
			want: invite.Invitation{ID: "redpanda:x", Provider: invite.Redpanda},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ToInvitation(&tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
	t.Run("result does not alias the wire value", func(t *testing.T) {
		in := UserInvite{ID: "x", InviteURL: url, ExpiresAt: expires}
		got := ToInvitation(&in)
		in.InviteURL, in.ExpiresAt = "changed", created
		if *got.InviteURL != url || !got.ExpiresAt.Equal(expires) {
			t.Errorf("conversion aliases its input: %v %v", *got.InviteURL, *got.ExpiresAt)
		}
	})
}

func TestToOrganization(t *testing.T) {
	got := ToOrganization(&Organization{ID: testOrgID, Name: "Acme Streaming", Auth0ID: "org_x", MFAEnforced: true})
	want := invite.Organization{ID: "redpanda:" + testOrgID, Provider: invite.Redpanda, Name: "Acme Streaming", OrgID: testOrgID}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestScopeTypes(t *testing.T) {
	tests := []struct {
		wire    string
		unified invite.ScopeType
		back    bool // FromScopeType(unified) gives wire
	}{
		{"SCOPE_RESOURCE_TYPE_ORGANIZATION", invite.ScopeOrganization, true},
		{"SCOPE_RESOURCE_TYPE_RESOURCE_GROUP", invite.ScopeResourceGroup, true},
		{"SCOPE_RESOURCE_TYPE_NETWORK", invite.ScopeNetwork, true},
		{"SCOPE_RESOURCE_TYPE_CLUSTER", invite.ScopeCluster, true},
		{"SCOPE_RESOURCE_TYPE_SERVERLESS_CLUSTER", invite.ScopeServerlessCluster, true},
		{"SCOPE_RESOURCE_TYPE_NETWORK_PEERING", invite.ScopeNetworkPeering, true},
		{"SCOPE_RESOURCE_TYPE_MCPSERVER", invite.ScopeOther, false},
		{"SCOPE_RESOURCE_TYPE_AIAGENT", invite.ScopeOther, false},
		{"SCOPE_RESOURCE_TYPE_KAFKA_TOPIC", invite.ScopeOther, false},
		{"SCOPE_RESOURCE_TYPE_UNSPECIFIED", invite.ScopeOther, false},
		{"", invite.ScopeOther, false},
		{"cluster", invite.ScopeOther, false},
	}
	for _, tt := range tests {
		t.Run(tt.wire+" maps to "+string(tt.unified), func(t *testing.T) {
			if got := ToScopeType(tt.wire); got != tt.unified {
				t.Errorf("ToScopeType = %q, want %q", got, tt.unified)
			}
			if !tt.back {
				return
			}
			if got, ok := FromScopeType(tt.unified); !ok || got != tt.wire {
				t.Errorf("FromScopeType = %q, %v; want %q", got, ok, tt.wire)
			}
		})
	}
	for _, st := range []invite.ScopeType{invite.ScopeDeployment, invite.ScopeProject, invite.ScopeOther, "NONSENSE"} {
		t.Run(string(st)+" has no redpanda name", func(t *testing.T) {
			if got, ok := FromScopeType(st); ok || got != "" {
				t.Errorf("FromScopeType = %q, %v", got, ok)
			}
		})
	}
}
