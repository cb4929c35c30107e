package idempotency_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/invitegw/invitegw/cache/redistest"
	"github.com/invitegw/invitegw/idempotency"

	"github.com/invitegw/invitegw/internal/testlog"
)

// Request bodies. mutation and otherMutation differ only in an argument; query is no mutation.
const (
	mutation      = `{"query":"mutation { revokeInvitation(id: \"1\") { id } }"}`
	otherMutation = `{"query":"mutation { revokeInvitation(id: \"2\") { id } }"}`
	query         = `{"query":"{ invitations { id } }"}`
)

// failFast is a client of srv that tries once to dial, for tests that stop srv.
func failFast(t *testing.T, srv *redistest.Server) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), DialerRetries: 1})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// headerCaller is the caller named by the X-Caller header; none without one.
func headerCaller(r *http.Request) (string, bool) {
	c := r.Header.Get("X-Caller")
	return c, c != ""
}

// upstream is the handler behind the guard: it counts its calls, records the bodies it read
// and, unless serve is set, answers a GraphQL response numbered by the call.
type upstream struct {
	calls atomic.Int64
	serve func(n int64, w http.ResponseWriter, r *http.Request)

	mu     sync.Mutex
	bodies []string
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := u.calls.Add(1)
	b, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	u.mu.Lock()
	u.bodies = append(u.bodies, string(b))
	u.mu.Unlock()
	if u.serve != nil {
		u.serve(n, w, r)
		return
	}
	answer(n)(w)
}

// answer writes the GraphQL response of call n.
func answer(n int64) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/graphql-response+json; charset=utf-8")
		_, _ = w.Write(fmt.Appendf(nil, `{"data":{"revokeInvitation":{"id":"1","call":%d}}}`, n))
	}
}

// guard builds the middleware over up with o, filling in the store, the header caller and a
// logger into log.
func guard(t *testing.T, s idempotency.Store, o idempotency.Options, log *testlog.Buffer, up http.Handler) http.Handler {
	t.Helper()
	o.Store = s
	if o.Caller == nil {
		o.Caller = headerCaller
	}
	if log != nil {
		o.Logger = log.Logger()
	}
	g, err := idempotency.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return g.Middleware(up)
}

// post is a GraphQL POST from caller with the Idempotency-Key key ("" sends none).
func post(caller, key, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if caller != "" {
		r.Header.Set("X-Caller", caller)
	}
	if key != "" {
		r.Header.Set(idempotency.HeaderKey, key)
	}
	return r
}

// response is what a client sees of an answer.
type response struct {
	Status      int
	ContentType string
	Replayed    string
	RetryAfter  string
	Body        string
}

func do(h http.Handler, r *http.Request) response {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return response{
		Status: res.StatusCode, ContentType: res.Header.Get("Content-Type"),
		Replayed: res.Header.Get(idempotency.HeaderReplayed), RetryAfter: res.Header.Get("Retry-After"), Body: string(b),
	}
}

// errorAnswer is the guard's error answer with status, code and message.
func errorAnswer(status int, code, message, retryAfter string) response {
	b, _ := json.Marshal(map[string]any{"errors": []any{map[string]any{
		"message": message, "extensions": map[string]string{"code": code}}}})
	return response{Status: status, ContentType: "application/json", RetryAfter: retryAfter, Body: string(b)}
}

var (
	reused = errorAnswer(http.StatusUnprocessableEntity, idempotency.CodeKeyReused,
		"this Idempotency-Key was used for another request; use a new key for a new request", "")
	inUse = errorAnswer(http.StatusConflict, idempotency.CodeKeyInUse,
		"a request with this Idempotency-Key is still being processed; retry later", "1")
	unavailable = errorAnswer(http.StatusServiceUnavailable, "UNAVAILABLE",
		"the idempotency store is unavailable; retry later", "1")
	badKey = errorAnswer(http.StatusBadRequest, "BAD_USER_INPUT",
		"the Idempotency-Key header must be 1 to 255 printable ASCII characters", "")
)

// ran is the response of call n of the default upstream, replayed or not.
func ran(n int64, replayed bool) response {
	rec := httptest.NewRecorder()
	answer(n)(rec)
	r := response{Status: http.StatusOK, ContentType: rec.Header().Get("Content-Type"), Body: rec.Body.String()}
	if replayed {
		r.Replayed = "true"
	}
	return r
}

func wantResponse(t *testing.T, what string, got, want response) {
	t.Helper()
	if got != want {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func wantCalls(t *testing.T, u *upstream, want int64) {
	t.Helper()
	if got := u.calls.Load(); got != want {
		t.Fatalf("upstream called %d times, want %d", got, want)
	}
}
