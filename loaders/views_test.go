package loaders

import (
	"testing"
	"time"

	"github.com/invitegw/invitegw/invite"
)

// TestViewUntil: a view of a filter on statuses is not used past the first status change of
// its lists, though the lists are the very same; a view of other lists, even equal ones, is
// not used either, and is dropped.
func TestViewUntil(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	exp := t0.Add(time.Hour)
	lists := [][]invite.Invitation{{{ID: "redpanda:a", Provider: invite.Redpanda, CreatedAt: t0, ExpiresAt: &exp}}}
	f := &invite.Filter{Statuses: []invite.Status{invite.StatusPending}}
	v := NewViews(4, time.Minute)
	key := viewKey(f, []invite.Source{{Provider: invite.Redpanda}})
	vw := &view{lists: lists, matches: []*invite.Invitation{&lists[0][0]}, changes: statusesUntil(lists, t0), byStatus: true}
	if !vw.changes.Equal(exp) {
		t.Fatalf("changes %v, want %v", vw.changes, exp)
	}
	v.put(key, vw)
	if v.get(key, lists, "", t0.Add(59*time.Minute)) != vw {
		t.Fatal("the view was not used before its lists changed status")
	}
	if v.get(key, lists, "", exp) != nil {
		t.Fatal("the view was used once an invitation had expired")
	}
	v.put(key, vw)
	equal := [][]invite.Invitation{{lists[0][0]}} // the same values, other memory
	if v.get(key, equal, "", t0) != nil || v.get(key, lists, "", t0) != nil {
		t.Fatal("a view of other lists was used, or kept")
	}
	if hits, misses := v.Stats(); hits != 1 || misses != 3 {
		t.Fatalf("%d hits, %d misses", hits, misses)
	}
}

func TestViewKeyIsCanonical(t *testing.T) {
	srcs := []invite.Source{{Provider: invite.Elastic, OrgID: "1"}}
	a := viewKey(&invite.Filter{Providers: []invite.Provider{invite.Frontier, invite.Elastic}, Email: " Ada@X.com",
		Statuses: []invite.Status{invite.StatusExpired, invite.StatusPending}}, srcs)
	b := viewKey(&invite.Filter{Providers: []invite.Provider{invite.Elastic, invite.Frontier}, Email: "ada@x.com",
		Statuses: []invite.Status{invite.StatusPending, invite.StatusExpired}}, srcs)
	if a != b {
		t.Fatalf("%q != %q", a, b)
	}
	if c := viewKey(&invite.Filter{Email: "ada@x.com"}, srcs); c == a {
		t.Fatal("different filters share a key")
	}
}
