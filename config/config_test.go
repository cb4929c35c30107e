package config

import (
	"errors"
	"flag"
	"io"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/invitegw/invitegw/auth"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestLoadValid(t *testing.T) {
	c, err := Load([]string{"-addr", "127.0.0.1:9000", "-frontier-organizations", "o1, o2,o1"}, env(map[string]string{
		"INVITEGW_ADDR":                   ":1",
		"INVITEGW_REDPANDA_CLIENT_ID":     "id",
		"INVITEGW_REDPANDA_TIMEOUT":       "2s",
		"INVITEGW_REDPANDA_CLIENT_SECRET": "secret",
		"INVITEGW_ELASTIC_API_KEY":        "key",
		"INVITEGW_ELASTIC_ORGANIZATIONS":  " 1004 ,,2098 ",
		"INVITEGW_FRONTIER_URL":           "https://frontier.internal",
		"INVITEGW_FRONTIER_TOKEN":         "tok",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Addr:                 "127.0.0.1:9000",
		DemoFrontierProtocol: "rest",
		RequestTimeout:       15 * time.Second,
		ShutdownDrain:        5 * time.Second,
		ShutdownTimeout:      10 * time.Second,
		Redpanda: Redpanda{Timeout: 2 * time.Second, URL: "https://api.redpanda.com", ClientID: "id", ClientSecret: "secret",
			TokenURL: "https://auth.prd.cloud.redpanda.com/oauth/token", Rate: 8.333333, Burst: 50},
		Elastic: Elastic{Timeout: 5 * time.Second, URL: "https://api.elastic-cloud.com", APIKey: "key", Organizations: []string{"1004", "2098"},
			Rate: 10, Burst: 20},
		Frontier: Frontier{Protocol: "rest", Timeout: 5 * time.Second, URL: "https://frontier.internal", Token: "tok",
			Organizations: []string{"o1", "o2"}, Rate: 50, Burst: 100},
		Cache: Cache{TTLInvitations: 30 * time.Second, TTLDirectory: 5 * time.Minute, StaleGrace: 10 * time.Minute,
			StaleWhileRevalidate: 30 * time.Second},
		JWT:            JWT{ScopeClaim: "scope"},
		AuditMaxEvents: 100000,
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got  %+v\nwant %+v", c, want)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string // substring of the error
	}{
		{"nothing configured", nil, nil, "try the built-in sample upstreams with -demo"},
		{"redpanda id without secret", map[string]string{"INVITEGW_REDPANDA_CLIENT_ID": "id"}, nil,
			"INVITEGW_REDPANDA_CLIENT_SECRET is required"},
		{"redpanda secret without id", map[string]string{"INVITEGW_REDPANDA_CLIENT_SECRET": "s"}, nil,
			"INVITEGW_REDPANDA_CLIENT_ID is required"},
		{"redpanda token and client credentials", map[string]string{"INVITEGW_REDPANDA_TOKEN": "t", "INVITEGW_REDPANDA_CLIENT_ID": "id"}, nil,
			"not both"},
		{"elastic key without organizations", map[string]string{"INVITEGW_ELASTIC_API_KEY": "k"}, nil,
			"INVITEGW_ELASTIC_ORGANIZATIONS is required"},
		{"elastic organizations without key", map[string]string{"INVITEGW_ELASTIC_ORGANIZATIONS": "1"}, nil,
			"INVITEGW_ELASTIC_API_KEY is required"},
		{"frontier without url", map[string]string{"INVITEGW_FRONTIER_TOKEN": "t", "INVITEGW_FRONTIER_ORGANIZATIONS": "o"}, nil,
			"INVITEGW_FRONTIER_URL is required"},
		{"frontier without organizations", map[string]string{"INVITEGW_FRONTIER_TOKEN": "t", "INVITEGW_FRONTIER_URL": "http://f"}, nil,
			"INVITEGW_FRONTIER_ORGANIZATIONS is required"},
		{"frontier without credentials", map[string]string{"INVITEGW_FRONTIER_ORGANIZATIONS": "o", "INVITEGW_FRONTIER_URL": "http://f"}, nil,
			"INVITEGW_FRONTIER_TOKEN (or INVITEGW_FRONTIER_CLIENT_ID and _CLIENT_SECRET) is required"},
		{"frontier secret without id", map[string]string{"INVITEGW_FRONTIER_CLIENT_SECRET": "s", "INVITEGW_FRONTIER_ORGANIZATIONS": "o", "INVITEGW_FRONTIER_URL": "http://f"}, nil,
			"INVITEGW_FRONTIER_CLIENT_ID is required"},
		{"bad url", map[string]string{"INVITEGW_REDPANDA_TOKEN": "t", "INVITEGW_REDPANDA_URL": "ftp://x"}, nil,
			"INVITEGW_REDPANDA_URL must be an absolute http(s) URL"},
		{"relative token url", map[string]string{"INVITEGW_REDPANDA_CLIENT_ID": "id", "INVITEGW_REDPANDA_CLIENT_SECRET": "s",
			"INVITEGW_REDPANDA_TOKEN_URL": "/oauth/token"}, nil,
			`INVITEGW_REDPANDA_TOKEN_URL must be an absolute http(s) URL, got "/oauth/token"`},
		{"url with credentials is not echoed", map[string]string{"INVITEGW_REDPANDA_TOKEN": "t", "INVITEGW_REDPANDA_URL": "https://u:hunter2@x"}, nil,
			"must not contain credentials"},
		{"organization id with a colon", map[string]string{"INVITEGW_ELASTIC_API_KEY": "k", "INVITEGW_ELASTIC_ORGANIZATIONS": "a:b"}, nil,
			"invalid organization id"},
		{"unknown flag", nil, []string{"-nope"}, "flag provided but not defined"},
		{"ttl not a duration", map[string]string{"INVITEGW_CACHE_TTL_INVITATIONS": "30"}, []string{"-demo"},
			`INVITEGW_CACHE_TTL_INVITATIONS must be a duration like 30s or 5m, got "30"`},
		{"ttl zero", map[string]string{"INVITEGW_CACHE_TTL_DIRECTORY": "0s"}, []string{"-demo"},
			"INVITEGW_CACHE_TTL_DIRECTORY must be between 1s and 24h0m0s, got 0s"},
		{"ttl negative", map[string]string{"INVITEGW_CACHE_TTL_INVITATIONS": "-5s"}, []string{"-demo"}, "must be between"},
		{"grace absurd", map[string]string{"INVITEGW_CACHE_STALE_GRACE": "9000h"}, []string{"-demo"},
			"INVITEGW_CACHE_STALE_GRACE must be between 0s and 24h0m0s"},
		{"stale-while-revalidate absurd", map[string]string{"INVITEGW_CACHE_STALE_WHILE_REVALIDATE": "25h"}, []string{"-demo"},
			"INVITEGW_CACHE_STALE_WHILE_REVALIDATE must be between 0s and 24h0m0s"},
		{"stale-while-revalidate negative", map[string]string{"INVITEGW_CACHE_STALE_WHILE_REVALIDATE": "-1s"}, []string{"-demo"},
			"INVITEGW_CACHE_STALE_WHILE_REVALIDATE must be between 0s and 24h0m0s"},
		{"token limit not a number", map[string]string{"INVITEGW_MAX_QUERY_TOKENS": "lots"}, []string{"-demo"},
			`INVITEGW_MAX_QUERY_TOKENS must be a whole number, got "lots"`},
		{"field limit too small", map[string]string{"INVITEGW_MAX_QUERY_FIELDS": "10"}, []string{"-demo"},
			`INVITEGW_MAX_QUERY_FIELDS must be a whole number from 100 to 1000000, got 10`},
		{"shutdown timeout zero", map[string]string{"INVITEGW_SHUTDOWN_TIMEOUT": "0s"}, []string{"-demo"},
			"INVITEGW_SHUTDOWN_TIMEOUT must be between 1s and 24h0m0s, got 0s"},
		{"drain negative", map[string]string{"INVITEGW_SHUTDOWN_DRAIN": "-1s"}, []string{"-demo"},
			"INVITEGW_SHUTDOWN_DRAIN must be between 0s and 24h0m0s, got -1s"},
		{"redis url scheme", map[string]string{"INVITEGW_REDIS_URL": "http://localhost:6379"}, []string{"-demo"},
			"INVITEGW_REDIS_URL must look like redis://"},
		{"redis url with password is not echoed", map[string]string{"INVITEGW_REDIS_URL": "ftp://u:hunter2@h"}, []string{"-demo"},
			"INVITEGW_REDIS_URL must look like"},
		{"cluster and sentinel", map[string]string{"INVITEGW_REDIS_CLUSTER_ADDRS": "a:1", "INVITEGW_REDIS_SENTINEL_ADDRS": "b:1"}, []string{"-demo"},
			"not both"},
		{"sentinel without master", map[string]string{"INVITEGW_REDIS_SENTINEL_ADDRS": "b:1"}, []string{"-demo"},
			"INVITEGW_REDIS_SENTINEL_MASTER is required"},
		{"stray argument", nil, []string{"extra"}, `unexpected argument "extra"`},
		{"unknown frontier protocol", map[string]string{"INVITEGW_FRONTIER_PROTOCOL": "grpc"}, []string{"-demo"},
			`INVITEGW_FRONTIER_PROTOCOL must be rest or connect, got "grpc"`},
		{"short api key", map[string]string{"INVITEGW_API_KEYS": "0123456789abcdef,hunter2"}, []string{"-demo"},
			"INVITEGW_API_KEYS: auth: API key entry 2: the key must be at least 16 characters"},
		{"short named api key", map[string]string{"INVITEGW_API_KEYS": "console hunter2 invitations:read"}, []string{"-demo"},
			"INVITEGW_API_KEYS: auth: API key entry 1: the key must be at least 16 characters"},
		{"api key with a bad scope", map[string]string{"INVITEGW_API_KEYS": "console hunter2-0123456789abcdef invitations/read"}, []string{"-demo"},
			"INVITEGW_API_KEYS: auth: API key entry 1: scope 1 must be letters"},
		{"api keys sharing a name", map[string]string{"INVITEGW_API_KEYS": "ci hunter2-0123456789abcdef, ci 0123456789abcdef"}, []string{"-demo"},
			"INVITEGW_API_KEYS: auth: API key entry 2: has the name of entry 1"},
		{"jwks url without issuers", map[string]string{"INVITEGW_JWT_JWKS_URL": "https://idp/jwks", "INVITEGW_JWT_AUDIENCES": "a"}, []string{"-demo"},
			"INVITEGW_JWT_ISSUERS is required when INVITEGW_JWT_JWKS_URL is set"},
		{"jwks url without audiences", map[string]string{"INVITEGW_JWT_JWKS_URL": "https://idp/jwks", "INVITEGW_JWT_ISSUERS": "https://idp/"}, []string{"-demo"},
			"INVITEGW_JWT_AUDIENCES is required when INVITEGW_JWT_JWKS_URL is set"},
		{"issuers without a jwks url", map[string]string{"INVITEGW_JWT_ISSUERS": "https://idp/"}, []string{"-demo"},
			"INVITEGW_JWT_JWKS_URL is required when INVITEGW_JWT_ISSUERS or INVITEGW_JWT_AUDIENCES is set"},
		{"jwks url not http", map[string]string{"INVITEGW_JWT_JWKS_URL": "file:///etc/jwks.json", "INVITEGW_JWT_ISSUERS": "i", "INVITEGW_JWT_AUDIENCES": "a"}, nil,
			`INVITEGW_JWT_JWKS_URL must be an absolute http(s) URL, got "file:///etc/jwks.json"`},
		{"jwks url with credentials is not echoed", map[string]string{"INVITEGW_JWT_JWKS_URL": "https://u:hunter2@idp/jwks", "INVITEGW_JWT_ISSUERS": "i", "INVITEGW_JWT_AUDIENCES": "a"}, nil,
			"INVITEGW_JWT_JWKS_URL must not contain credentials"},
		{"scope claim with a space", map[string]string{"INVITEGW_JWT_JWKS_URL": "https://idp/jwks", "INVITEGW_JWT_ISSUERS": "i", "INVITEGW_JWT_AUDIENCES": "a",
			"INVITEGW_JWT_SCOPE_CLAIM": "my scopes"}, []string{"-demo"}, "INVITEGW_JWT_SCOPE_CLAIM must be a claim name without spaces"},
		{"cors origin with a path", map[string]string{"INVITEGW_CORS_ORIGINS": "https://app.example.com/x"}, []string{"-demo"},
			"INVITEGW_CORS_ORIGINS entries must be origins"},
		{"timeout too short", map[string]string{"INVITEGW_ELASTIC_TIMEOUT": "1ms"}, []string{"-demo"},
			"INVITEGW_ELASTIC_TIMEOUT must be between 100ms and 24h0m0s"},
		{"rate not a number", map[string]string{"INVITEGW_REDPANDA_RATE": "500/min"}, []string{"-demo"},
			`INVITEGW_REDPANDA_RATE must be a number, got "500/min"`},
		{"rate negative", map[string]string{"INVITEGW_ELASTIC_RATE": "-1"}, []string{"-demo"},
			"INVITEGW_ELASTIC_RATE must be 0 (off) or calls a second from 0.01 to 100000, got -1"},
		{"rate too small to keep", map[string]string{"INVITEGW_FRONTIER_RATE": "0.001"}, []string{"-demo"},
			"INVITEGW_FRONTIER_RATE must be 0 (off) or calls a second from 0.01 to 100000, got 0.001"},
		{"burst zero", map[string]string{"INVITEGW_REDPANDA_BURST": "0"}, []string{"-demo"},
			"INVITEGW_REDPANDA_BURST must be a whole number from 1 to 100000, got 0"},
		{"burst not whole", map[string]string{"INVITEGW_ELASTIC_BURST": "2.5"}, []string{"-demo"},
			`INVITEGW_ELASTIC_BURST must be a whole number, got "2.5"`},
		{"introspection not a boolean", map[string]string{"INVITEGW_INTROSPECTION": "yes please"}, []string{"-demo"},
			"INVITEGW_INTROSPECTION must be true or false"},
		{"cache neither on nor off", map[string]string{"INVITEGW_CACHE": "disabled"}, []string{"-demo"},
			`INVITEGW_CACHE must be on or off, got "disabled"`},
		{"response cache neither on nor off", map[string]string{"INVITEGW_CACHE_RESPONSES": "no"}, []string{"-demo"},
			`INVITEGW_CACHE_RESPONSES must be on or off, got "no"`},
		{"cache off with redis", map[string]string{"INVITEGW_CACHE": "off", "INVITEGW_REDIS_URL": "redis://localhost:6379/0"}, []string{"-demo"},
			"INVITEGW_CACHE=off and a Redis address are both set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.args, env(tt.env), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error echoes a credential: %v", err)
			}
		})
	}
}

// TestLoadAuth: the API keys and JWT settings reach AuthOptions as auth.New takes them.
func TestLoadAuth(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want auth.Options
	}{
		{"nothing: an open gateway", nil, auth.Options{}},
		{"keys", map[string]string{"INVITEGW_API_KEYS": "legacy-0123456789abcdef, console k-console-0123456789 invitations:read invitations:write,ops k-ops-0123456789abcdef"},
			auth.Options{APIKeys: []auth.APIKey{
				{Name: "key-1", Key: "legacy-0123456789abcdef"},
				{Name: "console", Key: "k-console-0123456789", Scopes: []string{"invitations:read", "invitations:write"}},
				{Name: "ops", Key: "k-ops-0123456789abcdef"},
			}}},
		{"JWTs with the default scope claim", map[string]string{
			"INVITEGW_JWT_JWKS_URL":  "https://idp.example.com/.well-known/jwks.json",
			"INVITEGW_JWT_ISSUERS":   "https://idp.example.com/, https://idp2.example.com/",
			"INVITEGW_JWT_AUDIENCES": "invitegw",
		}, auth.Options{JWT: &auth.JWTOptions{
			JWKSURL:    "https://idp.example.com/.well-known/jwks.json",
			Issuers:    []string{"https://idp.example.com/", "https://idp2.example.com/"},
			Audiences:  []string{"invitegw"},
			ScopeClaim: "scope",
		}}},
		{"JWTs with scp and a key", map[string]string{
			"INVITEGW_JWT_JWKS_URL":    "http://keycloak:8080/realms/x/protocol/openid-connect/certs",
			"INVITEGW_JWT_ISSUERS":     "http://keycloak:8080/realms/x",
			"INVITEGW_JWT_AUDIENCES":   "invitegw,account",
			"INVITEGW_JWT_SCOPE_CLAIM": "scp",
			"INVITEGW_API_KEYS":        "ci k-ci-0123456789abcdef invitations:read",
		}, auth.Options{
			JWT: &auth.JWTOptions{
				JWKSURL:    "http://keycloak:8080/realms/x/protocol/openid-connect/certs",
				Issuers:    []string{"http://keycloak:8080/realms/x"},
				Audiences:  []string{"invitegw", "account"},
				ScopeClaim: "scp",
			},
			APIKeys: []auth.APIKey{{Name: "ci", Key: "k-ci-0123456789abcdef", Scopes: []string{"invitations:read"}}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{"INVITEGW_REDPANDA_TOKEN": "t"}
			maps.Copy(vars, tt.env)
			c, err := Load(nil, env(vars), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.AuthOptions(); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v %+v\nwant %+v %+v", got, got.JWT, tt.want, tt.want.JWT)
			}
		})
	}
}

func TestLoadNoProviderIsTyped(t *testing.T) {
	_, err := Load(nil, env(nil), io.Discard)
	if !errors.Is(err, ErrNoProvider) {
		t.Fatalf("err = %v, want ErrNoProvider", err)
	}
}

func TestLoadCache(t *testing.T) {
	c, err := Load([]string{"-demo"}, env(map[string]string{
		"INVITEGW_REDIS_URL":                    "rediss://u:p@redis.internal:6380/2",
		"INVITEGW_CACHE_TTL_INVITATIONS":        "45s",
		"INVITEGW_CACHE_TTL_DIRECTORY":          "1h",
		"INVITEGW_CACHE_STALE_GRACE":            "0s",
		"INVITEGW_CACHE_STALE_WHILE_REVALIDATE": "0s",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := Cache{RedisURL: "rediss://u:p@redis.internal:6380/2", TTLInvitations: 45 * time.Second, TTLDirectory: time.Hour}
	if !reflect.DeepEqual(c.Cache, want) || !c.Cache.Redis() {
		t.Fatalf("got %+v, want %+v", c.Cache, want)
	}
}

func TestLoadCacheOffAndPprof(t *testing.T) {
	c, err := Load([]string{"-demo", "-pprof-addr", "127.0.0.1:6061"}, env(map[string]string{
		"INVITEGW_CACHE": "off", "INVITEGW_PPROF_ADDR": "127.0.0.1:6060", "INVITEGW_CACHE_RESPONSES": "off",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !bool(c.Cache.Off) || !bool(c.Cache.NoResponses) || c.Cache.Redis() {
		t.Fatalf("cache = %+v, want off without Redis", c.Cache)
	}
	if c.PprofAddr != "127.0.0.1:6061" { // the flag wins over the environment
		t.Fatalf("PprofAddr = %q, want the flag's 127.0.0.1:6061", c.PprofAddr)
	}
}

func TestLoadDemoNeedsNothing(t *testing.T) {
	c, err := Load([]string{"-demo"}, env(nil), io.Discard)
	if err != nil || !c.Demo || c.Addr != ":8080" || !c.Introspection {
		t.Fatalf("Load(-demo) = %+v, %v", c, err)
	}
}

func TestLoadShutdown(t *testing.T) {
	tests := []struct {
		name         string
		args         []string
		env          map[string]string
		drain, limit time.Duration
	}{
		{"production defaults", nil, map[string]string{"INVITEGW_REDPANDA_TOKEN": "t"}, 5 * time.Second, 10 * time.Second},
		{"the demo stops at once", []string{"-demo"}, nil, 0, 10 * time.Second},
		{"the demo with a drain", []string{"-demo"}, map[string]string{"INVITEGW_SHUTDOWN_DRAIN": "2s"}, 2 * time.Second, 10 * time.Second},
		{"set", nil, map[string]string{"INVITEGW_REDPANDA_TOKEN": "t", "INVITEGW_SHUTDOWN_DRAIN": "0s", "INVITEGW_SHUTDOWN_TIMEOUT": "30s"},
			0, 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.args, env(tt.env), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if c.ShutdownDrain != tt.drain || c.ShutdownTimeout != tt.limit {
				t.Fatalf("drain %v, timeout %v; want %v, %v", c.ShutdownDrain, c.ShutdownTimeout, tt.drain, tt.limit)
			}
		})
	}
}

// TestLoadBudgets: the budgets' defaults, what setting them does, and -demo, whose fakes limit
// nothing, without one unless it is set.
func TestLoadBudgets(t *testing.T) {
	type budget struct {
		rate  float64
		burst int
	}
	tests := []struct {
		name                        string
		args                        []string
		env                         map[string]string
		redpanda, elastic, frontier budget
	}{
		{"defaults", nil, map[string]string{"INVITEGW_REDPANDA_TOKEN": "t"}, budget{8.333333, 50}, budget{10, 20}, budget{50, 100}},
		{"set", nil, map[string]string{"INVITEGW_REDPANDA_TOKEN": "t", "INVITEGW_REDPANDA_RATE": "2.5", "INVITEGW_REDPANDA_BURST": "5",
			"INVITEGW_FRONTIER_RATE": "0"}, budget{2.5, 5}, budget{10, 20}, budget{0, 100}},
		{"the demo has none", []string{"-demo"}, nil, budget{0, 50}, budget{0, 20}, budget{0, 100}},
		{"the demo with one", []string{"-demo"}, map[string]string{"INVITEGW_ELASTIC_RATE": "1", "INVITEGW_ELASTIC_BURST": "3"},
			budget{0, 50}, budget{1, 3}, budget{0, 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.args, env(tt.env), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			got := [3]budget{{c.Redpanda.Rate, c.Redpanda.Burst}, {c.Elastic.Rate, c.Elastic.Burst}, {c.Frontier.Rate, c.Frontier.Burst}}
			if want := [3]budget{tt.redpanda, tt.elastic, tt.frontier}; got != want {
				t.Fatalf("budgets %v, want %v", got, want)
			}
		})
	}
}

func TestLoadQueryLimits(t *testing.T) {
	c, err := Load([]string{"-demo"}, env(map[string]string{"INVITEGW_MAX_QUERY_TOKENS": "20000", "INVITEGW_MAX_QUERY_FIELDS": "300"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxQueryTokens != 20000 || c.MaxQueryFields != 300 {
		t.Fatalf("tokens %d, fields %d", c.MaxQueryTokens, c.MaxQueryFields)
	}
	if c, _ := Load([]string{"-demo"}, env(nil), io.Discard); c.MaxQueryTokens != 0 || c.MaxQueryFields != 0 {
		t.Fatalf("unset: tokens %d, fields %d; want 0 (the gateway's defaults)", c.MaxQueryTokens, c.MaxQueryFields)
	}
}

// TestHelpAndVersionDespiteABadEnvironment: asking for the usage or the version is answered
// even when a variable would stop start-up.
func TestHelpAndVersionDespiteABadEnvironment(t *testing.T) {
	bad := env(map[string]string{"INVITEGW_REQUEST_TIMEOUT": "soon"})
	if _, err := Load([]string{"-h"}, bad, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: err = %v, want flag.ErrHelp", err)
	}
	if c, err := Load([]string{"-version"}, bad, io.Discard); err != nil || !c.Version {
		t.Fatalf("-version: %+v, %v", c, err)
	}
	if _, err := Load([]string{"-demo"}, bad, io.Discard); err == nil || !strings.Contains(err.Error(), "INVITEGW_REQUEST_TIMEOUT") {
		t.Fatalf("-demo: err = %v, want the variable named", err)
	}
}
