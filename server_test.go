package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invitegw/invitegw/cache/redistest"
	"github.com/invitegw/invitegw/demo"
)

// TestDemoAnswersAQuery runs the real entry point with -demo, as a user would, and asks it for
// the whole sample data set, with the Frontier fake on each protocol.
func TestDemoAnswersAQuery(t *testing.T) {
	for _, protocol := range []string{"rest", "connect"} {
		t.Run(protocol, func(t *testing.T) { testDemo(t, protocol) })
	}
}

// startDemo runs the entry point with -demo and env until the test ends; it returns the
// listening address and what was printed.
func startDemo(t *testing.T, env map[string]string) (string, *bytes.Buffer) {
	return startDemoHooks(t, env, hooks{})
}

// startDemoHooks is startDemo with h's hooks (its ready hook is startDemo's own).
func startDemoHooks(t *testing.T, env map[string]string, h hooks) (string, *bytes.Buffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	h.ready = ready
	done := make(chan error, 1)
	var stdout bytes.Buffer
	go func() {
		done <- run(ctx, []string{"-demo", "-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, &stdout, io.Discard, h)
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("run returned early: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return addr, &stdout
}

func testDemo(t *testing.T, protocol string) {
	addr, stdout := startDemo(t, map[string]string{"INVITEGW_DEMO_FRONTIER_PROTOCOL": protocol})

	body := `{"query":"{ invitations(first: 100) { totalCount nodes { provider status organization { name } } } organizations { id } }"}`
	resp, err := http.Post("http://"+addr+"/graphql", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Data struct {
			Invitations struct {
				TotalCount int
				Nodes      []struct {
					Provider, Status string
					Organization     struct{ Name string }
				}
			}
			Organizations []struct{ ID string }
		}
		Errors []any
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	if len(r.Errors) > 0 {
		t.Fatalf("errors: %v", r.Errors)
	}
	// 60 Redpanda + 3x15 Elastic + 2x20 Frontier, plus 6 for demo.People.
	if r.Data.Invitations.TotalCount != 151 || len(r.Data.Organizations) != 6 {
		t.Fatalf("totalCount = %d, organizations = %d; want 151 and 6", r.Data.Invitations.TotalCount, len(r.Data.Organizations))
	}
	seen := map[string]bool{}
	for _, n := range r.Data.Invitations.Nodes {
		seen[n.Provider] = true
		seen[n.Status] = true
		if n.Organization.Name == "" {
			t.Fatalf("invitation without organization name: %+v", n)
		}
	}
	for _, want := range []string{"REDPANDA", "ELASTIC", "FRONTIER", "PENDING", "EXPIRED"} {
		if !seen[want] {
			t.Errorf("the first page of the demo has no %s invitation", want)
		}
	}
	if !strings.Contains(stdout.String(), "Frontier ("+protocol+")") || !strings.Contains(stdout.String(), "GraphiQL:  http://127.0.0.1:") {
		t.Errorf("the GraphiQL URL is not printed: %q", stdout.String())
	}
}

func TestNoProviderExplainsHowToStart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := run(ctx, nil, func(string) string { return "" }, io.Discard, io.Discard, hooks{})
	if err == nil || !strings.Contains(err.Error(), "-demo") || !strings.Contains(err.Error(), "INVITEGW_ELASTIC_API_KEY") {
		t.Fatalf("err = %v, want a hint at configuration and -demo", err)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestMetricsAndReadiness(t *testing.T) {
	redisSrv := redistest.Start(t)
	addr, _ := startDemo(t, map[string]string{"INVITEGW_REDIS_URL": redisSrv.URL()})
	base := "http://" + addr

	// The second is answered from the response cache: counted as an operation, no upstream call.
	for range 2 {
		status, body := post(t, base+"/graphql", `{"query":"query Everything { invitations(first: 100) { totalCount } }"}`)
		if status != 200 || body != `{"data":{"invitations":{"totalCount":151}}}` {
			t.Fatalf("query: %d %s", status, body)
		}
	}

	status, body := get(t, base+"/metrics")
	if status != 200 {
		t.Fatalf("/metrics: %d", status)
	}
	for _, want := range []string{
		// 62 Redpanda invites in pages of 25; 3 Elastic and 2 Frontier organizations.
		`invitegw_upstream_requests_total{operation="ListUserInvites",provider="redpanda",status="200"} 3`,
		`invitegw_upstream_requests_total{operation="ListInvitations",provider="elastic",status="200"} 3`,
		`invitegw_upstream_requests_total{operation="ListOrganizationInvitations",provider="frontier",status="200"} 2`,
		`invitegw_graphql_requests_total{operation="Everything",outcome="ok"} 2`,
		`invitegw_response_cache_hits_total 1`,
		`invitegw_cache_misses_total 6`,
		`invitegw_response_cache_misses_total 1`,
		`invitegw_dataloader_batch_size_count{loader="invitations"} 1`,
		`invitegw_build_info{goversion="` + runtime.Version() + `",`,
		`invitegw_audit_store_errors_total 0`,
		`invitegw_audit_pending 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
			for _, l := range strings.Split(body, "\n") {
				if strings.HasPrefix(l, strings.SplitN(want, "{", 2)[0]) {
					t.Log(l)
				}
			}
		}
	}

	status, body = get(t, base+"/readyz")
	if status != 200 || !strings.Contains(body, `"cache":{"failing":false,"ok":true,"store":"redis"}`) || !strings.Contains(body, `"ready":true`) {
		t.Fatalf("/readyz with Redis up: %d %s", status, body)
	}
	// Every replica shares the Redis: its outage must not take them all out of a load
	// balancer. It is reported, and the instance stays ready (the cache fails open).
	redisSrv.Stop()
	status, body = get(t, base+"/readyz")
	if status != http.StatusOK || !strings.Contains(body, `"ready":true`) || !strings.Contains(body, `"cache":{"failing":false,"ok":false,"store":"redis"}`) ||
		!strings.Contains(body, `"REDPANDA":{"breaker":"closed","configured":true}`) {
		t.Fatalf("/readyz with Redis down: %d %s", status, body)
	}
	if status, _ := get(t, base+"/healthz"); status != 200 {
		t.Fatalf("/healthz with Redis down: %d", status)
	}
}

// TestCacheOffAndPprof: with INVITEGW_CACHE=off every query goes to the upstreams again, and
// -pprof-addr serves the profiler on its own address only.
func TestCacheOffAndPprof(t *testing.T) {
	pprofReady := make(chan string, 1)
	var ups *demo.Upstreams
	addr, _ := startDemoHooks(t, map[string]string{"INVITEGW_CACHE": "off", "INVITEGW_PPROF_ADDR": "127.0.0.1:0"},
		hooks{pprofReady: pprofReady, demoStarted: func(u *demo.Upstreams) { ups = u }})
	pprofAddr := <-pprofReady

	for range 2 {
		status, body := post(t, "http://"+addr+"/graphql", `{"query":"{ invitations(first: 1) { totalCount } }"}`)
		if status != 200 || body != `{"data":{"invitations":{"totalCount":151}}}` {
			t.Fatalf("query: %d %s", status, body)
		}
	}
	// Each query: 3 Redpanda pages, 3 Elastic and 2 Frontier organizations; nothing cached.
	for name, got := range map[string]int{
		"redpanda": ups.Redpanda.TotalCalls(), "elastic": ups.Elastic.TotalCalls(), "frontier": ups.Frontier.TotalCalls(),
	} {
		want := map[string]int{"redpanda": 6, "elastic": 6, "frontier": 4}[name]
		if got != want {
			t.Errorf("%s calls after two queries = %d, want %d", name, got, want)
		}
	}

	if status, body := get(t, "http://"+pprofAddr+"/debug/pprof/"); status != 200 || !strings.Contains(body, "goroutine") {
		t.Fatalf("pprof index: %d %.100s", status, body)
	}
	if status, _ := get(t, "http://"+addr+"/debug/pprof/"); status != http.StatusNotFound {
		t.Fatalf("/debug/pprof/ on the API address: %d, want 404", status)
	}
}

// TestTracingExportsSpans turns tracing on as an operator would (OTEL_EXPORTER_OTLP_ENDPOINT)
// against a collector that keeps what it is sent: the caller's trace continues into the
// operation span and the upstream calls' spans.
func TestTracingExportsSpans(t *testing.T) {
	var (
		mu     sync.Mutex
		bodies []byte
	)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, b...)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	// Registered before the gateway starts, so it runs after the gateway stopped and flushed.
	t.Cleanup(func() {
		defer collector.Close()
		mu.Lock()
		defer mu.Unlock()
		id, _ := hex.DecodeString(traceID) // OTLP protobuf carries the ID as 16 raw bytes
		for _, want := range [][]byte{[]byte("graphql query Pending"), []byte("upstream GET 127.0.0.1:"), id} {
			if !bytes.Contains(bodies, want) {
				t.Errorf("the collector got no %q in %d bytes of spans", want, len(bodies))
			}
		}
	})
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL) // read by the OTLP exporter itself
	t.Setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "none")
	addr, _ := startDemo(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL})

	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/graphql",
		strings.NewReader(`{"query":"query Pending { invitations(first: 1) { totalCount } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != `{"data":{"invitations":{"totalCount":151}}}` {
		t.Fatalf("query: %d %s", resp.StatusCode, b)
	}
}

// TestShutdownFinishesInFlightRequest stops the server (as SIGTERM does) while a query waits on
// a slow upstream: the query still gets its full answer, then run returns cleanly.
func TestShutdownFinishesInFlightRequest(t *testing.T) {
	arrived := make(chan struct{})
	var once sync.Once
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	h := hooks{ready: ready, demoStarted: func(ups *demo.Upstreams) {
		ups.Elastic.OnRequest(func(string, *http.Request) { once.Do(func() { close(arrived) }) })
	}}
	env := map[string]string{"INVITEGW_DEMO_LATENCY": "300ms"}
	go func() {
		done <- run(ctx, []string{"-demo", "-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, io.Discard, io.Discard, h)
	}()
	addr := <-ready

	type answer struct {
		status int
		body   string
		err    error
	}
	answers := make(chan answer, 1)
	go func() {
		resp, err := http.Post("http://"+addr+"/graphql", "application/json", strings.NewReader(`{"query":"{ invitations { totalCount } }"}`))
		if err != nil {
			answers <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		answers <- answer{resp.StatusCode, string(b), err}
	}()
	<-arrived // the query is waiting on the (slow) Elastic fake
	cancel()
	a := <-answers
	if a.err != nil || a.status != 200 || a.body != `{"data":{"invitations":{"totalCount":151}}}` {
		t.Fatalf("in-flight request during shutdown: %d %q %v", a.status, a.body, a.err)
	}
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Fatal("still accepting connections after shutdown")
	}
}

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestDrainOnShutdown: once asked to stop, the instance says it is not ready, keeps serving
// (closing each connection after its answer) for the drain, finishes what is in flight, and
// returns without an error.
func TestDrainOnShutdown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	env := map[string]string{"INVITEGW_SHUTDOWN_DRAIN": "1s", "INVITEGW_DEMO_LATENCY": "200ms", "INVITEGW_CACHE": "off"}
	go func() {
		done <- run(ctx, []string{"-demo", "-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, io.Discard, io.Discard, hooks{ready: ready})
	}()
	base := "http://" + <-ready
	if status, body := get(t, base+"/readyz"); status != 200 || !strings.Contains(body, `"draining":false`) {
		t.Fatalf("/readyz before: %d %s", status, body)
	}

	// A query in flight when the signal comes (each upstream answer takes 200 ms).
	inflight := make(chan int, 1)
	go func() {
		resp, err := http.Post(base+"/graphql", "application/json", strings.NewReader(`{"query":"{ invitations(first: 1) { totalCount } }"}`))
		if err != nil {
			inflight <- 0
			return
		}
		resp.Body.Close()
		inflight <- resp.StatusCode
	}()
	time.Sleep(50 * time.Millisecond) // let it reach the upstreams; a later start is fine too
	cancel()

	deadline := time.Now().Add(900 * time.Millisecond)
	for {
		status, body := get(t, base+"/readyz")
		if status == http.StatusServiceUnavailable {
			if !strings.Contains(body, `"draining":true`) || !strings.Contains(body, `"ready":false`) {
				t.Fatalf("/readyz while draining: %s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("/readyz did not turn 503 within the drain")
		}
	}
	// Still serving during the drain, each answer closing its connection.
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatalf("not serving during the drain: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !resp.Close {
		t.Fatalf("during the drain: status %d, Connection: close %v", resp.StatusCode, resp.Close)
	}
	if status := <-inflight; status != 200 {
		t.Fatalf("the request in flight got %d", status)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after the drain")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("still accepting after shutdown")
	}
}

// TestQueryLimitsFromTheEnvironment: INVITEGW_MAX_QUERY_FIELDS reaches the gateway.
func TestQueryLimitsFromTheEnvironment(t *testing.T) {
	addr, _ := startDemo(t, map[string]string{"INVITEGW_MAX_QUERY_FIELDS": "100"})
	var fields strings.Builder
	for i := range 101 {
		fmt.Fprintf(&fields, "f%d: __typename ", i)
	}
	body, _ := json.Marshal(map[string]string{"query": "{ " + fields.String() + "}"})
	status, answer := post(t, "http://"+addr+"/graphql", string(body))
	if status != 200 || !strings.Contains(answer, `"reason":"MAX_FIELDS"`) || !strings.Contains(answer, "more than the limit of 100") {
		t.Fatalf("101 fields with a limit of 100: %d %s", status, answer)
	}
}

func TestVersionAndHelp(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-version"}, func(string) string { return "" }, &out, io.Discard, hooks{}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "invitegw ") || !strings.Contains(out.String(), ", revision ") ||
		!strings.HasSuffix(out.String(), runtime.Version()+"\n") {
		t.Fatalf("-version printed %q", out.String())
	}
	var usage bytes.Buffer
	err := run(context.Background(), []string{"-h"}, func(string) string { return "" }, io.Discard, &usage, hooks{})
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(usage.String(), "-demo") {
		t.Fatalf("-h: err %v, usage %q; want flag.ErrHelp (main exits 0) and the usage", err, usage.String())
	}
}

// TestDemoKeepsConfiguredTimeouts: -demo replaces where the providers are, not how long the
// gateway waits for them.
func TestDemoKeepsConfiguredTimeouts(t *testing.T) {
	addr, _ := startDemo(t, map[string]string{"INVITEGW_ELASTIC_TIMEOUT": "100ms", "INVITEGW_DEMO_LATENCY": "400ms", "INVITEGW_CACHE": "off"})
	status, body := post(t, "http://"+addr+"/graphql", `{"query":"{ invitations(filter: {providers: [ELASTIC]}) { totalCount } }"}`)
	if status != 200 || !strings.Contains(body, `"code":"UPSTREAM_TIMEOUT"`) || !strings.Contains(body, `"provider":"ELASTIC"`) {
		t.Fatalf("Elastic answering after 400 ms with a 100 ms timeout: %d %s", status, body)
	}
}

// TestBudgetFromTheEnvironment: -demo has no budgets unless one is set; one set refuses the
// calls past it, at once, and /metrics counts them.
func TestBudgetFromTheEnvironment(t *testing.T) {
	addr, _ := startDemo(t, map[string]string{"INVITEGW_ELASTIC_RATE": "0.01", "INVITEGW_ELASTIC_BURST": "3", "INVITEGW_CACHE": "off"})
	base := "http://" + addr
	query := `{"query":"{ invitations(filter: {providers: [ELASTIC]}) { totalCount } }"}`
	// The demo's three Elastic organizations: a list each, within the burst of 3.
	if status, body := post(t, base+"/graphql", query); status != 200 || strings.Contains(body, `"errors"`) {
		t.Fatalf("first query: %d %s", status, body)
	}
	status, body := post(t, base+"/graphql", query)
	if status != 200 || !strings.Contains(body, `"extensions":{"code":"UPSTREAM_RATE_LIMITED","provider":"ELASTIC"}`) {
		t.Fatalf("second query, past the budget: %d %s", status, body)
	}
	_, metrics := get(t, base+"/metrics")
	for _, want := range []string{
		`invitegw_upstream_throttled_total{provider="elastic",reason="budget"} 3`,
		`invitegw_upstream_throttled_total{provider="elastic",reason="held"} 0`,
		`invitegw_upstream_rate_limit_holds_total{provider="elastic"} 0`,
		`invitegw_rate_limiter_redis_errors_total{provider="elastic"} 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(metrics, `invitegw_upstream_throttled_total{provider="redpanda"`) {
		t.Error("-demo has a Redpanda budget although none was set")
	}
}

// TestAuditTrailInRedis: with Redis configured the audit trail is its stream, so every
// replica and the next start read it; a refused mutation is an event too.
func TestAuditTrailInRedis(t *testing.T) {
	redisSrv := redistest.Start(t)
	const key = "reader-0123456789abcdef"
	addr, _ := startDemo(t, map[string]string{"INVITEGW_REDIS_URL": redisSrv.URL(), "INVITEGW_API_KEYS": "ci " + key + " invitations:read"})
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/graphql", strings.NewReader(
		`{"query":"mutation { updateInvitation(id: \"redpanda:x\", input: {}) { invitation { id } } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"code":"FORBIDDEN"`) {
		t.Fatalf("a reader's mutation: %s", b)
	}
	entries, err := redisSrv.Client().XRange(context.Background(), "invitegw:v1:audit", "-", "+").Result()
	if err != nil || len(entries) != 1 {
		t.Fatalf("audit stream: %v, %v", entries, err)
	}
	if e := fmt.Sprint(entries[0].Values); !strings.Contains(e, `"subject":"ci"`) || !strings.Contains(e, `"outcome":"FORBIDDEN"`) || strings.Contains(e, key) {
		t.Fatalf("audit entry %s", e)
	}
}
