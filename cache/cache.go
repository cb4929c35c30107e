package cache

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Options configure a Cache.
type Options struct {
	// StaleGrace is how long after it stops being fresh an entry is kept to be served if the
	// upstream fails; zero serves none (config.Cache.StaleGrace holds the default).
	StaleGrace time.Duration
	// StaleWhileRevalidate is how long past its freshness an entry is still served at once, as
	// a normal answer, while one refresh runs in the background (revalidate.go): no caller
	// waits for an upstream while such a copy exists. Entries are kept at least this long past
	// freshness. Zero turns it off: callers wait as soon as an entry expires
	// (config.Cache.StaleWhileRevalidate holds the default).
	StaleWhileRevalidate time.Duration
	// BreakerOpenFor is how long the store is skipped after repeated errors (the fallback
	// answers meanwhile); then one call tries it. Default 1s: it is also how long an
	// instance may miss, once the store is back, a write another instance made.
	BreakerOpenFor time.Duration
	// LogEvery bounds store-error logging to one line per interval. Default 1m.
	LogEvery time.Duration
	// MaxConcurrent bounds the upstream fetches one batch runs at once. Default 16.
	MaxConcurrent int
	// Fallback, when set, holds what this instance fetched while the store failed to take it
	// (Redis down, or one Cluster node), each entry for at most FallbackTTL (default 5s): the
	// upstreams then see about one call per key per FallbackTTL from each instance instead of
	// one per request. It is read only for keys the store fails for, and a key the store
	// answers for is dropped from it, so instances never serve each other's stale data in
	// normal operation (and at most FallbackTTL old while the store flaps).
	Fallback    *Memory
	FallbackTTL time.Duration
	Logger      *slog.Logger
	Now         func() time.Time
}

// Cache is cache-aside over a Store. Safe for concurrent use; share one per process.
type Cache struct {
	store   Store
	o       Options
	breaker *gobreaker.CircuitBreaker[[][]byte]

	mu      sync.Mutex
	flights map[string]*flight
	// refreshing holds the keys refreshed in the background (see revalidate); refreshed, when
	// set (by tests, before any load), is called as each refresh ends.
	refreshing map[string]*refresh
	refreshed  func(key string)

	// memo holds decoded values (see memo).
	memo *memo

	hits, misses, stale, storeErrors atomic.Int64
	respHits, respStale, respMisses  atomic.Int64
	fallbackReads                    atomic.Int64
	invalidationRetries, lost        atomic.Int64
	revalidating, revalidations      atomic.Int64
	revalidationsLocked, refreshErrs atomic.Int64
	// failing is set when a store call fails, and cleared when a read succeeds in full.
	failing atomic.Bool
	// pending counts invalidations still being retried, and fetches and refreshes still running
	// (they may outlive their request), for Close; wake is closed (and replaced) when the store answers
	// again, so invalidations retry at once.
	pending sync.WaitGroup
	// closing is set by Close under closeMu; work started after it is not counted in pending
	// (a WaitGroup must not grow from zero while it is waited on).
	closeMu sync.RWMutex
	closing bool
	wakeMu  sync.Mutex
	wake    chan struct{}

	logLimit logLimit
	// refreshLog limits the lines about failed background refreshes, which no caller sees.
	refreshLog logLimit
}

// New returns a Cache over store.
func New(store Store, o Options) *Cache {
	o.StaleGrace = max(o.StaleGrace, 0)
	o.StaleWhileRevalidate = max(o.StaleWhileRevalidate, 0)
	if o.BreakerOpenFor <= 0 {
		o.BreakerOpenFor = time.Second
	}
	if o.LogEvery <= 0 {
		o.LogEvery = time.Minute
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = 16
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.FallbackTTL <= 0 {
		o.FallbackTTL = 5 * time.Second
	}
	c := &Cache{store: store, o: o, flights: map[string]*flight{}, refreshing: map[string]*refresh{}, memo: newMemo(maxDecoded, maxDecodedBytes),
		wake: make(chan struct{}), logLimit: logLimit{every: o.LogEvery}, refreshLog: logLimit{every: o.LogEvery}}
	c.breaker = gobreaker.NewCircuitBreaker[[][]byte](gobreaker.Settings{
		Name:        "cache-store",
		MaxRequests: 1,
		Timeout:     o.BreakerOpenFor,
		ReadyToTrip: func(counts gobreaker.Counts) bool { return counts.ConsecutiveFailures >= 3 },
		// A caller giving up is not the store failing.
		IsSuccessful: func(err error) bool { return err == nil || errors.Is(err, context.Canceled) },
	})
	return c
}

// Stats are the cache's counters since start.
type Stats struct {
	Hits, Misses, Stale, StoreErrors int64
	// FallbackReads counts keys read from the fallback because the store failed.
	FallbackReads int64
	// InvalidationRetries counts invalidations that did not land at once; InvalidationsLost
	// those given up (see Invalidate).
	InvalidationRetries, InvalidationsLost int64
	// Revalidating counts hits answered with an expired copy while it is refreshed
	// (Options.StaleWhileRevalidate), also counted in Hits. Revalidations counts the
	// background refreshes that called the upstream; RevalidationsLocked those not run here
	// because another instance held the key's lock; RevalidationErrors the refreshes whose
	// upstream call failed (the copy is served on meanwhile). A refresh that finds the key
	// refreshed by another instance since it was read counts in none of them.
	Revalidating, Revalidations, RevalidationsLocked, RevalidationErrors int64
	// StoreFailing is true from a failed store call to the next read it answers in full.
	StoreFailing bool
}

// Stats returns the counters.
func (c *Cache) Stats() Stats {
	return Stats{Hits: c.hits.Load(), Misses: c.misses.Load(), Stale: c.stale.Load(), StoreErrors: c.storeErrors.Load(),
		FallbackReads: c.fallbackReads.Load(), InvalidationRetries: c.invalidationRetries.Load(), InvalidationsLost: c.lost.Load(),
		Revalidating: c.revalidating.Load(), Revalidations: c.revalidations.Load(), RevalidationsLocked: c.revalidationsLocked.Load(),
		RevalidationErrors: c.refreshErrs.Load(), StoreFailing: c.failing.Load()}
}

// Kind describes one kind of cached value.
type Kind[K comparable, V any] struct {
	// Key is K's full store key (see the package doc for the scheme).
	Key func(K) string
	// TTL is how long a fetched value is fresh.
	TTL time.Duration
	// FreshUntil, if set, can shorten freshness for a value (an invitation list is stale from
	// the moment one of its invitations would change status).
	FreshUntil func(v V, now time.Time) (time.Time, bool)
}

// Result is one key's outcome.
type Result[V any] struct {
	Value V
	Err   error
	// Stale means the upstream failed and Value is a kept copy, Age old.
	Stale bool
	// Revalidating means Value is past its freshness, Age old, and served without waiting
	// while a refresh runs (Options.StaleWhileRevalidate). Nothing failed, so it is no
	// warning; but it is not fresh either, and nothing built from it may be kept.
	Revalidating bool
	Age          time.Duration
	// FreshUntil is when a fresh Value stops being fresh, or when a Revalidating one stopped
	// (zero when Stale or Err).
	FreshUntil time.Time
}

// Fresh reports when a fresh value stops being fresh; false for a stale or revalidating copy,
// an error, or a value whose freshness is unknown.
func (r Result[V]) Fresh() (time.Time, bool) {
	return r.FreshUntil, r.Err == nil && !r.Stale && !r.Revalidating && !r.FreshUntil.IsZero()
}

// Load returns a value per key, in key order: fresh ones from the store (one MGET), the rest
// from fetch, called concurrently and written back in one pipeline. Copies within their
// stale-while-revalidate window are answered at once and refreshed in the background.
// Concurrent misses for a key in this process make one fetch: a flight stays open until its
// value is written, and a new flight re-reads the store first, so no caller fetches what
// another has just stored. An error is never cached. A store failure is a miss, never a failed
// load.
//
// The flights are ours rather than golang.org/x/sync/singleflight's: singleflight runs one
// function per key and forgets it when it returns, while a batch here leads many keys at
// once, re-reads them in one MGET, writes them in one pipeline, and must keep each key's
// flight open until that write has landed (else a follower starting in between would miss
// in the store and fetch again).
func Load[K comparable, V any](ctx context.Context, c *Cache, kind Kind[K, V], keys []K, fetch func(context.Context, K) (V, error)) []Result[V] {
	results := make([]Result[V], len(keys))
	skeys := make([]string, len(keys))
	for i, k := range keys {
		skeys[i] = kind.Key(k)
	}
	stale := map[int]cached[V]{}
	misses, refresh := lookup(ctx, c, skeys, all(len(keys)), results, stale, true)
	if len(refresh) > 0 {
		revalidate(ctx, c, kind, keys, skeys, refresh, fetch)
		awaitRefreshes(ctx, c, skeys, refresh, results)
	}
	if len(misses) == 0 {
		return results
	}
	c.misses.Add(int64(len(misses)))

	// The fetches go on in the background when ctx ends first: other requests may be waiting
	// on the same flights, and the values still land in the store.
	col := &collector[V]{out: slices.Clone(results), set: make([]bool, len(keys))}
	done := make(chan struct{})
	track := c.track() // Close waits for it: its write should land before Redis is closed
	go func() {
		defer track()
		defer close(done)
		resolve(ctx, c, kind, keys, skeys, misses, stale, col, fetch)
	}()
	select {
	case <-done:
		return col.out
	case <-ctx.Done():
		// Keys already answered keep their answer; the rest time out.
		col.mu.Lock()
		defer col.mu.Unlock()
		for _, i := range misses {
			if col.set[i] {
				results[i] = col.out[i]
			} else {
				results[i] = Result[V]{Err: fmt.Errorf("cache: gave up waiting for the upstream: %w", ctx.Err())}
			}
		}
		return results
	}
}

// collector gathers results as they arrive, so a caller that stops waiting keeps the ones
// that are in.
type collector[V any] struct {
	mu  sync.Mutex
	out []Result[V]
	set []bool
}

func (c *collector[V]) put(i int, r Result[V]) {
	c.mu.Lock()
	c.out[i], c.set[i] = r, true
	c.mu.Unlock()
}

// resolve fills out for the missing keys: it leads the flights nobody in this process is
// running yet and follows the others.
func resolve[K comparable, V any](ctx context.Context, c *Cache, kind Kind[K, V], keys []K, skeys []string, misses []int,
	stale map[int]cached[V], out *collector[V], fetch func(context.Context, K) (V, error)) {
	lead, follow := map[int]*flight{}, map[int]*flight{}
	c.mu.Lock()
	for _, i := range misses {
		if f, ok := c.flights[skeys[i]]; ok {
			follow[i] = f
			continue
		}
		f := &flight{done: make(chan struct{})}
		c.flights[skeys[i]] = f
		lead[i] = f
	}
	c.mu.Unlock()

	if len(lead) > 0 {
		runFlights(ctx, c, kind, keys, skeys, lead, stale, out, fetch)
	}
	for i, f := range follow {
		<-f.done
		if f.err != nil {
			out.put(i, staleResult(c, stale, i, f.err))
			continue
		}
		v, _ := f.value.(V)
		out.put(i, Result[V]{Value: v, FreshUntil: f.freshUntil})
	}
}

// cached is a decoded stored value that is no longer fresh.
type cached[V any] struct {
	value    V
	storedAt time.Time
}

// flight is one in-process fetch of a key; it ends once the value is stored.
type flight struct {
	done       chan struct{}
	value      any
	freshUntil time.Time
	err        error
}

// lookup reads the keys at idx, fills results for fresh hits, remembers expired copies in
// stale, and returns the indexes still missing. first is a caller's own read, not a flight's
// second look: its hits are counted, and it also answers with copies within their
// stale-while-revalidate window, returning their indexes in refresh.
func lookup[V any](ctx context.Context, c *Cache, skeys []string, idx []int, results []Result[V], stale map[int]cached[V], first bool) (missing, refresh []int) {
	want := make([]string, len(idx))
	for j, i := range idx {
		want[j] = skeys[i]
	}
	got := read[V](ctx, c, want)
	now := c.o.Now()
	for j, i := range idx {
		if e := got[j]; e.ok {
			if now.Before(e.freshUntil) {
				results[i] = Result[V]{Value: e.value, FreshUntil: e.freshUntil}
				if first {
					c.hits.Add(1)
				}
				continue
			}
			if first && now.Before(e.freshUntil.Add(c.o.StaleWhileRevalidate)) {
				results[i] = Result[V]{Value: e.value, FreshUntil: e.freshUntil, Revalidating: true, Age: max(0, now.Sub(e.storedAt))}
				c.hits.Add(1)
				c.revalidating.Add(1)
				refresh = append(refresh, i)
				continue
			}
			if now.Before(e.freshUntil.Add(c.o.StaleGrace)) {
				stale[i] = cached[V]{value: e.value, storedAt: e.storedAt}
			}
		}
		missing = append(missing, i)
	}
	return missing, refresh
}

// stored is a key's stored entry, decoded; ok is false for a miss.
type stored[V any] struct {
	value                V
	storedAt, freshUntil time.Time
	ok                   bool
}

// read returns the entries stored under keys, decoded, in key order: a miss where there is
// none, or one that does not parse or decode. From a Stamper it reads the keys' stamps, then
// only the values this instance does not hold decoded under them (a warm read of unchanged
// lists transfers a few bytes per key, however long the lists); other stores are read in full.
// Where the store fails for a key, the fallback's copy is read (mgetChecked).
func read[V any](ctx context.Context, c *Cache, keys []string) []stored[V] {
	out := make([]stored[V], len(keys))
	s, ok := c.store.(Stamper)
	if !ok {
		for i, b := range c.mget(ctx, keys) {
			out[i] = decodeStored[V](c, keys[i], b)
		}
		return out
	}
	stamps, failed := c.readThrough(ctx, keys, s.Stamps)
	var rest []int // the keys whose value is to be read
	for i, stamp := range stamps {
		switch {
		case failed[i]:
			out[i] = decodeStored[V](c, keys[i], stamp) // the fallback's whole value, or nil
		case stamp == nil:
			// No entry: expired or deleted, whatever this instance holds.
		default:
			var held bool
			if out[i], held = fromMemo[V](c, keys[i], stamp); !held {
				rest = append(rest, i)
			}
		}
	}
	if len(rest) == 0 {
		return out
	}
	want := make([]string, len(rest))
	for j, i := range rest {
		want[j] = keys[i]
	}
	for j, b := range c.mget(ctx, want) {
		out[rest[j]] = decodeStored[V](c, want[j], b)
	}
	return out
}

// fromMemo is key's entry under stamp as this instance holds it decoded, and whether it does
// (a value that did not decode under that stamp is held too, as a miss).
func fromMemo[V any](c *Cache, key string, stamp []byte) (stored[V], bool) {
	d := c.memo.get(key, stamp)
	if d == nil {
		return stored[V]{}, false
	}
	<-d.done
	if d.err != nil {
		return stored[V]{}, true
	}
	v, ok := d.value.(V)
	if !ok {
		return stored[V]{}, false // another type under the key: read and decode it as V
	}
	return stored[V]{value: v, storedAt: d.storedAt, freshUntil: d.freshUntil, ok: true}, true
}

// decodeStored is key's stored bytes b decoded (through the memo).
func decodeStored[V any](c *Cache, key string, b []byte) stored[V] {
	env, ok := decode(b)
	if !ok {
		return stored[V]{}
	}
	v, err := decodeValue[V](c, key, env)
	if err != nil {
		return stored[V]{}
	}
	return stored[V]{value: v, storedAt: env.storedAt, freshUntil: env.freshUntil, ok: true}
}

// runFlights re-checks the store for the keys this call leads (another flight may have stored
// them since the first read), fetches what is still missing concurrently, writes the values in
// one pipeline and only then ends the flights.
func runFlights[K comparable, V any](ctx context.Context, c *Cache, kind Kind[K, V], keys []K, skeys []string,
	lead map[int]*flight, stale map[int]cached[V], out *collector[V], fetch func(context.Context, K) (V, error)) {
	// This may outlive the request that started it (see Load), and followers depend on it.
	ctx = context.WithoutCancel(ctx)
	// In key order, so calls start in the order the caller asked for them.
	idx := slices.Sorted(maps.Keys(lead))
	found := make([]Result[V], len(keys))
	todo, _ := lookup(ctx, c, skeys, idx, found, stale, false)
	for _, i := range idx {
		if !slices.Contains(todo, i) {
			out.put(i, found[i])
			lead[i].value, lead[i].freshUntil = found[i].Value, found[i].FreshUntil
		}
	}

	var (
		mu     sync.Mutex
		writes []Entry
		wg     sync.WaitGroup
		sem    = make(chan struct{}, c.o.MaxConcurrent)
	)
	// The first key's call should leave first: callers put the head of their slowest chain
	// there (the invitation lists start with Redpanda's, whose pages follow one another). A
	// new goroutine runs once its starter blocks, and then the one started last runs first (it
	// takes the P's next slot), so when all fit at once the first key is started last. This
	// took the first Redpanda request from 0.9 to 0.5 ms after a cold query arrived.
	order := todo
	if len(todo) > 1 && len(todo) <= c.o.MaxConcurrent {
		order = append(slices.Clone(todo[1:]), todo[0])
	}
	for _, i := range order {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			v, err := safeFetch(ctx, c, fetch, keys[i]) // each upstream call has its own timeout
			if err != nil {
				lead[i].err = err
				out.put(i, staleResult(c, stale, i, err))
				return
			}
			fetched := c.o.Now()
			fresh := freshUntil(kind, v, fetched)
			lead[i].value, lead[i].freshUntil = v, fresh
			out.put(i, Result[V]{Value: v, FreshUntil: fresh})
			if e, ok := c.entry(ctx, skeys[i], fetched, fresh, v); ok {
				mu.Lock()
				writes = append(writes, e)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(writes) > 0 {
		c.set(ctx, "write", writes)
	}
	c.mu.Lock()
	for i, f := range lead {
		delete(c.flights, skeys[i])
		close(f.done)
	}
	c.mu.Unlock()
}

// freshUntil is when v, fetched at fetched, stops being fresh: after the kind's TTL, or sooner
// if the kind says so.
func freshUntil[K comparable, V any](kind Kind[K, V], v V, fetched time.Time) time.Time {
	fresh := fetched.Add(kind.TTL)
	if kind.FreshUntil != nil {
		if t, ok := kind.FreshUntil(v, fetched); ok && t.Before(fresh) {
			fresh = t
		}
	}
	return fresh
}

// entry is what to store under key for v, fetched at fetched and fresh until fresh: kept past
// its freshness for as long as a copy may still be served (StaleGrace, StaleWhileRevalidate),
// under a new stamp. False when nothing is stored. The memo learns v, so this instance never
// decodes it back.
func (c *Cache) entry(ctx context.Context, key string, fetched, fresh time.Time, v any) (Entry, bool) {
	if _, off := c.store.(Noop); off {
		return Entry{}, false // nothing is stored: skip encoding a value no one will read
	}
	stamp := newStamp()
	b, err := encode(fetched, fresh, stamp, v)
	if err != nil {
		// A value JSON cannot hold is a bug: served this once, never cached.
		c.o.Logger.ErrorContext(ctx, "cache: value not stored: it does not encode", "key", key, "error", err.Error())
		return Entry{}, false
	}
	c.memo.put(key, stamp, fetched, fresh, len(b), v)
	return Entry{Key: key, Value: b, TTL: fresh.Sub(fetched) + max(c.o.StaleGrace, c.o.StaleWhileRevalidate), Stamp: stamp}, true
}

// staleResult is the kept copy of key i when there is one, else the error.
func staleResult[V any](c *Cache, stale map[int]cached[V], i int, err error) Result[V] {
	k, ok := stale[i]
	if !ok {
		return Result[V]{Err: err}
	}
	c.stale.Add(1)
	return Result[V]{Value: k.value, Stale: true, Age: max(0, c.o.Now().Sub(k.storedAt))}
}

func all(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// safeFetch calls fetch, turning a panic into an error (logged here with its stack: it runs
// on a goroutine of its own, where a panic would end the process).
func safeFetch[K, V any](ctx context.Context, c *Cache, fetch func(context.Context, K) (V, error), k K) (v V, err error) {
	defer func() {
		if p := recover(); p != nil {
			c.o.Logger.ErrorContext(ctx, "cache: fetch panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("cache: fetch panicked: %v", p)
		}
	}()
	return fetch(ctx, k)
}

// mget reads through the breaker. Keys the store fails for (all of them when it is down or
// the breaker is open, some when one Cluster node is) are read from the fallback, else missed.
func (c *Cache) mget(ctx context.Context, keys []string) [][]byte {
	vals, _ := c.mgetChecked(ctx, keys)
	return vals
}

// mgetChecked is mget that also says, per key, whether its value is unknown: the store
// failed for it and the fallback did not hold it (a miss is known: nil and false).
func (c *Cache) mgetChecked(ctx context.Context, keys []string) (vals [][]byte, unknown []bool) {
	vals, unknown = c.readThrough(ctx, keys, c.store.MGet)
	for i := range unknown {
		unknown[i] = unknown[i] && vals[i] == nil
	}
	return vals, unknown
}

// readThrough reads keys with get (the store's MGet, or a Stamper's Stamps) through the
// breaker. For the keys the store fails for (all of them when it is down or the breaker is
// open, some when one Cluster node is), failed is true and vals holds the fallback's values
// (whole values, whatever get reads), nil where it holds none.
func (c *Cache) readThrough(ctx context.Context, keys []string, get func(context.Context, []string) ([][]byte, error)) (vals [][]byte, failed []bool) {
	var partial *KeyErrors
	vals, err := c.breaker.Execute(func() ([][]byte, error) {
		vals, err := get(ctx, keys)
		if ke, ok := errors.AsType[*KeyErrors](err); ok && len(vals) == len(keys) {
			partial = ke // one node down is not the store down: keep the breaker closed
			return vals, nil
		}
		return vals, err
	})
	if err == nil && len(vals) != len(keys) {
		err = fmt.Errorf("store returned %d values for %d keys", len(vals), len(keys))
	}
	failed = make([]bool, len(keys))
	switch {
	case err != nil:
		c.storeFailed(ctx, "read", err)
		vals = make([][]byte, len(keys))
		c.fromFallback(keys, vals, all(len(keys)), failed)
	case partial != nil:
		c.storeFailed(ctx, "read", partial)
		c.forget(keys, partial.Failed)
		c.fromFallback(keys, vals, partial.Failed, failed)
	default:
		c.forget(keys, nil)
		c.storeAnswered()
	}
	return vals, failed
}

// forget drops from the fallback the keys the store has just answered for (all but failed):
// a copy kept there may predate a write another instance made since, and must not be read
// when the store fails again.
func (c *Cache) forget(keys []string, failed []int) {
	if c.o.Fallback == nil || c.o.Fallback.Len() == 0 {
		return
	}
	answered := make([]string, 0, len(keys)-len(failed))
	for i, k := range keys {
		if !slices.Contains(failed, i) {
			answered = append(answered, k)
		}
	}
	_ = c.o.Fallback.Del(context.Background(), answered...)
}

// set writes entries through the breaker; what the store fails to take goes to the fallback.
func (c *Cache) set(ctx context.Context, op string, entries []Entry) {
	var partial *KeyErrors
	_, err := c.breaker.Execute(func() ([][]byte, error) {
		err := c.store.SetMany(ctx, entries)
		if ke, ok := errors.AsType[*KeyErrors](err); ok {
			partial = ke
			return nil, nil
		}
		return nil, err
	})
	switch {
	case err != nil:
		c.storeFailed(ctx, op, err)
		c.keep(entries)
	case partial != nil:
		c.storeFailed(ctx, op, partial)
		failed := make([]Entry, len(partial.Failed))
		for j, i := range partial.Failed {
			failed[j] = entries[i]
		}
		c.keep(failed)
	}
}

// fromFallback sets vals at idx to the fallback's values (nil where it holds none), marking
// them in failed.
func (c *Cache) fromFallback(keys []string, vals [][]byte, idx []int, failed []bool) {
	want := make([]string, len(idx))
	for j, i := range idx {
		want[j], vals[i], failed[i] = keys[i], nil, true
	}
	if c.o.Fallback == nil {
		return
	}
	got, _ := c.o.Fallback.MGet(context.Background(), want)
	for j, i := range idx {
		if got[j] != nil {
			vals[i] = got[j]
			c.fallbackReads.Add(1)
		}
	}
}

// keep puts entries the store did not take into the fallback, for at most FallbackTTL.
func (c *Cache) keep(entries []Entry) {
	if c.o.Fallback == nil {
		return
	}
	short := make([]Entry, len(entries))
	for i, e := range entries {
		short[i] = Entry{Key: e.Key, Value: e.Value, TTL: min(e.TTL, c.o.FallbackTTL)}
	}
	_ = c.o.Fallback.SetMany(context.Background(), short)
}

// storeAnswered wakes the invalidations waiting to retry when the store answers a whole read
// again after failing.
func (c *Cache) storeAnswered() {
	if c.failing.CompareAndSwap(true, false) {
		c.wakeMu.Lock()
		close(c.wake)
		c.wake = make(chan struct{})
		c.wakeMu.Unlock()
	}
}

// woken is closed the next time the store answers again after failing.
func (c *Cache) woken() <-chan struct{} {
	c.wakeMu.Lock()
	defer c.wakeMu.Unlock()
	return c.wake
}

// storeFailed counts a store error and logs at most one line per LogEvery, saying how many
// were not logged in between, so a dead Redis does not flood the log.
func (c *Cache) storeFailed(ctx context.Context, op string, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	c.storeErrors.Add(1)
	c.failing.Store(true)
	suppressed, ok := c.logLimit.allow(c.o.Now())
	if !ok {
		return
	}
	c.o.Logger.WarnContext(ctx, "cache store unavailable, serving from upstream",
		"op", op, "error", err.Error(), "suppressed_since_last_log", suppressed)
}

// envelope is a decoded stored value.
type envelope struct {
	storedAt, freshUntil time.Time
	stamp, data          []byte
}

// newStamp is a new entry's stamp: 64 random bits, so that no two writes of a key, by any
// instance, share one, and a reader holding an entry under its stamp knows it is the stored
// one. Uniqueness is all it is for; it need not be unpredictable.
func newStamp() string {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], rand.Uint64())
	return hex.EncodeToString(b[:])
}

func encode(storedAt, freshUntil time.Time, stamp string, v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(data)+len(stamp)+40)
	b = append(b, "v2 "...)
	b = strconv.AppendInt(b, storedAt.UnixMilli(), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, freshUntil.UnixMilli(), 10)
	b = append(b, ' ')
	b = append(b, stamp...)
	b = append(b, '\n')
	return append(b, data...), nil
}

func decode(b []byte) (envelope, bool) {
	rest, ok := bytes.CutPrefix(b, []byte("v2 "))
	if !ok {
		return envelope{}, false
	}
	header, data, ok := bytes.Cut(rest, []byte("\n"))
	if !ok {
		return envelope{}, false
	}
	a, rest, ok1 := bytes.Cut(header, []byte(" "))
	f, stamp, ok2 := bytes.Cut(rest, []byte(" "))
	if !ok1 || !ok2 || len(stamp) == 0 || bytes.IndexByte(stamp, ' ') >= 0 {
		return envelope{}, false
	}
	stored, err1 := strconv.ParseInt(string(a), 10, 64)
	fresh, err2 := strconv.ParseInt(string(f), 10, 64)
	if err1 != nil || err2 != nil {
		return envelope{}, false
	}
	return envelope{storedAt: time.UnixMilli(stored), freshUntil: time.UnixMilli(fresh), stamp: stamp, data: data}, true
}
