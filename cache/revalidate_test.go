package cache_test

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/invitegw/invitegw/cache"
	"github.com/invitegw/invitegw/cache/redistest"
)

// swr is the stale-while-revalidate window of these tests, after kind's 30s TTL.
const swr = time.Minute

// held is a fetch function the test holds: each call says so on started, then answers once
// the test sends on release (nil: "<value> of <key>", else that error).
type held struct {
	value   string
	started chan string
	release chan error
	calls   atomic.Int64
}

func newHeld(value string) *held {
	return &held{value: value, started: make(chan string, 100), release: make(chan error)}
}

func (h *held) fetch(ctx context.Context, k string) ([]string, error) {
	h.calls.Add(1)
	h.started <- k
	select {
	case err := <-h.release:
		if err != nil {
			return nil, err
		}
		return []string{h.value + " of " + k}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// receive is what ch gives next. What the tests wait for comes at once; the bound only turns
// a hang into a failure that says what never came.
func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s after 10s", what)
		panic("unreachable")
	}
}

// newSWR is a cache over s with the window on, and the keys whose background refresh has
// ended, in order.
func newSWR(s cache.Store, clock *fakeClock) (*cache.Cache, <-chan string) {
	c := cache.New(s, cache.Options{Now: clock.Now, StaleWhileRevalidate: swr, Logger: slog.New(slog.DiscardHandler)})
	ended := make(chan string, 100)
	cache.OnRefreshed(c, func(key string) { ended <- key })
	return c, ended
}

// seed stores "value of k" under k, fetched now, and makes it expire within the window; the
// counter counts that fetch.
func seed(t *testing.T, c *cache.Cache, clock *fakeClock) *counter {
	t.Helper()
	var f counter
	if r := cache.Load(context.Background(), c, kind, []string{"k"}, f.fetch); r[0].Err != nil {
		t.Fatal(r[0].Err)
	}
	clock.Advance(kind.TTL + time.Second)
	return &f
}

// expiredInEachStore runs f against each store, with a cache whose window is on (see newSWR)
// and a seeded entry.
func expiredInEachStore(t *testing.T, f func(t *testing.T, s cache.Store, c *cache.Cache, clock *fakeClock, ended <-chan string, first *counter)) {
	clock := newClock()
	stores(t, clock, func(t *testing.T, s cache.Store) {
		c, ended := newSWR(s, clock)
		f(t, s, c, clock, ended, seed(t, c, clock))
	})
}

// wantRevalidating fails unless r is the seeded copy, served while it is refreshed.
func wantRevalidating(t *testing.T, r cache.Result[[]string]) {
	t.Helper()
	if r.Err != nil || r.Value[0] != "value of k" || r.Stale || !r.Revalidating || r.Age != kind.TTL+time.Second {
		t.Fatalf("answer = %+v, want the expired copy, 31s old, revalidating", r)
	}
	if _, fresh := r.Fresh(); fresh {
		t.Fatal("a copy served while it is refreshed reports itself fresh")
	}
}

// wantFresh fails unless r is value, fresh.
func wantFresh(t *testing.T, r cache.Result[[]string], value string) {
	t.Helper()
	if _, fresh := r.Fresh(); r.Err != nil || r.Value[0] != value || r.Revalidating || !fresh {
		t.Fatalf("answer = %+v, want %q, fresh", r, value)
	}
}

// TestStaleWhileRevalidateAnswersAtOnce: an entry past its freshness but within the window is
// every caller's answer while the one refresh they started is held upstream, and the
// refreshed value is every caller's afterwards.
func TestStaleWhileRevalidateAnswersAtOnce(t *testing.T) {
	expiredInEachStore(t, func(t *testing.T, s cache.Store, c *cache.Cache, clock *fakeClock, ended <-chan string, first *counter) {
		ctx := context.Background()
		h := newHeld("new value")
		answered := make(chan cache.Result[[]string], 50)
		for range 50 {
			go func() { answered <- cache.Load(ctx, c, kind, []string{"k"}, h.fetch)[0] }()
		}
		// The refresh is held until all 50 have their answer: none of them waited for it.
		for range 50 {
			wantRevalidating(t, receive(t, answered, "answer while the refresh is held"))
		}
		receive(t, h.started, "refresh")
		h.release <- nil
		receive(t, ended, "end of the refresh")
		if n := h.calls.Load(); n != 1 || first.n("k") != 1 {
			t.Fatalf("50 callers started %d refreshes, want 1", n)
		}
		r := cache.Load(ctx, c, kind, []string{"k"}, h.fetch)[0]
		wantFresh(t, r, "new value of k")
		if !r.FreshUntil.Equal(clock.Now().Add(kind.TTL)) {
			t.Fatalf("refreshed value fresh until %v, want the TTL from the refresh", r.FreshUntil)
		}
		want := cache.Stats{Hits: 51, Misses: 1, Revalidating: 50, Revalidations: 1}
		if st := c.Stats(); st != want {
			t.Fatalf("stats = %+v, want %+v", st, want)
		}
		if got, _ := s.MGet(ctx, []string{cache.LockKey(kind.Key("k"))}); got[0] != nil {
			t.Fatalf("the refresh lock outlived the refresh: %q", got[0])
		}
	})
}

// TestOneRefreshAcrossInstances: two instances sharing a Redis both answer with the expired
// copy, but only the one that took the key's lock calls the upstream; once its refresh has
// landed, both answer with the new value.
func TestOneRefreshAcrossInstances(t *testing.T) {
	srv := redistest.Start(t)
	clock := newClock()
	a, endedA := newSWR(cache.NewRedis(redisClient(t, srv)), clock)
	b, endedB := newSWR(cache.NewRedis(redisClient(t, srv)), clock)
	ctx := context.Background()
	first := seed(t, a, clock)

	h := newHeld("new value")
	wantRevalidating(t, cache.Load(ctx, a, kind, []string{"k"}, h.fetch)[0])
	receive(t, h.started, "a's refresh") // a holds the lock from before its upstream call
	wantRevalidating(t, cache.Load(ctx, b, kind, []string{"k"}, h.fetch)[0])
	receive(t, endedB, "b's attempt")
	if st := b.Stats(); st.RevalidationsLocked != 1 || st.Revalidations != 0 {
		t.Fatalf("b's stats = %+v, want one refresh left to the lock's holder", st)
	}
	// b goes on answering with its copy, and does not ask the store again at once.
	wantRevalidating(t, cache.Load(ctx, b, kind, []string{"k"}, h.fetch)[0])
	if st := b.Stats(); st.RevalidationsLocked != 1 {
		t.Fatalf("b's stats = %+v: it tried again at once", st)
	}

	h.release <- nil
	receive(t, endedA, "a's refresh")
	if n := h.calls.Load(); n != 1 || first.n("k") != 1 {
		t.Fatalf("the two instances refreshed %d times, want 1", n)
	}
	for _, c := range []*cache.Cache{a, b} {
		wantFresh(t, cache.Load(ctx, c, kind, []string{"k"}, h.fetch)[0], "new value of k")
	}
	if st := a.Stats(); st.Revalidating != 1 || st.Revalidations != 1 || st.RevalidationsLocked != 0 {
		t.Fatalf("a's stats = %+v, want one copy served and its one refresh", st)
	}
	if st := b.Stats(); st.Revalidating != 2 || st.Revalidations != 0 {
		t.Fatalf("b's stats = %+v, want two copies served and no refresh", st)
	}
	if n := srv.Client().Exists(ctx, cache.LockKey(kind.Key("k"))).Val(); n != 0 {
		t.Fatal("the lock outlived the refresh")
	}
}

// TestCallersWaitWithoutACopyInTheWindow: past the window, or with it off, the expired copy is
// not the answer (though kept for StaleGrace): callers wait for the upstream, as on a miss.
func TestCallersWaitWithoutACopyInTheWindow(t *testing.T) {
	tests := []struct {
		name       string
		swr, after time.Duration
	}{
		{"past the window", swr, kind.TTL + swr},
		{"window off", 0, kind.TTL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newClock()
			stores(t, clock, func(t *testing.T, s cache.Store) {
				c := cache.New(s, cache.Options{Now: clock.Now, StaleWhileRevalidate: tt.swr, StaleGrace: 10 * time.Minute})
				ctx := context.Background()
				var first counter
				cache.Load(ctx, c, kind, []string{"k"}, first.fetch)
				clock.Advance(tt.after)

				h := newHeld("new value")
				answered := make(chan cache.Result[[]string], 1)
				go func() { answered <- cache.Load(ctx, c, kind, []string{"k"}, h.fetch)[0] }()
				receive(t, h.started, "fetch")
				select {
				case r := <-answered:
					t.Fatalf("answered %+v while the upstream call was held", r)
				default:
				}
				h.release <- nil
				wantFresh(t, receive(t, answered, "answer"), "new value of k")
				if st := c.Stats(); st.Revalidating != 0 || st.Revalidations != 0 || st.Misses != 2 || h.calls.Load() != 1 {
					t.Fatalf("stats = %+v after %d fetches, want a plain miss", st, h.calls.Load())
				}
			})
		})
	}
}

// TestInvalidatedEntryIsNotServedWhileRevalidating: a write deletes the entry, so the next
// caller waits for data from after the write instead of getting the copy from before it.
func TestInvalidatedEntryIsNotServedWhileRevalidating(t *testing.T) {
	expiredInEachStore(t, func(t *testing.T, _ cache.Store, c *cache.Cache, _ *fakeClock, _ <-chan string, _ *counter) {
		ctx := context.Background()
		c.Invalidate(ctx, []string{kind.Key("k")}, nil, kind.TTL)

		h := newHeld("new value")
		answered := make(chan cache.Result[[]string], 1)
		go func() { answered <- cache.Load(ctx, c, kind, []string{"k"}, h.fetch)[0] }()
		receive(t, h.started, "fetch")
		h.release <- nil
		wantFresh(t, receive(t, answered, "answer"), "new value of k")
		if st := c.Stats(); st.Revalidating != 0 || h.calls.Load() != 1 {
			t.Fatalf("stats = %+v after %d fetches, want a plain miss", st, h.calls.Load())
		}
	})
}

// TestRefreshRunningDuringAWriteStoresNothing: a refresh that was fetching when a write
// invalidated its key may hold data from before the write: it is not stored, whether the
// write went through this instance or another sharing the store, and the next caller fetches.
func TestRefreshRunningDuringAWriteStoresNothing(t *testing.T) {
	// check starts a refresh on refresher, invalidates the key through writer while the
	// refresh is held, then lets the refresh end.
	check := func(t *testing.T, clock *fakeClock, refresher, writer *cache.Cache, ended <-chan string) {
		t.Helper()
		ctx := context.Background()
		seed(t, refresher, clock)
		h := newHeld("new value")
		wantRevalidating(t, cache.Load(ctx, refresher, kind, []string{"k"}, h.fetch)[0])
		receive(t, h.started, "refresh")
		writer.Invalidate(ctx, []string{kind.Key("k")}, nil, kind.TTL)
		h.release <- nil
		receive(t, ended, "end of the refresh")

		var after counter
		for _, c := range []*cache.Cache{writer, refresher} {
			wantFresh(t, cache.Load(ctx, c, kind, []string{"k"}, after.fetch)[0], "value of k")
		}
		if after.n("k") != 1 {
			t.Fatalf("after the write: %d fetches, want 1 (the refresh stored nothing; then a hit)", after.n("k"))
		}
	}
	t.Run("same instance", func(t *testing.T) {
		clock := newClock()
		stores(t, clock, func(t *testing.T, s cache.Store) {
			c, ended := newSWR(s, clock)
			check(t, clock, c, c, ended)
		})
	})
	t.Run("another instance", func(t *testing.T) {
		srv := redistest.Start(t)
		clock := newClock()
		a, ended := newSWR(cache.NewRedis(redisClient(t, srv)), clock)
		b, _ := newSWR(cache.NewRedis(redisClient(t, srv)), clock)
		check(t, clock, a, b, ended)
	})
}

// TestFailedRefreshKeepsServingTheCopy: a refresh whose upstream call fails leaves the copy
// the answer (no warning: within the window nothing is late yet), and the key is tried again
// after RevalidateRetry, not on every read.
func TestFailedRefreshKeepsServingTheCopy(t *testing.T) {
	expiredInEachStore(t, func(t *testing.T, _ cache.Store, c *cache.Cache, clock *fakeClock, ended <-chan string, _ *counter) {
		ctx := context.Background()
		h := newHeld("new value")

		wantRevalidating(t, cache.Load(ctx, c, kind, []string{"k"}, h.fetch)[0])
		receive(t, h.started, "refresh")
		h.release <- errors.New("upstream down")
		receive(t, ended, "end of the refresh")
		wantRevalidating(t, cache.Load(ctx, c, kind, []string{"k"}, h.fetch)[0])
		if st := c.Stats(); h.calls.Load() != 1 || st.RevalidationErrors != 1 || st.Stale != 0 {
			t.Fatalf("stats = %+v after %d refreshes, want one failed refresh and no second yet", st, h.calls.Load())
		}

		clock.Advance(cache.RevalidateRetry)
		r := cache.Load(ctx, c, kind, []string{"k"}, h.fetch)[0]
		if !r.Revalidating || r.Value[0] != "value of k" {
			t.Fatalf("answer = %+v, want the copy", r)
		}
		receive(t, h.started, "second refresh")
		h.release <- nil
		receive(t, ended, "end of the second refresh")
		wantFresh(t, cache.Load(ctx, c, kind, []string{"k"}, h.fetch)[0], "new value of k")
		if n := h.calls.Load(); n != 2 {
			t.Fatalf("%d refreshes, want 2", n)
		}
	})
}

// TestWindowDoesNotExtendStaleGrace: entries are kept for the window, but past it a failing
// upstream gets its error when StaleGrace keeps no copy (Redis still holds the entry here: its
// TTL runs on the real clock).
func TestWindowDoesNotExtendStaleGrace(t *testing.T) {
	clock := newClock()
	stores(t, clock, func(t *testing.T, s cache.Store) {
		c := cache.New(s, cache.Options{Now: clock.Now, StaleWhileRevalidate: swr, StaleGrace: 0})
		ctx := context.Background()
		var first counter
		cache.Load(ctx, c, kind, []string{"k"}, first.fetch)
		clock.Advance(kind.TTL + swr)
		boom := errors.New("upstream down")
		failing := counter{err: boom}
		if r := cache.Load(ctx, c, kind, []string{"k"}, failing.fetch)[0]; !errors.Is(r.Err, boom) || r.Stale {
			t.Fatalf("answer = %+v, want the upstream's error", r)
		}
	})
}

// TestRedisLock: the refresh lock is held by one token at a time, writes under it only while
// it is held, and is released only by its holder; on a single node and on a Cluster (where
// the lock, the entry and its stamp are in the slot of the entry's hash tag).
func TestRedisLock(t *testing.T) {
	check := func(t *testing.T, client redis.UniversalClient) {
		ctx := context.Background()
		s := cache.NewRedis(client)
		key := kind.Key("lock-test")
		lock := cache.LockKey(key)
		if ok, err := s.Lock(ctx, lock, "t1", time.Minute); !ok || err != nil {
			t.Fatalf("Lock on a free lock = %v, %v", ok, err)
		}
		if ttl := client.PTTL(ctx, lock).Val(); ttl <= 50*time.Second || ttl > time.Minute {
			t.Fatalf("lock PTTL = %v, want about a minute", ttl)
		}
		if ok, err := s.Lock(ctx, lock, "t2", time.Minute); ok || err != nil {
			t.Fatalf("Lock on a held lock = %v, %v", ok, err)
		}
		if ok, err := s.SetLocked(ctx, lock, "t2", cache.Entry{Key: key, Value: []byte("v2"), TTL: time.Minute}); ok || err != nil {
			t.Fatalf("SetLocked by a non-holder = %v, %v", ok, err)
		}
		if n := client.Exists(ctx, key).Val(); n != 0 {
			t.Fatal("a non-holder wrote")
		}
		if ok, err := s.SetLocked(ctx, lock, "t1", cache.Entry{Key: key, Value: []byte("v1"), TTL: time.Minute, Stamp: "s1"}); !ok || err != nil {
			t.Fatalf("SetLocked by the holder = %v, %v", ok, err)
		}
		for k, want := range map[string]string{key: "v1", cache.StampKey(key): "s1"} {
			if v := client.Get(ctx, k).Val(); v != want {
				t.Fatalf("%s = %q, want %q", k, v, want)
			}
			if ttl := client.PTTL(ctx, k).Val(); ttl <= 50*time.Second || ttl > time.Minute {
				t.Fatalf("%s PTTL = %v, want about a minute", k, ttl)
			}
		}
		if err := s.Unlock(ctx, lock, "t2"); err != nil || client.Get(ctx, lock).Val() != "t1" {
			t.Fatalf("a non-holder released the lock (err %v)", err)
		}
		if err := s.Unlock(ctx, lock, "t1"); err != nil || client.Exists(ctx, lock).Val() != 0 {
			t.Fatalf("the holder did not release the lock (err %v)", err)
		}
		if ok, _ := s.Lock(ctx, lock, "t3", time.Minute); !ok {
			t.Fatal("a released lock cannot be taken")
		}
		_ = s.Del(ctx, cache.StampKey(key), key, lock) // as Invalidate does
		if ok, err := s.SetLocked(ctx, lock, "t3", cache.Entry{Key: key, Value: []byte("v3"), TTL: time.Minute, Stamp: "s3"}); ok || err != nil ||
			client.Exists(ctx, key, cache.StampKey(key)).Val() != 0 {
			t.Fatalf("SetLocked under a deleted lock = %v, %v", ok, err)
		}
	}
	t.Run("single node", func(t *testing.T) { check(t, redisClient(t, redistest.Start(t))) })
	t.Run("cluster", func(t *testing.T) {
		_, client := startCluster(t)
		check(t, client)
	})
}

// TestWaitForRefresh: a caller marked by WaitForRefresh starts the refresh like anyone, but is
// answered with what it stored, fresh, where an unmarked caller is answered with the copy at
// once; a copy whose refresh another instance holds the lock for is still the marked caller's
// answer (it cannot wait for a refresh it does not run).
func TestWaitForRefresh(t *testing.T) {
	expiredInEachStore(t, func(t *testing.T, s cache.Store, c *cache.Cache, clock *fakeClock, ended <-chan string, first *counter) {
		ctx := context.Background()
		h := newHeld("new value")
		answered := make(chan cache.Result[[]string], 2)
		go func() { answered <- cache.Load(cache.WaitForRefresh(ctx), c, kind, []string{"k"}, h.fetch)[0] }()
		receive(t, h.started, "refresh")
		wantRevalidating(t, cache.Load(ctx, c, kind, []string{"k"}, h.fetch)[0]) // unmarked: at once
		select {
		case r := <-answered:
			t.Fatalf("the marked caller was answered before the refresh ended: %+v", r)
		default:
		}
		h.release <- nil
		wantFresh(t, receive(t, answered, "the marked caller's answer"), "new value of k")
		receive(t, ended, "end of the refresh")
		if n := h.calls.Load(); n != 1 || first.n("k") != 1 {
			t.Fatalf("%d refreshes, want 1", n)
		}
	})
	t.Run("another instance refreshing", func(t *testing.T) {
		srv := redistest.Start(t)
		clock := newClock()
		a, aEnded := newSWR(cache.NewRedis(redisClient(t, srv)), clock)
		b, bEnded := newSWR(cache.NewRedis(redisClient(t, srv)), clock)
		seed(t, a, clock)
		ctx := context.Background()
		h := newHeld("new value")
		go cache.Load(ctx, a, kind, []string{"k"}, h.fetch) // a takes the lock and is held upstream
		receive(t, h.started, "a's refresh")
		r := cache.Load(cache.WaitForRefresh(ctx), b, kind, []string{"k"}, h.fetch)[0]
		wantRevalidating(t, r)
		receive(t, bEnded, "b's refresh, left to a")
		if st := b.Stats(); st.RevalidationsLocked != 1 || h.calls.Load() != 1 {
			t.Fatalf("b's stats = %+v after %d upstream calls: want its refresh left to a", st, h.calls.Load())
		}
		h.release <- nil
		receive(t, aEnded, "a's refresh")
	})
}
