package gateway_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invitegw/invitegw/auth"
)

const (
	idpIssuer   = "https://idp.example.test/"
	idpAudience = "invitegw-api"
)

// idp is a fake identity provider: one ES256 key, published as a JWKS.
type idp struct {
	key *ecdsa.PrivateKey
	srv *httptest.Server
}

func newIDP(t *testing.T) *idp {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p := &idp{key: k}
	b64 := base64.RawURLEncoding.EncodeToString
	jwks, _ := json.Marshal(map[string]any{"keys": []any{map[string]string{
		"kty": "EC", "crv": "P-256", "kid": "gw-test-1", "alg": "ES256", "use": "sig",
		"x": b64(k.X.FillBytes(make([]byte, 32))), "y": b64(k.Y.FillBytes(make([]byte, 32))),
	}}})
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jwks)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *idp) options() *auth.JWTOptions {
	return &auth.JWTOptions{JWKSURL: p.srv.URL, Issuers: []string{idpIssuer}, Audiences: []string{idpAudience}}
}

// issued keeps every token the tests minted, for the log scan.
var issued struct {
	sync.Mutex
	tokens []string
}

// token signs claims (iss, aud, exp and iat filled in) for subject sub with scope.
func (p *idp) token(t *testing.T, sub, scope string) string {
	t.Helper()
	b64 := base64.RawURLEncoding.EncodeToString
	head, _ := json.Marshal(map[string]string{"alg": "ES256", "typ": "JWT", "kid": "gw-test-1"})
	claims, _ := json.Marshal(map[string]any{"iss": idpIssuer, "aud": idpAudience, "sub": sub, "scope": scope,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
	signed := b64(head) + "." + b64(claims)
	sum := sha256.Sum256([]byte(signed))
	r, s, err := ecdsa.Sign(rand.Reader, p.key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	tok := signed + "." + b64(append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...))
	issued.Lock()
	issued.tokens = append(issued.tokens, tok)
	issued.Unlock()
	return tok
}

// TestJWTCallers: a token's scopes decide what it may do, and its subject and issuer are
// the actor of the audit trail.
func TestJWTCallers(t *testing.T) {
	p := newIDP(t)
	e := newEnv(t, envOptions{jwt: p.options()})
	e.seed()
	bearer := func(tok, q string) (int, response) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"query": q})
		resp, text := do(t, http.MethodPost, e.gw.URL+"/graphql",
			map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + tok}, string(body))
		var r response
		if err := json.Unmarshal([]byte(text), &r); err != nil {
			t.Fatalf("%d %q: %v", resp.StatusCode, text, err)
		}
		r.raw = text
		return resp.StatusCode, r
	}
	const count = `{ invitations { totalCount } }`
	if st, r := bearer(p.token(t, "ada", "invitations:read"), count); st != 200 || string(r.Data) != `{"invitations":{"totalCount":8}}` {
		t.Fatalf("reader: %d %s", st, r.raw)
	}
	if st, r := bearer(p.token(t, "nobody", ""), count); st != 200 || string(r.Data) != `null` ||
		len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "FORBIDDEN" {
		t.Fatalf("a token without scopes: %d %s", st, r.raw)
	}
	tampered := p.token(t, "ada", "invitations:read")
	tampered = tampered[:strings.LastIndexByte(tampered, '.')+1] + "AAAA"
	if st, r := bearer(tampered, count); st != 401 || r.Errors[0].Extensions["code"] != "UNAUTHENTICATED" {
		t.Fatalf("a tampered token: %d %s", st, r.raw)
	}
	bearer(p.token(t, "grace", "invitations:write invitations:read"),
		`mutation { updateInvitation(id: "redpanda:rp-1", input: {expiresAt: "2027-01-01T00:00:00Z"}) { invitation { id } } }`)
	_, r := bearer(p.token(t, "auditor", "invitations:audit"), `{ auditEvents { nodes { actor { kind subject issuer } outcome } } }`)
	jsonEq(t, r.Data, `{"auditEvents":{"nodes":[{"actor":{"kind":"JWT","subject":"grace","issuer":"`+idpIssuer+`"},"outcome":"SUCCEEDED"}]}}`)
}
