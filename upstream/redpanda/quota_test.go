package redpanda

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/invitegw/invitegw/upstream"
	"github.com/invitegw/invitegw/upstream/redpanda/redpandafake"
	"github.com/invitegw/invitegw/upstream/upstreamtest"
)

// TestRateLimitHeaderHoldsCalls: an answer whose ratelimit header says remaining=0 holds the
// next calls until its reset, as Terraform's provider waits, instead of spending them on 429s.
func TestRateLimitHeaderHoldsCalls(t *testing.T) {
	for _, header := range []string{redpandafake.RateLimitHeader, "Grpc-Metadata-Ratelimit"} {
		t.Run(header, func(t *testing.T) {
			clk := upstreamtest.NewClock(created)
			pol, lim := upstreamtest.Limited(t, provider, 100, clk)
			fake, c, _ := newFake(t, redpandafake.Options{}, Options{Policy: pol})
			seedInvites(fake, 3)
			ctx := context.Background()
			fake.SetHeader(header, "limit=500, remaining=0, reset=2")
			if _, err := c.ListUserInvites(ctx); err != nil {
				t.Fatal(err)
			}
			fake.SetHeader(header, "limit=500, remaining=499, reset=60")
			_, err := c.ListUserInvites(ctx)
			var ue *upstream.Error
			if !errors.Is(err, upstream.ErrThrottled) || !errors.As(err, &ue) || ue.RetryAfter != 2*time.Second {
				t.Fatalf("before the reset: err = %v, want the call held for 2s", err)
			}
			if n := fake.Calls("ListUserInvites"); n != 1 {
				t.Fatalf("calls = %d, want 1: the held call must not reach Redpanda", n)
			}
			clk.Advance(2 * time.Second)
			for range 2 { // remaining=499 holds nothing
				if _, err := c.ListUserInvites(ctx); err != nil {
					t.Fatalf("after the reset: %v", err)
				}
			}
			if n := fake.Calls("ListUserInvites"); n != 3 {
				t.Fatalf("calls = %d, want 3", n)
			}
			if s := lim.Stats(); s.Holds != 1 || s.Held != 1 {
				t.Errorf("limiter stats %+v", s)
			}
		})
	}
}
