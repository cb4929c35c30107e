// Package ratelimit keeps the gateway's calls to a provider within a budget: a token bucket of
// Rate calls a second, Burst of them at once, per upstream tenant (one credential at one base
// URL: the provider's limit belongs to the credential, not to a replica). It is the
// upstream.Limiter of a provider's upstream.Policy.
//
// With Redis, every replica draws from one bucket, kept by github.com/go-redis/redis_rate (GCRA
// in a Lua script, on Redis's clock) under <cache.Prefix>rate:<provider>:<tenant>. Without Redis,
// and while Redis fails, each instance keeps the budget by itself in memory
// (golang.org/x/time/rate): a Redis outage never stops traffic, it only lets each replica spend
// a whole budget for a while.
//
// A provider that says its quota is spent (a Redpanda ratelimit header with remaining=0,
// Elastic's x-ratelimit-remaining: 0, a 429's Retry-After) has its calls held (refused) until
// the moment it named, on every replica: the hold is kept in Redis beside the bucket
// (<cache.Prefix>rate:<provider>:<tenant>:hold), and in memory too.
//
// Nothing waits for a token. Allow answers at once, so a call over budget fails fast with
// upstream.ErrThrottled and the cache can answer with a stale copy, and nothing ever queues
// behind the budget. Waiting a little (up to one token's interval, 120 ms at Redpanda's
// default) would smooth a burst only slightly over budget, but redis_rate cannot reserve a
// token for later, so a waiter could lose the token to another replica and wait for nothing;
// and a cache miss already makes one call for every request that wants the same data.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/invitegw/invitegw/cache"
	"github.com/invitegw/invitegw/upstream"
)

// Bounds of the limiter's own work.
const (
	// MaxHold bounds a hold: a provider's hint beyond it is more likely broken than meant,
	// and a call after it learns the provider's state again.
	MaxHold = 5 * time.Minute
	// redisTimeout bounds each Redis call, as the cache's calls are bounded: a slow Redis must
	// not slow every upstream call.
	redisTimeout = 250 * time.Millisecond
	// redisRetry is how long the in-memory budget answers alone after a Redis call failed,
	// before Redis is asked again: a dead Redis costs one timeout per second, not one per call.
	redisRetry = time.Second
	// logEvery bounds logging of Redis failures and holds to one line a minute each.
	logEvery = time.Minute
)

// Options configure a Limiter.
type Options struct {
	// Provider names the provider in logs.
	Provider string
	// Rate is how many calls a second the budget refills with, and Burst how many may go at
	// once from a full budget. Both must be positive: config holds the defaults (and its 0
	// means no limiter at all). Rate is rounded to whole calls an hour, the period redis_rate
	// is given (its rates are whole numbers), so it is at least one call an hour.
	Rate  float64
	Burst int
	// Redis, when set, shares budgets and holds with every replica that uses it; nil keeps
	// them in this process.
	Redis redis.UniversalClient
	// Logger receives Redis failures and holds, each at most once a minute; slog.Default()
	// when nil.
	Logger *slog.Logger
	// Now is the clock of holds and of the in-memory budget (the Redis budget runs on Redis's
	// clock); time.Now when nil.
	Now func() time.Time
}

var _ upstream.Limiter = (*Limiter)(nil)

// Limiter is a provider's budget. Safe for concurrent use; build one per provider.
type Limiter struct {
	o      Options
	limit  redis_rate.Limit // the budget as redis_rate counts it: calls per hour
	local  rate.Limit       // the same, per second, for the in-memory budget
	shared *redis_rate.Limiter

	mu      sync.Mutex
	tenants map[upstream.Tenant]*bucket

	// redisAfter is when Redis may be asked again after a failure (UnixNano on o.Now's clock).
	redisAfter         atomic.Int64
	redisLog, holdLog  every
	throttled, held    atomic.Int64
	holds, redisErrors atomic.Int64
}

// bucket is one tenant's budget in this process.
type bucket struct {
	key   string // the Redis key of the shared budget; key+":hold" holds the hold
	local *rate.Limiter

	mu        sync.Mutex
	heldUntil time.Time
}

// New returns a limiter, or an error for a burst that is not positive or a rate it cannot keep
// (under one call an hour, or over what redis_rate can count).
func New(o Options) (*Limiter, error) {
	perHour := math.Round(o.Rate * 3600)
	if math.IsNaN(o.Rate) || perHour < 1 || perHour > math.MaxInt32 {
		return nil, fmt.Errorf("ratelimit: %s: rate must be from 1/3600 to %d calls a second, got %v", o.Provider, math.MaxInt32/3600, o.Rate)
	}
	if o.Burst < 1 {
		return nil, fmt.Errorf("ratelimit: %s: burst must be at least 1, got %d", o.Provider, o.Burst)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	l := &Limiter{
		o:       o,
		limit:   redis_rate.Limit{Rate: int(perHour), Burst: o.Burst, Period: time.Hour},
		local:   rate.Limit(perHour / 3600),
		tenants: map[upstream.Tenant]*bucket{},
	}
	if o.Redis != nil {
		l.shared = redis_rate.NewLimiter(ownKeys{o.Redis})
	}
	return l, nil
}

// Stats are a limiter's counters since start.
type Stats struct {
	// Throttled counts calls refused because the budget was spent, Held those refused while
	// the provider said its quota was spent.
	Throttled, Held int64
	// Holds counts the answers that said so.
	Holds int64
	// RedisErrors counts failed Redis calls; the in-memory budget answered instead.
	RedisErrors int64
}

// Stats returns the counters.
func (l *Limiter) Stats() Stats {
	return Stats{Throttled: l.throttled.Load(), Held: l.held.Load(), Holds: l.holds.Load(), RedisErrors: l.redisErrors.Load()}
}

// Allow implements upstream.Limiter: it takes a token of t's budget, from Redis when there is
// one and it answers, else from this process's.
func (l *Limiter) Allow(ctx context.Context, t upstream.Tenant) (bool, time.Duration) {
	b := l.tenant(t)
	now := l.o.Now()
	if until := b.until(); now.Before(until) {
		l.held.Add(1)
		return false, until.Sub(now)
	}
	if l.redisUp(now) {
		ok, wait, err := l.allowShared(ctx, b, now)
		if err == nil {
			return ok, wait
		}
		l.redisFailed(ctx, err, now)
	}
	r := b.local.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		l.throttled.Add(1)
		return false, d
	}
	return true, 0
}

// allowShared takes the token from the Redis budget, after checking the shared hold.
func (l *Limiter) allowShared(ctx context.Context, b *bucket, now time.Time) (bool, time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), redisTimeout)
	defer cancel()
	until, err := l.o.Redis.Get(ctx, b.key+":hold").Int64()
	switch {
	case errors.Is(err, redis.Nil):
	case err != nil:
		return false, 0, err
	case until > now.UnixMilli():
		held := time.UnixMilli(until)
		b.holdUntil(held) // asked no more until it ends
		l.held.Add(1)
		return false, held.Sub(now), nil
	}
	res, err := l.shared.Allow(ctx, b.key, l.limit)
	if err != nil {
		return false, 0, err
	}
	if res.Allowed == 0 {
		l.throttled.Add(1)
		return false, max(0, res.RetryAfter), nil
	}
	return true, 0, nil
}

// Hold implements upstream.Limiter: t's calls are refused for d (at most MaxHold), here and,
// through Redis, on every replica. A hold never shortens one already in place.
func (l *Limiter) Hold(ctx context.Context, t upstream.Tenant, d time.Duration) {
	d = min(d, MaxHold)
	if d <= 0 {
		return
	}
	b := l.tenant(t)
	now := l.o.Now()
	until := now.Add(d)
	b.holdUntil(until)
	l.holds.Add(1)
	if n, ok := l.holdLog.allow(now); ok {
		l.o.Logger.WarnContext(ctx, "upstream says its rate limit is spent: holding its calls",
			"provider", l.o.Provider, "seconds", d.Seconds(), "holds_since_last_log", n)
	}
	if !l.redisUp(now) {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), redisTimeout)
	defer cancel()
	if err := holdScript.Run(ctx, l.o.Redis, []string{b.key + ":hold"}, until.UnixMilli(), d.Milliseconds()).Err(); err != nil &&
		!errors.Is(err, redis.Nil) {
		l.redisFailed(ctx, err, now)
	}
}

// holdScript sets a hold's end (ARGV[1], Unix ms) to expire with it (ARGV[2] ms from now),
// unless a later end is already set.
var holdScript = redis.NewScript(`
local cur = tonumber(redis.call("GET", KEYS[1]) or "0") or 0
if tonumber(ARGV[1]) > cur then
  redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
end
return 1
`)

// tenant is t's budget in this process, made the first time t calls (a provider's clients
// have one credential each, so there are as many as clients).
func (l *Limiter) tenant(t upstream.Tenant) *bucket {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.tenants[t]
	if !ok {
		b = &bucket{key: key(t), local: rate.NewLimiter(l.local, l.o.Burst)}
		l.tenants[t] = b
	}
	return b
}

// key is the Redis key of t's shared budget: the tenant is a hash of the provider, the base
// URL and the credential's hash, as the cache's tenants are (cache.Tenant).
func key(t upstream.Tenant) string {
	return cache.Prefix + "rate:" + t.Provider + ":" + cache.Tenant(t.Provider, t.BaseURL, t.CredentialID)
}

func (b *bucket) until() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.heldUntil
}

func (b *bucket) holdUntil(t time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t.After(b.heldUntil) {
		b.heldUntil = t
	}
}

// redisUp reports whether Redis is configured and not given up on for now.
func (l *Limiter) redisUp(now time.Time) bool {
	return l.o.Redis != nil && now.UnixNano() >= l.redisAfter.Load()
}

// redisFailed counts a failed Redis call, leaves Redis alone for redisRetry, and logs at most
// once a minute.
func (l *Limiter) redisFailed(ctx context.Context, err error, now time.Time) {
	l.redisErrors.Add(1)
	l.redisAfter.Store(now.Add(redisRetry).UnixNano())
	if n, ok := l.redisLog.allow(now); ok {
		l.o.Logger.WarnContext(ctx, "rate limiter: redis failed; this instance keeps to the budget by itself",
			"provider", l.o.Provider, "error", err.Error(), "failures_since_last_log", n)
	}
}

// every lets one log line through per logEvery, and counts the others.
type every struct {
	mu      sync.Mutex
	last    time.Time
	skipped int
}

func (e *every) allow(now time.Time) (skipped int, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.last.IsZero() && now.Sub(e.last) < logEvery {
		e.skipped++
		return 0, false
	}
	skipped, e.skipped, e.last = e.skipped, 0, now
	return skipped, true
}

// ownKeys is the Redis client as redis_rate sees it, without the "rate:" the library puts in
// front of every key: the budgets then live under invitegw's prefix, with everything else the
// gateway writes (one pattern for SCAN, ACLs and eviction).
type ownKeys struct{ redis.UniversalClient }

// libraryPrefix is what redis_rate puts in front of a key.
const libraryPrefix = "rate:"

func ours(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = strings.TrimPrefix(k, libraryPrefix)
	}
	return out
}

func (c ownKeys) Eval(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return c.UniversalClient.Eval(ctx, script, ours(keys), args...)
}

func (c ownKeys) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return c.UniversalClient.EvalSha(ctx, sha1, ours(keys), args...)
}

func (c ownKeys) EvalRO(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return c.UniversalClient.EvalRO(ctx, script, ours(keys), args...)
}

func (c ownKeys) EvalShaRO(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return c.UniversalClient.EvalShaRO(ctx, sha1, ours(keys), args...)
}

func (c ownKeys) Del(ctx context.Context, keys ...string) *redis.IntCmd {
	return c.UniversalClient.Del(ctx, ours(keys)...)
}
