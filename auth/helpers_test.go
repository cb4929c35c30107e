package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"hash"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// Test identities of the fake IdP.
const (
	testIssuer   = "https://idp.example.test/"
	testAudience = "invitegw"
)

// t0 is the fake clock's start: tokens are issued relative to it, so no test depends on the
// real time.
var t0 = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

// clock is a fake clock tests move by hand, from t0.
type clock struct{ elapsed atomic.Int64 }

func newClock() *clock { return &clock{} }

func (c *clock) Now() time.Time      { return t0.Add(time.Duration(c.elapsed.Load())) }
func (c *clock) Add(d time.Duration) { c.elapsed.Add(int64(d)) }

// signingKey is a key pair the fake IdP may publish, under its kid.
type signingKey struct {
	kid     string
	alg     string // what it signs with
	private crypto.Signer
}

// testKeys are generated once: RSA key generation is slow under -race.
var testKeys = sync.OnceValue(func() map[string]signingKey {
	mustRSA := func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	}
	mustEC := func(c elliptic.Curve) *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	keys := map[string]signingKey{}
	for _, k := range []signingKey{
		{"rsa-1", "RS256", mustRSA()},
		{"rsa-2", "RS256", mustRSA()}, // published later: a rotation
		{"rsa-other", "RS256", mustRSA()},
		{"ec-256", "ES256", mustEC(elliptic.P256())},
		{"ec-384", "ES384", mustEC(elliptic.P384())},
		{"ec-521", "ES512", mustEC(elliptic.P521())},
		{"ed-1", "EdDSA", ed},
	} {
		keys[k.kid] = k
	}
	return keys
})

func key(kid string) signingKey { return testKeys()[kid] }

// idp is a fake identity provider's JWKS endpoint on a real socket. It counts fetches and
// can be taken down (503) and changed while running.
type idp struct {
	srv     *httptest.Server
	fetches atomic.Int32

	mu        sync.Mutex
	published []signingKey
	down      bool
}

func newIDP(t *testing.T, published ...signingKey) *idp {
	t.Helper()
	p := &idp{published: published}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.fetches.Add(1)
		if r.Method != http.MethodGet || r.URL.Path != "/jwks.json" {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		p.mu.Lock()
		down, keys := p.down, p.published
		p.mu.Unlock()
		if down {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jwksJSON(t, keys...))
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *idp) url() string { return p.srv.URL + "/jwks.json" }

func (p *idp) publish(keys ...signingKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.published = keys
}

func (p *idp) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
}

// jwksJSON is a JWKS of the public halves of keys, each with its kid.
func jwksJSON(t *testing.T, keys ...signingKey) []byte {
	set := jwk.NewSet()
	for _, k := range keys {
		pub, err := jwk.Import(k.private.Public())
		if err != nil {
			t.Error(err)
			return nil
		}
		if err := pub.Set(jwk.KeyIDKey, k.kid); err != nil {
			t.Error(err)
			return nil
		}
		if err := set.AddKey(pub); err != nil {
			t.Error(err)
			return nil
		}
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Error(err)
	}
	return b
}

// claims are a valid token's claims at t0; tests change or delete what they test.
func claims() map[string]any {
	return map[string]any{
		"iss":   testIssuer,
		"aud":   testAudience,
		"sub":   "user-1",
		"iat":   t0.Unix(),
		"nbf":   t0.Unix(),
		"exp":   t0.Add(5 * time.Minute).Unix(),
		"scope": "invitations:read",
	}
}

// header is the JOSE header of a token signed by k.
func header(k signingKey) map[string]any {
	return map[string]any{"alg": k.alg, "kid": k.kid, "typ": "JWT"}
}

// sign makes a compact JWS with the standard library only, so that the tests do not check the
// verifier against itself. alg is the algorithm used, whatever the header says; "none" signs
// nothing, and HS* use hmacKey.
func sign(t *testing.T, alg string, k crypto.Signer, hmacKey []byte, hdr, payload map[string]any) string {
	t.Helper()
	h, err := json.Marshal(hdr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	input := b64(h) + "." + b64(c)
	digest := func(newHash func() hash.Hash) []byte {
		d := newHash()
		d.Write([]byte(input))
		return d.Sum(nil)
	}
	hashes := map[byte]struct {
		h crypto.Hash
		f func() hash.Hash
	}{'2': {crypto.SHA256, sha256.New}, '3': {crypto.SHA384, sha512.New384}, '5': {crypto.SHA512, sha512.New}}
	var sig []byte
	switch alg {
	case "none":
	case "HS256":
		m := hmac.New(sha256.New, hmacKey)
		m.Write([]byte(input))
		sig = m.Sum(nil)
	case "RS256", "RS384", "RS512":
		hh := hashes[alg[2]]
		sig, err = rsa.SignPKCS1v15(rand.Reader, k.(*rsa.PrivateKey), hh.h, digest(hh.f))
	case "PS256", "PS384", "PS512":
		hh := hashes[alg[2]]
		sig, err = rsa.SignPSS(rand.Reader, k.(*rsa.PrivateKey), hh.h, digest(hh.f), &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case "ES256", "ES384", "ES512":
		ec := k.(*ecdsa.PrivateKey)
		hh := hashes[alg[2]]
		r, s, e := ecdsa.Sign(rand.Reader, ec, digest(hh.f))
		size := (ec.Curve.Params().BitSize + 7) / 8
		sig, err = append(r.FillBytes(make([]byte, size)), s.FillBytes(make([]byte, size))...), e
	case "EdDSA":
		sig = ed25519.Sign(k.(ed25519.PrivateKey), []byte(input))
	default:
		t.Fatalf("sign: no algorithm %q", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64(sig)
}

// token is a token signed by k with its own header.
func token(t *testing.T, k signingKey, payload map[string]any) string {
	t.Helper()
	return sign(t, k.alg, k.private, nil, header(k), payload)
}

// newAuth builds an Authenticator, closed when the test ends.
func newAuth(t *testing.T, o Options) *Authenticator {
	t.Helper()
	a, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a
}

// jwtOptions accepts tokens of testIssuer for testAudience from p.
func jwtOptions(p *idp) *JWTOptions {
	return &JWTOptions{JWKSURL: p.url(), Issuers: []string{testIssuer}, Audiences: []string{testAudience}}
}

// answer is what the middleware did with one request.
type answer struct {
	status int
	header http.Header
	body   string
	id     Identity
	hasID  bool // next ran with an identity
	passed bool // next ran
}

// do sends one request through a's middleware; set adds headers ("Authorization", "Bearer x").
func do(a *Authenticator, method string, set ...string) answer {
	var got answer
	h := a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.passed = true
		got.id, got.hasID = FromContext(r.Context())
		w.WriteHeader(http.StatusNoContent)
	}))
	r := httptest.NewRequest(method, "/graphql", nil)
	for i := 0; i+1 < len(set); i += 2 {
		r.Header.Add(set[i], set[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	got.status, got.header, got.body = w.Code, w.Header(), w.Body.String()
	return got
}

func bearer(a *Authenticator, tok string) answer {
	return do(a, http.MethodPost, "Authorization", "Bearer "+tok)
}
