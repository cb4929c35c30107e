package cache

import (
	"context"
	"sync"
	"time"
)

// Memory is an in-process Store for -demo and for running without Redis. It is bounded: past
// MaxEntries it drops expired entries, then arbitrary ones, so it cannot grow without limit.
type Memory struct {
	now        func() time.Time
	maxEntries int

	mu      sync.Mutex
	entries map[string]memEntry
}

type memEntry struct {
	value   []byte
	expires time.Time
}

// DefaultMaxEntries bounds a Memory store: invitegw keeps a handful of keys per organization.
const DefaultMaxEntries = 100_000

// NewMemory returns an empty store. now may be nil (time.Now).
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, maxEntries: DefaultMaxEntries, entries: map[string]memEntry{}}
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
				delete(m.entries, k)
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
		if e.TTL <= 0 {
			delete(m.entries, e.Key)
			continue
		}
		if _, ok := m.entries[e.Key]; !ok && len(m.entries) >= m.maxEntries {
			m.evict(now)
		}
		m.entries[e.Key] = memEntry{value: e.Value, expires: now.Add(e.TTL)}
	}
	return nil
}

// evict makes room: expired entries first, else a tenth of the store (map order is random).
func (m *Memory) evict(now time.Time) {
	for k, e := range m.entries {
		if !now.Before(e.expires) {
			delete(m.entries, k)
		}
	}
	for k := range m.entries {
		if len(m.entries) < m.maxEntries-m.maxEntries/10 {
			break
		}
		delete(m.entries, k)
	}
}

// Del implements Store.
func (m *Memory) Del(_ context.Context, keys ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		delete(m.entries, k)
	}
	return nil
}

// Len is the number of entries held, expired or not.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}
