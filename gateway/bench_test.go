package gateway_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/invitegw/invitegw/cache"
	"github.com/invitegw/invitegw/upstream/frontier/frontierfake"
	"github.com/invitegw/invitegw/upstream/redpanda/redpandafake"
)

// benchQuery is the query the performance work measures (issue 6).
const benchQuery = `{"query":"{ invitations(first: 50) { edges { node { id email status createdAt organization { name } roleBindings { roleName } } } } }"}`

// seedBench fills the fakes with 150 invitations over 6 organizations.
func seedBench(e *env) {
	n := 0
	next := func() time.Time { n++; return ts(-time.Duration(n) * time.Minute) }
	for i := range 60 {
		e.rp.Add(redpandafake.Invite{ID: fmt.Sprintf("rp-%d", i), Email: fmt.Sprintf("u%d@example.com", i), CreatedAt: next(), ExpiresAt: ts(7 * day),
			RoleBindings: []redpandafake.RoleBinding{{RoleName: "Reader", ResourceType: "SCOPE_RESOURCE_TYPE_ORGANIZATION", ResourceID: "rp-org-1"}}})
	}
	for _, org := range e.opts.elasticOrgs {
		e.ec.AddOrganization(org, "Elastic "+org)
		for i := range 15 {
			inv := elasticInvitation(fmt.Sprintf("tok-%s-%d", org, i), `{"organization":[{"role_id":"billing-admin","organization_id":"`+org+`"}]}`)
			inv.CreatedAt = next()
			e.ec.AddInvitation(org, inv)
		}
	}
	e.fr.AddPlatformRole(frontierfake.Role{ID: "r-viewer", Name: "app_organization_viewer"})
	for _, org := range e.opts.frontierOrgs {
		e.fr.AddOrganization(org, org, "Frontier "+org)
		for i := range 20 {
			e.fr.AddInvitation(org, frontierfake.Invitation{ID: fmt.Sprintf("%s-%d", org, i), UserID: fmt.Sprintf("f%d@example.com", i),
				CreatedAt: next(), ExpiresAt: ts(7 * day), RoleIDs: []string{"r-viewer"}})
		}
	}
}

// loopQuery sends benchQuery to h once to warm its caches, then once per benchmark iteration;
// every answer must be 200 with its 50 nodes and no error.
func loopQuery(b *testing.B, h http.Handler) {
	serve := func() {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(benchQuery))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) ||
			bytes.Count(rec.Body.Bytes(), []byte(`"id"`)) != 50 {
			b.Fatalf("bad response %d: %.300s", rec.Code, rec.Body.String())
		}
	}
	serve()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		serve()
	}
}

// BenchmarkInvitationsQuery runs the query through the full handler (transport, parsing,
// loaders, cache, resolvers, JSON) with a warm Redis cache and a warm memory cache (each with
// and without the response cache) and no cache (every request goes to the fakes on loopback).
// Compare the ns/op of the variants in one run.
func BenchmarkInvitationsQuery(b *testing.B) {
	stores := []struct {
		name        string
		store       func(b *testing.B) cache.Store
		noResponses bool
	}{
		{"cache=redis", func(b *testing.B) cache.Store { s, _ := newRedisStore(b); return s }, false},
		{"cache=memory", func(b *testing.B) cache.Store { return cache.NewMemory(nil) }, false},
		// Executing the query every time, from cached data: the cost the response cache saves.
		{"cache=redis,responses=off", func(b *testing.B) cache.Store { s, _ := newRedisStore(b); return s }, true},
		{"cache=memory,responses=off", func(b *testing.B) cache.Store { return cache.NewMemory(nil) }, true},
		{"cache=off", func(b *testing.B) cache.Store { return nil }, false},
	}
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			e := newEnv(b, envOptions{store: st.store(b), noResponseCache: st.noResponses,
				elasticOrgs: []string{"e1", "e2", "e3"}, frontierOrgs: []string{"f-org-a", "f-org-b"}})
			seedBench(e)
			// A fixed clock would let cached lists go stale as real time passes; benchmarks
			// run on the real one.
			e.clock.Set(time.Now())
			loopQuery(b, e.gw.Config.Handler)
		})
	}
}

// BenchmarkInvitationsAtScale executes the benchmark query (response cache off) over 600,
// 6,000 and 60,000 cached invitations (Elastic organizations of 200 each), from the memory
// store and from Redis: issue 16 asks that the cost of a page grow with the page, not the
// data. Compare the sizes' ns/op and allocations in one run.
func BenchmarkInvitationsAtScale(b *testing.B) {
	for _, n := range []int{600, 6_000, 60_000} {
		for _, store := range []string{"memory", "redis"} {
			b.Run(fmt.Sprintf("n=%d/cache=%s", n, store), func(b *testing.B) {
				orgs := make([]string, n/200)
				for i := range orgs {
					orgs[i] = fmt.Sprintf("e%03d", i)
				}
				var s cache.Store = cache.NewMemory(nil)
				if store == "redis" {
					s, _ = newRedisStore(b)
				}
				e := newEnv(b, envOptions{store: s, noResponseCache: true, elasticOrgs: orgs})
				e.fr.AddOrganization("f-org-1", "acme", "Acme")
				wall := time.Now()
				for _, org := range orgs {
					e.ec.AddOrganization(org, "Elastic "+org)
					for i := range 200 {
						inv := elasticInvitation(fmt.Sprintf("tok-%s-%d", org, i), `{"organization":[{"role_id":"billing-admin","organization_id":"`+org+`"}]}`)
						inv.CreatedAt, inv.ExpiresAt = wall.Add(-time.Duration(i)*time.Minute), wall.Add(7*day)
						e.ec.AddInvitation(org, inv)
					}
				}
				e.clock.Set(wall)
				loopQuery(b, e.gw.Config.Handler)
			})
		}
	}
}
