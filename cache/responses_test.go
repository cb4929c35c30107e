package cache_test

import (
	"context"
	"testing"
	"time"

	"github.com/invitegw/invitegw/cache"
)

func TestResponses(t *testing.T) {
	clock := newClock()
	stores(t, clock, func(t *testing.T, s cache.Store) {
		c := cache.New(s, cache.Options{Now: clock.Now, StaleWhileRevalidate: 4 * time.Second})
		ctx := context.Background()
		a, b := c.Responses("scope-a"), c.Responses("scope-b")
		get := func(r *cache.Responses, req string) string {
			t.Helper()
			k, _, ok := r.Get(ctx, req)
			switch {
			case !ok:
				return "miss"
			case k.Stale:
				return "stale " + string(k.Data)
			}
			return string(k.Data)
		}

		_, gen, ok := a.Get(ctx, "q1")
		if ok || gen != "" {
			t.Fatalf("empty store: ok=%v gen=%q, want a miss and no generation", ok, gen)
		}
		a.Put(ctx, "q1", gen, []byte(`{"x":1}`), clock.Now().Add(10*time.Second), time.Time{})
		if got := get(a, "q1"); got != `{"x":1}` {
			t.Fatalf("after Put: %s", got)
		}
		if got := get(b, "q1"); got != "miss" {
			t.Fatalf("another scope read %s", got)
		}

		// A write in the scope: what was kept is a miss, and an answer computed under the
		// old generation (a request that started before the write) is never served.
		_, oldGen, _ := a.Get(ctx, "q2")
		a.Invalidate(ctx)
		if got := get(a, "q1"); got != "miss" {
			t.Fatalf("after Invalidate: %s", got)
		}
		a.Put(ctx, "q2", oldGen, []byte(`{"old":true}`), clock.Now().Add(10*time.Second), time.Time{})
		if got := get(a, "q2"); got != "miss" {
			t.Fatalf("an answer from before the write was served: %s", got)
		}
		_, gen, _ = a.Get(ctx, "q1")
		if gen == "" {
			t.Fatal("no generation after Invalidate")
		}
		a.Put(ctx, "q1", gen, []byte(`{"x":2}`), clock.Now().Add(10*time.Second), time.Time{})
		if got := get(a, "q1"); got != `{"x":2}` {
			t.Fatalf("after Put under the new generation: %s", got)
		}

		// Fresh until the time given; then stale (served, to be rebuilt) for the data's
		// stale-while-revalidate window, or until a status in it changes, if sooner.
		clock.Advance(10 * time.Second)
		if got := get(a, "q1"); got != `stale {"x":2}` {
			t.Fatalf("past its freshness, within its window: %s", got)
		}
		clock.Advance(4 * time.Second)
		if got := get(a, "q1"); got != "miss" {
			t.Fatalf("past its window: %s", got)
		}
		a.Put(ctx, "q3", gen, []byte(`{}`), clock.Now(), time.Time{})
		if got := get(a, "q3"); got != "miss" {
			t.Fatalf("an answer stale when put was kept: %s", got)
		}
		a.Put(ctx, "q4", gen, []byte(`{"y":1}`), clock.Now().Add(time.Second), clock.Now().Add(2*time.Second))
		clock.Advance(time.Second)
		if got := get(a, "q4"); got != `stale {"y":1}` {
			t.Fatalf("before a status changes: %s", got)
		}
		clock.Advance(time.Second)
		if got := get(a, "q4"); got != "miss" {
			t.Fatalf("once a status has changed: %s", got)
		}
		a.Put(ctx, "q5", gen, []byte(`{"z":1}`), clock.Now().Add(time.Second), clock.Now().Add(time.Second))
		clock.Advance(time.Second)
		if got := get(a, "q5"); got != "miss" {
			t.Fatalf("a status changing as it stops being fresh: %s", got)
		}
		if st := c.ResponseStats(); st.Hits != 4 || st.Stale != 2 {
			t.Fatalf("stats = %+v, want 4 hits, 2 of them stale", st)
		}
	})
}

func TestResponsesGarbageIsAMiss(t *testing.T) {
	clock := newClock()
	s := cache.NewMemory(clock.Now)
	c := cache.New(s, cache.Options{Now: clock.Now})
	ctx := context.Background()
	r := c.Responses("s")
	r.Put(ctx, "q", "", []byte(`{"ok":1}`), clock.Now().Add(time.Minute), time.Time{})
	key := cache.Prefix + "resp:s:q"
	for _, v := range []string{"", "garbage", "r1\n{}", "r2 99999999999999\n{}", "r1 notanumber\n{}", "r1 1 2 3 4\n{}", "r1 99999999999999\n{}", "r2 99999999999999\n{}", "r2 1 x\n{}", "r2 1 99999999999999 g h\n{}"} {
		if err := s.SetMany(ctx, []cache.Entry{{Key: key, Value: []byte(v), TTL: time.Minute}}); err != nil {
			t.Fatal(err)
		}
		if k, _, ok := r.Get(ctx, "q"); ok {
			t.Errorf("value %q read as %s, want a miss", v, k.Data)
		}
	}
}
