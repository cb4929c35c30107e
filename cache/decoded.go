package cache

import (
	"encoding/json"
	"hash/maphash"
	"sync"
)

// memo keeps the last decoded value of each key with a hash of the bytes it came from, so a
// read of unchanged bytes skips JSON decoding (most of a warm request's CPU otherwise), and the
// requests that read new bytes together (a refresh has just landed) decode them once between
// them. Values are shared between requests and must be treated as read-only.
type memo struct {
	seed maphash.Seed

	mu sync.Mutex
	m  map[string]*decoding
}

// decoding is one key's value decoded from the bytes whose hash is sum; done is closed once
// value and err are set.
type decoding struct {
	sum   uint64
	done  chan struct{}
	value any
	err   error
}

// maxDecoded bounds the memo; past it the memo starts over.
const maxDecoded = 10_000

func newMemo() *memo { return &memo{seed: maphash.MakeSeed(), m: map[string]*decoding{}} }

// closed is the done channel of values known without decoding.
var closed = func() chan struct{} { ch := make(chan struct{}); close(ch); return ch }()

// start returns key's decoding of raw and whether the caller is to fill it in (then it must
// call finish): when another caller is already decoding the same bytes, the caller waits for it.
func (m *memo) start(key string, raw []byte) (d *decoding, mine bool) {
	sum := maphash.Bytes(m.seed, raw)
	m.mu.Lock()
	defer m.mu.Unlock()
	if d, ok := m.m[key]; ok && d.sum == sum {
		return d, false
	}
	if len(m.m) >= maxDecoded {
		clear(m.m)
	}
	d = &decoding{sum: sum, done: make(chan struct{})}
	m.m[key] = d
	return d, true
}

func (d *decoding) finish(v any, err error) {
	d.value, d.err = v, err
	close(d.done)
}

// put records v as what raw decodes to under key: the instance that fetched v and stored raw
// need not decode it back.
func (m *memo) put(key string, raw []byte, v any) {
	d := &decoding{sum: maphash.Bytes(m.seed, raw), done: closed, value: v}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.m) >= maxDecoded {
		clear(m.m)
	}
	m.m[key] = d
}

// decodeValue unmarshals data (the JSON part of raw, key's stored bytes), or returns the value
// decoded from the same bytes before, or waits for the caller decoding them now.
func decodeValue[V any](c *Cache, key string, raw, data []byte) (V, error) {
	d, mine := c.memo.start(key, raw)
	if mine {
		var v V
		err := json.Unmarshal(data, &v)
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
	err := json.Unmarshal(data, &v)
	return v, err
}
