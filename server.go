// Command invitegw serves one GraphQL API over the invitation APIs of Redpanda Cloud, Elastic
// Cloud and Raystack Frontier.
//
//	go run . -demo      sample upstreams on loopback, GraphiQL at the printed URL
//	go run .            the real upstreams, configured with INVITEGW_* variables (see README)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"

	"github.com/invitegw/invitegw/audit"
	"github.com/invitegw/invitegw/auth"
	"github.com/invitegw/invitegw/cache"
	"github.com/invitegw/invitegw/config"
	"github.com/invitegw/invitegw/demo"
	"github.com/invitegw/invitegw/gateway"
	"github.com/invitegw/invitegw/idempotency"
	"github.com/invitegw/invitegw/internal/gctune"
	"github.com/invitegw/invitegw/invite"
	"github.com/invitegw/invitegw/metrics"
	"github.com/invitegw/invitegw/providers"
	"github.com/invitegw/invitegw/ratelimit"
	"github.com/invitegw/invitegw/tracing"
	"github.com/invitegw/invitegw/upstream"
	"github.com/invitegw/invitegw/upstream/fakeserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second signal stops the process at once, without waiting for the drain
	}()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, hooks{})
	if errors.Is(err, flag.ErrHelp) {
		return // -h: the usage is printed; asking for it is no failure
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "invitegw:", err)
		os.Exit(1)
	}
}

// hooks let tests watch run from outside.
type hooks struct {
	ready       chan<- string             // receives the listening address
	pprofReady  chan<- string             // receives the profiler's address, with -pprof-addr
	demoStarted func(ups *demo.Upstreams) // sees -demo's fakes once they serve
}

// run is main without the process: it returns when ctx ends (after finishing in-flight
// requests, within a deadline) or when serving fails.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, h hooks) error {
	cfg, err := config.Load(args, getenv, stderr)
	if err != nil {
		return err
	}
	if cfg.Version {
		fmt.Fprintln(stdout, version())
		return nil
	}
	var logger *slog.Logger
	if cfg.Demo {
		logger = slog.New(slog.NewTextHandler(stderr, nil))
	} else {
		logger = slog.New(slog.NewJSONHandler(stderr, nil))
	}

	// The collector's settings are the process's: GOGC 200 and a memory limit from the
	// container's, unless the environment sets them (internal/gctune).
	gc := gctune.Apply(getenv, memlimit.FromCgroup, logger)
	logger.Debug("garbage collector", "gogc", gc.GOGC, "memory_limit_bytes", gc.MemLimit)

	if cfg.Demo {
		ups, err := demo.Start(time.Now(), cfg.DemoFrontierProtocol)
		if err != nil {
			return err
		}
		defer ups.Close()
		for i, rec := range []*fakeserver.Recorder{ups.Redpanda.Recorder, ups.Elastic.Recorder, ups.Frontier.Recorder} {
			rec.SetDelay(cfg.DemoLatency)
			rec.SetChaos(cfg.DemoChaos, uint64(i+1))
		}
		if h.demoStarted != nil {
			h.demoStarted(ups)
		}
		// The demo's fakes replace where the providers are and how to sign in to them;
		// everything else, their timeouts too, stays as configured.
		d := ups.Config
		d.Redpanda.Timeout, d.Elastic.Timeout, d.Frontier.Timeout = cfg.Redpanda.Timeout, cfg.Elastic.Timeout, cfg.Frontier.Timeout
		d.Redpanda.Rate, d.Elastic.Rate, d.Frontier.Rate = cfg.Redpanda.Rate, cfg.Elastic.Rate, cfg.Frontier.Rate
		d.Redpanda.Burst, d.Elastic.Burst, d.Frontier.Burst = cfg.Redpanda.Burst, cfg.Elastic.Burst, cfg.Frontier.Burst
		cfg.Redpanda, cfg.Elastic, cfg.Frontier = d.Redpanda, d.Elastic, d.Frontier
	}
	m := metrics.New()
	bi := readBuildInfo()
	m.RegisterBuildInfo(bi.Version, bi.Revision, bi.GoVersion)
	breakers := map[invite.Provider]*gobreaker.CircuitBreaker[struct{}]{}
	for _, p := range invite.Providers {
		breakers[p] = upstream.NewBreaker(p.Slug(), 10*time.Second)
	}
	m.RegisterBreakers(func() map[string]int {
		out := map[string]int{}
		for p, b := range breakers {
			out[p.Slug()] = int(b.State())
		}
		return out
	})
	tr, err := tracing.Setup(ctx, getenv)
	if err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	defer func() {
		flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tr.Shutdown(flushCtx); err != nil {
			logger.Warn("tracing: spans not flushed at exit", "error", err.Error())
		}
	}()
	hc := upstream.NewHTTPClient()
	hc.Transport = tr.Transport(hc.Transport)
	c, redisClient, err := newCache(ctx, &cfg.Cache, logger)
	if err != nil {
		return err
	}
	if redisClient != nil {
		defer redisClient.Close()
	}
	defer func() {
		// Invalidations still being retried land before Redis is closed, within a bound.
		closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.Close(closeCtx); err != nil {
			logger.Error("cache invalidations still pending at exit", "error", err.Error())
		}
	}()
	m.RegisterCache(c)
	limiters, err := newLimiters(cfg, redisClient, logger)
	if err != nil {
		return err
	}
	m.RegisterLimiters(func() map[string]ratelimit.Stats {
		out := map[string]ratelimit.Stats{}
		for p, l := range limiters {
			out[p.Slug()] = l.Stats()
		}
		return out
	})
	policy := func(p invite.Provider) *upstream.Policy {
		pol := &upstream.Policy{Observe: m.ObserveUpstream, Retry: upstream.DefaultRetry(), Breaker: breakers[p]}
		if l, ok := limiters[p]; ok {
			pol.Limiter = l // never a nil *Limiter in the interface
		}
		return pol
	}
	set, err := providers.FromConfig(cfg, hc, policy, c)
	if err != nil {
		return err
	}
	authOpts := cfg.AuthOptions()
	authOpts.Logger = logger
	authn, err := auth.New(ctx, authOpts)
	if err != nil {
		return err
	}
	defer authn.Close()
	if !authn.Enabled() {
		logger.Warn("no authentication configured: anyone who reaches /graphql may read and change every invitation; set INVITEGW_JWT_JWKS_URL or INVITEGW_API_KEYS")
	}
	trail, auditLog := newAudit(redisClient, cfg.AuditMaxEvents, logger)
	m.RegisterAudit(auditLog)
	defer func() {
		// Audit events still being retried land before Redis is closed, within a bound.
		closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := auditLog.Close(closeCtx); err != nil {
			logger.Error("audit events still pending at exit", "error", err.Error())
		}
	}()
	life := &phase{}
	handler, err := gateway.New(gateway.Options{
		Providers:      set,
		Logger:         logger,
		Introspection:  cfg.Introspection,
		GraphiQL:       cfg.GraphiQL,
		APQ:            c.APQ(),
		Auth:           authn,
		Audit:          auditLog,
		AuditStore:     trail,
		Idempotency:    idempotencyStore(redisClient),
		CORSOrigins:    cfg.CORSOrigins,
		Metrics:        m,
		Ready:          readiness(life, set, c, redisClient, breakers),
		RequestTimeout: cfg.RequestTimeout,
		Limits:         gateway.Limits{MaxTokens: cfg.MaxQueryTokens, MaxFields: cfg.MaxQueryFields},
		ResponseCache:  !bool(cfg.Cache.Off || cfg.Cache.NoResponses),
		Tracing:        enabled(tr),
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           life.closeWhileDraining(handler),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	url := "http://" + displayAddr(ln.Addr())
	if cfg.Demo {
		fmt.Fprintf(stdout, "invitegw demo: sample Redpanda, Elastic and Frontier (%s) upstreams running on loopback\n", cfg.Frontier.Protocol)
		if cfg.GraphiQL {
			fmt.Fprintf(stdout, "GraphiQL:  %s/\n", url)
		}
		fmt.Fprintf(stdout, "GraphQL:   %s/graphql\n", url)
	} else {
		logger.Info("listening", "url", url+"/graphql")
	}
	if cfg.PprofAddr != "" {
		stopPprof, err := servePprof(cfg.PprofAddr, logger, h.pprofReady)
		if err != nil {
			return err
		}
		defer stopPprof()
	}
	if h.ready != nil {
		h.ready <- ln.Addr().String()
	}

	return serve(ctx, srv, ln, life, cfg.ShutdownDrain, cfg.ShutdownTimeout, logger)
}

// servePprof serves net/http/pprof on its own listener, so profiling is opt-in and never
// reachable through the API's address. It returns a function that stops it.
func servePprof(addr string, logger *slog.Logger, ready chan<- string) (func(), error) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pprof listen: %w", err)
	}
	// No WriteTimeout: a CPU profile or trace streams for as long as its ?seconds= asks.
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("pprof stopped serving", "error", err.Error())
		}
	}()
	logger.Info("pprof listening", "url", "http://"+displayAddr(ln.Addr())+"/debug/pprof/")
	if ready != nil {
		ready <- ln.Addr().String()
	}
	return func() { _ = srv.Close() }, nil
}

// newCache builds the cache: Redis when configured (its client is returned for readiness and
// shutdown), else process memory. An unreachable Redis is not a start-up error: the cache
// fails open and picks Redis up when it answers.
func newCache(ctx context.Context, cfg *config.Cache, logger *slog.Logger) (*cache.Cache, redis.UniversalClient, error) {
	opts := cache.Options{StaleGrace: cfg.StaleGrace, StaleWhileRevalidate: cfg.StaleWhileRevalidate, Logger: logger}
	if cfg.Off {
		return cache.New(cache.Noop{}, opts), nil, nil
	}
	if !cfg.Redis() {
		return cache.New(cache.NewMemory(nil), opts), nil, nil
	}
	// go-redis logs through slog, at most a line a minute (a dead node makes many).
	redis.SetLogger(cache.NewRedisLog(logger, time.Minute))
	// While Redis fails, a small process-local copy keeps the upstreams from being asked on
	// every request (cache.Options.Fallback).
	opts.Fallback = cache.NewMemory(nil)
	opts.Fallback.SetLimits(fallbackEntries, fallbackBytes)
	client, err := cache.NewRedisClient(cache.RedisOptions{
		URL: cfg.RedisURL, ClusterAddrs: cfg.RedisClusterAddrs, SentinelAddrs: cfg.RedisSentinelAddrs,
		MasterName: cfg.RedisSentinelMaster, Password: cfg.RedisPassword,
	})
	if err != nil {
		return nil, nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := client.Ping(pingCtx).Err(); err != nil {
		logger.Warn("redis not reachable at start-up; serving from upstreams until it is", "error", err.Error())
	}
	return cache.New(cache.NewRedis(client), opts), client, nil
}

// newLimiters builds each provider's call budget, shared through Redis when rc is set (nil:
// in this process). A provider whose rate is 0 has none.
func newLimiters(cfg *config.Config, rc redis.UniversalClient, logger *slog.Logger) (map[invite.Provider]*ratelimit.Limiter, error) {
	out := map[invite.Provider]*ratelimit.Limiter{}
	for _, b := range []struct {
		p     invite.Provider
		rate  float64
		burst int
	}{
		{invite.Redpanda, cfg.Redpanda.Rate, cfg.Redpanda.Burst},
		{invite.Elastic, cfg.Elastic.Rate, cfg.Elastic.Burst},
		{invite.Frontier, cfg.Frontier.Rate, cfg.Frontier.Burst},
	} {
		if b.rate == 0 {
			continue
		}
		l, err := ratelimit.New(ratelimit.Options{Provider: b.p.Slug(), Rate: b.rate, Burst: b.burst, Redis: rc, Logger: logger})
		if err != nil {
			return nil, err
		}
		out[b.p] = l
	}
	return out, nil
}

// auditStream is the Redis Stream every replica of a deployment writes its audit trail to.
// It is a record, not a cache entry: it keeps this name when the cache's key version
// (cache.Prefix) is bumped, so the trail goes on in one stream across such an upgrade and
// whoever reads it need not follow the bump (as idempotency.KeyPrefix keeps its own).
const auditStream = "invitegw:v1:audit"

// newAudit keeps the audit trail in Redis when the cache is there (shared by every replica,
// kept across restarts), else in memory.
func newAudit(rc redis.UniversalClient, maxEvents int, logger *slog.Logger) (audit.Store, *audit.Log) {
	var store audit.Store
	if rc != nil {
		store = audit.NewRedis(rc, auditStream, int64(maxEvents))
	} else {
		store = audit.NewMemory(maxEvents)
	}
	return store, audit.New(audit.Options{Store: store, Logger: logger})
}

// idempotencyStore keeps Idempotency-Key answers where every replica sees them: Redis when
// configured, else this process.
func idempotencyStore(rc redis.UniversalClient) idempotency.Store {
	if rc != nil {
		return idempotency.NewRedis(rc)
	}
	return idempotency.NewMemory(time.Now)
}

// Bounds of the in-process fallback used while Redis fails: a few seconds of the working set.
const (
	fallbackEntries = 10_000
	fallbackBytes   = 32 << 20
)

// enabled is tr when it exports spans, else nil: the gateway then adds no tracing at all.
func enabled(tr *tracing.Tracing) *tracing.Tracing {
	if tr.Enabled() {
		return tr
	}
	return nil
}

// readiness reports whether this instance should take traffic: not while it drains. It
// reports the cache store and each provider's breaker too, but neither makes it unready:
// every replica shares them, so a Redis outage or an open breaker would take every replica
// out of the load balancer at once, while each can still answer (the cache fails open).
func readiness(life *phase, set *providers.Set, c *cache.Cache, rc redis.UniversalClient, breakers map[invite.Provider]*gobreaker.CircuitBreaker[struct{}]) func(context.Context) (bool, any) {
	return func(ctx context.Context) (bool, any) {
		ready := !life.draining.Load()
		report := map[string]any{"draining": !ready}
		switch {
		case rc == nil:
			report["cache"] = map[string]any{"store": "memory", "ok": true}
		default:
			err := rc.Ping(ctx).Err()
			report["cache"] = map[string]any{"store": "redis", "ok": err == nil, "failing": c.Stats().StoreFailing}
		}
		provs := map[string]any{}
		for _, p := range invite.Providers {
			if set.Enabled(p) {
				provs[string(p)] = map[string]any{"configured": true, "breaker": breakers[p].State().String()}
			}
		}
		report["providers"] = provs
		report["ready"] = ready
		return ready, report
	}
}

// displayAddr makes a wildcard listen address clickable.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if ok && tcp.IP.IsUnspecified() {
		return fmt.Sprintf("localhost:%d", tcp.Port)
	}
	return a.String()
}
