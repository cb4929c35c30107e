package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/invitegw/invitegw/audit"
	"github.com/invitegw/invitegw/cache"
	"github.com/invitegw/invitegw/cache/redistest"

	"github.com/invitegw/invitegw/internal/testlog"
)

// lines returns the log lines with message msg, decoded, without their "time".
func logLines(t *testing.T, log *testlog.Buffer, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(log.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["msg"] == msg {
			delete(m, "time")
			out = append(out, m)
		}
	}
	return out
}

// switchStore is a Memory store that fails while down: for the Log's queue, whose behaviour
// needs a store that fails and recovers on cue. The Redis tests below do the same with a real
// redis-server, less precisely.
type switchStore struct {
	*audit.Memory
	down  atomic.Bool
	calls atomic.Int64
}

func newSwitchStore() *switchStore { return &switchStore{Memory: audit.NewMemory(1000)} }

func (s *switchStore) Append(ctx context.Context, e audit.Event) (string, error) {
	s.calls.Add(1)
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if s.down.Load() {
		return "", errDown
	}
	return s.Memory.Append(ctx, e)
}

var errDown = errors.New("store down")

// scriptedStore is a Memory store whose every Append waits for the test to answer it, for
// tests that must know which write is under way when.
type scriptedStore struct {
	*audit.Memory
	calls chan scriptedCall
}

type scriptedCall struct {
	event audit.Event
	reply chan<- error // nil: store it
}

func (s *scriptedStore) Append(ctx context.Context, e audit.Event) (string, error) {
	reply := make(chan error)
	s.calls <- scriptedCall{event: e, reply: reply}
	if err := <-reply; err != nil {
		return "", err
	}
	return s.Memory.Append(ctx, e)
}

// next is the next write, which must be of e.
func (s *scriptedStore) next(t *testing.T, e audit.Event) scriptedCall {
	t.Helper()
	c := <-s.calls
	if c.event.RequestID != e.RequestID {
		t.Fatalf("writing %s, want %s", c.event.RequestID, e.RequestID)
	}
	return c
}

// stored lists every event in s, newest first.
func stored(t *testing.T, s audit.Store) []audit.Event {
	t.Helper()
	return listAll(t, s, audit.Filter{}, 100)
}

// withoutIDs is events without their IDs, which tests cannot know.
func withoutIDs(events []audit.Event) []audit.Event {
	out := make([]audit.Event, len(events))
	for i, e := range events {
		e.ID = ""
		out[i] = e
	}
	return out
}

// fastRetries are Options that retry at once, for tests that wait for a store to recover.
func fastRetries(s audit.Store, log *testlog.Buffer) audit.Options {
	return audit.Options{Store: s, Logger: log.Logger(), RetryMin: time.Millisecond, RetryMax: 10 * time.Millisecond}
}

func closeLog(t *testing.T, l *audit.Log) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := l.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
}

func TestRecordLogsAndStores(t *testing.T) {
	var log testlog.Buffer
	s := newSwitchStore()
	now := time.Date(2026, 3, 4, 5, 6, 7, 890, time.UTC)
	l := audit.New(audit.Options{Store: s, Logger: log.Logger(), Now: func() time.Time { return now }})
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // a client that hung up: the event is stored all the same

	e := audit.Event{
		Actor:     audit.Actor{Kind: audit.ActorJWT, Subject: "alice", Issuer: "https://idp.example"},
		Operation: "revokeInvitation", Outcome: audit.OutcomeFailed, ErrorCode: "NOT_FOUND", RequestID: "req-1",
		Targets: []audit.Target{{InvitationID: "inv-1", Provider: "ELASTIC", OrganizationID: "org-1", Email: "bob@example.com"}, {OrganizationID: "org-2"}},
	}
	l.Record(ctx, e)
	given := e
	given.At = now.Add(-time.Minute).In(time.FixedZone("UTC-5", -5*3600))
	given.Targets = nil
	l.Record(ctx, given)

	wantLine := func(at string, targets []any) map[string]any {
		return map[string]any{
			"level": "INFO", "msg": "audit", "at": at, "actor_kind": "JWT", "actor_subject": "alice",
			"actor_issuer": "https://idp.example", "operation": "revokeInvitation", "outcome": "FAILED",
			"error_code": "NOT_FOUND", "request_id": "req-1", "targets": targets,
		}
	}
	want := []map[string]any{
		wantLine("2026-03-04T05:06:07.00000089Z", []any{
			map[string]any{"invitation_id": "inv-1", "provider": "ELASTIC", "organization_id": "org-1", "email": "bob@example.com"},
			map[string]any{"organization_id": "org-2"},
		}),
		wantLine("2026-03-04T00:05:07.00000089-05:00", []any{}),
	}
	if got := logLines(t, &log, "audit"); !reflect.DeepEqual(got, want) {
		t.Fatalf("log lines:\n got %v\nwant %v", got, want)
	}

	e.At, given.At = now, given.At.UTC()
	equalEvents(t, "stored", withoutIDs(stored(t, s)), []audit.Event{given, e})
	if l.Pending() != 0 || l.Dropped() != 0 || l.StoreErrors() != 0 {
		t.Fatalf("pending %d, dropped %d, store errors %d; want none", l.Pending(), l.Dropped(), l.StoreErrors())
	}
	closeLog(t, l)
}

func TestQueueWhileStoreFails(t *testing.T) {
	var log testlog.Buffer
	s := newSwitchStore()
	l := audit.New(fastRetries(s, &log))
	s.down.Store(true)
	in := []audit.Event{event(0), event(1), event(2)}
	for _, e := range in {
		l.Record(context.Background(), e)
	}
	if n := len(logLines(t, &log, "audit")); n != 3 {
		t.Fatalf("%d audit log lines while the store fails, want 3", n)
	}
	if l.StoreErrors() == 0 || len(stored(t, s)) != 0 {
		t.Fatalf("store errors %d, stored %d: want errors and nothing stored", l.StoreErrors(), len(stored(t, s)))
	}
	if n := l.Pending(); n != 3 {
		t.Fatalf("pending %d, want 3", n)
	}
	if n := len(logLines(t, &log, "audit store failing: queueing events until it takes them")); n != 1 {
		t.Fatalf("%d lines saying the store fails, want 1", n)
	}

	s.down.Store(false)
	closeLog(t, l) // waits for the queue to drain
	equalEvents(t, "stored", withoutIDs(stored(t, s)), utc(newestFirst(in)))
	if l.Dropped() != 0 || l.Pending() != 0 {
		t.Fatalf("dropped %d, pending %d; want none", l.Dropped(), l.Pending())
	}
	if n := len(logLines(t, &log, "audit store recovered: every queued event is stored")); n != 1 {
		t.Fatalf("%d lines saying the store recovered, want 1", n)
	}
}

func TestQueueDropsTheOldestWhenFull(t *testing.T) {
	var log testlog.Buffer
	s := &scriptedStore{Memory: audit.NewMemory(10), calls: make(chan scriptedCall)}
	o := fastRetries(s, &log)
	o.QueueSize = 2
	l := audit.New(o)
	in := []audit.Event{event(0), event(1), event(2), event(3)}

	recorded := make(chan struct{})
	go func() {
		l.Record(context.Background(), in[0])
		close(recorded)
	}()
	s.next(t, in[0]).reply <- errDown // Record's own write
	<-recorded
	retry := s.next(t, in[0]) // the retrier's, held while three more are queued
	for _, e := range in[1:] {
		l.Record(context.Background(), e)
	}
	if n := l.Dropped(); n != 1 {
		t.Fatalf("dropped %d with 1, 2, 3 queued behind the write of 0, want 1 (event 1)", n)
	}
	retry.reply <- errDown // 0 goes back to the front of a full queue: it is dropped
	s.next(t, in[2]).reply <- nil
	s.next(t, in[3]).reply <- nil
	closeLog(t, l)

	equalEvents(t, "stored", withoutIDs(stored(t, s)), utc(newestFirst(in[2:])))
	if n := l.Dropped(); n != 2 {
		t.Fatalf("dropped %d, want 2", n)
	}
	if n := len(logLines(t, &log, "audit queue full: dropping the oldest events not yet stored (they are in the log)")); n != 1 {
		t.Fatalf("%d lines saying the queue is full, want 1", n)
	}
}

func TestCloseGivesUpWhenItsContextEnds(t *testing.T) {
	var log testlog.Buffer
	s := newSwitchStore()
	l := audit.New(fastRetries(s, &log))
	s.down.Store(true)
	for i := range 3 {
		l.Record(context.Background(), event(i))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Close(ctx); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "3 queued events not stored") {
		t.Fatalf("close: %v; want 3 events not stored, and context.Canceled", err)
	}
	if l.Dropped() != 3 || l.Pending() != 0 {
		t.Fatalf("dropped %d, pending %d; want 3 and 0", l.Dropped(), l.Pending())
	}

	// Once closed, an event is tried once, and never queued.
	s.down.Store(false)
	l.Record(context.Background(), event(3))
	s.down.Store(true)
	l.Record(context.Background(), event(4))
	if l.Dropped() != 4 || l.Pending() != 0 {
		t.Fatalf("after close: dropped %d, pending %d; want 4 and 0", l.Dropped(), l.Pending())
	}
	s.down.Store(false)
	equalEvents(t, "stored", withoutIDs(stored(t, s)), utc([]audit.Event{event(3)}))
	if n := len(logLines(t, &log, "audit")); n != 5 {
		t.Fatalf("%d audit log lines, want 5", n)
	}
	if err := l.Close(context.Background()); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

// hungStore never answers: each Append waits for its context.
type hungStore struct{ *audit.Memory }

func (hungStore) Append(ctx context.Context, _ audit.Event) (string, error) {
	<-ctx.Done()
	return "", ctx.Err()
}

func TestAHungStoreHoldsUpNeitherRecordNorClose(t *testing.T) {
	var log testlog.Buffer
	l := audit.New(audit.Options{Store: hungStore{audit.NewMemory(1)}, Logger: log.Logger(),
		InlineTimeout: time.Millisecond, RetryTimeout: time.Hour})
	l.Record(context.Background(), event(0)) // returns after InlineTimeout
	l.Record(context.Background(), event(1)) // queued behind it at once
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// The retrier waits an hour for its write unless Close cancels it.
	if err := l.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("close: %v", err)
	}
	if l.Dropped() != 2 || l.Pending() != 0 {
		t.Fatalf("dropped %d, pending %d; want 2 and 0", l.Dropped(), l.Pending())
	}
}

// utc is events as a store returns them, but for their IDs.
func utc(events []audit.Event) []audit.Event {
	out := make([]audit.Event, len(events))
	for i, e := range events {
		e.At = e.At.UTC()
		out[i] = e
	}
	return out
}

// redisClient is a client to srv as the server builds one.
func redisClient(t *testing.T, srv *redistest.Server) redis.UniversalClient {
	t.Helper()
	c, err := cache.NewRedisClient(cache.RedisOptions{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}
