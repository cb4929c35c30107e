package idempotency_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invitegw/invitegw/cache/redistest"
	"github.com/invitegw/invitegw/idempotency"

	"github.com/invitegw/invitegw/internal/testlog"
)

func TestRepeatReplaysWithoutRunning(t *testing.T) {
	eachStore(t, func(t *testing.T, s idempotency.Store) {
		for _, ct := range []string{
			"application/graphql-response+json; charset=utf-8",
			"application/json",
			"", // none set: net/http sniffs the same type each time
		} {
			t.Run("content type "+ct, func(t *testing.T) {
				u := &upstream{serve: func(n int64, w http.ResponseWriter, _ *http.Request) {
					if ct != "" {
						w.Header().Set("Content-Type", ct)
					}
					_, _ = w.Write([]byte("{\"data\":{\"call\":" + strconv.FormatInt(n, 10) + "}}\n"))
				}}
				h := guard(t, s, idempotency.Options{}, nil, u)
				first := do(h, post(t.Name(), "key-1", mutation))
				if first.Status != http.StatusOK || first.Replayed != "" || first.Body != "{\"data\":{\"call\":1}}\n" {
					t.Fatalf("first answer: %+v", first)
				}
				for i := range 3 {
					again := do(h, post(t.Name(), "key-1", mutation))
					first.Replayed = "true"
					wantResponse(t, "repeat "+strconv.Itoa(i+1), again, first)
				}
				wantCalls(t, u, 1)
				if len(u.bodies) != 1 || u.bodies[0] != mutation {
					t.Fatalf("upstream read %q, want the request body", u.bodies)
				}
			})
		}
	})
}

func TestKeyReuseAndCallers(t *testing.T) {
	eachStore(t, func(t *testing.T, s idempotency.Store) {
		u := &upstream{}
		h := guard(t, s, idempotency.Options{}, nil, u)
		caller := t.Name()
		wantResponse(t, "first", do(h, post(caller, "k", mutation)), ran(1, false))
		wantResponse(t, "another body", do(h, post(caller, "k", otherMutation)), reused)
		wantCalls(t, u, 1)
		wantResponse(t, "another caller, the same key", do(h, post(caller+"-b", "k", mutation)), ran(2, false))
		wantResponse(t, "another key", do(h, post(caller, "k2", mutation)), ran(3, false))
		wantResponse(t, "the first again", do(h, post(caller, "k", mutation)), ran(1, true))
		wantResponse(t, "the other caller again", do(h, post(caller+"-b", "k", mutation)), ran(2, true))
		wantCalls(t, u, 3)
	})
}

// While the first request runs, its key answers 409 to the same body and 422 to another.
func TestKeyWhileRunning(t *testing.T) {
	eachStore(t, func(t *testing.T, s idempotency.Store) {
		var h http.Handler
		var during []response
		u := &upstream{}
		u.serve = func(n int64, w http.ResponseWriter, _ *http.Request) {
			if n == 1 {
				during = append(during,
					do(h, post(t.Name(), "k", mutation)),
					do(h, post(t.Name(), "k", otherMutation)))
			}
			answer(n)(w)
		}
		h = guard(t, s, idempotency.Options{}, nil, u)
		wantResponse(t, "first", do(h, post(t.Name(), "k", mutation)), ran(1, false))
		wantResponse(t, "same body while running", during[0], inUse)
		wantResponse(t, "other body while running", during[1], reused)
		wantResponse(t, "after", do(h, post(t.Name(), "k", mutation)), ran(1, true))
		wantCalls(t, u, 1)
	})
}

// Concurrent identical requests run once: the upstream holds the first call until every other
// request has been answered, so they all arrive while it runs.
func TestConcurrentRepeatsRunOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, s idempotency.Store) {
		const n = 20
		othersAnswered := make(chan struct{})
		u := &upstream{serve: func(call int64, w http.ResponseWriter, _ *http.Request) {
			if call == 1 {
				select {
				case <-othersAnswered:
				case <-time.After(30 * time.Second): // a bound against hanging, not a timing
					t.Error("the other requests were not answered while the first ran")
				}
			}
			answer(call)(w)
		}}
		h := guard(t, s, idempotency.Options{}, nil, u)
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			got      = map[response]int{}
			answered int
		)
		for range n {
			wg.Go(func() {
				r := do(h, post(t.Name(), "k", mutation))
				mu.Lock()
				defer mu.Unlock()
				got[r]++
				if r != ran(1, false) {
					if answered++; answered == n-1 {
						close(othersAnswered)
					}
				}
			})
		}
		wg.Wait()
		wantCalls(t, u, 1)
		if want := map[response]int{ran(1, false): 1, inUse: n - 1}; !equalCounts(got, want) {
			t.Fatalf("answers %v, want %v", got, want)
		}
		wantResponse(t, "after", do(h, post(t.Name(), "k", mutation)), ran(1, true))
	})
}

func equalCounts(a, b map[response]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// Only a 200 is kept: any other status, a panic or a response too large to keep lets the
// retry run.
func TestOnlyOKIsKept(t *testing.T) {
	limit := len(ran(2, false).Body)
	eachStore(t, func(t *testing.T, s idempotency.Store) {
		for _, c := range []struct {
			name  string
			first func(w http.ResponseWriter)
			want  response
		}{
			{"400", func(w http.ResponseWriter) { http.Error(w, "bad", http.StatusBadRequest) },
				response{Status: 400, ContentType: "text/plain; charset=utf-8", Body: "bad\n"}},
			{"500", func(w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) },
				response{Status: 500}},
			{"503 with Retry-After", func(w http.ResponseWriter) {
				w.Header().Set("Retry-After", "5")
				w.WriteHeader(http.StatusServiceUnavailable)
			}, response{Status: 503, RetryAfter: "5"}},
			{"201", func(w http.ResponseWriter) { w.WriteHeader(http.StatusCreated) }, response{Status: 201}},
			{"panic", func(http.ResponseWriter) { panic("boom") }, response{Status: 500}},
			{"too large to keep", func(w http.ResponseWriter) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"data":{"revokeInvitation":null},`))
				_, _ = w.Write([]byte(`"extensions":{"padding":"` + strings.Repeat("x", limit) + `"}}`))
			}, response{Status: 200, ContentType: "application/json",
				Body: `{"data":{"revokeInvitation":null},"extensions":{"padding":"` + strings.Repeat("x", limit) + `"}}`}},
		} {
			t.Run(c.name, func(t *testing.T) {
				u := &upstream{serve: func(n int64, w http.ResponseWriter, _ *http.Request) {
					if n == 1 {
						c.first(w)
						return
					}
					answer(n)(w)
				}}
				var log testlog.Buffer
				h := recoverPanic(guard(t, s, idempotency.Options{MaxResponseBytes: limit}, &log, u))
				wantResponse(t, "first", do(h, post(t.Name(), "k", mutation)), c.want)
				wantResponse(t, "retry", do(h, post(t.Name(), "k", mutation)), ran(2, false))
				wantResponse(t, "after", do(h, post(t.Name(), "k", mutation)), ran(2, true))
				wantCalls(t, u, 2)
				if strings.Contains(log.String(), "store failed") {
					t.Fatalf("store failures logged: %s", log.String())
				}
			})
		}
	})
}

// recoverPanic answers 500 for a panic, as net/http would by closing the connection.
func recoverPanic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if recover() != nil {
				w.WriteHeader(http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// A response of exactly MaxResponseBytes is kept.
func TestResponseAtTheBoundIsKept(t *testing.T) {
	u := &upstream{}
	size := len(ran(1, false).Body)
	h := guard(t, idempotency.NewMemory(nil), idempotency.Options{MaxResponseBytes: size}, nil, u)
	wantResponse(t, "first", do(h, post("c", "k", mutation)), ran(1, false))
	wantResponse(t, "repeat", do(h, post("c", "k", mutation)), ran(1, true))
	wantCalls(t, u, 1)
}

func TestOnlyMutationsWithAKeyAndACaller(t *testing.T) {
	persisted := map[string]string{
		"mutation-hash": "mutation { revokeInvitation(id: \"1\") { id } }",
		"query-hash":    "{ invitations { id } }",
	}
	lookup := func(_ context.Context, hash string) (string, bool) {
		q, ok := persisted[hash]
		return q, ok
	}
	const twoOps = `"query":"query Q { invitations { id } } mutation M { revokeInvitation(id: \"1\") { id } }"`
	// A stopped Redis answers every store call with an error: a request that reaches the
	// store gets 503.
	srv := redistest.Start(t)
	srv.Stop()
	down := idempotency.NewRedis(failFast(t, srv))
	for _, c := range []struct {
		name      string
		req       func() *http.Request
		protected bool
	}{
		{"mutation", func() *http.Request { return post("c", "k", mutation) }, true},
		{"named mutation of two operations", func() *http.Request {
			return post("c", "k", `{`+twoOps+`,"operationName":"M"}`)
		}, true},
		{"mutation with fragments and variables", func() *http.Request {
			return post("c", "k", `{"query":"mutation R($id: ID!) { revokeInvitation(id: $id) { ...F } } fragment F on Invitation { id }","variables":{"id":"1"}}`)
		}, true},
		{"persisted mutation by hash", func() *http.Request {
			return post("c", "k", `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"mutation-hash"}}}`)
		}, true},
		{"query", func() *http.Request { return post("c", "k", query) }, false},
		{"named query of two operations", func() *http.Request {
			return post("c", "k", `{`+twoOps+`,"operationName":"Q"}`)
		}, false},
		{"two operations, none named", func() *http.Request { return post("c", "k", `{`+twoOps+`}`) }, false},
		{"an operation name that names none", func() *http.Request {
			return post("c", "k", `{`+twoOps+`,"operationName":"X"}`)
		}, false},
		{"subscription", func() *http.Request { return post("c", "k", `{"query":"subscription { changes { id } }"}`) }, false},
		{"persisted query by hash", func() *http.Request {
			return post("c", "k", `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"query-hash"}}}`)
		}, false},
		{"unknown persisted hash", func() *http.Request {
			return post("c", "k", `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"other"}}}`)
		}, false},
		{"mutation that does not parse", func() *http.Request {
			return post("c", "k", `{"query":"mutation { revokeInvitation(id: "}`)
		}, false},
		{"body that is not JSON", func() *http.Request { return post("c", "k", `mutation { x }`) }, false},
		{"query that is not a string", func() *http.Request { return post("c", "k", `{"query":1}`) }, false},
		{"no key", func() *http.Request { return post("c", "", mutation) }, false},
		{"no caller", func() *http.Request { return post("", "k", mutation) }, false},
		{"GET", func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/graphql?query=mutation+%7B+x+%7D", nil)
			r.Header.Set("X-Caller", "c")
			r.Header.Set(idempotency.HeaderKey, "k")
			return r
		}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := &upstream{}
			var log testlog.Buffer
			h := guard(t, down, idempotency.Options{PersistedQuery: lookup}, &log, u)
			want := ran(1, false)
			if c.protected {
				want = unavailable
			}
			sent := c.req()
			body := readBody(t, c.req())
			wantResponse(t, "first", do(h, sent), want)
			if c.protected {
				wantCalls(t, u, 0)
				return
			}
			wantResponse(t, "again", do(h, c.req()), ran(2, false))
			wantCalls(t, u, 2)
			for _, b := range u.bodies {
				if b != body {
					t.Fatalf("upstream read %q, want %q", b, body)
				}
			}
		})
	}
}

func readBody(t *testing.T, r *http.Request) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Without a persisted-query lookup, a mutation sent by hash alone passes through.
func TestPersistedWithoutLookup(t *testing.T) {
	u := &upstream{}
	h := guard(t, idempotency.NewMemory(nil), idempotency.Options{}, nil, u)
	body := `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"h"}}}`
	wantResponse(t, "first", do(h, post("c", "k", body)), ran(1, false))
	wantResponse(t, "again", do(h, post("c", "k", body)), ran(2, false))
}

// A body the guard cannot read is handed on with the same error.
func TestUnreadableBodyPassesThrough(t *testing.T) {
	var gotErr error
	h := guard(t, idempotency.NewMemory(nil), idempotency.Options{}, nil,
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, err := io.ReadAll(r.Body)
			gotErr = err
			if string(b) != mutation[:10] {
				t.Errorf("read %q before the error, want %q", b, mutation[:10])
			}
			w.WriteHeader(http.StatusRequestEntityTooLarge)
		}))
	limited := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 10)
		h.ServeHTTP(w, r)
	})
	if got := do(limited, post("c", "k", mutation)); got.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", got.Status)
	}
	if _, ok := errors.AsType[*http.MaxBytesError](gotErr); !ok {
		t.Fatalf("the handler read error %v, want *http.MaxBytesError", gotErr)
	}
}

func TestBadKeys(t *testing.T) {
	eachStore(t, func(t *testing.T, s idempotency.Store) {
		u := &upstream{}
		h := guard(t, s, idempotency.Options{}, nil, u)
		for _, c := range []struct {
			name string
			keys []string
			want response
		}{
			{"empty", []string{""}, badKey},
			{"256 characters", []string{strings.Repeat("a", 256)}, badKey},
			{"not ASCII", []string{"clé"}, badKey},
			{"a control character", []string{"a\x01b"}, badKey},
			{"a tab", []string{"a\tb"}, badKey},
			{"two headers", []string{"a", "b"}, errorAnswer(http.StatusBadRequest, "BAD_USER_INPUT",
				"send one Idempotency-Key header", "")},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := post(t.Name(), "", mutation)
				r.Header[idempotency.HeaderKey] = c.keys
				wantResponse(t, "answer", do(h, r), c.want)
				wantCalls(t, u, 0)
			})
		}
		for i, key := range []string{
			strings.Repeat("a", 255), "a b", `"8e03978e-40d5-43e8-bc93-6894a57f9324"`, "~!@#$%^&*()",
		} {
			r := post(t.Name(), key, mutation)
			wantResponse(t, "good key "+key, do(h, r), ran(int64(i+1), false))
		}
	})
}

func TestMemoryExpiry(t *testing.T) {
	clk := newClock()
	u := &upstream{}
	h := guard(t, idempotency.NewMemory(clk.Now), idempotency.Options{TTL: time.Hour, InFlightTTL: time.Minute}, nil, u)
	wantResponse(t, "first", do(h, post("c", "k", mutation)), ran(1, false))
	clk.Add(time.Hour - time.Millisecond)
	wantResponse(t, "just before TTL", do(h, post("c", "k", mutation)), ran(1, true))
	clk.Add(time.Millisecond)
	wantResponse(t, "at TTL", do(h, post("c", "k", mutation)), ran(2, false))
	wantResponse(t, "kept anew", do(h, post("c", "k", mutation)), ran(2, true))
	clk.Add(time.Hour)
	wantResponse(t, "another body after TTL", do(h, post("c", "k", otherMutation)), ran(3, false))
}

// A request that outlives its reservation does not overwrite the response of the request that
// took the key over, and says so in the log.
func TestReservationOutlived(t *testing.T) {
	clk := newClock()
	var h http.Handler
	var during response
	u := &upstream{}
	u.serve = func(n int64, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			clk.Add(time.Minute) // the reservation expires
			during = do(h, post("c", "k", mutation))
		}
		answer(n)(w)
	}
	var log testlog.Buffer
	h = guard(t, idempotency.NewMemory(clk.Now), idempotency.Options{InFlightTTL: time.Minute}, &log, u)
	wantResponse(t, "first, outlived", do(h, post("c", "k", mutation)), ran(1, false))
	wantResponse(t, "second, after the reservation expired", during, ran(2, false))
	wantResponse(t, "third", do(h, post("c", "k", mutation)), ran(2, true))
	if !strings.Contains(log.String(), "InFlightTTL is too short") {
		t.Fatalf("log says nothing of the expired reservation: %s", log.String())
	}
}

// An abandoned reservation (a crashed replica) frees the key after InFlightTTL.
func TestAbandonedReservationExpires(t *testing.T) {
	clk := newClock()
	s := idempotency.NewMemory(clk.Now)
	// What a replica that crashed while running the request leaves behind.
	if held, err := s.Reserve(context.Background(), idempotency.StoreKey("c", "k"), idempotency.PendingRecord(mutation), time.Minute); err != nil || held != nil {
		t.Fatalf("reserve: %q %v", held, err)
	}
	u := &upstream{}
	h := guard(t, s, idempotency.Options{InFlightTTL: time.Minute}, nil, u)
	wantResponse(t, "while reserved", do(h, post("c", "k", mutation)), inUse)
	clk.Add(time.Minute)
	wantResponse(t, "after InFlightTTL", do(h, post("c", "k", mutation)), ran(1, false))
}

func TestRedisExpiry(t *testing.T) {
	srv := redistest.Start(t)
	rc := srv.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a bound against hanging
	defer cancel()
	// Redis says when it expires a key (keyspace notifications): the test waits for that, not
	// for a time.
	if err := rc.ConfigSet(ctx, "notify-keyspace-events", "Ex").Err(); err != nil {
		t.Fatal(err)
	}
	expired := rc.Subscribe(ctx, "__keyevent@0__:expired")
	defer func() { _ = expired.Close() }()
	if _, err := expired.Receive(ctx); err != nil { // the subscription is in place
		t.Fatal(err)
	}
	u := &upstream{}
	h := guard(t, idempotency.NewRedis(rc), idempotency.Options{TTL: 100 * time.Millisecond,
		InFlightTTL: 100 * time.Millisecond}, nil, u)
	wantResponse(t, "first", do(h, post("c", "k", mutation)), ran(1, false))
	for {
		m, err := expired.ReceiveMessage(ctx)
		if err != nil {
			t.Fatalf("waiting for the record to expire: %v", err)
		}
		if m.Payload == idempotency.StoreKey("c", "k") {
			break
		}
	}
	wantResponse(t, "after TTL", do(h, post("c", "k", mutation)), ran(2, false))
}

// Two replicas sharing one Redis see each other's records.
func TestReplicasShareRecords(t *testing.T) {
	srv := redistest.Start(t)
	ua, ub := &upstream{}, &upstream{}
	a := guard(t, idempotency.NewRedis(srv.Client()), idempotency.Options{}, nil, ua)
	b := guard(t, idempotency.NewRedis(srv.Client()), idempotency.Options{}, nil, ub)
	wantResponse(t, "first, on a", do(a, post("c", "k", mutation)), ran(1, false))
	wantResponse(t, "repeat on b", do(b, post("c", "k", mutation)), ran(1, true))
	wantResponse(t, "another body on b", do(b, post("c", "k", otherMutation)), reused)
	wantResponse(t, "a new key on b", do(b, post("c", "k2", mutation)), ran(1, false))
	wantResponse(t, "its repeat on a", do(a, post("c", "k2", mutation)), ran(1, true))
	wantCalls(t, ua, 1)
	wantCalls(t, ub, 1)
}

func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a six-node cluster")
	}
	c := redistest.StartCluster(t, redistest.ClusterOptions{})
	t.Run("store", func(t *testing.T) { storeContract(t, idempotency.NewRedis(c.Client())) })
	u := &upstream{}
	h := guard(t, idempotency.NewRedis(c.Client()), idempotency.Options{}, nil, u)
	callers := []string{"a", "b", "c", "d", "e", "f"}
	masters := map[string]bool{}
	for _, caller := range callers {
		masters[c.MasterFor(idempotency.StoreKey(caller, "k")).Addr()] = true
	}
	if len(masters) < 2 {
		t.Fatalf("every caller's key is on one master: the test would not cross nodes")
	}
	for i, caller := range callers {
		wantResponse(t, caller+" first", do(h, post(caller, "k", mutation)), ran(int64(i+1), false))
		wantResponse(t, caller+" repeat", do(h, post(caller, "k", mutation)), ran(int64(i+1), true))
		wantResponse(t, caller+" another body", do(h, post(caller, "k", otherMutation)), reused)
	}
	wantCalls(t, u, 6)
}

// The store fails closed: no store, no run. The log says so without the key or the caller.
func TestStoreDownFailsClosed(t *testing.T) {
	const key, caller = "secret-key-1", "caller-1"
	srv := redistest.Start(t)
	u := &upstream{}
	var log testlog.Buffer
	h := guard(t, idempotency.NewRedis(failFast(t, srv)),
		idempotency.Options{}, &log, u)
	wantResponse(t, "up", do(h, post(caller, key, mutation)), ran(1, false))
	srv.Stop()
	wantResponse(t, "repeat, down", do(h, post(caller, key, mutation)), unavailable)
	wantResponse(t, "new key, down", do(h, post(caller, key+"2", mutation)), unavailable)
	wantResponse(t, "query, down", do(h, post(caller, key, query)), ran(2, false))
	wantCalls(t, u, 2)
	lines := log.String()
	if !strings.Contains(lines, `"step":"reserve"`) {
		t.Fatalf("the log does not say the store failed: %s", lines)
	}
	for _, secret := range []string{key, caller} {
		if strings.Contains(lines, secret) {
			t.Fatalf("the log holds %q: %s", secret, lines)
		}
	}
}

// A store that fails once the request has run cannot keep its response: the response goes out
// anyway, and the reservation stays, so that a retry cannot run it again.
func TestStoreDownAfterRunning(t *testing.T) {
	srv := redistest.Start(t)
	u := &upstream{}
	u.serve = func(n int64, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			srv.Stop()
		}
		answer(n)(w)
	}
	var log testlog.Buffer
	h := guard(t, idempotency.NewRedis(failFast(t, srv)), idempotency.Options{}, &log, u)
	wantResponse(t, "first", do(h, post("c", "k", mutation)), ran(1, false))
	if !strings.Contains(log.String(), `"step":"keep"`) {
		t.Fatalf("the log does not say the response was not kept: %s", log.String())
	}
}

func TestOptions(t *testing.T) {
	s := idempotency.NewMemory(nil)
	for _, c := range []struct {
		name string
		o    idempotency.Options
		err  string
	}{
		{"no store", idempotency.Options{Caller: headerCaller}, "idempotency: Store is required"},
		{"no caller", idempotency.Options{Store: s}, "idempotency: Caller is required"},
		{"negative TTL", idempotency.Options{Store: s, Caller: headerCaller, TTL: -1},
			"idempotency: TTL must be at least 1ms, got -1ns"},
		{"sub-millisecond InFlightTTL", idempotency.Options{Store: s, Caller: headerCaller, InFlightTTL: time.Microsecond},
			"idempotency: InFlightTTL must be at least 1ms, got 1µs"},
		{"InFlightTTL longer than TTL", idempotency.Options{Store: s, Caller: headerCaller, TTL: time.Minute, InFlightTTL: time.Hour},
			"idempotency: InFlightTTL 1h0m0s is longer than TTL 1m0s"},
		{"negative size", idempotency.Options{Store: s, Caller: headerCaller, MaxResponseBytes: -1},
			"idempotency: MaxResponseBytes -1 and TokenLimit 0 must not be negative"},
		{"defaults", idempotency.Options{Store: s, Caller: headerCaller}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := idempotency.New(c.o)
			if got := errString(err); got != c.err {
				t.Fatalf("error %q, want %q", got, c.err)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// What the guard leaves in Redis: one key of the documented form, holding the pending record
// for InFlightTTL while the request runs, then the response for TTL.
func TestRedisStoredForm(t *testing.T) {
	srv := redistest.Start(t)
	rc := srv.Client()
	ctx := context.Background()
	var duringValue string
	var duringTTL time.Duration
	u := &upstream{serve: func(n int64, w http.ResponseWriter, _ *http.Request) {
		keys := rc.Keys(ctx, "*").Val()
		if len(keys) == 1 {
			duringValue = rc.Get(ctx, keys[0]).Val()
			duringTTL = rc.PTTL(ctx, keys[0]).Val()
		}
		answer(n)(w)
	}}
	h := guard(t, idempotency.NewRedis(rc), idempotency.Options{TTL: 2 * time.Hour, InFlightTTL: 90 * time.Second}, nil, u)
	wantResponse(t, "first", do(h, post("c", "k", mutation)), ran(1, false))

	keys := rc.Keys(ctx, "*").Val()
	if len(keys) != 1 || !regexp.MustCompile(`^invitegw:v1:idem:[0-9a-f]{64}$`).MatchString(keys[0]) ||
		keys[0] != idempotency.StoreKey("c", "k") {
		t.Fatalf("keys %q, want one of the form invitegw:v1:idem:<sha256>", keys)
	}
	fp := "^v1 pending " + sha256Hex(mutation) + " [0-9a-f]{32}\n$"
	if !regexp.MustCompile(fp).MatchString(duringValue) {
		t.Fatalf("while running the key held %q, want a match of %q", duringValue, fp)
	}
	if duringTTL <= 0 || duringTTL > 90*time.Second {
		t.Fatalf("while running the key expired in %v, want InFlightTTL at most", duringTTL)
	}
	want := "v1 done " + sha256Hex(mutation) + " 200 application/graphql-response+json; charset=utf-8\n" + ran(1, false).Body
	if got := rc.Get(ctx, keys[0]).Val(); got != want {
		t.Fatalf("the key holds %q, want %q", got, want)
	}
	if ttl := rc.PTTL(ctx, keys[0]).Val(); ttl <= 90*time.Second || ttl > 2*time.Hour {
		t.Fatalf("the response expires in %v, want TTL at most", ttl)
	}
}
