package cache

import (
	"context"
	"sync"
	"time"
)

// Memory is an in-process Store for -demo and for running without Redis. It is bounded in
// entries and in bytes (keys and values): past either bound it drops expired entries, then
// arbitrary ones, so neither many small entries nor a few large ones (whole responses to
// queries with large pages) can grow it without limit.
type Memory struct {
	now        func() time.Time
	maxEntries int
	maxBytes   int

	mu      sync.Mutex
	entries map[string]memEntry
	bytes   int
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
	return &Memory{now: now, maxEntries: DefaultMaxEntries, maxBytes: DefaultMaxBytes, entries: map[string]memEntry{}}
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
}

func entrySize(k string, v []byte) int { return len(k) + len(v) }

func (m *Memory) remove(k string) {
	if e, ok := m.entries[k]; ok {
		m.bytes -= entrySize(k, e.value)
		delete(m.entries, k)
	}
}

// MGet implements Store.
func (m *Memory) MGet(_ context.Context, keys []string) ([][]byte, error) {
	now := m.now()
	out := make([][]byte, len(keys))
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, k := range keys {
		if e, ok := m.entries[k]; ok {
			if now.Before(e.expires) {
				out[i] = e.value
			} else {
				m.remove(k)
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
		m.remove(e.Key)
		size := entrySize(e.Key, e.Value)
		if e.TTL <= 0 || size > m.maxBytes/10 {
			continue // deleted, or too large to keep without crowding out everything else
		}
		if len(m.entries) >= m.maxEntries || m.bytes+size > m.maxBytes {
			m.evict(now, size)
		}
		m.entries[e.Key] = memEntry{value: e.Value, expires: now.Add(e.TTL)}
		m.bytes += size
	}
	return nil
}

// evict makes room for an entry of size bytes: expired entries first, else arbitrary ones
// (map order is random) down to nine tenths of both bounds.
func (m *Memory) evict(now time.Time, size int) {
	for k, e := range m.entries {
		if !now.Before(e.expires) {
			m.remove(k)
		}
	}
	for k := range m.entries {
		if len(m.entries) < m.maxEntries-m.maxEntries/10 && m.bytes+size <= m.maxBytes-m.maxBytes/10 {
			break
		}
		m.remove(k)
	}
}

// Del implements Store.
func (m *Memory) Del(_ context.Context, keys ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		m.remove(k)
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
	return len(m.entries)
}
