package upstream

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// Limiter keeps the calls to one provider within a budget (Policy.Limiter; package ratelimit
// implements it, shared by every replica through Redis). The Caller asks it before every
// attempt, retries included, and tells it what the provider's answers say of its quota.
type Limiter interface {
	// Allow takes the budget of one attempt to t, and says whether the attempt may go out now.
	// When it may not, it says how long until it might (0 when unknown). It never waits: a
	// call over budget fails at once, so that the cache can answer with a stale copy and
	// nothing queues behind the budget.
	Allow(ctx context.Context, t Tenant) (ok bool, retryAfter time.Duration)
	// Hold refuses every call to t for d: the provider said its quota is spent until then.
	Hold(ctx context.Context, t Tenant, d time.Duration)
}

// Tenant is whose quota a call spends: one credential at one upstream. A provider's limit
// belongs to the credential, so replicas calling with the same one share a budget, and
// deployments with different ones sharing a Redis do not.
type Tenant struct {
	Provider, BaseURL string
	// CredentialID is the credential's hash (see CredentialID), never the credential.
	CredentialID string
}

// ErrThrottled is the cause of a call the gateway did not make because the provider's budget
// was spent, by this gateway (Limiter.Allow) or as the provider said (Limiter.Hold). Its kind
// is ErrRateLimited, as an upstream's own 429 is; errors.Is(err, ErrThrottled) tells the two
// apart.
var ErrThrottled = errors.New("over the provider's rate budget: not called")

// tenant is whose quota c's calls spend.
func (c *Caller) tenant() Tenant {
	return Tenant{Provider: c.Provider, BaseURL: c.BaseURL, CredentialID: c.CredentialID}
}

// limiter is the policy's limiter, if any.
func (c *Caller) limiter() Limiter {
	if c.Policy == nil {
		return nil
	}
	return c.Policy.Limiter
}

// admit takes the budget of an attempt of op: nil when it may go out, else the error of a call
// that was not made.
func (c *Caller) admit(ctx context.Context, op string) error {
	l := c.limiter()
	if l == nil {
		return nil
	}
	if ok, wait := l.Allow(ctx, c.tenant()); !ok {
		return &Error{Provider: c.Provider, Op: op, Kind: ErrRateLimited, RetryAfter: wait, Err: ErrThrottled}
	}
	return nil
}

// throttled reports whether err is a call the limiter refused: the upstream was not asked, so
// the breaker counts it neither way.
func throttled(err error) bool { return errors.Is(err, ErrThrottled) }

// hold tells the limiter, if any, how long the provider's answer resp (e for a failed one)
// says its quota stays spent.
func (c *Caller) hold(ctx context.Context, resp *http.Response, e *Error) {
	l := c.limiter()
	if l == nil {
		return
	}
	if d := c.holdFor(resp, e); d > 0 {
		// The call's own deadline may be about to end; the limiter bounds its own work.
		l.Hold(context.WithoutCancel(ctx), c.tenant(), d)
	}
}

// holdFor is how long the limiter should refuse calls after resp: as long as the provider's
// rate-limit headers say its quota stays spent, or, for a 429, its Retry-After (decoded into
// e, nil for other answers), whichever is longer.
func (c *Caller) holdFor(resp *http.Response, e *Error) time.Duration {
	var d time.Duration
	if c.RateLimitReset != nil {
		d = c.RateLimitReset(resp.Header)
	}
	if e != nil && e.Status == http.StatusTooManyRequests {
		d = max(d, e.RetryAfter)
	}
	return d
}
