package idempotency

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a Store shared by every replica, over go-redis: a single node, a Sentinel-managed
// primary or a Cluster. Each method is one Lua script on one key (EVALSHA, EVAL when the
// script is not loaded yet), which Redis runs atomically and a Cluster routes to the key's
// node; scripts rather than SET NX GET, which needs Redis 7.
type Redis struct {
	client redis.UniversalClient
}

// NewRedis wraps a client.
func NewRedis(client redis.UniversalClient) *Redis { return &Redis{client: client} }

// reserveScript returns what KEYS[1] holds, or sets it to ARGV[1] for ARGV[2] ms and returns
// nil.
var reserveScript = redis.NewScript(`
local held = redis.call('GET', KEYS[1])
if held then return held end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
`)

// replaceScript sets KEYS[1] to ARGV[2] for ARGV[3] ms if it holds ARGV[1]; 1 if it did.
var replaceScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`)

// releaseScript deletes KEYS[1] if it holds ARGV[1]; 1 if it did.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
`)

// ms is ttl in whole milliseconds for PX, at least 1.
func ms(ttl time.Duration) int64 { return max(1, ttl.Milliseconds()) }

// Reserve implements Store.
func (r *Redis) Reserve(ctx context.Context, key string, value []byte, ttl time.Duration) ([]byte, error) {
	held, err := reserveScript.Run(ctx, r.client, []string{key}, value, ms(ttl)).Text()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("idempotency: reserve: %w", err)
	}
	return []byte(held), nil
}

// Replace implements Store.
func (r *Redis) Replace(ctx context.Context, key string, old, value []byte, ttl time.Duration) (bool, error) {
	n, err := replaceScript.Run(ctx, r.client, []string{key}, old, value, ms(ttl)).Int()
	if err != nil {
		return false, fmt.Errorf("idempotency: replace: %w", err)
	}
	return n == 1, nil
}

// Release implements Store.
func (r *Redis) Release(ctx context.Context, key string, old []byte) (bool, error) {
	n, err := releaseScript.Run(ctx, r.client, []string{key}, old).Int()
	if err != nil {
		return false, fmt.Errorf("idempotency: release: %w", err)
	}
	return n == 1, nil
}
