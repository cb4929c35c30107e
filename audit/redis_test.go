package audit_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/invitegw/invitegw/audit"
	"github.com/invitegw/invitegw/cache/redistest"

	"github.com/invitegw/invitegw/internal/testlog"
)

const trailKey = "invitegw:v1:audit"

func TestReplicasShareTheTrail(t *testing.T) {
	srv := redistest.Start(t)
	var log testlog.Buffer
	a := audit.New(audit.Options{Store: audit.NewRedis(redisClient(t, srv), trailKey, 1000), Logger: log.Logger()})
	b := audit.New(audit.Options{Store: audit.NewRedis(redisClient(t, srv), trailKey, 1000), Logger: log.Logger()})
	a.Record(context.Background(), event(0))
	b.Record(context.Background(), event(1))
	want := utc([]audit.Event{event(1), event(0)})
	for name, s := range map[string]audit.Store{
		"a": audit.NewRedis(redisClient(t, srv), trailKey, 1000),
		"b": audit.NewRedis(redisClient(t, srv), trailKey, 1000),
	} {
		equalEvents(t, "as "+name+" reads it", withoutIDs(stored(t, s)), want)
	}
	closeLog(t, a)
	closeLog(t, b)

	// A restarted instance: new client, store and Log, the same Redis.
	restarted := audit.NewRedis(redisClient(t, srv), trailKey, 1000)
	c := audit.New(audit.Options{Store: restarted, Logger: log.Logger()})
	c.Record(context.Background(), event(2))
	equalEvents(t, "after a restart", withoutIDs(stored(t, restarted)), utc([]audit.Event{event(2), event(1), event(0)}))
	closeLog(t, c)
}

func TestRedisDownThenBack(t *testing.T) {
	srv := redistest.Start(t)
	var log testlog.Buffer
	s := audit.NewRedis(redisClient(t, srv), trailKey, 1000)
	l := audit.New(fastRetries(s, &log))
	srv.Stop()
	e := event(7)
	l.Record(context.Background(), e)
	if got := logLines(t, &log, "audit"); len(got) != 1 || got[0]["request_id"] != "req-7" {
		t.Fatalf("audit log lines with Redis down: %v", got)
	}
	if l.StoreErrors() == 0 || l.Pending() != 1 {
		t.Fatalf("store errors %d, pending %d; want some and 1", l.StoreErrors(), l.Pending())
	}

	srv.Restart()  // empty: it persists nothing
	closeLog(t, l) // waits for the queued event to land
	if l.Pending() != 0 || l.Dropped() != 0 {
		t.Fatalf("pending %d, dropped %d; want none", l.Pending(), l.Dropped())
	}
	equalEvents(t, "stored", withoutIDs(stored(t, s)), utc([]audit.Event{e}))
	if n := len(logLines(t, &log, "audit store recovered: every queued event is stored")); n != 1 {
		t.Fatalf("%d lines saying the store recovered, want 1", n)
	}
}

func TestRedisStoredForm(t *testing.T) {
	srv := redistest.Start(t)
	rc := srv.Client()
	s := audit.NewRedis(rc, trailKey, 1000)
	id, err := s.Append(context.Background(), audit.Event{
		At:        time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("UTC+1", 3600)),
		Actor:     audit.Actor{Kind: audit.ActorAPIKey, Subject: "ci"},
		Operation: "inviteUser", Outcome: audit.OutcomeSucceeded, RequestID: "r",
		Targets: []audit.Target{{Provider: "REDPANDA", Email: "a@example.com"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := rc.XRange(context.Background(), trailKey, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	want := []redis.XMessage{{ID: id, Values: map[string]any{"e": `{"v":1,"at":"2026-01-02T02:04:05.000000006Z",` +
		`"actor":{"kind":"API_KEY","subject":"ci"},"operation":"inviteUser","outcome":"SUCCEEDED","request_id":"r",` +
		`"targets":[{"provider":"REDPANDA","email":"a@example.com"}]}`}}}
	if !reflect.DeepEqual(msgs, want) {
		t.Fatalf("stream holds\n%+v\nwant\n%+v", msgs, want)
	}
}

// TestRedisUnreadableEntriesAreSkipped: entries this version cannot read (another version's,
// or not an event) are passed over, and paging goes on past them.
func TestRedisUnreadableEntriesAreSkipped(t *testing.T) {
	srv := redistest.Start(t)
	rc := srv.Client()
	s := audit.NewRedis(rc, trailKey, 1000)
	want := appendAll(t, s, event(0))
	for _, values := range []any{
		[]string{"e", `{"v":2,"operation":"from the future"}`},
		[]string{"e", `not json`},
		[]string{"other", "field"},
	} {
		if err := rc.XAdd(context.Background(), &redis.XAddArgs{Stream: trailKey, Values: values}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	want = append(want, appendAll(t, s, event(1))...)
	equalEvents(t, "listed", listAll(t, s, audit.Filter{}, 1), newestFirst(want))
}

// TestSinceUsesTheIndex: List reads no entry whose ID is older than Since by more than
// IndexSlack, whatever its At says.
func TestSinceUsesTheIndex(t *testing.T) {
	srv := redistest.Start(t)
	rc := srv.Client()
	s := audit.NewRedis(rc, trailKey, 1000)
	at := time.Now().UTC()
	id := fmt.Sprintf("%d-0", at.Add(-2*audit.IndexSlack).UnixMilli())
	body := `{"v":1,"at":"` + at.Format(time.RFC3339Nano) + `","actor":{"kind":"JWT"},"operation":"op","outcome":"SUCCEEDED"}`
	if err := rc.XAdd(context.Background(), &redis.XAddArgs{Stream: trailKey, ID: id, Values: []string{"e", body}}).Err(); err != nil {
		t.Fatal(err)
	}
	want := []audit.Event{{ID: id, At: at, Actor: audit.Actor{Kind: audit.ActorJWT}, Operation: "op", Outcome: audit.OutcomeSucceeded}}
	tests := []struct {
		name string
		f    audit.Filter
		want []audit.Event
	}{
		{"no bound", audit.Filter{}, want},
		{"since within the slack of its ID", audit.Filter{Since: at.Add(-3 * audit.IndexSlack)}, want},
		{"since past the slack of its ID", audit.Filter{Since: at.Add(-time.Second)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			equalEvents(t, "listed", listAll(t, s, tt.f, 10), tt.want)
		})
	}
}
