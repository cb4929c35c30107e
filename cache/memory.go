package cache

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Memory is an in-process Store for -demo, for running without Redis, and for the fallback
// while Redis fails. It is bounded in entries and in bytes (keys and values): past either
// bound it drops the least recently used entries (github.com/hashicorp/golang-lru's
// simplelru keeps the order), so neither many small entries nor a few large ones (whole
// responses to queries with large pages) can grow it without limit, and what is read stays.
//
// A W-TinyLFU cache (github.com/maypok86/otter/v2) was weighed and not taken: it evicts a
// new entry larger than its admission window (1% of the bound) at once, so the fallback would
// drop every list over a third of a megabyte, the very entries it exists to keep.
type Memory struct {
	now        func() time.Time
	maxEntries int
	maxBytes   int

	mu    sync.Mutex
	lru   *simplelru.LRU[string, memEntry]
	bytes int
}

type memEntry struct {
	value   []byte
	expires time.Time
}

// Default bounds of a Memory store: invitegw keeps a handful of keys per organization, plus one
// per distinct query in the response cache.
const (
	DefaultMaxEntries = 100_000
	DefaultMaxBytes   = 256 << 20
)

// NewMemory returns an empty store. now may be nil (time.Now).
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	m := &Memory{now: now, maxEntries: DefaultMaxEntries, maxBytes: DefaultMaxBytes}
	// The entry bound is enforced below, with the byte bound; the LRU's own is out of reach.
	m.lru, _ = simplelru.NewLRU[string, memEntry](math.MaxInt, func(k string, e memEntry) { m.bytes -= entrySize(k, e.value) })
	return m
}

// SetLimits changes the bounds (for tests and small deployments); non-positive keeps one.
func (m *Memory) SetLimits(maxEntries, maxBytes int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if maxEntries > 0 {
		m.maxEntries = maxEntries
	}
	if maxBytes > 0 {
		m.maxBytes = maxBytes
	}
	m.shrink(0, 0)
}

func entrySize(k string, v []byte) int { return len(k) + len(v) }

// MGet implements Store.
func (m *Memory) MGet(_ context.Context, keys []string) ([][]byte, error) {
	now := m.now()
	out := make([][]byte, len(keys))
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, k := range keys {
		if e, ok := m.lru.Get(k); ok {
			if now.Before(e.expires) {
				out[i] = e.value
			} else {
				m.lru.Remove(k)
			}
		}
	}
	return out, nil
}

// SetMany implements Store. Values are kept as given: callers must not modify them afterwards.
func (m *Memory) SetMany(_ context.Context, entries []Entry) error {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range entries {
		m.lru.Remove(e.Key)
		size := entrySize(e.Key, e.Value)
		if e.TTL <= 0 || size > m.maxBytes/10 {
			continue // deleted, or too large to keep without crowding out everything else
		}
		m.shrink(1, size)
		m.lru.Add(e.Key, memEntry{value: e.Value, expires: now.Add(e.TTL)})
		m.bytes += size
	}
	return nil
}

// shrink drops least recently used entries until n more entries of size bytes in all fit
// both bounds.
func (m *Memory) shrink(n, size int) {
	for m.lru.Len() > 0 && (m.lru.Len()+n > m.maxEntries || m.bytes+size > m.maxBytes) {
		m.lru.RemoveOldest()
	}
}

// Del implements Store.
func (m *Memory) Del(_ context.Context, keys ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		m.lru.Remove(k)
	}
	return nil
}

// Bytes is the size of what is held (keys and values), expired or not.
func (m *Memory) Bytes() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bytes
}

// Len is the number of entries held, expired or not.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lru.Len()
}
