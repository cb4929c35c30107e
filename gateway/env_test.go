package gateway_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/invitegw/invitegw/audit"
	"github.com/invitegw/invitegw/auth"
	"github.com/invitegw/invitegw/cache"
	"github.com/invitegw/invitegw/gateway"
	"github.com/invitegw/invitegw/idempotency"
	"github.com/invitegw/invitegw/internal/testlog"
	"github.com/invitegw/invitegw/loaders"
	"github.com/invitegw/invitegw/metrics"
	"github.com/invitegw/invitegw/providers"
	"github.com/invitegw/invitegw/ratelimit"
	"github.com/invitegw/invitegw/tracing"
	"github.com/invitegw/invitegw/upstream"
	"github.com/invitegw/invitegw/upstream/elastic"
	"github.com/invitegw/invitegw/upstream/elastic/elasticfake"
	"github.com/invitegw/invitegw/upstream/frontier"
	"github.com/invitegw/invitegw/upstream/frontier/frontierfake"
	"github.com/invitegw/invitegw/upstream/redpanda"
	"github.com/invitegw/invitegw/upstream/redpanda/redpandafake"
)

// frontierProtocol picks the API the Frontier fake and client speak; make test runs this
// package's whole table once per protocol.
var frontierProtocol = flag.String("frontier-protocol", "rest", "Frontier protocol for the gateway tests: rest or connect")

// now is the tests' fixed clock.
var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// Credentials the fakes accept. Tests grep responses and logs for them.
const (
	rpClientID     = "rp-client-id-0001"
	rpClientSecret = "rp-client-secret-0001"
	rpToken        = "rp-test-token-0001"
	ecKey          = "ec-test-key-0001"
	frToken        = "fr-test-token-0001"
)

// upstreamTimeout bounds each upstream call, as config's default does (5s): the clients
// require one and substitute none.
const upstreamTimeout = 5 * time.Second

// env is a gateway wired to the three fakes, each on its own real socket.
type env struct {
	rp  *redpandafake.Server
	ec  *elasticfake.Server
	fr  *frontierfake.Server
	gw  *httptest.Server
	log *testlog.Buffer
	// clock is read by the gateway on every status derivation; tests may move it.
	clock *clock
	opts  envOptions

	rpURL, ecURL, frURL string
	cache               *cache.Cache // of the first gateway; nil without a store
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time)         { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

type envOptions struct {
	rpPageSize   int      // fake's max page size; 0 = 100
	elasticOrgs  []string // configured orgs; default {"1004"}
	frontierOrgs []string // default {"f-org-1"}
	ecKey        string   // key the gateway sends; default ecKey
	// store backs the gateway's cache; nil means no cache.
	store cache.Store
	// noResponseCache turns the response cache off (it is on whenever store is set).
	noResponseCache bool
	// swr is the cache's stale-while-revalidate window; 0: off.
	swr time.Duration
	// noIntrospection runs the gateway as production does by default: introspection off.
	noIntrospection bool
	// apiKeys are INVITEGW_API_KEYS entries (auth.ParseAPIKeys); jwt turns JWTs on.
	apiKeys []string
	jwt     *auth.JWTOptions
	// auditStore keeps the audit trail; nil: the gateway's own in-memory one.
	auditStore audit.Store
	// views, when set, keeps the loaders' views (the gateway's own otherwise).
	views *loaders.Views
	// gqlgenPages turns package render off; metrics, when set, is the gateway's.
	gqlgenPages bool
	metrics     *metrics.Metrics
	// idempotency keeps Idempotency-Key answers; nil: the gateway's own in-memory store.
	idempotency    idempotency.Store
	corsOrigins    []string
	requestTimeout time.Duration
	// tracing, when set, instruments the gateway and its upstream HTTP client.
	tracing *tracing.Tracing
	// transport, when set, wraps the upstream HTTP client's transport.
	transport func(http.RoundTripper) http.RoundTripper
	// policy, when set, is given to every client (each provider its own copy).
	policy func() *upstream.Policy
	// budget, when set, keeps each provider's calls to a budget of its own (package
	// ratelimit), added to policy's, logging to the gateway's log and on its clock.
	budget *budget
	// rpClientCredentials makes the gateway authenticate to Redpanda with client credentials
	// instead of the static token: another credential for the same organization.
	rpClientCredentials bool
}

// budget is a call budget per provider: rate a second, burst at once, shared through redis
// when set.
type budget struct {
	rate  float64
	burst int
	redis redis.UniversalClient
}

// withDefaults fills in what o leaves unset, for the first gateway and for every other one.
func (o envOptions) withDefaults() envOptions {
	if o.elasticOrgs == nil {
		o.elasticOrgs = []string{"1004"}
	}
	if o.frontierOrgs == nil {
		o.frontierOrgs = []string{"f-org-1"}
	}
	if o.ecKey == "" {
		o.ecKey = ecKey
	}
	if o.requestTimeout == 0 {
		o.requestTimeout = 15 * time.Second
	}
	return o
}

// newEnv starts empty fakes and a gateway over them; seed with the fakes' Add methods.
func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	o = o.withDefaults()
	e := &env{
		rp: redpandafake.New(redpandafake.Options{Token: rpToken, ClientID: rpClientID, ClientSecret: rpClientSecret,
			OrgID: "rp-org-1", OrgName: "Acme Streaming", MaxPageSize: o.rpPageSize}),
		ec:    elasticfake.New(elasticfake.Options{APIKey: ecKey}),
		fr:    frontierfake.New(frontierfake.Options{Token: frToken, Protocol: *frontierProtocol}),
		log:   &testlog.Buffer{},
		clock: &clock{t: now},
		opts:  o,
	}
	registerLog(e.log)
	rpSrv, ecSrv, frSrv := httptest.NewServer(e.rp), httptest.NewServer(e.ec), httptest.NewServer(e.fr)
	t.Cleanup(rpSrv.Close)
	t.Cleanup(ecSrv.Close)
	t.Cleanup(frSrv.Close)
	e.rpURL, e.ecURL, e.frURL = rpSrv.URL, ecSrv.URL, frSrv.URL
	e.gw, e.cache = e.newGateway(t, o)
	return e
}

// newGateway starts another gateway instance over the same fakes, as a second replica would
// run, configured by o alone (defaults filled in); o.store may be shared with the first.
func (e *env) newGateway(t testing.TB, o envOptions) (*httptest.Server, *cache.Cache) {
	t.Helper()
	o = o.withDefaults()
	hc := upstream.NewHTTPClient()
	if o.tracing != nil {
		hc.Transport = o.tracing.Transport(hc.Transport)
	}
	if o.transport != nil {
		hc.Transport = o.transport(hc.Transport)
	}
	logger := e.log.Logger()
	pol := func(provider string) *upstream.Policy {
		var p *upstream.Policy
		if o.policy != nil {
			p = o.policy()
		}
		if o.budget == nil {
			return p
		}
		if p == nil {
			p = &upstream.Policy{}
		}
		l, err := ratelimit.New(ratelimit.Options{Provider: provider, Rate: o.budget.rate, Burst: o.budget.burst, Redis: o.budget.redis,
			Logger: logger, Now: e.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		p.Limiter = l
		return p
	}
	rpOpts := redpanda.Options{BaseURL: e.rpURL, HTTP: hc, Timeout: upstreamTimeout, Token: rpToken, Policy: pol("redpanda")}
	if o.rpClientCredentials {
		rpOpts = redpanda.Options{BaseURL: e.rpURL, HTTP: hc, Timeout: upstreamTimeout, ClientID: rpClientID, ClientSecret: rpClientSecret,
			TokenURL: e.rpURL + "/oauth/token", Policy: pol("redpanda")}
	}
	rp, err := redpanda.NewClient(rpOpts)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := elastic.NewClient(elastic.Options{BaseURL: e.ecURL, HTTP: hc, Timeout: upstreamTimeout, APIKey: o.ecKey, Policy: pol("elastic")})
	if err != nil {
		t.Fatal(err)
	}
	fr, err := frontier.NewClient(frontier.Options{BaseURL: e.frURL, HTTP: hc, Timeout: upstreamTimeout, Token: frToken, Protocol: *frontierProtocol,
		Policy: pol("frontier")})
	if err != nil {
		t.Fatal(err)
	}
	var c *cache.Cache
	if o.store != nil {
		c = cache.New(o.store, cache.Options{Now: e.clock.Now, Logger: logger, BreakerOpenFor: 50 * time.Millisecond, StaleGrace: 10 * time.Minute,
			StaleWhileRevalidate: o.swr})
	}
	set, err := providers.New(providers.Options{
		Redpanda: rp, Elastic: ec, ElasticOrgs: o.elasticOrgs, Frontier: fr, FrontierOrgs: o.frontierOrgs,
		Cache: c, TTL: providers.TTL{Invitations: 30 * time.Second, Directory: 5 * time.Minute},
	})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := auth.ParseAPIKeys(o.apiKeys)
	if err != nil {
		t.Fatal(err)
	}
	authn, err := auth.New(context.Background(), auth.Options{APIKeys: keys, JWT: o.jwt, Logger: logger, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = authn.Close() })
	opts := gateway.Options{Providers: set, Logger: logger, Now: e.clock.Now, Introspection: !o.noIntrospection, GraphiQL: !o.noIntrospection,
		Auth: authn, AuditStore: o.auditStore, Idempotency: o.idempotency, GQLGenPages: o.gqlgenPages, Metrics: o.metrics, CORSOrigins: o.corsOrigins, RequestTimeout: o.requestTimeout, Tracing: o.tracing}
	if o.views != nil {
		opts.Loaders = &loaders.Options{Wait: loaders.DefaultOptions.Wait, Views: o.views}
	}
	if c != nil {
		opts.APQ = c.APQ()
		opts.ResponseCache = !o.noResponseCache
	}
	h, err := gateway.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	gw := httptest.NewServer(h)
	t.Cleanup(gw.Close)
	return gw, c
}

// gqlError is one entry of a response's errors list.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type response struct {
	Data       json.RawMessage `json:"data"`
	Errors     []gqlError      `json:"errors"`
	Extensions map[string]any  `json:"extensions"`
	raw        string
}

// query POSTs a GraphQL request to the first gateway and decodes the answer.
func (e *env) query(t *testing.T, q string, vars map[string]any) response {
	t.Helper()
	return post(t, e.gw, map[string]any{"query": q, "variables": vars})
}

// post sends a GraphQL request body to gw and decodes the answer.
func post(t *testing.T, gw *httptest.Server, req map[string]any) response {
	t.Helper()
	return postWith(t, gw, nil, req)
}

// postWith is post with request headers besides Content-Type.
func postWith(t *testing.T, gw *httptest.Server, header map[string]string, req map[string]any) response {
	t.Helper()
	body, _ := json.Marshal(req)
	r, err := http.NewRequest(http.MethodPost, gw.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		r.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	var out response
	if err := json.Unmarshal(buf.Bytes(), &out); err != nil {
		t.Fatalf("status %d, body %q: %v", resp.StatusCode, buf.String(), err)
	}
	out.raw = buf.String()
	return out
}

// data decodes the response data into v, failing on any error in the response.
func (r response) data(t *testing.T, v any) {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("unexpected errors: %s", r.raw)
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("decode data %s: %v", r.Data, err)
	}
}

// jsonEq compares a response's data with the expected JSON, ignoring formatting.
func jsonEq(t *testing.T, got json.RawMessage, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("bad JSON %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expected JSON: %v", err)
	}
	gb, _ := json.MarshalIndent(g, "", "  ")
	wb, _ := json.MarshalIndent(w, "", "  ")
	if string(gb) != string(wb) {
		t.Fatalf("data mismatch\n got: %s\nwant: %s", gb, wb)
	}
}

// digest is sha256(token)'s first 16 hex characters, computed here independently of the code
// under test.
func digest(token string) string {
	s := sha256.Sum256([]byte(token))
	return hex.EncodeToString(s[:])[:16]
}

func ts(d time.Duration) time.Time  { return now.Add(d) }
func tp(d time.Duration) *time.Time { t := now.Add(d); return &t }

const day = 24 * time.Hour

// Elastic tokens of the standard seed: secrets that must never leave the gateway.
var ecTokens = []string{"ec-secret-token-aaaa", "ec-secret-token-bbbb", "ec-secret-token-cccc"}

// seed fills the fakes with the standard data set: 8 invitations over 3 providers.
//
// Expected order (createdAt desc, id asc):
//
//	frontier:f-org-1:inv-1   now-30m
//	redpanda:rp-1            now-1h
//	elastic:1004:<aaaa>      now-2h
//	frontier:f-org-1:inv-2   now-3h  (ties with rp-3; "frontier" < "redpanda")
//	redpanda:rp-3            now-3h
//	elastic:1004:<bbbb>      now-4h  ACCEPTED
//	redpanda:rp-2            now-5h  EXPIRED
//	elastic:1004:<cccc>      now-6h  EXPIRED (flag)
func (e *env) seed() {
	e.rp.Add(
		redpandafake.Invite{ID: "rp-1", Email: "ada@example.com", InviteURL: "https://cloud.redpanda.com/invite/rp-1",
			CreatedAt: ts(-time.Hour), ExpiresAt: ts(7 * day), RoleBindings: []redpandafake.RoleBinding{
				{RoleName: "Admin", ResourceType: "SCOPE_RESOURCE_TYPE_ORGANIZATION", ResourceID: "rp-org-1"},
				{RoleName: "Reader", ResourceType: "SCOPE_RESOURCE_TYPE_MCPSERVER", ResourceID: "mcp-1"},
			}},
		redpandafake.Invite{ID: "rp-2", Email: "grace@example.com", InviteURL: "https://cloud.redpanda.com/invite/rp-2",
			CreatedAt: ts(-5 * time.Hour), ExpiresAt: ts(-time.Hour)},
		redpandafake.Invite{ID: "rp-3", Email: "alan@example.com", InviteURL: "https://cloud.redpanda.com/invite/rp-3",
			CreatedAt: ts(-3 * time.Hour), ExpiresAt: ts(day), RoleBindings: []redpandafake.RoleBinding{
				{RoleName: "Writer", ResourceType: "SCOPE_RESOURCE_TYPE_CLUSTER", ResourceID: "c-1"},
			}},
	)
	e.ec.AddOrganization("1004", "Acme Search")
	e.ec.AddInvitation("1004", elasticfake.Invitation{Token: ecTokens[0], Email: "barbara@example.com",
		CreatedAt: ts(-2 * time.Hour), ExpiresAt: ts(3 * day),
		RoleAssignments: json.RawMessage(`{"organization":[{"role_id":"billing-admin","organization_id":"1004"}]}`)})
	e.ec.AddInvitation("1004", elasticfake.Invitation{Token: ecTokens[1], Email: "Ada@Example.com",
		CreatedAt: ts(-4 * time.Hour), ExpiresAt: ts(day), AcceptedAt: tp(-30 * time.Minute),
		RoleAssignments: json.RawMessage(`{"deployment":[{"role_id":"deployment-viewer","organization_id":"1004","all":true}]}`)})
	e.ec.AddInvitation("1004", elasticfake.Invitation{Token: ecTokens[2], Email: "ken@example.com",
		CreatedAt: ts(-6 * time.Hour), ExpiresAt: ts(-2 * time.Hour), Expired: true})

	e.fr.AddOrganization("f-org-1", "acme-data", "Acme Data")
	e.fr.AddPlatformRole(frontierfake.Role{ID: "role-viewer", Name: "app_organization_viewer", Title: "Member"})
	e.fr.AddOrganizationRole("f-org-1", frontierfake.Role{ID: "role-auditor", Name: "acme_auditor", Title: "Auditor"})
	e.fr.AddGroup("f-org-1", frontierfake.Group{ID: "grp-1", Name: "engineering", Title: "Engineering"})
	e.fr.AddInvitation("f-org-1", frontierfake.Invitation{ID: "inv-1", UserID: "margaret@example.com",
		CreatedAt: ts(-30 * time.Minute), ExpiresAt: ts(7 * day),
		RoleIDs: []string{"role-viewer", "role-auditor"}, GroupIDs: []string{"grp-1"},
		Metadata: map[string]any{"invited_by": "admin@acme.test"}})
	e.fr.AddInvitation("f-org-1", frontierfake.Invitation{ID: "inv-2", UserID: "linus@example.com",
		CreatedAt: ts(-3 * time.Hour), ExpiresAt: ts(2 * day)})
}

// allIDs is the standard seed's IDs in their expected order.
func allIDs() []string {
	return []string{
		"frontier:f-org-1:inv-1",
		"redpanda:rp-1",
		"elastic:1004:" + digest(ecTokens[0]),
		"frontier:f-org-1:inv-2",
		"redpanda:rp-3",
		"elastic:1004:" + digest(ecTokens[1]),
		"redpanda:rp-2",
		"elastic:1004:" + digest(ecTokens[2]),
	}
}

// assertNoSecrets fails if any credential or Elastic token appears in s.
func assertNoSecrets(t *testing.T, what, s string) {
	t.Helper()
	for _, secret := range append([]string{rpToken, rpClientSecret, ecKey, frToken}, ecTokens...) {
		if strings.Contains(s, secret) {
			t.Errorf("%s contains the secret %q", what, secret)
		}
	}
}
