// Package config is invitegw's typed configuration: flags and INVITEGW_* environment
// variables, defaults, and validation at start-up, so a half-configured provider fails fast
// with the name of what is missing instead of failing every request later.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/invitegw/invitegw/auth"
)

// Config is the whole configuration. Each field's variable and default are in its tags, the
// only place a default is written: INVITEGW_ plus env (for Redpanda, Elastic and Frontier,
// INVITEGW_REDPANDA_ and so on, plus env). A few fields can also be set by flags.
type Config struct {
	Addr string `env:"ADDR" envDefault:":8080"`
	Demo bool   `env:"-"` // the -demo flag
	// Version asks for the build's version instead of serving (the -version flag).
	Version bool `env:"-"`
	// Introspection is on in -demo (GraphiQL needs it) and off in production unless
	// INVITEGW_INTROSPECTION=true: the schema is no secret, but there is no reason to serve it
	// to anyone who asks.
	Introspection bool `env:"INTROSPECTION" envDefault:"false"`
	// GraphiQL serves the GraphiQL IDE at /: INVITEGW_GRAPHIQL, when set, else on in -demo and
	// otherwise as Introspection (GraphiQL cannot work without it).
	GraphiQL    bool   `env:"-"`
	GraphiQLEnv Toggle `env:"GRAPHIQL"`
	// DemoFrontierProtocol is the protocol -demo's Frontier fake speaks (rest or connect).
	DemoFrontierProtocol string `env:"DEMO_FRONTIER_PROTOCOL" envDefault:"rest"`
	// DemoLatency delays every answer of -demo's fakes, to look like real upstreams.
	DemoLatency time.Duration `env:"DEMO_LATENCY" envDefault:"0s"`
	// DemoChaos is the share of -demo's upstream calls that fail at random (for soak tests).
	DemoChaos float64 `env:"DEMO_CHAOS" envDefault:"0"`
	// RequestTimeout bounds a whole GraphQL request, end to end.
	RequestTimeout time.Duration `env:"REQUEST_TIMEOUT" envDefault:"15s"`
	// MaxQueryTokens and MaxQueryFields bound a GraphQL document before it is validated
	// (gateway.Limits); zero keeps the gateway's limits.
	MaxQueryTokens int `env:"MAX_QUERY_TOKENS" envDefault:"0"`
	MaxQueryFields int `env:"MAX_QUERY_FIELDS" envDefault:"0"`
	// ShutdownDrain is how long the server keeps serving after SIGTERM, with /readyz 503 and
	// Connection: close, so that a load balancer takes it out of rotation before it stops
	// accepting (0s in -demo unless set). ShutdownTimeout then bounds finishing the requests
	// in flight.
	ShutdownDrain   time.Duration `env:"SHUTDOWN_DRAIN" envDefault:"5s"`
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"10s"`
	// APIKeys, when set, are required of every GraphQL client (or a JWT, with JWT). Each entry
	// is a bare key or "<name> <key> [<scope> ...]" (auth.ParseAPIKeys, run by Load).
	APIKeys List `env:"API_KEYS"`
	// JWT accepts JWT bearer tokens from an identity provider; on with INVITEGW_JWT_JWKS_URL.
	JWT JWT `env:"-"`
	// AuditMaxEvents bounds the audit trail: the Redis Stream (trimmed approximately, MAXLEN ~)
	// or, without Redis, the in-memory ring.
	AuditMaxEvents int `env:"AUDIT_MAX_EVENTS" envDefault:"100000"`
	// CORSOrigins may call the API from a browser.
	CORSOrigins List `env:"CORS_ORIGINS"`
	// PprofAddr, when set, serves net/http/pprof on its own listener (never on Addr, so the
	// profiler is not exposed wherever the API is).
	PprofAddr string   `env:"PPROF_ADDR"`
	Redpanda  Redpanda `env:"-"`
	Elastic   Elastic  `env:"-"`
	Frontier  Frontier `env:"-"`
	Cache     Cache    `env:"-"`

	apiKeys []auth.APIKey // APIKeys as Load parsed them
}

// JWT configures JWT bearer tokens, checked against the keys an identity provider publishes
// (auth.JWTOptions).
type JWT struct {
	JWKSURL string `env:"JWKS_URL"` // http(s); JWTs are off when empty
	// Issuers are the accepted iss values; Audiences, one of which aud must contain. Both are
	// required with a JWKS URL.
	Issuers   List `env:"ISSUERS"`
	Audiences List `env:"AUDIENCES"`
	// ScopeClaim names the claim holding the scopes (a space-separated string or an array).
	ScopeClaim string `env:"SCOPE_CLAIM" envDefault:"scope"`
}

// AuthOptions is what auth.New needs from the configuration: the API keys, and the JWT
// options when a JWKS URL is set. The caller adds its logger.
func (c *Config) AuthOptions() auth.Options {
	o := auth.Options{APIKeys: c.apiKeys}
	if j := c.JWT; j.JWKSURL != "" {
		o.JWT = &auth.JWTOptions{JWKSURL: j.JWKSURL, Issuers: j.Issuers, Audiences: j.Audiences, ScopeClaim: j.ScopeClaim}
	}
	return o
}

// Cache configures caching: Redis when an address is set, else in process memory.
type Cache struct {
	// Off turns caching off (INVITEGW_CACHE=off): every read goes to the upstream. For
	// measuring the upstreams and debugging; concurrent identical misses are still shared.
	Off Off `env:"CACHE" envDefault:"on"`
	// NoResponses turns the response cache off (INVITEGW_CACHE_RESPONSES=off): repeated
	// queries are executed again, from cached data.
	NoResponses Off `env:"CACHE_RESPONSES" envDefault:"on"`

	RedisURL            string `env:"REDIS_URL"`            // redis://[user:password@]host:port/db or rediss://
	RedisClusterAddrs   List   `env:"REDIS_CLUSTER_ADDRS"`  // host:port list: a Redis Cluster
	RedisSentinelAddrs  List   `env:"REDIS_SENTINEL_ADDRS"` // host:port list of Sentinels, with RedisSentinelMaster
	RedisSentinelMaster string `env:"REDIS_SENTINEL_MASTER"`
	RedisPassword       string `env:"REDIS_PASSWORD"` // for Cluster or Sentinel setups without a URL

	TTLInvitations time.Duration `env:"CACHE_TTL_INVITATIONS" envDefault:"30s"`
	TTLDirectory   time.Duration `env:"CACHE_TTL_DIRECTORY" envDefault:"5m"`
	// StaleGrace is how long an expired copy is kept to answer when an upstream fails; 0
	// keeps none.
	StaleGrace time.Duration `env:"CACHE_STALE_GRACE" envDefault:"10m"`
	// StaleWhileRevalidate is how long past its freshness a copy is still the answer, at once,
	// while one refresh runs in the background (one per key across replicas sharing Redis);
	// 0 turns it off: callers then wait for the upstream as soon as an entry expires.
	StaleWhileRevalidate time.Duration `env:"CACHE_STALE_WHILE_REVALIDATE" envDefault:"30s"`
}

// Redis reports whether a Redis is configured.
func (c *Cache) Redis() bool {
	return c.RedisURL != "" || len(c.RedisClusterAddrs) > 0 || len(c.RedisSentinelAddrs) > 0
}

// Redpanda configures the Redpanda Cloud client: a static token, or OAuth2 client credentials.
type Redpanda struct {
	Timeout      time.Duration `env:"TIMEOUT" envDefault:"5s"`
	URL          string        `env:"URL" envDefault:"https://api.redpanda.com"`
	Token        string        `env:"TOKEN"`
	ClientID     string        `env:"CLIENT_ID"`
	ClientSecret string        `env:"CLIENT_SECRET"`
	// TokenURL is the OAuth2 token endpoint of the client credentials.
	TokenURL string `env:"TOKEN_URL" envDefault:"https://auth.prd.cloud.redpanda.com/oauth/token"`
	// Rate and Burst are the budget of calls to Redpanda, shared by every replica using one
	// Redis (package ratelimit): Rate a second, Burst at once; a Rate of 0 turns it off.
	// Redpanda publishes no number; these are the defaults of its own Terraform provider,
	// 500 a minute with a burst of 50 (FACTS.md 1.8).
	Rate  float64 `env:"RATE" envDefault:"8.333333"`
	Burst int     `env:"BURST" envDefault:"50"`
}

// Enabled reports whether any Redpanda credential is set.
func (r *Redpanda) Enabled() bool { return r.Token != "" || r.ClientID != "" || r.ClientSecret != "" }

// Elastic configures the Elastic Cloud client.
type Elastic struct {
	Timeout       time.Duration `env:"TIMEOUT" envDefault:"5s"`
	URL           string        `env:"URL" envDefault:"https://api.elastic-cloud.com"`
	APIKey        string        `env:"API_KEY"`
	Organizations List          `env:"ORGANIZATIONS"`
	// Rate and Burst are the budget of calls to Elastic Cloud, as Redpanda's. Elastic publishes
	// no numbers (FACTS.md 2.6), so these are a guess on the gentle side: 600 a minute, 20 at
	// once. Its x-ratelimit headers hold the calls if the real limit is lower.
	Rate  float64 `env:"RATE" envDefault:"10"`
	Burst int     `env:"BURST" envDefault:"20"`
}

// Enabled reports whether Elastic is configured at all.
func (e *Elastic) Enabled() bool { return e.APIKey != "" || len(e.Organizations) > 0 }

// Frontier configures the Raystack Frontier client: a bearer token, or a service user's client
// ID and secret (sent as Basic auth).
type Frontier struct {
	// Protocol is "rest" (the documented API of releases up to v0.90.0) or "connect" (the
	// ConnectRPC API, the only one from v0.91.0 on).
	Protocol      string        `env:"PROTOCOL" envDefault:"rest"`
	Timeout       time.Duration `env:"TIMEOUT" envDefault:"5s"`
	URL           string        `env:"URL"` // self-hosted: no default
	Token         string        `env:"TOKEN"`
	ClientID      string        `env:"CLIENT_ID"`
	ClientSecret  string        `env:"CLIENT_SECRET"`
	Organizations List          `env:"ORGANIZATIONS"`
	// Rate and Burst are the budget of calls to Frontier, as Redpanda's. Frontier limits
	// nothing itself (FACTS.md 3.6): this is a ceiling that keeps a stampede of cold requests
	// from hammering a self-hosted deployment, well above what the gateway needs. Raise it, or
	// set 0, for a deployment that takes more.
	Rate  float64 `env:"RATE" envDefault:"50"`
	Burst int     `env:"BURST" envDefault:"100"`
}

// Enabled reports whether Frontier is configured at all.
func (f *Frontier) Enabled() bool {
	return f.Token != "" || f.ClientID != "" || f.ClientSecret != "" || len(f.Organizations) > 0
}

// ErrNoProvider means nothing is configured and -demo is off.
var ErrNoProvider = errors.New(`no provider configured: set INVITEGW_REDPANDA_TOKEN (or _CLIENT_ID and _CLIENT_SECRET), ` +
	`INVITEGW_ELASTIC_API_KEY and INVITEGW_ELASTIC_ORGANIZATIONS, or INVITEGW_FRONTIER_URL, ` +
	`INVITEGW_FRONTIER_TOKEN and INVITEGW_FRONTIER_ORGANIZATIONS; or try the built-in sample upstreams with -demo`)

// Load reads the configuration from command-line args (without the program name) and the
// environment (getenv, normally os.Getenv). Flags win over environment variables. Secrets are
// environment-only: flags show up in process listings. A -h prints the usage and returns
// flag.ErrHelp.
func Load(args []string, getenv func(string) string, usage io.Writer) (*Config, error) {
	c := &Config{}
	// Reported after the flags: -h and -version answer whatever the environment holds.
	envErr := parseEnv(c, getenv)
	if envErr == nil {
		envErr = c.checkRanges()
	}

	fs := flag.NewFlagSet("invitegw", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address (INVITEGW_ADDR)")
	fs.BoolVar(&c.Demo, "demo", false, "serve built-in sample upstreams on loopback instead of the real APIs")
	fs.BoolVar(&c.Version, "version", false, "print the version and exit")
	fs.StringVar(&c.PprofAddr, "pprof-addr", c.PprofAddr, "serve /debug/pprof on this address, e.g. 127.0.0.1:6060 (INVITEGW_PPROF_ADDR; off when empty)")
	fs.StringVar(&c.Redpanda.URL, "redpanda-url", c.Redpanda.URL, "Redpanda Cloud API base URL (INVITEGW_REDPANDA_URL)")
	fs.StringVar(&c.Elastic.URL, "elastic-url", c.Elastic.URL, "Elastic Cloud API base URL (INVITEGW_ELASTIC_URL)")
	fs.StringVar(&c.Frontier.URL, "frontier-url", c.Frontier.URL, "Frontier API base URL (INVITEGW_FRONTIER_URL)")
	fs.Func("elastic-organizations", "comma-separated Elastic organization IDs (INVITEGW_ELASTIC_ORGANIZATIONS)",
		func(s string) error { c.Elastic.Organizations = list(s); return nil })
	fs.Func("frontier-organizations", "comma-separated Frontier organization IDs (INVITEGW_FRONTIER_ORGANIZATIONS)",
		func(s string) error { c.Frontier.Organizations = list(s); return nil })
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("config: unexpected argument %q", fs.Arg(0))
	}
	if c.Version {
		return c, nil
	}
	if envErr != nil {
		return nil, envErr
	}
	if err := c.Cache.validate(); err != nil {
		return nil, err
	}
	if err := c.checkAuth(); err != nil {
		return nil, err
	}
	for _, o := range c.CORSOrigins {
		if u, err := url.Parse(o); o != "*" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "") {
			return nil, fmt.Errorf("config: INVITEGW_CORS_ORIGINS entries must be origins like https://app.example.com, got %q", o)
		}
	}
	for name, p := range map[string]string{"INVITEGW_FRONTIER_PROTOCOL": c.Frontier.Protocol, "INVITEGW_DEMO_FRONTIER_PROTOCOL": c.DemoFrontierProtocol} {
		if p != "rest" && p != "connect" {
			return nil, fmt.Errorf("config: %s must be rest or connect, got %q", name, p)
		}
	}
	if c.Demo {
		// The demo wires its own sample upstreams; no provider needs to be configured.
		c.Introspection = true
	}
	c.GraphiQL = c.GraphiQLEnv.Or(c.Introspection)
	if c.Demo {
		// No load balancer waits on a demo: Ctrl-C stops it at once unless a drain is set.
		if getenv("INVITEGW_SHUTDOWN_DRAIN") == "" {
			c.ShutdownDrain = 0
		}
		// Its fakes limit nothing, and a budget would only make a demo under load look
		// broken: none unless one is set.
		for name, rate := range map[string]*float64{"INVITEGW_REDPANDA_RATE": &c.Redpanda.Rate,
			"INVITEGW_ELASTIC_RATE": &c.Elastic.Rate, "INVITEGW_FRONTIER_RATE": &c.Frontier.Rate} {
			if getenv(name) == "" {
				*rate = 0
			}
		}
		return c, nil
	}
	return c, c.Validate()
}

// maxDuration bounds every duration setting: nothing here is meant to last a day.
const maxDuration = 24 * time.Hour

// Bounds of a provider's budget (INVITEGW_<PROVIDER>_RATE and _BURST): from one call a
// hundred seconds to far more than any upstream takes.
const (
	minRate = 0.01
	maxRate = 100_000
)

// checkRanges rejects values of the right type that make no sense.
func (c *Config) checkRanges() error {
	var errs []error
	for _, d := range []struct {
		name     string
		v, least time.Duration
	}{
		{"INVITEGW_REDPANDA_TIMEOUT", c.Redpanda.Timeout, 100 * time.Millisecond},
		{"INVITEGW_ELASTIC_TIMEOUT", c.Elastic.Timeout, 100 * time.Millisecond},
		{"INVITEGW_FRONTIER_TIMEOUT", c.Frontier.Timeout, 100 * time.Millisecond},
		{"INVITEGW_REQUEST_TIMEOUT", c.RequestTimeout, time.Second},
		{"INVITEGW_SHUTDOWN_DRAIN", c.ShutdownDrain, 0},
		{"INVITEGW_SHUTDOWN_TIMEOUT", c.ShutdownTimeout, time.Second},
		{"INVITEGW_DEMO_LATENCY", c.DemoLatency, 0},
		{"INVITEGW_CACHE_TTL_INVITATIONS", c.Cache.TTLInvitations, time.Second},
		{"INVITEGW_CACHE_TTL_DIRECTORY", c.Cache.TTLDirectory, time.Second},
		{"INVITEGW_CACHE_STALE_GRACE", c.Cache.StaleGrace, 0},
		{"INVITEGW_CACHE_STALE_WHILE_REVALIDATE", c.Cache.StaleWhileRevalidate, 0},
	} {
		if d.v < d.least || d.v > maxDuration {
			errs = append(errs, fmt.Errorf("config: %s must be between %v and %v, got %v", d.name, d.least, maxDuration, d.v))
		}
	}
	if c.DemoChaos < 0 || c.DemoChaos > 1 {
		errs = append(errs, fmt.Errorf("config: INVITEGW_DEMO_CHAOS must be a share between 0 and 1, got %v", c.DemoChaos))
	}
	for name, n := range map[string]int{"INVITEGW_MAX_QUERY_TOKENS": c.MaxQueryTokens, "INVITEGW_MAX_QUERY_FIELDS": c.MaxQueryFields} {
		if n != 0 && (n < 100 || n > 1_000_000) {
			errs = append(errs, fmt.Errorf("config: %s must be a whole number from 100 to 1000000, got %d", name, n))
		}
	}
	for _, b := range []struct {
		provider string
		rate     float64
		burst    int
	}{{"REDPANDA", c.Redpanda.Rate, c.Redpanda.Burst}, {"ELASTIC", c.Elastic.Rate, c.Elastic.Burst}, {"FRONTIER", c.Frontier.Rate, c.Frontier.Burst}} {
		if b.rate != 0 && !(b.rate >= minRate && b.rate <= maxRate) {
			errs = append(errs, fmt.Errorf("config: INVITEGW_%s_RATE must be 0 (off) or calls a second from %v to %v, got %v", b.provider, minRate, maxRate, b.rate))
		}
		if b.burst < 1 || b.burst > maxRate {
			errs = append(errs, fmt.Errorf("config: INVITEGW_%s_BURST must be a whole number from 1 to %d, got %d", b.provider, maxRate, b.burst))
		}
	}
	if c.AuditMaxEvents < 100 || c.AuditMaxEvents > 100_000_000 {
		errs = append(errs, fmt.Errorf("config: INVITEGW_AUDIT_MAX_EVENTS must be a whole number from 100 to 100000000, got %d", c.AuditMaxEvents))
	}
	return errors.Join(errs...)
}

// checkAuth parses the API keys (an error names the entry by position, never its words) and
// checks that JWTs are either off or fully configured.
func (c *Config) checkAuth() error {
	keys, err := auth.ParseAPIKeys(c.APIKeys)
	if err != nil {
		return fmt.Errorf("config: INVITEGW_API_KEYS: %w", err)
	}
	c.apiKeys = keys
	j := &c.JWT
	if j.JWKSURL == "" {
		if len(j.Issuers) > 0 || len(j.Audiences) > 0 {
			return errors.New("config: INVITEGW_JWT_JWKS_URL is required when INVITEGW_JWT_ISSUERS or INVITEGW_JWT_AUDIENCES is set")
		}
		return nil
	}
	var errs []error
	if err := checkURL("INVITEGW_JWT_JWKS_URL", j.JWKSURL); err != nil {
		errs = append(errs, err)
	}
	if len(j.Issuers) == 0 {
		errs = append(errs, errors.New("config: INVITEGW_JWT_ISSUERS is required when INVITEGW_JWT_JWKS_URL is set"))
	}
	if len(j.Audiences) == 0 {
		errs = append(errs, errors.New("config: INVITEGW_JWT_AUDIENCES is required when INVITEGW_JWT_JWKS_URL is set"))
	}
	if strings.ContainsFunc(j.ScopeClaim, func(r rune) bool { return r <= ' ' }) {
		errs = append(errs, fmt.Errorf("config: INVITEGW_JWT_SCOPE_CLAIM must be a claim name without spaces, got %q", j.ScopeClaim))
	}
	return errors.Join(errs...)
}

func (c *Cache) validate() error {
	if c.RedisURL != "" {
		u, err := url.Parse(c.RedisURL)
		if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
			return errors.New("config: INVITEGW_REDIS_URL must look like redis://host:6379/0 or rediss://user:password@host:6380/0")
		}
	}
	if bool(c.Off) && c.Redis() {
		return errors.New("config: INVITEGW_CACHE=off and a Redis address are both set; unset one")
	}
	if len(c.RedisClusterAddrs) > 0 && len(c.RedisSentinelAddrs) > 0 {
		return errors.New("config: set INVITEGW_REDIS_CLUSTER_ADDRS or INVITEGW_REDIS_SENTINEL_ADDRS, not both")
	}
	if len(c.RedisSentinelAddrs) > 0 && c.RedisSentinelMaster == "" {
		return errors.New("config: INVITEGW_REDIS_SENTINEL_MASTER is required when INVITEGW_REDIS_SENTINEL_ADDRS is set")
	}
	return nil
}

// Validate checks that every provider is either off or fully configured, naming the missing
// variable, and that at least one is on.
func (c *Config) Validate() error {
	var errs []error
	need := func(cond bool, name, because string) {
		if !cond {
			errs = append(errs, fmt.Errorf("config: %s is required %s", name, because))
		}
	}
	if r := &c.Redpanda; r.Enabled() {
		if r.Token != "" && (r.ClientID != "" || r.ClientSecret != "") {
			errs = append(errs, errors.New("config: set either INVITEGW_REDPANDA_TOKEN or INVITEGW_REDPANDA_CLIENT_ID and _CLIENT_SECRET, not both"))
		} else if r.Token == "" {
			need(r.ClientID != "", "INVITEGW_REDPANDA_CLIENT_ID", "when INVITEGW_REDPANDA_CLIENT_SECRET is set")
			need(r.ClientSecret != "", "INVITEGW_REDPANDA_CLIENT_SECRET", "when INVITEGW_REDPANDA_CLIENT_ID is set")
		}
		errs = append(errs, checkURL("INVITEGW_REDPANDA_URL", r.URL), checkURL("INVITEGW_REDPANDA_TOKEN_URL", r.TokenURL))
	}
	if e := &c.Elastic; e.Enabled() {
		need(e.APIKey != "", "INVITEGW_ELASTIC_API_KEY", "when INVITEGW_ELASTIC_ORGANIZATIONS is set")
		need(len(e.Organizations) > 0, "INVITEGW_ELASTIC_ORGANIZATIONS", "when INVITEGW_ELASTIC_API_KEY is set")
		errs = append(errs, checkURL("INVITEGW_ELASTIC_URL", e.URL), checkIDs("INVITEGW_ELASTIC_ORGANIZATIONS", e.Organizations))
	}
	if f := &c.Frontier; f.Enabled() {
		if f.Token != "" && (f.ClientID != "" || f.ClientSecret != "") {
			errs = append(errs, errors.New("config: set either INVITEGW_FRONTIER_TOKEN or INVITEGW_FRONTIER_CLIENT_ID and _CLIENT_SECRET, not both"))
		} else if f.Token == "" {
			need(f.ClientID != "" || f.ClientSecret != "", "INVITEGW_FRONTIER_TOKEN (or INVITEGW_FRONTIER_CLIENT_ID and _CLIENT_SECRET)",
				"when INVITEGW_FRONTIER_ORGANIZATIONS is set")
			if f.ClientID != "" || f.ClientSecret != "" {
				need(f.ClientID != "", "INVITEGW_FRONTIER_CLIENT_ID", "when INVITEGW_FRONTIER_CLIENT_SECRET is set")
				need(f.ClientSecret != "", "INVITEGW_FRONTIER_CLIENT_SECRET", "when INVITEGW_FRONTIER_CLIENT_ID is set")
			}
		}
		need(len(f.Organizations) > 0, "INVITEGW_FRONTIER_ORGANIZATIONS", "when Frontier credentials are set")
		need(f.URL != "", "INVITEGW_FRONTIER_URL", "when Frontier is configured (Frontier is self-hosted: there is no default)")
		if f.URL != "" {
			errs = append(errs, checkURL("INVITEGW_FRONTIER_URL", f.URL))
		}
		errs = append(errs, checkIDs("INVITEGW_FRONTIER_ORGANIZATIONS", f.Organizations))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if !c.Redpanda.Enabled() && !c.Elastic.Enabled() && !c.Frontier.Enabled() {
		return ErrNoProvider
	}
	return nil
}

func checkURL(name, raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("config: %s is not a URL", name)
	case u.User != nil:
		return fmt.Errorf("config: %s must not contain credentials", name)
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("config: %s must be an absolute http(s) URL, got %q", name, raw)
	}
	return nil
}

// checkIDs rejects organization IDs that cannot be put in a path or a unified ID.
func checkIDs(name string, ids []string) error {
	for _, id := range ids {
		if strings.ContainsAny(id, ":/?#% ") || len(id) > 128 {
			return fmt.Errorf("config: %s: invalid organization id %q", name, id)
		}
	}
	return nil
}

// list splits a comma-separated list, dropping blanks and duplicates.
func list(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" && !seen[part] {
			seen[part] = true
			out = append(out, part)
		}
	}
	return out
}
