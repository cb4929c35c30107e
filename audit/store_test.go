package audit_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invitegw/invitegw/audit"
	"github.com/invitegw/invitegw/cache/redistest"
)

// storeKind opens empty stores of one implementation for the conformance suite.
type storeKind struct {
	name string
	// open returns an empty store keeping about maxEvents events.
	open func(t *testing.T, maxEvents int) audit.Store
	// trimSlack is how many events past maxEvents the store may keep: Redis trims with
	// MAXLEN ~, whole stream nodes (100 entries by default) at a time.
	trimSlack int
}

// storeKinds are Memory, Redis on one node and Redis Cluster, each test on a key of its own.
func storeKinds(t *testing.T) []storeKind {
	srv := redistest.Start(t)
	single := srv.Client()
	cluster := redistest.StartCluster(t, redistest.ClusterOptions{}).Client()
	t.Cleanup(func() { _ = cluster.Close() })
	var opened atomic.Int64
	key := func(t *testing.T) string { return fmt.Sprintf("audit-test:%s:%d", t.Name(), opened.Add(1)) }
	return []storeKind{
		{name: "memory", open: func(_ *testing.T, n int) audit.Store { return audit.NewMemory(n) }},
		{name: "redis", trimSlack: 100, open: func(t *testing.T, n int) audit.Store {
			return audit.NewRedis(single, key(t), int64(n))
		}},
		{name: "redis cluster", trimSlack: 100, open: func(t *testing.T, n int) audit.Store {
			return audit.NewRedis(cluster, key(t), int64(n))
		}},
	}
}

// TestStores is the conformance suite every Store passes.
func TestStores(t *testing.T) {
	kinds := storeKinds(t)
	tests := []struct {
		name string
		run  func(t *testing.T, k storeKind)
	}{
		{"append order and exact contents, newest first", testAppendOrder},
		{"paging has no gap and no duplicate", testPaging},
		{"filters", testFilters},
		{"trimming keeps the newest maxEvents", testTrimming},
		{"a cursor outlives its trimmed event", testTrimmedCursor},
		{"malformed cursors and page sizes", testBadArguments},
		{"concurrent appends", testConcurrentAppends},
		{"scan bound", testScanBound},
		{"events are copied", testCopies},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) { tt.run(t, k) })
			}
		})
	}
}

// base is an hour ago, off the second and in another zone than UTC, so a store that loses
// nanoseconds or the instant shows. Events are stored after they happen: see IndexSlack.
var base = time.Now().Add(-time.Hour).Truncate(time.Second).Add(123456789).In(time.FixedZone("UTC+2", 2*3600))

// event is the ith test event.
func event(i int) audit.Event {
	return audit.Event{
		At:        base.Add(time.Duration(i) * time.Second),
		Actor:     audit.Actor{Kind: audit.ActorJWT, Subject: fmt.Sprintf("user-%d", i%3), Issuer: "https://issuer.example"},
		Operation: "updateInvitation",
		Outcome:   audit.OutcomeSucceeded,
		RequestID: fmt.Sprintf("req-%d", i),
		Targets: []audit.Target{{InvitationID: fmt.Sprintf("inv-%d", i), Provider: "REDPANDA",
			OrganizationID: "org-1", Email: fmt.Sprintf("u%d@example.com", i)}},
	}
}

// appendAll appends events in order and returns them as a store returns them: with their IDs
// and At in UTC.
func appendAll(t *testing.T, s audit.Store, events ...audit.Event) []audit.Event {
	t.Helper()
	out := make([]audit.Event, len(events))
	for i, e := range events {
		id, err := s.Append(context.Background(), e)
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		e.ID, e.At = id, e.At.UTC()
		out[i] = e
	}
	return out
}

// listAll pages through every event matching f, first at a time, checking each page's shape.
func listAll(t *testing.T, s audit.Store, f audit.Filter, first int) []audit.Event {
	t.Helper()
	var all []audit.Event
	after := ""
	for pages := 0; ; pages++ {
		if pages > 100_000 {
			t.Fatal("paging does not end")
		}
		p, err := s.List(context.Background(), f, first, after)
		if err != nil {
			t.Fatalf("list after %q: %v", after, err)
		}
		if len(p.Events) > first {
			t.Fatalf("page of %d events, asked for %d", len(p.Events), first)
		}
		if n := len(p.Events); n > 0 && p.EndCursor != p.Events[n-1].Cursor() && !p.HasNext {
			t.Fatalf("EndCursor %q is not the last event's %q", p.EndCursor, p.Events[n-1].Cursor())
		}
		all = append(all, p.Events...)
		if !p.HasNext {
			return all
		}
		if p.EndCursor == "" || p.EndCursor == after {
			t.Fatalf("HasNext with EndCursor %q after %q", p.EndCursor, after)
		}
		after = p.EndCursor
	}
}

// idLess compares two stream IDs, "<ms>-<seq>".
func idLess(t *testing.T, a, b string) bool {
	t.Helper()
	var ams, aseq, bms, bseq uint64
	if _, err := fmt.Sscanf(a+" "+b, "%d-%d %d-%d", &ams, &aseq, &bms, &bseq); err != nil {
		t.Fatalf("IDs %q and %q: %v", a, b, err)
	}
	return ams < bms || ams == bms && aseq < bseq
}

func newestFirst(events []audit.Event) []audit.Event {
	out := slices.Clone(events)
	slices.Reverse(out)
	return out
}

func equalEvents(t *testing.T, what string, got, want []audit.Event) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %d events %+v\nwant %d events %+v", what, len(got), got, len(want), want)
	}
}

func testAppendOrder(t *testing.T, k storeKind) {
	s := k.open(t, 100)
	in := []audit.Event{event(0), event(1), {
		At:        base.Add(time.Minute),
		Actor:     audit.Actor{Kind: audit.ActorAPIKey, Subject: "ci-bot"},
		Operation: "bulkRevokeInvitations", Outcome: audit.OutcomePartial, ErrorCode: "NOT_FOUND", RequestID: "req-x",
		Targets: []audit.Target{
			{InvitationID: "a", Provider: "ELASTIC", OrganizationID: "o1", Email: "A@example.com"},
			{InvitationID: "b", Provider: "FRONTIER", OrganizationID: "o2", Email: "b@example.com"},
			{OrganizationID: "o3"},
		},
	}, {Actor: audit.Actor{Kind: audit.ActorAnonymous}, Operation: "inviteUser", Outcome: audit.OutcomeForbidden,
		ErrorCode: "UNAUTHENTICATED", At: base, Targets: []audit.Target{}}}
	in[0].ID = "1-1" // ignored
	stored := appendAll(t, s, in...)
	stored[3].Targets = nil // an empty list comes back as none
	for i := 1; i < len(stored); i++ {
		if !idLess(t, stored[i-1].ID, stored[i].ID) {
			t.Fatalf("IDs do not grow: %q then %q", stored[i-1].ID, stored[i].ID)
		}
	}
	p, err := s.List(context.Background(), audit.Filter{}, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	equalEvents(t, "list", p.Events, newestFirst(stored))
	if p.HasNext || p.EndCursor != stored[0].Cursor() {
		t.Fatalf("HasNext %v EndCursor %q, want false and the oldest event's cursor %q", p.HasNext, p.EndCursor, stored[0].Cursor())
	}

	empty := k.open(t, 100)
	if p, err := empty.List(context.Background(), audit.Filter{}, 10, ""); err != nil || len(p.Events) != 0 || p.HasNext || p.EndCursor != "" {
		t.Fatalf("empty store lists %+v, %v", p, err)
	}
}

func testPaging(t *testing.T, k storeKind) {
	s := k.open(t, 1000)
	in := make([]audit.Event, 250)
	for i := range in {
		in[i] = event(i)
	}
	want := newestFirst(appendAll(t, s, in...))
	for _, first := range []int{1, 7, 100, 250, 1000} {
		t.Run(fmt.Sprintf("first %d", first), func(t *testing.T) {
			equalEvents(t, "all pages", listAll(t, s, audit.Filter{}, first), want)
		})
	}
	t.Run("a full last page says no more", func(t *testing.T) {
		p, err := s.List(context.Background(), audit.Filter{}, 10, want[239].Cursor())
		if err != nil || len(p.Events) != 10 || p.HasNext {
			t.Fatalf("last page: %d events, HasNext %v, %v", len(p.Events), p.HasNext, err)
		}
	})
}

func testFilters(t *testing.T, k storeKind) {
	s := k.open(t, 1000)
	in := make([]audit.Event, 12)
	for i := range in {
		in[i] = event(i) // subjects user-0,1,2 in turn; one second apart
	}
	in[4].Operation = "revokeInvitation"
	in[7].Operation = "revokeInvitation"
	in[5].Targets = append(in[5].Targets, audit.Target{InvitationID: "x", Email: " Shared@Example.COM "})
	in[9].Targets[0].Email = "shared@example.com"
	in[10].Targets = nil
	stored := appendAll(t, s, in...)
	at := func(i int) time.Time { return in[i].At }
	tests := []struct {
		name string
		f    audit.Filter
		want []int // indexes into in, oldest first
	}{
		{"none", audit.Filter{}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
		{"actor subject", audit.Filter{ActorSubject: "user-1"}, []int{1, 4, 7, 10}},
		{"actor subject is exact", audit.Filter{ActorSubject: "USER-1"}, nil},
		{"operation", audit.Filter{Operation: "revokeInvitation"}, []int{4, 7}},
		{"operation is exact", audit.Filter{Operation: "revoke"}, nil},
		{"email, trimmed and in any case", audit.Filter{Email: "  SHARED@example.com"}, []int{5, 9}},
		{"email of one target of several", audit.Filter{Email: "u5@example.com"}, []int{5}},
		{"blank email is no filter", audit.Filter{Email: "  "}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
		{"since is inclusive", audit.Filter{Since: at(9)}, []int{9, 10, 11}},
		{"since a nanosecond later", audit.Filter{Since: at(9).Add(time.Nanosecond)}, []int{10, 11}},
		{"until is exclusive", audit.Filter{Until: at(2)}, []int{0, 1}},
		{"until a nanosecond later", audit.Filter{Until: at(2).Add(time.Nanosecond)}, []int{0, 1, 2}},
		{"since and until", audit.Filter{Since: at(3), Until: at(6)}, []int{3, 4, 5}},
		{"since equal to until", audit.Filter{Since: at(3), Until: at(3)}, nil},
		{"since after every event", audit.Filter{Since: at(11).Add(time.Hour)}, nil},
		{"until before every event", audit.Filter{Until: at(0)}, nil},
		{"subject and operation", audit.Filter{ActorSubject: "user-1", Operation: "revokeInvitation"}, []int{4, 7}},
		{"subject and email", audit.Filter{ActorSubject: "user-0", Email: "shared@example.com"}, []int{9}},
		{"operation and time", audit.Filter{Operation: "revokeInvitation", Since: at(5)}, []int{7}},
		{"everything", audit.Filter{ActorSubject: "user-2", Email: "Shared@example.com", Operation: "updateInvitation", Since: at(5), Until: at(6)}, []int{5}},
		{"everything, nothing matches", audit.Filter{ActorSubject: "user-2", Email: "shared@example.com", Operation: "revokeInvitation"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []audit.Event
			for _, i := range slices.Backward(tt.want) {
				want = append(want, stored[i])
			}
			for _, first := range []int{1, 2, 50} {
				equalEvents(t, fmt.Sprintf("first %d", first), listAll(t, s, tt.f, first), want)
			}
		})
	}
}

func testTrimming(t *testing.T, k storeKind) {
	const maxEvents = 50
	s := k.open(t, maxEvents)
	in := make([]audit.Event, 20*maxEvents)
	for i := range in {
		in[i] = event(i)
	}
	stored := appendAll(t, s, in...)
	got := listAll(t, s, audit.Filter{}, 100)
	if len(got) < maxEvents || len(got) > maxEvents+k.trimSlack {
		t.Fatalf("%d events kept, want %d to %d", len(got), maxEvents, maxEvents+k.trimSlack)
	}
	equalEvents(t, "kept", got, newestFirst(stored)[:len(got)])
}

func testTrimmedCursor(t *testing.T, k storeKind) {
	s := k.open(t, 5)
	first := appendAll(t, s, event(0), event(1))
	more := make([]audit.Event, 500)
	for i := range more {
		more[i] = event(i + 2)
	}
	appendAll(t, s, more...)
	p, err := s.List(context.Background(), audit.Filter{}, 10, first[1].Cursor())
	if err != nil || len(p.Events) != 0 || p.HasNext || p.EndCursor != "" {
		t.Fatalf("after a trimmed event: %+v, %v; want an empty last page", p, err)
	}
}

func testBadArguments(t *testing.T, k storeKind) {
	s := k.open(t, 10)
	appendAll(t, s, event(0))
	b64 := base64.RawURLEncoding.EncodeToString
	for _, c := range []string{"!!!", "MTIz", b64([]byte("12-x")), b64([]byte("x-1")), b64([]byte("-")), "MS0x=="} {
		if _, err := s.List(context.Background(), audit.Filter{}, 10, c); !errors.Is(err, audit.ErrBadCursor) {
			t.Errorf("cursor %q: error %v, want ErrBadCursor", c, err)
		}
	}
	for _, first := range []int{0, -1} {
		if _, err := s.List(context.Background(), audit.Filter{}, first, ""); err == nil || errors.Is(err, audit.ErrBadCursor) {
			t.Errorf("first %d: error %v, want one that is not ErrBadCursor", first, err)
		}
	}
}

func testConcurrentAppends(t *testing.T, k storeKind) {
	const goroutines, each = 20, 25
	s := k.open(t, goroutines*each)
	ids := make([][]string, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				e := event(g*each + i)
				id, err := s.Append(context.Background(), e)
				if err != nil {
					t.Error(err)
					return
				}
				ids[g] = append(ids[g], id)
			}
		})
	}
	wg.Wait()
	got := listAll(t, s, audit.Filter{}, 100)
	if len(got) != goroutines*each {
		t.Fatalf("%d events listed, want %d", len(got), goroutines*each)
	}
	byID := map[string]audit.Event{}
	for _, e := range got {
		if _, dup := byID[e.ID]; dup {
			t.Fatalf("ID %s listed twice", e.ID)
		}
		byID[e.ID] = e
	}
	for g := range goroutines {
		for i, id := range ids[g] {
			want := event(g*each + i)
			want.ID, want.At = id, want.At.UTC()
			equalEvents(t, "event "+id, []audit.Event{byID[id]}, []audit.Event{want})
		}
	}
}

func testScanBound(t *testing.T, k storeKind) {
	if testing.Short() {
		t.Skip("appends ScanLimit events")
	}
	const extra = 7
	s := k.open(t, audit.ScanLimit+extra+1)
	rare := event(0)
	rare.Operation = "rare"
	stored := appendAll(t, s, rare)
	common := make([]audit.Event, audit.ScanLimit+extra)
	for i := range common {
		common[i] = event(i + 1)
	}
	var wg sync.WaitGroup // in parallel: ten thousand round trips one by one take long
	for part := range 10 {
		wg.Go(func() {
			for i := part; i < len(common); i += 10 {
				if _, err := s.Append(context.Background(), common[i]); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()

	f := audit.Filter{Operation: "rare"}
	p, err := s.List(context.Background(), f, 10, "")
	if err != nil || len(p.Events) != 0 || !p.HasNext || p.EndCursor == "" {
		t.Fatalf("first call: %+v, %v; want no event, HasNext and a cursor", p, err)
	}
	p, err = s.List(context.Background(), f, 10, p.EndCursor)
	if err != nil || p.HasNext {
		t.Fatalf("second call: HasNext %v, %v", p.HasNext, err)
	}
	equalEvents(t, "second call", p.Events, stored)
	if got := listAll(t, s, audit.Filter{}, 5000); len(got) != audit.ScanLimit+extra+1 {
		t.Fatalf("listed %d events in all, want %d", len(got), audit.ScanLimit+extra+1)
	}
}

func testCopies(t *testing.T, k storeKind) {
	s := k.open(t, 10)
	e := event(0)
	if _, err := s.Append(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	e.Targets[0].Email = "changed@example.com"
	p, err := s.List(context.Background(), audit.Filter{}, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Events[0].Targets[0].Email; got != "u0@example.com" {
		t.Fatalf("stored email changed to %q with the caller's slice", got)
	}
	p.Events[0].Targets[0].Email = "changed@example.com"
	if p, _ = s.List(context.Background(), audit.Filter{}, 1, ""); p.Events[0].Targets[0].Email != "u0@example.com" {
		t.Fatal("a listed event shares its targets with the store")
	}
}
