package cache_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/invitegw/invitegw/cache"
	"github.com/invitegw/invitegw/cache/redistest"
)

// With Redis, instances keep decoded entries in process and check them against the stamps
// stored beside the values (cache.Stamper). The tests below run two instances, a and b, over one
// Redis, on a single node and on a Cluster, and prove that a warm read transfers the stamps
// only, and that b never answers with its copy once a has written, invalidated or Redis has
// expired the entry.

// deployment is a Redis that instances share: newClient builds a client as production does,
// admin inspects it.
type deployment struct {
	cluster   bool
	newClient func(t *testing.T) redis.UniversalClient
	admin     redis.Cmdable
}

func TestStamps(t *testing.T) {
	scenarios := []struct {
		name string
		run  func(t *testing.T, d deployment, id string)
	}{
		{"a warm read transfers only stamps", warmReadTransfersOnlyStamps},
		{"a write through a is b's next answer", writeIsTheOthersNextAnswer},
		{"a refresh through a is b's next answer", refreshIsTheOthersNextAnswer},
		{"an invalidation through a is a miss on b", invalidationIsAMissEverywhere},
		{"an expired entry is a miss on both", expiryIsAMissEverywhere},
	}
	deployments := []struct {
		name  string
		start func(t *testing.T) deployment
	}{
		{"redis", func(t *testing.T) deployment {
			srv := redistest.Start(t)
			return deployment{newClient: func(t *testing.T) redis.UniversalClient { return redisClient(t, srv) }, admin: srv.Client()}
		}},
		{"cluster", func(t *testing.T) deployment {
			cl, _ := startCluster(t)
			return deployment{cluster: true, admin: cl.Client(), newClient: func(t *testing.T) redis.UniversalClient {
				c, err := cache.NewRedisClient(cache.RedisOptions{ClusterAddrs: cl.Addrs()})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = c.Close() })
				return c
			}}
		}},
	}
	for _, dep := range deployments {
		t.Run(dep.name, func(t *testing.T) {
			d := dep.start(t)
			for i, sc := range scenarios {
				t.Run(sc.name, func(t *testing.T) { sc.run(t, d, fmt.Sprint("stamps-", i)) })
			}
		})
	}
}

// noFetch is the upstream of an instance that must answer from the store.
func noFetch(t *testing.T) func(context.Context, string) ([]string, error) {
	return func(_ context.Context, k string) ([]string, error) {
		t.Errorf("fetched %s: want it read from the store", k)
		return nil, errors.New("unexpected fetch")
	}
}

// want fails unless r is value, fresh.
func want(t *testing.T, who string, r cache.Result[[]string], value string) {
	t.Helper()
	if _, fresh := r.Fresh(); r.Err != nil || len(r.Value) != 1 || r.Value[0] != value || !fresh {
		t.Fatalf("%s answered %+v, want %q, fresh", who, r, value)
	}
}

// pair is two instances over d with separate clients, the same clock and options; b's
// client records what it sends and receives.
func pair(t *testing.T, d deployment, clock *fakeClock, o cache.Options) (a, b *cache.Cache, bWire *wire) {
	o.Now, o.Logger = clock.Now, slog.New(slog.DiscardHandler)
	a = cache.New(cache.NewRedis(d.newClient(t)), o)
	bc := d.newClient(t)
	bWire = &wire{}
	bc.AddHook(bWire)
	b = cache.New(cache.NewRedis(bc), o)
	return a, b, bWire
}

// warm is a pair (see pair) after a has fetched and stored id ("<id> #1", counted in up) and
// b has read it from the store: both hold it decoded. refreshed receives the keys whose
// background refresh on a has ended.
type warm struct {
	a, b      *cache.Cache
	up        *counter
	refreshed chan string
}

func warmPair(t *testing.T, d deployment, clock *fakeClock, o cache.Options, id string) warm {
	t.Helper()
	w := warm{up: &counter{numbered: true}, refreshed: make(chan string, 10)}
	w.a, w.b, _ = pair(t, d, clock, o)
	cache.OnRefreshed(w.a, func(key string) { w.refreshed <- key })
	want(t, "a", cache.Load(context.Background(), w.a, kind, []string{id}, w.up.fetch)[0], id+" #1")
	want(t, "b", cache.Load(context.Background(), w.b, kind, []string{id}, noFetch(t))[0], id+" #1")
	return w
}

// warmReadTransfersOnlyStamps: once b holds the entries decoded, its reads of them are one
// MGET of their stamps (pipelined GETs on a Cluster), answered with the stamps' bytes only,
// however large the values.
func warmReadTransfersOnlyStamps(t *testing.T, d deployment, id string) {
	ctx := context.Background()
	a, b, bWire := pair(t, d, newClock(), cache.Options{})
	big := strings.Repeat("x", 64<<10)
	fetch := func(_ context.Context, k string) ([]string, error) { return []string{k, big}, nil }
	keys := []string{id + "-a", id + "-b", id + "-c"}
	cache.Load(ctx, a, kind, keys, fetch) // a fetches and stores them

	cold := cache.Load(ctx, b, kind, keys, noFetch(t))
	if _, n := bWire.take(); n < len(keys)*len(big) {
		t.Fatalf("b's first read transferred %d bytes, want the values (%d bytes each)", n, len(big))
	}
	var stampKeys []string
	stampBytes := 0
	for _, k := range keys {
		stampKeys = append(stampKeys, cache.StampKey(kind.Key(k)))
		stamp, err := d.admin.Get(ctx, cache.StampKey(kind.Key(k))).Result()
		if err != nil || stamp == "" {
			t.Fatalf("no stamp beside %s: %q, %v", k, stamp, err)
		}
		stampBytes += len(stamp)
	}
	wantCmds := []string{"mget " + strings.Join(stampKeys, " ")}
	if d.cluster {
		wantCmds = nil
		for _, k := range stampKeys {
			wantCmds = append(wantCmds, "get "+k)
		}
	}
	for range 3 {
		warm := cache.Load(ctx, b, kind, keys, noFetch(t))
		for i, r := range warm {
			if r.Err != nil || !slices.Equal(r.Value, cold[i].Value) {
				t.Fatalf("warm %s = %+v, want what the first read found", keys[i], r)
			}
		}
		cmds, n := bWire.take()
		if !slices.Equal(cmds, wantCmds) || n != stampBytes {
			t.Fatalf("a warm read sent %q and received %d bytes; want %q and the stamps' %d bytes", cmds, n, wantCmds, stampBytes)
		}
	}
	if st := b.Stats(); st.Hits != 4*int64(len(keys)) || st.Misses != 0 {
		t.Fatalf("b's stats = %+v, want every read a hit", st)
	}
}

// writeIsTheOthersNextAnswer: b holds an entry decoded, still fresh by its own times; a
// writes a new value (after a write upstream deleted the entry): b's next answer is the new
// value, read from the store, never its copy.
func writeIsTheOthersNextAnswer(t *testing.T, d deployment, id string) {
	ctx := context.Background()
	w := warmPair(t, d, newClock(), cache.Options{}, id)
	w.a.Invalidate(ctx, []string{kind.Key(id)}, nil, time.Minute)
	want(t, "a", cache.Load(ctx, w.a, kind, []string{id}, w.up.fetch)[0], id+" #2")
	want(t, "b", cache.Load(ctx, w.b, kind, []string{id}, noFetch(t))[0], id+" #2")
	if st := w.b.Stats(); st.Hits != 2 || st.Misses != 0 {
		t.Fatalf("b's stats = %+v, want two hits", st)
	}
}

// refreshIsTheOthersNextAnswer: a refreshes an expired entry in the background
// (stale-while-revalidate, a write under the key's lock): b's next answer is the refreshed
// value, fresh, not its expired copy.
func refreshIsTheOthersNextAnswer(t *testing.T, d deployment, id string) {
	ctx := context.Background()
	clock := newClock()
	w := warmPair(t, d, clock, cache.Options{StaleWhileRevalidate: swr}, id)
	clock.Advance(kind.TTL)
	if r := cache.Load(ctx, w.a, kind, []string{id}, w.up.fetch)[0]; !r.Revalidating || r.Value[0] != id+" #1" {
		t.Fatalf("a answered %+v, want its copy while it refreshes", r)
	}
	receive(t, w.refreshed, "a's refresh")
	want(t, "b", cache.Load(ctx, w.b, kind, []string{id}, noFetch(t))[0], id+" #2")
	if st := w.b.Stats(); st.Revalidating != 0 {
		t.Fatalf("b's stats = %+v: it answered with its expired copy", st)
	}
}

// invalidationIsAMissEverywhere: once a has invalidated an entry, b does not answer with its
// copy, not even as a stale one while the upstream fails; the entry's stamp is gone with it.
func invalidationIsAMissEverywhere(t *testing.T, d deployment, id string) {
	ctx := context.Background()
	w := warmPair(t, d, newClock(), cache.Options{StaleGrace: time.Hour}, id)
	w.a.Invalidate(ctx, []string{kind.Key(id)}, nil, time.Minute)
	if n := d.admin.Exists(ctx, kind.Key(id)).Val() + d.admin.Exists(ctx, cache.StampKey(kind.Key(id))).Val(); n != 0 {
		t.Fatalf("%d of the entry's keys left after the invalidation", n)
	}
	failing := counter{err: errors.New("upstream down")}
	if r := cache.Load(ctx, w.b, kind, []string{id}, failing.fetch)[0]; !errors.Is(r.Err, failing.err) || r.Stale {
		t.Fatalf("b answered %+v, want the upstream's error: its copy is from before the write", r)
	}
	want(t, "b", cache.Load(ctx, w.b, kind, []string{id}, w.up.fetch)[0], id+" #2")
	if w.up.n(id) != 2 || failing.n(id) != 1 {
		t.Fatalf("upstream calls: %d, %d failed; want a's, then b's after the invalidation", w.up.n(id), failing.n(id))
	}
}

// expiryIsAMissEverywhere: once Redis has expired an entry, neither instance answers with its
// copy, though the copy's own times would still allow a stale answer.
func expiryIsAMissEverywhere(t *testing.T, d deployment, id string) {
	ctx := context.Background()
	w := warmPair(t, d, newClock(), cache.Options{StaleGrace: time.Hour}, id)
	// An expiry time in the past: Redis expires the keys at once.
	for _, key := range []string{cache.StampKey(kind.Key(id)), kind.Key(id)} {
		if ok, err := d.admin.PExpireAt(ctx, key, time.UnixMilli(1)).Result(); !ok || err != nil {
			t.Fatalf("expire %s: %v, %v", key, ok, err)
		}
	}
	failing := counter{err: errors.New("upstream down")}
	for who, c := range map[string]*cache.Cache{"a": w.a, "b": w.b} {
		if r := cache.Load(ctx, c, kind, []string{id}, failing.fetch)[0]; !errors.Is(r.Err, failing.err) || r.Stale {
			t.Fatalf("%s answered %+v, want the upstream's error: the entry has expired", who, r)
		}
	}
	if failing.n(id) != 2 {
		t.Fatalf("%d upstream calls, want one from each instance", failing.n(id))
	}
}

// wire records what a go-redis client sends (each command's name and arguments) and how many
// bytes of values it receives (string replies and the strings in array replies).
type wire struct {
	mu    sync.Mutex
	cmds  []string
	bytes int
}

func (w *wire) DialHook(next redis.DialHook) redis.DialHook { return next }

func (w *wire) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		w.record(cmd)
		return err
	}
}

func (w *wire) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, cmd := range cmds {
			w.record(cmd)
		}
		return err
	}
}

func (w *wire) record(cmd redis.Cmder) {
	args := make([]string, len(cmd.Args()))
	for i, a := range cmd.Args() {
		args[i] = fmt.Sprint(a)
	}
	n := 0
	switch c := cmd.(type) {
	case *redis.StringCmd:
		n = len(c.Val())
	case *redis.SliceCmd:
		for _, v := range c.Val() {
			if s, ok := v.(string); ok {
				n += len(s)
			}
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.cmds = append(w.cmds, strings.Join(args, " "))
	w.bytes += n
}

// take returns what was recorded since the last take.
func (w *wire) take() (cmds []string, bytes int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	cmds, bytes = w.cmds, w.bytes
	w.cmds, w.bytes = nil, 0
	return cmds, bytes
}
