package loaders

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/invitegw/invitegw/cache"
	"github.com/invitegw/invitegw/invite"
)

func TestBatchNotesStaleCopiesPerProvider(t *testing.T) {
	l := &Loaders{}
	var batches [][]string
	load := func(_ context.Context, keys []string) []cache.Result[string] {
		batches = append(batches, keys)
		out := make([]cache.Result[string], len(keys))
		for i, k := range keys {
			switch k {
			case "stale-old":
				out[i] = cache.Result[string]{Value: k, Stale: true, Age: 95 * time.Second}
			case "stale-new":
				out[i] = cache.Result[string]{Value: k, Stale: true, Age: 10 * time.Second}
			default:
				out[i] = cache.Result[string]{Value: "v-" + k}
			}
		}
		return out
	}
	provider := func(k string) invite.Provider {
		if strings.HasPrefix(k, "stale") {
			return invite.Elastic
		}
		return invite.Redpanda
	}
	var sizes []int
	o := Options{Wait: 5 * time.Millisecond, ObserveBatch: func(name string, n int) {
		if name == "test" {
			sizes = append(sizes, n)
		}
	}}
	ld := newLoader(o, "test", 10, l, provider, load)
	vals, errs := ld.LoadMany(context.Background(), []string{"a", "stale-new", "stale-old", "a"})()
	if errs != nil || !reflect.DeepEqual(vals, []string{"v-a", "stale-new", "stale-old", "v-a"}) {
		t.Fatalf("values = %q, errors = %v", vals, errs)
	}
	for _, b := range batches {
		sort.Strings(b) // LoadMany loads its keys concurrently: any order
	}
	if want := [][]string{{"a", "stale-new", "stale-old"}}; !reflect.DeepEqual(batches, want) {
		t.Fatalf("batches = %q, want %q (one batch, each key once)", batches, want)
	}
	if !reflect.DeepEqual(sizes, []int{3}) {
		t.Fatalf("observed batch sizes %v, want [3]", sizes)
	}
	want := []Warning{{Code: "STALE_DATA", Provider: "ELASTIC", AgeSeconds: 95}}
	if got := l.Warnings(); !reflect.DeepEqual(got, want) {
		t.Fatalf("warnings = %+v, want %+v", got, want)
	}
}

// A batch holding every key the loader can be asked for is dispatched at once: the batch
// window (an hour here) is only for keys that may still come.
func TestFullBatchDoesNotWaitForTheWindow(t *testing.T) {
	var batches [][]string
	load := func(_ context.Context, keys []string) []cache.Result[string] {
		batches = append(batches, slices.Sorted(slices.Values(keys)))
		out := make([]cache.Result[string], len(keys))
		for i, k := range keys {
			out[i] = cache.Result[string]{Value: "v-" + k}
		}
		return out
	}
	ld := newLoader(Options{Wait: time.Hour}, "test", 3, &Loaders{}, func(string) invite.Provider { return invite.Elastic }, load)
	done := make(chan []string)
	go func() {
		vals, _ := ld.LoadMany(context.Background(), []string{"c", "a", "b", "a"})()
		done <- vals
	}()
	select {
	case vals := <-done:
		if !reflect.DeepEqual(vals, []string{"v-c", "v-a", "v-b", "v-a"}) {
			t.Fatalf("values = %q", vals)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a full batch waited for the batch window")
	}
	if want := [][]string{{"a", "b", "c"}}; !reflect.DeepEqual(batches, want) {
		t.Fatalf("batches = %q, want %q", batches, want)
	}
}

func TestForWithoutMiddlewareFailsClearly(t *testing.T) {
	defer func() {
		if p := recover(); p == nil || !strings.Contains(fmt.Sprint(p), "loaders.Middleware") {
			t.Fatalf("recover() = %v, want a panic naming the missing middleware", p)
		}
	}()
	For(context.Background())
}

func TestFreshUntilIsTheEarliestAndNeedsEverythingFresh(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	results := map[string]cache.Result[string]{
		"late":  {Value: "l", FreshUntil: t0.Add(time.Minute)},
		"early": {Value: "e", FreshUntil: t0.Add(10 * time.Second)},
		"stale": {Value: "s", Stale: true, Age: time.Minute},
		"fail":  {Err: fmt.Errorf("upstream down")},
	}
	load := func(_ context.Context, keys []string) []cache.Result[string] {
		out := make([]cache.Result[string], len(keys))
		for i, k := range keys {
			out[i] = results[k]
		}
		return out
	}
	tests := []struct {
		name  string
		keys  []string
		until time.Time
		ok    bool
	}{
		{"nothing loaded", nil, time.Time{}, false},
		{"all fresh: the earliest", []string{"late", "early"}, t0.Add(10 * time.Second), true},
		{"one stale copy", []string{"late", "stale"}, t0.Add(time.Minute), false},
		{"one failure", []string{"early", "fail"}, t0.Add(10 * time.Second), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &Loaders{}
			ld := newLoader(Options{Wait: time.Millisecond}, "test", 10, l, func(string) invite.Provider { return invite.Elastic }, load)
			if len(tt.keys) > 0 {
				ld.LoadMany(context.Background(), tt.keys)()
			}
			until, ok := l.FreshUntil()
			if ok != tt.ok || (ok && !until.Equal(tt.until)) {
				t.Fatalf("FreshUntil() = %v, %v; want %v, %v", until, ok, tt.until, tt.ok)
			}
		})
	}
}
