package cache_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/invitegw/invitegw/cache"
	"github.com/invitegw/invitegw/cache/redistest"
)

// During a rolling upgrade instances of two versions share one Redis. The tests below prove
// what docs/operations.md ("Upgrades") promises: an entry this version cannot read (another
// value format, another key version, garbage) is a miss, is never decoded, not even as a stale
// copy when the upstream fails, and is overwritten by the next fetch; keys under another
// version's prefix are neither read, overwritten nor invalidated by this one.

// unixMS is t as the value headers write it.
func unixMS(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// TestUnreadableEntryIsAMissAndOverwritten: a value under this version's key that this version
// does not write (another format version, a response entry, this header over JSON of another
// shape, garbage) is a miss, never served, even stale, and the next fetch replaces it.
func TestUnreadableEntryIsAMissAndOverwritten(t *testing.T) {
	srv := redistest.Start(t)
	admin := srv.Client()
	s := cache.NewRedis(redisClient(t, srv))
	clock := newClock()
	ctx := context.Background()
	now := clock.Now()
	// Stored a second ago and fresh for an hour: were it decoded, it would be a hit.
	fresh := unixMS(now.Add(-time.Second)) + " " + unixMS(now.Add(time.Hour))
	boom := errors.New("upstream down")

	tests := []struct{ name, value string }{
		{"a v1 value", "v1 " + fresh + "\n" + `["from v1"]`},
		{"a v0 value", "v0 " + fresh + " s1\n" + `["from v0"]`},
		{"a v3 value", "v3 " + fresh + " s1\n" + `["from v3"]`},
		{"a v10 value", "v10 " + fresh + " s1\n" + `["from v10"]`},
		{"a v2 header without a stamp", "v2 " + fresh + "\n" + `["from a shorter header"]`},
		{"a v2 header with another field", "v2 " + fresh + " s1 7\n" + `["from a longer header"]`},
		{"a v2 header over JSON of another shape", "v2 " + fresh + " s1\n" + `{"invitations":["from another shape"]}`},
		{"a response entry", "r1 " + unixMS(now.Add(time.Hour)) + " 0123456789abcdef\n" + `["a response body"]`},
		{"a response entry of another version", "r2 " + unixMS(now.Add(time.Hour)) + "\n" + `["a response body"]`},
		{"garbage", "\x00\xffnot a cache entry"},
		{"empty", ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprint("upgrade-", i)
			key := kind.Key(id)
			if err := admin.Set(ctx, key, tt.value, time.Hour).Err(); err != nil {
				t.Fatal(err)
			}
			c := cache.New(s, cache.Options{Now: clock.Now, StaleGrace: time.Hour})

			// The upstream fails: the entry is not served as a kept copy, and stays as it was
			// (errors are not cached).
			failing := counter{err: boom}
			r := cache.Load(ctx, c, kind, []string{id}, failing.fetch)
			if !errors.Is(r[0].Err, boom) || r[0].Stale || r[0].Value != nil {
				t.Fatalf("upstream failing: got %+v, want the error and no value", r[0])
			}
			if got := admin.Get(ctx, key).Val(); got != tt.value {
				t.Fatalf("entry changed by a failed fetch: %q", got)
			}

			// The upstream answers: one fetch, its value, written over the entry in this
			// version's format; the next load is a hit.
			var f counter
			r = cache.Load(ctx, c, kind, []string{id}, f.fetch)
			if r[0].Err != nil || r[0].Stale || !slices.Equal(r[0].Value, []string{"value of " + id}) {
				t.Fatalf("upstream answering: got %+v", r[0])
			}
			want := regexp.MustCompile("^" + regexp.QuoteMeta("v2 "+unixMS(now)+" "+unixMS(now.Add(kind.TTL))+" ") +
				"[0-9a-f]{16}" + regexp.QuoteMeta("\n"+`["value of `+id+`"]`) + "$")
			if got := admin.Get(ctx, key).Val(); !want.MatchString(got) {
				t.Fatalf("stored %q, want %s", got, want)
			}
			r = cache.Load(ctx, c, kind, []string{id}, f.fetch)
			if !slices.Equal(r[0].Value, []string{"value of " + id}) || f.n(id) != 1 {
				t.Fatalf("after the overwrite: %+v, %d fetches, want a hit and 1 fetch", r[0], f.n(id))
			}
			if st := c.Stats(); st != (cache.Stats{Hits: 1, Misses: 2}) {
				t.Fatalf("stats = %+v, want 1 hit, 2 misses", st)
			}
		})
	}
}

// TestUnreadableResponseIsAMissAndOverwritten: the same for a kept response: under this
// version's key and generation, a body this version did not write is a miss and Put
// replaces it.
func TestUnreadableResponseIsAMissAndOverwritten(t *testing.T) {
	srv := redistest.Start(t)
	admin := srv.Client()
	s := cache.NewRedis(redisClient(t, srv))
	clock := newClock()
	ctx := context.Background()
	until := clock.Now().Add(time.Hour)
	const gen = "0123456789abcdef"
	if err := admin.Set(ctx, cache.Prefix+"respgen:scope", gen, time.Hour).Err(); err != nil {
		t.Fatal(err)
	}

	tests := []struct{ name, value string }{
		{"an r1 response (no stale limit)", "r1 " + unixMS(until) + " " + gen + "\n" + `{"data":{"from":"r1"}}`},
		{"an r3 response", "r3 " + unixMS(until) + " " + unixMS(until) + " " + gen + "\n" + `{"data":{"from":"r3"}}`},
		{"an r2 header without its stale limit", "r2 " + unixMS(until) + " " + gen + "\n" + `{"data":{"from":"r2-"}}`},
		{"an r0 response", "r0 " + unixMS(until) + " " + gen + "\n" + `{"data":{"from":"r0"}}`},
		{"an r1 header with another field", "r1 " + unixMS(until) + " " + gen + " 7\n" + `{"data":{"from":"r1+"}}`},
		{"a data entry", "v2 " + unixMS(clock.Now()) + " " + unixMS(until) + " s1\n" + `{"data":{"from":"v2"}}`},
		{"garbage", "\x00\xffnot a cache entry"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := fmt.Sprint("req-", i)
			key := cache.Prefix + "resp:scope:" + req
			if err := admin.Set(ctx, key, tt.value, time.Hour).Err(); err != nil {
				t.Fatal(err)
			}
			c := cache.New(s, cache.Options{Now: clock.Now, StaleWhileRevalidate: time.Minute})
			r := c.Responses("scope")
			k, got, ok := r.Get(ctx, req)
			if ok || k.Data != nil || got != gen {
				t.Fatalf("Get = %q, %q, %v; want a miss under generation %s", k.Data, got, ok, gen)
			}
			r.Put(ctx, req, got, []byte(`{"data":{"from":"this version"}}`), until, time.Time{})
			want := "r2 " + unixMS(until) + " " + unixMS(until.Add(time.Minute)) + " " + gen + "\n" + `{"data":{"from":"this version"}}`
			if stored := admin.Get(ctx, key).Val(); stored != want {
				t.Fatalf("stored %q, want %q", stored, want)
			}
			if k, _, ok := r.Get(ctx, req); !ok || k.Stale || string(k.Data) != `{"data":{"from":"this version"}}` {
				t.Fatalf("after Put: %+v, %v", k, ok)
			}
			if st := c.ResponseStats(); st != (cache.ResponseStats{Hits: 1, Misses: 1}) {
				t.Fatalf("response stats = %+v, want 1 hit, 1 miss", st)
			}
		})
	}
}

// TestAnotherKeyVersionIsInvisible: entries under another version's prefix, even ones in this
// version's own format that it would decode, are never read, overwritten or invalidated by
// this version: what it reads and writes are its own keys only.
func TestAnotherKeyVersionIsInvisible(t *testing.T) {
	srv := redistest.Start(t)
	admin := srv.Client()
	s := cache.NewRedis(redisClient(t, srv))
	clock := newClock()
	ctx := context.Background()
	now := clock.Now()
	fresh := unixMS(now.Add(-time.Second)) + " " + unixMS(now.Add(time.Hour))

	for _, prefix := range []string{"invitegw:v0:", "invitegw:v1:", "invitegw:v3:", "invitegw:v10:", "invitegw:"} {
		if prefix == cache.Prefix {
			continue
		}
		t.Run(prefix, func(t *testing.T) {
			if err := admin.FlushDB(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			own := kind.Key("k")
			other := map[string]string{
				prefix + strings.TrimPrefix(own, cache.Prefix): "v2 " + fresh + " s1\n" + `["from another version"]`,
				prefix + "resp:scope:q":                        "r2 " + unixMS(now.Add(time.Hour)) + " " + unixMS(now.Add(time.Hour)) + "\n" + `{"data":{"from":"another version"}}`,
				prefix + "apq:hash":                            "{ fromAnotherVersion }",
			}
			for k, v := range other {
				if err := admin.Set(ctx, k, v, time.Hour).Err(); err != nil {
					t.Fatal(err)
				}
			}
			c := cache.New(s, cache.Options{Now: clock.Now, StaleGrace: time.Hour})

			var f counter
			r := cache.Load(ctx, c, kind, []string{"k"}, f.fetch)
			if r[0].Err != nil || r[0].Stale || !slices.Equal(r[0].Value, []string{"value of k"}) || f.n("k") != 1 {
				t.Fatalf("Load = %+v after %d fetches, want a miss, 1 fetch, the fetched value", r[0], f.n("k"))
			}
			if k, gen, ok := c.Responses("scope").Get(ctx, "q"); ok || k.Data != nil || gen != "" {
				t.Fatalf("response Get = %q, %q, %v; want a miss and no generation", k.Data, gen, ok)
			}
			if q, ok := c.APQ().Get(ctx, "hash"); ok || q != "" {
				t.Fatalf("APQ Get = %q, %v; want a miss", q, ok)
			}

			// A write through this version invalidates its own keys only.
			c.Invalidate(ctx, []string{own}, []cache.Entry{c.Responses("scope").NewGeneration()}, time.Minute)

			for k, v := range other {
				if got := admin.Get(ctx, k).Val(); got != v {
					t.Errorf("%s = %q, want it untouched: %q", k, got, v)
				}
			}
			keys := admin.Keys(ctx, "*").Val()
			slices.Sort(keys)
			want := []string{cache.Prefix + "respgen:scope"}
			for k := range other {
				want = append(want, k)
			}
			slices.Sort(want)
			if !slices.Equal(keys, want) {
				t.Fatalf("keys = %q, want %q (the other version's, and this one's new generation)", keys, want)
			}
		})
	}
}
