package gateway_test

import (
	"fmt"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/invitegw/invitegw/audit"
	"github.com/invitegw/invitegw/cache"
)

// Client keys of the authorization tests, one per scope. Named keys with scopes are the
// documented INVITEGW_API_KEYS format; the log scan (main_test.go) looks for every one.
var (
	readerKey  = "reader-key-0123456789abcdef"
	writerKey  = "writer-key-0123456789abcdef"
	auditorKey = "auditor-key-0123456789abcdef"
	adminKey   = "admin-key-0123456789abcdef"
)

// scopedKeys are the keys above as INVITEGW_API_KEYS entries.
var scopedKeys = []string{
	"reader " + readerKey + " invitations:read",
	"writer " + writerKey + " invitations:write invitations:read",
	"auditor " + auditorKey + " invitations:audit",
	"admin " + adminKey, // every scope
}

// as sends a GraphQL request to gw with an API key (and a request ID, when given).
func as(t *testing.T, gw *httptest.Server, key, requestID, query string, vars map[string]any) response {
	t.Helper()
	h := map[string]string{"X-API-Key": key}
	if requestID != "" {
		h["X-Request-Id"] = requestID
	}
	return postWith(t, gw, h, map[string]any{"query": query, "variables": vars})
}

// forbidden is the error of a field refused for want of scope.
func forbidden(path []any, scope string) gqlError {
	return gqlError{
		Message:    "forbidden: this field needs the scope " + scope,
		Path:       path,
		Extensions: map[string]any{"code": "FORBIDDEN", "requiredScopes": []any{[]any{scope}}},
	}
}

func TestFieldsNeedTheirScopes(t *testing.T) {
	e := newEnv(t, envOptions{apiKeys: scopedKeys})
	e.seed()
	const q = `{ invitation(id: "redpanda:rp-1") { id } auditEvents(first: 1) { nodes { id } } }`
	tests := []struct {
		name   string
		key    string
		data   string
		errors []gqlError
	}{
		{"every scope", adminKey, `{"invitation":{"id":"redpanda:rp-1"},"auditEvents":{"nodes":[]}}`, nil},
		// auditEvents is non-null: refusing it nulls the whole data.
		{"reader", readerKey, `null`, []gqlError{forbidden([]any{"auditEvents"}, "invitations:audit")}},
		// invitation is nullable: the other field still answers.
		{"auditor", auditorKey, `{"invitation":null,"auditEvents":{"nodes":[]}}`,
			[]gqlError{forbidden([]any{"invitation"}, "invitations:read")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.upstreamCalls()
			r := as(t, e.gw, tt.key, "", q, nil)
			jsonEq(t, r.Data, tt.data)
			if !reflect.DeepEqual(r.Errors, tt.errors) {
				t.Fatalf("errors %s\nwant %+v", r.raw, tt.errors)
			}
			if tt.key == auditorKey && e.upstreamCalls() != before {
				t.Fatalf("a refused field reached an upstream: %d calls", e.upstreamCalls()-before)
			}
		})
	}
}

// Federation's entry point needs the same scope as the fields it reaches.
func TestEntitiesNeedRead(t *testing.T) {
	e := newEnv(t, envOptions{apiKeys: scopedKeys})
	e.seed()
	const q = `{ _entities(representations: [{__typename: "Invitation", id: "redpanda:rp-1"}]) { ... on Invitation { email } } }`
	r := as(t, e.gw, auditorKey, "", q, nil)
	jsonEq(t, r.Data, `null`)
	if want := []gqlError{forbidden([]any{"_entities"}, "invitations:read")}; !reflect.DeepEqual(r.Errors, want) {
		t.Fatalf("errors %s", r.raw)
	}
	r = as(t, e.gw, readerKey, "", q, nil)
	jsonEq(t, r.Data, `{"_entities":[{"email":"ada@example.com"}]}`)
}

func TestForbiddenMutationMakesNoUpstreamCall(t *testing.T) {
	e := newEnv(t, envOptions{apiKeys: scopedKeys})
	e.seed()
	r := as(t, e.gw, readerKey, "req-forbidden-1",
		`mutation { updateInvitation(id: "redpanda:rp-1", input: {expiresAt: "2027-01-01T00:00:00Z"}) { invitation { id } } }`, nil)
	jsonEq(t, r.Data, `null`)
	if want := []gqlError{forbidden([]any{"updateInvitation"}, "invitations:write")}; !reflect.DeepEqual(r.Errors, want) {
		t.Fatalf("errors %s", r.raw)
	}
	if n := e.rp.Calls("UpdateUserInvite"); n != 0 {
		t.Fatalf("%d PATCH calls for a forbidden mutation", n)
	}
}

// A kept answer is never handed to a caller who may not see it: the key holds the caller's
// scopes.
func TestResponseCacheHoldsScopes(t *testing.T) {
	e := newEnv(t, envOptions{apiKeys: scopedKeys, store: cache.NewMemory(nil)})
	e.seed()
	const q = `{ invitations(first: 2) { totalCount } }`
	for range 2 {
		jsonEq(t, as(t, e.gw, readerKey, "", q, nil).Data, `{"invitations":{"totalCount":8}}`)
	}
	if st := e.cache.ResponseStats(); st != (cache.ResponseStats{Hits: 1, Misses: 1}) {
		t.Fatalf("the reader's repeat was not answered from the response cache: %+v", st)
	}
	r := as(t, e.gw, auditorKey, "", q, nil)
	jsonEq(t, r.Data, `null`)
	if want := []gqlError{forbidden([]any{"invitations"}, "invitations:read")}; !reflect.DeepEqual(r.Errors, want) {
		t.Fatalf("the auditor got %s", r.raw)
	}
	// A caller with every scope has another permission set: its own entry. (Misses count
	// answers kept: the reader's and the admin's, never the refused one.)
	jsonEq(t, as(t, e.gw, adminKey, "", q, nil).Data, `{"invitations":{"totalCount":8}}`)
	if st := e.cache.ResponseStats(); st != (cache.ResponseStats{Hits: 1, Misses: 2}) {
		t.Fatalf("after the auditor and the admin: %+v", st)
	}
}

const auditQuery = `query($f: AuditFilter) { auditEvents(filter: $f, first: 10) {
  nodes { actor { kind subject issuer } operation outcome errorCode requestId
          targets { invitationId provider organizationId email } }
  pageInfo { hasNextPage } } }`

// TestAuditTrail: every mutation attempt is one event, whatever its outcome, readable newest
// first by an auditor, from a second instance sharing the store and after a restart.
func TestAuditTrail(t *testing.T) {
	rs, srv := newRedisStore(t)
	_ = rs
	trail := func() audit.Store { return audit.NewRedis(srv.Client(), "invitegw:v1:audit", 1000) }
	e := newEnv(t, envOptions{apiKeys: scopedKeys, auditStore: trail()})
	e.seed()
	const update = `mutation($id: ID!) { updateInvitation(id: $id, input: {expiresAt: "2027-01-01T00:00:00Z"}) { invitation { id } } }`
	for _, c := range []struct{ key, request, id string }{
		{writerKey, "req-ok", "redpanda:rp-1"},
		{writerKey, "req-missing", "redpanda:rp-404"},
		{writerKey, "req-elastic", "elastic:1004:0123456789abcdef"},
		{readerKey, "req-refused", "redpanda:rp-3"},
	} {
		as(t, e.gw, c.key, c.request, update, map[string]any{"id": c.id})
	}
	const want = `{"auditEvents":{"nodes":[
 {"actor":{"kind":"API_KEY","subject":"reader","issuer":null},"operation":"updateInvitation","outcome":"FORBIDDEN",
  "errorCode":"FORBIDDEN","requestId":"req-refused",
  "targets":[{"invitationId":"redpanda:rp-3","provider":"REDPANDA","organizationId":null,"email":null}]},
 {"actor":{"kind":"API_KEY","subject":"writer","issuer":null},"operation":"updateInvitation","outcome":"FAILED",
  "errorCode":"UNSUPPORTED_OPERATION","requestId":"req-elastic",
  "targets":[{"invitationId":"elastic:1004:0123456789abcdef","provider":"ELASTIC","organizationId":null,"email":null}]},
 {"actor":{"kind":"API_KEY","subject":"writer","issuer":null},"operation":"updateInvitation","outcome":"FAILED",
  "errorCode":"NOT_FOUND","requestId":"req-missing",
  "targets":[{"invitationId":"redpanda:rp-404","provider":"REDPANDA","organizationId":null,"email":null}]},
 {"actor":{"kind":"API_KEY","subject":"writer","issuer":null},"operation":"updateInvitation","outcome":"SUCCEEDED",
  "errorCode":null,"requestId":"req-ok",
  "targets":[{"invitationId":"redpanda:rp-1","provider":"REDPANDA","organizationId":null,"email":"ada@example.com"}]}
 ],"pageInfo":{"hasNextPage":false}}}`
	jsonEq(t, as(t, e.gw, auditorKey, "", auditQuery, nil).Data, want)

	// A second replica on the same Redis, and one started later (a restart), read the same.
	second, _ := e.newGateway(t, envOptions{apiKeys: scopedKeys, auditStore: trail()})
	jsonEq(t, as(t, second, auditorKey, "", auditQuery, nil).Data, want)

	// Filters.
	r := as(t, second, auditorKey, "", auditQuery, map[string]any{"f": map[string]any{"actorSubject": "reader"}})
	var got struct {
		AuditEvents struct{ Nodes []struct{ RequestID string } }
	}
	r.data(t, &got)
	if len(got.AuditEvents.Nodes) != 1 || got.AuditEvents.Nodes[0].RequestID != "req-refused" {
		t.Fatalf("actorSubject filter: %s", r.raw)
	}
	r = as(t, second, auditorKey, "", auditQuery, map[string]any{"f": map[string]any{"email": " ADA@example.com "}})
	r.data(t, &got)
	if len(got.AuditEvents.Nodes) != 1 || got.AuditEvents.Nodes[0].RequestID != "req-ok" {
		t.Fatalf("email filter: %s", r.raw)
	}
}

// TestAuditEventsPaging: pages follow cursors without gaps; bad arguments are the caller's.
func TestAuditEventsPaging(t *testing.T) {
	e := newEnv(t, envOptions{apiKeys: scopedKeys})
	e.seed()
	for i := range 5 {
		as(t, e.gw, readerKey, fmt.Sprintf("req-%d", i), `mutation { updateInvitation(id: "redpanda:rp-1", input: {}) { invitation { id } } }`, nil)
	}
	const page = `query($after: String) { auditEvents(first: 2, after: $after) {
	  edges { cursor node { requestId } } pageInfo { hasNextPage endCursor } } }`
	var got []string
	var after any
	for range 4 {
		var p struct {
			AuditEvents struct {
				Edges []struct {
					Cursor string
					Node   struct{ RequestID string }
				}
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
			}
		}
		as(t, e.gw, auditorKey, "", page, map[string]any{"after": after}).data(t, &p)
		for _, ed := range p.AuditEvents.Edges {
			got = append(got, ed.Node.RequestID)
		}
		if !p.AuditEvents.PageInfo.HasNextPage {
			break
		}
		if last := p.AuditEvents.Edges[len(p.AuditEvents.Edges)-1].Cursor; last != p.AuditEvents.PageInfo.EndCursor {
			t.Fatalf("endCursor %q is not the last edge's %q", p.AuditEvents.PageInfo.EndCursor, last)
		}
		after = p.AuditEvents.PageInfo.EndCursor
	}
	if want := []string{"req-4", "req-3", "req-2", "req-1", "req-0"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("pages gave %v, want %v", got, want)
	}
	for _, q := range []string{`{ auditEvents(first: 0) { nodes { id } } }`, `{ auditEvents(first: 101) { nodes { id } } }`,
		`{ auditEvents(after: "not-a-cursor") { nodes { id } } }`} {
		r := as(t, e.gw, auditorKey, "", q, nil)
		if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "BAD_USER_INPUT" {
			t.Fatalf("%s: %s", q, r.raw)
		}
	}
}
