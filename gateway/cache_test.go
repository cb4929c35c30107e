package gateway_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invitegw/invitegw/cache"
	"github.com/invitegw/invitegw/cache/redistest"
	"github.com/invitegw/invitegw/gateway"
	"github.com/invitegw/invitegw/upstream/elastic/elasticfake"
	"github.com/invitegw/invitegw/upstream/redpanda/redpandafake"
)

// newRedisStore starts a redis-server for the test and returns a store built as production
// builds it.
func newRedisStore(t testing.TB) (*cache.Redis, *redistest.Server) {
	t.Helper()
	srv := redistest.Start(t)
	c, err := cache.NewRedisClient(cache.RedisOptions{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return cache.NewRedis(c), srv
}

// eachStore runs f with a Redis store and with a memory store.
func eachStore(t *testing.T, f func(t *testing.T, s cache.Store)) {
	t.Run("redis", func(t *testing.T) { s, _ := newRedisStore(t); f(t, s) })
	t.Run("memory", func(t *testing.T) { f(t, cache.NewMemory(nil)) })
}

const listQuery = `{ invitations(first: 100) { totalCount edges { node { id status
	organization { name } roleBindings { roleName } groups { name } } } } }`

func (e *env) upstreamCalls() int { return e.rp.TotalCalls() + e.ec.TotalCalls() + e.fr.TotalCalls() }

func TestRepeatedQueryMakesNoUpstreamCalls(t *testing.T) {
	tests := []struct {
		name          string
		responseCache bool
		// want is the data cache's and the response cache's counters after two queries.
		want     cache.Stats
		wantResp cache.ResponseStats
	}{
		// The answer is reused whole: the data cache is not even read the second time.
		{"response cache", true, cache.Stats{Misses: 9}, cache.ResponseStats{Hits: 1, Misses: 1}},
		// Executed again, from the data cache.
		{"data cache only", false, cache.Stats{Hits: 9, Misses: 9}, cache.ResponseStats{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eachStore(t, func(t *testing.T, s cache.Store) {
				e := newEnv(t, envOptions{store: s, noResponseCache: !tt.responseCache})
				e.seed()
				first := e.query(t, listQuery, nil)
				cold := e.upstreamCalls()
				second := e.query(t, listQuery, nil)
				if n := e.upstreamCalls() - cold; n != 0 {
					t.Fatalf("the repeated query made %d upstream calls, want 0", n)
				}
				if len(first.Errors)+len(second.Errors) > 0 || string(first.Data) != string(second.Data) {
					t.Fatalf("cached answer differs:\n%s\n%s", first.raw, second.raw)
				}
				// 3 lists + 3 organizations + 2 role lists + 1 group list.
				if cold != 9 {
					t.Errorf("cold query made %d upstream calls, want 9", cold)
				}
				if st := e.cache.Stats(); st.Hits != tt.want.Hits || st.Misses != tt.want.Misses {
					t.Errorf("data cache stats = %+v, want %+v", st, tt.want)
				}
				if st := e.cache.ResponseStats(); st != tt.wantResp {
					t.Errorf("response cache stats = %+v, want %+v", st, tt.wantResp)
				}
			})
		})
	}
}

func TestAnotherCredentialGetsItsOwnEntries(t *testing.T) {
	store, srv := newRedisStore(t)
	e := newEnv(t, envOptions{store: store})
	e.seed()
	other, _ := e.newGateway(t, envOptions{store: store, rpClientCredentials: true})
	const q = `{ invitations(filter: {providers: [REDPANDA]}) { totalCount } }`

	e.query(t, q, nil)
	post(t, other, map[string]any{"query": q})
	e.query(t, q, nil)
	post(t, other, map[string]any{"query": q})
	if n := e.rp.Calls("ListUserInvites"); n != 2 {
		t.Fatalf("ListUserInvites calls = %d, want 2: one per credential, then hits", n)
	}

	// Nothing secret is stored: no credential in a key, no credential or token in a value.
	ctx := context.Background()
	rc := srv.Client()
	keys := rc.Keys(ctx, "*").Val()
	lists, stamps, responses := map[string]bool{}, map[string]bool{}, map[string]bool{}
	scheme := regexp.MustCompile(`^invitegw:v2:(?:inv:\{([0-9a-f]{20}):redpanda\}(:v)?|resp:([0-9a-f]{20}):[0-9a-f]+)$`)
	for _, k := range keys {
		m := scheme.FindStringSubmatch(k)
		switch {
		case m == nil:
			t.Errorf("key %q outside the documented scheme", k)
		case m[2] != "":
			stamps[m[1]] = true
		case m[1] != "":
			lists[m[1]] = true
		default:
			responses[m[3]] = true
		}
		assertNoSecrets(t, "key "+k, k)
		assertNoSecrets(t, "value of "+k, rc.Get(ctx, k).Val())
	}
	// One list (and its stamp) and one answer per credential, each under its own tenant or
	// scope.
	if len(keys) != 6 || len(lists) != 2 || !maps.Equal(stamps, lists) || len(responses) != 2 {
		t.Fatalf("keys = %q, want a list, its stamp and a response under a separate hash per credential", keys)
	}
}

func TestElasticTokensAreNotCached(t *testing.T) {
	store, srv := newRedisStore(t)
	e := newEnv(t, envOptions{store: store})
	e.seed()
	e.query(t, listQuery, nil)
	ctx := context.Background()
	rc := srv.Client()
	found := false
	for _, k := range rc.Keys(ctx, "*").Val() {
		v := rc.Get(ctx, k).Val()
		assertNoSecrets(t, "value of "+k, v)
		found = found || strings.Contains(v, digest(ecTokens[0]))
	}
	if !found {
		t.Fatal("sanity: the Elastic list should be cached with token digests")
	}
}

func TestConcurrentColdQueriesCallEachUpstreamOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, s cache.Store) {
		e := newEnv(t, envOptions{store: s})
		e.seed()
		var wg sync.WaitGroup
		bad := make(chan string, 100)
		for range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.query(t, listQuery, nil)
				if len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"totalCount":8`) {
					bad <- r.raw
				}
			}()
		}
		wg.Wait()
		close(bad)
		for raw := range bad {
			t.Fatalf("bad answer: %s", raw)
		}
		got := map[string]int{
			"ListUserInvites": e.rp.Calls("ListUserInvites"), "GetCurrentOrganization": e.rp.Calls("GetCurrentOrganization"),
			"elastic ListInvitations": e.ec.Calls("ListInvitations"), "elastic GetOrganization": e.ec.Calls("GetOrganization"),
			"ListOrganizationInvitations": e.fr.Calls("ListOrganizationInvitations"), "frontier GetOrganization": e.fr.Calls("GetOrganization"),
			"ListRoles": e.fr.Calls("ListRoles"), "ListOrganizationRoles": e.fr.Calls("ListOrganizationRoles"),
			"ListOrganizationGroups": e.fr.Calls("ListOrganizationGroups"),
		}
		for route, n := range got {
			if n != 1 {
				t.Errorf("%s called %d times by 100 concurrent cold queries, want 1", route, n)
			}
		}
	})
}

func TestUpdateIsSeenThroughAnotherInstance(t *testing.T) {
	store, _ := newRedisStore(t)
	e := newEnv(t, envOptions{store: store})
	e.seed()
	other, otherCache := e.newGateway(t, envOptions{store: store})
	const q = `{ invitation(id: "redpanda:rp-1") { expiresAt } invitations(filter: {providers: [REDPANDA]}) { nodes { id expiresAt } } }`
	read := func() string {
		r := post(t, other, map[string]any{"query": q})
		if len(r.Errors) > 0 {
			t.Fatal(r.raw)
		}
		return string(r.Data)
	}
	before := read()
	if !strings.Contains(before, `"expiresAt":"2026-11-30T12:00:00Z"`) {
		t.Fatalf("unexpected starting data: %s", before)
	}
	if read() != before || otherCache.ResponseStats() != (cache.ResponseStats{Hits: 1, Misses: 1}) {
		t.Fatalf("the other instance did not answer the repeated query from its response cache: %+v", otherCache.ResponseStats())
	}
	r := e.query(t, `mutation { updateInvitation(id: "redpanda:rp-1", input: {expiresAt: "2027-01-15T00:00:00Z"}) { invitation { expiresAt } } }`, nil)
	jsonEq(t, r.Data, `{"updateInvitation": {"invitation": {"expiresAt": "2027-01-15T00:00:00Z"}}}`)

	after := read()
	if strings.Contains(after, "2026-11-30T12:00:00Z") || strings.Count(after, "2027-01-15T00:00:00Z") != 2 {
		t.Fatalf("the other instance still reads the old value:\n%s", after)
	}
	if read() != after {
		t.Fatal("answers differ between reads")
	}
	// The write made the kept answer a miss (the new generation); the new answer was kept.
	if st := otherCache.ResponseStats(); st != (cache.ResponseStats{Hits: 2, Misses: 2}) {
		t.Fatalf("response cache stats = %+v, want 2 hits and 2 misses", st)
	}
}

func TestRedisDownKeepsAnsweringAndHitsResume(t *testing.T) {
	store, srv := newRedisStore(t)
	e := newEnv(t, envOptions{store: store})
	e.seed()
	want := string(e.query(t, listQuery, nil).Data)

	srv.Stop()
	for range 5 {
		r := e.query(t, listQuery, nil)
		if len(r.Errors) > 0 || string(r.Data) != want {
			t.Fatalf("with Redis down: %s", r.raw)
		}
	}
	if e.cache.Stats().StoreErrors == 0 {
		t.Fatal("Redis errors were not counted")
	}
	if n := strings.Count(e.log.String(), "cache store unavailable"); n != 1 {
		t.Errorf("logged the outage %d times, want once per interval", n)
	}

	srv.Restart()
	deadline := time.Now().Add(10 * time.Second)
	for calls := e.upstreamCalls(); ; calls = e.upstreamCalls() {
		if time.Now().After(deadline) {
			t.Fatal("cache hits did not resume after Redis came back")
		}
		e.query(t, listQuery, nil)
		if e.upstreamCalls() == calls { // answered without any upstream call
			break
		}
	}
}

func TestStaleCopyServedWhenUpstreamFails(t *testing.T) {
	eachStore(t, func(t *testing.T, s cache.Store) {
		e := newEnv(t, envOptions{store: s})
		e.seed()
		const q = `{ invitations(filter: {providers: [ELASTIC]}) { totalCount } }`
		e.query(t, q, nil)
		e.clock.Advance(95 * time.Second) // past the 30s TTL, within the 10m grace
		e.ec.FailNext("ListInvitations", 1, http.StatusServiceUnavailable)
		r := e.query(t, q, nil)
		if len(r.Errors) > 0 {
			t.Fatalf("a stale copy existed but the error was returned: %s", r.raw)
		}
		jsonEq(t, r.Data, `{"invitations": {"totalCount": 3}}`)
		want := map[string]any{"warnings": []any{map[string]any{"code": "STALE_DATA", "provider": "ELASTIC", "ageSeconds": float64(95)}}}
		if !reflect.DeepEqual(r.Extensions, want) {
			t.Fatalf("extensions = %v, want %v", r.Extensions, want)
		}
		if e.cache.Stats().Stale != 1 {
			t.Errorf("stale serves = %d, want 1", e.cache.Stats().Stale)
		}
		// The answer with the warning was not kept: the upstream is asked again.
		calls := e.ec.Calls("ListInvitations")
		if r := e.query(t, q, nil); r.Extensions != nil || len(r.Errors) > 0 {
			t.Fatalf("after the upstream recovered: %s", r.raw)
		}
		if e.ec.Calls("ListInvitations") != calls+1 {
			t.Errorf("ListInvitations not called again after a stale answer")
		}
	})
}

func TestNoStaleCopyGivesTheError(t *testing.T) {
	e := newEnv(t, envOptions{store: cache.NewMemory(nil)})
	e.seed()
	e.ec.FailNext("ListInvitations", 1, http.StatusServiceUnavailable)
	r := e.query(t, `{ invitations(filter: {providers: [ELASTIC]}) { totalCount } }`, nil)
	if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "UPSTREAM_UNAVAILABLE" || r.Extensions != nil {
		t.Fatalf("want the upstream error and no warning, got %s", r.raw)
	}
	// A partial answer is never kept.
	r = e.query(t, `{ invitations(filter: {providers: [ELASTIC]}) { totalCount } }`, nil)
	if len(r.Errors) != 0 || string(r.Data) != `{"invitations":{"totalCount":3}}` {
		t.Fatalf("after the upstream recovered: %s", r.raw)
	}
}

func TestCachedInvitationExpiresOnTime(t *testing.T) {
	eachStore(t, func(t *testing.T, s cache.Store) {
		e := newEnv(t, envOptions{store: s})
		e.seed()
		const q = `{ invitations(filter: {providers: [REDPANDA], status: [PENDING]}) { nodes { id } } }`
		jsonEq(t, e.query(t, q, nil).Data, `{"invitations": {"nodes": [{"id": "redpanda:rp-1"}, {"id": "redpanda:rp-3"}]}}`)
		e.clock.Advance(day - time.Second)
		jsonEq(t, e.query(t, q, nil).Data, `{"invitations": {"nodes": [{"id": "redpanda:rp-1"}, {"id": "redpanda:rp-3"}]}}`)
		e.clock.Advance(time.Second) // rp-3's expiry
		jsonEq(t, e.query(t, q, nil).Data, `{"invitations": {"nodes": [{"id": "redpanda:rp-1"}]}}`)
	})
}

func TestPersistedQueriesAreSharedAcrossInstances(t *testing.T) {
	store, _ := newRedisStore(t)
	e := newEnv(t, envOptions{store: store})
	e.seed()
	other, _ := e.newGateway(t, envOptions{store: store})
	const q = `{ invitation(id: "redpanda:rp-1") { email } }`
	sum := sha256.Sum256([]byte(q))
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}

	r := post(t, other, map[string]any{"extensions": ext})
	if len(r.Errors) != 1 || r.Errors[0].Message != "PersistedQueryNotFound" {
		t.Fatalf("unregistered hash: %s", r.raw)
	}
	if r := post(t, e.gw, map[string]any{"query": q, "extensions": ext}); len(r.Errors) > 0 {
		t.Fatalf("register: %s", r.raw)
	}
	r = post(t, other, map[string]any{"extensions": ext})
	jsonEq(t, r.Data, `{"invitation": {"email": "ada@example.com"}}`)
}

// TestCachedAnswerEndsAtAStatusChange: a kept answer is never served past the moment one of
// the invitations it was built from changes status, even well within the cache TTL.
func TestCachedAnswerEndsAtAStatusChange(t *testing.T) {
	eachStore(t, func(t *testing.T, s cache.Store) {
		e := newEnv(t, envOptions{store: s})
		e.rp.Add(redpandafake.Invite{ID: "rp-soon", Email: "soon@example.com", CreatedAt: ts(-time.Hour), ExpiresAt: ts(10 * time.Second)})
		const q = `{ invitations(filter: {providers: [REDPANDA]}) { nodes { id status } } }`
		want := func(status string) {
			t.Helper()
			jsonEq(t, e.query(t, q, nil).Data, `{"invitations": {"nodes": [{"id": "redpanda:rp-soon", "status": "`+status+`"}]}}`)
		}
		want("PENDING")
		e.clock.Advance(9 * time.Second)
		want("PENDING")
		if st := e.cache.ResponseStats(); st.Hits != 1 {
			t.Fatalf("response cache stats = %+v, want the second answer from it", st)
		}
		e.clock.Advance(time.Second) // rp-soon's expiry, 20s before the list's TTL
		want("EXPIRED")
	})
}

// TestResponseCacheKeysOnVariablesAndOperation: the same text with other variables or another
// operation is another answer.
func TestResponseCacheKeysOnVariablesAndOperation(t *testing.T) {
	e := newEnv(t, envOptions{store: cache.NewMemory(nil)})
	e.seed()
	const q = `query A($p: [Provider!]) { invitations(filter: {providers: $p}) { totalCount } }
		query B { organizations { id } }`
	do := func(op string, vars map[string]any) string {
		r := post(t, e.gw, map[string]any{"query": q, "operationName": op, "variables": vars})
		if len(r.Errors) > 0 {
			t.Fatal(r.raw)
		}
		return string(r.Data)
	}
	for range 2 {
		if got := do("A", map[string]any{"p": []string{"ELASTIC"}}); got != `{"invitations":{"totalCount":3}}` {
			t.Fatalf("A(ELASTIC) = %s", got)
		}
		if got := do("A", map[string]any{"p": []string{"FRONTIER"}}); got != `{"invitations":{"totalCount":2}}` {
			t.Fatalf("A(FRONTIER) = %s", got)
		}
		if got := do("B", nil); got != `{"organizations":[{"id":"redpanda:rp-org-1"},{"id":"elastic:1004"},{"id":"frontier:f-org-1"}]}` {
			t.Fatalf("B = %s", got)
		}
	}
	if st := e.cache.ResponseStats(); st != (cache.ResponseStats{Hits: 3, Misses: 3}) {
		t.Fatalf("response cache stats = %+v, want 3 misses then 3 hits", st)
	}
}

// TestResponseCacheSkipsIntrospection: introspection is allowed or not per instance, so its
// answers are never kept; __typename is ordinary data.
func TestResponseCacheSkipsIntrospection(t *testing.T) {
	e := newEnv(t, envOptions{store: cache.NewMemory(nil)})
	e.seed()
	for _, q := range []string{
		`{ __schema { queryType { name } } }`,
		`{ __type(name: "Invitation") { name } }`,
		`query { ...F } fragment F on Query { __schema { queryType { name } } }`,
	} {
		for range 2 {
			if r := e.query(t, q, nil); len(r.Errors) > 0 {
				t.Fatal(r.raw)
			}
		}
	}
	if st := e.cache.ResponseStats(); st != (cache.ResponseStats{}) {
		t.Fatalf("introspection went through the response cache: %+v", st)
	}
	for range 2 {
		jsonEq(t, e.query(t, `{ invitations(first: 1) { __typename totalCount } }`, nil).Data,
			`{"invitations": {"__typename": "InvitationConnection", "totalCount": 8}}`)
	}
	if st := e.cache.ResponseStats(); st != (cache.ResponseStats{Hits: 1, Misses: 1}) {
		t.Fatalf("response cache stats = %+v, want the __typename query kept", st)
	}
}

// TestResponseCacheKeepsRequestErrors: a body that is not a GraphQL request fails before any
// operation exists, and still gets its 400 with the response cache on.
func TestResponseCacheKeepsRequestErrors(t *testing.T) {
	e := newEnv(t, envOptions{store: cache.NewMemory(nil)})
	for _, accept := range []string{"application/json", "application/graphql-response+json"} {
		for _, body := range []string{`{"not a JSON`, `{"query": 42}`} {
			resp, got := do(t, http.MethodPost, e.gw.URL+"/graphql", map[string]string{"Content-Type": "application/json", "Accept": accept}, body)
			if resp.StatusCode != http.StatusBadRequest || strings.Contains(got, "internal error") {
				t.Errorf("Accept %s, body %s: %d %s, want 400", accept, body, resp.StatusCode, got)
			}
		}
	}
}

// TestResponseCacheNegotiatesPerAccept: an answer is kept per Accept header (its media type
// differs), GET and POST each have their own, and a hit carries the kept media type.
func TestResponseCacheNegotiatesPerAccept(t *testing.T) {
	e := newEnv(t, envOptions{store: cache.NewMemory(nil)})
	e.seed()
	const q = `{ invitations(filter: {providers: [ELASTIC]}) { totalCount } }`
	const want = `{"data":{"invitations":{"totalCount":3}}}`
	requests := []struct {
		method, accept, wantType string
	}{
		{http.MethodPost, "application/graphql-response+json", "application/graphql-response+json"},
		{http.MethodPost, "application/json", "application/json"},
		{http.MethodGet, "application/json", "application/json"},
	}
	for round := range 2 {
		for _, rq := range requests {
			var resp *http.Response
			var body string
			if rq.method == http.MethodGet {
				resp, body = do(t, rq.method, e.gw.URL+"/graphql?query="+url.QueryEscape(q), map[string]string{"Accept": rq.accept}, "")
			} else {
				resp, body = do(t, rq.method, e.gw.URL+"/graphql", map[string]string{"Content-Type": "application/json", "Accept": rq.accept},
					`{"query":"`+q+`"}`)
			}
			if resp.StatusCode != 200 || body != want || !strings.HasPrefix(resp.Header.Get("Content-Type"), rq.wantType) {
				t.Fatalf("round %d, %s Accept %s: %d %q %s", round, rq.method, rq.accept, resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
		}
	}
	if st := e.cache.ResponseStats(); st != (cache.ResponseStats{Hits: 3, Misses: 3}) {
		t.Fatalf("response cache stats = %+v, want each request kept once and served once", st)
	}
	if n := e.ec.Calls("ListInvitations"); n != 1 {
		t.Fatalf("ListInvitations called %d times, want 1", n)
	}
}

// TestResponseCacheKeyedByMeaning: requests that differ only in formatting, comments, JSON
// member order or variable order share one kept answer; an APQ hash shares its query's; other
// variable values do not.
func TestResponseCacheKeyedByMeaning(t *testing.T) {
	e := newEnv(t, envOptions{store: cache.NewMemory(nil)})
	e.seed()
	send := func(body string) string {
		t.Helper()
		resp, err := http.Post(e.gw.URL+"/graphql", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	const q = `query A($p: [Provider!], $n: Int) { invitations(filter: {providers: $p}, first: $n) { totalCount } }`
	sum := sha256.Sum256([]byte(q))
	apq := hex.EncodeToString(sum[:])
	first := send(`{"query":"` + q + `","variables":{"p":["ELASTIC"],"n":2},"extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + apq + `"}}}`)
	if first != `{"data":{"invitations":{"totalCount":3}}}` {
		t.Fatalf("first: %s", first)
	}
	same := []string{
		`{"variables":{"n":2,"p":["ELASTIC"]},"query":"` + q + `"}`,
		`{"query":"# a comment\nquery A($p: [Provider!], $n: Int) {\n  invitations(filter: {providers: $p}, first: $n) {\n    totalCount\n  }\n}\n","variables":{"p":["ELASTIC"],"n":2}}`,
		`{"query":"query A($p:[Provider!],$n:Int){invitations(filter:{providers:$p},first:$n){totalCount}}","variables":{"n":2,"p":["ELASTIC"]}}`,
		`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + apq + `"}},"variables":{"p":["ELASTIC"],"n":2}}`,
	}
	calls := e.upstreamCalls()
	for i, body := range same {
		if got := send(body); got != first {
			t.Fatalf("variant %d answered %s", i, got)
		}
	}
	if st := e.cache.ResponseStats(); st != (cache.ResponseStats{Hits: int64(len(same)), Misses: 1}) || e.upstreamCalls() != calls {
		t.Fatalf("response cache stats = %+v, upstream calls +%d; want every variant a hit", st, e.upstreamCalls()-calls)
	}
	// A query sent with another query's hash must not make that hash serve its answers.
	const other, victimQuery = `{ organizations { id } }`, `{ invitations(first: 1) { totalCount } }`
	sum = sha256.Sum256([]byte(victimQuery))
	victim := hex.EncodeToString(sum[:])
	withHash := func(query string) string {
		return `{"query":"` + query + `","extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + victim + `"}}}`
	}
	send(`{"query":"` + other + `"}`)         // kept
	registered := send(withHash(victimQuery)) // registered and kept
	if got := send(withHash(other)); !strings.Contains(got, "provided APQ hash does not match query") {
		t.Fatalf("a mismatched hash was accepted: %s", got)
	}
	if got := send(`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + victim + `"}}}`); got != registered ||
		!strings.Contains(got, `"totalCount"`) {
		t.Fatalf("the hash answered another query's data: %s", got)
	}
	if got := send(`{"query":"` + q + `","variables":{"p":["FRONTIER"],"n":2}}`); got != `{"data":{"invitations":{"totalCount":2}}}` {
		t.Fatalf("other variables: %s", got)
	}
	if st := e.cache.ResponseStats(); st != (cache.ResponseStats{Hits: int64(len(same)) + 1, Misses: 4}) {
		t.Fatalf("response cache stats = %+v; want the variants and the hash hits, 4 misses", st)
	}
}

// heldCalls holds the upstream requests to one base URL, once armed, until released.
type heldCalls struct {
	baseURL string
	armed   atomic.Bool
	arrived chan string // each held request's path
	release chan struct{}
}

func newHeldCalls() *heldCalls {
	return &heldCalls{arrived: make(chan string, 10), release: make(chan struct{})}
}

func (h *heldCalls) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		if h.armed.Load() && "http://"+r.URL.Host == h.baseURL {
			h.arrived <- r.URL.Path
			<-h.release
		}
		return next.RoundTrip(r)
	})
}

// refreshOfOrg1004 waits for the held call to be Elastic's list of organization 1004, releases
// it, and waits for the gateway's background work (cache.Close) to end.
func (h *heldCalls) refreshOfOrg1004(t *testing.T, e *env) {
	t.Helper()
	select {
	case path := <-h.arrived:
		if !strings.HasSuffix(path, "/organizations/1004/invitations") {
			t.Fatalf("the refresh called %s", path)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no refresh reached Elastic")
	}
	close(h.release)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.cache.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// expiredElastic is a gateway over s (stale-while-revalidate 1m) and the standard seed, whose
// answer to warm (3 Elastic invitations) is kept, with a fourth invitation added at Elastic
// since, and its clock past the lists' 30s TTL; its calls to Elastic are held once armed.
func expiredElastic(t *testing.T, s cache.Store, warm string) (*env, *heldCalls) {
	t.Helper()
	held := newHeldCalls()
	e := newEnv(t, envOptions{store: s, swr: time.Minute, transport: held.wrap})
	held.baseURL = e.ecURL
	e.seed()
	jsonEq(t, e.query(t, warm, nil).Data, `{"invitations": {"totalCount": 3}}`)
	e.ec.AddInvitation("1004", elasticfake.Invitation{Token: "ec-secret-token-dddd", Email: "edsger@example.com",
		CreatedAt: ts(-time.Minute), ExpiresAt: ts(day)})
	e.clock.Advance(31 * time.Second)
	return e, held
}

// TestExpiredListAnsweredWhileRefreshing: past its TTL, within the stale-while-revalidate
// window, a list is the answer at once (no warning), while the one upstream call refreshing it
// is held; the answer is not kept, and once the call is answered the next query has the new
// list, from the cache. (The query after expiry is not the one that filled the cache, whose
// kept answer would be served instead: TestStaleAnswerRebuilt.)
func TestExpiredListAnsweredWhileRefreshing(t *testing.T) {
	eachStore(t, func(t *testing.T, s cache.Store) {
		e, held := expiredElastic(t, s, `{ invitations(filter: {providers: [ELASTIC]}) { totalCount } }`)
		const q = `{ invitations(filter: {providers: [ELASTIC]}, first: 10) { totalCount } }`
		calls, kept := e.upstreamCalls(), e.cache.ResponseStats()

		held.armed.Store(true)
		r := e.query(t, q, nil) // answered while Elastic's call is held
		if len(r.Errors) > 0 || r.Extensions != nil {
			t.Fatalf("want the list from before, without a warning: %s", r.raw)
		}
		jsonEq(t, r.Data, `{"invitations": {"totalCount": 3}}`)
		held.refreshOfOrg1004(t, e) // and waits for it to store its list
		if n := e.upstreamCalls() - calls; n != 1 || e.ec.Calls("ListInvitations") != 2 {
			t.Fatalf("%d upstream calls after expiry, want Elastic's one list call", n)
		}
		if st := e.cache.ResponseStats(); st != kept {
			t.Fatalf("response cache stats = %+v, want %+v: an answer from an expired list was kept", st, kept)
		}
		if st := e.cache.Stats(); st.Revalidating != 1 || st.Revalidations != 1 {
			t.Fatalf("cache stats = %+v, want one copy served and one refresh", st)
		}

		jsonEq(t, e.query(t, q, nil).Data, `{"invitations": {"totalCount": 4}}`)
		if n := e.upstreamCalls() - calls; n != 1 {
			t.Fatalf("the query after the refresh made %d more upstream calls, want 0", n-1)
		}
	})
}

// TestOneRefreshAcrossReplicas: two gateways sharing a Redis both answer with the expired
// list at once, and only one of them calls the upstream to refresh it.
func TestOneRefreshAcrossReplicas(t *testing.T) {
	store, _ := newRedisStore(t)
	held := newHeldCalls()
	e := newEnv(t, envOptions{store: store, swr: time.Minute, transport: held.wrap})
	held.baseURL = e.ecURL
	other, otherCache := e.newGateway(t, envOptions{store: store, swr: time.Minute, transport: held.wrap})
	e.seed()
	const q = `{ invitations(filter: {providers: [ELASTIC]}) { totalCount } }`
	jsonEq(t, e.query(t, q, nil).Data, `{"invitations": {"totalCount": 3}}`)
	e.ec.AddInvitation("1004", elasticfake.Invitation{Token: "ec-secret-token-dddd", Email: "edsger@example.com",
		CreatedAt: ts(-time.Minute), ExpiresAt: ts(day)})
	e.clock.Advance(31 * time.Second)

	held.armed.Store(true)
	jsonEq(t, e.query(t, q, nil).Data, `{"invitations": {"totalCount": 3}}`)
	select {
	case <-held.arrived: // the first gateway holds the lock and is calling Elastic
	case <-time.After(10 * time.Second):
		t.Fatal("no refresh reached Elastic")
	}
	jsonEq(t, post(t, other, map[string]any{"query": q}).Data, `{"invitations": {"totalCount": 3}}`)
	// Close waits for background work: the other gateway's refresh ends while the first one's
	// call is still held (it would hang here had it called Elastic too).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := otherCache.Close(ctx); err != nil {
		t.Fatal(err)
	}
	close(held.release)
	if err := e.cache.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.ec.Calls("ListInvitations"); n != 2 {
		t.Fatalf("ListInvitations calls = %d, want 2: the cold one and one refresh between both gateways", n)
	}
	if st := otherCache.Stats(); st.RevalidationsLocked != 1 || st.Revalidations != 0 {
		t.Fatalf("the other gateway's stats = %+v, want its refresh left to the lock's holder", st)
	}
	jsonEq(t, post(t, other, map[string]any{"query": q}).Data, `{"invitations": {"totalCount": 4}}`)
	jsonEq(t, e.query(t, q, nil).Data, `{"invitations": {"totalCount": 4}}`)
	if n := e.ec.Calls("ListInvitations"); n != 2 {
		t.Fatalf("ListInvitations calls = %d after the refresh, want still 2", n)
	}
}

// TestStaleAnswerRebuilt: past its data's TTL, within the stale-while-revalidate window, a kept
// answer is served at once, as a hit, by every request, while one rebuild in the background
// waits for the one refresh of the data under it; the rebuilt answer is kept and served next.
func TestStaleAnswerRebuilt(t *testing.T) {
	eachStore(t, func(t *testing.T, s cache.Store) {
		const q = `{ invitations(filter: {providers: [ELASTIC]}) { totalCount } }`
		e, held := expiredElastic(t, s, q)
		calls, before := e.upstreamCalls(), e.cache.ResponseStats()

		held.armed.Store(true)
		for range 3 { // all answered, stale, while the refresh is held
			r := e.query(t, q, nil)
			if len(r.Errors) > 0 || r.Extensions != nil {
				t.Fatalf("want the kept answer, without a warning: %s", r.raw)
			}
			jsonEq(t, r.Data, `{"invitations": {"totalCount": 3}}`)
		}
		if st := e.cache.ResponseStats(); st != (cache.ResponseStats{Hits: before.Hits + 3, Stale: 3, Misses: before.Misses}) {
			t.Fatalf("response cache stats = %+v, want 3 stale hits after %+v", st, before)
		}
		held.refreshOfOrg1004(t, e) // and waits for it, and for the rebuild
		if n := e.upstreamCalls() - calls; n != 1 {
			t.Fatalf("%d upstream calls after expiry, want Elastic's one list call", n)
		}
		if st := e.cache.ResponseStats(); st.Misses != before.Misses+1 {
			t.Fatalf("response cache stats = %+v, want the rebuilt answer kept", st)
		}
		jsonEq(t, e.query(t, q, nil).Data, `{"invitations": {"totalCount": 4}}`)
		if st := e.cache.ResponseStats(); st.Hits != before.Hits+4 || st.Stale != 3 {
			t.Fatalf("response cache stats = %+v, want the rebuilt answer served as a fresh hit", st)
		}
		if n := e.upstreamCalls() - calls; n != 1 {
			t.Fatalf("the query after the rebuild made %d more upstream calls, want 0", n-1)
		}
	})
}

// TestRebuildsAreBounded: when more kept answers go stale together than may be rebuilt at
// once, the first ones are rebuilt and the others are served stale without a rebuild; the
// next hit after a slot is free rebuilds them.
func TestRebuildsAreBounded(t *testing.T) {
	n := gateway.MaxRebuilds + 1
	queries := make([]string, n)
	for i := range queries {
		queries[i] = fmt.Sprintf(`{ invitations(filter: {providers: [ELASTIC]}, first: %d) { totalCount } }`, i+1)
	}
	e, held := expiredElastic(t, cache.NewMemory(nil), queries[0])
	for _, q := range queries[1:] {
		e.clock.Advance(-31 * time.Second) // keep the others from before the expiry too
		jsonEq(t, e.query(t, q, nil).Data, `{"invitations": {"totalCount": 3}}`)
		e.clock.Advance(31 * time.Second)
	}
	before := e.cache.ResponseStats()
	held.armed.Store(true)
	for _, q := range queries { // every one stale; all rebuilds wait for the one held refresh
		jsonEq(t, e.query(t, q, nil).Data, `{"invitations": {"totalCount": 3}}`)
	}
	held.refreshOfOrg1004(t, e)
	if st := e.cache.ResponseStats(); st.Stale != int64(n) || st.Misses != before.Misses+int64(gateway.MaxRebuilds) {
		t.Fatalf("response cache stats %+v after %+v: want %d stale hits and %d answers rebuilt", st, before, n, gateway.MaxRebuilds)
	}
	last := queries[n-1]
	// Still the stale answer, now rebuilt (after Close, which no longer waits for it).
	jsonEq(t, e.query(t, last, nil).Data, `{"invitations": {"totalCount": 3}}`)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		got := string(e.query(t, last, nil).Data)
		if strings.Contains(got, `"totalCount":4`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the last answer was not rebuilt: %s", got)
		}
	}
}

// TestStaleAnswerNeverCrossesAStatusChange: a kept answer is not served past the moment a
// status in it changes, though its data is within the stale-while-revalidate window: the
// status is derived anew.
func TestStaleAnswerNeverCrossesAStatusChange(t *testing.T) {
	const token = "ec-secret-token-eeee"
	tests := []struct{ name, query, before, after string }{
		{"a list", `{ invitations(filter: {email: "lovelace.countess@example.com"}) { nodes { status } } }`,
			`{"invitations": {"nodes": [{"status": "PENDING"}]}}`, `{"invitations": {"nodes": [{"status": "EXPIRED"}]}}`},
		{"one invitation", `{ invitation(id: "elastic:1004:` + digest(token) + `") { status } }`,
			`{"invitation": {"status": "PENDING"}}`, `{"invitation": {"status": "EXPIRED"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{store: cache.NewMemory(nil), swr: time.Minute})
			e.seed()
			e.ec.AddInvitation("1004", elasticfake.Invitation{Token: token, Email: "lovelace.countess@example.com",
				CreatedAt: ts(-time.Minute), ExpiresAt: ts(40 * time.Second)})
			jsonEq(t, e.query(t, tt.query, nil).Data, tt.before)
			e.clock.Advance(45 * time.Second) // past the TTL and the expiry, within the window
			jsonEq(t, e.query(t, tt.query, nil).Data, tt.after)
			if st := e.cache.ResponseStats(); st.Hits != 0 || st.Stale != 0 {
				t.Fatalf("response cache stats = %+v: the answer from before the expiry was served", st)
			}
		})
	}
}
