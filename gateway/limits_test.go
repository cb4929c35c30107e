package gateway_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/invitegw/invitegw/gateway"
	"github.com/invitegw/invitegw/providers"
)

func TestQueryLimitsRejectBeforeAnyUpstreamCall(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	var aliased strings.Builder
	for i := range 31 {
		fmt.Fprintf(&aliased, "a%d: invitation(id: \"redpanda:rp-1\") { id } ", i)
	}
	tests := []struct {
		name, query, reason string
	}{
		{"depth 11", `{ invitations { nodes { organization { invitations { nodes { organization { invitations { nodes {
			organization { invitations { nodes { id } } } } } } } } } } } }`, "MAX_DEPTH"},
		{"31 aliases", "{ " + aliased.String() + "}", "MAX_ALIASES"},
		{"nested pages", `{ invitations(first: 100) { nodes { organization { invitations(first: 100) { nodes { id email } } } } } }`,
			"MAX_COMPLEXITY"},
		{"depth hidden in fragments", `{ invitations { ...a } } fragment a on InvitationConnection { nodes { organization { ...b } } }
			fragment b on Organization { invitations { nodes { organization { invitations { nodes { organization { invitations { nodes { id } } } } } } } } }`,
			"MAX_DEPTH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.query(t, tt.query, nil)
			if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "BAD_USER_INPUT" || r.Errors[0].Extensions["reason"] != tt.reason {
				t.Fatalf("want one BAD_USER_INPUT %s error, got %s", tt.reason, r.raw)
			}
		})
	}
	if n := e.upstreamCalls(); n != 0 {
		t.Fatalf("rejected queries made %d upstream calls, want 0", n)
	}
	// Within the limits: a full page with every field, and 30 aliases.
	var within strings.Builder
	for i := range 30 {
		fmt.Fprintf(&within, "a%d: invitation(id: \"redpanda:rp-1\") { id } ", i)
	}
	for _, q := range []string{"{ invitations(first: 100) { edges { cursor node {" + fullInvitation + " } } } }", "{ " + within.String() + "}"} {
		if r := e.query(t, q, nil); len(r.Errors) > 0 {
			t.Fatalf("a query within the limits was rejected: %s", r.raw)
		}
	}
}

func TestTooManyRepresentations(t *testing.T) {
	e := newEnv(t, envOptions{})
	reps := make([]any, 1001)
	for i := range reps {
		reps[i] = map[string]any{"__typename": "User", "email": fmt.Sprintf("u%d@example.com", i)}
	}
	r := e.query(t, `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { email } } }`, map[string]any{"r": reps})
	if len(r.Errors) != 1 || r.Errors[0].Extensions["reason"] != "MAX_REPRESENTATIONS" {
		t.Fatalf("got %.300s", r.raw)
	}
}

func TestNewRejectsMissingSettings(t *testing.T) {
	set, err := providers.New(providers.Options{TTL: providers.TTL{Invitations: time.Second, Directory: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		o    gateway.Options
		want string
	}{
		{"no providers", gateway.Options{RequestTimeout: time.Second}, "gateway: Providers is required"},
		{"no request timeout", gateway.Options{Providers: set}, "gateway: RequestTimeout must be positive, got 0s"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := gateway.New(tt.o); err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
