package gateway_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/invitegw/invitegw/metrics"
)

const everyInvitationField = `fragment all on Invitation { __typename id provider email status createdAt expiresAt acceptedAt
  inviteUrl metadata organization { __typename id provider name }
  roleBindings { __typename roleName scope { __typename resourceType resourceId } }
  groups { __typename id name title } user { __typename email } }`

// renderCases are queries whose answers package render writes (or declines), each compared
// byte for byte with gqlgen's.
var renderCases = []struct {
	name, query string
	vars        map[string]any
	// rendered and declined are the connections render writes and leaves to gqlgen.
	rendered, declined int
}{
	{"every field, edges and nodes", `{ invitations(first: 100) { __typename totalCount
	  pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }
	  edges { __typename cursor node { ...all } } nodes { ...all } } } ` + everyInvitationField, nil, 1, 0},
	{"aliases, repeats and inline fragments", `{ a: invitations(first: 3) { n: totalCount nodes { x: id id ... on Invitation { email id }
	  organization { name } organization { id } } } b: invitations(first: 1, filter: {providers: [FRONTIER]}) { nodes { groups { title } } } }`, nil, 2, 0},
	{"skip and include", `query($s: Boolean!) { invitations(first: 5) { totalCount @skip(if: $s) pageInfo { hasNextPage hasPreviousPage } nodes { id email @include(if: $s) status @skip(if: $s) } } }`,
		map[string]any{"s": true}, 1, 0},
	{"a later page", `query($after: String) { invitations(first: 3, after: $after) { pageInfo { hasPreviousPage hasNextPage startCursor } nodes { id } } }`,
		map[string]any{"after": nil}, 1, 0},
	{"an empty page", `{ invitations(filter: {email: "nobody@example.com"}) { totalCount pageInfo { startCursor endCursor hasNextPage } nodes { id } edges { cursor } } }`, nil, 1, 0},
	// One connection per organization: three are configured.
	{"organization invitations", `{ organizations { id invitations(status: [PENDING, EXPIRED], first: 2) { totalCount nodes { id status } } } }`, nil, 3, 0},
	// The outer page is gqlgen's; the organization's page inside each of its two nodes is render's.
	{"a connection inside a node", `{ invitations(first: 2) { nodes { id organization { invitations(first: 1) { totalCount } } } } }`, nil, 2, 1},
	{"user invitations", `{ invitations(first: 2) { nodes { user { email invitations { id } } } } }`, nil, 0, 1},
}

// TestRenderIsGQLGen: every answer render writes is the bytes gqlgen writes, and render did
// write them (its counter says so).
func TestRenderIsGQLGen(t *testing.T) {
	m := metrics.New()
	e := newEnv(t, envOptions{metrics: m})
	e.seed()
	plain, _ := e.newGateway(t, envOptions{gqlgenPages: true})
	// A later page needs a cursor from the first.
	var first struct {
		Invitations struct{ PageInfo struct{ EndCursor string } }
	}
	e.query(t, `{ invitations(first: 3) { pageInfo { endCursor } } }`, nil).data(t, &first)
	rendered, declined := 1, 0 // the first page above
	for _, tc := range renderCases {
		t.Run(tc.name, func(t *testing.T) {
			vars := tc.vars
			if _, ok := vars["after"]; ok {
				vars = map[string]any{"after": first.Invitations.PageInfo.EndCursor}
			}
			got, gotStatus := raw(t, e.gw, tc.query, vars)
			exp, expStatus := raw(t, plain, tc.query, vars)
			if got != exp || gotStatus != expStatus {
				t.Fatalf("render wrote\n%s\ngqlgen wrote\n%s", got, exp)
			}
			if strings.Contains(got, `"errors"`) {
				t.Fatalf("an error: %s", got)
			}
		})
		rendered, declined = rendered+tc.rendered, declined+tc.declined
	}
	// A joined value that failed: render leaves the page, and its error, to gqlgen.
	const roles = `{ invitations(filter: {providers: [FRONTIER]}) { nodes { id roleBindings { roleName } } } }`
	e.fr.FailNext("ListOrganizationRoles", 2, http.StatusServiceUnavailable) // once per gateway
	got, _ := raw(t, e.gw, roles, nil)
	exp, _ := raw(t, plain, roles, nil)
	if got != exp || !strings.Contains(got, `"UPSTREAM_UNAVAILABLE"`) {
		t.Fatalf("with roles failing, render wrote\n%s\ngqlgen wrote\n%s", got, exp)
	}
	declined++
	if got := counter(t, e.gw, `invitegw_render_pages_total{outcome="rendered"}`); got != rendered {
		t.Errorf("render wrote %d pages, want %d", got, rendered)
	}
	if got := counter(t, e.gw, `invitegw_render_pages_total{outcome="declined"}`); got != declined {
		t.Errorf("render declined %d pages, want %d", got, declined)
	}
}

// raw posts a query and returns the body as the client got it.
func raw(t *testing.T, gw *httptest.Server, query string, vars map[string]any) (string, int) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	resp, err := http.Post(gw.URL+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b), resp.StatusCode
}

// counter reads one sample of gw's /metrics.
func counter(t *testing.T, gw *httptest.Server, sample string) int {
	t.Helper()
	_, text := do(t, http.MethodGet, gw.URL+"/metrics", nil, "")
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			var n int
			_ = json.Unmarshal([]byte(v), &n)
			return n
		}
	}
	t.Fatalf("no %s in /metrics", sample)
	return 0
}
