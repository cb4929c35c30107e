package gateway_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/invitegw/invitegw/tracing"
)

func TestTracesSpanOperationsAndReachUpstreams(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	e := newEnv(t, envOptions{tracing: tracing.New(tp, tp.Shutdown)})
	e.seed()
	var (
		mu           sync.Mutex
		traceparents []string
	)
	e.ec.OnRequest(func(_ string, r *http.Request) {
		mu.Lock()
		traceparents = append(traceparents, r.Header.Get("traceparent"))
		mu.Unlock()
	})

	// The caller started a trace: invitegw continues it.
	const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	resp, body := do(t, http.MethodPost, e.gw.URL+"/graphql", map[string]string{
		"Content-Type": "application/json",
		"traceparent":  "00-" + callerTrace + "-00f067aa0ba902b7-01",
	}, `{"query":"query ElasticOnly { invitations(filter: {providers: [ELASTIC]}) { totalCount } }"}`)
	if resp.StatusCode != 200 || !strings.Contains(body, `"totalCount":3`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}

	var op sdktrace.ReadOnlySpan
	var upstreams []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		switch {
		case s.Name() == "graphql query ElasticOnly":
			op = s
		case strings.HasPrefix(s.Name(), "upstream GET "):
			upstreams = append(upstreams, s)
		}
	}
	if op == nil || op.SpanContext().TraceID().String() != callerTrace {
		t.Fatalf("operation span missing or not in the caller's trace: %v", op)
	}
	if len(upstreams) != 1 || upstreams[0].Parent().SpanID() != op.SpanContext().SpanID() {
		t.Fatalf("want one upstream span under the operation span, got %d", len(upstreams))
	}
	mu.Lock()
	defer mu.Unlock()
	want := "00-" + callerTrace + "-" + upstreams[0].SpanContext().SpanID().String() + "-01"
	if len(traceparents) != 1 || traceparents[0] != want {
		t.Fatalf("traceparent sent to Elastic = %q, want %q", traceparents, want)
	}
	for _, s := range append(upstreams, op) {
		for _, a := range s.Attributes() {
			assertNoSecrets(t, "span attribute "+string(a.Key), a.Value.Emit())
		}
	}
}
