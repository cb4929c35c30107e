package deploytest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/invitegw/invitegw/cache/redistest"
)

// TestHarness is the smoke test of the harness itself: two gateway processes sharing a Redis
// Cluster behind HAProxy. HAProxy alternates between them, they answer alike, and what the
// first computed the second serves from the shared cache without calling an upstream. A
// gateway that is sent SIGTERM exits 0 and is taken out of rotation; restarted, it is back.
func TestHarness(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gateway, starts a Redis Cluster, two gateways and HAProxy")
	}
	// Checked and built before anything starts, so that their failures come alone.
	needBinary(t, "haproxy", "haproxy")
	buildGateway(t)
	start := time.Now()
	ups := startUpstreams(t)
	cluster := redistest.StartCluster(t, redistest.ClusterOptions{Masters: 3})
	env := ups.env()
	env["INVITEGW_REDIS_CLUSTER_ADDRS"] = strings.Join(cluster.Addrs(), ",")
	gws := []*gatewayProc{startGateway(t, env), startGateway(t, env)}
	lb := startHAProxy(t, []string{gws[0].Addr(), gws[1].Addr()})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, g := range gws {
		if err := lb.WaitState(ctx, g.Addr(), true); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("upstreams, cluster, 2 gateways and haproxy up in %v", time.Since(start).Round(time.Millisecond))

	const q = `{"query":"{ invitations(first: 3) { totalCount nodes { id } } }"}`
	ups.reset()
	first := query(t, lb.URL(), q)
	if ups.calls() == 0 {
		t.Fatal("the first query made no upstream call")
	}
	if first.servedBy != gws[0].Addr() && first.servedBy != gws[1].Addr() {
		t.Fatalf("X-Served-By %q names neither gateway", first.servedBy)
	}
	t.Logf("first query: %d upstream calls, served by %s", ups.calls(), first.servedBy)
	ups.reset()
	for i := range 3 {
		a := query(t, lb.URL(), q)
		if n := ups.calls(); n != 0 {
			t.Fatalf("query %d (served by %s) made %d upstream calls; the cache is shared", i+2, a.servedBy, n)
		}
		if a.total != first.total || !slices.Equal(a.ids, first.ids) {
			t.Fatalf("query %d: totalCount %d ids %v; the first: %d %v", i+2, a.total, a.ids, first.total, first.ids)
		}
		if want := other(gws, first.servedBy); i == 0 && a.servedBy != want {
			t.Fatalf("the second query was served by %q, want the other gateway %s", a.servedBy, want)
		}
	}

	gws[0].Signal(syscall.SIGTERM)
	stopped := time.Now()
	code, err := gws[0].Wait()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("gateway %s exited %v after SIGTERM with code %d", gws[0].Addr(), time.Since(stopped).Round(time.Millisecond), code)
	if code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0", code)
	}
	if err := lb.WaitState(ctx, gws[0].Addr(), false); err != nil {
		t.Fatal(err)
	}
	if a := query(t, lb.URL(), q); a.servedBy != gws[1].Addr() {
		t.Fatalf("with %s down, served by %q", gws[0].Addr(), a.servedBy)
	}

	gws[0].Restart()
	if err := lb.WaitState(ctx, gws[0].Addr(), true); err != nil {
		t.Fatal(err)
	}
}

// answer is what the harness's query returned.
type answer struct {
	servedBy string // HAProxy's X-Served-By: the gateway's host:port
	total    int
	ids      []string
}

// query POSTs body to baseURL's /graphql and expects a 200 with invitations data and no
// "errors" member.
func query(t testing.TB, baseURL, body string) answer {
	t.Helper()
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Post(baseURL+"/graphql", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST /graphql: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("POST /graphql: reading the body: %v", err)
	}
	a := answer{servedBy: resp.Header.Get("X-Served-By")}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /graphql (served by %q): %d %s", a.servedBy, resp.StatusCode, b)
	}
	var r struct {
		Data *struct {
			Invitations struct {
				TotalCount int
				Nodes      []struct{ ID string }
			}
		}
		Errors json.RawMessage
	}
	if err := json.Unmarshal(b, &r); err != nil || r.Data == nil || r.Errors != nil {
		t.Fatalf("POST /graphql (served by %q): want data and no errors, got %s (%v)", a.servedBy, b, err)
	}
	a.total = r.Data.Invitations.TotalCount
	for _, n := range r.Data.Invitations.Nodes {
		a.ids = append(a.ids, n.ID)
	}
	if a.total != demoInvitations || len(a.ids) != 3 {
		t.Fatalf("POST /graphql (served by %q): totalCount %d with %d nodes, want %d with 3", a.servedBy, a.total, len(a.ids), demoInvitations)
	}
	return a
}

// other is the address of the gateway that is not addr.
func other(gws []*gatewayProc, addr string) string {
	for _, g := range gws {
		if g.Addr() != addr {
			return g.Addr()
		}
	}
	return ""
}
