package tracing

import (
	"context"
	"net/http"
	"testing"

	"go.opentelemetry.io/otel/trace/noop"
)

func TestDisabledTracingLeavesTransportsAlone(t *testing.T) {
	tr, err := Setup(context.Background(), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	base := &http.Transport{}
	if tr.Enabled() || tr.Transport(base) != http.RoundTripper(base) {
		t.Fatalf("without an OTLP endpoint: Enabled() = %v, transport wrapped = %v", tr.Enabled(), tr.Transport(base) != http.RoundTripper(base))
	}
	if on := New(noop.NewTracerProvider(), nil); !on.Enabled() || on.Transport(base) == http.RoundTripper(base) {
		t.Fatal("a Tracing built with New must trace upstream calls")
	}
}
