package cache

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// Bounds of an invalidation's attempts: each store call, the wait between attempts.
const (
	invalidateAttempt    = time.Second
	invalidateRetryFirst = 50 * time.Millisecond
	invalidateRetryMax   = 500 * time.Millisecond
)

// Invalidate deletes del and writes set (a new response generation, say) after a write
// upstream made them stale, so that no instance sharing the store serves the data from
// before it. A write must never be lost silently, so unlike every other store call this one
// does not go through the breaker and does not end with the request: it runs detached from
// ctx (a client that disconnects right after the answer does not cancel it), and is retried
// until it lands or until within has passed (then the entries it would have removed are no
// longer fresh anyway); giving up is counted and logged. It waits for the first attempt, so
// in normal operation the invalidation has landed when it returns; while the store fails,
// this instance's fallback is updated at once and the retries run in the background,
// straight away when the store answers again.
//
// A deleted entry is not served stale-while-revalidate either (it is gone, and so is its
// stamp: no instance uses its decoded copy), and a background refresh of it that was running
// does not store what it fetched: this instance's is told so, and the key's lock in a shared
// store is deleted with the key, so that no instance's refresh can write under it. Entries are
// served that long past their freshness, so the retries go on for the stale-while-revalidate
// window beyond within.
//
// One race remains, as in any cache-aside: a fetch for a miss that started before the write
// upstream and stores its older value after this deleted it leaves that value (and responses
// built on it, under the new generation) in place until its TTL.
func (c *Cache) Invalidate(ctx context.Context, del []string, set []Entry, within time.Duration) {
	within += c.o.StaleWhileRevalidate
	c.mu.Lock()
	for _, k := range del {
		if r, ok := c.refreshing[k]; ok && r.running {
			r.invalidated = true
		}
	}
	c.mu.Unlock()
	c.memo.drop(del)
	del = c.withSidecars(del)
	if c.o.Fallback != nil {
		_ = c.o.Fallback.Del(ctx, del...)
		for _, e := range set {
			_ = c.o.Fallback.SetMany(ctx, []Entry{{Key: e.Key, Value: e.Value, TTL: min(e.TTL, c.o.FallbackTTL)}})
		}
	}
	ctx = context.WithoutCancel(ctx)
	attempt := func() error {
		actx, cancel := context.WithTimeout(ctx, invalidateAttempt)
		defer cancel()
		var errs []error
		if len(del) > 0 {
			errs = append(errs, c.store.Del(actx, del...))
		}
		if len(set) > 0 {
			errs = append(errs, c.store.SetMany(actx, set))
		}
		return errors.Join(errs...)
	}
	first := make(chan struct{})
	deadline := time.Now().Add(within)
	track := c.track()
	go func() {
		defer track()
		err := attempt()
		if err != nil {
			c.invalidationRetries.Add(1)
			c.storeFailed(ctx, "invalidate", err)
		}
		close(first) // after counting: the caller may read the counters as soon as it returns
		if err == nil {
			return
		}
		wait := invalidateRetryFirst
		for tries := 1; ; tries++ {
			if !time.Now().Before(deadline) {
				c.lost.Add(1)
				c.o.Logger.ErrorContext(ctx, "cache invalidation given up: other instances may serve the data from before a write until it expires",
					"keys", len(del)+len(set), "attempts", tries, "error", err.Error())
				return
			}
			timer := time.NewTimer(min(wait/2+rand.N(wait/2+1), time.Until(deadline)))
			select {
			case <-timer.C:
			case <-c.woken():
				timer.Stop()
			}
			if err = attempt(); err == nil {
				c.o.Logger.InfoContext(ctx, "cache invalidation landed after retries", "attempts", tries+1)
				return
			}
			wait = min(2*wait, invalidateRetryMax)
		}
	}()
	<-first
}

// withSidecars is keys with the keys a Stamper and a Locker keep beside each: an entry's stamp
// first, so that no reader finds it once its value is gone (see Stamper), and its refresh lock.
func (c *Cache) withSidecars(keys []string) []string {
	_, stamps := c.store.(Stamper)
	_, locks := c.store.(Locker)
	if !stamps && !locks {
		return keys
	}
	all := make([]string, 0, 3*len(keys))
	for _, k := range keys {
		if stamps {
			all = append(all, stampKey(k))
		}
		all = append(all, k)
		if locks {
			all = append(all, lockKey(k))
		}
	}
	return all
}

// Close waits, until ctx ends, for invalidations still being retried and for fetches and
// background refreshes still running: an instance stopping right after a write still lands
// it, and a fetch its request gave up on still stores its value. Call it once no request can
// start a new one.
func (c *Cache) Close(ctx context.Context) error {
	c.closeMu.Lock()
	c.closing = true
	c.closeMu.Unlock()
	done := make(chan struct{})
	go func() {
		c.pending.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// track counts background work for Close, and returns what ends it. After Close has begun
// (a handler outliving the server's shutdown timeout) nothing is counted any more.
func (c *Cache) track() (done func()) {
	c.closeMu.RLock()
	defer c.closeMu.RUnlock()
	if c.closing {
		return func() {}
	}
	c.pending.Add(1)
	return c.pending.Done
}
