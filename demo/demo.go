// Package demo serves the three fake upstreams on loopback ports with realistic sample data,
// for `invitegw -demo`: several organizations per provider, 100+ invitations (some expired,
// some accepted), Redpanda's list spread over several pages.
package demo

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"time"

	"github.com/invitegw/invitegw/config"
	"github.com/invitegw/invitegw/upstream/elastic/elasticfake"
	"github.com/invitegw/invitegw/upstream/frontier/frontierfake"
	"github.com/invitegw/invitegw/upstream/redpanda/redpandafake"
)

// Upstreams are the running sample upstreams.
type Upstreams struct {
	Redpanda *redpandafake.Server
	Elastic  *elasticfake.Server
	Frontier *frontierfake.Server
	// Config points invitegw at them, with this run's random credentials.
	Config  config.Config
	servers []*http.Server
}

// Sample organizations.
var (
	ElasticOrgs  = []struct{ ID, Name string }{{"1004245913", "Acme Search"}, {"2098412734", "Acme Observability"}, {"3341209877", "Acme Security"}}
	FrontierOrgs = []struct{ ID, Name, Title string }{
		{"8e4d2c1a-5b6f-4a3e-9d7c-1f2e3d4c5b6a", "acme-data", "Acme Data Platform"},
		{"0b9a8c7d-6e5f-4d3c-8b2a-9f8e7d6c5b4a", "acme-ml", "Acme ML"},
	}
)

// Start seeds the three fakes and serves them on 127.0.0.1 ports chosen by the OS. The
// Frontier fake speaks frontierProtocol: "rest" (or "") or "connect".
func Start(now time.Time, frontierProtocol string) (*Upstreams, error) {
	now = now.UTC().Truncate(time.Second)
	if frontierProtocol == "" {
		frontierProtocol = frontierfake.ProtocolREST
	}
	rnd := mrand.New(mrand.NewPCG(2026, 11))
	rpToken, ecKey, frToken := secret(), secret(), secret()
	u := &Upstreams{
		Redpanda: redpandafake.New(redpandafake.Options{
			Token: rpToken, OrgID: "cnl3b0f7a2gq9s8d1e0g", OrgName: "Acme Streaming",
			MaxPageSize: 25, // several pages even though the gateway asks for 100
		}),
		Elastic:  elasticfake.New(elasticfake.Options{APIKey: ecKey}),
		Frontier: frontierfake.New(frontierfake.Options{Token: frToken, Protocol: frontierProtocol}),
	}
	seedRedpanda(u.Redpanda, rnd, now)
	seedElastic(u.Elastic, rnd, now)
	seedFrontier(u.Frontier, rnd, now)
	seedPeople(u, now)

	var urls [3]string
	for i, h := range []http.Handler{u.Redpanda, u.Elastic, u.Frontier} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			u.Close()
			return nil, fmt.Errorf("demo: listen: %w", err)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
		u.servers = append(u.servers, srv)
		go func() { _ = srv.Serve(ln) }()
		urls[i] = "http://" + ln.Addr().String()
	}
	u.Config = config.Config{
		Redpanda: config.Redpanda{URL: urls[0], Token: rpToken},
		Elastic:  config.Elastic{URL: urls[1], APIKey: ecKey, Organizations: ids(ElasticOrgs, func(o struct{ ID, Name string }) string { return o.ID })},
		Frontier: config.Frontier{Protocol: frontierProtocol, URL: urls[2], Token: frToken,
			Organizations: ids(FrontierOrgs, func(o struct{ ID, Name, Title string }) string { return o.ID })},
	}
	return u, nil
}

// Close stops the servers.
func (u *Upstreams) Close() error {
	var errs []error
	for _, s := range u.servers {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

var (
	firstNames = []string{"ada", "grace", "alan", "barbara", "ken", "margaret", "linus", "radia", "dennis", "frances",
		"john", "katherine", "edsger", "donald", "shafi", "leslie", "tim", "sophie", "guido", "hedy"}
	domains = []string{"example.com", "acme.test", "contoso.example", "initech.example"}
)

func email(rnd *mrand.Rand, i int) string {
	return fmt.Sprintf("%s.%d@%s", firstNames[rnd.IntN(len(firstNames))], i, domains[rnd.IntN(len(domains))])
}

// times returns a creation time within the last 30 days and an expiry 7 days later, so about a
// fifth of the sample has expired.
func times(rnd *mrand.Rand, now time.Time) (created, expires time.Time) {
	created = now.Add(-time.Duration(rnd.IntN(30*24*60)) * time.Minute)
	return created, created.Add(7 * 24 * time.Hour)
}

func seedRedpanda(s *redpandafake.Server, rnd *mrand.Rand, now time.Time) {
	roles := []string{"Reader", "Writer", "Admin"}
	for i := range 60 {
		created, expires := times(rnd, now)
		rb := []redpandafake.RoleBinding{{RoleName: roles[rnd.IntN(3)], ResourceType: "SCOPE_RESOURCE_TYPE_ORGANIZATION", ResourceID: "cnl3b0f7a2gq9s8d1e0g"}}
		switch i % 5 {
		case 1:
			rb = append(rb, redpandafake.RoleBinding{RoleName: "Writer", ResourceType: "SCOPE_RESOURCE_TYPE_CLUSTER", ResourceID: fmt.Sprintf("cq%018d", i)})
		case 3:
			// A resource type newer than the unified enum: shows up as OTHER.
			rb = append(rb, redpandafake.RoleBinding{RoleName: "Reader", ResourceType: "SCOPE_RESOURCE_TYPE_MCPSERVER", ResourceID: fmt.Sprintf("mcp-%d", i)})
		}
		id := fmt.Sprintf("d4%018x", rnd.Uint64()>>8)
		s.Add(redpandafake.Invite{
			ID: id, Email: email(rnd, i), InviteURL: "https://cloud.redpanda.com/invite/" + id,
			CreatedAt: created, ExpiresAt: expires, RoleBindings: rb,
		})
	}
}

func seedElastic(s *elasticfake.Server, rnd *mrand.Rand, now time.Time) {
	n := 0
	for _, org := range ElasticOrgs {
		s.AddOrganization(org.ID, org.Name)
		for range 15 {
			n++
			created, expires := times(rnd, now)
			inv := elasticfake.Invitation{
				Token: hex.EncodeToString(RandomBytes(rnd, 16)), Email: email(rnd, n),
				CreatedAt: created, ExpiresAt: expires, Expired: !now.Before(expires),
			}
			if n%7 == 0 {
				accepted := created.Add(time.Duration(rnd.IntN(48*60)) * time.Minute)
				inv.AcceptedAt = &accepted
			}
			inv.RoleAssignments = elasticRoles(rnd, org.ID)
			s.AddInvitation(org.ID, inv)
		}
	}
}

func elasticRoles(rnd *mrand.Rand, orgID string) json.RawMessage {
	var v any
	switch rnd.IntN(3) {
	case 0:
		v = map[string]any{"organization": []any{map[string]any{"role_id": "billing-admin", "organization_id": orgID}}}
	case 1:
		v = map[string]any{"deployment": []any{map[string]any{"role_id": "deployment-viewer", "organization_id": orgID, "all": true}}}
	default:
		v = map[string]any{"deployment": []any{map[string]any{"role_id": "deployment-editor", "organization_id": orgID,
			"all": false, "deployment_ids": []string{fmt.Sprintf("%032x", rnd.Uint64())}}}}
	}
	b, _ := json.Marshal(v)
	return b
}

func seedFrontier(s *frontierfake.Server, rnd *mrand.Rand, now time.Time) {
	platform := []frontierfake.Role{
		{ID: UUID(rnd), Name: "app_organization_owner", Title: "Owner"},
		{ID: UUID(rnd), Name: "app_organization_manager", Title: "Admin"},
		{ID: UUID(rnd), Name: "app_organization_accessmanager", Title: "Access Manager"},
		{ID: UUID(rnd), Name: "app_organization_viewer", Title: "Member"},
	}
	for _, r := range platform {
		s.AddPlatformRole(r)
	}
	n := 0
	for _, org := range FrontierOrgs {
		s.AddOrganization(org.ID, org.Name, org.Title)
		custom := frontierfake.Role{ID: UUID(rnd), Name: org.Name + "_auditor", Title: "Auditor"}
		s.AddOrganizationRole(org.ID, custom)
		roleIDs := []string{platform[3].ID, platform[1].ID, custom.ID}
		var groups []frontierfake.Group
		for _, g := range []string{"engineering", "data-science", "support"} {
			grp := frontierfake.Group{ID: UUID(rnd), Name: g, Title: g}
			groups = append(groups, grp)
			s.AddGroup(org.ID, grp)
		}
		for range 20 {
			n++
			created, expires := times(rnd, now)
			inv := frontierfake.Invitation{
				ID: UUID(rnd), UserID: email(rnd, n), CreatedAt: created, ExpiresAt: expires,
				RoleIDs:  []string{roleIDs[rnd.IntN(len(roleIDs))]},
				GroupIDs: []string{groups[rnd.IntN(len(groups))].ID},
				Metadata: map[string]any{"invited_by": "admin@acme.test"},
			}
			s.AddInvitation(org.ID, inv)
		}
	}
}

// People are invitees of several providers at once, the case invitegw exists for. Their
// invitations have fixed times relative to start-up, so examples and tests can rely on them.
var People = []string{"ada.lovelace@acme.test", "grace.hopper@acme.test", "alan.turing@acme.test"}

func seedPeople(u *Upstreams, now time.Time) {
	h := time.Hour
	u.Redpanda.Add(
		redpandafake.Invite{ID: "d4ada0000000000000001", Email: People[0], InviteURL: "https://cloud.redpanda.com/invite/d4ada0000000000000001",
			CreatedAt: now.Add(-2 * h), ExpiresAt: now.Add(7*24*h - 2*h),
			RoleBindings: []redpandafake.RoleBinding{{RoleName: "Admin", ResourceType: "SCOPE_RESOURCE_TYPE_ORGANIZATION", ResourceID: "cnl3b0f7a2gq9s8d1e0g"}}},
		redpandafake.Invite{ID: "d4a1a0000000000000002", Email: People[2], InviteURL: "https://cloud.redpanda.com/invite/d4a1a0000000000000002",
			CreatedAt: now.Add(-9 * 24 * h), ExpiresAt: now.Add(-2 * 24 * h),
			RoleBindings: []redpandafake.RoleBinding{{RoleName: "Reader", ResourceType: "SCOPE_RESOURCE_TYPE_ORGANIZATION", ResourceID: "cnl3b0f7a2gq9s8d1e0g"}}},
	)
	u.Elastic.AddInvitation(ElasticOrgs[0].ID, elasticfake.Invitation{Token: "demo-people-token-ada", Email: "Ada.Lovelace@acme.test",
		CreatedAt: now.Add(-3 * h), ExpiresAt: now.Add(3*24*h - 3*h)})
	u.Elastic.AddInvitation(ElasticOrgs[1].ID, elasticfake.Invitation{Token: "demo-people-token-grace", Email: People[1],
		CreatedAt: now.Add(-5 * 24 * h), ExpiresAt: now.Add(-2 * 24 * h), Expired: true})
	accepted := now.Add(-20 * h)
	u.Elastic.AddInvitation(ElasticOrgs[2].ID, elasticfake.Invitation{Token: "demo-people-token-alan", Email: "Alan.Turing@acme.test",
		CreatedAt: now.Add(-26 * h), ExpiresAt: now.Add(2 * 24 * h), AcceptedAt: &accepted})
	u.Frontier.AddInvitation(FrontierOrgs[1].ID, frontierfake.Invitation{ID: "6a0c9d1e-2f3b-4c5d-8e6f-7a8b9c0d1e2f", UserID: People[1],
		CreatedAt: now.Add(-4 * h), ExpiresAt: now.Add(7*24*h - 4*h)})
}

// UUID draws a version 4 UUID from rnd: seeded sample data gets the same IDs on every run.
func UUID(rnd *mrand.Rand) string {
	b := RandomBytes(rnd, 16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// RandomBytes draws n bytes from rnd (sample tokens, seeded like UUID).
func RandomBytes(rnd *mrand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rnd.UintN(256))
	}
	return b
}

// secret is a fresh random credential per run: the demo has no fixed secret to leak.
func secret() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "demo-" + hex.EncodeToString(b[:])
}

func ids[T any](xs []T, f func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}
