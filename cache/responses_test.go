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
		c := cache.New(s, cache.Options{Now: clock.Now})
		ctx := context.Background()
		a, b := c.Responses("scope-a"), c.Responses("scope-b")
		get := func(r *cache.Responses, req string) string {
			t.Helper()
			data, _, ok := r.Get(ctx, req)
			if !ok {
				return "miss"
			}
			return string(data)
		}

		_, gen, ok := a.Get(ctx, "q1")
		if ok || gen != "" {
			t.Fatalf("empty store: ok=%v gen=%q, want a miss and no generation", ok, gen)
		}
		a.Put(ctx, "q1", gen, []byte(`{"x":1}`), clock.Now().Add(10*time.Second))
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
		a.Put(ctx, "q2", oldGen, []byte(`{"old":true}`), clock.Now().Add(10*time.Second))
		if got := get(a, "q2"); got != "miss" {
			t.Fatalf("an answer from before the write was served: %s", got)
		}
		_, gen, _ = a.Get(ctx, "q1")
		if gen == "" {
			t.Fatal("no generation after Invalidate")
		}
		a.Put(ctx, "q1", gen, []byte(`{"x":2}`), clock.Now().Add(10*time.Second))
		if got := get(a, "q1"); got != `{"x":2}` {
			t.Fatalf("after Put under the new generation: %s", got)
		}

		// Fresh until the time given, not a moment longer; an already-stale answer is not kept.
		clock.Advance(10 * time.Second)
		if got := get(a, "q1"); got != "miss" {
			t.Fatalf("past its freshness: %s", got)
		}
		a.Put(ctx, "q3", gen, []byte(`{}`), clock.Now())
		if got := get(a, "q3"); got != "miss" {
			t.Fatalf("an answer stale when put was kept: %s", got)
		}
		if st := c.ResponseStats(); st.Hits != 2 {
			t.Fatalf("stats = %+v, want 2 hits", st)
		}
	})
}

func TestResponsesGarbageIsAMiss(t *testing.T) {
	clock := newClock()
	s := cache.NewMemory(clock.Now)
	c := cache.New(s, cache.Options{Now: clock.Now})
	ctx := context.Background()
	r := c.Responses("s")
	r.Put(ctx, "q", "", []byte(`{"ok":1}`), clock.Now().Add(time.Minute))
	key := cache.Prefix + "resp:s:q"
	for _, v := range []string{"", "garbage", "r1\n{}", "r2 99999999999999\n{}", "r1 notanumber\n{}", "r1 1 2 3 4\n{}"} {
		if err := s.SetMany(ctx, []cache.Entry{{Key: key, Value: []byte(v), TTL: time.Minute}}); err != nil {
			t.Fatal(err)
		}
		if data, _, ok := r.Get(ctx, "q"); ok {
			t.Errorf("value %q read as %s, want a miss", v, data)
		}
	}
}
