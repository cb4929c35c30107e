package redpanda

import (
	"context"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

const (
	// earlyExpiry is how long before its expiry a token is replaced. Redpanda's tokens last an
	// hour (FACTS.md 1.2); their last minute covers any call timeout and ordinary clock skew
	// between the gateway and Auth0 with room to spare. A token that lives less than this is
	// replaced at the next call after it was fetched.
	earlyExpiry = time.Minute
	// minTokenTimeout bounds a token request. A fetch is shared by every call waiting for it,
	// so it is not bound to any one caller's context: a caller that gives up only stops
	// waiting, and the token still arrives for the next calls. The call timeout is used
	// instead when it is longer.
	minTokenTimeout = 10 * time.Second
)

// tokenSource is one client's OAuth 2.0 client-credentials token. oauth2.ReuseTokenSource does
// the caching: one fetch at a time, callers waiting for it, a token replaced earlyExpiry before
// it expires. What it cannot do is be told that the API rejected a token, so a rejection
// (invalidate) replaces the whole reuse source with a fresh one, which fetches anew.
type tokenSource struct {
	fetch oauth2.TokenSource // the token endpoint, with its own timeout

	mu    sync.Mutex
	reuse oauth2.TokenSource // the current generation; replaced by invalidate
}

func newTokenSource(conf *clientcredentials.Config, hc *http.Client, timeout time.Duration) *tokenSource {
	// The token endpoint gets a copy of the API's client with a hard timeout: a fetch runs on
	// a context of its own (see minTokenTimeout), so no caller's deadline bounds it.
	tc := *hc
	tc.Timeout = timeout
	s := &tokenSource{fetch: endpoint{conf: conf, http: &tc}}
	s.reuse = s.generation()
	return s
}

// endpoint asks the token endpoint on every call. conf.TokenSource would not do: it caches in
// a reuse source of its own, which a rejected token would outlive.
type endpoint struct {
	conf *clientcredentials.Config
	http *http.Client
}

// Token fetches a token on a context of its own, for the reason given at minTokenTimeout.
func (e endpoint) Token() (*oauth2.Token, error) {
	return e.conf.Token(context.WithValue(context.Background(), oauth2.HTTPClient, e.http))
}

// generation is a reuse source with no token yet.
func (s *tokenSource) generation() oauth2.TokenSource {
	return oauth2.ReuseTokenSourceWithExpiry(nil, &keepUnexpired{src: s.fetch}, earlyExpiry)
}

// token returns an access token, and the generation it came from for invalidate. A caller
// waits for a fetch for as long as ctx allows; the fetch itself goes on for the next callers.
func (s *tokenSource) token(ctx context.Context) (string, oauth2.TokenSource, error) {
	s.mu.Lock()
	gen := s.reuse
	s.mu.Unlock()
	type result struct {
		tok *oauth2.Token
		err error
	}
	done := make(chan result, 1)
	go func() {
		tok, err := gen.Token()
		done <- result{tok, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return "", gen, tokenError(r.err)
		}
		return r.tok.AccessToken, gen, nil
	case <-ctx.Done():
		return "", gen, ctx.Err()
	}
}

// invalidate drops gen, whose token the API just rejected, so that the next call fetches
// another. A newer generation is kept: many calls that failed with the same token cause one
// fetch, not one each.
func (s *tokenSource) invalidate(gen oauth2.TokenSource) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reuse == gen {
		s.reuse = s.generation()
	}
}

// keepUnexpired is what a reuse source refreshes from: the token endpoint, except that when a
// refresh inside earlyExpiry fails, the previous token, which has not yet expired, is handed
// back (and the next call tries again) rather than failing calls it could still serve. Each
// generation has its own, so a token the API rejected is never handed back; the reuse source
// calls it under its own lock.
type keepUnexpired struct {
	src  oauth2.TokenSource
	last *oauth2.Token
}

func (k *keepUnexpired) Token() (*oauth2.Token, error) {
	tok, err := k.src.Token()
	if err == nil {
		k.last = tok
		return tok, nil
	}
	if k.last != nil && !k.last.Expiry.IsZero() && time.Now().Before(k.last.Expiry) {
		return k.last, nil
	}
	return nil, err
}
