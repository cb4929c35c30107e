// Package idempotency makes a GraphQL mutation sent with an Idempotency-Key header run at
// most once per caller and key (the IETF draft "The Idempotency-Key HTTP Header Field"): a
// repeat of the same request, within TTL, gets the first response again without running;
// the same key with another body is refused.
//
// # What is protected
//
// A POST whose body runs a mutation (the operation operationName names, or the document's
// only one; a persisted query's text is looked up), from a caller with an identity
// (Options.Caller). Everything else passes through untouched, the header ignored: queries,
// GETs (which cannot carry a mutation), bodies the server will refuse before running anything,
// and anonymous requests when Caller says there is no identity.
//
// # Flow
//
// The store key is KeyPrefix + hex SHA-256 of caller, NUL, key; the request's fingerprint is
// the SHA-256 of its body bytes. The first request reserves the key (a pending record, kept
// for InFlightTTL) and runs. A 200 answer, which is what the mutation did (its GraphQL errors
// included: after an upstream timeout the write may have happened), replaces the reservation
// and is kept for TTL; any other status is an answer about the request before it ran (bad
// parameters, size, authentication, overload), so the reservation is released and a retry
// runs, as it is after a panic. A later request with the key gets:
//
//   - the kept response (status, Content-Type and body byte for byte, plus
//     Idempotent-Replayed: true) for the same body;
//   - 422 IDEMPOTENCY_KEY_REUSED for another body, pending or done;
//   - 409 IDEMPOTENCY_KEY_IN_USE with Retry-After for the same body still running.
//
// # Failures
//
// The store fails closed: without it the guard cannot tell a repeat from a first request, and
// the caller asked for at most once, so the answer is 503 UNAVAILABLE with Retry-After. When
// the store fails after the request ran, the response still goes out and the reservation
// stays until InFlightTTL, answering 409 to retries meanwhile. Logs never hold the key, the
// caller or a response body.
//
// # Gaps
//
//   - A request still running after InFlightTTL loses its reservation: a retry then runs
//     again. InFlightTTL must outlast the longest request (the gateway's timeout).
//   - Responses over MaxResponseBytes are sent but not kept: a retry runs again.
//   - The fingerprint is the body alone: a repeat that accepts another media type gets the
//     first response's.
//   - The Memory store holds for one replica and forgets what its bounds push out.
//   - A persisted query sent by hash before this replica's lookup knows the hash passes
//     through; should the server find it in between, that mutation runs unprotected.
package idempotency

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/invitegw/invitegw/invite"
)

// Defaults of Options.
const (
	DefaultTTL              = 24 * time.Hour
	DefaultInFlightTTL      = time.Minute
	DefaultStoreTimeout     = 2 * time.Second
	DefaultMaxResponseBytes = 1 << 20
)

// The extensions.code values of the guard's error answers; bad keys are BAD_USER_INPUT.
const (
	CodeKeyReused   = "IDEMPOTENCY_KEY_REUSED"
	CodeKeyInUse    = "IDEMPOTENCY_KEY_IN_USE"
	CodeUnavailable = "UNAVAILABLE" // as auth's, for the same reason: retry later
)

// Header names.
const (
	HeaderKey      = "Idempotency-Key"
	HeaderReplayed = "Idempotent-Replayed"
)

// retryAfter is the Retry-After of 409 and 503 answers, in seconds.
const retryAfter = "1"

// Options configure a Guard. Store and Caller are required.
type Options struct {
	// Store holds the records: NewRedis so that every replica sees them, NewMemory without
	// Redis.
	Store Store
	// Caller names who sent the request, stably across requests and replicas (the gateway
	// joins the authenticated identity's kind, issuer and subject). false: no identity, and
	// the request passes through. Two callers never share a key.
	Caller func(*http.Request) (string, bool)
	// TTL is how long a response is kept for repeats. Default DefaultTTL (the draft's
	// suggestion of 24 hours).
	TTL time.Duration
	// InFlightTTL is how long a reservation outlives a request that never finishes (a crash).
	// It must outlast the longest request; the gateway passes its request timeout plus a
	// margin. Default DefaultInFlightTTL.
	InFlightTTL time.Duration
	// StoreTimeout bounds each store call. Default DefaultStoreTimeout.
	StoreTimeout time.Duration
	// MaxResponseBytes bounds a kept response body. Default DefaultMaxResponseBytes.
	MaxResponseBytes int
	// TokenLimit bounds the tokens parsed to find the operation; 0 is no limit. It must not be
	// lower than the GraphQL server's, or a mutation the server runs could pass unprotected.
	TokenLimit int
	// PersistedQuery, when set, returns the text of an automatic persisted query by its
	// SHA-256 hash, so that a mutation sent by hash alone is protected too.
	PersistedQuery func(ctx context.Context, sha256Hash string) (string, bool)
	// Logger receives store failures. Default slog.Default().
	Logger *slog.Logger
	// RequestID, when set, names the request in log lines.
	RequestID func(context.Context) string
}

// Guard is the Idempotency-Key middleware; build it once with New.
type Guard struct {
	store          Store
	caller         func(*http.Request) (string, bool)
	ttl            time.Duration
	inFlightTTL    time.Duration
	storeTimeout   time.Duration
	maxResponse    int
	tokenLimit     int
	persistedQuery func(context.Context, string) (string, bool)
	log            *slog.Logger
	requestID      func(context.Context) string
}

// New checks o and returns a Guard. Zero durations and sizes take the defaults; negative ones
// are errors.
func New(o Options) (*Guard, error) {
	if o.Store == nil {
		return nil, errors.New("idempotency: Store is required")
	}
	if o.Caller == nil {
		return nil, errors.New("idempotency: Caller is required")
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"TTL", &o.TTL, DefaultTTL},
		{"InFlightTTL", &o.InFlightTTL, DefaultInFlightTTL},
		{"StoreTimeout", &o.StoreTimeout, DefaultStoreTimeout},
	} {
		switch {
		case *d.v == 0:
			*d.v = d.def
		case *d.v < time.Millisecond:
			return nil, fmt.Errorf("idempotency: %s must be at least 1ms, got %v", d.name, *d.v)
		}
	}
	if o.InFlightTTL > o.TTL {
		return nil, fmt.Errorf("idempotency: InFlightTTL %v is longer than TTL %v", o.InFlightTTL, o.TTL)
	}
	if o.MaxResponseBytes < 0 || o.TokenLimit < 0 {
		return nil, fmt.Errorf("idempotency: MaxResponseBytes %d and TokenLimit %d must not be negative",
			o.MaxResponseBytes, o.TokenLimit)
	}
	if o.MaxResponseBytes == 0 {
		o.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.RequestID == nil {
		o.RequestID = func(context.Context) string { return "" }
	}
	return &Guard{
		store: o.Store, caller: o.Caller, ttl: o.TTL, inFlightTTL: o.InFlightTTL,
		storeTimeout: o.StoreTimeout, maxResponse: o.MaxResponseBytes, tokenLimit: o.TokenLimit,
		persistedQuery: o.PersistedQuery, log: o.Logger, requestID: o.RequestID,
	}, nil
}

// Middleware guards next. It reads a POST body whole, so it belongs inside the handler that
// limits the body's size, and hands next the same bytes.
func (g *Guard) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keys := r.Header.Values(HeaderKey)
		if r.Method != http.MethodPost || len(keys) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		caller, ok := g.caller(r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			// Next reads what was read and then the same error, and answers it.
			r.Body = readCloser{io.MultiReader(bytes.NewReader(body), errReader{err}), r.Body}
			next.ServeHTTP(w, r)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if !g.isMutation(r.Context(), body) {
			next.ServeHTTP(w, r)
			return
		}
		switch {
		case len(keys) > 1:
			writeError(w, http.StatusBadRequest, "send one Idempotency-Key header", string(invite.CodeBadUserInput))
			return
		case !validKey(keys[0]):
			writeError(w, http.StatusBadRequest, "the Idempotency-Key header must be 1 to "+
				strconv.Itoa(MaxKeyLength)+" printable ASCII characters", string(invite.CodeBadUserInput))
			return
		}
		g.serve(w, r, next, storeKey(caller, keys[0]), fingerprint(body))
	})
}

// serve runs the request if it is the first with its key, or answers for the one that was.
func (g *Guard) serve(w http.ResponseWriter, r *http.Request, next http.Handler, key, fp string) {
	reservation := pending(fp)
	ctx, cancel := context.WithTimeout(r.Context(), g.storeTimeout)
	held, err := g.store.Reserve(ctx, key, reservation.encode(), g.inFlightTTL)
	cancel()
	if err != nil {
		if r.Context().Err() == nil { // not a caller that has gone
			g.storeFailed(r.Context(), "reserve", err)
		}
		unavailable(w)
		return
	}
	if held == nil {
		g.run(w, r, next, key, reservation)
		return
	}
	rec, err := decode(held)
	switch {
	case err != nil:
		// Not written by this version: the key is taken, by what is unknown.
		g.storeFailed(r.Context(), "read", err)
		unavailable(w)
	case rec.fingerprint != fp:
		writeError(w, http.StatusUnprocessableEntity,
			"this Idempotency-Key was used for another request; use a new key for a new request", CodeKeyReused)
	case !rec.done:
		w.Header().Set("Retry-After", retryAfter)
		writeError(w, http.StatusConflict,
			"a request with this Idempotency-Key is still being processed; retry later", CodeKeyInUse)
	default:
		if rec.contentType != "" {
			w.Header().Set("Content-Type", rec.contentType)
		}
		w.Header().Set(HeaderReplayed, "true")
		w.Header().Set("Content-Length", strconv.Itoa(len(rec.body)))
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body)
	}
}

// run runs the request that holds the reservation, keeps a 200 answer and sends it. The
// store hears of the outcome before the caller does, so that a retry sent on receipt finds
// the response kept or the key free.
func (g *Guard) run(w http.ResponseWriter, r *http.Request, next http.Handler, key string, reservation record) {
	reserved := reservation.encode()
	ran := false
	defer func() {
		if !ran { // a panic: let a retry run
			g.release(r.Context(), key, reserved)
		}
	}()
	a := &answer{w: w, limit: g.maxResponse}
	next.ServeHTTP(a, r)
	ran = true
	if a.status == 0 { // nothing written: net/http sends 200 with no body
		a.status = http.StatusOK
	}
	switch {
	case a.passed:
		// Not kept, and already sent: a response this large is out of proportion to what a
		// mutation answers, and bounded records keep Redis and the memory store bounded. A
		// retry runs again.
		g.log.WarnContext(r.Context(), "idempotency: response too large to keep", "request_id", g.requestID(r.Context()),
			"max_bytes", g.maxResponse)
		g.release(r.Context(), key, reserved)
		return
	case a.status == http.StatusOK:
		g.keep(r.Context(), key, reserved, record{fingerprint: reservation.fingerprint, done: true, status: a.status,
			contentType: w.Header().Get("Content-Type"), body: a.body.Bytes()})
	default:
		g.release(r.Context(), key, reserved)
	}
	a.send()
}

// after is the context of a store call made once the request has run: it is made even when
// the caller has gone, since its request ran.
func (g *Guard) after(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), g.storeTimeout)
}

// keep replaces the reservation with the response.
func (g *Guard) keep(ctx context.Context, key string, reserved []byte, done record) {
	ctx, cancel := g.after(ctx)
	defer cancel()
	replaced, err := g.store.Replace(ctx, key, reserved, done.encode(), g.ttl)
	switch {
	case err != nil:
		// The reservation stays until InFlightTTL: releasing it would let a retry run the
		// request again.
		g.storeFailed(ctx, "keep", err)
	case !replaced:
		g.log.WarnContext(ctx, "idempotency: the reservation expired before its request finished, "+
			"so the response is not kept (InFlightTTL is too short)", "request_id", g.requestID(ctx),
			"in_flight_ttl", g.inFlightTTL.String())
	}
}

// release deletes the reservation, if it is still this request's, so that a retry runs.
func (g *Guard) release(ctx context.Context, key string, reserved []byte) {
	ctx, cancel := g.after(ctx)
	defer cancel()
	if _, err := g.store.Release(ctx, key, reserved); err != nil {
		g.storeFailed(ctx, "release", err)
	}
}

// storeFailed logs a store failure at step, without the key, the caller or a body.
func (g *Guard) storeFailed(ctx context.Context, step string, err error) {
	g.log.ErrorContext(ctx, "idempotency store failed", "request_id", g.requestID(ctx), "step", step, "error", err.Error())
}

// answer is a ResponseWriter that holds a response, up to limit bytes, for the guard to keep
// before it goes out; past limit it sends what it holds and passes the rest through. The
// GraphQL server writes an answer in one piece, so holding it delays nothing. Headers go
// straight to the real writer. It has no Flush or Unwrap: nothing can stream past it.
type answer struct {
	w      http.ResponseWriter
	limit  int
	status int // 0 until written
	body   bytes.Buffer
	passed bool // past limit: written through
}

func (a *answer) Header() http.Header { return a.w.Header() }

func (a *answer) WriteHeader(code int) {
	if a.status == 0 && code >= 200 { // 1xx answers are not the response
		a.status = code
	}
}

func (a *answer) Write(b []byte) (int, error) {
	a.WriteHeader(http.StatusOK)
	if !a.passed && a.body.Len()+len(b) > a.limit {
		a.passed = true
		a.w.WriteHeader(a.status)
		if _, err := a.w.Write(a.body.Bytes()); err != nil {
			return 0, err
		}
		a.body = bytes.Buffer{}
	}
	if a.passed {
		return a.w.Write(b)
	}
	return a.body.Write(b)
}

// send writes the held response.
func (a *answer) send() {
	a.w.WriteHeader(a.status)
	_, _ = a.w.Write(a.body.Bytes())
}

// writeError answers with one GraphQL error and no data, as the gateway's HTTP-level errors
// are answered.
func writeError(w http.ResponseWriter, status int, message, code string) {
	body, _ := json.Marshal(map[string]any{"errors": []any{map[string]any{
		"message": message, "extensions": map[string]string{"code": code}}}})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func unavailable(w http.ResponseWriter) {
	w.Header().Set("Retry-After", retryAfter)
	writeError(w, http.StatusServiceUnavailable, "the idempotency store is unavailable; retry later", CodeUnavailable)
}

// readCloser reads from one reader and closes another.
type readCloser struct {
	io.Reader
	io.Closer
}

// errReader fails every read with err.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
