// Package metrics is invitegw's Prometheus instrumentation: GraphQL operations, upstream calls,
// the cache, circuit breakers, call budgets and dataloader batches, on a registry of its own (no global
// state), served at /metrics.
//
// Label values never carry request data: operation names are kept only when they look like
// names and only for the first 200 seen, provider and upstream operation names are ours, and
// no credential, token, email or ID ever becomes a label.
package metrics

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/invitegw/invitegw/audit"
	"github.com/invitegw/invitegw/cache"
	"github.com/invitegw/invitegw/ratelimit"
)

// Metrics holds the collectors.
type Metrics struct {
	registry *prometheus.Registry

	requests         *prometheus.CounterVec
	requestDuration  *prometheus.HistogramVec
	upstreamCalls    *prometheus.CounterVec
	upstreamDuration *prometheus.HistogramVec
	batchSize        *prometheus.HistogramVec

	opsMu sync.Mutex
	ops   map[string]bool
}

// maxOperationNames bounds the operation label's values: clients choose operation names.
const maxOperationNames = 200

// New registers invitegw's collectors (and the Go and process collectors) on a new registry.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		ops:      map[string]bool{},
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "invitegw_graphql_requests_total",
			Help: "GraphQL operations by operation name and outcome (ok, error: the response carries errors, rejected: refused before execution).",
		}, []string{"operation", "outcome"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "invitegw_graphql_request_duration_seconds",
			Help:    "Time to answer a GraphQL operation.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"operation"}),
		upstreamCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "invitegw_upstream_requests_total",
			Help: "Upstream API calls by provider, operation and HTTP status (0: no response).",
		}, []string{"provider", "operation", "status"}),
		upstreamDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "invitegw_upstream_request_duration_seconds",
			Help:    "Upstream API call latency, retries included.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"provider", "operation"}),
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "invitegw_dataloader_batch_size",
			Help:    "Keys per dataloader batch.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 100},
		}, []string{"loader"}),
	}
	m.registry.MustRegister(m.requests, m.requestDuration, m.upstreamCalls, m.upstreamDuration, m.batchSize,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// Registry is the registry, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// ObserveUpstream records one upstream call; it is an upstream.Policy's Observe.
func (m *Metrics) ObserveUpstream(provider, op string, status int, _ error, d time.Duration) {
	m.upstreamCalls.WithLabelValues(provider, op, strconv.Itoa(status)).Inc()
	m.upstreamDuration.WithLabelValues(provider, op).Observe(d.Seconds())
}

// ObserveBatch records one dataloader batch.
func (m *Metrics) ObserveBatch(loader string, keys int) {
	m.batchSize.WithLabelValues(loader).Observe(float64(keys))
}

// RegisterCache exports a cache's counters.
func (m *Metrics) RegisterCache(c *cache.Cache) {
	for _, f := range []struct {
		name, help string
		value      func(cache.Stats) int64
	}{
		{"invitegw_cache_hits_total", "Cache reads answered from the cache.", func(s cache.Stats) int64 { return s.Hits }},
		{"invitegw_cache_misses_total", "Cache reads that went to the upstream.", func(s cache.Stats) int64 { return s.Misses }},
		{"invitegw_cache_stale_total", "Expired copies served because the upstream failed.", func(s cache.Stats) int64 { return s.Stale }},
		{"invitegw_cache_store_errors_total", "Failed calls to the cache store (Redis).", func(s cache.Stats) int64 { return s.StoreErrors }},
		{"invitegw_cache_fallback_reads_total", "Keys read from the in-process fallback while the store failed.",
			func(s cache.Stats) int64 { return s.FallbackReads }},
		{"invitegw_cache_invalidation_retries_total", "Invalidations after a write that the store did not take at once.",
			func(s cache.Stats) int64 { return s.InvalidationRetries }},
		{"invitegw_cache_invalidations_lost_total", "Invalidations given up: other instances may serve data from before a write until it expires.",
			func(s cache.Stats) int64 { return s.InvalidationsLost }},
		{"invitegw_cache_revalidating_total", "Cache hits answered with an expired copy while it was refreshed in the background (stale-while-revalidate).",
			func(s cache.Stats) int64 { return s.Revalidating }},
		{"invitegw_cache_revalidations_total", "Background refreshes that called the upstream.",
			func(s cache.Stats) int64 { return s.Revalidations }},
		{"invitegw_cache_revalidations_locked_total", "Background refreshes left to another instance holding the key's lock.",
			func(s cache.Stats) int64 { return s.RevalidationsLocked }},
		{"invitegw_cache_revalidation_errors_total", "Background refreshes whose upstream call failed; the expired copy stayed the answer.",
			func(s cache.Stats) int64 { return s.RevalidationErrors }},
	} {
		value := f.value
		m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: f.name, Help: f.help},
			func() float64 { return float64(value(c.Stats())) }))
	}
	m.registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "invitegw_cache_store_failing",
			Help: "1 from a failed cache store call to the next read the store answers in full, else 0."},
			func() float64 {
				if c.Stats().StoreFailing {
					return 1
				}
				return 0
			}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "invitegw_response_cache_hits_total",
			Help: "Queries answered with a kept whole response."},
			func() float64 { return float64(c.ResponseStats().Hits) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "invitegw_response_cache_stale_hits_total",
			Help: "Response cache hits past their freshness, within the stale-while-revalidate window: served while rebuilt."},
			func() float64 { return float64(c.ResponseStats().Stale) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "invitegw_response_cache_misses_total",
			Help: "Cacheable queries that were executed."},
			func() float64 { return float64(c.ResponseStats().Misses) }),
	)
}

// RegisterAudit exports the audit trail's store counters: an event the store did not take is
// in the log already and retried, but a trail that keeps failing needs a look.
func (m *Metrics) RegisterAudit(l *audit.Log) {
	m.registry.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "invitegw_audit_store_errors_total",
			Help: "Failed writes of audit events to their store (each retried)."},
			func() float64 { return float64(l.StoreErrors()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "invitegw_audit_dropped_total",
			Help: "Audit events given up on (queue full, or still pending at exit): in the log only."},
			func() float64 { return float64(l.Dropped()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "invitegw_audit_pending",
			Help: "Audit events waiting to be written to their store."},
			func() float64 { return float64(l.Pending()) }),
	)
}

// RegisterRender exports how many pages of invitations package render wrote itself and how
// many it left to gqlgen (a selection it does not know, or a joined value that failed).
func (m *Metrics) RegisterRender(counts func() (rendered, declined uint64)) {
	for _, o := range []struct {
		outcome string
		value   func() float64
	}{
		{"rendered", func() float64 { r, _ := counts(); return float64(r) }},
		{"declined", func() float64 { _, d := counts(); return float64(d) }},
	} {
		m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "invitegw_render_pages_total",
			Help: "Pages of invitations written by package render, or declined and left to gqlgen.", ConstLabels: prometheus.Labels{"outcome": o.outcome}},
			o.value))
	}
}

// RegisterBuildInfo exports invitegw_build_info{version,revision,goversion} 1, so dashboards
// can tell which build each instance runs.
func (m *Metrics) RegisterBuildInfo(version, revision, goVersion string) {
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "invitegw_build_info",
		Help:        "Always 1; its labels say which build this instance runs.",
		ConstLabels: prometheus.Labels{"version": version, "revision": revision, "goversion": goVersion}},
		func() float64 { return 1 }))
}

// RegisterBreakers exports each provider's circuit breaker state (0 closed, 1 half-open,
// 2 open).
func (m *Metrics) RegisterBreakers(states func() map[string]int) {
	m.registry.MustRegister(&breakerCollector{states: states, desc: prometheus.NewDesc(
		"invitegw_upstream_breaker_state", "Circuit breaker state per provider: 0 closed, 1 half-open, 2 open.",
		[]string{"provider"}, nil)})
}

// RegisterLimiters exports each provider's call budget (package ratelimit): the calls it
// refused, by reason (budget: this gateway's budget was spent; held: the provider had said its
// quota was), the answers that started a hold, and its failed Redis calls.
func (m *Metrics) RegisterLimiters(stats func() map[string]ratelimit.Stats) {
	m.registry.MustRegister(&limiterCollector{stats: stats,
		throttled: prometheus.NewDesc("invitegw_upstream_throttled_total",
			"Upstream calls not made, by provider and reason: budget (this gateway's budget for the provider was spent) or held (the provider had said its quota was).",
			[]string{"provider", "reason"}, nil),
		holds: prometheus.NewDesc("invitegw_upstream_rate_limit_holds_total",
			"Answers by which a provider said its quota was spent (its rate-limit headers, or a 429), holding its calls.",
			[]string{"provider"}, nil),
		redisErrors: prometheus.NewDesc("invitegw_rate_limiter_redis_errors_total",
			"Failed Redis calls of a provider's budget; each instance kept to the budget by itself meanwhile.",
			[]string{"provider"}, nil),
	})
}

type limiterCollector struct {
	stats                         func() map[string]ratelimit.Stats
	throttled, holds, redisErrors *prometheus.Desc
}

func (l *limiterCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- l.throttled
	ch <- l.holds
	ch <- l.redisErrors
}

func (l *limiterCollector) Collect(ch chan<- prometheus.Metric) {
	for p, s := range l.stats() {
		ch <- prometheus.MustNewConstMetric(l.throttled, prometheus.CounterValue, float64(s.Throttled), p, "budget")
		ch <- prometheus.MustNewConstMetric(l.throttled, prometheus.CounterValue, float64(s.Held), p, "held")
		ch <- prometheus.MustNewConstMetric(l.holds, prometheus.CounterValue, float64(s.Holds), p)
		ch <- prometheus.MustNewConstMetric(l.redisErrors, prometheus.CounterValue, float64(s.RedisErrors), p)
	}
}

type breakerCollector struct {
	states func() map[string]int
	desc   *prometheus.Desc
}

func (b *breakerCollector) Describe(ch chan<- *prometheus.Desc) { ch <- b.desc }
func (b *breakerCollector) Collect(ch chan<- prometheus.Metric) {
	for p, s := range b.states() {
		ch <- prometheus.MustNewConstMetric(b.desc, prometheus.GaugeValue, float64(s), p)
	}
}

// GraphQL is the gqlgen extension that records operations.
func (m *Metrics) GraphQL() graphql.HandlerExtension { return graphqlExtension{m} }

type graphqlExtension struct{ m *Metrics }

var (
	_ graphql.ResponseInterceptor = graphqlExtension{}
	_ graphql.HandlerExtension    = graphqlExtension{}
)

func (graphqlExtension) ExtensionName() string                   { return "Metrics" }
func (graphqlExtension) Validate(graphql.ExecutableSchema) error { return nil }

func (g graphqlExtension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	start := time.Now()
	resp := next(ctx)
	op := "unknown"
	if graphql.HasOperationContext(ctx) {
		if oc := graphql.GetOperationContext(ctx); oc.Operation != nil {
			op = g.m.operation(oc.Operation.Name)
		}
	}
	outcome := "ok"
	if resp != nil && len(resp.Errors) > 0 {
		outcome = "error"
		if resp.Data == nil {
			outcome = "rejected"
		}
	}
	g.m.observe(op, outcome, time.Since(start))
	return resp
}

// ObserveOperation records an operation answered outside gqlgen (from the response cache):
// name is the operation's name as written ("" when anonymous), outcome ok, error or rejected.
func (m *Metrics) ObserveOperation(name, outcome string, d time.Duration) {
	m.observe(m.operation(name), outcome, d)
}

func (m *Metrics) observe(op, outcome string, d time.Duration) {
	m.requests.WithLabelValues(op, outcome).Inc()
	m.requestDuration.WithLabelValues(op).Observe(d.Seconds())
}

var namePattern = regexp.MustCompile(`^[_A-Za-z][_0-9A-Za-z]{0,63}$`)

// operation is the label value for an operation name: "anonymous", the name, or "other" once
// maxOperationNames names have been seen or for anything that is not a GraphQL name.
func (m *Metrics) operation(name string) string {
	if name == "" {
		return "anonymous"
	}
	if !namePattern.MatchString(name) {
		return "other"
	}
	m.opsMu.Lock()
	defer m.opsMu.Unlock()
	if !m.ops[name] {
		if len(m.ops) >= maxOperationNames {
			return "other"
		}
		m.ops[name] = true
	}
	return name
}
