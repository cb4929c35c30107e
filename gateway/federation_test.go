package gateway_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/invitegw/invitegw/upstream/frontier/frontierfake"
	"github.com/invitegw/invitegw/upstream/redpanda/redpandafake"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestServiceSDLMatchesGolden runs on the production default, introspection off: `_service`
// is the federation contract that composition reads, not introspection.
func TestServiceSDLMatchesGolden(t *testing.T) {
	e := newEnv(t, envOptions{noIntrospection: true})
	var got struct {
		Service struct{ SDL string } `json:"_service"`
	}
	e.query(t, `{ _service { sdl } }`, nil).data(t, &got)
	golden := filepath.Join("testdata", "federation.graphql")
	if *update {
		if err := os.WriteFile(golden, []byte(got.Service.SDL), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got.Service.SDL != string(want) {
		t.Fatalf("_service { sdl } differs from %s (run go test ./gateway -run SDL -update if intended):\n%s", golden, got.Service.SDL)
	}
	for _, want := range []string{`@link(url: "https://specs.apollo.dev/federation/v2.5"`, `type Invitation @key(fields: "id")`,
		`type Organization @key(fields: "id")`, `type User @key(fields: "email")`} {
		if !strings.Contains(got.Service.SDL, want) {
			t.Errorf("SDL lacks %s", want)
		}
	}
}

// TestIntrospectionOffServesOnlyService: with introspection off, an operation that selects
// `_service` answers it, and one that also selects __schema or __type, however spread,
// is refused whole, as is plain introspection.
func TestIntrospectionOffServesOnlyService(t *testing.T) {
	e := newEnv(t, envOptions{noIntrospection: true})
	tests := []struct {
		name, query string
		served      bool
	}{
		{"_service", `{ _service { sdl } }`, true},
		{"_service in a fragment", `query { ...F } fragment F on Query { _service { sdl } }`, true},
		{"_service with other fields", `{ _service { sdl } __typename }`, true},
		{"__schema", `{ __schema { types { name } } }`, false},
		{"__type", `{ __type(name: "Invitation") { name } }`, false},
		{"_service and __schema", `{ _service { sdl } __schema { types { name } } }`, false},
		{"_service and __type in a fragment", `query { _service { sdl } ...F } fragment F on Query { ... on Query { __type(name: "Invitation") { name } } }`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.query(t, tt.query, nil)
			if served := len(r.Errors) == 0; served != tt.served {
				t.Fatalf("served %v, want %v: %s", served, tt.served, r.raw)
			}
			if !tt.served {
				if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "INTROSPECTION_DISABLED" {
					t.Fatalf("want one INTROSPECTION_DISABLED error, got %s", r.raw)
				}
				return
			}
			var got struct {
				Service struct{ SDL string } `json:"_service"`
			}
			r.data(t, &got)
			if !strings.Contains(got.Service.SDL, `type Invitation @key(fields: "id")`) {
				t.Fatalf("no SDL: %s", r.raw)
			}
		})
	}
	if strings.Contains(e.log.String(), `"msg":"internal error"`) {
		t.Fatalf("a refused introspection was logged as an internal error:\n%s", e.log.String())
	}
}

const entitiesQuery = `query($r: [_Any!]!) { _entities(representations: $r) {
	__typename
	... on Invitation { id email }
	... on Organization { id name }
	... on User { email invitations { id } } } }`

func TestEntitiesInOrderWithPerEntityErrors(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	r := e.query(t, entitiesQuery, map[string]any{"r": []any{
		map[string]any{"__typename": "Invitation", "id": "frontier:f-org-1:inv-2"},
		map[string]any{"__typename": "Organization", "id": "elastic:1004"},
		map[string]any{"__typename": "Invitation", "id": "redpanda:missing"},
		map[string]any{"__typename": "User", "email": "ADA@example.com"},
		map[string]any{"__typename": "Invitation", "id": 42},
		map[string]any{"__typename": "Invitation", "id": "not-an-id"},
		map[string]any{"__typename": "Spaceship", "id": "x"},
		map[string]any{"__typename": "Organization", "id": "elastic:9999"},
		map[string]any{"__typename": "Invitation", "id": "redpanda:rp-1"},
	}})
	jsonEq(t, r.Data, `{"_entities": [
		{"__typename": "Invitation", "id": "frontier:f-org-1:inv-2", "email": "linus@example.com"},
		{"__typename": "Organization", "id": "elastic:1004", "name": "Acme Search"},
		null,
		{"__typename": "User", "email": "ADA@example.com", "invitations": [{"id": "redpanda:rp-1"}, {"id": "elastic:1004:`+digest(ecTokens[1])+`"}]},
		null, null, null, null,
		{"__typename": "Invitation", "id": "redpanda:rp-1", "email": "ada@example.com"}]}`)

	got := map[string]string{}
	for _, err := range r.Errors {
		if len(err.Path) != 2 || err.Path[0] != "_entities" {
			t.Fatalf("error without an entity path: %+v", err)
		}
		got[fmt.Sprint(err.Path[1])] = fmt.Sprint(err.Extensions["code"])
	}
	want := map[string]string{"2": "NOT_FOUND", "4": "BAD_USER_INPUT", "5": "BAD_USER_INPUT", "6": "BAD_USER_INPUT", "7": "NOT_FOUND"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("errors by entity index = %v, want %v\n%s", got, want, r.raw)
	}
}

// TestEntitiesAreBatched: 50 invitation representations across 5 organizations cost one list
// call per organization, and 100 users one list call per organization, not one per entity.
func TestEntitiesAreBatched(t *testing.T) {
	ecOrgs, frOrgs := []string{"e1", "e2"}, []string{"f-org-a", "f-org-b"}
	e := newEnv(t, envOptions{elasticOrgs: ecOrgs, frontierOrgs: frOrgs, rpPageSize: 100})
	var reps, users []any
	for i := range 10 {
		id := fmt.Sprintf("rp-%d", i)
		e.rp.Add(redpandafake.Invite{ID: id, Email: fmt.Sprintf("user%d@example.com", i), CreatedAt: ts(-time.Hour), ExpiresAt: ts(day)})
		reps = append(reps, map[string]any{"__typename": "Invitation", "id": "redpanda:" + id})
	}
	for _, org := range ecOrgs {
		e.ec.AddOrganization(org, org)
		for i := range 10 {
			tok := fmt.Sprintf("tok-%s-%d", org, i)
			inv := elasticInvitation(tok, "")
			inv.Email = fmt.Sprintf("user%d@example.com", i)
			e.ec.AddInvitation(org, inv)
			reps = append(reps, map[string]any{"__typename": "Invitation", "id": "elastic:" + org + ":" + digest(tok)})
		}
	}
	for _, org := range frOrgs {
		e.fr.AddOrganization(org, org, org)
		for i := range 10 {
			id := fmt.Sprintf("%s-%d", org, i)
			e.fr.AddInvitation(org, frontierfake.Invitation{ID: id, UserID: fmt.Sprintf("user%d@example.com", i), CreatedAt: ts(-time.Hour), ExpiresAt: ts(day)})
			reps = append(reps, map[string]any{"__typename": "Invitation", "id": "frontier:" + org + ":" + id})
		}
	}
	for i := range 100 {
		users = append(users, map[string]any{"__typename": "User", "email": fmt.Sprintf("USER%d@example.com", i)})
	}

	var got struct {
		Entities []struct {
			ID          string
			Invitations []struct{ ID string }
		} `json:"_entities"`
	}
	e.query(t, entitiesQuery, map[string]any{"r": reps}).data(t, &got)
	if len(got.Entities) != 50 {
		t.Fatalf("got %d entities, want 50", len(got.Entities))
	}
	for i, ent := range got.Entities {
		if want := reps[i].(map[string]any)["id"]; ent.ID != want {
			t.Fatalf("entity %d = %q, want %q (representation order)", i, ent.ID, want)
		}
	}
	lists := func() [3]int {
		return [3]int{e.rp.Calls("ListUserInvites"), e.ec.Calls("ListInvitations"), e.fr.Calls("ListOrganizationInvitations")}
	}
	if l := lists(); l != [3]int{1, 2, 2} {
		t.Fatalf("list calls (redpanda, elastic, frontier) = %v, want [1 2 2] for 50 entities", l)
	}

	e.query(t, entitiesQuery, map[string]any{"r": users}).data(t, &got)
	if l := lists(); l != [3]int{2, 4, 4} {
		t.Fatalf("list calls after 100 users = %v, want [2 4 4]: one more per organization", l)
	}
	counts := []int{}
	for _, u := range got.Entities {
		counts = append(counts, len(u.Invitations))
	}
	sort.Ints(counts)
	// user0..user9 have one invitation per organization (5), the other 90 none.
	if counts[89] != 0 || counts[90] != 5 || counts[99] != 5 {
		t.Fatalf("invitations per user = %v", counts)
	}
}

func TestInvitationUserIsTheEntityReference(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	r := e.query(t, `{ invitation(id: "elastic:1004:`+digest(ecTokens[1])+`") { email user { email } } }`, nil)
	jsonEq(t, r.Data, `{"invitation": {"email": "Ada@Example.com", "user": {"email": "ada@example.com"}}}`)
}

// TestGraphQLOverHTTPStatus checks the answers the graphql-http audit grades.
func TestGraphQLOverHTTPStatus(t *testing.T) {
	e := newEnv(t, envOptions{})
	tests := []struct {
		name, accept, body string
		status             int
		hasData            bool
	}{
		{"parse error, application/json", "application/json", `{"query":"{"}`, 200, true},
		{"validation error, application/json", "application/json", `{"query":"{ nope }"}`, 200, true},
		{"parse error, graphql-response+json", "application/graphql-response+json", `{"query":"{"}`, 400, false},
		{"validation error, graphql-response+json", "application/graphql-response+json", `{"query":"{ nope }"}`, 400, false},
		{"success, graphql-response+json", "application/graphql-response+json", `{"query":"{ __typename }"}`, 200, true},
		{"body not JSON, application/json", "application/json", `{"query":`, 400, false},
		{"no query, application/json", "application/json", `{"qeury":"{ __typename }"}`, 400, false},
		{"no query, graphql-response+json", "application/graphql-response+json", `{"qeury":"{ __typename }"}`, 400, false},
		{"body not JSON, graphql-response+json", "application/graphql-response+json", `{"query":`, 400, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, e.gw.URL+"/graphql", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", tt.accept)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			var body map[string]any
			_ = json.Unmarshal(raw, &body)
			_, hasData := body["data"]
			if resp.StatusCode != tt.status || hasData != tt.hasData || !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.accept) {
				t.Fatalf("status %d, content type %q, data present %v; want %d, %q, %v",
					resp.StatusCode, resp.Header.Get("Content-Type"), hasData, tt.status, tt.accept, tt.hasData)
			}
			// Rewritten answers are sent whole too (see overHTTP).
			if resp.ContentLength != int64(len(raw)) || len(resp.TransferEncoding) != 0 {
				t.Errorf("Content-Length %d, Transfer-Encoding %v for a %d-byte body", resp.ContentLength, resp.TransferEncoding, len(raw))
			}
		})
	}
}

// TestMalformedRepresentationIsBadUserInput: a representation that is not an object is the
// caller's mistake, answered as such and not logged as an internal error.
func TestMalformedRepresentationIsBadUserInput(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, tt := range []struct {
		name, query string
		vars        map[string]any
	}{
		{"literal", `{ _entities(representations: ["x"]) { __typename } }`, nil},
		{"variable", `query($r: [_Any!]!) { _entities(representations: $r) { __typename } }`,
			map[string]any{"r": []any{map[string]any{"__typename": "User", "email": "a@example.com"}, 7}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.query(t, tt.query, tt.vars)
			if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "BAD_USER_INPUT" ||
				!strings.Contains(r.Errors[0].Message, "must be an object with __typename") {
				t.Fatalf("want one BAD_USER_INPUT error, got %s", r.raw)
			}
		})
	}
	if strings.Contains(e.log.String(), `"msg":"internal error"`) {
		t.Fatalf("a malformed representation was logged as an internal error:\n%s", e.log.String())
	}
}
