package cache_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/invitegw/invitegw/cache"
	"github.com/invitegw/invitegw/cache/redistest"
	"github.com/invitegw/invitegw/internal/testlog"
)

// TestFallbackWhileRedisIsDown: while the store fails, each key is fetched once per
// FallbackTTL, not once per load; once the store answers again, the fallback is not read.
func TestFallbackWhileRedisIsDown(t *testing.T) {
	srv := redistest.Start(t)
	clock := newClock()
	fallback := cache.NewMemory(clock.Now)
	c := cache.New(cache.NewRedis(redisClient(t, srv)), cache.Options{
		Now: clock.Now, Fallback: fallback, FallbackTTL: 5 * time.Second,
		BreakerOpenFor: time.Hour, Logger: slog.New(slog.DiscardHandler),
	})
	ctx := context.Background()
	var f counter
	load := func(k string) {
		t.Helper()
		if r := cache.Load(ctx, c, kind, []string{k}, f.fetch); r[0].Err != nil || r[0].Value[0] != "value of "+k {
			t.Fatalf("load %s = %+v", k, r[0])
		}
	}
	srv.Stop()
	for range 20 {
		load("a")
	}
	if n := f.n("a"); n != 1 {
		t.Fatalf("with Redis down, 20 loads fetched %d times, want 1 (then the fallback)", n)
	}
	st := c.Stats()
	if st.FallbackReads != 19 || !st.StoreFailing {
		t.Fatalf("stats = %+v, want 19 fallback reads and the store failing", st)
	}
	clock.Advance(5 * time.Second) // the fallback's TTL, although the value is fresh for 30s
	load("a")
	if n := f.n("a"); n != 2 {
		t.Fatalf("after FallbackTTL: %d fetches, want 2", n)
	}
}

// TestFallbackIsNotReadOnceRedisAnswers: a copy kept while the store failed is dropped when
// the store answers for that key, so a later failure cannot serve it (another instance may
// have written since).
func TestFallbackIsNotReadOnceRedisAnswers(t *testing.T) {
	srv := redistest.Start(t)
	clock := newClock()
	c := cache.New(cache.NewRedis(redisClient(t, srv)), cache.Options{
		Now: clock.Now, Fallback: cache.NewMemory(clock.Now), BreakerOpenFor: 10 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler),
	})
	ctx := context.Background()
	var f counter
	srv.Stop()
	cache.Load(ctx, c, kind, []string{"a"}, f.fetch) // kept in the fallback
	srv.Restart()
	// Until the breaker lets a call through, the fallback still answers; then Redis does
	// (empty: the copy is dropped and fetched again, and stored there).
	deadline := time.Now().Add(10 * time.Second)
	for f.n("a") < 2 {
		if time.Now().After(deadline) {
			t.Fatal("Redis was not read again after it came back")
		}
		cache.Load(ctx, c, kind, []string{"a"}, f.fetch)
	}
	srv.Stop() // and down again: the copy from the first outage must not come back
	cache.Load(ctx, c, kind, []string{"a"}, f.fetch)
	if n := f.n("a"); n != 3 {
		t.Fatalf("%d fetches, want 3: the fallback served a copy from before Redis answered", n)
	}
}

// TestInvalidateRetriesUntilItLands: an invalidation the store does not take at once is
// retried in the background until it does, counted, and waited for by Close.
func TestInvalidateRetriesUntilItLands(t *testing.T) {
	srv := redistest.Start(t)
	var logs testlog.Buffer
	c := cache.New(cache.NewRedis(redisClient(t, srv)), cache.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	ctx := context.Background()
	srv.Stop()
	c.Invalidate(ctx, []string{"stale"}, []cache.Entry{{Key: "gen", Value: []byte("g2"), TTL: time.Minute}}, time.Minute)
	if st := c.Stats(); st.InvalidationRetries != 1 || st.InvalidationsLost != 0 {
		t.Fatalf("stats = %+v, want one invalidation being retried", st)
	}
	srv.Restart() // empty: what is found there after Close was written by a retry
	closeCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := c.Close(closeCtx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if g := srv.Client().Get(ctx, "gen").Val(); g != "g2" {
		t.Fatalf("gen = %q, want g2", g)
	}
	if !strings.Contains(logs.String(), "cache invalidation landed after retries") {
		t.Fatalf("log: %s", logs.String())
	}
}

// TestInvalidateOutlivesTheRequest: the request that made a write may be gone (the client
// disconnected) by the time its invalidation runs; it still lands.
func TestInvalidateOutlivesTheRequest(t *testing.T) {
	srv := redistest.Start(t)
	c := cache.New(cache.NewRedis(redisClient(t, srv)), cache.Options{Logger: slog.New(slog.DiscardHandler)})
	admin := srv.Client()
	ctx := context.Background()
	if err := admin.Set(ctx, "stale", "old", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	gone, cancel := context.WithCancel(ctx)
	cancel()
	c.Invalidate(gone, []string{"stale"}, nil, time.Minute)
	if n := admin.Exists(ctx, "stale").Val(); n != 0 {
		t.Fatal("an invalidation on a cancelled request's context was dropped")
	}
}

// TestInvalidateGivesUpLoudly: past its bound an invalidation stops, counted and logged.
func TestInvalidateGivesUpLoudly(t *testing.T) {
	srv := redistest.Start(t)
	var logs testlog.Buffer
	c := cache.New(cache.NewRedis(redisClient(t, srv)), cache.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	srv.Stop()
	c.Invalidate(context.Background(), []string{"stale"}, nil, 300*time.Millisecond)
	closeCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Close(closeCtx); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.InvalidationRetries != 1 || st.InvalidationsLost != 1 {
		t.Fatalf("stats = %+v, want one retried and lost", st)
	}
	if !strings.Contains(logs.String(), `"msg":"cache invalidation given up`) {
		t.Fatalf("log: %s", logs.String())
	}
}

func TestRedisLogIsRateLimited(t *testing.T) {
	var logs testlog.Buffer
	l := cache.NewRedisLog(slog.New(slog.NewJSONHandler(&logs, nil)), time.Hour)
	for i := range 5 {
		l.Printf(context.Background(), "redis: dial %s failed: %v", "127.0.0.1:1", errors.New(fmt.Sprint("refused ", i)))
	}
	out := logs.String()
	if n := strings.Count(out, "\n"); n != 1 || !strings.Contains(out, `"msg":"redis client","message":"redis: dial 127.0.0.1:1 failed: refused 0"`) {
		t.Fatalf("want one JSON line for five, got:\n%s", out)
	}
}

// TestClusterNodeDownCostsOnlyItsKeys: with one master of a real Cluster dead, only the keys
// in its slots miss (the others stay hits: the breaker must not open), and once a replica is
// promoted the slot map is read again at once, so every key is a hit again within moments,
// not at go-redis's next periodic reload.
func TestClusterNodeDownCostsOnlyItsKeys(t *testing.T) {
	cl, client := startCluster(t)
	c := cache.New(cache.NewRedis(client), cache.Options{Logger: slog.New(slog.DiscardHandler)})
	ctx := context.Background()
	keys := make([]string, 30)
	for i := range keys {
		keys[i] = fmt.Sprint("k", i)
	}
	var f counter
	loadAll := func() int {
		t.Helper()
		before := f.total()
		for i, r := range cache.Load(ctx, c, kind, keys, f.fetch) {
			if r.Err != nil || r.Value[0] != "value of "+keys[i] {
				t.Fatalf("%s: %+v", keys[i], r)
			}
		}
		return f.total() - before
	}
	if n := loadAll(); n != 30 {
		t.Fatalf("cold: %d fetches, want 30", n)
	}
	if n := loadAll(); n != 0 {
		t.Fatalf("warm: %d fetches, want 0", n)
	}
	// Wait until every replica holds every key, so the promoted one serves them.
	for _, n := range cl.Nodes() {
		rc := redis.NewClient(&redis.Options{Addr: n.Addr()})
		_ = rc.Do(ctx, "WAIT", 1, 1000).Err() // a replica answers an error: nothing to wait for
		_ = rc.Close()
	}

	dead := cl.MasterFor(kind.Key(keys[0]))
	onDead := 0
	for _, k := range keys {
		if cl.MasterFor(kind.Key(k)) == dead {
			onDead++
		}
	}
	dead.Kill()
	for range 3 {
		if n := loadAll(); n != onDead {
			t.Fatalf("with a master dead: %d fetches, want %d (only its keys)", n, onDead)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := cl.WaitForFailover(wctx, dead); err != nil {
		t.Fatal(err)
	}
	promoted := time.Now()
	for loadAll() != 0 {
		if time.Since(promoted) > 5*time.Second {
			t.Fatalf("still missing keys %v after the promotion (go-redis's periodic reload is 10s)", time.Since(promoted))
		}
	}
	t.Logf("failover took %v; every key a hit again %v after the promotion", promoted.Sub(start), time.Since(promoted))
}

// startCluster starts a Redis Cluster for the test, and a client built as production builds
// it; the test is skipped with -short.
func startCluster(t *testing.T) (*redistest.Cluster, redis.UniversalClient) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a 6-node Redis Cluster")
	}
	cl := redistest.StartCluster(t, redistest.ClusterOptions{})
	client, err := cache.NewRedisClient(cache.RedisOptions{ClusterAddrs: cl.Addrs()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	return cl, client
}

// TestNoResponseServedWithoutItsGeneration: while the store fails for the response
// generation (here Redis is down and nothing is in the fallback), no kept response is served
// and none is kept: an empty generation would match answers from before a write another
// instance could not store.
func TestNoResponseServedWithoutItsGeneration(t *testing.T) {
	srv := redistest.Start(t)
	c := cache.New(cache.NewRedis(redisClient(t, srv)), cache.Options{
		Fallback: cache.NewMemory(nil), BreakerOpenFor: time.Hour, Logger: slog.New(slog.DiscardHandler),
	})
	ctx := context.Background()
	r := c.Responses("scope")
	srv.Stop()
	for range 3 {
		k, gen, ok := r.Get(ctx, "q")
		if ok || k.Data != nil {
			t.Fatalf("served %q with the generation unreadable", k.Data)
		}
		r.Put(ctx, "q", gen, []byte(`{"before":true}`), time.Now().Add(time.Minute), time.Now().Add(2*time.Minute))
	}
	if st := c.ResponseStats(); st.Hits != 0 || st.Misses != 0 {
		t.Fatalf("response stats = %+v, want nothing kept or served", st)
	}
}
