package upstreamtest

import (
	"sync"
	"testing"
	"time"

	"github.com/invitegw/invitegw/ratelimit"
	"github.com/invitegw/invitegw/upstream"
)

// Clock is a clock a test moves by hand, for holds and in-memory budgets.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock that reads t until moved.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now reads the clock.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// Limited is a policy without retries whose calls keep to an in-memory budget of burst calls
// at once, refilling one a second on clk, and that budget, for its counters.
func Limited(t testing.TB, provider string, burst int, clk *Clock) (*upstream.Policy, *ratelimit.Limiter) {
	t.Helper()
	l, err := ratelimit.New(ratelimit.Options{Provider: provider, Rate: 1, Burst: burst, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &upstream.Policy{Limiter: l}, l
}
