// Package fakeserver is the plumbing the fake upstream servers share: per-route call counters, a
// record of the requests received (method, escaped path, query, body), fault injection (the next
// N calls fail with a status, answer after a delay, answer a 200 whose body is not JSON, drop the
// connection halfway through the body, or do their work and lose the reply), headers sent with
// every answer, and a hook that runs before every request, so tests can assert call counts,
// requests and failure handling against real sockets.
//
// The fakes serve -demo too, so this package is linked into the gateway binary: it must not
// import testing (upstream's TestNoTestingInBinary checks). Helpers that need a *testing.T live
// in upstreamtest.
package fakeserver

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// ErrorWriter writes the provider's own error body for an injected failure status.
type ErrorWriter func(w http.ResponseWriter, status int)

// FaultKind is what an injected fault answers once its delay, if any, has passed.
type FaultKind int

// The kinds of fault. FaultStatus is the zero kind, so a Fault that sets only Status or Delay
// means what it always has.
const (
	// FaultStatus answers Fault.Status with the provider's error body, or lets the route answer
	// as usual when Status is zero (a pure delay).
	FaultStatus FaultKind = iota
	// FaultMalformed answers 200 with Content-Type application/json and MalformedBody, which is
	// not valid JSON: an upstream (or a proxy in front of it) that breaks its own contract.
	FaultMalformed
	// FaultCloseMidBody sends a 200 with Content-Type application/json and a Content-Length
	// larger than PartialBody, sends PartialBody, and closes the connection: an upstream that
	// dies while answering. The client sees the status and headers, then an error while reading
	// the body.
	FaultCloseMidBody
	// FaultDropReply runs the route's handler, so whatever the call changes is changed, throws
	// its answer away and closes the connection before any byte of a response: a write that the
	// upstream applied while its reply was lost (the upstream died after committing, or the
	// network dropped the answer). The client sees the request fail without a status, the case
	// in which it cannot know whether its call took effect.
	FaultDropReply
)

// MalformedBody is what FaultMalformed answers: JSON cut off after its first bytes, so that it
// fails to decode whichever provider's reply it stands for.
const MalformedBody = `{"invitations": [`

// PartialBody is what FaultCloseMidBody sends before it closes the connection. Its
// Content-Length claims closeMidBodyMissing more bytes than this.
const PartialBody = `{"invitations": [{"id": "`

// closeMidBodyMissing is how many promised bytes FaultCloseMidBody never sends.
const closeMidBodyMissing = 64

// Fault is an injected misbehaviour for the next calls of a route.
type Fault struct {
	Kind   FaultKind
	Status int           // FaultStatus only: answer this error status (the provider's error body), if non-zero
	Delay  time.Duration // wait this long first (or until the client gives up)
}

// Request is one request a route received, as the client sent it.
type Request struct {
	Route  string
	Method string
	// Path is the path as it was sent, still escaped (URL.EscapedPath), so a test sees how the
	// client escaped an ID: "/v1/user-invites/inv%2F1".
	Path string
	// Query is the raw query string, without "?".
	Query string
	// Body is the request body, at most MaxRecordedBody bytes of it; nil when there was none.
	Body []byte
}

// Bounds of what a Recorder keeps of requests. The demo serves the fakes for as long as it
// runs, so the record is a window, not a log.
const (
	// MaxRecordedRequests is how many of the latest requests Requests remembers.
	MaxRecordedRequests = 1024
	// MaxRecordedBody is how much of a request body is kept; the handler still reads all of it.
	MaxRecordedBody = 64 << 10
)

// Recorder counts calls, keeps the latest requests and injects faults. The zero value is not
// usable; use NewRecorder.
type Recorder struct {
	writeErr ErrorWriter

	mu       sync.Mutex
	calls    map[string]int     // by route name
	paths    map[string]int     // by "METHOD /path"
	requests []Request          // a ring of the latest MaxRecordedRequests; see record
	oldest   int                // where the ring starts once it is full
	faults   map[string][]Fault // by route name; "" applies to every route
	delay    time.Duration
	chaos    float64    // probability of a random fault per call (SetChaos)
	rnd      *rand.Rand // draws chaos faults; guarded by mu
	onRecv   func(route string, r *http.Request)
	lastAuth map[string]string
	header   http.Header // sent with every answer (SetHeader)
}

// NewRecorder returns a Recorder that writes injected failures with writeErr.
func NewRecorder(writeErr ErrorWriter) *Recorder {
	return &Recorder{
		writeErr: writeErr,
		calls:    map[string]int{},
		paths:    map[string]int{},
		faults:   map[string][]Fault{},
		lastAuth: map[string]string{},
		header:   http.Header{},
	}
}

// Wrap instruments the handler of one named route.
func (rec *Recorder) Wrap(route string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body := recordBody(r)
		rec.mu.Lock()
		rec.calls[route]++
		rec.paths[r.Method+" "+r.URL.Path]++
		rec.lastAuth[route] = r.Header.Get("Authorization")
		rec.record(Request{Route: route, Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, Body: body})
		fault, hasFault := rec.popFault(route)
		delay, hook := rec.delay, rec.onRecv
		for k, v := range rec.header {
			w.Header()[k] = slices.Clone(v)
		}
		rec.mu.Unlock()

		if hook != nil {
			hook(route, r)
		}
		if hasFault && fault.Delay > 0 {
			delay = fault.Delay
		}
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if !hasFault {
			h(w, r)
			return
		}
		switch fault.Kind {
		case FaultMalformed:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, MalformedBody)
		case FaultCloseMidBody:
			closeMidBody(w)
		case FaultDropReply:
			h(discardWriter{header: http.Header{}}, r)
			panic(http.ErrAbortHandler) // see closeMidBody; nothing was written, so nothing is sent
		default:
			if fault.Status != 0 {
				rec.writeErr(w, fault.Status)
				return
			}
			h(w, r)
		}
	}
}

// recordBody reads up to MaxRecordedBody bytes of r's body for the record and puts them back in
// front of the rest, so the route's handler reads the body it would have read (an error of the
// client's included).
func recordBody(r *http.Request) []byte {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, MaxRecordedBody))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), r.Body), r.Body}
	if len(b) == 0 {
		return nil
	}
	return bytes.Clone(b)
}

// record keeps req, in place of the oldest once MaxRecordedRequests are kept. rec.mu must be
// held.
func (rec *Recorder) record(req Request) {
	if len(rec.requests) < MaxRecordedRequests {
		rec.requests = append(rec.requests, req)
		return
	}
	rec.requests[rec.oldest] = req
	rec.oldest = (rec.oldest + 1) % MaxRecordedRequests
}

// discardWriter is where a FaultDropReply handler writes the answer no one receives.
type discardWriter struct{ header http.Header }

func (d discardWriter) Header() http.Header         { return d.header }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}

// closeMidBody sends the status line, the headers and PartialBody of a reply that promises more,
// then aborts the handler. net/http documents panicking with http.ErrAbortHandler as the way to
// abort a response: the server closes the connection (HTTP/1) or resets the stream (HTTP/2)
// and logs nothing. The flush comes first so that what was written reaches the client rather
// than dying in the server's buffer.
func closeMidBody(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(PartialBody)+closeMidBodyMissing))
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, PartialBody)
	_ = http.NewResponseController(w).Flush()
	panic(http.ErrAbortHandler)
}

func (rec *Recorder) popFault(route string) (Fault, bool) {
	for _, key := range []string{route, ""} {
		if q := rec.faults[key]; len(q) > 0 {
			rec.faults[key] = q[1:]
			return q[0], true
		}
	}
	if rec.chaos > 0 && rec.rnd.Float64() < rec.chaos {
		return chaosFaults[rec.rnd.IntN(len(chaosFaults))], true
	}
	return Fault{}, false
}

// chaosFaults are what SetChaos draws from.
var chaosFaults = []Fault{
	{Status: http.StatusServiceUnavailable},
	{Status: http.StatusBadGateway},
	{Status: http.StatusTooManyRequests},
	{Status: http.StatusInternalServerError},
	{Kind: FaultMalformed},
	{Kind: FaultCloseMidBody},
	{Delay: 2 * time.Second},
}

// SetChaos makes each call, with probability rate, fail in a random way (5xx, 429, a malformed
// or cut-off body, a 2s stall), drawn from a generator seeded with seed so runs repeat. Queued
// faults (FailNext and friends) come first. Rate 0 turns it off.
func (rec *Recorder) SetChaos(rate float64, seed uint64) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.chaos, rec.rnd = rate, rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// FailNext makes the next n calls of route (every route when route is "") answer status with
// the provider's error body.
func (rec *Recorder) FailNext(route string, n, status int) {
	rec.inject(route, n, Fault{Status: status})
}

// DelayNext makes the next n calls of route (every route when "") wait d before answering.
func (rec *Recorder) DelayNext(route string, n int, d time.Duration) {
	rec.inject(route, n, Fault{Delay: d})
}

// MalformedNext makes the next n calls of route (every route when "") answer 200 with a JSON
// content type and MalformedBody, which does not decode.
func (rec *Recorder) MalformedNext(route string, n int) {
	rec.inject(route, n, Fault{Kind: FaultMalformed})
}

// CloseMidBodyNext makes the next n calls of route (every route when "") send a 200's headers
// and the start of its body (PartialBody), then close the connection.
func (rec *Recorder) CloseMidBodyNext(route string, n int) {
	rec.inject(route, n, Fault{Kind: FaultCloseMidBody})
}

// DropReplyNext makes the next n calls of route (every route when "") do their work and then
// close the connection without answering (FaultDropReply).
func (rec *Recorder) DropReplyNext(route string, n int) {
	rec.inject(route, n, Fault{Kind: FaultDropReply})
}

// InjectNext injects one fault of kind into route's next call: MalformedNext, CloseMidBodyNext
// or DropReplyNext.
func (rec *Recorder) InjectNext(route string, kind FaultKind) {
	switch kind {
	case FaultMalformed, FaultCloseMidBody, FaultDropReply:
		rec.inject(route, 1, Fault{Kind: kind})
	}
}

func (rec *Recorder) inject(route string, n int, f Fault) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for range n {
		rec.faults[route] = append(rec.faults[route], f)
	}
}

// SetDelay makes every call wait d before answering (a fixed upstream latency).
func (rec *Recorder) SetDelay(d time.Duration) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.delay = d
}

// SetHeader makes every answer of every route, injected failures included, carry the header
// name: value, until it is set again; an empty value removes it. A route may still set the
// same header itself, which then wins.
func (rec *Recorder) SetHeader(name, value string) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if value == "" {
		rec.header.Del(name)
		return
	}
	rec.header.Set(name, value)
}

// OnRequest sets a hook that runs at the start of every request, before faults and delays.
// Tests use it to hold requests at a barrier (proving concurrency without timing).
func (rec *Recorder) OnRequest(hook func(route string, r *http.Request)) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.onRecv = hook
}

// Calls is how many requests route has received.
func (rec *Recorder) Calls(route string) int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.calls[route]
}

// PathCalls is how many requests "METHOD /path" has received, e.g.
// PathCalls("GET /api/v1/organizations/42/invitations").
func (rec *Recorder) PathCalls(methodPath string) int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.paths[methodPath]
}

// TotalCalls is how many requests all routes have received.
func (rec *Recorder) TotalCalls() int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	n := 0
	for _, c := range rec.calls {
		n += c
	}
	return n
}

// Requests are the requests route received (every route's when route is ""), oldest first,
// among the latest MaxRecordedRequests: faulted ones too, since they reached the fake.
func (rec *Recorder) Requests(route string) []Request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var out []Request
	for i := range rec.requests {
		req := rec.requests[(rec.oldest+i)%len(rec.requests)]
		if route == "" || req.Route == route {
			req.Body = bytes.Clone(req.Body)
			out = append(out, req)
		}
	}
	return out
}

// LastAuthorization is the Authorization header of route's most recent request.
func (rec *Recorder) LastAuthorization(route string) string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.lastAuth[route]
}

// Reset clears counters, recorded requests and pending faults (not the delay or hook).
func (rec *Recorder) Reset() {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	clear(rec.calls)
	clear(rec.paths)
	clear(rec.faults)
	rec.requests, rec.oldest = nil, 0
}
