package gateway_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/invitegw/invitegw/cache"
	"github.com/invitegw/invitegw/upstream/elastic/elasticfake"
)

const createMutation = `mutation($in: CreateInvitationsInput!) { createInvitations(input: $in) {
  results { email organizationId provider invitation { id email status } error { code message } } } }`

type createResult struct {
	Email, OrganizationID, Provider string
	Invitation                      *struct{ ID, Email, Status string }
	Error                           *struct{ Code, Message string }
}

func createInput() map[string]any {
	return map[string]any{"in": map[string]any{
		"emails": []any{" New.One@Example.com", "two@example.com", "NEW.ONE@example.com"},
		"targets": []any{
			map[string]any{"organizationId": "redpanda:rp-org-1", "roleBindings": []any{
				map[string]any{"roleName": "Reader", "scope": map[string]any{"resourceType": "CLUSTER", "resourceId": "c-1"}}}},
			map[string]any{"organizationId": "elastic:1004", "roleBindings": []any{
				map[string]any{"roleName": "billing-admin", "scope": map[string]any{"resourceType": "ORGANIZATION", "resourceId": "1004"}},
				map[string]any{"roleName": "elasticsearch-viewer", "scope": map[string]any{"resourceType": "PROJECT", "resourceId": "*"}}}},
			map[string]any{"organizationId": "frontier:f-org-1", "groupIds": []any{"grp-1"}, "roleBindings": []any{
				map[string]any{"roleName": "acme_auditor", "scope": map[string]any{"resourceType": "ORGANIZATION", "resourceId": "f-org-1"}}}},
		},
	}}
}

// TestCreateInvitations: two emails into one organization of each provider make exactly one
// Elastic POST with both, one Frontier POST with both, and two Redpanda POSTs; the new
// invitations are listed at once through another instance on the same Redis.
func TestCreateInvitations(t *testing.T) {
	rs, _ := newRedisStore(t)
	e := newEnv(t, envOptions{apiKeys: scopedKeys, store: rs})
	e.seed()
	second, _ := e.newGateway(t, envOptions{apiKeys: scopedKeys, store: rs})
	const count = `{ invitations(filter: {email: "new.one@example.com"}) { totalCount } }`
	// Both instances have the lists (and this answer) cached before the write.
	for _, gw := range []*httptest.Server{e.gw, second} {
		jsonEq(t, as(t, gw, readerKey, "", count, nil).Data, `{"invitations":{"totalCount":0}}`)
	}
	r := as(t, e.gw, writerKey, "req-create", createMutation, createInput())
	var got struct {
		CreateInvitations struct{ Results []createResult }
	}
	r.data(t, &got)
	res := got.CreateInvitations.Results
	wantOrder := [][2]string{
		{"new.one@example.com", "redpanda:rp-org-1"}, {"new.one@example.com", "elastic:1004"}, {"new.one@example.com", "frontier:f-org-1"},
		{"two@example.com", "redpanda:rp-org-1"}, {"two@example.com", "elastic:1004"}, {"two@example.com", "frontier:f-org-1"},
	}
	if len(res) != len(wantOrder) {
		t.Fatalf("%d results: %s", len(res), r.raw)
	}
	for i, w := range wantOrder {
		if res[i].Email != w[0] || res[i].OrganizationID != w[1] || res[i].Error != nil || res[i].Invitation == nil ||
			res[i].Invitation.Email != w[0] || res[i].Invitation.Status != "PENDING" {
			t.Fatalf("result %d: %+v, want %v (%s)", i, res[i], w, r.raw)
		}
	}
	if !strings.HasPrefix(res[1].Invitation.ID, "elastic:1004:") || !strings.HasPrefix(res[2].Invitation.ID, "frontier:f-org-1:") {
		t.Fatalf("IDs %s %s", res[1].Invitation.ID, res[2].Invitation.ID)
	}

	rpPosts := e.rp.Requests("CreateUserInvite")
	if len(rpPosts) != 2 {
		t.Fatalf("%d Redpanda POSTs, want 2", len(rpPosts))
	}
	for i, email := range []string{"new.one@example.com", "two@example.com"} {
		jsonEq(t, rpPosts[i].Body, `{"user_invite":{"email":"`+email+`","role_bindings":[{"role_name":"Reader","scope":{"resource_id":"c-1","resource_type":"SCOPE_RESOURCE_TYPE_CLUSTER"}}]}}`)
	}
	ecPosts := e.ec.Requests("CreateInvitations")
	if len(ecPosts) != 1 || ecPosts[0].Path != "/api/v1/organizations/1004/invitations" {
		t.Fatalf("Elastic POSTs: %+v", ecPosts)
	}
	jsonEq(t, ecPosts[0].Body, `{"emails":["new.one@example.com","two@example.com"],"role_assignments":{
	  "organization":[{"role_id":"billing-admin","organization_id":"1004"}],
	  "project":{"elasticsearch":[{"role_id":"elasticsearch-viewer","organization_id":"1004","all":true}]}}}`)
	frPosts := e.fr.Requests("CreateOrganizationInvitation")
	if len(frPosts) != 1 {
		t.Fatalf("%d Frontier POSTs, want 1", len(frPosts))
	}
	frBody := `"user_ids":["new.one@example.com","two@example.com"],"group_ids":["grp-1"],"role_ids":["role-auditor"]`
	if *frontierProtocol == "connect" { // the organization is in the body, not the path
		frBody = `"org_id":"f-org-1",` + frBody
	}
	jsonEq(t, frPosts[0].Body, "{"+frBody+"}")

	for _, gw := range []*httptest.Server{second, e.gw} {
		jsonEq(t, as(t, gw, readerKey, "", count, nil).Data, `{"invitations":{"totalCount":3}}`)
	}
	// One audit event per item.
	var trail struct {
		AuditEvents struct {
			Nodes []struct{ Outcome, RequestID string }
		}
	}
	as(t, e.gw, auditorKey, "", `{ auditEvents(filter: {operation: "createInvitations"}) { nodes { outcome requestId } } }`, nil).data(t, &trail)
	if n := len(trail.AuditEvents.Nodes); n != 6 || trail.AuditEvents.Nodes[0].Outcome != "SUCCEEDED" || trail.AuditEvents.Nodes[0].RequestID != "req-create" {
		t.Fatalf("audit: %+v", trail)
	}
}

// TestCreateInvitationsPartialFailure: one provider failing fails only its items.
func TestCreateInvitationsPartialFailure(t *testing.T) {
	e := newEnv(t, envOptions{apiKeys: scopedKeys, store: cache.NewMemory(nil)})
	e.seed()
	e.ec.FailNext("CreateInvitations", 1, http.StatusServiceUnavailable)
	r := as(t, e.gw, writerKey, "", createMutation, createInput())
	var got struct {
		CreateInvitations struct{ Results []createResult }
	}
	r.data(t, &got)
	var codes []string
	for _, res := range got.CreateInvitations.Results {
		code := ""
		if res.Error != nil {
			code = res.Error.Code
		}
		codes = append(codes, code)
	}
	if want := []string{"", "UPSTREAM_UNAVAILABLE", "", "", "UPSTREAM_UNAVAILABLE", ""}; !reflect.DeepEqual(codes, want) {
		t.Fatalf("codes %v, want %v: %s", codes, want, r.raw)
	}
	// Creating is never retried.
	if n := len(e.ec.Requests("CreateInvitations")); n != 1 {
		t.Fatalf("%d Elastic POSTs, want 1", n)
	}
}

func TestCreateInvitationsBadInput(t *testing.T) {
	e := newEnv(t, envOptions{apiKeys: scopedKeys})
	e.seed()
	target := map[string]any{"organizationId": "elastic:1004"}
	many := make([]any, 51)
	for i := range many {
		many[i] = "p" + strings.Repeat("x", i) + "@example.com"
	}
	for _, tc := range []struct {
		name string
		in   map[string]any
		msg  string
	}{
		{"no emails", map[string]any{"emails": []any{}, "targets": []any{target}}, "emails: give 1 to 50 addresses, got 0"},
		{"not an address", map[string]any{"emails": []any{"Ada <ada@example.com>"}, "targets": []any{target}}, `"ada <ada@example.com>" is not an email address`},
		{"too many emails", map[string]any{"emails": many, "targets": []any{target}}, "emails: give 1 to 50 addresses, got 51"},
		{"no targets", map[string]any{"emails": []any{"a@example.com"}, "targets": []any{}}, "targets: give 1 to 20 organizations, got 0"},
		{"groups outside Frontier", map[string]any{"emails": []any{"a@example.com"}, "targets": []any{
			map[string]any{"organizationId": "elastic:1004", "groupIds": []any{"g"}}}}, "targets[0].groupIds: only Frontier invitations join groups"},
		{"a scope Elastic has not", map[string]any{"emails": []any{"a@example.com"}, "targets": []any{
			map[string]any{"organizationId": "elastic:1004", "roleBindings": []any{map[string]any{"roleName": "x", "scope": map[string]any{"resourceType": "CLUSTER", "resourceId": "c"}}}}}},
			"targets[0].roleBindings[0].scope.resourceType CLUSTER: Elastic invitations grant ORGANIZATION, DEPLOYMENT or PROJECT roles"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.upstreamCalls()
			r := as(t, e.gw, writerKey, "", createMutation, map[string]any{"in": tc.in})
			if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "BAD_USER_INPUT" || r.Errors[0].Message != tc.msg {
				t.Fatalf("%s", r.raw)
			}
			if e.upstreamCalls() != before {
				t.Fatal("a refused input reached an upstream")
			}
		})
	}
}

const revokeMutation = `mutation($in: RevokeInvitationsInput!) { revokeInvitations(input: $in) {
  results { id provider email revoked error { code } } } }`

// TestRevokeByIDs: one DELETE per Redpanda and Frontier invitation, one per Elastic
// organization carrying the right tokens, which appear nowhere in the answer.
func TestRevokeByIDs(t *testing.T) {
	e := newEnv(t, envOptions{apiKeys: scopedKeys, store: cache.NewMemory(nil)})
	e.seed()
	var created struct {
		CreateInvitations struct{ Results []createResult }
	}
	as(t, e.gw, writerKey, "", createMutation, map[string]any{"in": map[string]any{
		"emails": []any{"x@example.com"}, "targets": []any{map[string]any{"organizationId": "frontier:f-org-1"}}}}).data(t, &created)
	frID := created.CreateInvitations.Results[0].Invitation.ID
	ids := []any{"redpanda:rp-1", "elastic:1004:" + digest(ecTokens[0]), "elastic:1004:" + digest(ecTokens[2]), frID, "redpanda:rp-nope"}
	r := as(t, e.gw, writerKey, "", revokeMutation, map[string]any{"in": map[string]any{"ids": ids}})
	jsonEq(t, r.Data, `{"revokeInvitations":{"results":[
	  {"id":"redpanda:rp-1","provider":"REDPANDA","email":null,"revoked":true,"error":null},
	  {"id":"elastic:1004:`+digest(ecTokens[0])+`","provider":"ELASTIC","email":null,"revoked":true,"error":null},
	  {"id":"elastic:1004:`+digest(ecTokens[2])+`","provider":"ELASTIC","email":null,"revoked":true,"error":null},
	  {"id":"`+frID+`","provider":"FRONTIER","email":null,"revoked":true,"error":null},
	  {"id":"redpanda:rp-nope","provider":"REDPANDA","email":null,"revoked":false,"error":{"code":"NOT_FOUND"}}]}}`)
	dels := e.ec.Requests("DeleteInvitations")
	if len(dels) != 1 || dels[0].Path != "/api/v1/organizations/1004/invitations/"+ecTokens[0]+","+ecTokens[2] {
		t.Fatalf("Elastic DELETEs %+v", dels)
	}
	for _, tok := range ecTokens {
		if strings.Contains(r.raw, tok) {
			t.Fatal("an Elastic token in the answer")
		}
	}
	if n := len(e.rp.Requests("DeleteUserInvite")); n != 2 {
		t.Fatalf("%d Redpanda DELETEs, want 2", n)
	}
	if n := len(e.fr.Requests("DeleteOrganizationInvitation")); n != 1 {
		t.Fatalf("%d Frontier DELETEs, want 1", n)
	}
	jsonEq(t, as(t, e.gw, readerKey, "", `{ invitations { totalCount } }`, nil).Data, `{"invitations":{"totalCount":5}}`)
}

// TestOffboarding: every pending or expired invitation to an address, everywhere, read fresh;
// a dry run changes nothing.
func TestOffboarding(t *testing.T) {
	e := newEnv(t, envOptions{apiKeys: scopedKeys, store: cache.NewMemory(nil)})
	e.seed()
	// Cached lists without the invitation created next: offboarding must not use them.
	as(t, e.gw, readerKey, "", `{ invitations { totalCount } }`, nil)
	e.ec.AddInvitation("1004", elasticfakeInvitation("ec-secret-token-dddd", "ADA@example.com"))
	in := map[string]any{"email": " Ada@Example.com ", "dryRun": true}
	const want = `{"revokeInvitations":{"results":[
	  {"id":"redpanda:rp-1","provider":"REDPANDA","email":"ada@example.com","revoked":%s,"error":null},
	  {"id":"elastic:1004:%s","provider":"ELASTIC","email":"ada@example.com","revoked":%s,"error":null}]}}`
	dry := as(t, e.gw, writerKey, "", revokeMutation, map[string]any{"in": in})
	jsonEq(t, dry.Data, fmt.Sprintf(want, "false", digest("ec-secret-token-dddd"), "false"))
	if n := len(e.rp.Requests("DeleteUserInvite")) + len(e.ec.Requests("DeleteInvitations")); n != 0 {
		t.Fatalf("a dry run sent %d DELETEs", n)
	}
	in["dryRun"] = false
	jsonEq(t, as(t, e.gw, writerKey, "", revokeMutation, map[string]any{"in": in}).Data, fmt.Sprintf(want, "true", digest("ec-secret-token-dddd"), "true"))
	// Ada's accepted Elastic invitation stays.
	if dels := e.ec.Requests("DeleteInvitations"); len(dels) != 1 || dels[0].Path != "/api/v1/organizations/1004/invitations/ec-secret-token-dddd" {
		t.Fatalf("Elastic DELETEs %+v", dels)
	}
	jsonEq(t, as(t, e.gw, writerKey, "", revokeMutation, map[string]any{"in": in}).Data, `{"revokeInvitations":{"results":[]}}`)

	r := as(t, e.gw, writerKey, "", revokeMutation, map[string]any{"in": map[string]any{"email": "a@example.com", "ids": []any{"redpanda:rp-2"}}})
	if len(r.Errors) != 1 || r.Errors[0].Message != "give exactly one of ids and email" {
		t.Fatalf("both ids and email: %s", r.raw)
	}
}

func TestResendInvitation(t *testing.T) {
	e := newEnv(t, envOptions{apiKeys: scopedKeys, store: cache.NewMemory(nil)})
	e.seed()
	const resend = `mutation($id: ID!) { resendInvitation(id: $id) { invitation { id email } error { code } } }`
	id := "elastic:1004:" + digest(ecTokens[2])
	jsonEq(t, as(t, e.gw, writerKey, "", resend, map[string]any{"id": id}).Data,
		`{"resendInvitation":{"invitation":{"id":"`+id+`","email":"ken@example.com"},"error":null}}`)
	posts := e.ec.Requests("CreateInvitations")
	if len(posts) != 1 {
		t.Fatalf("%d Elastic POSTs", len(posts))
	}
	jsonEq(t, posts[0].Body, `{"emails":["ken@example.com"]}`)
	jsonEq(t, as(t, e.gw, writerKey, "", resend, map[string]any{"id": "redpanda:rp-1"}).Data,
		`{"resendInvitation":{"invitation":null,"error":{"code":"UNSUPPORTED_OPERATION"}}}`)
	jsonEq(t, as(t, e.gw, writerKey, "", resend, map[string]any{"id": "elastic:1004:0000000000000000"}).Data,
		`{"resendInvitation":{"invitation":null,"error":{"code":"NOT_FOUND"}}}`)
}

// elasticfakeInvitation is a pending Elastic invitation created a minute ago.
func elasticfakeInvitation(token, email string) elasticfake.Invitation {
	return elasticfake.Invitation{Token: token, Email: email, CreatedAt: ts(-time.Minute), ExpiresAt: ts(day)}
}

// A refused bulk mutation is audited with what its arguments name.
func TestRefusedCreateIsAudited(t *testing.T) {
	e := newEnv(t, envOptions{apiKeys: scopedKeys})
	e.seed()
	r := as(t, e.gw, readerKey, "", createMutation, map[string]any{"in": map[string]any{
		"emails": []any{"a@example.com"}, "targets": []any{map[string]any{"organizationId": "elastic:1004"}}}})
	if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "FORBIDDEN" || e.upstreamCalls() != 0 {
		t.Fatalf("%s (%d upstream calls)", r.raw, e.upstreamCalls())
	}
	jsonEq(t, as(t, e.gw, auditorKey, "", `{ auditEvents { nodes { operation outcome targets { email organizationId } } } }`, nil).Data,
		`{"auditEvents":{"nodes":[{"operation":"createInvitations","outcome":"FORBIDDEN","targets":[{"email":"a@example.com","organizationId":"elastic:1004"}]}]}}`)
}
