package auth

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/invitegw/invitegw/internal/testlog"
)

func wantFetches(t *testing.T, p *idp, want int32, when string) {
	t.Helper()
	if n := p.fetches.Load(); n != want {
		t.Fatalf("%s: the JWKS was fetched %d times, want %d", when, n, want)
	}
}

// TestKeyRotation: the IdP starts signing with a key it had not published when the gateway
// started; the first token naming it makes the gateway fetch the set again, without a
// restart, and later tokens use the fetched set.
func TestKeyRotation(t *testing.T) {
	p := newIDP(t, key("rsa-1"))
	clk := newClock()
	a := newAuth(t, Options{JWT: jwtOptions(p), Now: clk.Now})
	user := Identity{Kind: KindJWT, Subject: "user-1", Issuer: testIssuer, Scopes: []string{"invitations:read"}}
	wantFetches(t, p, 1, "at start")

	wantAccepted(t, bearer(a, token(t, key("rsa-1"), claims())), user)
	wantFetches(t, p, 1, "a known key")

	p.publish(key("rsa-1"), key("rsa-2"))
	for i := range 3 {
		wantAccepted(t, bearer(a, token(t, key("rsa-2"), claims())), user)
		wantFetches(t, p, 2, fmt.Sprintf("the new key, token %d", i+1))
	}
	wantAccepted(t, bearer(a, token(t, key("rsa-1"), claims())), user)

	// An unknown key within ForcedRefreshEvery of the last fetch: no fetch.
	other := sign(t, "RS256", key("rsa-other").private, nil, header(key("rsa-other")), claims())
	wantRefused(t, bearer(a, other), "unknown signing key")
	wantFetches(t, p, 2, "an unknown key within the limit")

	// The IdP withdraws the old key: once the set is fetched again, its tokens are refused.
	p.publish(key("rsa-2"))
	clk.Add(ForcedRefreshEvery)
	wantRefused(t, bearer(a, other), "unknown signing key")
	wantFetches(t, p, 3, "an unknown key after the limit")
	wantRefused(t, bearer(a, token(t, key("rsa-1"), claims())), "unknown signing key")
	wantAccepted(t, bearer(a, token(t, key("rsa-2"), claims())), user)
	wantFetches(t, p, 3, "the withdrawn key")
}

// TestForcedRefreshLimit: tokens naming key ids the IdP does not have make the gateway fetch
// the set at most once per ForcedRefreshEvery, alone or all at once.
func TestForcedRefreshLimit(t *testing.T) {
	p := newIDP(t, key("rsa-1"))
	clk := newClock()
	a := newAuth(t, Options{JWT: jwtOptions(p), Now: clk.Now})
	made := func(kid string) string {
		return sign(t, "RS256", key("rsa-other").private, nil, map[string]any{"alg": "RS256", "kid": kid}, claims())
	}
	for i := range 20 {
		wantRefused(t, bearer(a, made(fmt.Sprintf("made-up-%d", i))), "unknown signing key")
	}
	wantFetches(t, p, 2, "20 unknown key ids")

	clk.Add(ForcedRefreshEvery - time.Second)
	wantRefused(t, bearer(a, made("made-up")), "unknown signing key")
	wantFetches(t, p, 2, "before the limit is over")

	clk.Add(time.Second)
	wantRefused(t, bearer(a, made("made-up")), "unknown signing key")
	wantFetches(t, p, 3, "once the limit is over")

	// All at once: the requests that find the refresh running wait for it and share it.
	clk.Add(ForcedRefreshEvery)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if got := bearer(a, made("made-up")); got.status != http.StatusUnauthorized {
				t.Errorf("status %d, want 401", got.status)
			}
		})
	}
	wg.Wait()
	wantFetches(t, p, 4, "16 at once")
}

// TestJWKSDownAtStart: New succeeds while the IdP is down; JWTs are answered 503 (with one
// fetch per ForcedRefreshEvery at most) while API keys keep working; once the IdP is back,
// tokens are accepted.
func TestJWKSDownAtStart(t *testing.T) {
	p := newIDP(t, key("rsa-1"))
	p.setDown(true)
	clk := newClock()
	var logs testlog.Buffer
	a := newAuth(t, Options{
		JWT:     jwtOptions(p),
		APIKeys: []APIKey{{Name: "ci", Key: "ci-0123456789abcdef"}},
		Now:     clk.Now,
		Logger:  logs.Logger(),
	})
	wantFetches(t, p, 1, "at start")
	tok := token(t, key("rsa-1"), claims())

	wantUnavailable := func(got answer) {
		t.Helper()
		if got.passed || got.status != http.StatusServiceUnavailable {
			t.Fatalf("status %d, passed %v; want 503", got.status, got.passed)
		}
		if ra := got.header.Get("Retry-After"); ra != "5" {
			t.Errorf("Retry-After %q, want 5", ra)
		}
		if want := `{"errors":[{"message":"signing keys are unavailable","extensions":{"code":"UNAVAILABLE"}}]}`; got.body != want {
			t.Errorf("body %s, want %s", got.body, want)
		}
	}
	wantUnavailable(bearer(a, tok))
	wantFetches(t, p, 2, "a JWT while down")
	wantUnavailable(bearer(a, tok))
	wantFetches(t, p, 2, "a second JWT within the limit")

	wantAccepted(t, do(a, http.MethodPost, "X-API-Key", "ci-0123456789abcdef"), Identity{Kind: KindAPIKey, Subject: "ci", All: true})
	wantAccepted(t, bearer(a, "ci-0123456789abcdef"), Identity{Kind: KindAPIKey, Subject: "ci", All: true})
	// A token refused before its key is needed is refused, not put off.
	wantRefused(t, bearer(a, sign(t, "none", nil, nil, map[string]any{"alg": "none"}, claims())), "unsupported signing algorithm")

	p.setDown(false)
	wantUnavailable(bearer(a, tok))
	wantFetches(t, p, 2, "back up, within the limit")
	clk.Add(ForcedRefreshEvery)
	wantAccepted(t, bearer(a, tok), Identity{Kind: KindJWT, Subject: "user-1", Issuer: testIssuer, Scopes: []string{"invitations:read"}})
	wantFetches(t, p, 3, "back up")
	wantAccepted(t, bearer(a, tok), Identity{Kind: KindJWT, Subject: "user-1", Issuer: testIssuer, Scopes: []string{"invitations:read"}})
	wantFetches(t, p, 3, "loaded")
}

// TestJWKSUnreachableAtStart: nothing listens at the JWKS URL; New still succeeds.
func TestJWKSUnreachableAtStart(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/jwks.json"
	srv.Close()
	a := newAuth(t, Options{JWT: &JWTOptions{JWKSURL: url, Issuers: []string{testIssuer}, Audiences: []string{testAudience}}, Now: newClock().Now})
	if got := bearer(a, token(t, key("rsa-1"), claims())); got.status != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", got.status)
	}
}
