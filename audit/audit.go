// Package audit is the trail of every change made through invitegw: one Event per mutation
// attempt (allowed or refused, succeeded or failed, and per item of a bulk mutation), written
// by a Log to a JSON log line at once and to a Store (a Redis Stream shared by every replica,
// or memory for -demo and for running without Redis) as soon as the store takes it.
//
// The log line comes first and is written whatever the store does, so the log always holds
// the whole trail; the store is what the gateway lists the trail from. A Log tries the store
// once before Record returns and, when that fails, queues the event and retries it in the
// background (see Log.Record): a store outage delays events, and loses them only when the
// queue overflows or Close gives up, each counted in Log.Dropped.
//
// # Nothing secret
//
// An Event holds only what its caller puts in it, and it is written in full to the log and the
// store. Callers must never put a credential in one: no JWT, API key, upstream token, Elastic
// invitation token or request body. An actor is named by its kind, subject and issuer (a JWT's
// sub and iss claims, an API key's name, never the key), a target by IDs and an email address.
//
// # Order, cursors and time
//
// Every stored event has an ID in the form of a Redis Stream entry ID, "<unix ms>-<seq>", given
// by the store when it takes the event (the Redis server's clock for Redis, this process's for
// Memory). IDs only grow, so a trail is listed newest first by ID: the order in which events
// reached the store. That is the order they happened in, except for an event that waited in the
// Log's queue while the store failed: it is listed where it landed, with its original At.
//
// A cursor is opaque to callers (base64 of an ID): the events after it are those with smaller
// IDs. A cursor stays valid after its own event has been trimmed.
//
// Filter.Since and Filter.Until compare Event.At, exactly. The store uses Since as a bound on
// IDs too (the index), allowing IndexSlack for clocks that differ between gateway hosts and
// Redis: an event's ID is never earlier than its At by more than that, because it is stored
// after it happened. Until has no such bound (an event queued during an outage lands later
// than it happened, by any amount), so a List with Until scans from the newest event or the
// cursor down.
package audit

import (
	"context"
	"errors"
	"slices"
	"time"
)

// ActorKind says how the caller of a mutation authenticated, so an auditor can tell a person
// (a JWT) from a machine (an API key) from nobody.
type ActorKind string

// The actor kinds, as the GraphQL layer names them.
const (
	ActorJWT       ActorKind = "JWT"
	ActorAPIKey    ActorKind = "API_KEY"
	ActorAnonymous ActorKind = "ANONYMOUS"
)

// Outcome is how a mutation attempt ended.
type Outcome string

// The outcomes. Partial is a bulk mutation in which some items succeeded and some failed;
// Forbidden an attempt refused before any upstream call.
const (
	OutcomeSucceeded Outcome = "SUCCEEDED"
	OutcomeFailed    Outcome = "FAILED"
	OutcomePartial   Outcome = "PARTIAL"
	OutcomeForbidden Outcome = "FORBIDDEN"
)

// Actor is who attempted a change. Subject and Issuer identify, never authenticate: a JWT's
// sub and iss claims, an API key's configured name. Never the token or the key.
type Actor struct {
	Kind    ActorKind
	Subject string
	Issuer  string
}

// Target is one invitation or organization a mutation touched or meant to touch. Provider is
// "REDPANDA", "ELASTIC", "FRONTIER" (invite.Provider's values) or "" when no one provider
// applies.
type Target struct {
	InvitationID   string
	Provider       string
	OrganizationID string
	Email          string
}

// Event is one mutation attempt. It carries only what its caller sets: see the package doc on
// secrets.
type Event struct {
	// ID is given by the store (for Redis, the stream entry ID); Append ignores it.
	ID string
	// At is when it happened; Log.Record sets it when zero. Stores keep it in UTC, to the
	// nanosecond. It must not be ahead of the time it is recorded by more than IndexSlack.
	At        time.Time
	Actor     Actor
	Operation string // the mutation field's name, e.g. "updateInvitation"
	Outcome   Outcome
	ErrorCode string // the GraphQL error's extensions.code, e.g. "NOT_FOUND"; "" on success
	RequestID string
	Targets   []Target
}

// Cursor is the cursor that lists the events after e (older than e): a Relay edge's cursor.
// It is "" for an event without an ID (not from a store).
func (e Event) Cursor() string {
	id, err := parseID(e.ID)
	if err != nil {
		return ""
	}
	return id.cursor()
}

// Filter selects events. Every field's zero value selects all; set fields must all match.
type Filter struct {
	// ActorSubject matches Actor.Subject exactly.
	ActorSubject string
	// Email matches an event with any target of that email, both trimmed of spaces and
	// compared case-insensitively.
	Email string
	// Operation matches Event.Operation exactly.
	Operation string
	// Since (inclusive) and Until (exclusive) bound Event.At: At >= Since and At < Until, so
	// consecutive windows neither overlap nor leave a gap.
	Since, Until time.Time
}

// Page is one page of a List.
type Page struct {
	// Events are newest first.
	Events []Event
	// HasNext says that older events may match: a List that stopped at its scan bound
	// (ScanLimit) says so even when, as it turns out, none does.
	HasNext bool
	// EndCursor continues the listing: the cursor of the last event in Events, or, when the
	// scan bound ended the List, of the last entry scanned (so the next List starts below
	// what this one read). "" when Events is empty and nothing was left to scan.
	EndCursor string
}

// Store keeps the trail. Implementations are safe for concurrent use.
type Store interface {
	// Append stores e (ignoring e.ID) and returns the ID it was given.
	Append(ctx context.Context, e Event) (id string, err error)
	// List returns up to first (>= 1) events matching f, newest first, starting below the
	// cursor after ("" starts from the newest). It reads at most ScanLimit entries; see Page.
	// A malformed cursor is an error matching ErrBadCursor.
	List(ctx context.Context, f Filter, first int, after string) (Page, error)
}

// ErrBadCursor is List's error for an after cursor it did not issue: a client's error, not the
// store's.
var ErrBadCursor = errors.New("audit: malformed cursor")

// ScanLimit bounds the entries one List reads, matching or not, so a filter that matches little
// of a long trail costs a bounded amount per call; the caller pages on with EndCursor.
const ScanLimit = 10_000

// IndexSlack is how far apart the clocks of gateway hosts and Redis may be for a Since filter
// to find every event: List reads no entry whose ID is older than Since - IndexSlack. Generous,
// since it costs only the reading of that much more of the trail.
const IndexSlack = 5 * time.Minute

// normalize is e as a store keeps it, so both stores return the same values: At in UTC without
// a monotonic clock reading, no empty Targets, and nothing shared with the caller.
func normalize(e Event) Event {
	e.ID = ""
	e.At = e.At.UTC()
	if len(e.Targets) == 0 {
		e.Targets = nil
	}
	e.Targets = slices.Clone(e.Targets)
	return e
}
