// Package gateway assembles invitegw's HTTP handler: the GraphQL endpoint (gqlgen with explicit
// transports, a query cache, limits and our error presenter), per-request loaders, request IDs
// with an access log, and the GraphiQL page.
package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/rs/cors"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/invitegw/invitegw/audit"
	"github.com/invitegw/invitegw/auth"
	"github.com/invitegw/invitegw/authz"
	"github.com/invitegw/invitegw/graph"
	"github.com/invitegw/invitegw/graphiql"
	"github.com/invitegw/invitegw/idempotency"
	"github.com/invitegw/invitegw/lifecycle"
	"github.com/invitegw/invitegw/loaders"
	"github.com/invitegw/invitegw/metrics"
	"github.com/invitegw/invitegw/providers"
	"github.com/invitegw/invitegw/render"
	"github.com/invitegw/invitegw/resolvers"
	"github.com/invitegw/invitegw/tracing"
)

// Options configure the handler. Providers and RequestTimeout are required; the rest have
// defaults of the gateway's own (none of them is a setting of config).
type Options struct {
	Providers *providers.Set
	Logger    *slog.Logger
	// Now is the clock statuses are derived with. Default time.Now.
	Now func() time.Time
	// Introspection enables schema introspection (GraphiQL needs it). Federation's
	// `_service { sdl }` answers either way (see federationSDL).
	Introspection bool
	// GraphiQL serves the GraphiQL IDE at / (package graphiql: offline, from the binary).
	GraphiQL bool
	// Loaders tunes the dataloaders. Default loaders.DefaultOptions.
	Loaders *loaders.Options
	// MaxBodyBytes bounds a GraphQL request body. Default 1 MiB.
	MaxBodyBytes int64
	// Limits bound query depth, aliases and cost. Zero fields take DefaultLimits.
	Limits Limits
	// APQ stores automatic persisted queries; nil disables them.
	APQ graphql.Cache[string]
	// Auth identifies callers of /graphql (JWTs, API keys). Nil, or one with nothing
	// configured, leaves the gateway open: every caller is anonymous with every scope.
	Auth *auth.Authenticator
	// Audit records every mutation attempt; AuditStore is where auditEvents reads them.
	// Both default to an in-memory trail of DefaultAuditEvents.
	Audit      *audit.Log
	AuditStore audit.Store
	// Idempotency keeps the answers of mutations sent with an Idempotency-Key (Redis, shared
	// by the replicas, or memory); nil: the gateway's own in-memory store.
	Idempotency idempotency.Store
	// CORSOrigins may call /graphql from a browser; none by default.
	CORSOrigins []string
	// Metrics, when set, records operations and batches and is served at /metrics.
	Metrics *metrics.Metrics
	// Tracing, when set, spans each operation and continues callers' traces.
	Tracing *tracing.Tracing
	// RequestTimeout bounds a GraphQL request end to end; what has not answered by then is
	// reported as an upstream timeout. Required (config holds the default).
	RequestTimeout time.Duration
	// GQLGenPages turns off package render, which writes pages of invitations straight to
	// JSON: every field then goes through gqlgen's generated code. The answers are the same
	// bytes (TestRenderIsGQLGen); only slower. For comparing the two.
	GQLGenPages bool
	// ResponseCache reuses whole answers to repeated queries while their data stays fresh
	// (see responseCache). It needs Providers.Cache.
	ResponseCache bool
	// Ready reports readiness for /readyz: whether to take traffic, and a JSON-able report.
	// Nil means always ready.
	Ready func(ctx context.Context) (bool, any)
}

// New returns the gateway's HTTP handler:
//
//	POST, GET /graphql  GraphQL over HTTP
//	GET /               GraphiQL (Options.GraphiQL), its assets under /graphiql/
//	GET /healthz        liveness
//	GET /readyz         readiness (Options.Ready)
//	GET /metrics        Prometheus metrics (Options.Metrics)
func New(o Options) (http.Handler, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	loaderOpts := loaders.DefaultOptions
	if o.Loaders != nil {
		loaderOpts = *o.Loaders
	}
	if o.Metrics != nil {
		loaderOpts.ObserveBatch = o.Metrics.ObserveBatch
	}
	if o.RequestTimeout <= 0 {
		return nil, fmt.Errorf("gateway: RequestTimeout must be positive, got %v", o.RequestTimeout)
	}
	if o.Providers == nil {
		return nil, errors.New("gateway: Providers is required")
	}
	if loaderOpts.Views == nil && o.Providers.Cached() {
		// Without a cache every request decodes new lists: a view would never be reused.
		loaderOpts.Views = loaders.NewViews(loaders.DefaultViews, loaders.ViewTTL)
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 1 << 20
	}
	o.Limits = o.Limits.withDefaults()
	if o.Auth == nil {
		open, err := auth.New(context.Background(), auth.Options{Logger: o.Logger})
		if err != nil {
			return nil, err
		}
		o.Auth = open
	}
	if o.AuditStore == nil {
		o.AuditStore = audit.NewMemory(DefaultAuditEvents)
	}
	if o.Audit == nil {
		o.Audit = audit.New(audit.Options{Store: o.AuditStore, Logger: o.Logger, Now: o.Now})
	}
	changes := lifecycle.New(lifecycle.Options{
		Providers: o.Providers, Audit: o.Audit, Now: o.Now, Logger: o.Logger, Actor: actor, RequestID: RequestID,
	})
	schema := graph.NewExecutableSchema(graph.Config{
		Resolvers:  &resolvers.Resolver{Providers: o.Providers, Now: o.Now, Lifecycle: changes, Audit: o.AuditStore},
		Complexity: complexityRoot(len(o.Providers.Sources())),
	})
	scopes, err := authz.New(schema.Schema())
	if err != nil {
		return nil, err
	}
	if err := o.Auth.CheckScopes(scopes.Scopes()); err != nil {
		return nil, err
	}
	// A refused mutation is an attempt too: the audit trail records it.
	scopes.OnForbidden(func(ctx context.Context, fc *graphql.FieldContext, _ authz.Requirement) {
		if fc.Object == "Mutation" {
			changes.Refused(ctx, fc.Field.Name, resolvers.RefusedTargets(fc.Args))
		}
	})
	srv := handler.New(schema)
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})  // queries only: gqlgen refuses mutations over GET
	srv.AddTransport(transport.POST{}) // behind postBody, which has checked the body's parameters
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if o.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(federationSDL{}) // _service { sdl } answers with introspection off too
	srv.Use(entityRepresentations{})
	if !o.GQLGenPages {
		pages := &render.Pages{}
		srv.Use(renderPages{pages: pages})
		if o.Metrics != nil {
			o.Metrics.RegisterRender(pages.Counts)
		}
	}
	srv.Use(scopes.Extension(caller))
	if o.APQ != nil {
		srv.Use(extension.AutomaticPersistedQuery{Cache: o.APQ})
	}
	// After APQ, which may fill in the query; gqlgen's own token limit backs it up.
	srv.Use(newQuerySize(o.Limits))
	srv.SetParserTokenLimit(o.Limits.MaxTokens)
	srv.Use(&queryLimits{limits: o.Limits})
	if o.Metrics != nil {
		srv.Use(o.Metrics.GraphQL())
	}
	if o.Tracing != nil {
		srv.Use(o.Tracing.GraphQL())
	}
	srv.AroundResponses(addWarnings)
	var rc *responseCache
	if o.ResponseCache {
		rc = newResponseCache(schema.Schema(), o.Providers.Responses, o.Metrics, o.Limits.MaxTokens, o.RequestTimeout, o.Logger)
		srv.Use(rc)
	}
	srv.SetErrorPresenter(presenter(o.Logger))
	srv.SetRecoverFunc(recoverPanic(o.Logger))

	if o.Idempotency == nil {
		o.Idempotency = idempotency.NewMemory(o.Now)
	}
	idem, err := idempotency.New(idempotency.Options{
		Store: o.Idempotency, Caller: idempotencyCaller, Logger: o.Logger, RequestID: RequestID,
		// A reservation outlives the longest request it guards.
		InFlightTTL: o.RequestTimeout + 30*time.Second,
		TokenLimit:  o.Limits.MaxTokens,
	})
	if err != nil {
		return nil, err
	}
	var gql http.Handler = loaders.Middleware(o.Providers, loaderOpts, srv)
	if rc != nil {
		gql = rc.middleware(gql)
	}
	gql = checkProtocol(limitBody(o.MaxBodyBytes, postBody(idem.Middleware(overHTTP(withTimeout(o.RequestTimeout, gql))))))
	gql = o.Auth.Middleware(gql)
	if len(o.CORSOrigins) > 0 {
		gql = cors.New(cors.Options{
			AllowedOrigins: o.CORSOrigins,
			AllowedMethods: []string{http.MethodGet, http.MethodPost},
			AllowedHeaders: []string{"Content-Type", "Authorization", "X-API-Key", "X-Request-Id", idempotency.HeaderKey},
			ExposedHeaders: []string{"X-Request-Id", idempotency.HeaderReplayed, "Retry-After"},
			MaxAge:         600,
		}).Handler(gql)
	}
	mux := http.NewServeMux()
	mux.Handle("/graphql", gql)
	if o.GraphiQL {
		mux.Handle("GET /{$}", graphiql.Handler("invitegw", "/graphql", "/graphiql/"))
		mux.Handle("GET /graphiql/", http.StripPrefix("/graphiql/", graphiql.Assets()))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ready, report := true, any(map[string]any{})
		if o.Ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			defer cancel()
			ready, report = o.Ready(ctx)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if !ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(report)
	})
	if o.Metrics != nil {
		mux.Handle("GET /metrics", o.Metrics.Handler())
	}
	var h http.Handler = mux
	if o.Tracing != nil {
		h = o.Tracing.Middleware(h)
	}
	return withRequestID(o.Logger, h), nil
}

// withTimeout gives the request a deadline; loaders and the cache stop waiting for upstreams
// when it passes.
func withTimeout(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// addWarnings puts what the request served stale into the response's extensions.warnings.
func addWarnings(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil {
		return nil
	}
	if w := loaders.For(ctx).Warnings(); len(w) > 0 {
		if resp.Extensions == nil {
			resp.Extensions = map[string]any{}
		}
		resp.Extensions["warnings"] = w
	}
	return resp
}

// operationName is the GraphQL operation being run, for logs.
func operationName(ctx context.Context) string {
	if !graphql.HasOperationContext(ctx) {
		return ""
	}
	if op := graphql.GetOperationContext(ctx).Operation; op != nil {
		return op.Name
	}
	return ""
}
