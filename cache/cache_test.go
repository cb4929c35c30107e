package cache_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/invitegw/invitegw/cache"
	"github.com/invitegw/invitegw/cache/redistest"
	"github.com/invitegw/invitegw/internal/testlog"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)} }

// stores runs f against a real Redis and against the in-memory store.
func stores(t *testing.T, clock *fakeClock, f func(t *testing.T, s cache.Store)) {
	t.Run("redis", func(t *testing.T) {
		f(t, cache.NewRedis(redisClient(t, redistest.Start(t))))
	})
	t.Run("memory", func(t *testing.T) {
		f(t, cache.NewMemory(clock.Now))
	})
}

func TestStore(t *testing.T) {
	ctx := context.Background()
	stores(t, newClock(), func(t *testing.T, s cache.Store) {
		got, err := s.MGet(ctx, []string{"a", "b"})
		if err != nil || len(got) != 2 || got[0] != nil || got[1] != nil {
			t.Fatalf("MGet on empty store = %q, %v", got, err)
		}
		if err := s.SetMany(ctx, []cache.Entry{{Key: "a", Value: []byte("1"), TTL: time.Minute}, {Key: "c", Value: []byte("3"), TTL: time.Minute}}); err != nil {
			t.Fatal(err)
		}
		got, _ = s.MGet(ctx, []string{"c", "b", "a"})
		if string(got[0]) != "3" || got[1] != nil || string(got[2]) != "1" {
			t.Fatalf("MGet = %q, want [3 nil 1]", got)
		}
		if err := s.Del(ctx, "a", "missing"); err != nil {
			t.Fatal(err)
		}
		got, _ = s.MGet(ctx, []string{"a", "c"})
		if got[0] != nil || string(got[1]) != "3" {
			t.Fatalf("after Del: %q", got)
		}
		if got, err := s.MGet(ctx, nil); err != nil || len(got) != 0 {
			t.Fatalf("MGet(nil) = %q, %v", got, err)
		}
	})
}

func TestMemoryExpires(t *testing.T) {
	clock := newClock()
	m := cache.NewMemory(clock.Now)
	ctx := context.Background()
	_ = m.SetMany(ctx, []cache.Entry{{Key: "a", Value: []byte("1"), TTL: time.Second}})
	clock.Advance(time.Second)
	if got, _ := m.MGet(ctx, []string{"a"}); got[0] != nil || m.Len() != 0 {
		t.Fatalf("expired entry served: %q (len %d)", got, m.Len())
	}
}

func TestMemoryIsBounded(t *testing.T) {
	tests := []struct {
		name                 string
		maxEntries, maxBytes int
		valueSize, n         int
	}{
		{"by entries", 100, 1 << 20, 10, 1000},
		{"by bytes", 100_000, 10_000, 500, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := cache.NewMemory(nil)
			m.SetLimits(tt.maxEntries, tt.maxBytes)
			ctx := context.Background()
			for i := range tt.n {
				key := fmt.Sprintf("k%04d", i)
				if err := m.SetMany(ctx, []cache.Entry{{Key: key, Value: make([]byte, tt.valueSize), TTL: time.Hour}}); err != nil {
					t.Fatal(err)
				}
				if m.Len() > tt.maxEntries || m.Bytes() > tt.maxBytes {
					t.Fatalf("after %d writes: %d entries, %d bytes; bounds %d, %d", i+1, m.Len(), m.Bytes(), tt.maxEntries, tt.maxBytes)
				}
				// The newest entry is always kept.
				if got, _ := m.MGet(ctx, []string{key}); len(got[0]) != tt.valueSize {
					t.Fatalf("the entry just written is missing")
				}
			}
			if m.Len() == 0 || m.Bytes() != m.Len()*(5+tt.valueSize) {
				t.Fatalf("accounting: %d entries, %d bytes", m.Len(), m.Bytes())
			}
		})
	}
	t.Run("too large for the store", func(t *testing.T) {
		m := cache.NewMemory(nil)
		m.SetLimits(0, 1000)
		ctx := context.Background()
		_ = m.SetMany(ctx, []cache.Entry{{Key: "big", Value: make([]byte, 200), TTL: time.Hour}})
		if got, _ := m.MGet(ctx, []string{"big"}); got[0] != nil || m.Bytes() != 0 {
			t.Fatalf("an entry over a tenth of the byte bound was kept")
		}
	})
}

// TestMemoryEvictsLeastRecentlyUsed: past its bound the store drops what was read least
// recently, not an arbitrary entry.
func TestMemoryEvictsLeastRecentlyUsed(t *testing.T) {
	m := cache.NewMemory(nil)
	m.SetLimits(3, 1<<20)
	ctx := context.Background()
	set := func(k string) {
		_ = m.SetMany(ctx, []cache.Entry{{Key: k, Value: []byte(k), TTL: time.Hour}})
	}
	set("a")
	set("b")
	set("c")
	_, _ = m.MGet(ctx, []string{"a"}) // a is now the most recently used
	set("d")
	got, _ := m.MGet(ctx, []string{"a", "b", "c", "d"})
	if string(got[0]) != "a" || got[1] != nil || string(got[2]) != "c" || string(got[3]) != "d" {
		t.Fatalf("after a fourth entry in a store of three: %q, want a, nil, c, d", got)
	}
}

func TestRedisKeepsTTL(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	s := cache.NewRedis(c)
	ctx := context.Background()
	_ = s.SetMany(ctx, []cache.Entry{{Key: "k", Value: []byte("v"), TTL: 90 * time.Second}})
	ttl := c.PTTL(ctx, "k").Val()
	if ttl <= 80*time.Second || ttl > 90*time.Second {
		t.Fatalf("PTTL = %v, want about 90s", ttl)
	}
}

var kind = cache.Kind[string, []string]{
	Key: func(k string) string { return cache.Key("test", "tenant", k) },
	TTL: 30 * time.Second,
}

// counter is a fetch function that counts calls per key.
type counter struct {
	mu    sync.Mutex
	calls map[string]int
	err   error
	gate  chan struct{} // when non-nil, fetches wait for it
	// numbered makes each call's value another: "<key> #<call>" instead of "value of <key>".
	numbered bool
}

func (c *counter) fetch(_ context.Context, k string) ([]string, error) {
	if c.gate != nil {
		<-c.gate
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	c.calls[k]++
	if c.err != nil {
		return nil, c.err
	}
	if c.numbered {
		return []string{fmt.Sprintf("%s #%d", k, c.calls[k])}, nil
	}
	return []string{"value of " + k}, nil
}

func (c *counter) n(k string) int { c.mu.Lock(); defer c.mu.Unlock(); return c.calls[k] }

func (c *counter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.calls {
		n += v
	}
	return n
}

func TestCacheAside(t *testing.T) {
	stores(t, newClock(), func(t *testing.T, s cache.Store) {
		clock := newClock()
		c := cache.New(s, cache.Options{Now: clock.Now})
		var f counter
		ctx := context.Background()

		r := cache.Load(ctx, c, kind, []string{"a", "b"}, f.fetch)
		if r[0].Value[0] != "value of a" || r[1].Value[0] != "value of b" || r[0].Err != nil {
			t.Fatalf("first load = %+v", r)
		}
		r = cache.Load(ctx, c, kind, []string{"b", "a", "c"}, f.fetch)
		if r[0].Value[0] != "value of b" || r[1].Value[0] != "value of a" || r[2].Value[0] != "value of c" {
			t.Fatalf("second load = %+v", r)
		}
		if f.n("a") != 1 || f.n("b") != 1 || f.n("c") != 1 {
			t.Fatalf("fetches = %v, want 1 each", f.calls)
		}
		if st := c.Stats(); st != (cache.Stats{Hits: 2, Misses: 3}) {
			t.Fatalf("stats = %+v", st)
		}
		clock.Advance(31 * time.Second) // past the TTL
		cache.Load(ctx, c, kind, []string{"a"}, f.fetch)
		if f.n("a") != 2 {
			t.Fatalf("expired entry served: fetches of a = %d", f.n("a"))
		}
	})
}

func TestConcurrentMissesFetchOnce(t *testing.T) {
	stores(t, newClock(), func(t *testing.T, s cache.Store) {
		c := cache.New(s, cache.Options{})
		f := counter{gate: make(chan struct{})}
		var wg sync.WaitGroup
		var bad atomic.Int32
		for range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := cache.Load(context.Background(), c, kind, []string{"k"}, f.fetch)
				if r[0].Err != nil || r[0].Value[0] != "value of k" {
					bad.Add(1)
				}
			}()
		}
		close(f.gate)
		wg.Wait()
		if f.n("k") != 1 || bad.Load() != 0 {
			t.Fatalf("100 concurrent misses made %d fetches (%d bad results), want 1", f.n("k"), bad.Load())
		}
	})
}

func TestErrorsAreNotCachedAndStaleIsServed(t *testing.T) {
	stores(t, newClock(), func(t *testing.T, s cache.Store) {
		clock := newClock()
		c := cache.New(s, cache.Options{Now: clock.Now, StaleGrace: 10 * time.Minute})
		ctx := context.Background()
		boom := errors.New("upstream down")

		failing := counter{err: boom}
		r := cache.Load(ctx, c, kind, []string{"x"}, failing.fetch)
		if !errors.Is(r[0].Err, boom) || r[0].Stale {
			t.Fatalf("no copy kept: want the error, got %+v", r[0])
		}
		cache.Load(ctx, c, kind, []string{"x"}, failing.fetch)
		if failing.n("x") != 2 {
			t.Fatalf("an error was cached: fetches = %d", failing.n("x"))
		}

		var ok counter
		cache.Load(ctx, c, kind, []string{"x"}, ok.fetch)
		clock.Advance(95 * time.Second) // stale, within the grace period
		r = cache.Load(ctx, c, kind, []string{"x"}, failing.fetch)
		if r[0].Err != nil || !r[0].Stale || r[0].Age != 95*time.Second || r[0].Value[0] != "value of x" {
			t.Fatalf("want the kept copy, 95s old; got %+v", r[0])
		}
		if c.Stats().Stale != 1 {
			t.Fatalf("stale serves = %d", c.Stats().Stale)
		}
	})
}

// TestNoStaleGraceKeepsNoCopy: a grace of zero (INVITEGW_CACHE_STALE_GRACE=0s) is honoured,
// not replaced by a default: once fresh, an entry is gone.
func TestNoStaleGraceKeepsNoCopy(t *testing.T) {
	clock := newClock()
	c := cache.New(cache.NewMemory(clock.Now), cache.Options{Now: clock.Now, StaleGrace: 0})
	ctx := context.Background()
	var ok counter
	cache.Load(ctx, c, kind, []string{"x"}, ok.fetch)
	clock.Advance(kind.TTL)
	boom := errors.New("upstream down")
	failing := counter{err: boom}
	if r := cache.Load(ctx, c, kind, []string{"x"}, failing.fetch); !errors.Is(r[0].Err, boom) || r[0].Stale {
		t.Fatalf("want the error and no kept copy, got %+v", r[0])
	}
}

func TestFreshUntilShortensFreshness(t *testing.T) {
	clock := newClock()
	c := cache.New(cache.NewMemory(clock.Now), cache.Options{Now: clock.Now})
	k := kind
	k.FreshUntil = func(v []string, now time.Time) (time.Time, bool) { return now.Add(5 * time.Second), true }
	var f counter
	cache.Load(context.Background(), c, k, []string{"a"}, f.fetch)
	clock.Advance(4 * time.Second)
	cache.Load(context.Background(), c, k, []string{"a"}, f.fetch)
	clock.Advance(time.Second)
	cache.Load(context.Background(), c, k, []string{"a"}, f.fetch)
	if f.n("a") != 2 {
		t.Fatalf("fetches = %d, want 2 (hit at 4s, refetch at 5s)", f.n("a"))
	}
}

func TestGarbageIsAMissAndOverwritten(t *testing.T) {
	stores(t, newClock(), func(t *testing.T, s cache.Store) {
		ctx := context.Background()
		key := kind.Key("g")
		for _, garbage := range []string{"\x00\xff garbage", "v2 12 34 s1\n{not json", "v2 x y s1\n[]", "v2 1 s1\n[]", "v2 12 34\n[]", "v2 12 34 \n[]"} {
			_ = s.SetMany(ctx, []cache.Entry{{Key: key, Value: []byte(garbage), TTL: time.Minute, Stamp: "s1"}})
			c := cache.New(s, cache.Options{})
			var f counter
			r := cache.Load(ctx, c, kind, []string{"g"}, f.fetch)
			if r[0].Err != nil || r[0].Value[0] != "value of g" || f.n("g") != 1 {
				t.Fatalf("garbage %q: %+v, fetches %d", garbage, r[0], f.n("g"))
			}
			got, _ := s.MGet(ctx, []string{key})
			if !bytes.HasPrefix(got[0], []byte("v2 ")) || !bytes.HasSuffix(got[0], []byte(`["value of g"]`)) {
				t.Fatalf("garbage %q not overwritten: %q", garbage, got[0])
			}
		}
	})
}

func TestRedisDownFailsOpenAndRecovers(t *testing.T) {
	srv := redistest.Start(t)
	var logs testlog.Buffer
	c := cache.New(cache.NewRedis(redisClient(t, srv)), cache.Options{
		BreakerOpenFor: 50 * time.Millisecond,
		Logger:         slog.New(slog.NewTextHandler(&logs, nil)),
	})
	ctx := context.Background()
	var f counter
	load := func(k string) {
		t.Helper()
		r := cache.Load(ctx, c, kind, []string{k}, f.fetch)
		if r[0].Err != nil || r[0].Value[0] != "value of "+k {
			t.Fatalf("load %s with Redis down = %+v", k, r[0])
		}
	}
	load("a")
	srv.Stop()
	for i := range 20 {
		load(fmt.Sprint("down-", i))
	}
	if c.Stats().StoreErrors == 0 {
		t.Fatal("store errors not counted")
	}
	if n := strings.Count(logs.String(), "cache store unavailable"); n != 1 {
		t.Fatalf("logged %d store errors, want 1 per interval:\n%s", n, logs.String())
	}

	srv.Restart()
	// The breaker lets a trial call through once its open period ends; until then reads skip
	// Redis. Keep loading until one write reaches the new server, bounded by a deadline.
	deadline := time.Now().Add(10 * time.Second)
	for hits := c.Stats().Hits; c.Stats().Hits == hits; {
		if time.Now().After(deadline) {
			t.Fatal("hits did not resume after Redis came back")
		}
		load("back")
		load("back")
	}
}

// redisClient is a client built as production builds it.
func redisClient(t *testing.T, srv *redistest.Server) redis.UniversalClient {
	t.Helper()
	c, err := cache.NewRedisClient(cache.RedisOptions{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestSlowRedisFailsOpen(t *testing.T) {
	srv := redistest.Start(t)
	c := cache.New(cache.NewRedis(redisClient(t, srv)), cache.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	var f counter
	ctx := context.Background()
	cache.Load(ctx, c, kind, []string{"a"}, f.fetch)

	// Stall the server for longer than the client's read timeout, as an overloaded Redis
	// would: CLIENT PAUSE is in effect once it returns.
	admin := srv.Client()
	if err := admin.Do(ctx, "CLIENT", "PAUSE", "1500", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := cache.Load(ctx, c, kind, []string{"a"}, f.fetch)
	if r[0].Err != nil || r[0].Value[0] != "value of a" {
		t.Fatalf("with Redis stalled: %+v", r[0])
	}
	if c.Stats().StoreErrors == 0 || f.n("a") != 2 {
		t.Fatalf("stats = %+v, fetches = %d: want a store error and a fetch from upstream", c.Stats(), f.n("a"))
	}
	// Not a timing assertion on our code: a guard that the load did not wait for Redis.
	if time.Since(start) >= 1500*time.Millisecond {
		t.Fatal("the load waited for the stalled Redis")
	}
}

func TestNewRedisClient(t *testing.T) {
	tests := []struct {
		name string
		o    cache.RedisOptions
		want string // the client's address, or an error substring
		bad  bool
	}{
		{"single node with db", cache.RedisOptions{URL: "redis://:pw@10.0.0.1:6380/3"}, "10.0.0.1:6380", false},
		{"tls", cache.RedisOptions{URL: "rediss://user:pw@cache.internal:6380/0"}, "cache.internal:6380", false},
		{"cluster", cache.RedisOptions{ClusterAddrs: []string{"a:7000", "b:7001"}}, "cluster", false},
		{"sentinel", cache.RedisOptions{SentinelAddrs: []string{"s:26379"}, MasterName: "mymaster"}, "sentinel", false},
		{"sentinel without master", cache.RedisOptions{SentinelAddrs: []string{"s:26379"}}, "master name", true},
		{"bad scheme hides the password", cache.RedisOptions{URL: "http://u:hunter2@h:1"}, "invalid Redis URL", true},
		{"nothing", cache.RedisOptions{}, "no Redis address", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := cache.NewRedisClient(tt.o)
			if tt.bad {
				if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("err = %v, want one mentioning %q and no password", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			switch cl := c.(type) {
			case *redis.ClusterClient:
				if tt.want != "cluster" {
					t.Fatalf("got a cluster client")
				}
			case *redis.Client:
				o := cl.Options()
				if tt.want == "sentinel" {
					if o.Addr != "FailoverClient" {
						t.Fatalf("want a failover client, got addr %q", o.Addr)
					}
					return
				}
				if o.Addr != tt.want || o.Password != "pw" {
					t.Fatalf("addr %q password set %v", o.Addr, o.Password != "")
				}
				if tt.name == "single node with db" && o.DB != 3 {
					t.Fatalf("db = %d", o.DB)
				}
				if tt.name == "tls" && o.TLSConfig == nil {
					t.Fatal("rediss:// without TLS")
				}
			default:
				t.Fatalf("unexpected client %T", c)
			}
		})
	}
}

// TestUnencodableValueIsServedLoggedNotCached: a value JSON cannot hold (a NaN here) is a bug
// upstream of the cache: it is served once, logged, and fetched again next time.
func TestUnencodableValueIsServedLoggedNotCached(t *testing.T) {
	var logs testlog.Buffer
	c := cache.New(cache.NewMemory(nil), cache.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	k := cache.Kind[string, []float64]{Key: func(k string) string { return k }, TTL: time.Minute}
	fetches := 0
	fetch := func(context.Context, string) ([]float64, error) { fetches++; return []float64{math.NaN()}, nil }
	for range 2 {
		if r := cache.Load(context.Background(), c, k, []string{"nan"}, fetch); r[0].Err != nil || !math.IsNaN(r[0].Value[0]) {
			t.Fatalf("load = %+v", r[0])
		}
	}
	if fetches != 2 || !strings.Contains(logs.String(), `"msg":"cache: value not stored: it does not encode","key":"nan"`) {
		t.Fatalf("%d fetches, log %s", fetches, logs.String())
	}
}
