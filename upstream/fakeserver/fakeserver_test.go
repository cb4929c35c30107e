package fakeserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// longDelay is a delay no test waits out: a client gives up long before it ends, and the fault
// must let the handler go as soon as it does.
const longDelay = 10 * time.Minute

// writeTestErr is the ErrorWriter of the test server: a provider error body that names the
// status, so a test can tell it from the handler's own reply.
func writeTestErr(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"status":%d}}`, status)
}

// testServer serves two routes, "a" at GET /a and "b" at GET /b, through one Recorder. Each
// answers 200 "ok <route>". done receives once per request when the wrapped handler has
// returned, and reached counts the calls that got through to the route's own handler.
type testServer struct {
	rec  *Recorder
	url  string
	done chan string

	mu      sync.Mutex
	reached map[string]int
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	ts := &testServer{rec: NewRecorder(writeTestErr), done: make(chan string, 64), reached: map[string]int{}}
	mux := http.NewServeMux()
	for _, route := range []string{"a", "b"} {
		h := ts.rec.Wrap(route, func(w http.ResponseWriter, _ *http.Request) {
			ts.mu.Lock()
			ts.reached[route]++
			ts.mu.Unlock()
			w.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(w, "ok "+route)
		})
		mux.HandleFunc("GET /"+route, func(w http.ResponseWriter, r *http.Request) {
			defer func() { ts.done <- route }() // also when the handler aborts with a panic
			h(w, r)
		})
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	ts.url = srv.URL
	return ts
}

func (ts *testServer) reachedHandler(route string) int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.reached[route]
}

// outcome is what a client saw of one call.
type outcome struct {
	status      int
	contentType string
	length      int64 // Content-Length, -1 when absent
	body        string
	// doTimeout is a client timeout before any response arrived (the other fields are then
	// zero); noReply a connection closed before any response; readErr an error while reading
	// the body.
	doTimeout bool
	noReply   bool
	readErr   error
}

// get calls route with a client that gives up after timeout (none when zero) and reports what
// it saw. It fails the test on any error other than a client timeout or a body read error.
func (ts *testServer) get(t *testing.T, route string, timeout time.Duration) outcome {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: timeout}
	req, err := http.NewRequest(http.MethodGet, ts.url+"/"+route, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer token-"+route)
	resp, err := c.Do(req)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return outcome{doTimeout: true}
		}
		if errors.Is(err, io.EOF) {
			return outcome{noReply: true}
		}
		t.Fatalf("GET /%s: %v", route, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return outcome{
		status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), length: resp.ContentLength,
		body: string(b), readErr: err,
	}
}

// Outcomes the tests expect.
var (
	okA = outcome{status: 200, contentType: "text/plain", length: 4, body: "ok a"}
	okB = outcome{status: 200, contentType: "text/plain", length: 4, body: "ok b"}

	malformed = outcome{status: 200, contentType: "application/json", length: int64(len(MalformedBody)),
		body: MalformedBody}
	closedMidBody = outcome{status: 200, contentType: "application/json",
		length: int64(len(PartialBody) + closeMidBodyMissing), body: PartialBody, readErr: io.ErrUnexpectedEOF}
	timedOut = outcome{doTimeout: true}
	noReply  = outcome{noReply: true}
)

func failed(status int) outcome {
	body := `{"error":{"status":` + strconv.Itoa(status) + `}}`
	return outcome{status: status, contentType: "application/json", length: int64(len(body)), body: body}
}

func TestFaults(t *testing.T) {
	type call struct {
		route string
		// timeout is the client's; zero waits for the answer.
		timeout time.Duration
		want    outcome
	}
	tests := []struct {
		name   string
		inject func(rec *Recorder)
		calls  []call
		// wantReached is how many calls got through to each route's own handler.
		wantReached map[string]int
	}{
		{name: "no fault reaches the handler",
			inject:      func(*Recorder) {},
			calls:       []call{{route: "a", want: okA}, {route: "b", want: okB}},
			wantReached: map[string]int{"a": 1, "b": 1}},
		{name: "FailNext answers the provider error body n times",
			inject:      func(rec *Recorder) { rec.FailNext("a", 2, 503) },
			calls:       []call{{route: "a", want: failed(503)}, {route: "a", want: failed(503)}, {route: "a", want: okA}},
			wantReached: map[string]int{"a": 1}},
		{name: "FailNext leaves other routes alone",
			inject:      func(rec *Recorder) { rec.FailNext("a", 1, 404) },
			calls:       []call{{route: "b", want: okB}, {route: "a", want: failed(404)}, {route: "a", want: okA}},
			wantReached: map[string]int{"a": 1, "b": 1}},
		{name: "DelayNext outlasts a client that gives up, once",
			inject:      func(rec *Recorder) { rec.DelayNext("a", 1, longDelay) },
			calls:       []call{{route: "a", timeout: 50 * time.Millisecond, want: timedOut}, {route: "a", want: okA}},
			wantReached: map[string]int{"a": 1}},
		{name: "SetDelay delays every call",
			inject: func(rec *Recorder) { rec.SetDelay(longDelay) },
			calls: []call{{route: "a", timeout: 50 * time.Millisecond, want: timedOut},
				{route: "b", timeout: 50 * time.Millisecond, want: timedOut}},
			wantReached: map[string]int{}},
		{name: "a fault's delay replaces the fixed one",
			inject: func(rec *Recorder) {
				rec.SetDelay(longDelay)
				rec.inject("a", 1, Fault{Delay: time.Nanosecond, Status: 429})
			},
			calls:       []call{{route: "a", want: failed(429)}},
			wantReached: map[string]int{}},
		{name: "MalformedNext answers a json 200 that does not decode",
			inject:      func(rec *Recorder) { rec.MalformedNext("b", 1) },
			calls:       []call{{route: "b", want: malformed}, {route: "b", want: okB}},
			wantReached: map[string]int{"b": 1}},
		{name: "CloseMidBodyNext breaks off the body",
			inject:      func(rec *Recorder) { rec.CloseMidBodyNext("a", 2) },
			calls:       []call{{route: "a", want: closedMidBody}, {route: "a", want: closedMidBody}, {route: "a", want: okA}},
			wantReached: map[string]int{"a": 1}},
		{name: "DropReplyNext runs the handler and answers nothing",
			inject:      func(rec *Recorder) { rec.DropReplyNext("a", 1) },
			calls:       []call{{route: "a", want: noReply}, {route: "a", want: okA}},
			wantReached: map[string]int{"a": 2}},
		{name: "InjectNext drops a reply too",
			inject:      func(rec *Recorder) { rec.InjectNext("b", FaultDropReply) },
			calls:       []call{{route: "b", want: noReply}, {route: "b", want: okB}},
			wantReached: map[string]int{"b": 2}},
		{name: "a delayed malformed reply is both",
			inject: func(rec *Recorder) { rec.inject("a", 2, Fault{Kind: FaultMalformed, Delay: longDelay}) },
			calls: []call{{route: "a", timeout: 50 * time.Millisecond, want: timedOut},
				{route: "a", timeout: 50 * time.Millisecond, want: timedOut}, {route: "a", want: okA}},
			wantReached: map[string]int{"a": 1}},
		{name: "route \"\" faults every route",
			inject: func(rec *Recorder) { rec.FailNext("", 2, 500) },
			calls: []call{{route: "a", want: failed(500)}, {route: "b", want: failed(500)},
				{route: "a", want: okA}, {route: "b", want: okB}},
			wantReached: map[string]int{"a": 1, "b": 1}},
		{name: "a route's own faults come before the every-route ones",
			inject: func(rec *Recorder) {
				rec.MalformedNext("", 1)
				rec.CloseMidBodyNext("a", 1)
			},
			calls: []call{{route: "a", want: closedMidBody}, {route: "a", want: malformed}, {route: "a", want: okA},
				{route: "b", want: okB}},
			wantReached: map[string]int{"a": 1, "b": 1}},
		{name: "faults queue in the order injected",
			inject: func(rec *Recorder) {
				rec.FailNext("a", 1, 401)
				rec.MalformedNext("a", 1)
				rec.CloseMidBodyNext("a", 1)
				rec.DelayNext("a", 1, longDelay)
			},
			calls: []call{{route: "a", want: failed(401)}, {route: "a", want: malformed},
				{route: "a", want: closedMidBody}, {route: "a", timeout: 50 * time.Millisecond, want: timedOut},
				{route: "a", want: okA}},
			wantReached: map[string]int{"a": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t)
			tt.inject(ts.rec)
			wantCalls := map[string]int{}
			for i, c := range tt.calls {
				got := ts.get(t, c.route, c.timeout)
				// Wait until the server is done with the call: a delay cut short by the client
				// ends here, one that is not never does (and the test times out).
				if route := <-ts.done; route != c.route {
					t.Fatalf("call %d: handler of %q returned, want %q", i, route, c.route)
				}
				if !errors.Is(got.readErr, c.want.readErr) {
					t.Errorf("call %d (%s): read error %v, want %v", i, c.route, got.readErr, c.want.readErr)
				}
				got.readErr = c.want.readErr
				if got != c.want {
					t.Errorf("call %d (%s):\n got %+v\nwant %+v", i, c.route, got, c.want)
				}
				wantCalls[c.route]++
			}
			for _, route := range []string{"a", "b"} {
				if got := ts.rec.Calls(route); got != wantCalls[route] {
					t.Errorf("Calls(%q) = %d, want %d", route, got, wantCalls[route])
				}
				if got := ts.rec.PathCalls("GET /" + route); got != wantCalls[route] {
					t.Errorf("PathCalls(GET /%s) = %d, want %d", route, got, wantCalls[route])
				}
				if got := ts.reachedHandler(route); got != tt.wantReached[route] {
					t.Errorf("handler of %q reached %d times, want %d", route, got, tt.wantReached[route])
				}
			}
			if got := ts.rec.TotalCalls(); got != len(tt.calls) {
				t.Errorf("TotalCalls() = %d, want %d", got, len(tt.calls))
			}
		})
	}
}

func TestMalformedBodyDoesNotDecode(t *testing.T) {
	for name, body := range map[string]string{"MalformedBody": MalformedBody, "PartialBody": PartialBody} {
		var v any
		if err := json.Unmarshal([]byte(body), &v); err == nil {
			t.Errorf("%s %q decodes", name, body)
		}
	}
}

func TestRecorderState(t *testing.T) {
	tests := []struct {
		name string
		// run acts on a fresh server; the counters are checked afterwards.
		run       func(t *testing.T, ts *testServer)
		wantCalls map[string]int
		wantAuth  map[string]string
	}{
		{name: "counts and last authorization per route",
			run: func(t *testing.T, ts *testServer) {
				for _, route := range []string{"a", "b", "a"} {
					ts.get(t, route, 0)
					<-ts.done
				}
			},
			wantCalls: map[string]int{"a": 2, "b": 1},
			wantAuth:  map[string]string{"a": "Bearer token-a", "b": "Bearer token-b"}},
		{name: "failed and faulted calls count too",
			run: func(t *testing.T, ts *testServer) {
				ts.rec.FailNext("a", 1, 500)
				ts.rec.CloseMidBodyNext("", 1)
				for _, route := range []string{"a", "b", "b"} {
					ts.get(t, route, 0)
					<-ts.done
				}
			},
			wantCalls: map[string]int{"a": 1, "b": 2},
			wantAuth:  map[string]string{"a": "Bearer token-a", "b": "Bearer token-b"}},
		{name: "Reset clears counters and pending faults",
			run: func(t *testing.T, ts *testServer) {
				ts.get(t, "a", 0)
				<-ts.done
				ts.rec.FailNext("a", 1, 500)
				ts.rec.MalformedNext("", 1)
				ts.rec.CloseMidBodyNext("b", 1)
				ts.rec.Reset()
				if n := ts.rec.TotalCalls(); n != 0 {
					t.Errorf("TotalCalls after Reset = %d", n)
				}
				if got := ts.get(t, "a", 0); got != okA {
					t.Errorf("a after Reset: %+v", got)
				}
				<-ts.done
				if got := ts.get(t, "b", 0); got != okB {
					t.Errorf("b after Reset: %+v", got)
				}
				<-ts.done
			},
			wantCalls: map[string]int{"a": 1, "b": 1},
			wantAuth:  map[string]string{"a": "Bearer token-a", "b": "Bearer token-b"}},
		{name: "Reset keeps the delay and the hook",
			run: func(t *testing.T, ts *testServer) {
				var mu sync.Mutex
				var seen []string
				ts.rec.OnRequest(func(route string, r *http.Request) {
					mu.Lock()
					defer mu.Unlock()
					seen = append(seen, route+" "+r.URL.Path)
				})
				ts.rec.SetDelay(longDelay)
				ts.rec.Reset()
				if got := ts.get(t, "b", 50*time.Millisecond); got != timedOut {
					t.Errorf("b after Reset: %+v, want the delay kept", got)
				}
				<-ts.done
				mu.Lock()
				defer mu.Unlock()
				if len(seen) != 1 || seen[0] != "b /b" {
					t.Errorf("hook saw %q", seen)
				}
			},
			wantCalls: map[string]int{"b": 1},
			wantAuth:  map[string]string{"b": "Bearer token-b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t)
			tt.run(t, ts)
			total := 0
			for _, route := range []string{"a", "b"} {
				if got := ts.rec.Calls(route); got != tt.wantCalls[route] {
					t.Errorf("Calls(%q) = %d, want %d", route, got, tt.wantCalls[route])
				}
				if got := ts.rec.LastAuthorization(route); got != tt.wantAuth[route] {
					t.Errorf("LastAuthorization(%q) = %q, want %q", route, got, tt.wantAuth[route])
				}
				total += tt.wantCalls[route]
			}
			if got := ts.rec.TotalCalls(); got != total {
				t.Errorf("TotalCalls() = %d, want %d", got, total)
			}
		})
	}
}

// TestRequests records what each request carried, as sent, while the handler still reads the
// whole body.
func TestRequests(t *testing.T) {
	rec := NewRecorder(writeTestErr)
	mux := http.NewServeMux()
	mux.HandleFunc("/w/", rec.Wrap("w", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		fmt.Fprintf(w, "read %d", len(b))
	}))
	mux.HandleFunc("/r", rec.Wrap("r", func(http.ResponseWriter, *http.Request) {}))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	send := func(method, path, body string) string {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, srv.URL+path, rd)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	big := strings.Repeat("x", MaxRecordedBody+10)

	send(http.MethodPost, "/w/a%2Fb?q=1&r=%20", `{"emails":["a@b"]}`)
	send(http.MethodGet, "/r", "")
	rec.FailNext("w", 1, 503)
	send(http.MethodDelete, "/w/tok1,tok2", "")
	if got := send(http.MethodPost, "/w/big", big); got != "read "+strconv.Itoa(len(big)) {
		t.Errorf("handler after a big body: %q", got)
	}

	want := []Request{
		{Route: "w", Method: "POST", Path: "/w/a%2Fb", Query: "q=1&r=%20", Body: []byte(`{"emails":["a@b"]}`)},
		{Route: "w", Method: "DELETE", Path: "/w/tok1,tok2"},
		{Route: "w", Method: "POST", Path: "/w/big", Body: []byte(big[:MaxRecordedBody])},
	}
	if got := rec.Requests("w"); !reflect.DeepEqual(got, want) {
		t.Errorf("Requests(w) =\n%+.200v\nwant\n%+.200v", got, want)
	}
	if got := rec.Requests(""); len(got) != 4 || got[1].Route != "r" || got[1].Body != nil {
		t.Errorf("Requests(\"\") = %+.200v", got)
	}
	got := rec.Requests("w")
	got[0].Body[0] = '!'
	if again := rec.Requests("w"); again[0].Body[0] != '{' {
		t.Error("a caller's change reached the record")
	}
	rec.Reset()
	if got := rec.Requests(""); got != nil {
		t.Errorf("after Reset: %+v", got)
	}
}

// TestRequestsWindow keeps the latest MaxRecordedRequests requests, oldest first.
func TestRequestsWindow(t *testing.T) {
	rec := NewRecorder(writeTestErr)
	for i := range MaxRecordedRequests + 3 {
		rec.record(Request{Route: "r", Path: "/" + strconv.Itoa(i)})
	}
	got := rec.Requests("r")
	if len(got) != MaxRecordedRequests {
		t.Fatalf("window: %d requests", len(got))
	}
	for i, req := range got {
		if want := "/" + strconv.Itoa(i+3); req.Path != want {
			t.Fatalf("request %d is %s, want %s", i, req.Path, want)
		}
	}
	rec.Reset()
	rec.record(Request{Route: "r", Path: "/after"})
	if got := rec.Requests(""); len(got) != 1 || got[0].Path != "/after" {
		t.Errorf("after Reset: %+v", got)
	}
}

func TestChaos(t *testing.T) {
	rec := NewRecorder(func(w http.ResponseWriter, status int) { w.WriteHeader(status) })
	srv := httptest.NewServer(rec.Wrap("r", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	client := &http.Client{Timeout: 100 * time.Millisecond}
	healthy := func() bool {
		resp, err := client.Get(srv.URL)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return err == nil && resp.StatusCode == 200 && string(b) == `{"ok":true}`
	}
	count := func(n int) int {
		good := 0
		for range n {
			if healthy() {
				good++
			}
		}
		return good
	}
	rec.SetChaos(1, 7)
	if good := count(30); good != 0 {
		t.Fatalf("rate 1: %d of 30 calls were healthy", good)
	}
	rec.SetChaos(0, 7)
	if good := count(30); good != 30 {
		t.Fatalf("rate 0: %d of 30 calls were healthy", good)
	}
}

func TestSetHeader(t *testing.T) {
	ts := newTestServer(t)
	header := func(route string) string {
		t.Helper()
		resp, err := http.Get(ts.url + "/" + route)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.Header.Get("Ratelimit")
	}
	if got := header("a"); got != "" {
		t.Fatalf("before SetHeader: Ratelimit %q", got)
	}
	ts.rec.SetHeader("Ratelimit", "limit=500, remaining=0, reset=2")
	ts.rec.FailNext("b", 1, http.StatusTooManyRequests)
	for _, route := range []string{"a", "b"} {
		if got := header(route); got != "limit=500, remaining=0, reset=2" {
			t.Errorf("GET /%s: Ratelimit %q, want the header set on every route, a failure's too", route, got)
		}
	}
	ts.rec.SetHeader("Ratelimit", "")
	if got := header("a"); got != "" {
		t.Fatalf("after removing it: Ratelimit %q", got)
	}
}
