package deploytest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/invitegw/invitegw/cache/redistest"
)

// drain is the gateways' INVITEGW_SHUTDOWN_DRAIN here: several of HAProxy's 200 ms checks.
const drain = "1s"

// deployment is the fakes, two gateways sharing one Redis (redisEnv says which) and HAProxy
// in front of them, every server up.
func deployment(t *testing.T, redisEnv map[string]string) (*upstreams, []*gatewayProc, *haproxy) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts Redis, two gateway processes and HAProxy")
	}
	needBinary(t, "haproxy", "haproxy")
	buildGateway(t)
	ups := startUpstreams(t)
	env := ups.env()
	env["INVITEGW_SHUTDOWN_DRAIN"] = drain
	for k, v := range redisEnv {
		env[k] = v
	}
	gws := []*gatewayProc{startGateway(t, env), startGateway(t, env)}
	lb := startHAProxy(t, []string{gws[0].Addr(), gws[1].Addr()})
	waitUp(t, lb, gws...)
	return ups, gws, lb
}

func waitUp(t *testing.T, lb *haproxy, gws ...*gatewayProc) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, g := range gws {
		if err := lb.WaitState(ctx, g.Addr(), true); err != nil {
			t.Fatal(err)
		}
	}
}

// checkLoad stops l and fails the test on any failed request.
func checkLoad(t *testing.T, l *load, what string) int64 {
	t.Helper()
	sent, failures := l.Stop()
	if len(failures) > 0 {
		t.Fatalf("%s: %d of %d requests failed; first: %s", what, len(failures), sent, failures[0])
	}
	if sent < 50 {
		t.Fatalf("%s: only %d requests sent", what, sent)
	}
	return sent
}

// TestRedisOutageBehindHAProxy: the shared Redis down for 10 s takes no replica out of the
// load balancer and fails no request, and the in-process fallback keeps upstream calls far
// below one per request (without it: 6.5-9.3): each gateway fetches each upstream resource
// about once per fallback TTL (5 s), however many requests it answers.
func TestRedisOutageBehindHAProxy(t *testing.T) {
	srv := redistest.Start(t)
	ups, gws, lb := deployment(t, map[string]string{"INVITEGW_REDIS_URL": srv.URL()})
	ups.reset()
	round(t, ups, gws[:1])
	resources := ups.calls() // the distinct upstream resources the load reads

	l := startLoad(lb.URL(), 4, 40*time.Millisecond) // up to 100 requests a second
	time.Sleep(2 * time.Second)                      // warm, with Redis up
	srv.Stop()
	downAt, callsAt := l.sent.Load(), ups.calls()
	const outage, fallbackTTL = 10 * time.Second, 5 * time.Second
	time.Sleep(outage)
	sentDown, callsDown := l.sent.Load()-downAt, ups.calls()-callsAt
	srv.Restart()
	time.Sleep(2 * time.Second)
	sent := checkLoad(t, l, "through a 10 s Redis outage")

	t.Logf("%d requests in all, 0 failed; while Redis was down: %d requests, %d upstream calls (%.3f per request) for %d resources",
		sent, sentDown, callsDown, float64(callsDown)/float64(sentDown), resources)
	if bound := len(gws) * resources * int(outage/fallbackTTL+1); callsDown > bound || callsDown >= int(sentDown) {
		t.Fatalf("%d upstream calls for %d requests while Redis was down; want at most %d (%d gateways x %d resources x one per fallback TTL)",
			callsDown, sentDown, bound, len(gws), resources)
	}
}

// TestRollingRestartBehindHAProxy: each gateway in turn is sent SIGTERM, drains, exits 0 and
// is started again, under load through HAProxy: no request fails.
func TestRollingRestartBehindHAProxy(t *testing.T) {
	srv := redistest.Start(t)
	_, gws, lb := deployment(t, map[string]string{"INVITEGW_REDIS_URL": srv.URL()})

	l := startLoad(lb.URL(), 4, 40*time.Millisecond)
	time.Sleep(time.Second)
	for _, g := range gws {
		g.Signal(syscall.SIGTERM)
		start := time.Now()
		code, err := g.Wait()
		if err != nil {
			t.Fatal(err)
		}
		if code != 0 {
			t.Fatalf("gateway %s exited %d after SIGTERM, want 0:\n%s", g.Addr(), code, g.Logs())
		}
		t.Logf("gateway %s drained and exited 0 in %v", g.Addr(), time.Since(start).Round(time.Millisecond))
		g.Restart()
		waitUp(t, lb, g)
		time.Sleep(500 * time.Millisecond) // some load on the restarted one before the next
	}
	sent := checkLoad(t, l, "through a rolling restart")
	t.Logf("%d requests through the rolling restart, 0 failed", sent)
	for _, g := range gws {
		if !strings.Contains(g.Logs(), `"msg":"draining: /readyz answers 503; still serving"`) || !strings.Contains(g.Logs(), `"msg":"stopped"`) {
			t.Errorf("gateway %s did not log its drain:\n%s", g.Addr(), g.Logs())
		}
	}
}

// TestClusterFailover: a Redis Cluster master dies. Every request is still answered;
// caching is back (no upstream call for a warm request, on either gateway) within seconds of
// the replica's promotion; a write through one gateway is read through the other at once.
func TestClusterFailover(t *testing.T) {
	cl := redistest.StartCluster(t, redistest.ClusterOptions{})
	ups, gws, _ := deployment(t, map[string]string{"INVITEGW_REDIS_CLUSTER_ADDRS": strings.Join(cl.Addrs(), ",")})
	warm(t, ups, gws)

	// The master holding Redpanda's list: every query reads it.
	key := findKey(t, cl, "invitegw:v2:inv:*redpanda}")
	waitReplicated(t, cl.Addrs())
	dead := cl.MasterFor(key)
	failover(t, ups, gws, dead.Kill, func(ctx context.Context) error {
		_, err := cl.WaitForFailover(ctx, dead)
		return err
	})
}

// TestSentinelFailover: as TestClusterFailover, with a Sentinel-managed master.
func TestSentinelFailover(t *testing.T) {
	s := redistest.StartSentinel(t, redistest.SentinelOptions{})
	ups, gws, _ := deployment(t, map[string]string{
		"INVITEGW_REDIS_SENTINEL_ADDRS": strings.Join(s.SentinelAddrs(), ","), "INVITEGW_REDIS_SENTINEL_MASTER": s.MasterName(),
	})
	warm(t, ups, gws)
	waitReplicated(t, []string{s.Master().Addr()})
	failover(t, ups, gws, s.KillMaster, func(ctx context.Context) error {
		_, err := s.WaitForFailover(ctx)
		return err
	})
}

// warm runs rounds until one makes no upstream call.
func warm(t *testing.T, ups *upstreams, gws []*gatewayProc) {
	t.Helper()
	for range 5 {
		if round(t, ups, gws) == 0 {
			return
		}
	}
	t.Fatal("still calling upstreams after five rounds of the same queries")
}

// round sends every load query to every gateway directly, failing the test on any failed
// request, and returns how many upstream calls that made.
func round(t *testing.T, ups *upstreams, gws []*gatewayProc) int {
	t.Helper()
	before := ups.calls()
	hc := &http.Client{Timeout: 15 * time.Second}
	for _, g := range gws {
		for _, q := range loadQueries {
			if err := send(hc, g.URL(), q); err != nil {
				t.Fatalf("gateway %s: %v", g.Addr(), err)
			}
		}
	}
	return ups.calls() - before
}

// failover kills the store's master, keeps querying both gateways while the store fails
// over, then requires caching back within seconds and a write to be read across gateways.
func failover(t *testing.T, ups *upstreams, gws []*gatewayProc, kill func(), waitFailover func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	killed := time.Now()
	kill()
	go func() { done <- waitFailover(ctx) }()
	rounds, calls := 0, 0
	for waiting := true; waiting; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			waiting = false
		default:
			calls += round(t, ups, gws)
			rounds++
		}
	}
	promoted := time.Now()
	t.Logf("failover took %v; meanwhile %d rounds (%d requests) all answered, %d upstream calls",
		promoted.Sub(killed).Round(time.Millisecond), rounds, rounds*len(gws)*len(loadQueries), calls)
	for n := round(t, ups, gws); n != 0; n = round(t, ups, gws) {
		if time.Since(promoted) > 10*time.Second {
			t.Fatalf("warm requests still make %d upstream calls %v after the promotion", n, time.Since(promoted))
		}
	}
	// No upstream call could also be the fallback answering: caching is back when both
	// gateways read the store again.
	for _, g := range gws {
		for !storeAnswers(t, g) {
			if time.Since(promoted) > 10*time.Second {
				t.Fatalf("gateway %s still fails to read the store %v after the promotion", g.Addr(), time.Since(promoted))
			}
			round(t, ups, gws)
		}
	}
	t.Logf("caching back %v after the promotion", time.Since(promoted).Round(time.Millisecond))

	// A write through one gateway, read through the other: never the old value after it.
	var list struct {
		Invitations struct {
			Nodes []struct{ ID, ExpiresAt string }
		}
	}
	gql(t, gws[1], `{ invitations(first: 1, filter: {providers: [REDPANDA]}) { nodes { id expiresAt } } }`, nil, &list)
	inv := list.Invitations.Nodes[0]
	want := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Second).Format(time.RFC3339)
	if inv.ExpiresAt == want {
		t.Fatal("the invitation already expires at the new time")
	}
	var upd struct {
		UpdateInvitation struct{ Invitation struct{ ExpiresAt string } }
	}
	retries := metric(t, gws[0], "invitegw_cache_invalidation_retries_total")
	gql(t, gws[0], `mutation($id: ID!, $at: Time!) { updateInvitation(id: $id, input: {expiresAt: $at}) { invitation { expiresAt } } }`,
		map[string]any{"id": inv.ID, "at": want}, &upd)
	if upd.UpdateInvitation.Invitation.ExpiresAt != want {
		t.Fatalf("update answered expiresAt %s, want %s", upd.UpdateInvitation.Invitation.ExpiresAt, want)
	}
	read := func(g *gatewayProc) string {
		var got struct{ Invitation struct{ ExpiresAt string } }
		gql(t, g, `query($id: ID!) { invitation(id: $id) { expiresAt } }`, map[string]any{"id": inv.ID}, &got)
		gql(t, g, `{ invitations(first: 1, filter: {providers: [REDPANDA]}) { nodes { id expiresAt } } }`, nil, &list)
		return got.Invitation.ExpiresAt
	}
	// A mutation answers once its invalidation has landed, or once the first attempt failed
	// (cache.Invalidate), and right after a promotion a gateway's client may still send the
	// dead master's slots to it (an answered read of other slots is what /readyz reports).
	// Then the old value may be read until a retry lands it, moments later; otherwise never.
	if metric(t, gws[0], "invitegw_cache_invalidation_retries_total") > retries {
		wrote := time.Now()
		for _, g := range gws {
			for read(g) != want {
				if time.Since(wrote) > 5*time.Second {
					t.Fatalf("%s still reads the old value %v after the write", g.Addr(), time.Since(wrote))
				}
			}
		}
		t.Logf("the invalidation's first attempt failed; the new value was read %v after the write", time.Since(wrote).Round(time.Millisecond))
	}
	for i := range 5 {
		for _, g := range []*gatewayProc{gws[1], gws[0]} {
			if got := read(g); got != want {
				t.Fatalf("read %d through %s: expiresAt %s, want %s (the old value after the write)", i, g.Addr(), got, want)
			}
		}
	}
}

// metric is the value of the unlabelled metric name on g's /metrics.
func metric(t *testing.T, g *gatewayProc, name string) float64 {
	t.Helper()
	resp, err := http.Get(g.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %q", name, line)
			}
			return f
		}
	}
	t.Fatalf("%s has no metric %s", g.Addr(), name)
	return 0
}

// gql runs a query against g directly and decodes its data into v; any error fails the test.
func gql(t *testing.T, g *gatewayProc, query string, vars map[string]any, v any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	resp, err := http.Post(g.URL()+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var r struct {
		Data   json.RawMessage
		Errors json.RawMessage
	}
	if err := json.Unmarshal(b, &r); err != nil || r.Errors != nil || resp.StatusCode != 200 {
		t.Fatalf("%s: %d %s", g.Addr(), resp.StatusCode, b)
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatal(err)
	}
}

// findKey returns the one key on the cluster's masters that matches pattern.
func findKey(t *testing.T, cl *redistest.Cluster, pattern string) string {
	t.Helper()
	var keys []string
	ctx := context.Background()
	for _, n := range cl.Nodes() {
		keys = append(keys, nodeClient(t, n.Addr()).Keys(ctx, pattern).Val()...)
	}
	// Each key is on its master and its replica.
	if len(keys) != 2 || keys[0] != keys[1] {
		t.Fatalf("keys matching %s: %v, want one (on a master and its replica)", pattern, keys)
	}
	return keys[0]
}

// waitReplicated waits until the masters' writes so far have reached a replica (WAIT), so
// that the promoted replica holds what its master held.
func waitReplicated(t *testing.T, addrs []string) {
	t.Helper()
	for _, a := range addrs {
		_ = nodeClient(t, a).Do(context.Background(), "WAIT", 1, 2000).Err() // a replica refuses WAIT: nothing to wait for
	}
}

// storeAnswers reports whether g's /readyz says its cache store answers (cache.failing false).
func storeAnswers(t *testing.T, g *gatewayProc) bool {
	t.Helper()
	resp, err := http.Get(g.URL() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Cache struct{ Failing bool }
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return !r.Cache.Failing
}
