package upstream_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/invitegw/invitegw/ratelimit"
	"github.com/invitegw/invitegw/upstream"
	"github.com/invitegw/invitegw/upstream/fakeserver"
	"github.com/invitegw/invitegw/upstream/upstreamtest"
)

// limited gives c an in-memory budget of burst calls at once, refilling one a second on clk
// (on the real clock when nil).
func limited(t *testing.T, c *upstream.Caller, burst int, clk *upstreamtest.Clock) *ratelimit.Limiter {
	t.Helper()
	o := ratelimit.Options{Provider: "test", Rate: 1, Burst: burst}
	if clk != nil {
		o.Now = clk.Now
	}
	l, err := ratelimit.New(o)
	if err != nil {
		t.Fatal(err)
	}
	c.Policy.Limiter = l
	return l
}

func newClock() *upstreamtest.Clock {
	return upstreamtest.NewClock(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
}

func TestLimiterKeepsCallsToTheBudget(t *testing.T) {
	rec, c := server(t)
	clk := newClock()
	limited(t, c, 2, clk)
	ctx := context.Background()
	var errs []error
	for range 5 {
		if err := c.Do(ctx, "Op", http.MethodGet, "/", nil, nil); err != nil {
			errs = append(errs, err)
		}
	}
	if n := rec.Calls("op"); n != 2 {
		t.Fatalf("calls = %d, want the burst of 2", n)
	}
	if len(errs) != 3 {
		t.Fatalf("%d calls failed, want 3", len(errs))
	}
	for _, err := range errs {
		var ue *upstream.Error
		if !errors.As(err, &ue) || ue.Kind != upstream.ErrRateLimited || !errors.Is(err, upstream.ErrThrottled) ||
			ue.Status != 0 || ue.RetryAfter != time.Second {
			t.Fatalf("err = %v (%+v), want a throttled rate-limited call, with no status, retry after 1s", err, ue)
		}
	}
	clk.Advance(time.Second)
	if err := c.Do(ctx, "Op", http.MethodGet, "/", nil, nil); err != nil || rec.Calls("op") != 3 {
		t.Fatalf("a second later: err = %v, calls = %d; want the refilled token spent", err, rec.Calls("op"))
	}
}

func TestRetryOverBudgetIsNotMade(t *testing.T) {
	rec, c := server(t)
	limited(t, c, 1, newClock())
	rec.FailNext("op", 1, http.StatusServiceUnavailable)
	err := c.Do(context.Background(), "Op", http.MethodGet, "/", nil, nil)
	var ue *upstream.Error
	if !errors.As(err, &ue) || ue.Status != http.StatusServiceUnavailable || errors.Is(err, upstream.ErrThrottled) {
		t.Fatalf("err = %v, want the first attempt's 503: the retry was not made", err)
	}
	if n := rec.Calls("op"); n != 1 {
		t.Fatalf("calls = %d, want 1", n)
	}
}

func TestThrottledCallsLeaveTheBreakerAlone(t *testing.T) {
	rec, c := server(t)
	c.Policy.Retry = nil
	c.Policy.Breaker = upstream.NewBreaker("test", time.Hour)
	l := limited(t, c, 4, newClock())
	ctx := context.Background()
	rec.FailNext("op", 4, http.StatusInternalServerError)
	for range 14 { // 4 failures, then 10 refused without a call
		_ = c.Do(ctx, "Op", http.MethodGet, "/", nil, nil)
	}
	if s := c.Policy.Breaker.State().String(); s != "closed" || rec.Calls("op") != 4 {
		t.Fatalf("breaker %s after %d calls: refused calls counted as the upstream's failures", s, rec.Calls("op"))
	}

	// An open breaker refuses first, spending no budget (replicas may share it).
	c.Policy.Breaker = upstream.NewBreaker("test", time.Hour)
	c.Policy.Limiter = nil
	rec.FailNext("op", 5, http.StatusInternalServerError)
	for range 5 {
		_ = c.Do(ctx, "Op", http.MethodGet, "/", nil, nil)
	}
	c.Policy.Limiter = l
	before := l.Stats()
	if err := c.Do(ctx, "Op", http.MethodGet, "/", nil, nil); !errors.Is(err, upstream.ErrUnavailable) {
		t.Fatalf("err = %v, want the open breaker's", err)
	}
	if after := l.Stats(); after != before {
		t.Fatalf("the limiter was asked behind an open breaker: %+v -> %+v", before, after)
	}
}

func TestRateLimitHeadersHoldCalls(t *testing.T) {
	tests := []struct {
		name  string
		setup func(rec *fakeserver.Recorder, c *upstream.Caller)
		hold  time.Duration
	}{
		{"a 429's Retry-After", func(rec *fakeserver.Recorder, c *upstream.Caller) {
			rec.FailNext("op", 1, http.StatusTooManyRequests) // Retry-After: 1
		}, time.Second},
		{"a 2xx whose headers say the quota is spent", func(rec *fakeserver.Recorder, c *upstream.Caller) {
			rec.SetHeader("X-Quota", "spent")
			c.RateLimitReset = func(h http.Header) time.Duration {
				if h.Get("X-Quota") == "spent" {
					return 2 * time.Second
				}
				return 0
			}
		}, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, c := server(t)
			c.Policy.Retry = nil
			clk := newClock()
			l := limited(t, c, 100, clk)
			tt.setup(rec, c)
			ctx := context.Background()
			_ = c.Do(ctx, "Op", http.MethodGet, "/", nil, nil)
			rec.SetHeader("X-Quota", "")
			err := c.Do(ctx, "Op", http.MethodGet, "/", nil, nil)
			var ue *upstream.Error
			if !errors.Is(err, upstream.ErrThrottled) || !errors.As(err, &ue) || ue.RetryAfter != tt.hold || rec.Calls("op") != 1 {
				t.Fatalf("during the hold: err = %v, calls = %d; want refused for %v without a call", err, rec.Calls("op"), tt.hold)
			}
			clk.Advance(tt.hold)
			if err := c.Do(ctx, "Op", http.MethodGet, "/", nil, nil); err != nil || rec.Calls("op") != 2 {
				t.Fatalf("after the hold: err = %v, calls = %d", err, rec.Calls("op"))
			}
			if s := l.Stats(); s.Holds != 1 || s.Held != 1 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

// TestRetryAfterA429WaitsOutItsHold: the retry's wait is the hold's, so the retry goes out
// (on the real clock: a second).
func TestRetryAfterA429WaitsOutItsHold(t *testing.T) {
	rec, c := server(t)
	limited(t, c, 100, nil)
	rec.FailNext("op", 1, http.StatusTooManyRequests) // Retry-After: 1
	if err := c.Do(context.Background(), "Op", http.MethodGet, "/", nil, nil); err != nil || rec.Calls("op") != 2 {
		t.Fatalf("err = %v, calls = %d; want the retry made once the hold ended", err, rec.Calls("op"))
	}
}
