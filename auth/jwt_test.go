package auth

import (
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// wantRefused checks the exact 401 answer to a credential that was sent but is invalid.
func wantRefused(t *testing.T, got answer, reason string) {
	t.Helper()
	if got.passed {
		t.Fatalf("the request reached the handler as %+v; want it refused (%s)", got.id, reason)
	}
	if got.status != http.StatusUnauthorized {
		t.Errorf("status %d, want 401", got.status)
	}
	if w, want := got.header.Get("WWW-Authenticate"), `Bearer realm="invitegw", error="invalid_token", error_description="`+reason+`"`; w != want {
		t.Errorf("WWW-Authenticate:\n got %s\nwant %s", w, want)
	}
	if ct := got.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if want := `{"errors":[{"message":"invalid credential: ` + reason + `","extensions":{"code":"UNAUTHENTICATED"}}]}`; got.body != want {
		t.Errorf("body:\n got %s\nwant %s", got.body, want)
	}
}

// wantAccepted checks that the request reached the handler as want.
func wantAccepted(t *testing.T, got answer, want Identity) {
	t.Helper()
	if !got.passed || !got.hasID {
		t.Fatalf("status %d, WWW-Authenticate %q, body %s; want it accepted", got.status, got.header.Get("WWW-Authenticate"), got.body)
	}
	if !reflect.DeepEqual(got.id, want) {
		t.Fatalf("identity\n got %#v\nwant %#v", got.id, want)
	}
}

func allKeys() []signingKey {
	return []signingKey{key("rsa-1"), key("ec-256"), key("ec-384"), key("ec-521"), key("ed-1")}
}

func TestJWTAccepted(t *testing.T) {
	p := newIDP(t, allKeys()...)
	clk := newClock()
	a := newAuth(t, Options{JWT: jwtOptions(p), Now: clk.Now})
	with := func(change func(map[string]any)) map[string]any {
		c := claims()
		change(c)
		return c
	}
	user := func(scopes ...string) Identity {
		return Identity{Kind: KindJWT, Subject: "user-1", Issuer: testIssuer, Scopes: scopes}
	}
	rsa := key("rsa-1")
	tests := []struct {
		name  string
		token string
		want  Identity
	}{
		{"RS256", token(t, rsa, claims()), user("invitations:read")},
		{"RS384", sign(t, "RS384", rsa.private, nil, map[string]any{"alg": "RS384", "kid": "rsa-1"}, claims()), user("invitations:read")},
		{"RS512", sign(t, "RS512", rsa.private, nil, map[string]any{"alg": "RS512", "kid": "rsa-1"}, claims()), user("invitations:read")},
		{"PS256", sign(t, "PS256", rsa.private, nil, map[string]any{"alg": "PS256", "kid": "rsa-1"}, claims()), user("invitations:read")},
		{"PS512", sign(t, "PS512", rsa.private, nil, map[string]any{"alg": "PS512", "kid": "rsa-1"}, claims()), user("invitations:read")},
		{"ES256", token(t, key("ec-256"), claims()), user("invitations:read")},
		{"ES384", token(t, key("ec-384"), claims()), user("invitations:read")},
		{"ES512", token(t, key("ec-521"), claims()), user("invitations:read")},
		{"EdDSA", token(t, key("ed-1"), claims()), user("invitations:read")},
		{"several scopes, sorted and deduplicated", token(t, rsa, with(func(c map[string]any) {
			c["scope"] = " invitations:write  invitations:read invitations:write"
		})), user("invitations:read", "invitations:write")},
		{"no scope claim", token(t, rsa, with(func(c map[string]any) { delete(c, "scope") })), user()},
		{"a scope claim of another type grants nothing", token(t, rsa, with(func(c map[string]any) { c["scope"] = 42 })), user()},
		{"a scope of * grants nothing", token(t, rsa, with(func(c map[string]any) { c["scope"] = "* invitations:read" })), user("invitations:read")},
		{"audience array holding ours", token(t, rsa, with(func(c map[string]any) { c["aud"] = []string{"other", testAudience} })), user("invitations:read")},
		{"expired within the skew", token(t, rsa, with(func(c map[string]any) { c["exp"] = t0.Add(-59 * time.Second).Unix() })), user("invitations:read")},
		{"not yet valid within the skew", token(t, rsa, with(func(c map[string]any) { c["nbf"] = t0.Add(59 * time.Second).Unix() })), user("invitations:read")},
		{"issued ahead within the skew", token(t, rsa, with(func(c map[string]any) { c["iat"] = t0.Add(59 * time.Second).Unix() })), user("invitations:read")},
		{"no iat nor nbf", token(t, rsa, with(func(c map[string]any) { delete(c, "iat"); delete(c, "nbf") })), user("invitations:read")},
		{"lower-case scheme", "", user("invitations:read")}, // sent below as "bearer"
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.token == "" {
				wantAccepted(t, do(a, http.MethodPost, "Authorization", "bearer "+token(t, rsa, claims())), tt.want)
				return
			}
			wantAccepted(t, bearer(a, tt.token), tt.want)
		})
	}
	if n := p.fetches.Load(); n != 1 {
		t.Errorf("the JWKS was fetched %d times, want once (at start)", n)
	}
}

func TestJWTScopeClaims(t *testing.T) {
	p := newIDP(t, key("rsa-1"))
	tests := []struct {
		name  string
		claim string // JWTOptions.ScopeClaim
		value any
		want  []string
	}{
		{"scope as a string", "", "b a", []string{"a", "b"}},
		{"scp as an array", "scp", []string{"invitations:write", "invitations:read"}, []string{"invitations:read", "invitations:write"}},
		{"custom claim name", "roles", []string{"Invitations.Admin"}, []string{"Invitations.Admin"}},
		{"array with a non-string grants nothing", "scp", []any{"invitations:read", 7}, nil},
		{"object grants nothing", "scp", map[string]any{"invitations:read": true}, nil},
		{"array element with a space is dropped", "scp", []string{"a b", "c"}, []string{"c"}},
		{"empty string", "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := jwtOptions(p)
			o.ScopeClaim = tt.claim
			a := newAuth(t, Options{JWT: o, Now: newClock().Now})
			c := claims()
			delete(c, "scope")
			name := tt.claim
			if name == "" {
				name = "scope"
			}
			c[name] = tt.value
			wantAccepted(t, bearer(a, token(t, key("rsa-1"), c)), Identity{Kind: KindJWT, Subject: "user-1", Issuer: testIssuer, Scopes: tt.want})
		})
	}
}

func TestJWTRefused(t *testing.T) {
	rsa, ec := key("rsa-1"), key("ec-256")
	p := newIDP(t, rsa, ec, key("ed-1"))
	a := newAuth(t, Options{JWT: jwtOptions(p), Now: newClock().Now})
	with := func(change func(map[string]any)) map[string]any {
		c := claims()
		change(c)
		return c
	}
	pubDER, err := x509.MarshalPKIXPublicKey(rsa.private.Public())
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	valid := token(t, rsa, claims())
	parts := strings.Split(valid, ".")
	flip := func(s string) string { // changes the first character of s
		if s[0] == 'A' {
			return "B" + s[1:]
		}
		return "A" + s[1:]
	}
	otherPayload := strings.Split(token(t, rsa, with(func(c map[string]any) { c["sub"] = "admin" })), ".")[1]

	tests := []struct {
		name   string
		token  string
		reason string
	}{
		{"expired", token(t, rsa, with(func(c map[string]any) { c["exp"] = t0.Add(-61 * time.Second).Unix() })), "token expired"},
		{"not yet valid", token(t, rsa, with(func(c map[string]any) { c["nbf"] = t0.Add(61 * time.Second).Unix() })), "token not yet valid"},
		{"issued in the future", token(t, rsa, with(func(c map[string]any) { c["iat"] = t0.Add(61 * time.Second).Unix() })), "token issued in the future"},
		{"wrong issuer", token(t, rsa, with(func(c map[string]any) { c["iss"] = "https://evil.example.test/" })), "untrusted issuer"},
		{"no issuer", token(t, rsa, with(func(c map[string]any) { delete(c, "iss") })), "untrusted issuer"},
		{"wrong audience", token(t, rsa, with(func(c map[string]any) { c["aud"] = "another-app" })), "wrong audience"},
		{"audience array without ours", token(t, rsa, with(func(c map[string]any) { c["aud"] = []string{"a", "b"} })), "wrong audience"},
		{"no audience", token(t, rsa, with(func(c map[string]any) { delete(c, "aud") })), "wrong audience"},
		{"no exp", token(t, rsa, with(func(c map[string]any) { delete(c, "exp") })), "token has no expiry"},
		{"no sub", token(t, rsa, with(func(c map[string]any) { delete(c, "sub") })), "token has no subject"},
		{"empty sub", token(t, rsa, with(func(c map[string]any) { c["sub"] = "" })), "token has no subject"},
		{"alg none", sign(t, "none", nil, nil, map[string]any{"alg": "none", "kid": "rsa-1"}, claims()), "unsupported signing algorithm"},
		{"alg None", sign(t, "none", nil, nil, map[string]any{"alg": "None", "kid": "rsa-1"}, claims()), "unsupported signing algorithm"},
		{"HS256 keyed with the RSA public key PEM", sign(t, "HS256", nil, pubPEM, map[string]any{"alg": "HS256", "kid": "rsa-1"}, claims()), "unsupported signing algorithm"},
		{"HS256 keyed with the RSA public key DER", sign(t, "HS256", nil, pubDER, map[string]any{"alg": "HS256", "kid": "rsa-1"}, claims()), "unsupported signing algorithm"},
		{"no alg", sign(t, "RS256", rsa.private, nil, map[string]any{"kid": "rsa-1"}, claims()), "unsupported signing algorithm"},
		{"upper-case ALG", sign(t, "RS256", rsa.private, nil, map[string]any{"ALG": "RS256", "kid": "rsa-1"}, claims()), "unsupported signing algorithm"},
		{"alg not a string", sign(t, "RS256", rsa.private, nil, map[string]any{"alg": []string{"RS256"}, "kid": "rsa-1"}, claims()), "unsupported signing algorithm"},
		{"kid not a string", sign(t, "RS256", rsa.private, nil, map[string]any{"alg": "RS256", "kid": 1}, claims()), "token has no key id"},
		{"header not JSON", "bm90IGpzb24." + parts[1] + "." + parts[2], "malformed token"},
		{"no kid", sign(t, "RS256", rsa.private, nil, map[string]any{"alg": "RS256"}, claims()), "token has no key id"},
		{"unknown kid", sign(t, "RS256", key("rsa-other").private, nil, map[string]any{"alg": "RS256", "kid": "rsa-other"}, claims()), "unknown signing key"},
		{"known kid, signed by another key", sign(t, "RS256", key("rsa-other").private, nil, header(rsa), claims()), "invalid signature"},
		{"tampered signature", parts[0] + "." + parts[1] + "." + flip(parts[2]), "invalid signature"},
		{"tampered payload", parts[0] + "." + otherPayload + "." + parts[2], "invalid signature"},
		{"RS256 header naming an EC key", sign(t, "RS256", rsa.private, nil, map[string]any{"alg": "RS256", "kid": "ec-256"}, claims()), "signing key does not match the token's algorithm"},
		{"ES256 header naming an Ed25519 key", sign(t, "ES256", ec.private, nil, map[string]any{"alg": "ES256", "kid": "ed-1"}, claims()), "signing key does not match the token's algorithm"},
		{"not a JWT", "not-a-jwt", "malformed token"},
		{"two parts", parts[0] + "." + parts[1], "malformed token"},
		{"JSON serialization", `{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`, "malformed token"},
		{"huge", strings.Repeat("a", 20<<10), "malformed token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantRefused(t, bearer(a, tt.token), tt.reason)
		})
	}
}
