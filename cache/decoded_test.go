package cache_test

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invitegw/invitegw/cache"
)

// decodes counts countedList decodings; the tests using it do not run in parallel.
var decodes atomic.Int64

// countedList is a cached value that counts how often it is decoded.
type countedList []string

func (l *countedList) UnmarshalJSON(b []byte) error {
	decodes.Add(1)
	return json.Unmarshal(b, (*[]string)(l))
}

// TestStoredBytesAreDecodedOncePerInstance: the instance that fetched a value never decodes
// it back, and another instance reading it with many requests at once decodes it once.
func TestStoredBytesAreDecodedOncePerInstance(t *testing.T) {
	stores(t, newClock(), func(t *testing.T, s cache.Store) {
		decodes.Store(0)
		k := cache.Kind[string, countedList]{Key: func(k string) string { return cache.Key("test", "tenant", k) }, TTL: time.Minute}
		fetch := func(_ context.Context, key string) (countedList, error) { return countedList{"value of " + key}, nil }
		ctx := context.Background()
		fetcher, reader := cache.New(s, cache.Options{}), cache.New(s, cache.Options{})

		cache.Load(ctx, fetcher, k, []string{"a"}, fetch)
		if r := cache.Load(ctx, fetcher, k, []string{"a"}, fetch); r[0].Value[0] != "value of a" || decodes.Load() != 0 {
			t.Fatalf("the fetching instance's hit = %+v after %d decodes, want no decode", r[0], decodes.Load())
		}
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				if r := cache.Load(ctx, reader, k, []string{"a"}, fetch); r[0].Err != nil || r[0].Value[0] != "value of a" {
					t.Errorf("reader's hit = %+v", r[0])
				}
			})
		}
		wg.Wait()
		if n := decodes.Load(); n != 1 {
			t.Fatalf("50 concurrent hits on another instance decoded %d times, want 1", n)
		}
		if st := reader.Stats(); st.Hits != 50 || st.Misses != 0 {
			t.Fatalf("reader stats = %+v", st)
		}
	})
}

// TestDecodedValuesAreBounded: past its bounds in entries or in bytes, an instance drops the
// decoded values it read least recently (and decodes them again when read again), not the
// ones it keeps reading.
func TestDecodedValuesAreBounded(t *testing.T) {
	tests := []struct {
		name                 string
		maxEntries, maxBytes int
	}{
		{"by entries", 3, 1 << 20},
		// Each value below is stored as 57 bytes: a 48-byte header (two 13-digit times and a
		// 16-digit stamp) and 9 of JSON. Three fit, four do not.
		{"by bytes", 100, 3 * 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			decodes.Store(0)
			ctx := context.Background()
			s := cache.NewMemory(nil)
			k := cache.Kind[string, countedList]{Key: func(k string) string { return cache.Key("test", "tenant", k) }, TTL: time.Minute}
			fetch := func(_ context.Context, key string) (countedList, error) { return countedList{key}, nil }
			c := cache.New(s, cache.Options{})
			cache.SetDecodedLimits(c, tt.maxEntries, tt.maxBytes)
			for _, key := range []string{"key-a", "key-b", "key-c"} {
				cache.Load(ctx, c, k, []string{key}, fetch) // fetched: held without decoding
			}
			cache.Load(ctx, c, k, []string{"key-a"}, fetch) // a is now the most recently used
			cache.Load(ctx, c, k, []string{"key-d"}, fetch) // one too many: b goes
			if n, size := cache.Decoded(c); n != 3 || size > tt.maxBytes {
				t.Fatalf("holding %d values of %d bytes, want 3 within %d", n, size, tt.maxBytes)
			}
			for _, key := range []string{"key-a", "key-c", "key-d"} {
				if r := cache.Load(ctx, c, k, []string{key}, fetch); r[0].Value[0] != key || decodes.Load() != 0 {
					t.Fatalf("%s: %+v after %d decodes, want it held", key, r[0], decodes.Load())
				}
			}
			if r := cache.Load(ctx, c, k, []string{"key-b"}, fetch); r[0].Value[0] != "key-b" || decodes.Load() != 1 {
				t.Fatalf("key-b: %+v after %d decodes, want it decoded again", r[0], decodes.Load())
			}
			if st := c.Stats(); st.Misses != 4 {
				t.Fatalf("stats = %+v, want only the 4 first loads to fetch", st)
			}
		})
	}
}
