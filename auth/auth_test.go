package auth

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/invitegw/invitegw/internal/testlog"
)

func TestNewRejectsBadOptions(t *testing.T) {
	good := func() *JWTOptions {
		return &JWTOptions{JWKSURL: "https://idp.example.test/jwks.json", Issuers: []string{testIssuer}, Audiences: []string{testAudience}}
	}
	with := func(change func(*JWTOptions)) *JWTOptions {
		o := good()
		change(o)
		return o
	}
	const secret = "k-secret-secret-secret"
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"no JWKS URL", Options{JWT: with(func(o *JWTOptions) { o.JWKSURL = "" })}, "auth: JWT: JWKSURL is required"},
		{"relative JWKS URL", Options{JWT: with(func(o *JWTOptions) { o.JWKSURL = "/jwks.json" })}, "JWKSURL must be an absolute http or https URL"},
		{"file JWKS URL", Options{JWT: with(func(o *JWTOptions) { o.JWKSURL = "file:///etc/jwks.json" })}, "JWKSURL must be an absolute http or https URL"},
		{"JWKS URL with credentials", Options{JWT: with(func(o *JWTOptions) { o.JWKSURL = "https://u:hunter2@idp.example.test/jwks" })}, "JWKSURL must not contain credentials"},
		{"no issuers", Options{JWT: with(func(o *JWTOptions) { o.Issuers = nil })}, "auth: JWT: Issuers is required"},
		{"an empty issuer", Options{JWT: with(func(o *JWTOptions) { o.Issuers = []string{testIssuer, ""} })}, "Issuers is required and must not contain an empty issuer"},
		{"no audiences", Options{JWT: with(func(o *JWTOptions) { o.Audiences = nil })}, "auth: JWT: Audiences is required"},
		{"scope claim with a space", Options{JWT: with(func(o *JWTOptions) { o.ScopeClaim = "my scopes" })}, "ScopeClaim must not contain spaces"},
		{"empty key", Options{APIKeys: []APIKey{{Name: "a"}}}, "auth: API key entry 1: the key must be at least 16 characters"},
		{"duplicate key name", Options{APIKeys: []APIKey{{Name: "a", Key: secret}, {Name: "a", Key: secret + "2"}}}, "auth: API key entry 2: has the name of entry 1"},
		{"unknown scope format", Options{APIKeys: []APIKey{{Name: "a", Key: secret, Scopes: []string{"invitations read"}}}}, "auth: API key entry 1: scope 1 must be"},
		{"key with a space", Options{APIKeys: []APIKey{{Name: "a", Key: secret + " x"}}}, "the key must not contain spaces"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := New(context.Background(), tt.o)
			if err == nil {
				_ = a.Close()
				t.Fatalf("New succeeded, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), secret) {
				t.Fatalf("the error shows a secret: %v", err)
			}
		})
	}
}

func TestOpenGateway(t *testing.T) {
	a := newAuth(t, Options{})
	if a.Enabled() {
		t.Fatal("Enabled() without keys or JWTs")
	}
	open := Identity{Kind: KindAnonymous, Subject: "anonymous", All: true}
	wantAccepted(t, do(a, http.MethodPost), open)
	// Whatever is sent, the open gateway does not check it.
	wantAccepted(t, do(a, http.MethodPost, "Authorization", "Bearer whatever"), open)
}

func TestAPIKeys(t *testing.T) {
	keys, err := ParseAPIKeys([]string{
		"legacy-0123456789abcdef",
		"console k-console-0123456789 invitations:write invitations:read",
		"ops k-ops-0123456789abcdef",
	})
	if err != nil {
		t.Fatal(err)
	}
	a := newAuth(t, Options{APIKeys: keys})
	if !a.Enabled() {
		t.Fatal("not Enabled() with API keys")
	}
	bare := Identity{Kind: KindAPIKey, Subject: "key-1", All: true}
	console := Identity{Kind: KindAPIKey, Subject: "console", Scopes: []string{"invitations:read", "invitations:write"}}
	ops := Identity{Kind: KindAPIKey, Subject: "ops", All: true}
	accepted := []struct {
		name   string
		header []string
		want   Identity
	}{
		{"bare key in X-API-Key", []string{"X-API-Key", "legacy-0123456789abcdef"}, bare},
		{"bare key as a bearer", []string{"Authorization", "Bearer legacy-0123456789abcdef"}, bare},
		{"named key with scopes", []string{"X-API-Key", "k-console-0123456789"}, console},
		{"named key with scopes as a bearer", []string{"Authorization", "Bearer k-console-0123456789"}, console},
		{"named key without scopes", []string{"Authorization", "Bearer k-ops-0123456789abcdef"}, ops},
	}
	for _, tt := range accepted {
		t.Run(tt.name, func(t *testing.T) {
			wantAccepted(t, do(a, http.MethodPost, tt.header...), tt.want)
		})
	}
	refused := []struct {
		name   string
		header []string
		reason string
	}{
		{"unknown key", []string{"X-API-Key", "k-unknown-0123456789"}, "unknown API key"},
		{"unknown bearer without JWTs", []string{"Authorization", "Bearer k-unknown-0123456789"}, "unknown API key"},
		{"a key's prefix", []string{"X-API-Key", "legacy-0123456789abcde"}, "unknown API key"},
		{"empty X-API-Key", []string{"X-API-Key", ""}, "empty credential"},
		{"empty bearer", []string{"Authorization", "Bearer "}, "empty credential"},
		{"basic auth", []string{"Authorization", "Basic bGVnYWN5OjAxMjM0NTY3ODlhYmNkZWY="}, "unsupported authorization scheme"},
		{"the key without a scheme", []string{"Authorization", "legacy-0123456789abcdef"}, "unsupported authorization scheme"},
		{"both headers", []string{"X-API-Key", "legacy-0123456789abcdef", "Authorization", "Bearer k-ops-0123456789abcdef"}, "send one credential, in Authorization or X-API-Key"},
		{"two X-API-Key headers", []string{"X-API-Key", "legacy-0123456789abcdef", "X-API-Key", "legacy-0123456789abcdef"}, "send one credential, in Authorization or X-API-Key"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			wantRefused(t, do(a, http.MethodPost, tt.header...), tt.reason)
		})
	}
	t.Run("no credential", func(t *testing.T) {
		got := do(a, http.MethodPost)
		if got.passed || got.status != http.StatusUnauthorized {
			t.Fatalf("status %d, passed %v; want 401", got.status, got.passed)
		}
		if w := got.header.Get("WWW-Authenticate"); w != `Bearer realm="invitegw"` {
			t.Errorf("WWW-Authenticate %s", w)
		}
		if want := `{"errors":[{"message":"authentication required: send Authorization: Bearer or X-API-Key","extensions":{"code":"UNAUTHENTICATED"}}]}`; got.body != want {
			t.Errorf("body %s", got.body)
		}
	})
	t.Run("CORS preflight", func(t *testing.T) {
		got := do(a, http.MethodOptions)
		if !got.passed || got.hasID {
			t.Fatalf("passed %v with identity %v; want passed without one", got.passed, got.hasID)
		}
	})
}

// TestNothingSecretLogged: whatever is refused or accepted, the log at Debug holds no token
// and no key, and says why a credential was refused.
func TestNothingSecretLogged(t *testing.T) {
	p := newIDP(t, key("rsa-1"))
	var logs testlog.Buffer
	const apiKey = "k-logged-never-0123456789"
	a := newAuth(t, Options{JWT: jwtOptions(p), APIKeys: []APIKey{{Name: "ci", Key: apiKey}}, Now: newClock().Now, Logger: logs.Logger()})
	expired := claims()
	expired["exp"] = t0.Add(-time.Hour).Unix()
	secrets := []string{
		apiKey, apiKey[:12], "k-wrong-key-0123456789",
		token(t, key("rsa-1"), claims()),
		token(t, key("rsa-1"), expired),
		sign(t, "RS256", key("rsa-other").private, nil, header(key("rsa-other")), claims()),
	}
	for _, s := range secrets {
		do(a, http.MethodPost, "Authorization", "Bearer "+s)
		do(a, http.MethodPost, "X-API-Key", s)
	}
	out := logs.String()
	for _, s := range secrets {
		for _, part := range strings.Split(s, ".") {
			if strings.Contains(out, part) {
				t.Errorf("the log shows (part of) a credential %.20s...:\n%s", part, out)
			}
		}
	}
	for _, reason := range []string{"token expired", "unknown signing key", "unknown API key"} {
		if !strings.Contains(out, `"reason":"`+reason+`"`) {
			t.Errorf("the log does not say %q:\n%s", reason, out)
		}
	}
}

func TestCloseTwice(t *testing.T) {
	p := newIDP(t, key("rsa-1"))
	a, err := New(context.Background(), Options{JWT: jwtOptions(p)})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
}
