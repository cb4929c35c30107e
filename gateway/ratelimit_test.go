package gateway_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/invitegw/invitegw/cache"
	"github.com/invitegw/invitegw/cache/redistest"
	"github.com/invitegw/invitegw/upstream/redpanda/redpandafake"
)

// perHour is a budget that gives no token back while a test runs, on any clock (a shared
// budget runs on Redis's, which tests cannot move), so counts are exact.
const perHour = 1.0 / 3600

const redpandaCount = `{ invitations(filter: {providers: [REDPANDA]}) { totalCount } }`

// rateLimited is the error of Redpanda's part of redpandaCount when its budget is spent.
const rateLimited = `[{"message":"REDPANDA: rate limited","path":["invitations"],` +
	`"extensions":{"code":"UPSTREAM_RATE_LIMITED","provider":"REDPANDA"}}]`

// answer is how a redpandaCount answer came: "ok" with Redpanda's 3 invitations, or
// "limited" with exactly the rate-limited error and none of Redpanda's. Anything else fails.
func answer(t *testing.T, r response) string {
	t.Helper()
	if len(r.Errors) == 0 {
		jsonEq(t, r.Data, `{"invitations": {"totalCount": 3}}`)
		return "ok"
	}
	errs, _ := json.Marshal(r.Errors)
	jsonEq(t, errs, rateLimited)
	jsonEq(t, r.Data, `{"invitations": {"totalCount": 0}}`)
	return "limited"
}

// TestBurstOfColdRequestsKeepsToTheBudget: without a cache every request is cold and asks
// Redpanda; a burst of them makes as many calls as the budget holds, and the rest are
// answered UPSTREAM_RATE_LIMITED at once, without a call.
func TestBurstOfColdRequestsKeepsToTheBudget(t *testing.T) {
	e := newEnv(t, envOptions{budget: &budget{rate: perHour, burst: 3}})
	e.seed()
	got := map[string]int{}
	for range 10 {
		got[answer(t, e.query(t, redpandaCount, nil))]++
	}
	if got["ok"] != 3 || got["limited"] != 7 {
		t.Fatalf("answers %v, want 3 ok and 7 rate limited", got)
	}
	if n := e.rp.Calls("ListUserInvites"); n != 3 {
		t.Fatalf("Redpanda calls = %d, want the budget's 3", n)
	}
	if n := e.ec.TotalCalls() + e.fr.TotalCalls(); n != 0 {
		t.Fatalf("%d calls to the providers the query does not ask", n)
	}
}

// TestConcurrentCallsKeepToTheBudget: one cold request over six Elastic organizations fetches
// their lists at once; three calls fit the budget, and the rest is one UPSTREAM_RATE_LIMITED.
func TestConcurrentCallsKeepToTheBudget(t *testing.T) {
	orgs := []string{"1004", "2001", "2002", "2003", "2004", "2005"}
	e := newEnv(t, envOptions{elasticOrgs: orgs, budget: &budget{rate: perHour, burst: 3}})
	e.seed()
	for _, org := range orgs[1:] {
		e.ec.AddOrganization(org, "Org "+org)
	}
	r := e.query(t, `{ invitations(filter: {providers: [ELASTIC]}) { totalCount } }`, nil)
	if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "UPSTREAM_RATE_LIMITED" || r.Errors[0].Extensions["provider"] != "ELASTIC" {
		t.Fatalf("want one ELASTIC UPSTREAM_RATE_LIMITED error, got %s", r.raw)
	}
	if n := e.ec.Calls("ListInvitations"); n != 3 {
		t.Fatalf("Elastic calls = %d, want the budget's 3 of the 6 lists", n)
	}
}

// TestOverBudgetIsAnsweredStale: with an expired copy in the cache, a request over budget is
// answered with it, and a STALE_DATA warning, instead of an error.
func TestOverBudgetIsAnsweredStale(t *testing.T) {
	e := newEnv(t, envOptions{store: cache.NewMemory(nil), budget: &budget{rate: perHour, burst: 1}})
	e.seed()
	if got := answer(t, e.query(t, redpandaCount, nil)); got != "ok" {
		t.Fatal("the first request should have been answered")
	}
	e.clock.Advance(time.Minute) // the copy expires (30s), and no token comes back (one an hour)
	for range 3 {
		r := e.query(t, redpandaCount, nil)
		if got := answer(t, r); got != "ok" {
			t.Fatalf("over budget with a kept copy: %s", r.raw)
		}
		w, _ := json.Marshal(r.Extensions["warnings"])
		jsonEq(t, w, `[{"code":"STALE_DATA","provider":"REDPANDA","ageSeconds":60}]`)
	}
	if n := e.rp.Calls("ListUserInvites"); n != 1 {
		t.Fatalf("Redpanda calls = %d, want 1", n)
	}
}

// TestRedpandaSaysItsQuotaIsSpent: an answer whose ratelimit header says remaining=0 stops the
// calls until its reset, before Redpanda would start answering 429.
func TestRedpandaSaysItsQuotaIsSpent(t *testing.T) {
	e := newEnv(t, envOptions{budget: &budget{rate: 100, burst: 100}})
	e.seed()
	e.rp.SetHeader(redpandafake.RateLimitHeader, "limit=500, remaining=0, reset=2")
	if got := answer(t, e.query(t, redpandaCount, nil)); got != "ok" {
		t.Fatal("the answer that says the quota is spent is an answer")
	}
	e.rp.SetHeader(redpandafake.RateLimitHeader, "limit=500, remaining=499, reset=60")
	if got := answer(t, e.query(t, redpandaCount, nil)); got != "limited" {
		t.Fatal("a request before the reset should be rate limited")
	}
	if n := e.rp.Calls("ListUserInvites"); n != 1 {
		t.Fatalf("Redpanda calls = %d before the reset, want 1", n)
	}
	e.clock.Advance(2 * time.Second)
	if got := answer(t, e.query(t, redpandaCount, nil)); got != "ok" {
		t.Fatal("a request after the reset should be answered")
	}
	if n := e.rp.Calls("ListUserInvites"); n != 2 {
		t.Fatalf("Redpanda calls = %d, want 2", n)
	}
}

// TestReplicasShareTheBudgetThroughRedis: two gateways with one Redis make, together, as many
// calls as one budget holds; with Redis gone, each keeps to a budget of its own.
func TestReplicasShareTheBudgetThroughRedis(t *testing.T) {
	srv := redistest.Start(t)
	o := envOptions{budget: &budget{rate: perHour, burst: 4, redis: srv.Client()}}
	e := newEnv(t, o)
	e.seed()
	second, _ := e.newGateway(t, o)
	burst := func() map[string]int {
		got := map[string]int{}
		for i := range 10 {
			gw := e.gw
			if i%2 == 1 {
				gw = second
			}
			got[answer(t, post(t, gw, map[string]any{"query": redpandaCount}))]++
		}
		return got
	}
	if got := burst(); got["ok"] != 4 || e.rp.Calls("ListUserInvites") != 4 {
		t.Fatalf("answers %v, %d calls; want 4 of each between the two replicas", got, e.rp.Calls("ListUserInvites"))
	}

	srv.Stop()
	if got := burst(); got["ok"] != 8 || e.rp.Calls("ListUserInvites") != 12 {
		t.Fatalf("with Redis down: answers %v, %d calls in all; want 4 more for each replica", got, e.rp.Calls("ListUserInvites"))
	}
}
