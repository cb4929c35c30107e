package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/invitegw/invitegw/demo"
	"github.com/invitegw/invitegw/upstream/elastic/elasticfake"
	"github.com/invitegw/invitegw/upstream/fakeserver"
	"github.com/invitegw/invitegw/upstream/frontier/frontierfake"
	"github.com/invitegw/invitegw/upstream/redpanda/redpandafake"
)

// The fixed data set of issue 6: 3 providers, 12 organizations, 600 invitations, Redpanda's
// list over 6 pages. The larger sets of the scale table multiply it (see newDataSet).
const (
	baseInvitations  = 600
	redpandaPageSize = 25    // the fake caps every page at this, so 150 invites take 6 pages
	redpandaAsk      = "100" // the page_size a client asks for (the largest allowed)
)

// dataSet is the shape of the fakes' data: how many invitations each provider holds, over how
// many organizations.
type dataSet struct {
	invitations     int
	redpandaInvites int // Redpanda's one organization (a token reads one)
	elasticOrgs     int
	elasticPerOrg   int
	frontierOrgs    int
	frontierPerOrg  int
}

// newDataSet is the data set of n invitations, n a multiple of 600: issue 6's set (Redpanda
// 150 invites, Elastic 6 organizations of 50, Frontier 5 of 30) scaled by f = n/600. Redpanda's
// list grows f times (f times the pages); Elastic and Frontier get k times the organizations
// and f/k times the invitations in each, k the largest divisor of f not above its square root
// (6,000: twice the organizations, 5 times the invitations; 60,000: 10 and 10).
func newDataSet(n int) (dataSet, error) {
	if n < baseInvitations || n%baseInvitations != 0 {
		return dataSet{}, fmt.Errorf("bench: a data set is a multiple of %d invitations, not %d", baseInvitations, n)
	}
	f := n / baseInvitations
	k := 1
	for d := 1; d*d <= f; d++ {
		if f%d == 0 {
			k = d
		}
	}
	return dataSet{invitations: n, redpandaInvites: 150 * f,
		elasticOrgs: 6 * k, elasticPerOrg: 50 * f / k, frontierOrgs: 5 * k, frontierPerOrg: 30 * f / k}, nil
}

// redpandaPages is how many pages Redpanda's list takes.
func (d dataSet) redpandaPages() int {
	return (d.redpandaInvites + redpandaPageSize - 1) / redpandaPageSize
}

// organizations counts every provider's organizations.
func (d dataSet) organizations() int { return 1 + d.elasticOrgs + d.frontierOrgs }

// String describes the set as the report does.
func (d dataSet) String() string {
	return fmt.Sprintf("Redpanda (1 organization, %d invites over %d pages), Elastic (%d organizations, %d invitations), Frontier (%d organizations, %d invitations): %d organizations, %d invitations",
		d.redpandaInvites, d.redpandaPages(), d.elasticOrgs, d.elasticOrgs*d.elasticPerOrg, d.frontierOrgs, d.frontierOrgs*d.frontierPerOrg,
		d.organizations(), d.invitations)
}

// Credentials of the fakes. They guard nothing but loopback sockets that live for one run.
const (
	redpandaToken = "bench-redpanda-token"
	elasticAPIKey = "bench-elastic-api-key"
	frontierToken = "bench-frontier-token"
	redpandaOrgID = "cnl3b0f7a2gq9s8d1e0b"
)

// provider is one fake upstream as the benchmark sees it: its call counters (the fake's own
// Recorder, by route) and a counter of distinct requests in front of it.
type provider struct {
	name     string
	rec      *fakeserver.Recorder
	routes   []string // the Recorder's route names, for the per-route breakdown
	distinct *distinct
}

// upstreams are the three fakes, seeded and serving on 127.0.0.1.
type upstreams struct {
	data      dataSet
	seeded    time.Duration // how long seeding the fakes took
	providers []*provider
	// env points invitegw at the fakes.
	env         []string
	redpandaURL string
	servers     []*http.Server
	timeline    *timeline
	recorder    *recorder // the requests of one cold query, for the fan-out floor
}

// startUpstreams seeds the fakes with data relative to now (so statuses are what the seed says
// for the whole run) and serves them on loopback ports chosen by the OS. Every call waits
// delay. The seed depends on the set's size only, so a set is the same in every run.
func startUpstreams(now time.Time, data dataSet, frontierProtocol string, delay time.Duration) (*upstreams, error) {
	t0 := time.Now()
	now = now.UTC().Truncate(time.Second)
	rnd := rand.New(rand.NewPCG(6, uint64(data.invitations)))
	rp := redpandafake.New(redpandafake.Options{Token: redpandaToken, OrgID: redpandaOrgID, OrgName: "Bench Streaming", MaxPageSize: redpandaPageSize})
	ec := elasticfake.New(elasticfake.Options{APIKey: elasticAPIKey})
	fr := frontierfake.New(frontierfake.Options{Token: frontierToken, Protocol: frontierProtocol})
	seedRedpanda(rp, rnd, now, data)
	ecOrgs := seedElastic(ec, rnd, now, data)
	frOrgs := seedFrontier(fr, rnd, now, data)

	u := &upstreams{data: data, seeded: time.Since(t0), timeline: &timeline{}, recorder: &recorder{}, providers: []*provider{
		{name: "Redpanda", rec: rp.Recorder, distinct: newDistinct(),
			routes: []string{"Token", "ListUserInvites", "GetUserInvite", "UpdateUserInvite", "GetCurrentOrganization", "NotFound"}},
		{name: "Elastic", rec: ec.Recorder, distinct: newDistinct(),
			routes: []string{"ListInvitations", "GetOrganization", "NotFound"}},
		{name: "Frontier", rec: fr.Recorder, distinct: newDistinct(),
			routes: []string{"ListOrganizationInvitations", "GetOrganization", "ListRoles", "ListOrganizationRoles", "ListOrganizationGroups", "NotFound"}},
	}}
	var urls []string
	for i, h := range []http.Handler{rp, ec, fr} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			u.close()
			return nil, fmt.Errorf("bench: listen for the %s fake: %w", u.providers[i].name, err)
		}
		base := "http://" + ln.Addr().String()
		u.providers[i].distinct.onRequest = func(r *http.Request, body []byte) { u.recorder.add(base, r, body) }
		srv := &http.Server{Handler: u.providers[i].distinct.wrap(h), ReadHeaderTimeout: 5 * time.Second}
		u.servers = append(u.servers, srv)
		go func() { _ = srv.Serve(ln) }()
		urls = append(urls, base)
		p := u.providers[i]
		p.rec.SetDelay(delay)
		p.rec.OnRequest(func(route string, _ *http.Request) { u.timeline.record(p.name, route) })
	}
	u.redpandaURL = urls[0]
	u.env = []string{
		"INVITEGW_REDPANDA_URL=" + urls[0],
		"INVITEGW_REDPANDA_TOKEN=" + redpandaToken,
		"INVITEGW_ELASTIC_URL=" + urls[1],
		"INVITEGW_ELASTIC_API_KEY=" + elasticAPIKey,
		"INVITEGW_ELASTIC_ORGANIZATIONS=" + strings.Join(ecOrgs, ","),
		"INVITEGW_FRONTIER_URL=" + urls[2],
		"INVITEGW_FRONTIER_TOKEN=" + frontierToken,
		"INVITEGW_FRONTIER_ORGANIZATIONS=" + strings.Join(frOrgs, ","),
		"INVITEGW_FRONTIER_PROTOCOL=" + frontierProtocol,
		// The benchmark drives the gateway far past any provider's rate limit, against fakes
		// that limit nothing: the call budgets would refuse most cold calls (and the Elastic
		// fake's x-ratelimit window, once spent, would hold them for a minute).
		"INVITEGW_REDPANDA_RATE=0", "INVITEGW_ELASTIC_RATE=0", "INVITEGW_FRONTIER_RATE=0",
	}
	return u, nil
}

// close stops the servers.
func (u *upstreams) close() {
	for _, s := range u.servers {
		_ = s.Close()
	}
}

// reset clears every call counter.
func (u *upstreams) reset() {
	for _, p := range u.providers {
		p.rec.Reset()
		p.distinct.reset()
	}
}

// calls is the number of calls all fakes have answered since the last reset.
func (u *upstreams) calls() int {
	n := 0
	for _, p := range u.providers {
		n += p.rec.TotalCalls()
	}
	return n
}

// callCount is what the fakes saw for some GraphQL requests.
type callCount struct {
	calls, distinct int
	most            int      // the most calls of any one distinct request
	byRoute         []string // "Redpanda ListUserInvites 6", in provider and route order
}

// count reads the counters since the last reset.
func (u *upstreams) count() callCount {
	var c callCount
	for _, p := range u.providers {
		c.calls += p.rec.TotalCalls()
		n, most := p.distinct.count()
		c.distinct += n
		c.most = max(c.most, most)
		for _, r := range p.routes {
			if n := p.rec.Calls(r); n > 0 {
				c.byRoute = append(c.byRoute, fmt.Sprintf("%s %s %d", p.name, r, n))
			}
		}
	}
	return c
}

// inFlight is how many upstream calls the fakes are answering now.
func (u *upstreams) inFlight() int64 {
	var n int64
	for _, p := range u.providers {
		n += p.distinct.inFlight.Load()
	}
	return n
}

// settle waits until the fakes have answered every call and received none for quiet: the
// background refreshes that requests started have ended. It gives up after limit.
func (u *upstreams) settle(ctx context.Context, quiet, limit time.Duration) error {
	t0 := time.Now()
	last, since := u.calls(), t0
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
		now := time.Now()
		if n := u.calls(); n != last || u.inFlight() > 0 {
			last, since = n, now
		} else if now.Sub(since) >= quiet {
			return nil
		}
		if now.Sub(t0) > limit {
			return fmt.Errorf("bench: the fakes were still called %s after the last request", limit)
		}
	}
}

// distinct counts the distinct requests a fake answers (method, path, query and, for a POST,
// the body), so that a repeated call for one resource shows up as calls > distinct, and the
// requests it is answering now.
type distinct struct {
	inFlight atomic.Int64

	mu   sync.Mutex
	seen map[string]int // calls of each distinct request
	// onRequest, if set, sees every request with its body.
	onRequest func(r *http.Request, body []byte)
}

func newDistinct() *distinct { return &distinct{seen: map[string]int{}} }

func (d *distinct) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Method + " " + r.URL.RequestURI()
		var body []byte
		if r.Method == http.MethodPost {
			b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err != nil {
				http.Error(w, "bench: read body", http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(b))
			key += " " + string(b)
			body = b
		}
		if d.onRequest != nil {
			d.onRequest(r, body)
		}
		d.mu.Lock()
		d.seen[key]++
		d.mu.Unlock()
		d.inFlight.Add(1)
		defer d.inFlight.Add(-1)
		h.ServeHTTP(w, r)
	})
}

// count is how many distinct requests there were, and the most calls of one of them.
func (d *distinct) count() (n, most int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.seen {
		most = max(most, c)
	}
	return len(d.seen), most
}

func (d *distinct) reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	clear(d.seen)
}

// timeline records when each upstream call arrives, while on: it shows which calls wait for
// others.
type timeline struct {
	mu    sync.Mutex
	on    bool
	start time.Time
	calls []arrival
}

// arrival is one upstream call, at its offset from the start of the GraphQL request.
type arrival struct {
	at              time.Duration
	provider, route string
}

func (t *timeline) begin() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.on, t.start, t.calls = true, time.Now(), nil
}

func (t *timeline) end() []arrival {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.on = false
	return t.calls
}

func (t *timeline) record(provider, route string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.on {
		t.calls = append(t.calls, arrival{time.Since(t.start), provider, route})
	}
}

// formatTimeline lists each route's calls with their arrival times, in order of the first.
func formatTimeline(calls []arrival) []string {
	var order []string
	at := map[string][]string{}
	for _, c := range calls {
		k := c.provider + " " + c.route
		if _, ok := at[k]; !ok {
			order = append(order, k)
		}
		at[k] = append(at[k], fmt.Sprintf("%.0f", float64(c.at)/float64(time.Millisecond)))
	}
	out := make([]string, len(order))
	for i, k := range order {
		out[i] = fmt.Sprintf("%s at %s ms", k, strings.Join(at[k], ", "))
	}
	return out
}

// walkRedpanda reads Redpanda's whole invite list straight from the fake, page after page, as
// any client must: the slowest chain of dependent upstream calls behind the benchmark query
// (every other resource it needs is one call that can run beside it). It returns the pages read.
func (u *upstreams) walkRedpanda(ctx context.Context, hc *http.Client) (int, error) {
	token := ""
	for page := 1; page <= 20; page++ {
		q := url.Values{"page_size": {redpandaAsk}}
		if token != "" {
			q.Set("page_token", token)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.redpandaURL+"/v1/user-invites?"+q.Encode(), nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "Bearer "+redpandaToken)
		resp, err := hc.Do(req)
		if err != nil {
			return 0, fmt.Errorf("bench: redpanda walk: %w", err)
		}
		var body struct {
			Invites []json.RawMessage `json:"user_invites"`
			Next    string            `json:"next_page_token"`
		}
		err = json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(&body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("bench: redpanda walk: page %d: status %d: %v", page, resp.StatusCode, err)
		}
		if body.Next == "" {
			return page, nil
		}
		token = body.Next
	}
	return 0, errors.New("bench: redpanda walk: more than 20 pages")
}

// lifetime draws an invitation's creation and expiry: one in ten expired at least a day ago,
// the rest stay pending for at least a week, so no status changes while the benchmark runs.
// Creation times spread over 30 days (at least 2 hours ago), so the newest 50 mix providers.
func lifetime(rnd *rand.Rand, now time.Time, i int) (created, expires time.Time, expired bool) {
	const day = 24 * time.Hour
	if i%10 == 0 {
		created = now.Add(-8*day - time.Duration(rnd.IntN(22*24*3600))*time.Second)
		return created, created.Add(7 * day), true
	}
	created = now.Add(-2*time.Hour - time.Duration(rnd.IntN(30*24*3600))*time.Second)
	return created, now.Add(7*day + time.Duration(rnd.IntN(30*24*3600))*time.Second), false
}

func seedRedpanda(s *redpandafake.Server, rnd *rand.Rand, now time.Time, data dataSet) {
	roles := []string{"Reader", "Writer", "Admin"}
	for i := range data.redpandaInvites {
		created, expires, _ := lifetime(rnd, now, i)
		rb := []redpandafake.RoleBinding{{RoleName: roles[i%3], ResourceType: "SCOPE_RESOURCE_TYPE_ORGANIZATION", ResourceID: redpandaOrgID}}
		if i%4 == 1 {
			rb = append(rb, redpandafake.RoleBinding{RoleName: "Writer", ResourceType: "SCOPE_RESOURCE_TYPE_CLUSTER", ResourceID: fmt.Sprintf("cq%018d", i)})
		}
		id := fmt.Sprintf("d4%018x", rnd.Uint64()>>8)
		s.Add(redpandafake.Invite{
			ID: id, Email: fmt.Sprintf("rp.user%03d@bench.example", i), InviteURL: "https://cloud.redpanda.com/invite/" + id,
			CreatedAt: created, ExpiresAt: expires, RoleBindings: rb,
		})
	}
}

// seedElastic returns the organization IDs.
func seedElastic(s *elasticfake.Server, rnd *rand.Rand, now time.Time, data dataSet) []string {
	var ids []string
	n := 0
	for o := range data.elasticOrgs {
		id := fmt.Sprintf("%d", 1004245900+o*1111)
		ids = append(ids, id)
		s.AddOrganization(id, fmt.Sprintf("Bench Elastic %d", o+1))
		for range data.elasticPerOrg {
			created, expires, expired := lifetime(rnd, now, n)
			inv := elasticfake.Invitation{
				Token: hex.EncodeToString(demo.RandomBytes(rnd, 16)), Email: fmt.Sprintf("ec.user%03d@bench.example", n),
				CreatedAt: created, ExpiresAt: expires, Expired: expired,
			}
			if !expired && n%9 == 0 {
				accepted := created.Add(time.Hour)
				inv.AcceptedAt = &accepted
			}
			var roles any
			switch n % 3 {
			case 0:
				roles = map[string]any{"organization": []any{map[string]any{"role_id": "billing-admin", "organization_id": id}}}
			case 1:
				roles = map[string]any{"deployment": []any{map[string]any{"role_id": "deployment-viewer", "organization_id": id, "all": true}}}
			default:
				roles = map[string]any{"deployment": []any{map[string]any{"role_id": "deployment-editor", "organization_id": id,
					"all": false, "deployment_ids": []string{fmt.Sprintf("%032x", rnd.Uint64())}}}}
			}
			inv.RoleAssignments, _ = json.Marshal(roles)
			s.AddInvitation(id, inv)
			n++
		}
	}
	return ids
}

// seedFrontier returns the organization IDs.
func seedFrontier(s *frontierfake.Server, rnd *rand.Rand, now time.Time, data dataSet) []string {
	platform := []frontierfake.Role{
		{ID: demo.UUID(rnd), Name: "app_organization_owner", Title: "Owner"},
		{ID: demo.UUID(rnd), Name: "app_organization_manager", Title: "Admin"},
		{ID: demo.UUID(rnd), Name: "app_organization_viewer", Title: "Member"},
	}
	for _, r := range platform {
		s.AddPlatformRole(r)
	}
	var ids []string
	n := 0
	for o := range data.frontierOrgs {
		id := demo.UUID(rnd)
		ids = append(ids, id)
		name := fmt.Sprintf("bench-frontier-%d", o+1)
		s.AddOrganization(id, name, fmt.Sprintf("Bench Frontier %d", o+1))
		custom := frontierfake.Role{ID: demo.UUID(rnd), Name: name + "_auditor", Title: "Auditor"}
		s.AddOrganizationRole(id, custom)
		roleIDs := []string{platform[2].ID, platform[1].ID, custom.ID}
		var groups []string
		for _, g := range []string{"engineering", "data-science", "support"} {
			grp := frontierfake.Group{ID: demo.UUID(rnd), Name: g, Title: g}
			groups = append(groups, grp.ID)
			s.AddGroup(id, grp)
		}
		for range data.frontierPerOrg {
			created, expires, _ := lifetime(rnd, now, n)
			s.AddInvitation(id, frontierfake.Invitation{
				ID: demo.UUID(rnd), UserID: fmt.Sprintf("fr.user%03d@bench.example", n), CreatedAt: created, ExpiresAt: expires,
				RoleIDs: []string{roleIDs[n%len(roleIDs)]}, GroupIDs: []string{groups[n%len(groups)]},
			})
			n++
		}
	}
	return ids
}

// sortedDurations returns d sorted, for percentiles.
func sortedDurations(d []time.Duration) []time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s
}
