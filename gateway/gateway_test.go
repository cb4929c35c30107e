package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invitegw/invitegw/upstream/elastic/elasticfake"
	"github.com/invitegw/invitegw/upstream/frontier/frontierfake"
	"github.com/invitegw/invitegw/upstream/redpanda/redpandafake"
)

const fullInvitation = `
  id provider email status createdAt expiresAt acceptedAt inviteUrl
  organization { id provider name }
  roleBindings { roleName scope { resourceType resourceId } }
  groups { id name title }
  metadata`

func TestEveryFieldFromEachProvider(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	tests := []struct {
		name string
		id   string
		want string
	}{
		{"redpanda", "redpanda:rp-1", `{
			"id": "redpanda:rp-1", "provider": "REDPANDA", "email": "ada@example.com", "status": "PENDING",
			"createdAt": "2026-11-23T11:00:00Z", "expiresAt": "2026-11-30T12:00:00Z", "acceptedAt": null,
			"inviteUrl": "https://cloud.redpanda.com/invite/rp-1",
			"organization": {"id": "redpanda:rp-org-1", "provider": "REDPANDA", "name": "Acme Streaming"},
			"roleBindings": [
				{"roleName": "Admin", "scope": {"resourceType": "ORGANIZATION", "resourceId": "rp-org-1"}},
				{"roleName": "Reader", "scope": {"resourceType": "OTHER", "resourceId": "mcp-1"}}
			],
			"groups": [], "metadata": null}`},
		{"elastic accepted", "elastic:1004:" + digest(ecTokens[1]), `{
			"id": "elastic:1004:` + digest(ecTokens[1]) + `", "provider": "ELASTIC", "email": "Ada@Example.com",
			"status": "ACCEPTED", "createdAt": "2026-11-23T08:00:00Z", "expiresAt": "2026-11-24T12:00:00Z",
			"acceptedAt": "2026-11-23T11:30:00Z", "inviteUrl": null,
			"organization": {"id": "elastic:1004", "provider": "ELASTIC", "name": "Acme Search"},
			"roleBindings": [{"roleName": "deployment-viewer", "scope": {"resourceType": "DEPLOYMENT", "resourceId": "*"}}],
			"groups": [], "metadata": null}`},
		{"elastic expired by flag", "elastic:1004:" + digest(ecTokens[2]), `{
			"id": "elastic:1004:` + digest(ecTokens[2]) + `", "provider": "ELASTIC", "email": "ken@example.com",
			"status": "EXPIRED", "createdAt": "2026-11-23T06:00:00Z", "expiresAt": "2026-11-23T10:00:00Z",
			"acceptedAt": null, "inviteUrl": null,
			"organization": {"id": "elastic:1004", "provider": "ELASTIC", "name": "Acme Search"},
			"roleBindings": [], "groups": [], "metadata": null}`},
		{"frontier", "frontier:f-org-1:inv-1", `{
			"id": "frontier:f-org-1:inv-1", "provider": "FRONTIER", "email": "margaret@example.com", "status": "PENDING",
			"createdAt": "2026-11-23T11:30:00Z", "expiresAt": "2026-11-30T12:00:00Z", "acceptedAt": null, "inviteUrl": null,
			"organization": {"id": "frontier:f-org-1", "provider": "FRONTIER", "name": "Acme Data"},
			"roleBindings": [
				{"roleName": "app_organization_viewer", "scope": {"resourceType": "ORGANIZATION", "resourceId": "f-org-1"}},
				{"roleName": "acme_auditor", "scope": {"resourceType": "ORGANIZATION", "resourceId": "f-org-1"}}
			],
			"groups": [{"id": "grp-1", "name": "engineering", "title": "Engineering"}],
			"metadata": {"invited_by": "admin@acme.test", "group_ids": ["grp-1"], "role_ids": ["role-viewer", "role-auditor"]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.query(t, `query($id: ID!) { invitation(id: $id) {`+fullInvitation+` } }`, map[string]any{"id": tt.id})
			if len(r.Errors) > 0 {
				t.Fatalf("errors: %s", r.raw)
			}
			jsonEq(t, r.Data, `{"invitation": `+tt.want+`}`)
		})
	}
}

func TestElasticRoleAssignmentKinds(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.ec.AddOrganization("1004", "Acme Search")
	e.ec.AddInvitation("1004", elasticInvitation("tok-roles", `{
		"platform":[{"role_id":"platform-viewer"}],
		"organization":[{"role_id":"organization-admin","organization_id":"1004"}],
		"deployment":[{"role_id":"deployment-editor","organization_id":"1004","all":false,"deployment_ids":["d1","d2"]}],
		"project":{"elasticsearch":[{"role_id":"admin","organization_id":"1004","all":false,"project_ids":["p1"]}],
		           "security":[{"role_id":"viewer","organization_id":"1004","all":true}]}}`))
	r := e.query(t, `{ invitations(filter: {providers: [ELASTIC]}) { nodes { roleBindings { roleName scope { resourceType resourceId } } } } }`, nil)
	jsonEq(t, r.Data, `{"invitations": {"nodes": [{"roleBindings": [
		{"roleName": "platform-viewer", "scope": null},
		{"roleName": "organization-admin", "scope": {"resourceType": "ORGANIZATION", "resourceId": "1004"}},
		{"roleName": "deployment-editor", "scope": {"resourceType": "DEPLOYMENT", "resourceId": "d1"}},
		{"roleName": "deployment-editor", "scope": {"resourceType": "DEPLOYMENT", "resourceId": "d2"}},
		{"roleName": "admin", "scope": {"resourceType": "PROJECT", "resourceId": "p1"}},
		{"roleName": "viewer", "scope": {"resourceType": "PROJECT", "resourceId": "*"}}
	]}]}}`)
}

type page struct {
	Invitations struct {
		TotalCount int
		PageInfo   struct {
			HasNextPage, HasPreviousPage bool
			StartCursor, EndCursor       *string
		}
		Edges []struct {
			Cursor string
			Node   struct{ ID string }
		}
	}
}

func TestMergedOrderAndCursorsAcrossProviders(t *testing.T) {
	e := newEnv(t, envOptions{rpPageSize: 2}) // Redpanda's 3 invites come in 2 pages
	e.seed()
	const q = `query($after: String) { invitations(first: 3, after: $after) {
		totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
		edges { cursor node { id } } } }`
	var (
		got   []string
		after any
		pages int
	)
	for {
		var p page
		e.query(t, q, map[string]any{"after": after}).data(t, &p)
		pages++
		conn := p.Invitations
		if conn.TotalCount != 8 {
			t.Fatalf("page %d: totalCount = %d, want 8", pages, conn.TotalCount)
		}
		if conn.PageInfo.HasPreviousPage != (pages > 1) {
			t.Fatalf("page %d: hasPreviousPage = %v", pages, conn.PageInfo.HasPreviousPage)
		}
		for _, edge := range conn.Edges {
			got = append(got, edge.Node.ID)
		}
		if *conn.PageInfo.StartCursor != conn.Edges[0].Cursor || *conn.PageInfo.EndCursor != conn.Edges[len(conn.Edges)-1].Cursor {
			t.Fatalf("page %d: pageInfo cursors do not match the edges", pages)
		}
		if !conn.PageInfo.HasNextPage {
			break
		}
		after = *conn.PageInfo.EndCursor
	}
	if pages != 3 || !reflect.DeepEqual(got, allIDs()) {
		t.Fatalf("pages = %d, order =\n%v\nwant 3 pages of\n%v", pages, got, allIDs())
	}
	// Each GraphQL request follows Redpanda's two pages once: 3 requests, 6 list calls.
	if n := e.rp.Calls("ListUserInvites"); n != 6 {
		t.Errorf("ListUserInvites calls = %d, want 6 (2 pages x 3 requests)", n)
	}
}

func TestFilters(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	ids := allIDs()
	tests := []struct {
		name   string
		filter string
		want   []string
	}{
		{"no filter", `{}`, ids},
		{"one provider", `{providers: [REDPANDA]}`, []string{ids[1], ids[4], ids[6]}},
		{"two providers", `{providers: [ELASTIC, FRONTIER]}`, []string{ids[0], ids[2], ids[3], ids[5], ids[7]}},
		{"email trimmed, any case", `{email: "  ADA@example.COM "}`, []string{ids[1], ids[5]}},
		{"email matching nothing", `{email: "nobody@example.com"}`, []string{}},
		{"status pending", `{status: [PENDING]}`, []string{ids[0], ids[1], ids[2], ids[3], ids[4]}},
		{"status expired", `{status: [EXPIRED]}`, []string{ids[6], ids[7]}},
		{"status accepted or expired", `{status: [ACCEPTED, EXPIRED]}`, []string{ids[5], ids[6], ids[7]}},
		{"expires before", `{expiresBefore: "2026-11-24T12:00:01Z"}`, []string{ids[4], ids[5], ids[6], ids[7]}},
		{"elastic organization", `{organizationId: "elastic:1004"}`, []string{ids[2], ids[5], ids[7]}},
		{"redpanda organization", `{organizationId: "redpanda:rp-org-1"}`, []string{ids[1], ids[4], ids[6]}},
		{"unknown redpanda organization", `{organizationId: "redpanda:other"}`, []string{}},
		{"unconfigured elastic organization", `{organizationId: "elastic:9999"}`, []string{}},
		{"combined", `{providers: [REDPANDA, ELASTIC], status: [PENDING], email: "ada@example.com"}`, []string{ids[1]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p page
			e.query(t, `{ invitations(filter: `+tt.filter+`, first: 100) { totalCount edges { node { id } } } }`, nil).data(t, &p)
			got := []string{}
			for _, edge := range p.Invitations.Edges {
				got = append(got, edge.Node.ID)
			}
			if !reflect.DeepEqual(got, tt.want) || p.Invitations.TotalCount != len(tt.want) {
				t.Fatalf("got %v (totalCount %d), want %v", got, p.Invitations.TotalCount, tt.want)
			}
		})
	}
}

// A Redpanda organization filter needs the token's organization (Redpanda invites carry no
// organization ID): when that lookup fails, the answer is that provider's error and no
// invitations, never Redpanda's whole list unfiltered.
func TestRedpandaOrganizationFilterWhenTheOrganizationFails(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	e.rp.FailNext("GetCurrentOrganization", 1, http.StatusForbidden)
	r := e.query(t, `{ invitations(filter: {organizationId: "redpanda:rp-org-1"}) { totalCount edges { node { id } } } }`, nil)
	if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "UPSTREAM_FORBIDDEN" || r.Errors[0].Extensions["provider"] != "REDPANDA" {
		t.Fatalf("want one REDPANDA UPSTREAM_FORBIDDEN error, got %s", r.raw)
	}
	jsonEq(t, r.Data, `{"invitations": {"totalCount": 0, "edges": []}}`)
	if got := [3]int{e.rp.Calls("GetCurrentOrganization"), e.ec.TotalCalls(), e.fr.TotalCalls()}; got != [3]int{1, 0, 0} {
		t.Errorf("calls (Redpanda organization, Elastic, Frontier) = %v, want [1 0 0]", got)
	}
}

func TestFiltersSkipUnwantedUpstreams(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	var p page
	e.query(t, `{ invitations(filter: {organizationId: "elastic:1004"}) { totalCount } }`, nil).data(t, &p)
	if got := [3]int{e.rp.TotalCalls(), e.ec.TotalCalls(), e.fr.TotalCalls()}; got != [3]int{0, 1, 0} {
		t.Fatalf("upstream calls (redpanda, elastic, frontier) = %v, want [0 1 0]", got)
	}
}

func TestStatusIsDerivedAtReadTime(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	const q = `{ invitation(id: "redpanda:rp-3") { status } }`
	jsonEq(t, e.query(t, q, nil).Data, `{"invitation": {"status": "PENDING"}}`)
	e.clock.Set(now.Add(day)) // rp-3 expires at now+1d exactly
	jsonEq(t, e.query(t, q, nil).Data, `{"invitation": {"status": "EXPIRED"}}`)
}

func TestBadPageArguments(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	tests := []struct{ name, args, code string }{
		{"first zero", `first: 0`, "BAD_USER_INPUT"},
		{"first over 100", `first: 101`, "BAD_USER_INPUT"},
		{"garbage cursor", `after: "not-a-cursor"`, "BAD_USER_INPUT"},
		{"bad organization id", `filter: {organizationId: "nope"}`, "BAD_USER_INPUT"},
		{"blank email", `filter: {email: "   "}`, "BAD_USER_INPUT"},
		{"malformed time", `filter: {expiresBefore: "yesterday"}`, "BAD_USER_INPUT"},
		{"unknown enum value", `filter: {status: [PENDING, NOPE]}`, "GRAPHQL_VALIDATION_FAILED"},
		{"first of the wrong type", `first: "ten"`, "GRAPHQL_VALIDATION_FAILED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.query(t, `{ invitations(`+tt.args+`) { totalCount } }`, nil)
			if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != tt.code {
				t.Fatalf("want one %s error, got %s", tt.code, r.raw)
			}
		})
	}
	if n := e.rp.TotalCalls() + e.ec.TotalCalls() + e.fr.TotalCalls(); n != 0 {
		t.Fatalf("bad arguments made %d upstream calls, want 0", n)
	}
}

func TestInvitationLookup(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	tests := []struct {
		name, id string
		want     string // data JSON, or "" for a BAD_USER_INPUT error
	}{
		{"unknown redpanda invite", "redpanda:nope", `{"invitation": null}`},
		{"unknown elastic digest", "elastic:1004:0000000000000000", `{"invitation": null}`},
		{"unknown frontier invitation", "frontier:f-org-1:nope", `{"invitation": null}`},
		{"unconfigured organization", "frontier:other-org:inv-1", `{"invitation": null}`},
		{"malformed", "elastic:1004", ""},
		{"raw elastic token instead of digest", "elastic:1004:" + ecTokens[0], ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.query(t, `query($id: ID!) { invitation(id: $id) { id } }`, map[string]any{"id": tt.id})
			if tt.want == "" {
				if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "BAD_USER_INPUT" {
					t.Fatalf("want BAD_USER_INPUT, got %s", r.raw)
				}
				return
			}
			if len(r.Errors) > 0 {
				t.Fatalf("errors: %s", r.raw)
			}
			jsonEq(t, r.Data, tt.want)
		})
	}
	if n := e.fr.Calls("ListOrganizationInvitations"); n != 1 {
		t.Errorf("frontier list calls = %d, want 1 (the unconfigured org is never asked)", n)
	}
}

func TestOrganizations(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	r := e.query(t, `{ organizations { id provider name invitations(status: [PENDING]) { totalCount } } }`, nil)
	if len(r.Errors) > 0 {
		t.Fatal(r.raw)
	}
	jsonEq(t, r.Data, `{"organizations": [
		{"id": "redpanda:rp-org-1", "provider": "REDPANDA", "name": "Acme Streaming", "invitations": {"totalCount": 2}},
		{"id": "elastic:1004", "provider": "ELASTIC", "name": "Acme Search", "invitations": {"totalCount": 1}},
		{"id": "frontier:f-org-1", "provider": "FRONTIER", "name": "Acme Data", "invitations": {"totalCount": 2}}]}`)

	tests := []struct{ id, want string }{
		{"elastic:1004", `{"organization": {"id": "elastic:1004", "name": "Acme Search"}}`},
		{"redpanda:rp-org-1", `{"organization": {"id": "redpanda:rp-org-1", "name": "Acme Streaming"}}`},
		{"redpanda:someone-else", `{"organization": null}`},
		{"elastic:9999", `{"organization": null}`},
	}
	for _, tt := range tests {
		r := e.query(t, `query($id: ID!) { organization(id: $id) { id name } }`, map[string]any{"id": tt.id})
		if len(r.Errors) > 0 {
			t.Fatal(r.raw)
		}
		jsonEq(t, r.Data, tt.want)
	}
	r = e.query(t, `{ organizations(provider: FRONTIER) { id } }`, nil)
	jsonEq(t, r.Data, `{"organizations": [{"id": "frontier:f-org-1"}]}`)
}

// TestOneCallPerOrganization is the N+1 check: 200 invitations across 6 organizations, each with
// its organization's name and (for Frontier) its role names, cost one upstream call per list,
// per organization and per role list.
func TestOneCallPerOrganization(t *testing.T) {
	ecOrgs, frOrgs := []string{"e1", "e2", "e3"}, []string{"f-org-a", "f-org-b"}
	e := newEnv(t, envOptions{elasticOrgs: ecOrgs, frontierOrgs: frOrgs})
	n := 0
	next := func() time.Time { n++; return ts(-time.Duration(n) * time.Minute) }
	for i := range 40 {
		e.rp.Add(redpandafake.Invite{ID: fmt.Sprintf("rp-%d", i), Email: fmt.Sprintf("u%d@example.com", i),
			CreatedAt: next(), ExpiresAt: ts(day)})
	}
	for _, org := range ecOrgs {
		e.ec.AddOrganization(org, "Elastic "+org)
		for i := range 30 {
			inv := elasticInvitation(fmt.Sprintf("tok-%s-%d", org, i), "")
			inv.CreatedAt = next()
			e.ec.AddInvitation(org, inv)
		}
	}
	e.fr.AddPlatformRole(frontierfake.Role{ID: "r-viewer", Name: "app_organization_viewer"})
	for _, org := range frOrgs {
		e.fr.AddOrganization(org, org, "Frontier "+org)
		e.fr.AddOrganizationRole(org, frontierfake.Role{ID: "r-" + org, Name: org + "_auditor"})
		for i := range 35 {
			e.fr.AddInvitation(org, frontierfake.Invitation{ID: fmt.Sprintf("%s-%d", org, i), UserID: fmt.Sprintf("f%d@example.com", i),
				CreatedAt: next(), ExpiresAt: ts(day), RoleIDs: []string{"r-viewer", "r-" + org}})
		}
	}

	var got struct {
		Organizations []struct {
			Invitations struct {
				Nodes []struct {
					Organization struct{ Name string }
					RoleBindings []struct{ RoleName string }
				}
			}
		}
	}
	e.query(t, `{ organizations { invitations(first: 100) { nodes {
		organization { name } roleBindings { roleName } } } } }`, nil).data(t, &got)
	total := 0
	for _, org := range got.Organizations {
		total += len(org.Invitations.Nodes)
	}
	if total != 200 {
		t.Fatalf("got %d invitations, want 200", total)
	}

	want := map[string]int{
		"redpanda GetCurrentOrganization": 1, "redpanda ListUserInvites": 1,
		"elastic GetOrganization": 3, "elastic ListInvitations": 3,
		"frontier GetOrganization": 2, "frontier ListOrganizationInvitations": 2,
		"frontier ListRoles": 1, "frontier ListOrganizationRoles": 2, "frontier ListOrganizationGroups": 0,
	}
	gotCalls := map[string]int{}
	for route := range want {
		provider, name, _ := strings.Cut(route, " ")
		switch provider {
		case "redpanda":
			gotCalls[route] = e.rp.Calls(name)
		case "elastic":
			gotCalls[route] = e.ec.Calls(name)
		case "frontier":
			gotCalls[route] = e.fr.Calls(name)
		}
	}
	if !reflect.DeepEqual(gotCalls, want) {
		t.Fatalf("upstream calls = %v\nwant %v", gotCalls, want)
	}
	for _, org := range ecOrgs {
		if c := e.ec.PathCalls("GET /api/v1/organizations/" + org + "/invitations"); c != 1 {
			t.Errorf("elastic org %s listed %d times, want 1", org, c)
		}
	}
	if tot := e.rp.TotalCalls() + e.ec.TotalCalls() + e.fr.TotalCalls(); tot != 15 {
		t.Errorf("total upstream calls = %d, want 15", tot)
	}
}

// TestProvidersAreCalledConcurrently holds every upstream request until the first request of
// all three providers has arrived. Called one after another, the first would wait forever (the
// barrier gives up after a while and the test fails); called concurrently, all pass at once.
func TestProvidersAreCalledConcurrently(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	var (
		mu       sync.Mutex
		arrived  = map[string]bool{}
		release  = make(chan struct{})
		timedOut bool
	)
	hold := func(provider string) func(string, *http.Request) {
		return func(string, *http.Request) {
			mu.Lock()
			if !arrived[provider] {
				arrived[provider] = true
				if len(arrived) == 3 {
					close(release)
				}
			}
			mu.Unlock()
			select {
			case <-release:
			case <-time.After(10 * time.Second):
				mu.Lock()
				timedOut = true
				mu.Unlock()
			}
		}
	}
	e.rp.OnRequest(hold("redpanda"))
	e.ec.OnRequest(hold("elastic"))
	e.fr.OnRequest(hold("frontier"))

	var p page
	e.query(t, `{ invitations { totalCount } }`, nil).data(t, &p)
	mu.Lock()
	defer mu.Unlock()
	if timedOut {
		t.Fatal("an upstream request waited for the others: providers were not called concurrently")
	}
	if p.Invitations.TotalCount != 8 {
		t.Fatalf("totalCount = %d, want 8", p.Invitations.TotalCount)
	}
}

// TestJoinsStartBesideTheLists holds every invitation-list request until the lookups the query
// selects (organizations, Frontier roles) have all arrived. Started only once the lists were
// back, the lookups would never arrive and the barrier would give up (the test fails); started
// beside the lists, one upstream round trip serves the whole cold query.
func TestJoinsStartBesideTheLists(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	lookups := map[string]bool{
		"redpanda GetCurrentOrganization": false, "elastic GetOrganization": false,
		"frontier GetOrganization": false, "frontier ListRoles": false, "frontier ListOrganizationRoles": false,
	}
	var (
		mu       sync.Mutex
		release  = make(chan struct{})
		timedOut bool
	)
	hold := func(provider string) func(string, *http.Request) {
		return func(route string, _ *http.Request) {
			mu.Lock()
			if seen, ok := lookups[provider+" "+route]; ok {
				if !seen {
					lookups[provider+" "+route] = true
					all := true
					for _, v := range lookups {
						all = all && v
					}
					if all {
						close(release)
					}
				}
				mu.Unlock()
				return
			}
			mu.Unlock()
			select {
			case <-release:
			case <-time.After(10 * time.Second):
				mu.Lock()
				timedOut = true
				mu.Unlock()
			}
		}
	}
	e.rp.OnRequest(hold("redpanda"))
	e.ec.OnRequest(hold("elastic"))
	e.fr.OnRequest(hold("frontier"))

	r := e.query(t, `{ invitations(first: 100) { edges { node { organization { name } roleBindings { roleName } } } } }`, nil)
	mu.Lock()
	defer mu.Unlock()
	if timedOut {
		t.Fatalf("a list request waited for the lookups: they did not start beside the lists (seen: %v)", lookups)
	}
	if len(r.Errors) != 0 || strings.Count(string(r.raw), `"organization":{"name"`) != 8 {
		t.Fatalf("want 8 invitations with organizations and no errors, got %s", r.raw)
	}
	// Each resource once: 1 Redpanda list and org, 1 Elastic list and org, Frontier's list, org,
	// platform roles and organization roles.
	if got := e.rp.TotalCalls() + e.ec.TotalCalls() + e.fr.TotalCalls(); got != 8 {
		t.Errorf("upstream calls = %d, want 8", got)
	}
}

// TestUnselectedJoinsCostNothing: a query that reads no organization or role names makes no
// lookup at all, speculative or not.
func TestUnselectedJoinsCostNothing(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	r := e.query(t, `{ invitations(first: 100) { nodes { id email } } }`, nil)
	if len(r.Errors) != 0 {
		t.Fatalf("errors: %s", r.raw)
	}
	for name, got := range map[string]int{
		"redpanda GetCurrentOrganization": e.rp.Calls("GetCurrentOrganization"),
		"elastic GetOrganization":         e.ec.Calls("GetOrganization"),
		"frontier GetOrganization":        e.fr.Calls("GetOrganization"),
		"frontier ListRoles":              e.fr.Calls("ListRoles") + e.fr.Calls("ListOrganizationRoles"),
	} {
		if got != 0 {
			t.Errorf("%s called %d times, want 0", name, got)
		}
	}
}

func TestOneProviderDownGivesPartialData(t *testing.T) {
	tests := []struct {
		name     string
		break_   func(e *env)
		code     string
		provider string
	}{
		{"elastic 503", func(e *env) { e.ec.FailNext("", 1, http.StatusServiceUnavailable) }, "UPSTREAM_UNAVAILABLE", "ELASTIC"},
		{"frontier 429", func(e *env) { e.fr.FailNext("", 1, http.StatusTooManyRequests) }, "UPSTREAM_RATE_LIMITED", "FRONTIER"},
		{"redpanda 403", func(e *env) { e.rp.FailNext("", 1, http.StatusForbidden) }, "UPSTREAM_FORBIDDEN", "REDPANDA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			e.seed()
			tt.break_(e)
			r := e.query(t, `{ invitations(first: 100) { totalCount edges { node { id provider } } } }`, nil)
			if len(r.Errors) != 1 {
				t.Fatalf("want exactly one error, got %s", r.raw)
			}
			got := r.Errors[0]
			if got.Extensions["code"] != tt.code || got.Extensions["provider"] != tt.provider {
				t.Fatalf("error extensions = %v, want code %s provider %s", got.Extensions, tt.code, tt.provider)
			}
			if !reflect.DeepEqual(got.Path, []any{"invitations"}) {
				t.Errorf("error path = %v, want [invitations]", got.Path)
			}
			var p struct {
				Invitations struct {
					TotalCount int
					Edges      []struct{ Node struct{ Provider string } }
				}
			}
			if err := json.Unmarshal(r.Data, &p); err != nil {
				t.Fatal(err)
			}
			want := map[string]int{"REDPANDA": 3, "ELASTIC": 3, "FRONTIER": 2}
			delete(want, tt.provider)
			gotCount := map[string]int{}
			for _, edge := range p.Invitations.Edges {
				gotCount[edge.Node.Provider]++
			}
			if !reflect.DeepEqual(gotCount, want) {
				t.Fatalf("providers in partial data = %v, want %v", gotCount, want)
			}
			assertNoSecrets(t, "response", r.raw)
		})
	}
}

func TestOneErrorPerFailedProvider(t *testing.T) {
	e := newEnv(t, envOptions{elasticOrgs: []string{"1004", "2000"}})
	e.seed()
	e.ec.AddOrganization("2000", "Other")
	e.ec.FailNext("ListInvitations", 2, http.StatusBadGateway)
	r := e.query(t, `{ invitations { totalCount } }`, nil)
	if len(r.Errors) != 1 || r.Errors[0].Extensions["provider"] != "ELASTIC" || r.Errors[0].Extensions["code"] != "UPSTREAM_UNAVAILABLE" {
		t.Fatalf("want one ELASTIC UPSTREAM_UNAVAILABLE error for two failed organizations, got %s", r.raw)
	}
	if r.Errors[0].Message != "ELASTIC: unavailable" {
		t.Errorf("message = %q, want our own text", r.Errors[0].Message)
	}
}

func TestWrongCredentialIsUpstreamUnauthenticated(t *testing.T) {
	e := newEnv(t, envOptions{ecKey: "wrong-key"})
	e.seed()
	r := e.query(t, `{ invitations(filter: {providers: [ELASTIC]}) { totalCount } }`, nil)
	if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "UPSTREAM_UNAUTHENTICATED" || r.Errors[0].Extensions["provider"] != "ELASTIC" {
		t.Fatalf("got %s", r.raw)
	}
	jsonEq(t, r.Data, `{"invitations": {"totalCount": 0}}`)
	assertNoSecrets(t, "response", r.raw)
	if strings.Contains(r.raw, "wrong-key") || strings.Contains(e.log.String(), "wrong-key") {
		t.Error("the API key leaked into the response or the log")
	}
}

func TestElasticTokensNeverLeak(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	var raw strings.Builder
	for _, q := range []string{
		`{ invitations(first: 100) { edges { cursor node {` + fullInvitation + ` } } } }`,
		`{ invitation(id: "elastic:1004:` + digest(ecTokens[0]) + `") {` + fullInvitation + ` } }`,
		`{ __type(name: "Invitation") { fields { name } } }`,
	} {
		raw.WriteString(e.query(t, q, nil).raw)
	}
	e.ec.FailNext("", 1, http.StatusInternalServerError)
	raw.WriteString(e.query(t, `{ invitations { totalCount } }`, nil).raw)

	assertNoSecrets(t, "responses", raw.String())
	assertNoSecrets(t, "logs", e.log.String())
	// Cursors are opaque but only base64: decode them too.
	if !strings.Contains(raw.String(), digest(ecTokens[0])) {
		t.Fatal("sanity: the digest-based ID should be in the responses")
	}
}

func TestUpdateInvitation(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	const m = `mutation($id: ID!, $input: UpdateInvitationInput!) { updateInvitation(id: $id, input: $input) {
		invitation { id email expiresAt roleBindings { roleName scope { resourceType resourceId } } } } }`

	r := e.query(t, m, map[string]any{"id": "redpanda:rp-3", "input": map[string]any{
		"expiresAt":    "2026-12-01T00:00:00Z",
		"roleBindings": []any{map[string]any{"roleName": "Admin", "scope": map[string]any{"resourceType": "CLUSTER", "resourceId": "c-9"}}},
	}})
	if len(r.Errors) > 0 {
		t.Fatal(r.raw)
	}
	jsonEq(t, r.Data, `{"updateInvitation": {"invitation": {"id": "redpanda:rp-3", "email": "alan@example.com",
		"expiresAt": "2026-12-01T00:00:00Z",
		"roleBindings": [{"roleName": "Admin", "scope": {"resourceType": "CLUSTER", "resourceId": "c-9"}}]}}}`)
	var body any
	if err := json.Unmarshal(e.rp.LastPatch(), &body); err != nil {
		t.Fatal(err)
	}
	wantBody := map[string]any{"update_mask": "expiresAt,roleBindings", "user_invite": map[string]any{
		"expires_at": "2026-12-01T00:00:00Z",
		"role_bindings": []any{map[string]any{"role_name": "Admin",
			"scope": map[string]any{"resource_type": "SCOPE_RESOURCE_TYPE_CLUSTER", "resource_id": "c-9"}}},
	}}
	if !reflect.DeepEqual(body, wantBody) {
		t.Fatalf("PATCH body = %s\nwant %v", e.rp.LastPatch(), wantBody)
	}

	// Only the given field is in the mask.
	r = e.query(t, m, map[string]any{"id": "redpanda:rp-1", "input": map[string]any{"expiresAt": "2026-12-24T00:00:00Z"}})
	if len(r.Errors) > 0 {
		t.Fatal(r.raw)
	}
	if err := json.Unmarshal(e.rp.LastPatch(), &body); err != nil {
		t.Fatal(err)
	}
	if got := body.(map[string]any)["update_mask"]; got != "expiresAt" {
		t.Fatalf("update_mask = %v, want expiresAt", got)
	}
	if inv, _ := e.rp.Invite("rp-1"); len(inv.RoleBindings) != 2 {
		t.Fatalf("role bindings changed without being in the mask: %+v", inv.RoleBindings)
	}
}

func TestUpdateInvitationErrors(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	const m = `mutation($id: ID!, $input: UpdateInvitationInput!) { updateInvitation(id: $id, input: $input) { invitation { id } } }`
	future := map[string]any{"expiresAt": "2026-12-01T00:00:00Z"}
	tests := []struct {
		name   string
		id     string
		input  map[string]any
		code   string
		called int // PATCH calls expected
	}{
		{"empty input", "redpanda:rp-1", map[string]any{}, "BAD_USER_INPUT", 0},
		{"expiry in the past", "redpanda:rp-1", map[string]any{"expiresAt": "2026-11-23T11:59:59Z"}, "BAD_USER_INPUT", 0},
		{"elastic scope type for redpanda", "redpanda:rp-1", map[string]any{"roleBindings": []any{
			map[string]any{"roleName": "Admin", "scope": map[string]any{"resourceType": "DEPLOYMENT", "resourceId": "d"}}}}, "BAD_USER_INPUT", 0},
		{"malformed id", "redpanda", future, "BAD_USER_INPUT", 0},
		{"elastic invitation", "elastic:1004:" + digest(ecTokens[0]), future, "UNSUPPORTED_OPERATION", 0},
		{"frontier invitation", "frontier:f-org-1:inv-1", future, "UNSUPPORTED_OPERATION", 0},
		{"unknown invite", "redpanda:nope", future, "NOT_FOUND", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.rp.Reset()
			r := e.query(t, m, map[string]any{"id": tt.id, "input": tt.input})
			if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != tt.code {
				t.Fatalf("want one %s error, got %s", tt.code, r.raw)
			}
			if n := e.rp.Calls("UpdateUserInvite"); n != tt.called {
				t.Fatalf("PATCH calls = %d, want %d", n, tt.called)
			}
		})
	}
}

func TestTransport(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	get := func(q string) (int, string) {
		resp, err := http.Get(e.gw.URL + "/graphql?query=" + url.QueryEscape(q))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	t.Run("GET runs a query", func(t *testing.T) {
		status, body := get(`{ invitation(id: "redpanda:rp-1") { email } }`)
		if status != 200 || body != `{"data":{"invitation":{"email":"ada@example.com"}}}` {
			t.Fatalf("%d %s", status, body)
		}
	})
	t.Run("GET never runs a mutation", func(t *testing.T) {
		e.rp.Reset()
		status, body := get(`mutation { updateInvitation(id: "redpanda:rp-1", input: {expiresAt: "2027-01-01T00:00:00Z"}) { invitation { id } } }`)
		if status == 200 && !strings.Contains(body, "errors") || e.rp.Calls("UpdateUserInvite") != 0 {
			t.Fatalf("mutation over GET: %d %s, PATCH calls %d", status, body, e.rp.Calls("UpdateUserInvite"))
		}
	})
	t.Run("GraphiQL at /", func(t *testing.T) {
		resp, err := http.Get(e.gw.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.Contains(string(b), "graphiql") {
			t.Fatalf("%d %.200s", resp.StatusCode, b)
		}
	})
	t.Run("request id echoed", func(t *testing.T) {
		req, _ := http.NewRequest("GET", e.gw.URL+"/healthz", nil)
		req.Header.Set("X-Request-Id", "abc-123")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("X-Request-Id") != "abc-123" || resp.StatusCode != 200 {
			t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get("X-Request-Id"))
		}
	})
	// Without a length, net/http chunks any answer over 2 KiB and the client waits for the
	// terminating chunk too (see overHTTP). TestGraphQLOverHTTPStatus checks error answers.
	t.Run("a large answer is sent whole, with its length", func(t *testing.T) {
		q := `{ a: invitations(first: 100) { edges { cursor node { id email status createdAt organization { id name } } } } ` +
			`b: invitations(first: 100) { edges { cursor node { id email status createdAt organization { id name } } } } }`
		body, _ := json.Marshal(map[string]string{"query": q})
		resp, err := http.Post(e.gw.URL+"/graphql", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || len(b) < 2048 || bytes.Contains(b, []byte(`"errors"`)) {
			t.Fatalf("%d, %d bytes: %.300s", resp.StatusCode, len(b), b)
		}
		if resp.ContentLength != int64(len(b)) || len(resp.TransferEncoding) != 0 {
			t.Errorf("Content-Length %d, Transfer-Encoding %v for a %d-byte body", resp.ContentLength, resp.TransferEncoding, len(b))
		}
	})
	t.Run("oversized body rejected", func(t *testing.T) {
		big := `{"query":"{ invitations { totalCount } }","variables":{"x":"` + strings.Repeat("a", 2<<20) + `"}}`
		resp, err := http.Post(e.gw.URL+"/graphql", "application/json", strings.NewReader(big))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("a 2 MiB body got %d, want 413", resp.StatusCode)
		}
	})
}

func elasticInvitation(token, roles string) elasticfake.Invitation {
	inv := elasticfake.Invitation{Token: token, Email: token + "@example.com", CreatedAt: ts(-time.Hour), ExpiresAt: ts(day)}
	if roles != "" {
		inv.RoleAssignments = json.RawMessage(roles)
	}
	return inv
}

// TestFrontierProtocolOnTheWire guards the -frontier-protocol flag: the table must really run
// against the chosen API.
func TestFrontierProtocolOnTheWire(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	e.query(t, `{ invitations(filter: {providers: [FRONTIER]}) { totalCount } }`, nil)
	rest := e.fr.PathCalls("GET /v1beta1/organizations/f-org-1/invitations")
	connect := e.fr.PathCalls("POST /raystack.frontier.v1beta1.FrontierService/ListOrganizationInvitations")
	want := map[string][2]int{"rest": {1, 0}, "connect": {0, 1}}[*frontierProtocol]
	if [2]int{rest, connect} != want {
		t.Fatalf("protocol %s: REST calls %d, Connect calls %d", *frontierProtocol, rest, connect)
	}
}
