package cache

import (
	"context"
	"crypto/rand"
	"sync"
	"time"
)

// Stale-while-revalidate (Options.StaleWhileRevalidate): an entry read after its freshness but
// within the window is the caller's answer at once (Result.Revalidating), and a refresh starts
// in the background, detached from the request. There is one per key in an instance (the
// refreshing map, which also defers to a flight already fetching the key) and one per key
// among the instances sharing a store (Locker: the others go on serving their copy). A refresh
// that fails leaves the copy served until its window ends; then callers wait, as on any miss.
//
// A refresh never stores what a write may have made stale: Invalidate marks this instance's
// refresh of the key, and deletes the key's lock in a shared store, so that a refresh running
// anywhere cannot write under it (SetLocked checks the lock and writes in one script).

// Bounds of a background refresh.
const (
	// revalidateTimeout bounds one refresh, all its upstream calls included.
	revalidateTimeout = 10 * time.Second
	// lockTTL outlives the refresh holding the lock, so that the lock does not lapse while it
	// runs and let another instance start a second one; an instance that stops mid-refresh
	// leaves a lock that lapses by itself.
	lockTTL = revalidateTimeout + time.Second
	// revalidateRetry is how long an instance waits before trying again to refresh a key
	// whose lock another instance held, or whose refresh failed: the copy is served meanwhile,
	// and neither the store nor the upstream is asked on every read.
	revalidateRetry = time.Second
)

// refresh is this instance's background refresh of one key while running; once it has ended
// without storing a value, the time before which no other is tried.
type refresh struct {
	running bool
	done    chan struct{} // closed when a running refresh ends
	retryAt time.Time
	// invalidated is set by Invalidate: what is being fetched may predate a write.
	invalidated bool
}

// lockKey is the key of key's refresh lock in a shared store.
func lockKey(key string) string { return key + ":lock" }

// revalidate refreshes the keys at idx in the background, each unless this instance is
// fetching or refreshing it already, or has tried lately without storing a value.
func revalidate[K comparable, V any](ctx context.Context, c *Cache, kind Kind[K, V], keys []K, skeys []string, idx []int,
	fetch func(context.Context, K) (V, error)) {
	now := c.o.Now()
	var mine []int
	c.mu.Lock()
	if len(c.refreshing) >= maxDecoded {
		for key, r := range c.refreshing {
			if !r.running && !now.Before(r.retryAt) {
				delete(c.refreshing, key)
			}
		}
	}
	for _, i := range idx {
		if _, fetching := c.flights[skeys[i]]; fetching {
			continue
		}
		if r, ok := c.refreshing[skeys[i]]; ok && (r.running || now.Before(r.retryAt)) {
			continue
		}
		c.refreshing[skeys[i]] = &refresh{running: true, done: make(chan struct{})}
		mine = append(mine, i)
	}
	c.mu.Unlock()
	if len(mine) == 0 {
		return
	}
	// The request has its answer and may end at once; Close waits for the refresh.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), revalidateTimeout)
	track := c.track()
	go func() {
		defer track()
		defer cancel()
		var wg sync.WaitGroup
		sem := make(chan struct{}, c.o.MaxConcurrent)
		for _, i := range mine {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				refreshKey(ctx, c, kind, keys[i], skeys[i], fetch)
			})
		}
		wg.Wait()
	}()
}

// refreshKey refreshes key (k's): under its lock in a shared store, unless another instance
// holds it or has refreshed the key since it was read.
func refreshKey[K comparable, V any](ctx context.Context, c *Cache, kind Kind[K, V], k K, key string, fetch func(context.Context, K) (V, error)) {
	fresh := false // whether the key holds a fresh value when this ends
	defer func() { c.endRefresh(key, fresh) }()
	token, ok := c.lock(ctx, key)
	if !ok {
		c.revalidationsLocked.Add(1)
		return
	}
	if token != "" {
		defer c.unlock(ctx, key, token)
	}
	// An instance that held the lock a moment ago may have stored a fresh value since this
	// one read the key: then there is nothing to do.
	if e := read[V](ctx, c, []string{key})[0]; e.ok && c.o.Now().Before(e.freshUntil) {
		fresh = true
		return
	}
	c.revalidations.Add(1)
	v, err := safeFetch(ctx, c, fetch, k)
	if err != nil {
		c.refreshErrs.Add(1)
		if suppressed, ok := c.refreshLog.allow(c.o.Now()); ok {
			c.o.Logger.WarnContext(ctx, "cache: refresh failed; the expired copy is served until its window ends",
				"key", key, "error", err.Error(), "suppressed_since_last_log", suppressed)
		}
		return
	}
	fetched := c.o.Now()
	e, ok := c.entry(ctx, key, fetched, freshUntil(kind, v, fetched), v)
	if !ok {
		return
	}
	c.mu.Lock()
	invalidated := c.refreshing[key].invalidated
	c.mu.Unlock()
	switch {
	case invalidated:
		// A write here made the key stale while this ran: the next read fetches it again.
	case token == "":
		c.set(ctx, "refresh write", []Entry{e})
		fresh = true
	default:
		fresh = c.setLocked(ctx, key, token, e)
	}
}

// endRefresh ends this instance's refresh of key; unless the key is fresh now, the next is
// held off for revalidateRetry.
func (c *Cache) endRefresh(key string, fresh bool) {
	c.mu.Lock()
	if r := c.refreshing[key]; r != nil && r.running {
		close(r.done)
	}
	if fresh {
		delete(c.refreshing, key)
	} else {
		c.refreshing[key] = &refresh{retryAt: c.o.Now().Add(revalidateRetry)}
	}
	c.mu.Unlock()
	if c.refreshed != nil {
		c.refreshed(key)
	}
}

// lock takes key's refresh lock in a shared store: its token, and false when another
// instance holds it. A store without locks, or one that fails, gives "" and true: the refresh
// goes ahead, as a miss would.
func (c *Cache) lock(ctx context.Context, key string) (token string, ok bool) {
	l, shared := c.store.(Locker)
	if !shared {
		return "", true
	}
	token = rand.Text()
	_, err := c.breaker.Execute(func() ([][]byte, error) {
		var err error
		ok, err = l.Lock(ctx, lockKey(key), token, lockTTL)
		return nil, err
	})
	if err != nil {
		c.storeFailed(ctx, "lock", err)
		return "", true
	}
	return token, ok
}

// unlock releases key's refresh lock if it is still token's.
func (c *Cache) unlock(ctx context.Context, key, token string) {
	_, err := c.breaker.Execute(func() ([][]byte, error) {
		return nil, c.store.(Locker).Unlock(ctx, lockKey(key), token)
	})
	if err != nil {
		c.storeFailed(ctx, "unlock", err)
	}
}

// setLocked writes e while key's lock is token's, reporting whether e is now served: written,
// or kept in the fallback when the store fails (as any write is).
func (c *Cache) setLocked(ctx context.Context, key, token string, e Entry) bool {
	var written bool
	_, err := c.breaker.Execute(func() ([][]byte, error) {
		var err error
		written, err = c.store.(Locker).SetLocked(ctx, lockKey(key), token, e)
		return nil, err
	})
	if err != nil {
		c.storeFailed(ctx, "refresh write", err)
		c.keep([]Entry{e})
		return true
	}
	return written
}

type waitKey struct{}

// WaitForRefresh marks ctx as a caller that would rather wait for fresh values than be
// answered with copies in their stale-while-revalidate window: Load still starts the
// refreshes as for anyone, then waits for those this instance runs and answers with what they
// stored. A copy another instance is refreshing (it holds the key's lock) is still the answer.
// For background work, such as a response being rebuilt while its old copy is served.
func WaitForRefresh(ctx context.Context) context.Context {
	return context.WithValue(ctx, waitKey{}, true)
}

// awaitRefreshes waits, for a caller marked by WaitForRefresh, for this instance's refreshes
// of the keys at idx, then answers the ones they left fresh.
func awaitRefreshes[V any](ctx context.Context, c *Cache, skeys []string, idx []int, results []Result[V]) {
	if wait, _ := ctx.Value(waitKey{}).(bool); !wait {
		return
	}
	var running []chan struct{}
	c.mu.Lock()
	for _, i := range idx {
		if r, ok := c.refreshing[skeys[i]]; ok && r.running {
			running = append(running, r.done)
		}
	}
	c.mu.Unlock()
	for _, done := range running {
		select {
		case <-done:
		case <-ctx.Done():
			return
		}
	}
	// Not the caller's first read: only fresh values replace the copies it holds.
	lookup(ctx, c, skeys, idx, results, map[int]cached[V]{}, false)
}
