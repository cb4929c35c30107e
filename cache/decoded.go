package cache

import (
	"encoding/json"
	"sync"
	"time"
)

// memo keeps, per key, the value last decoded from the store or written to it, with the stamp
// of the stored entry it is (every write has a new one, see newStamp) and the entry's times.
// A read of an entry under the same stamp skips JSON decoding (most of a warm request's CPU
// otherwise), and the requests that read a new entry together (a refresh has just landed)
// decode it once between them. Values are shared between requests and must be treated as
// read-only.
type memo struct {
	mu sync.Mutex
	m  map[string]*decoding
}

// decoding is one key's stored entry under stamp, decoded; done is closed once value and err
// are set.
type decoding struct {
	stamp                string
	storedAt, freshUntil time.Time
	done                 chan struct{}
	value                any
	err                  error
}

// maxDecoded bounds the memo; past it the memo starts over.
const maxDecoded = 10_000

func newMemo() *memo { return &memo{m: map[string]*decoding{}} }

// closed is the done channel of values known without decoding.
var closed = func() chan struct{} { ch := make(chan struct{}); close(ch); return ch }()

// start returns key's decoding of env and whether the caller is to fill it in (then it must
// call finish): when another caller is already decoding the same entry, the caller waits for it.
func (m *memo) start(key string, env envelope) (d *decoding, mine bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if d, ok := m.m[key]; ok && d.stamp == string(env.stamp) {
		return d, false
	}
	d = &decoding{stamp: string(env.stamp), storedAt: env.storedAt, freshUntil: env.freshUntil, done: make(chan struct{})}
	m.add(key, d)
	return d, true
}

func (d *decoding) finish(v any, err error) {
	d.value, d.err = v, err
	close(d.done)
}

// put records v as the value of the entry this instance writes under key with stamp: it need
// not decode it back.
func (m *memo) put(key, stamp string, storedAt, freshUntil time.Time, v any) {
	d := &decoding{stamp: stamp, storedAt: storedAt, freshUntil: freshUntil, done: closed, value: v}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.add(key, d)
}

// get returns key's decoding if it is of the entry under stamp, else nil.
func (m *memo) get(key string, stamp []byte) *decoding {
	m.mu.Lock()
	defer m.mu.Unlock()
	if d, ok := m.m[key]; ok && d.stamp == string(stamp) {
		return d
	}
	return nil
}

// drop forgets keys (their entries are being deleted).
func (m *memo) drop(keys []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		delete(m.m, k)
	}
}

func (m *memo) add(key string, d *decoding) {
	if _, ok := m.m[key]; !ok && len(m.m) >= maxDecoded {
		clear(m.m)
	}
	m.m[key] = d
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
