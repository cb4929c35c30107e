package gateway_test

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/invitegw/invitegw/cache"
	"github.com/invitegw/invitegw/loaders"
	"github.com/invitegw/invitegw/metrics"
)

// TestViews: a filter's matches are kept across requests while the lists are the same, and
// never outlive them: not a status change (a pending invitation expiring), not a write.
func TestViews(t *testing.T) {
	views := loaders.NewViews(loaders.DefaultViews, time.Minute)
	e := newEnv(t, envOptions{apiKeys: scopedKeys, store: cache.NewMemory(nil), noResponseCache: true, views: views})
	e.seed()
	const pending = `{ invitations(filter: {status: [PENDING]}, first: 2) { totalCount nodes { id } } }`
	count := func() string {
		t.Helper()
		return string(as(t, e.gw, readerKey, "", pending, nil).Data)
	}
	const five = `{"invitations":{"totalCount":5,"nodes":[{"id":"frontier:f-org-1:inv-1"},{"id":"redpanda:rp-1"}]}}`
	for range 3 {
		jsonEq(t, []byte(count()), five)
	}
	if hits, misses := views.Stats(); hits != 2 || misses != 1 {
		t.Fatalf("views: %d hits, %d misses; want 2, 1", hits, misses)
	}
	// rp-3 expires within a day: the view of PENDING ends with it (TestViewUntil checks the
	// view alone; here the cached lists end with it too).
	e.clock.Set(now.Add(day + time.Minute))
	jsonEq(t, []byte(count()), `{"invitations":{"totalCount":4,"nodes":[{"id":"frontier:f-org-1:inv-1"},{"id":"redpanda:rp-1"}]}}`)
	// A write makes new lists: the view of the old ones is not used.
	as(t, e.gw, writerKey, "", `mutation { revokeInvitations(input: {ids: ["redpanda:rp-1"]}) { results { revoked } } }`, nil)
	jsonEq(t, []byte(count()), `{"invitations":{"totalCount":3,"nodes":[{"id":"frontier:f-org-1:inv-1"},{"id":"elastic:1004:`+digest(ecTokens[0])+`"}]}}`)
	if hits, misses := views.Stats(); hits != 2 || misses != 3 {
		t.Fatalf("views: %d hits, %d misses; want 2, 3", hits, misses)
	}
}

// TestWarmPageRunsNoLoaderBatch: once every list and lookup a page reads is held fresh, a
// request reads them without a single dataloader batch (a batch per list, and per lookup of
// every organization, made its cost grow with the number of organizations), and answers what
// the cold request answered. A write makes the next request load the changed list again.
func TestWarmPageRunsNoLoaderBatch(t *testing.T) {
	const page = `{ invitations(first: 10) { totalCount nodes { id status organization { name }
	  roleBindings { roleName } groups { name } } } }`
	stores := map[string]func(t *testing.T) cache.Store{
		"memory": func(*testing.T) cache.Store { return cache.NewMemory(nil) },
		"redis":  func(t *testing.T) cache.Store { s, _ := newRedisStore(t); return s },
	}
	for name, store := range stores {
		t.Run(name, func(t *testing.T) {
			m := metrics.New()
			e := newEnv(t, envOptions{apiKeys: scopedKeys, store: store(t), noResponseCache: true, metrics: m})
			e.seed()
			cold := string(as(t, e.gw, readerKey, "", page, nil).Data)
			if !strings.Contains(cold, `"groups":[{"name":`) || !strings.Contains(cold, `"organization":{"name":`) {
				t.Fatalf("the page joins too little to test: %s", cold)
			}
			batches, calls := batchCounts(t, m), e.upstreamCalls()
			for range 2 {
				jsonEq(t, as(t, e.gw, readerKey, "", page, nil).Data, cold)
			}
			if got := batchCounts(t, m); !maps.Equal(got, batches) {
				t.Fatalf("warm requests ran loader batches: %v, then %v", batches, got)
			}
			if n := e.upstreamCalls(); n != calls {
				t.Fatalf("warm requests made %d upstream calls", n-calls)
			}
			as(t, e.gw, writerKey, "", `mutation { revokeInvitations(input: {ids: ["redpanda:rp-1"]}) { results { revoked } } }`, nil)
			after := string(as(t, e.gw, readerKey, "", page, nil).Data)
			if strings.Contains(after, `"redpanda:rp-1"`) || !strings.Contains(cold, `"redpanda:rp-1"`) {
				t.Fatalf("the revoked invitation is still read: %s", after)
			}
			if got := batchCounts(t, m); got["invitations"] != batches["invitations"]+1 {
				t.Fatalf("after a write, invitations batches %d -> %d, want one more", batches["invitations"], got["invitations"])
			}
		})
	}
}

// batchCounts is how many batches each dataloader has run, from the gateway's metrics.
func batchCounts(t *testing.T, m *metrics.Metrics) map[string]uint64 {
	t.Helper()
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, f := range families {
		if f.GetName() != "invitegw_dataloader_batch_size" {
			continue
		}
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "loader" {
					out[l.GetValue()] = s.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no dataloader batch was counted")
	}
	return out
}
