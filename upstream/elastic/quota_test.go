package elastic

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/invitegw/invitegw/upstream"
	"github.com/invitegw/invitegw/upstream/upstreamtest"
)

func TestRateLimitReset(t *testing.T) {
	tests := []struct {
		name                string
		remaining, interval string
		want                time.Duration
	}{
		{"spent, a Go duration", "0", "60s", time.Minute},
		{"spent, another Go duration", "0", "1m30s", 90 * time.Second},
		{"spent, whole seconds", "0", "60", time.Minute},
		{"spent, padded", " 0 ", " 60s ", time.Minute},
		{"calls left", "3", "60s", 0},
		{"no headers", "", "", 0},
		{"spent, no interval", "0", "", 0},
		{"spent, an interval in no known format", "0", "one minute", 0},
		{"spent, a negative interval", "0", "-5s", 0},
		{"spent, a huge interval is capped", "0", "9300000000", upstream.MaxRetryAfter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.remaining != "" {
				h.Set("X-Ratelimit-Remaining", tt.remaining)
			}
			if tt.interval != "" {
				h.Set("X-Ratelimit-Interval", tt.interval)
			}
			if got := rateLimitReset(h); got != tt.want {
				t.Errorf("rateLimitReset = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSpentQuotaHoldsCalls: an answer saying no calls are left holds the next ones for the
// window (the fake's is 60s), instead of spending them on 429s.
func TestSpentQuotaHoldsCalls(t *testing.T) {
	clk := upstreamtest.NewClock(created)
	pol, lim := upstreamtest.Limited(t, provider, 100, clk)
	fake, c := newFake(t, Options{Policy: pol})
	ctx := context.Background()
	fake.SetRateLimitRemaining(0)
	if _, err := c.ListInvitations(ctx, testOrg); err != nil {
		t.Fatal(err)
	}
	_, err := c.GetOrganization(ctx, testOrg)
	var ue *upstream.Error
	if !errors.Is(err, upstream.ErrThrottled) || !errors.As(err, &ue) || ue.RetryAfter != time.Minute {
		t.Fatalf("in the spent window: err = %v, want the call held for the window's 60s", err)
	}
	if n := fake.TotalCalls(); n != 1 {
		t.Fatalf("calls = %d, want 1: the held call must not reach Elastic", n)
	}
	fake.SetRateLimitRemaining(999)
	clk.Advance(time.Minute)
	if _, err := c.GetOrganization(ctx, testOrg); err != nil || fake.TotalCalls() != 2 {
		t.Fatalf("after the window: err = %v, calls = %d", err, fake.TotalCalls())
	}
	if s := lim.Stats(); s.Holds != 1 || s.Held != 1 {
		t.Errorf("limiter stats %+v", s)
	}
}
