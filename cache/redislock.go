package cache

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

var (
	_ Locker  = (*Redis)(nil)
	_ Stamper = (*Redis)(nil)
)

// The scripts compare the lock's token and act in one step: a check and a command sent one
// after the other could act on a lock taken by someone else in between.
var (
	unlockScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end
return 0`)
	setLockedScript = redis.NewScript(`if redis.call("GET", KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] ~= "" then redis.call("SET", KEYS[2], ARGV[2], "PX", ARGV[4]) end
redis.call("SET", KEYS[3], ARGV[3], "PX", ARGV[4])
return 1`)
)

// Lock implements Locker with SET lock token NX PX ttl.
func (r *Redis) Lock(ctx context.Context, lock, token string, ttl time.Duration) (bool, error) {
	return r.client.SetNX(ctx, lock, token, ttl).Result()
}

// SetLocked implements Locker with a script, which writes the entry's stamp first as SetMany
// does. On a Cluster the script's keys must be in one slot: Key's hash tag puts an entry's
// lock (lockKey), stamp and value there.
func (r *Redis) SetLocked(ctx context.Context, lock, token string, e Entry) (bool, error) {
	n, err := setLockedScript.Run(ctx, r.client, []string{lock, stampKey(e.Key), e.Key},
		token, e.Stamp, e.Value, max(e.TTL.Milliseconds(), 1)).Int()
	return n == 1, err
}

// Unlock implements Locker with a compare-and-delete script.
func (r *Redis) Unlock(ctx context.Context, lock, token string) error {
	return unlockScript.Run(ctx, r.client, []string{lock}, token).Err()
}
