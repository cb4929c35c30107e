package cache_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/invitegw/invitegw/cache"
	"github.com/invitegw/invitegw/cache/redistest"
)

// TestPeek: Peek answers exactly when a warm Load would answer from what this instance holds
// decoded and fresh, with the very values Load returned; in every other case it answers
// nothing and leaves the work (fetch, refresh, stale copy) to Load.
func TestPeek(t *testing.T) {
	ctx := context.Background()
	keys := []string{"a", "b"}
	stores := []struct {
		name string
		new  func(t *testing.T, clock *fakeClock) (cache.Store, func())
	}{
		{"memory", func(_ *testing.T, clock *fakeClock) (cache.Store, func()) { return cache.NewMemory(clock.Now), nil }},
		{"redis", func(t *testing.T, _ *fakeClock) (cache.Store, func()) {
			srv := redistest.Start(t)
			return cache.NewRedis(redisClient(t, srv)), srv.Stop
		}},
	}
	cases := []struct {
		name string
		// after is what happens once c has loaded keys (up counts the fetches); other is a
		// second instance on the same store.
		after func(t *testing.T, c, other *cache.Cache, clock *fakeClock, up *counter, stop func())
		held  bool
		// stops names a case that stops the store: only Redis can.
		stops bool
	}{
		{"held and fresh", func(*testing.T, *cache.Cache, *cache.Cache, *fakeClock, *counter, func()) {}, true, false},
		{"one key invalidated", func(_ *testing.T, c, _ *cache.Cache, _ *fakeClock, _ *counter, _ func()) {
			c.Invalidate(ctx, []string{kind.Key("b")}, nil, time.Minute)
		}, false, false},
		{"past its freshness, within stale-while-revalidate", func(_ *testing.T, _, _ *cache.Cache, clock *fakeClock, _ *counter, _ func()) {
			clock.Advance(kind.TTL)
		}, false, false},
		{"rewritten by another instance", func(t *testing.T, _, other *cache.Cache, _ *fakeClock, up *counter, _ func()) {
			other.Invalidate(ctx, []string{kind.Key("a")}, nil, time.Minute)
			if r := cache.Load(ctx, other, kind, []string{"a"}, up.fetch)[0]; r.Err != nil || r.Value[0] != "a #2" {
				t.Fatalf("the other instance loaded %+v, want a #2", r)
			}
		}, false, false},
		{"the store fails", func(_ *testing.T, _, _ *cache.Cache, _ *fakeClock, _ *counter, stop func()) { stop() }, false, true},
	}
	for _, st := range stores {
		for _, tc := range cases {
			if tc.stops && st.name != "redis" {
				continue
			}
			t.Run(st.name+"/"+tc.name, func(t *testing.T) {
				clock := newClock()
				store, stop := st.new(t, clock)
				o := cache.Options{Now: clock.Now, Logger: slog.New(slog.DiscardHandler), StaleWhileRevalidate: time.Minute}
				c, other := cache.New(store, o), cache.New(store, o)
				if _, _, ok := cache.Peek(ctx, c, kind, keys); ok {
					t.Fatal("Peek answered before anything was stored")
				}
				up := &counter{numbered: true}
				loaded := cache.Load(ctx, c, kind, keys, up.fetch)
				tc.after(t, c, other, clock, up, stop)
				calls, before := up.total(), c.Stats()

				vals, until, ok := cache.Peek(ctx, c, kind, keys)
				if ok != tc.held {
					t.Fatalf("Peek ok = %v, want %v", ok, tc.held)
				}
				if up.total() != calls {
					t.Fatalf("Peek fetched: %d upstream calls, want %d", up.total(), calls)
				}
				after := c.Stats()
				if after.Revalidations != before.Revalidations || after.Misses != before.Misses {
					t.Fatalf("Peek started work: stats %+v, then %+v", before, after)
				}
				if !ok {
					if vals != nil || after.Hits != before.Hits {
						t.Fatalf("Peek answered %v (hits %d -> %d) though it did not hold every key", vals, before.Hits, after.Hits)
					}
					return
				}
				for i, r := range loaded {
					// The very value Load returned, not an equal copy.
					if len(vals[i]) != 1 || &vals[i][0] != &r.Value[0] {
						t.Fatalf("Peek answered %v for %s, want Load's %v", vals[i], keys[i], r.Value)
					}
				}
				if want := clock.Now().Add(kind.TTL).Truncate(time.Millisecond); !until.Equal(want) {
					t.Fatalf("fresh until %v, want %v", until, want)
				}
				if after.Hits != before.Hits+int64(len(keys)) {
					t.Fatalf("hits %d -> %d, want %d more", before.Hits, after.Hits, len(keys))
				}
			})
		}
	}
}
