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
// Past its freshness, an entry may still be served until its stale limit (within the data's
// stale-while-revalidate window, never past a status change: see Put) while the caller
// rebuilds it: Get says so (Kept.Stale).
//
//	invitegw:v2:resp:<scope>:<request hash>   r2 <fresh until> <stale until> <generation>\n<data>
//	invitegw:v2:respgen:<scope>               <generation>
//
// (times in unix ms; r1 entries, without a stale limit, are misses.)
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

// ResponseStats counts answers served from the response cache (Hits, of which Stale were past
// their freshness) and answers computed and kept there (Misses: requests that could have been
// hits).
type ResponseStats struct{ Hits, Stale, Misses int64 }

// ResponseStats returns the response cache counters of c (every scope).
func (c *Cache) ResponseStats() ResponseStats {
	return ResponseStats{Hits: c.respHits.Load(), Stale: c.respStale.Load(), Misses: c.respMisses.Load()}
}

// Kept is an answer found in the response cache.
type Kept struct {
	Data []byte
	// Stale is set past the answer's freshness, within its stale limit: serve it, and rebuild it.
	Stale bool
}

// Get returns the answer kept for the request hash req. On a miss it returns the generation
// to pass to Put, read in the same round trip (a stale answer's too: rebuilding it puts the
// new one under it). A store failure is a miss; when the store fails for the generation itself
// (and the fallback does not hold it), nothing is served and Put keeps nothing: an empty
// generation would match answers from before a write that could not be stored.
func (r *Responses) Get(ctx context.Context, req string) (k Kept, gen string, ok bool) {
	vals, unknown := r.c.mgetChecked(ctx, []string{r.key(req), r.genKey()})
	if unknown[1] {
		return Kept{}, genUnknown, false
	}
	gen = string(vals[1])
	if k, ok = r.decode(vals[0], gen); ok {
		r.c.respHits.Add(1)
		if k.Stale {
			r.c.respStale.Add(1)
		}
		return k, gen, true
	}
	return Kept{}, gen, false
}

func (r *Responses) decode(raw []byte, gen string) (Kept, bool) {
	head, data, ok := bytes.Cut(raw, []byte{'\n'})
	if !ok {
		return Kept{}, false
	}
	f := bytes.Fields(head)
	if len(f) < 3 || len(f) > 4 || string(f[0]) != "r2" {
		return Kept{}, false
	}
	fresh, err1 := strconv.ParseInt(string(f[1]), 10, 64)
	limit, err2 := strconv.ParseInt(string(f[2]), 10, 64)
	now := r.c.o.Now()
	if err1 != nil || err2 != nil || !now.Before(time.UnixMilli(max(fresh, limit))) {
		return Kept{}, false
	}
	stored := ""
	if len(f) == 4 {
		stored = string(f[3])
	}
	return Kept{Data: data, Stale: !now.Before(time.UnixMilli(fresh))}, stored == gen
}

// Put stores data for req under the generation Get returned, fresh until freshUntil, then
// served while it is rebuilt (Kept.Stale) for as long as the data under it would be
// (Options.StaleWhileRevalidate), but never from changesAt on: the first moment a status in
// data changes (zero when none will), which a kept answer cannot show.
func (r *Responses) Put(ctx context.Context, req, gen string, data []byte, freshUntil, changesAt time.Time) {
	if gen == genUnknown {
		return
	}
	r.c.respMisses.Add(1)
	now := r.c.o.Now()
	staleUntil := freshUntil.Add(r.c.o.StaleWhileRevalidate)
	if !changesAt.IsZero() && changesAt.Before(staleUntil) {
		staleUntil = changesAt
	}
	if staleUntil.Before(freshUntil) {
		staleUntil = freshUntil
	}
	ttl := staleUntil.Sub(now)
	if ttl < time.Millisecond || !now.Before(freshUntil) {
		return
	}
	var b bytes.Buffer
	b.Grow(len(data) + 64)
	b.WriteString("r2 ")
	b.WriteString(strconv.FormatInt(freshUntil.UnixMilli(), 10))
	b.WriteByte(' ')
	b.WriteString(strconv.FormatInt(staleUntil.UnixMilli(), 10))
	if gen != "" {
		b.WriteByte(' ')
		b.WriteString(gen)
	}
	b.WriteByte('\n')
	b.Write(data)
	r.c.set(ctx, "response write", []Entry{{Key: r.key(req), Value: b.Bytes(), TTL: ttl}})
}

// Track counts work rebuilding an answer in the background as the cache's own, which Close
// waits for (its reads and its Put need the store); call what it returns when the work ends.
func (r *Responses) Track() (done func()) { return r.c.track() }

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
