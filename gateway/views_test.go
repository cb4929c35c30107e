package gateway_test

import (
	"testing"
	"time"

	"github.com/invitegw/invitegw/cache"
	"github.com/invitegw/invitegw/loaders"
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
