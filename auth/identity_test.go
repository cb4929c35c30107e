package auth

import (
	"context"
	"reflect"
	"testing"
)

func TestIdentityHasAndScopeKey(t *testing.T) {
	tests := []struct {
		name string
		id   Identity
		has  map[string]bool
		key  string
	}{
		{"all", Identity{Kind: KindAPIKey, All: true}, map[string]bool{"invitations:read": true, "anything": true}, "*"},
		{"some", Identity{Kind: KindJWT, Scopes: []string{"invitations:read", "invitations:write"}},
			map[string]bool{"invitations:read": true, "invitations:write": true, "invitations:audit": false, "*": false, "": false}, "invitations:read invitations:write"},
		{"none", Identity{Kind: KindJWT}, map[string]bool{"invitations:read": false, "*": false}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for scope, want := range tt.has {
				if got := tt.id.Has(scope); got != want {
					t.Errorf("Has(%q) = %v, want %v", scope, got, want)
				}
			}
			if got := tt.id.ScopeKey(); got != tt.key {
				t.Errorf("ScopeKey() = %q, want %q", got, tt.key)
			}
		})
	}
}

// TestNormalizeScopes: what is kept can never make two permission sets share a ScopeKey.
func TestNormalizeScopes(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"nil", nil, nil},
		{"sorted and deduplicated", []string{"b", "a", "b"}, []string{"a", "b"}},
		{"* would read as every scope", []string{"*", "a"}, []string{"a"}},
		{"a space would join two", []string{"a b", "c"}, []string{"c"}},
		{"control characters, quotes, backslashes, non-ASCII", []string{"a\tb", "a\nb", `a"b`, `a\b`, "é", "ok"}, []string{"ok"}},
		{"empty", []string{"", ""}, nil},
		{"URL-like scopes stay", []string{"api://invitegw/Invitations.Read"}, []string{"api://invitegw/Invitations.Read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := normalizeScopes(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestContext(t *testing.T) {
	if id, ok := FromContext(context.Background()); ok {
		t.Fatalf("an empty context holds %#v", id)
	}
	want := Identity{Kind: KindJWT, Subject: "s", Issuer: "i", Scopes: []string{"a"}}
	got, ok := FromContext(NewContext(context.Background(), want))
	if !ok || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, %v", got, ok)
	}
}
