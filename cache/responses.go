package cache

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"time"
)

// Responses caches whole GraphQL response bodies of one scope (a hash of every upstream
// tenant the gateway reads, and of its schema), so a repeated query is answered without
// executing it. An entry is kept only as long as everything it was built from stays fresh
// (the caller passes that time), so it never outlives the lists and lookups under it.
//
// Writes invalidate by generation instead of by key (the keys of the responses a write made
// stale are unknowable): Invalidate stores a new random generation, every entry carries the
// generation read before it was computed, and a read that finds a different generation is a
// miss. The entry and the generation are read in one MGET, so gateway instances sharing Redis
// see each other's writes at once; a response computed while a write happened carries the
// old generation and is never served.
//
//	invitegw:v1:resp:<scope>:<request hash>   r1 <fresh until, unix ms> <generation>\n<data>
//	invitegw:v1:respgen:<scope>               <generation>
type Responses struct {
	c     *Cache
	scope string
}

// Responses returns the response cache of scope.
func (c *Cache) Responses(scope string) *Responses { return &Responses{c: c, scope: scope} }

// maxDuration is the longest any cached value stays fresh (the longest TTL configuration
// accepts); generationTTL outlives it, so a generation key never expires while an entry it
// guards is readable.
const (
	maxDuration   = 24 * time.Hour
	generationTTL = maxDuration + time.Hour
)

// genUnknown is the generation Get returns when it could not read one: never a stored one
// (those are hex), and Put keeps nothing under it.
const genUnknown = "\x00unknown"

func (r *Responses) key(req string) string { return Prefix + "resp:" + r.scope + ":" + req }
func (r *Responses) genKey() string        { return Prefix + "respgen:" + r.scope }

// ResponseStats counts answers served from the response cache (Hits) and answers computed and
// kept there (Misses: requests that could have been hits).
type ResponseStats struct{ Hits, Misses int64 }

// ResponseStats returns the response cache counters of c (every scope).
func (c *Cache) ResponseStats() ResponseStats {
	return ResponseStats{Hits: c.respHits.Load(), Misses: c.respMisses.Load()}
}

// Get returns the cached data for the request hash req. On a miss it returns the generation
// to pass to Put, read in the same round trip. A store failure is a miss; when the store
// fails for the generation itself (and the fallback does not hold it), nothing is served and
// Put keeps nothing: an empty generation would match answers from before a write that could
// not be stored.
func (r *Responses) Get(ctx context.Context, req string) (data []byte, gen string, ok bool) {
	vals, unknown := r.c.mgetChecked(ctx, []string{r.key(req), r.genKey()})
	if unknown[1] {
		return nil, genUnknown, false
	}
	gen = string(vals[1])
	if data, ok = r.decode(vals[0], gen); ok {
		r.c.respHits.Add(1)
		return data, gen, true
	}
	return nil, gen, false
}

func (r *Responses) decode(raw []byte, gen string) ([]byte, bool) {
	head, data, ok := bytes.Cut(raw, []byte{'\n'})
	if !ok {
		return nil, false
	}
	f := bytes.Fields(head)
	if len(f) < 2 || len(f) > 3 || string(f[0]) != "r1" {
		return nil, false
	}
	until, err := strconv.ParseInt(string(f[1]), 10, 64)
	if err != nil || !r.c.o.Now().Before(time.UnixMilli(until)) {
		return nil, false
	}
	stored := ""
	if len(f) == 3 {
		stored = string(f[2])
	}
	return data, stored == gen
}

// Put stores data for req under the generation Get returned, fresh until freshUntil.
func (r *Responses) Put(ctx context.Context, req, gen string, data []byte, freshUntil time.Time) {
	if gen == genUnknown {
		return
	}
	r.c.respMisses.Add(1)
	ttl := freshUntil.Sub(r.c.o.Now())
	if ttl < time.Millisecond {
		return
	}
	var b bytes.Buffer
	b.Grow(len(data) + 48)
	b.WriteString("r1 ")
	b.WriteString(strconv.FormatInt(freshUntil.UnixMilli(), 10))
	if gen != "" {
		b.WriteByte(' ')
		b.WriteString(gen)
	}
	b.WriteByte('\n')
	b.Write(data)
	r.c.set(ctx, "response write", []Entry{{Key: r.key(req), Value: b.Bytes(), TTL: ttl}})
}

// NewGeneration is the entry that, once stored, makes every response cached so far in this
// scope a miss for every instance sharing the store: pass it to Cache.Invalidate along with
// the keys a write made stale, so both land (or are retried) together.
func (r *Responses) NewGeneration() Entry {
	var g [8]byte
	_, _ = rand.Read(g[:])
	return Entry{Key: r.genKey(), Value: []byte(hex.EncodeToString(g[:])), TTL: generationTTL}
}

// Invalidate stores a new generation (see NewGeneration) durably: Cache.Invalidate, within
// the longest any response stays fresh.
func (r *Responses) Invalidate(ctx context.Context) {
	r.c.Invalidate(ctx, nil, []Entry{r.NewGeneration()}, maxDuration)
}
