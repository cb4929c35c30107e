package ratelimit_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/invitegw/invitegw/cache"
	"github.com/invitegw/invitegw/cache/redistest"
	"github.com/invitegw/invitegw/ratelimit"
	"github.com/invitegw/invitegw/upstream"
	"github.com/invitegw/invitegw/upstream/upstreamtest"
)

func newClock() *upstreamtest.Clock {
	return upstreamtest.NewClock(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
}

// perHour is a rate at which no token comes back while a test runs, on any clock: the Redis
// budget runs on Redis's, which tests cannot move.
const perHour = 1.0 / 3600

var acme = upstream.Tenant{Provider: "redpanda", BaseURL: "https://api.redpanda.test", CredentialID: "cred-acme"}

func newLimiter(t *testing.T, o ratelimit.Options) *ratelimit.Limiter {
	t.Helper()
	if o.Provider == "" {
		o.Provider = "redpanda"
	}
	l, err := ratelimit.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// allowed is how many of n calls to tenant, made in turn over the limiters, they allowed.
func allowed(t *testing.T, n int, tenant upstream.Tenant, ls ...*ratelimit.Limiter) int {
	t.Helper()
	got := 0
	for i := range n {
		if ok, _ := ls[i%len(ls)].Allow(context.Background(), tenant); ok {
			got++
		}
	}
	return got
}

func TestTwoInstancesShareOneBudgetThroughRedis(t *testing.T) {
	srv := redistest.Start(t)
	a := newLimiter(t, ratelimit.Options{Rate: perHour, Burst: 5, Redis: srv.Client()})
	b := newLimiter(t, ratelimit.Options{Rate: perHour, Burst: 5, Redis: srv.Client()})
	if got := allowed(t, 20, acme, a, b); got != 5 {
		t.Fatalf("two instances allowed %d of 20 calls, want the shared burst of 5", got)
	}
	if s := a.Stats().Throttled + b.Stats().Throttled; s != 15 {
		t.Errorf("throttled = %d, want 15", s)
	}
	// Another credential has a budget of its own.
	other := acme
	other.CredentialID = "cred-other"
	if got := allowed(t, 10, other, a, b); got != 5 {
		t.Fatalf("another tenant allowed %d of 10, want its own burst of 5", got)
	}
	// The budget lives under the gateway's prefix, per provider and tenant, not the library's.
	keys, err := srv.Client().Keys(context.Background(), "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Fatalf("keys %q, want one per tenant", keys)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, cache.Prefix+"rate:redpanda:") || strings.Contains(k, "cred-") {
			t.Errorf("key %q: want %srate:redpanda:<tenant hash>", k, cache.Prefix)
		}
	}
}

func TestInMemoryEachInstanceKeepsItsBudget(t *testing.T) {
	clk := newClock()
	a := newLimiter(t, ratelimit.Options{Rate: 2, Burst: 3, Now: clk.Now})
	b := newLimiter(t, ratelimit.Options{Rate: 2, Burst: 3, Now: clk.Now})
	if got := allowed(t, 10, acme, a); got != 3 {
		t.Fatalf("allowed %d of 10, want the burst of 3", got)
	}
	if got := allowed(t, 10, acme, b); got != 3 {
		t.Fatalf("the other instance allowed %d of 10, want its own burst of 3", got)
	}
	ok, wait := a.Allow(context.Background(), acme)
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("over budget: ok %v, wait %v; want a refusal saying 500ms (2 a second)", ok, wait)
	}
	clk.Advance(500 * time.Millisecond)
	if got := allowed(t, 10, acme, a); got != 1 {
		t.Fatalf("half a second later %d allowed, want the 1 token it refilled", got)
	}
	if s := a.Stats(); s.Throttled != 7+1+9 || s.Held != 0 || s.RedisErrors != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestHold(t *testing.T) {
	for _, shared := range []bool{false, true} {
		name := map[bool]string{false: "in memory", true: "through Redis"}[shared]
		t.Run(name, func(t *testing.T) {
			clk := newClock()
			o := ratelimit.Options{Rate: 100, Burst: 100, Now: clk.Now}
			if shared {
				o.Redis = redistest.Start(t).Client()
			}
			a, b := newLimiter(t, o), newLimiter(t, o)
			ctx := context.Background()
			a.Hold(ctx, acme, 2*time.Second)
			want := 1 // b, in another process, learns of the hold only through Redis
			if shared {
				want = 0
			}
			if got := allowed(t, 1, acme, a); got != 0 {
				t.Fatal("a call went out during the hold")
			}
			if got := allowed(t, 1, acme, b); got != want {
				t.Fatalf("the other instance allowed %d calls during the hold, want %d", got, want)
			}
			if ok, wait := a.Allow(ctx, acme); ok || wait != 2*time.Second {
				t.Fatalf("during the hold: ok %v, wait %v; want refused for 2s", ok, wait)
			}
			a.Hold(ctx, acme, time.Second) // never shortens the hold in place
			clk.Advance(1500 * time.Millisecond)
			if got := allowed(t, 2, acme, a, b); got != want {
				t.Fatalf("1.5s into a 2s hold, %d of 2 calls allowed, want %d", got, want)
			}
			clk.Advance(500 * time.Millisecond)
			if got := allowed(t, 4, acme, a, b); got != 4 {
				t.Fatalf("after the hold %d of 4 calls allowed, want all", got)
			}
			if s := a.Stats(); s.Holds != 2 || s.Held != 3 || s.Throttled != 0 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

func TestHoldIsCapped(t *testing.T) {
	clk := newClock()
	l := newLimiter(t, ratelimit.Options{Rate: 1, Burst: 1, Now: clk.Now})
	l.Hold(context.Background(), acme, 24*time.Hour)
	if _, wait := l.Allow(context.Background(), acme); wait != ratelimit.MaxHold {
		t.Fatalf("wait %v, want the hold cut to %v", wait, ratelimit.MaxHold)
	}
}

func TestRedisDownFallsBackToTheLocalBudget(t *testing.T) {
	srv := redistest.Start(t)
	clk := newClock()
	log := &bytes.Buffer{} // written by this goroutine alone: the limiter logs as it is called
	l := newLimiter(t, ratelimit.Options{Rate: perHour, Burst: 3, Redis: srv.Client(), Now: clk.Now,
		Logger: slog.New(slog.NewJSONHandler(log, nil))})
	if got := allowed(t, 2, acme, l); got != 2 {
		t.Fatalf("allowed %d of the shared budget's first 2", got)
	}

	srv.Stop()
	if got := allowed(t, 10, acme, l); got != 3 {
		t.Fatalf("with Redis down, allowed %d of 10, want the local burst of 3", got)
	}
	// One failed Redis call: the local budget answers alone for a second after it.
	if s := l.Stats(); s.RedisErrors != 1 {
		t.Fatalf("redis errors %d, want 1", s.RedisErrors)
	}
	clk.Advance(time.Second)
	l.Hold(context.Background(), acme, time.Millisecond) // a second failure, within the minute
	if s := l.Stats(); s.RedisErrors != 2 {
		t.Fatalf("redis errors %d, want 2", s.RedisErrors)
	}
	if n := strings.Count(log.String(), "redis failed"); n != 1 {
		t.Fatalf("logged %d Redis failures, want 1 a minute:\n%s", n, log.String())
	}

	// Back (empty: it kept nothing), and asked again once the second is over.
	srv.Restart()
	clk.Advance(time.Second)
	if got := allowed(t, 10, acme, l); got != 3 {
		t.Fatalf("with Redis back, allowed %d of 10, want the shared burst of 3", got)
	}
	if s := l.Stats(); s.RedisErrors != 2 {
		t.Fatalf("redis errors %d after it came back, want still 2", s.RedisErrors)
	}
}

func TestNewRejectsNonsense(t *testing.T) {
	for _, o := range []ratelimit.Options{
		{Rate: 0, Burst: 1},
		{Rate: -1, Burst: 1},
		{Rate: 1.0 / 10000, Burst: 1}, // under one call an hour
		{Rate: 1, Burst: 0},
	} {
		if _, err := ratelimit.New(o); err == nil {
			t.Errorf("New(%+v) accepted it", o)
		}
	}
}
