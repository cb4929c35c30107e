package idempotency_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/invitegw/invitegw/cache/redistest"
	"github.com/invitegw/invitegw/idempotency"
)

// eachStore runs test over a memory store and a store on a real redis-server of its own.
func eachStore(t *testing.T, test func(t *testing.T, s idempotency.Store)) {
	t.Run("memory", func(t *testing.T) { test(t, idempotency.NewMemory(nil)) })
	t.Run("redis", func(t *testing.T) { test(t, idempotency.NewRedis(redistest.Start(t).Client())) })
}

func TestStore(t *testing.T) {
	eachStore(t, storeContract)
}

// storeContract checks what the guard relies on of a Store: Reserve takes a free key only,
// Replace and Release act only on the value they were given.
func storeContract(t *testing.T, s idempotency.Store) {
	ctx := context.Background()
	key := idempotency.StoreKey(t.Name(), "k")
	a, b, c := []byte("a\x00\n"), []byte("b"), []byte("c")
	steps := []struct {
		name string
		do   func() (any, error)
		want any
	}{
		{"replace a missing key", func() (any, error) { return s.Replace(ctx, key, a, b, time.Hour) }, false},
		{"release a missing key", func() (any, error) { return s.Release(ctx, key, a) }, false},
		{"reserve a free key", func() (any, error) { return held(s.Reserve(ctx, key, a, time.Hour)) }, ""},
		{"reserve a taken key", func() (any, error) { return held(s.Reserve(ctx, key, b, time.Hour)) }, string(a)},
		{"replace another value", func() (any, error) { return s.Replace(ctx, key, b, c, time.Hour) }, false},
		{"release another value", func() (any, error) { return s.Release(ctx, key, b) }, false},
		{"still the first", func() (any, error) { return held(s.Reserve(ctx, key, c, time.Hour)) }, string(a)},
		{"replace it", func() (any, error) { return s.Replace(ctx, key, a, b, time.Hour) }, true},
		{"replaced", func() (any, error) { return held(s.Reserve(ctx, key, c, time.Hour)) }, string(b)},
		{"release the old value", func() (any, error) { return s.Release(ctx, key, a) }, false},
		{"release it", func() (any, error) { return s.Release(ctx, key, b) }, true},
		{"released", func() (any, error) { return held(s.Reserve(ctx, key, c, time.Hour)) }, ""},
		{"reserved anew", func() (any, error) { return held(s.Reserve(ctx, key, a, time.Hour)) }, string(c)},
	}
	for _, st := range steps {
		got, err := st.do()
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got != st.want {
			t.Fatalf("%s: got %#v, want %#v", st.name, got, st.want)
		}
	}
}

func held(b []byte, err error) (any, error) { return string(b), err }

func TestMemoryExpires(t *testing.T) {
	clk := newClock()
	s := idempotency.NewMemory(clk.Now)
	ctx := context.Background()
	if h, _ := s.Reserve(ctx, "k", []byte("a"), time.Minute); h != nil {
		t.Fatalf("reserve: held %q", h)
	}
	clk.Add(time.Minute - time.Nanosecond)
	if ok, _ := s.Replace(ctx, "k", []byte("a"), []byte("b"), time.Hour); !ok {
		t.Fatal("replace before expiry: not replaced")
	}
	clk.Add(time.Hour - time.Nanosecond)
	if h, _ := s.Reserve(ctx, "k", []byte("c"), time.Minute); string(h) != "b" {
		t.Fatalf("before the replaced value's TTL: held %q, want b", h)
	}
	clk.Add(time.Nanosecond)
	if h, _ := s.Reserve(ctx, "k", []byte("c"), time.Minute); h != nil {
		t.Fatalf("at the replaced value's TTL: held %q, want none", h)
	}
}

// clock is a settable time for the memory store.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
