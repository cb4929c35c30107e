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
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration.
type Config struct {
	Addr string
	Demo bool
	// Introspection is on in -demo (GraphiQL needs it) and off in production unless
	// INVITEGW_INTROSPECTION=true: the schema is no secret, but there is no reason to serve it
	// to anyone who asks.
	Introspection bool
	// DemoFrontierProtocol is the protocol -demo's Frontier fake speaks (rest or connect).
	DemoFrontierProtocol string
	// DemoLatency delays every answer of -demo's fakes, to look like real upstreams.
	DemoLatency time.Duration
	// DemoChaos is the share of -demo's upstream calls that fail at random (for soak tests).
	DemoChaos float64
	// RequestTimeout bounds a whole GraphQL request, end to end.
	RequestTimeout time.Duration
	// MaxQueryTokens and MaxQueryFields bound a GraphQL document before it is validated
	// (gateway.Limits); zero keeps the gateway's defaults.
	MaxQueryTokens, MaxQueryFields int
	// ShutdownDrain is how long the server keeps serving after SIGTERM, with /readyz 503 and
	// Connection: close, so that a load balancer takes it out of rotation before it stops
	// accepting. ShutdownTimeout then bounds finishing the requests in flight.
	ShutdownDrain, ShutdownTimeout time.Duration
	// APIKeys, when set, are required of every GraphQL client.
	APIKeys []string
	// CORSOrigins may call the API from a browser.
	CORSOrigins []string
	// PprofAddr, when set, serves net/http/pprof on its own listener (never on Addr, so the
	// profiler is not exposed wherever the API is).
	PprofAddr string
	Redpanda  Redpanda
	Elastic   Elastic
	Frontier  Frontier
	Cache     Cache
}

// Cache configures caching: Redis when an address is set, else in process memory.
type Cache struct {
	// Off turns caching off (INVITEGW_CACHE=off): every read goes to the upstream. For
	// measuring the upstreams and debugging; concurrent identical misses are still shared.
	Off bool
	// NoResponses turns the response cache off (INVITEGW_CACHE_RESPONSES=off): repeated
	// queries are executed again, from cached data.
	NoResponses bool

	RedisURL            string   // redis://[user:password@]host:port/db or rediss://
	RedisClusterAddrs   []string // host:port list: a Redis Cluster
	RedisSentinelAddrs  []string // host:port list of Sentinels, with RedisSentinelMaster
	RedisSentinelMaster string
	RedisPassword       string // for Cluster or Sentinel setups without a URL

	TTLInvitations time.Duration
	TTLDirectory   time.Duration
	StaleGrace     time.Duration
}

// Redis reports whether a Redis is configured.
func (c *Cache) Redis() bool {
	return c.RedisURL != "" || len(c.RedisClusterAddrs) > 0 || len(c.RedisSentinelAddrs) > 0
}

// Redpanda configures the Redpanda Cloud client: a static token, or OAuth2 client credentials.
type Redpanda struct {
	Timeout      time.Duration
	URL          string
	Token        string
	ClientID     string
	ClientSecret string
	TokenURL     string
}

// Enabled reports whether any Redpanda credential is set.
func (r *Redpanda) Enabled() bool { return r.Token != "" || r.ClientID != "" || r.ClientSecret != "" }

// Elastic configures the Elastic Cloud client.
type Elastic struct {
	Timeout       time.Duration
	URL           string
	APIKey        string
	Organizations []string
}

// Enabled reports whether Elastic is configured at all.
func (e *Elastic) Enabled() bool { return e.APIKey != "" || len(e.Organizations) > 0 }

// Frontier configures the Raystack Frontier client: a bearer token, or a service user's client
// ID and secret (sent as Basic auth).
type Frontier struct {
	// Protocol is "rest" (the documented API of releases up to v0.90.0) or "connect" (the
	// ConnectRPC API, the only one from v0.91.0 on).
	Protocol      string
	Timeout       time.Duration
	URL           string
	Token         string
	ClientID      string
	ClientSecret  string
	Organizations []string
}

// Enabled reports whether Frontier is configured at all.
func (f *Frontier) Enabled() bool {
	return f.Token != "" || f.ClientID != "" || f.ClientSecret != "" || len(f.Organizations) > 0
}

// Defaults.
const (
	DefaultAddr        = ":8080"
	DefaultRedpandaURL = "https://api.redpanda.com"
	DefaultElasticURL  = "https://api.elastic-cloud.com"

	DefaultUpstreamTimeout = 5 * time.Second
	DefaultRequestTimeout  = 15 * time.Second
	DefaultShutdownDrain   = 5 * time.Second
	DefaultShutdownTimeout = 10 * time.Second

	DefaultTTLInvitations = 30 * time.Second
	DefaultTTLDirectory   = 5 * time.Minute
	DefaultStaleGrace     = 10 * time.Minute
	maxCacheDuration      = 24 * time.Hour
)

// ErrNoProvider means nothing is configured and -demo is off.
var ErrNoProvider = errors.New(`no provider configured: set INVITEGW_REDPANDA_TOKEN (or _CLIENT_ID and _CLIENT_SECRET), ` +
	`INVITEGW_ELASTIC_API_KEY and INVITEGW_ELASTIC_ORGANIZATIONS, or INVITEGW_FRONTIER_URL, ` +
	`INVITEGW_FRONTIER_TOKEN and INVITEGW_FRONTIER_ORGANIZATIONS; or try the built-in sample upstreams with -demo`)

// Load reads the configuration from command-line args (without the program name) and the
// environment (getenv, normally os.Getenv). Flags win over environment variables. Secrets are
// environment-only: flags show up in process listings.
func Load(args []string, getenv func(string) string, usage io.Writer) (*Config, error) {
	c := &Config{
		Addr: or(getenv("INVITEGW_ADDR"), DefaultAddr),
		Redpanda: Redpanda{
			URL:          or(getenv("INVITEGW_REDPANDA_URL"), DefaultRedpandaURL),
			Token:        getenv("INVITEGW_REDPANDA_TOKEN"),
			ClientID:     getenv("INVITEGW_REDPANDA_CLIENT_ID"),
			ClientSecret: getenv("INVITEGW_REDPANDA_CLIENT_SECRET"),
			TokenURL:     getenv("INVITEGW_REDPANDA_TOKEN_URL"),
		},
		Elastic: Elastic{
			URL:           or(getenv("INVITEGW_ELASTIC_URL"), DefaultElasticURL),
			APIKey:        getenv("INVITEGW_ELASTIC_API_KEY"),
			Organizations: list(getenv("INVITEGW_ELASTIC_ORGANIZATIONS")),
		},
		Frontier: Frontier{
			Protocol:      or(getenv("INVITEGW_FRONTIER_PROTOCOL"), "rest"),
			URL:           getenv("INVITEGW_FRONTIER_URL"),
			Token:         getenv("INVITEGW_FRONTIER_TOKEN"),
			ClientID:      getenv("INVITEGW_FRONTIER_CLIENT_ID"),
			ClientSecret:  getenv("INVITEGW_FRONTIER_CLIENT_SECRET"),
			Organizations: list(getenv("INVITEGW_FRONTIER_ORGANIZATIONS")),
		},
	}
	c.Cache = Cache{
		RedisURL:            getenv("INVITEGW_REDIS_URL"),
		RedisClusterAddrs:   list(getenv("INVITEGW_REDIS_CLUSTER_ADDRS")),
		RedisSentinelAddrs:  list(getenv("INVITEGW_REDIS_SENTINEL_ADDRS")),
		RedisSentinelMaster: getenv("INVITEGW_REDIS_SENTINEL_MASTER"),
		RedisPassword:       getenv("INVITEGW_REDIS_PASSWORD"),
	}
	var durErrs []error
	dur := func(name string, def time.Duration, min time.Duration) time.Duration {
		raw := getenv(name)
		if raw == "" {
			return def
		}
		d, err := time.ParseDuration(raw)
		switch {
		case err != nil:
			durErrs = append(durErrs, fmt.Errorf("config: %s must be a duration like 30s or 5m, got %q", name, raw))
		case d < min || d > maxCacheDuration:
			durErrs = append(durErrs, fmt.Errorf("config: %s must be between %v and %v, got %v", name, min, maxCacheDuration, d))
		}
		return d
	}
	c.Redpanda.Timeout = dur("INVITEGW_REDPANDA_TIMEOUT", DefaultUpstreamTimeout, 100*time.Millisecond)
	c.Elastic.Timeout = dur("INVITEGW_ELASTIC_TIMEOUT", DefaultUpstreamTimeout, 100*time.Millisecond)
	c.Frontier.Timeout = dur("INVITEGW_FRONTIER_TIMEOUT", DefaultUpstreamTimeout, 100*time.Millisecond)
	c.RequestTimeout = dur("INVITEGW_REQUEST_TIMEOUT", DefaultRequestTimeout, time.Second)
	c.ShutdownDrain = dur("INVITEGW_SHUTDOWN_DRAIN", DefaultShutdownDrain, 0)
	c.ShutdownTimeout = dur("INVITEGW_SHUTDOWN_TIMEOUT", DefaultShutdownTimeout, time.Second)
	c.DemoLatency = dur("INVITEGW_DEMO_LATENCY", 0, 0)
	if v := getenv("INVITEGW_DEMO_CHAOS"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1 {
			return nil, fmt.Errorf("config: INVITEGW_DEMO_CHAOS must be a share between 0 and 1, got %q", v)
		}
		c.DemoChaos = f
	}
	c.Cache.TTLInvitations = dur("INVITEGW_CACHE_TTL_INVITATIONS", DefaultTTLInvitations, time.Second)
	c.Cache.TTLDirectory = dur("INVITEGW_CACHE_TTL_DIRECTORY", DefaultTTLDirectory, time.Second)
	c.Cache.StaleGrace = dur("INVITEGW_CACHE_STALE_GRACE", DefaultStaleGrace, 0)
	if err := errors.Join(durErrs...); err != nil {
		return nil, err
	}

	for name, n := range map[string]*int{"INVITEGW_MAX_QUERY_TOKENS": &c.MaxQueryTokens, "INVITEGW_MAX_QUERY_FIELDS": &c.MaxQueryFields} {
		if v := getenv(name); v != "" {
			i, err := strconv.Atoi(v)
			if err != nil || i < 100 || i > 1_000_000 {
				return nil, fmt.Errorf("config: %s must be a whole number from 100 to 1000000, got %q", name, v)
			}
			*n = i
		}
	}
	for name, off := range map[string]*bool{"INVITEGW_CACHE": &c.Cache.Off, "INVITEGW_CACHE_RESPONSES": &c.Cache.NoResponses} {
		switch v := getenv(name); v {
		case "", "on":
		case "off":
			*off = true
		default:
			return nil, fmt.Errorf("config: %s must be on or off, got %q", name, v)
		}
	}

	switch v := getenv("INVITEGW_INTROSPECTION"); v {
	case "", "false", "0":
	case "true", "1":
		c.Introspection = true
	default:
		return nil, fmt.Errorf("config: INVITEGW_INTROSPECTION must be true or false, got %q", v)
	}

	fs := flag.NewFlagSet("invitegw", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address (INVITEGW_ADDR)")
	fs.BoolVar(&c.Demo, "demo", false, "serve built-in sample upstreams on loopback instead of the real APIs")
	fs.StringVar(&c.PprofAddr, "pprof-addr", getenv("INVITEGW_PPROF_ADDR"), "serve /debug/pprof on this address, e.g. 127.0.0.1:6060 (INVITEGW_PPROF_ADDR; off when empty)")
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
	if err := c.Cache.validate(); err != nil {
		return nil, err
	}
	c.DemoFrontierProtocol = or(getenv("INVITEGW_DEMO_FRONTIER_PROTOCOL"), "rest")
	c.APIKeys = list(getenv("INVITEGW_API_KEYS"))
	for _, k := range c.APIKeys {
		if len(k) < 16 {
			return nil, errors.New("config: every INVITEGW_API_KEYS entry must be at least 16 characters")
		}
	}
	c.CORSOrigins = list(getenv("INVITEGW_CORS_ORIGINS"))
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
		// No load balancer waits on a demo: Ctrl-C stops it at once unless a drain is set.
		if getenv("INVITEGW_SHUTDOWN_DRAIN") == "" {
			c.ShutdownDrain = 0
		}
		return c, nil
	}
	return c, c.Validate()
}

func (c *Cache) validate() error {
	if c.RedisURL != "" {
		u, err := url.Parse(c.RedisURL)
		if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
			return errors.New("config: INVITEGW_REDIS_URL must look like redis://host:6379/0 or rediss://user:password@host:6380/0")
		}
	}
	if c.Off && c.Redis() {
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
		errs = append(errs, checkURL("INVITEGW_REDPANDA_URL", r.URL))
		if r.TokenURL != "" {
			errs = append(errs, checkURL("INVITEGW_REDPANDA_TOKEN_URL", r.TokenURL))
		}
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

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
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
