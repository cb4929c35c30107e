package idempotency

import (
	"bytes"
	"context"
	"sync"
	"time"

	"github.com/invitegw/invitegw/cache"
)

// Store keeps the records. Each method is atomic on its one key, so that replicas sharing a
// store agree on which of them runs a request; no method touches two keys, so a Redis Cluster
// serves each from the node of its slot.
type Store interface {
	// Reserve stores value under key for ttl unless key holds a value already; it returns the
	// value key holds, or nil when it stored this one.
	Reserve(ctx context.Context, key string, value []byte, ttl time.Duration) (held []byte, err error)
	// Replace stores value under key for ttl if key still holds old, and reports whether it
	// did.
	Replace(ctx context.Context, key string, old, value []byte, ttl time.Duration) (bool, error)
	// Release deletes key if it still holds old, and reports whether it did.
	Release(ctx context.Context, key string, old []byte) (bool, error)
}

// Memory is a Store in this process, for running without Redis: it holds for one replica
// only. It is bounded in entries and in bytes, with per-entry expiry, by cache.Memory (an
// LRU); past a bound the least recently used records go, and a request whose record went runs
// again, as does one whose response is over a tenth of the byte bound (cache.Memory keeps
// none that large). Its defaults (cache.DefaultMaxEntries, cache.DefaultMaxBytes) hold far
// more records than a day of mutations at the gateway's rates, and responses up to 25 MiB.
//
// hashicorp/golang-lru's expirable LRU was weighed and not taken: it has one TTL for all
// entries (reservations and responses need two), reads the wall clock (tests could not move
// it), and starts a goroutine per cache that nothing stops.
type Memory struct {
	mu sync.Mutex // makes each method's read-then-write atomic
	m  *cache.Memory
}

// NewMemory returns an empty store. now may be nil (time.Now).
func NewMemory(now func() time.Time) *Memory {
	return &Memory{m: cache.NewMemory(now)}
}

func (s *Memory) get(ctx context.Context, key string) []byte {
	v, _ := s.m.MGet(ctx, []string{key}) // never fails
	return v[0]
}

func (s *Memory) set(ctx context.Context, key string, value []byte, ttl time.Duration) {
	// The copy keeps the caller's slice out of the store (cache.Memory keeps what it is given).
	_ = s.m.SetMany(ctx, []cache.Entry{{Key: key, Value: bytes.Clone(value), TTL: ttl}})
}

// Reserve implements Store.
func (s *Memory) Reserve(ctx context.Context, key string, value []byte, ttl time.Duration) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if held := s.get(ctx, key); held != nil {
		return held, nil
	}
	s.set(ctx, key, value, ttl)
	return nil, nil
}

// Replace implements Store.
func (s *Memory) Replace(ctx context.Context, key string, old, value []byte, ttl time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if held := s.get(ctx, key); held == nil || !bytes.Equal(held, old) {
		return false, nil
	}
	s.set(ctx, key, value, ttl)
	return true, nil
}

// Release implements Store.
func (s *Memory) Release(ctx context.Context, key string, old []byte) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if held := s.get(ctx, key); held == nil || !bytes.Equal(held, old) {
		return false, nil
	}
	_ = s.m.Del(ctx, key)
	return true, nil
}
