package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a Store over one Redis Stream, which every replica appends to and reads, and which
// outlives them. One key is one hash slot, so it works the same on a single node, a
// Sentinel-managed primary and a Cluster.
//
// Each entry has one field, "e", holding the event as JSON (see wireEvent); the entry ID is
// the event's ID.
type Redis struct {
	client redis.UniversalClient
	key    string
	max    int64
}

// NewRedis returns a store on the stream at key, trimmed on every append to about maxEvents
// entries (XADD MAXLEN ~: Redis trims whole internal nodes only, so the stream can hold up to
// one node's worth more, 100 entries by default). It panics on an empty key or a maxEvents that
// is not positive: the configuration must have rejected those before.
func NewRedis(c redis.UniversalClient, key string, maxEvents int64) *Redis {
	if key == "" || maxEvents < 1 {
		panic(fmt.Sprintf("audit: NewRedis(%q, %d): want a key and a positive maxEvents", key, maxEvents))
	}
	return &Redis{client: c, key: key, max: maxEvents}
}

// Append implements Store with one XADD key MAXLEN ~ max * e <json>.
func (r *Redis) Append(ctx context.Context, e Event) (string, error) {
	b, err := json.Marshal(toWire(normalize(e)))
	if err != nil {
		return "", fmt.Errorf("audit: encode event: %w", err)
	}
	id, err := r.client.XAdd(ctx, &redis.XAddArgs{
		Stream: r.key, MaxLen: r.max, Approx: true, ID: "*", Values: []string{"e", string(b)},
	}).Result()
	if err != nil {
		return "", fmt.Errorf("audit: xadd: %w", err)
	}
	return id, nil
}

// List implements Store with XREVRANGE, in chunks of up to maxChunk entries.
func (r *Redis) List(ctx context.Context, f Filter, first int, after string) (Page, error) {
	return list(ctx, r, f, first, after)
}

// scan implements scanner.
func (r *Redis) scan(ctx context.Context, before *streamID, floor streamID, n int) ([]entry, error) {
	start, stop := "+", floor.String()
	if before != nil {
		start = "(" + before.String()
	}
	msgs, err := r.client.XRevRangeN(ctx, r.key, start, stop, int64(n)).Result()
	if err != nil {
		return nil, fmt.Errorf("audit: xrevrange: %w", err)
	}
	out := make([]entry, 0, len(msgs))
	for _, msg := range msgs {
		id, err := parseID(msg.ID)
		if err != nil {
			return nil, fmt.Errorf("audit: xrevrange: entry ID %q: %w", msg.ID, err)
		}
		en := entry{id: id}
		if s, ok := msg.Values["e"].(string); ok {
			var w wireEvent
			if json.Unmarshal([]byte(s), &w) == nil && w.V == wireVersion {
				en.event, en.ok = w.event(), true
				en.event.ID = msg.ID
			}
		}
		out = append(out, en)
	}
	return out, nil
}

// wireVersion is the version of wireEvent. A change to the stored form that an older reader
// would misread (a field renamed or given another meaning, not one added) needs a new version;
// entries of a version a reader does not know are skipped (see entry).
const wireVersion = 1

// wireEvent is an Event as stored in the stream. Its own type, so that a change to Event cannot
// change what is stored without a change here; wire_test.go holds its exact form.
type wireEvent struct {
	V         int          `json:"v"`
	At        time.Time    `json:"at"`
	Actor     wireActor    `json:"actor"`
	Operation string       `json:"operation"`
	Outcome   string       `json:"outcome"`
	ErrorCode string       `json:"error_code,omitempty"`
	RequestID string       `json:"request_id,omitempty"`
	Targets   []wireTarget `json:"targets,omitempty"`
}

type wireActor struct {
	Kind    string `json:"kind"`
	Subject string `json:"subject,omitempty"`
	Issuer  string `json:"issuer,omitempty"`
}

type wireTarget struct {
	InvitationID   string `json:"invitation_id,omitempty"`
	Provider       string `json:"provider,omitempty"`
	OrganizationID string `json:"organization_id,omitempty"`
	Email          string `json:"email,omitempty"`
}

func toWire(e Event) wireEvent {
	w := wireEvent{
		V: wireVersion, At: e.At, Operation: e.Operation, Outcome: string(e.Outcome),
		ErrorCode: e.ErrorCode, RequestID: e.RequestID,
		Actor: wireActor{Kind: string(e.Actor.Kind), Subject: e.Actor.Subject, Issuer: e.Actor.Issuer},
	}
	for _, t := range e.Targets {
		w.Targets = append(w.Targets, wireTarget(t))
	}
	return w
}

func (w wireEvent) event() Event {
	e := Event{
		At: w.At.UTC(), Operation: w.Operation, Outcome: Outcome(w.Outcome),
		ErrorCode: w.ErrorCode, RequestID: w.RequestID,
		Actor: Actor{Kind: ActorKind(w.Actor.Kind), Subject: w.Actor.Subject, Issuer: w.Actor.Issuer},
	}
	for _, t := range w.Targets {
		e.Targets = append(e.Targets, Target(t))
	}
	return e
}
