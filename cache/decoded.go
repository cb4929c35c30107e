package cache

import (
	"encoding/json"
	"math"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// memo keeps, per key, the value last decoded from the store or written to it, with the stamp
// of the stored entry it is (every write has a new one, see newStamp) and the entry's times.
// A read of an entry under the same stamp skips JSON decoding (most of a warm request's CPU
// otherwise) and, from a Stamper, the transfer of the value; the requests that read a new entry
// together (a refresh has just landed) decode it once between them. Values are shared between
// requests and must be treated as read-only.
//
// It is bounded in entries and in the bytes of their stored JSON (a stand-in for their decoded
// size); past either bound the least recently used entries are dropped (the one just added is
// always kept, however large: a list read on every request is worth holding).
type memo struct {
	maxEntries, maxBytes int

	mu    sync.Mutex
	lru   *simplelru.LRU[string, *decoding]
	bytes int
}

// decoding is one key's stored entry under stamp, decoded; done is closed once value and err
// are set. size is the length of its stored JSON.
type decoding struct {
	stamp                string
	storedAt, freshUntil time.Time
	size                 int
	done                 chan struct{}
	value                any
	err                  error
}

// Bounds of the memo. Without Redis its values are the lists the store holds
// (DefaultMaxBytes); with Redis they are what a warm read does not transfer.
const (
	maxDecoded      = 10_000
	maxDecodedBytes = 256 << 20
)

func newMemo(maxEntries, maxBytes int) *memo {
	m := &memo{maxEntries: maxEntries, maxBytes: maxBytes}
	// The bounds are enforced in add, bytes with entries; the LRU's own is out of reach.
	m.lru, _ = simplelru.NewLRU[string, *decoding](math.MaxInt, func(_ string, d *decoding) { m.bytes -= d.size })
	return m
}

// closed is the done channel of values known without decoding.
var closed = func() chan struct{} { ch := make(chan struct{}); close(ch); return ch }()

// get returns key's decoding if it is of the entry under stamp, else nil.
func (m *memo) get(key string, stamp []byte) *decoding {
	m.mu.Lock()
	defer m.mu.Unlock()
	if d, ok := m.lru.Get(key); ok && d.stamp == string(stamp) {
		return d
	}
	return nil
}

// getAll returns the decodings of keys under stamps, in order, when every one is held, decoded
// without error; else ok is false.
func (m *memo) getAll(keys []string, stamps [][]byte) (ds []*decoding, ok bool) {
	ds = make([]*decoding, len(keys))
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, k := range keys {
		d, held := m.lru.Get(k)
		if !held || d.stamp != string(stamps[i]) {
			return nil, false
		}
		select {
		case <-d.done:
		default:
			return nil, false // still being decoded by another caller
		}
		if d.err != nil {
			return nil, false
		}
		ds[i] = d
	}
	return ds, true
}

// start returns key's decoding of env and whether the caller is to fill it in (then it must
// call finish): when another caller is already decoding the same entry, the caller waits for it.
func (m *memo) start(key string, env envelope) (d *decoding, mine bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if d, ok := m.lru.Get(key); ok && d.stamp == string(env.stamp) {
		return d, false
	}
	d = &decoding{stamp: string(env.stamp), storedAt: env.storedAt, freshUntil: env.freshUntil, size: len(env.data), done: make(chan struct{})}
	m.add(key, d)
	return d, true
}

func (d *decoding) finish(v any, err error) {
	d.value, d.err = v, err
	close(d.done)
}

// put records v, stored as size bytes of JSON, as the value of the entry this instance writes
// under key with stamp: it need not decode it back.
func (m *memo) put(key, stamp string, storedAt, freshUntil time.Time, size int, v any) {
	d := &decoding{stamp: stamp, storedAt: storedAt, freshUntil: freshUntil, size: size, done: closed, value: v}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.add(key, d)
}

// drop forgets keys (their entries are being deleted).
func (m *memo) drop(keys []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		m.lru.Remove(k)
	}
}

// add keeps d as key's, dropping the least recently used entries past the bounds.
func (m *memo) add(key string, d *decoding) {
	m.lru.Remove(key)
	for m.lru.Len() > 0 && (m.lru.Len() >= m.maxEntries || m.bytes+d.size > m.maxBytes) {
		m.lru.RemoveOldest()
	}
	m.lru.Add(key, d)
	m.bytes += d.size
}

// held is the number of entries held and the bytes of their stored JSON.
func (m *memo) held() (entries, bytes int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lru.Len(), m.bytes
}

// decodeValue unmarshals env's JSON (key's stored entry), or returns the value decoded from
// the same entry before, or waits for the caller decoding it now.
func decodeValue[V any](c *Cache, key string, env envelope) (V, error) {
	d, mine := c.memo.start(key, env)
	if mine {
		var v V
		err := json.Unmarshal(env.data, &v)
		d.finish(v, err)
		return v, err
	}
	<-d.done
	if d.err != nil {
		var zero V
		return zero, d.err
	}
	if v, ok := d.value.(V); ok {
		return v, nil
	}
	// Another type under the same key: not how invitegw uses a key, but still correct.
	var v V
	err := json.Unmarshal(env.data, &v)
	return v, err
}
