package cache

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a Store over go-redis: a single node, a Sentinel-managed primary or a Cluster.
// It keeps entries' stamps apart (Stamper) and refresh locks (Locker).
type Redis struct {
	client  redis.UniversalClient
	cluster bool
}

// NewRedis wraps a client. Reads on a Cluster are pipelined GETs instead of one MGET, because a
// cluster refuses an MGET whose keys live in different slots (CROSSSLOT), and hash-tagging every
// key into one slot would put all of invitegw's load on one node.
func NewRedis(client redis.UniversalClient) *Redis {
	_, cluster := client.(*redis.ClusterClient)
	return &Redis{client: client, cluster: cluster}
}

// MGet implements Store.
func (r *Redis) MGet(ctx context.Context, keys []string) ([][]byte, error) {
	out := make([][]byte, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	if r.cluster {
		cmds := make([]*redis.StringCmd, len(keys))
		_, _ = r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range keys {
				cmds[i] = p.Get(ctx, k)
			}
			return nil
		})
		return out, perKey(len(keys), func(i int) error {
			b, err := cmds[i].Bytes()
			if err == nil {
				out[i] = b
			}
			return err
		})
	}
	vals, err := r.client.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, err
	}
	for i, v := range vals {
		if s, ok := v.(string); ok {
			out[i] = []byte(s)
		}
	}
	return out, nil
}

// perKey gathers the outcome of n pipelined commands: nil when each succeeded (a missing key
// is no failure), the first error when all failed, else *KeyErrors naming the failed ones.
func perKey(n int, errOf func(i int) error) error {
	var ke KeyErrors
	for i := range n {
		if err := errOf(i); err != nil && !errors.Is(err, redis.Nil) {
			ke.Failed = append(ke.Failed, i)
			if ke.Err == nil {
				ke.Err = err
			}
		}
	}
	switch len(ke.Failed) {
	case 0:
		return nil
	case n:
		return ke.Err
	}
	return &ke
}

// Stamps implements Stamper: one MGET of the stamp keys (pipelined GETs on a Cluster).
func (r *Redis) Stamps(ctx context.Context, keys []string) ([][]byte, error) {
	stamps := make([]string, len(keys))
	for i, k := range keys {
		stamps[i] = stampKey(k)
	}
	return r.MGet(ctx, stamps)
}

// SetMany implements Store with one pipeline of SET ... PX, an entry's stamp before its value
// (see Stamper).
func (r *Redis) SetMany(ctx context.Context, entries []Entry) error {
	if len(entries) == 0 {
		return nil
	}
	stamps, values := make([]*redis.StatusCmd, len(entries)), make([]*redis.StatusCmd, len(entries))
	_, _ = r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, e := range entries {
			if e.Stamp != "" {
				stamps[i] = p.Set(ctx, stampKey(e.Key), e.Stamp, e.TTL)
			}
			values[i] = p.Set(ctx, e.Key, e.Value, e.TTL)
		}
		return nil
	})
	return perKey(len(entries), func(i int) error {
		if stamps[i] != nil && stamps[i].Err() != nil {
			return stamps[i].Err()
		}
		return values[i].Err()
	})
}

// Del implements Store. On a Cluster each key is its own DEL (keys may live in different slots).
func (r *Redis) Del(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	if !r.cluster {
		return r.client.Del(ctx, keys...).Err()
	}
	cmds := make([]*redis.IntCmd, len(keys))
	_, _ = r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.Del(ctx, k)
		}
		return nil
	})
	return perKey(len(keys), func(i int) error { return cmds[i].Err() })
}

// RedisOptions say how to reach Redis.
type RedisOptions struct {
	// URL is redis://[user:password@]host:port[/db] or rediss:// for TLS.
	URL string
	// ClusterAddrs, when set, make a Cluster client; SentinelAddrs with MasterName a
	// Sentinel-managed one. Both take their password and TLS from URL's userinfo and scheme when
	// URL is set, else Password.
	ClusterAddrs  []string
	SentinelAddrs []string
	MasterName    string
	Password      string
}

// Timeouts for Redis calls: a cache that answers slower than this is worth less than the
// upstream call it was meant to save, so give up and fail open.
const (
	redisDialTimeout = 500 * time.Millisecond
	redisIOTimeout   = 250 * time.Millisecond
)

// NewRedisClient builds a client from options, with short timeouts and no retries: the
// Cache's breaker decides when Redis is worth asking again.
func NewRedisClient(o RedisOptions) (redis.UniversalClient, error) {
	u := &redis.UniversalOptions{
		Addrs:        o.ClusterAddrs,
		MasterName:   o.MasterName,
		Password:     o.Password,
		DialTimeout:  redisDialTimeout,
		ReadTimeout:  redisIOTimeout,
		WriteTimeout: redisIOTimeout,
		MaxRetries:   -1,
		// go-redis retries a failed dial 5 times, 100 ms apart, by default: half a second of
		// latency per request against a dead Redis before the breaker opens.
		DialerRetries:      1,
		DialerRetryTimeout: 10 * time.Millisecond,
	}
	if len(o.SentinelAddrs) > 0 {
		if o.MasterName == "" {
			return nil, errors.New("cache: a Sentinel setup needs the master name")
		}
		u.Addrs = o.SentinelAddrs
	}
	if o.URL != "" {
		parsed, err := redis.ParseURL(o.URL)
		if err != nil {
			// ParseURL's errors can quote the URL, password included: say only what is wrong.
			return nil, fmt.Errorf("cache: invalid Redis URL (want redis:// or rediss://host:port/db): %s", redactErr(err, o.URL))
		}
		if len(u.Addrs) == 0 {
			u.Addrs = []string{parsed.Addr}
		}
		u.Username, u.TLSConfig, u.DB = parsed.Username, parsed.TLSConfig, parsed.DB
		if parsed.Password != "" {
			u.Password = parsed.Password
		}
	}
	if len(u.Addrs) == 0 {
		return nil, errors.New("cache: no Redis address")
	}
	if len(o.ClusterAddrs) > 0 {
		co := u.Cluster()
		co.ClusterStateReloadInterval = clusterStateRefresh
		// One redirect: a MOVED answer after a failover goes to the slot's new master at
		// once (go-redis reloads the slot map on it). More would multiply the time spent on
		// a dead node's keys, which the Cache serves from elsewhere anyway.
		co.MaxRedirects = 1
		cc := redis.NewClusterClient(co)
		cc.OnNewNode(func(node *redis.Client) { node.AddHook(reloadOnFailure{cluster: cc}) })
		return cc, nil
	}
	if u.MasterName != "" {
		return redis.NewFailoverClient(u.Failover()), nil
	}
	return redis.NewClient(u.Simple()), nil
}

func redactErr(err error, secretish string) string {
	return strings.ReplaceAll(err.Error(), secretish, "<url>")
}
