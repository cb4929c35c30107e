package redpanda

import (
	"context"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/invitegw/invitegw/upstream"
)

// Token lifetime rules. A token is replaced once less than refreshMargin of its lifetime is
// left: a tenth of the lifetime, but never more than maxRefreshMargin. For Redpanda's one-hour
// tokens that is the last minute, which covers any call timeout and ordinary clock skew
// between the gateway and Auth0 with room to spare; the tenth keeps a short-lived token (a
// test tenant, a fake) from being refreshed on every call.
const (
	maxRefreshMargin = time.Minute
	// minTokenTimeout bounds a token request. A fetch is shared by every call waiting for it,
	// so it is not bound to any one caller's context: a caller that gives up only stops
	// waiting, and the token still arrives for the next calls. The call timeout is used
	// instead when it is longer.
	minTokenTimeout = 10 * time.Second
)

// refreshMargin is how long before its expiry a token of the given lifetime is replaced.
func refreshMargin(lifetime time.Duration) time.Duration {
	return min(maxRefreshMargin, lifetime/10)
}

// tokenSource holds one client's OAuth 2.0 token. It replaces oauth2's ReuseTokenSource, which
// refreshes only 10 seconds before expiry and cannot be told that the API rejected a token.
// clientcredentials still makes the token request (form encoding, the audience parameter,
// OAuth error parsing).
//
// At most one token request is in flight: callers that need a token while one is being
// fetched wait for that fetch instead of starting their own.
type tokenSource struct {
	conf    *clientcredentials.Config
	http    *http.Client
	timeout time.Duration    // bounds one token request
	now     func() time.Time // time.Now, or a test's clock

	mu     sync.Mutex
	cur    *issuedToken // nil before the first fetch and after invalidate
	flight *tokenFetch  // non-nil while a token request is in flight
}

// issuedToken is a token with the times the client acts on, on the source's clock.
type issuedToken struct {
	access string
	// refreshAt is when the token stops being handed out without a refresh, expiresAt when it
	// stops being handed out at all. Both are zero for a token without an expiry, which is
	// used until the API rejects it.
	refreshAt, expiresAt time.Time
}

// fresh says whether t may be used at now without a refresh.
func (t *issuedToken) fresh(now time.Time) bool {
	return t != nil && (t.refreshAt.IsZero() || now.Before(t.refreshAt))
}

// unexpired says whether t is still valid at now (perhaps inside its refresh margin).
func (t *issuedToken) unexpired(now time.Time) bool {
	return t != nil && (t.expiresAt.IsZero() || now.Before(t.expiresAt))
}

// tokenFetch is one token request; done is closed once tok or err is set.
type tokenFetch struct {
	done chan struct{}
	tok  *issuedToken
	err  error
}

// token returns an access token. A fresh one is returned at once; otherwise the caller waits
// for a fetch (starting one unless one is in flight) for as long as ctx allows. When a refresh
// inside the margin fails, the old token is still good and is returned instead of the error.
func (s *tokenSource) token(ctx context.Context) (string, error) {
	s.mu.Lock()
	cur := s.cur
	if cur.fresh(s.now()) {
		s.mu.Unlock()
		return cur.access, nil
	}
	f := s.flight
	if f == nil {
		f = &tokenFetch{done: make(chan struct{})}
		s.flight = f
		go s.fetch(f)
	}
	s.mu.Unlock()

	select {
	case <-f.done:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	if f.err == nil {
		return f.tok.access, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur != nil && s.cur == cur && cur.unexpired(s.now()) {
		return cur.access, nil
	}
	return "", f.err
}

// fetch makes one token request and completes f. Its context is its own, bounded by
// s.timeout, for the reason given at minTokenTimeout.
func (s *tokenSource) fetch(f *tokenFetch) {
	ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), oauth2.HTTPClient, s.http), s.timeout)
	defer cancel()
	// The lifetime is counted from before the request was sent, so the token is taken to
	// expire no later than it really does.
	start := s.now()
	tok, err := s.conf.Token(ctx)

	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		f.err = tokenError(err)
	} else {
		f.tok = &issuedToken{access: tok.AccessToken}
		if life, ok := lifetime(tok); ok {
			f.tok.expiresAt = start.Add(life)
			f.tok.refreshAt = f.tok.expiresAt.Add(-refreshMargin(life))
		}
		s.cur = f.tok
	}
	s.flight = nil
	close(f.done)
}

// invalidate drops the current token if it is access, the token the API just rejected, so
// that the next call fetches another. A token fetched since then is kept: many calls that
// failed with the same token cause one fetch, not one each.
func (s *tokenSource) invalidate(access string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil && s.cur.access == access {
		s.cur = nil
	}
}

// lifetime is how long tok is valid from when it was requested; false when the reply gave no
// expiry. expires_in is preferred; oauth2 fills only Expiry (from time.Now) for a form-encoded
// reply, so that is read back against the same clock.
func lifetime(tok *oauth2.Token) (time.Duration, bool) {
	switch {
	case tok.ExpiresIn > 0:
		return upstream.Seconds(tok.ExpiresIn), true // capped at a day, which only refreshes sooner
	case !tok.Expiry.IsZero():
		return max(0, time.Until(tok.Expiry)), true
	}
	return 0, false
}
