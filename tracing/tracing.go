// Package tracing is invitegw's OpenTelemetry tracing: a span per GraphQL operation, a client
// span per upstream HTTP call, and W3C trace context propagated to the upstreams.
//
// It is off unless OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set;
// then spans go over OTLP/HTTP, configured by the standard OTEL_* variables.
package tracing

import (
	"context"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Tracing holds the tracer provider and propagator; build it with Setup or New.
type Tracing struct {
	provider   trace.TracerProvider
	propagator propagation.TextMapPropagator
	tracer     trace.Tracer
	shutdown   func(context.Context) error
	enabled    bool
}

// Setup enables OTLP export when the environment asks for it, and returns a disabled Tracing
// (see Enabled) otherwise.
func Setup(ctx context.Context, getenv func(string) string) (*Tracing, error) {
	if getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		t := New(noop.NewTracerProvider(), nil)
		t.enabled = false
		return t, nil
	}
	exp, err := otlptracehttp.New(ctx) // reads the OTEL_EXPORTER_OTLP_* variables itself
	if err != nil {
		return nil, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
	return New(tp, tp.Shutdown), nil
}

// New wraps a provider (tests pass one that records spans). shutdown, if non-nil, flushes it.
func New(tp trace.TracerProvider, shutdown func(context.Context) error) *Tracing {
	if shutdown == nil {
		shutdown = func(context.Context) error { return nil }
	}
	return &Tracing{
		provider:   tp,
		propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
		tracer:     tp.Tracer("github.com/invitegw/invitegw"),
		shutdown:   shutdown,
		enabled:    true,
	}
}

// Enabled reports whether spans go anywhere. A disabled Tracing leaves transports as they are
// and should not be given to the gateway: no spans, no propagation, no cost.
func (t *Tracing) Enabled() bool { return t.enabled }

// Shutdown flushes pending spans.
func (t *Tracing) Shutdown(ctx context.Context) error { return t.shutdown(ctx) }

// Transport instruments an upstream HTTP transport: a client span per call, and the W3C
// traceparent header on the request. Disabled, it returns base: otelhttp clones every request
// and builds metric attributes even for a no-op provider.
func (t *Tracing) Transport(base http.RoundTripper) http.RoundTripper {
	if !t.enabled {
		return base
	}
	return otelhttp.NewTransport(base,
		otelhttp.WithTracerProvider(t.provider),
		otelhttp.WithPropagators(t.propagator),
		// The span name says which API, never the path (it holds organization IDs).
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return "upstream " + r.Method + " " + r.URL.Host }),
	)
}

// Middleware continues a trace the caller started (traceparent on the incoming request).
func (t *Tracing) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := t.propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// GraphQL is the gqlgen extension that wraps each operation in a span.
func (t *Tracing) GraphQL() graphql.HandlerExtension { return operationTracer{t.tracer} }

type operationTracer struct{ tracer trace.Tracer }

var (
	_ graphql.HandlerExtension     = operationTracer{}
	_ graphql.OperationInterceptor = operationTracer{}
)

func (operationTracer) ExtensionName() string                   { return "Tracing" }
func (operationTracer) Validate(graphql.ExecutableSchema) error { return nil }

func (o operationTracer) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	name, kind := "anonymous", "query"
	if oc.Operation != nil {
		kind = string(oc.Operation.Operation)
		if oc.Operation.Name != "" {
			name = oc.Operation.Name
		}
	}
	ctx, span := o.tracer.Start(ctx, "graphql "+kind+" "+name, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("graphql.operation.name", name), attribute.String("graphql.operation.type", kind)))
	handler := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		resp := handler(ctx)
		if resp != nil && len(resp.Errors) > 0 {
			span.SetStatus(codes.Error, resp.Errors[0].Message)
			span.SetAttributes(attribute.Int("graphql.errors", len(resp.Errors)))
		}
		span.End()
		return resp
	}
}
