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
