package upstream

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Why retries and their budget are written here rather than taken from a library (checked
// December 2026 against the module proxy):
//   - github.com/failsafe-go/failsafe-go v0.9.8 has retry policies with backoff, jitter and a
//     delay function that could read Retry-After, and a budget package. But its budget caps
//     concurrent retries as a share of executions in flight, not retries as a share of calls
//     made (the token bucket below, which policy_test.go asserts); the rules of which answers to
//     retry and when to give up on a long Retry-After would still be ours, as closures of about
//     the same size as Retry.next; and it is a pre-1.0 module of some 10,000 lines of Go whose go.mod
//     pulls in gRPC, protobuf and testify, for a loop of 20 lines. gobreaker already provides
//     the circuit breaker.
//   - github.com/hashicorp/go-retryablehttp v0.7.8 retries inside the HTTP client, on a status
//     or a transport error, before the body is read: it cannot retry a 2xx whose body was cut
//     off, which Caller reads after the response came, nor share a budget across calls, and it
//     logs request URLs unless told not to.
// So this file stays: Retry, Budget, retrying and next are under 100 lines with their comments.

// Retry is the retry policy of idempotent calls (reads, and removals: see Caller.DoDelete).
// Retried: 429, 502, 503 and 504 answers and connection failures (no response at all, or a body
// cut off mid-way). Never retried: anything else, a call that is not idempotent (every POST
// that creates, Redpanda's PATCH), a context that is done, or a Retry-After longer than MaxWait.
//
// The fields are used as given: nothing fills in a zero. DefaultRetry returns the values the
// gateway runs with.
type Retry struct {
	// Attempts is how many retries a call may make after the first try; 0 retries nothing.
	// DefaultRetry: 2.
	Attempts int
	// Base is the first backoff; each retry doubles it, up to Max, with full jitter. Zero
	// retries at once. DefaultRetry: 100ms and 1s.
	Base, Max time.Duration
	// MaxWait is the longest Retry-After honoured; a longer one fails the call now, since the
	// caller will not wait that long anyway. Zero honours none: an answer with Retry-After is
	// not retried. DefaultRetry: 2s.
	MaxWait time.Duration
	// Budget, shared by all calls of a provider, keeps retries to a fraction of calls so that
	// retries cannot multiply load on a struggling upstream. Nil means unlimited.
	Budget *Budget
}

// DefaultRetry is the policy the gateway runs with: 2 retries, backoff from 100ms up to 1s,
// Retry-After honoured up to 2s, and retries kept to a fifth of calls once a starting allowance
// of 10 is spent.
func DefaultRetry() *Retry {
	return &Retry{Attempts: 2, Base: 100 * time.Millisecond, Max: time.Second, MaxWait: 2 * time.Second, Budget: NewBudget(0.2, 10)}
}

// Budget is a token bucket for retries: every first try deposits ratio tokens (up to a cap),
// every retry withdraws one. With ratio 0.2, retries stay under a fifth of the traffic once the
// initial minimum is spent.
type Budget struct {
	mu     sync.Mutex
	tokens float64
	ratio  float64
	cap    float64
}

// NewBudget returns a budget that starts with min tokens and earns ratio per call.
func NewBudget(ratio float64, min int) *Budget {
	return &Budget{tokens: float64(min), ratio: ratio, cap: float64(max(min, 100))}
}

func (b *Budget) deposit() {
	b.mu.Lock()
	b.tokens = min(b.cap, b.tokens+b.ratio)
	b.mu.Unlock()
}

func (b *Budget) withdraw() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// NewBreaker returns the circuit breaker of one provider: it opens after 5 failures in a row
// (answers that say the upstream is unwell: 5xx, 429, timeouts, connection failures, broken
// bodies), fails calls fast for openFor, then lets one call through to probe. A call the
// Limiter refused counts neither way: the upstream was not asked.
func NewBreaker(provider string, openFor time.Duration) *gobreaker.CircuitBreaker[struct{}] {
	return gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        provider,
		MaxRequests: 1,
		Timeout:     openFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 5 },
		IsExcluded:  throttled,
		IsSuccessful: func(err error) bool {
			return err == nil || !(errors.Is(err, ErrUnavailable) || errors.Is(err, ErrTimeout) ||
				errors.Is(err, ErrRateLimited) || errors.Is(err, ErrBadResponse))
		},
	})
}

// errBreakerOpen is the cause of calls refused by an open breaker.
var errBreakerOpen = errors.New("circuit breaker open: not calling the upstream")

// call runs one logical call under the policy: through the breaker, with retries when the
// call may be repeated, each attempt within the limiter's budget. The limiter is asked inside
// the breaker, so that an open breaker spends no budget (which replicas may share).
func (c *Caller) call(ctx context.Context, op string, rp repeat, try func() error) error {
	p := c.Policy
	attempt := func() error { return c.retrying(ctx, op, rp, try) }
	if p.Breaker == nil {
		return attempt()
	}
	_, err := p.Breaker.Execute(func() (struct{}, error) { return struct{}{}, attempt() })
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return &Error{Provider: c.Provider, Op: op, Kind: ErrUnavailable, Err: errBreakerOpen}
	}
	return err
}

func (c *Caller) retrying(ctx context.Context, op string, rp repeat, try func() error) error {
	if err := c.admit(ctx, op); err != nil {
		return err
	}
	r := c.Policy.Retry
	if r == nil || !rp.ok {
		return try()
	}
	if r.Budget != nil {
		r.Budget.deposit()
	}
	// inDoubt: an earlier attempt may have done the work although it failed (see DoDelete).
	inDoubt := false
	var err error
	for n := 0; ; n++ {
		// After the wait: a 429's hold (see Caller.hold) has passed by then.
		if n > 0 && c.admit(ctx, op) != nil {
			return err // the retry is not made: the call fails as its last attempt did
		}
		err = try()
		var ue *Error
		if inDoubt && rp.gone != nil && errors.As(err, &ue) && rp.gone(ue) {
			return nil
		}
		wait, ok := r.next(n, err)
		if !ok || ctx.Err() != nil || (r.Budget != nil && !r.Budget.withdraw()) {
			return err
		}
		// next retries only failures that carry an *Error.
		inDoubt = inDoubt || (errors.As(err, &ue) && ue.Status != http.StatusTooManyRequests)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
	}
}

// next says whether to retry after the n-th try failed with err, and after how long.
func (r *Retry) next(n int, err error) (time.Duration, bool) {
	var ue *Error
	if err == nil || n >= r.Attempts || !errors.As(err, &ue) {
		return 0, false
	}
	switch {
	case errors.Is(ue, ErrUnavailable) && (ue.Status == 0 || ue.Status < 300): // no response, or a body cut short
	case ue.Status == http.StatusTooManyRequests, ue.Status == http.StatusBadGateway,
		ue.Status == http.StatusServiceUnavailable, ue.Status == http.StatusGatewayTimeout:
	default:
		return 0, false
	}
	if ue.RetryAfter > 0 {
		if ue.RetryAfter > r.MaxWait {
			return 0, false
		}
		return ue.RetryAfter, true
	}
	backoff := min(r.Max, r.Base<<n)
	return time.Duration(rand.Int64N(int64(backoff) + 1)), true
}
