package redpandafake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testToken  = "static-token"
	testClient = "client-1"
	testSecret = "secret-1"
)

var t0 = time.Date(2025, 5, 4, 9, 42, 0, 0, time.UTC)

type response struct {
	status int
	header http.Header
	body   string
}

func start(t *testing.T, o Options) (*Server, *httptest.Server) {
	t.Helper()
	s := New(o)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func do(t *testing.T, srv *httptest.Server, method, path, auth, body string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: strings.TrimSuffix(string(b), "\n")}
}

func check(t *testing.T, got response, status int, body string) {
	t.Helper()
	if got.status != status || got.body != body {
		t.Errorf("got %d %s\nwant %d %s", got.status, got.body, status, body)
	}
	if ct := got.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
}

const (
	noTokenBody = `{"code":"UNAUTHENTICATED","message":"Bearer token is not present","details":[` +
		`{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"REASON_NO_TOKEN","domain":"redpanda.com/controlplane","metadata":{}},` +
		`{"@type":"type.googleapis.com/google.rpc.Help","links":[{"description":"Please ensure you have a valid token to authenticate against the API. ` +
		`If you don't have a token, create a client and follow the instructions to request a token.","url":"https://cloud.redpanda.com/clients"}]}]}`
	badTokenBody = `{"code":"UNAUTHENTICATED","message":"Provided API token is invalid","details":[` +
		`{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"REASON_TOKEN_INVALID","domain":"redpanda.com/controlplane","metadata":{}}]}`
)

func TestAuthRejection(t *testing.T) {
	routes := []struct{ method, path string }{
		{"GET", "/v1/user-invites"},
		{"GET", "/v1/user-invites/inv-1"},
		{"PATCH", "/v1/user-invites/inv-1"},
		{"POST", "/v1/user-invites"},
		{"DELETE", "/v1/user-invites/inv-1"},
		{"GET", "/v1/organizations/current"},
	}
	tests := []struct {
		name     string
		auth     string
		wantBody string
		wantWWW  string
	}{
		{name: "missing header is the documented no-token error", auth: "", wantBody: noTokenBody,
			wantWWW: "Bearer token is not present"},
		{name: "basic auth counts as no token", auth: "Basic " + testToken, wantBody: noTokenBody,
			wantWWW: "Bearer token is not present"},
		{name: "empty bearer counts as no token", auth: "Bearer ", wantBody: noTokenBody,
			wantWWW: "Bearer token is not present"},
		{name: "wrong token is invalid", auth: "Bearer nope", wantBody: badTokenBody,
			wantWWW: "Provided API token is invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, srv := start(t, Options{Token: testToken})
			s.Add(Invite{ID: "inv-1"})
			for _, rt := range routes {
				body := ""
				switch rt.method {
				case "PATCH":
					body = `{"update_mask":"expiresAt","user_invite":{"expires_at":"2030-01-01T00:00:00Z"}}`
				case "POST":
					body = `{"user_invite":{"email":"ada@example.com"}}`
				}
				got := do(t, srv, rt.method, rt.path, tt.auth, body)
				check(t, got, http.StatusUnauthorized, tt.wantBody)
				if www := got.header.Get("WWW-Authenticate"); www != tt.wantWWW {
					t.Errorf("%s %s: WWW-Authenticate = %q", rt.method, rt.path, www)
				}
			}
			if inv, _ := s.Invite("inv-1"); !reflect.DeepEqual(inv, Invite{ID: "inv-1"}) {
				t.Errorf("rejected PATCH or DELETE changed the invite: %+v", inv)
			}
			if n := len(s.list()); n != 1 {
				t.Errorf("%d invites after a rejected POST", n)
			}
		})
	}
	t.Run("static token is accepted", func(t *testing.T) {
		_, srv := start(t, Options{Token: testToken})
		check(t, do(t, srv, "GET", "/v1/user-invites", "Bearer "+testToken, ""), 200,
			`{"next_page_token":"","user_invites":[]}`)
	})
	t.Run("default token without configured credentials", func(t *testing.T) {
		_, srv := start(t, Options{})
		check(t, do(t, srv, "GET", "/v1/user-invites", "Bearer "+DefaultToken, ""), 200,
			`{"next_page_token":"","user_invites":[]}`)
	})
	t.Run("unknown path is 404 before auth", func(t *testing.T) {
		s, srv := start(t, Options{Token: testToken})
		check(t, do(t, srv, "GET", "/v1/clusters", "", ""), 404, `{"code":"NOT_FOUND","message":"Not Found","details":[]}`)
		check(t, do(t, srv, "DELETE", "/v1/organizations/current", "", ""), 404, `{"code":"NOT_FOUND","message":"Not Found","details":[]}`)
		if n := s.Calls("NotFound"); n != 2 {
			t.Errorf("NotFound calls = %d", n)
		}
	})
}

func postForm(t *testing.T, srv *httptest.Server, form url.Values) response {
	t.Helper()
	resp, err := srv.Client().PostForm(srv.URL+"/oauth/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: strings.TrimSuffix(string(b), "\n")}
}

func TestTokenEndpoint(t *testing.T) {
	good := func() url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {testClient},
			"client_secret": {testSecret}, "audience": {Audience}}
	}
	tests := []struct {
		name     string
		change   func(url.Values)
		status   int
		wantBody string
	}{
		{name: "wrong secret is access denied", change: func(f url.Values) { f.Set("client_secret", "x") },
			status: 401, wantBody: `{"error":"access_denied","error_description":"Unauthorized"}`},
		{name: "unknown client is access denied", change: func(f url.Values) { f.Set("client_id", "x") },
			status: 401, wantBody: `{"error":"access_denied","error_description":"Unauthorized"}`},
		{name: "missing audience is refused", change: func(f url.Values) { f.Del("audience") },
			status: 403, wantBody: `{"error":"access_denied","error_description":"No audience parameter was provided, and no default audience has been configured"}`},
		{name: "other audience is refused", change: func(f url.Values) { f.Set("audience", "cloudv2-dev.redpanda.cloud") },
			status: 403, wantBody: `{"error":"access_denied","error_description":"Service not enabled within domain: cloudv2-dev.redpanda.cloud"}`},
		{name: "other grant type is unsupported", change: func(f url.Values) { f.Set("grant_type", "password") },
			status: 400, wantBody: `{"error":"unsupported_grant_type","error_description":"Unsupported grant type: password"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, srv := start(t, Options{ClientID: testClient, ClientSecret: testSecret})
			f := good()
			tt.change(f)
			check(t, postForm(t, srv, f), tt.status, tt.wantBody)
			if s.TokensIssued() != 0 {
				t.Errorf("tokens issued = %d", s.TokensIssued())
			}
			if !reflect.DeepEqual(s.LastTokenForm(), f) {
				t.Errorf("LastTokenForm = %v, want %v", s.LastTokenForm(), f)
			}
		})
	}

	t.Run("issued token authorizes api calls", func(t *testing.T) {
		s, srv := start(t, Options{ClientID: testClient, ClientSecret: testSecret})
		got := postForm(t, srv, good())
		var tok struct {
			AccessToken string `json:"access_token"`
			Scope       string `json:"scope"`
			ExpiresIn   int    `json:"expires_in"`
			TokenType   string `json:"token_type"`
		}
		if err := json.Unmarshal([]byte(got.body), &tok); err != nil || got.status != 200 {
			t.Fatalf("token reply %d %s: %v", got.status, got.body, err)
		}
		if tok.AccessToken == "" || tok.ExpiresIn != 3600 || tok.TokenType != "Bearer" {
			t.Errorf("token = %+v", tok)
		}
		if want := fmt.Sprintf(`{"access_token":%q,"scope":"","expires_in":3600,"token_type":"Bearer"}`, tok.AccessToken); got.body != want {
			t.Errorf("body = %s, want %s", got.body, want)
		}
		if got.header.Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control = %q", got.header.Get("Cache-Control"))
		}
		check(t, do(t, srv, "GET", "/v1/organizations/current", "Bearer "+tok.AccessToken, ""), 200,
			`{"organization":{"auth0_id":"","id":"cnl3b0f7a2gq9s8d1e0g","mfa_enforced":false,"name":"Fake Organization"}}`)
		if s.TokensIssued() != 1 || s.Calls("Token") != 1 {
			t.Errorf("tokens issued = %d, token calls = %d", s.TokensIssued(), s.Calls("Token"))
		}
	})
	t.Run("no client configured refuses every client", func(t *testing.T) {
		_, srv := start(t, Options{Token: testToken})
		f := good()
		f.Set("client_id", "")
		f.Set("client_secret", "")
		check(t, postForm(t, srv, f), 401, `{"error":"access_denied","error_description":"Unauthorized"}`)
	})
}

func TestInviteJSON(t *testing.T) {
	s, srv := start(t, Options{Token: testToken})
	s.Add(
		Invite{ID: "full", Email: "ada@example.com", InviteURL: "https://cloud.redpanda.com/invite/x?a=1&b=2",
			CreatedAt: t0.Add(120 * time.Millisecond), ExpiresAt: t0.Add(7*24*time.Hour + 5*time.Microsecond),
			RoleBindings: []RoleBinding{
				{RoleName: "Admin", ResourceType: "SCOPE_RESOURCE_TYPE_CLUSTER", ResourceID: "cl-1", DataplaneID: "d0dataplane000000000"},
				{RoleName: "Reader", ResourceType: "SCOPE_RESOURCE_TYPE_MCPSERVER", ResourceID: "m"},
				{RoleName: "Writer", ResourceID: "untyped"},
				{RoleName: "Unscoped"},
			}},
		Invite{ID: "bare", CreatedAt: t0.In(time.FixedZone("X", 3600)).Add(time.Nanosecond)},
	)
	check(t, do(t, srv, "GET", "/v1/user-invites/full", "Bearer "+testToken, ""), 200,
		`{"user_invite":{"created_at":"2025-05-04T09:42:00.120Z","email":"ada@example.com","expires_at":"2025-05-11T09:42:00.000005Z",`+
			`"id":"full","invite_url":"https://cloud.redpanda.com/invite/x?a=1&b=2","role_bindings":[`+
			`{"role_name":"Admin","scope":{"dataplane_id":"d0dataplane000000000","resource_id":"cl-1","resource_type":"SCOPE_RESOURCE_TYPE_CLUSTER"}},`+
			`{"role_name":"Reader","scope":{"resource_id":"m","resource_type":"SCOPE_RESOURCE_TYPE_MCPSERVER"}},`+
			`{"role_name":"Writer","scope":{"resource_id":"untyped"}},`+
			`{"role_name":"Unscoped"}]}}`)
	check(t, do(t, srv, "GET", "/v1/user-invites/bare", "Bearer "+testToken, ""), 200,
		`{"user_invite":{"created_at":"2025-05-04T09:42:00.000000001Z","email":"","id":"bare","invite_url":"","role_bindings":[]}}`)
	check(t, do(t, srv, "GET", "/v1/user-invites/missing", "Bearer "+testToken, ""), 404,
		`{"code":"NOT_FOUND","message":"user invite \"missing\" not found","details":[]}`)
	if n := s.Calls("GetUserInvite"); n != 3 {
		t.Errorf("GetUserInvite calls = %d", n)
	}
}

// list fetches one page and decodes it.
func list(t *testing.T, srv *httptest.Server, query string) (ids []string, next string) {
	t.Helper()
	got := do(t, srv, "GET", "/v1/user-invites?"+query, "Bearer "+testToken, "")
	if got.status != 200 {
		t.Fatalf("list %q: %d %s", query, got.status, got.body)
	}
	var page struct {
		NextPageToken *string `json:"next_page_token"`
		UserInvites   []struct {
			ID string `json:"id"`
		} `json:"user_invites"`
	}
	if err := json.Unmarshal([]byte(got.body), &page); err != nil || page.NextPageToken == nil || page.UserInvites == nil {
		t.Fatalf("page %s: %v", got.body, err)
	}
	for _, u := range page.UserInvites {
		ids = append(ids, u.ID)
	}
	return ids, *page.NextPageToken
}

// walk follows every page with the given page size query.
func walk(t *testing.T, srv *httptest.Server, sizeQuery string) (pages [][]string) {
	t.Helper()
	next := ""
	for {
		q := sizeQuery
		if next != "" {
			q += "&page_token=" + url.QueryEscape(next)
		}
		ids, n := list(t, srv, strings.TrimPrefix(q, "&"))
		pages = append(pages, ids)
		if n == "" {
			return pages
		}
		if len(pages) > 50 {
			t.Fatal("no end")
		}
		next = n
	}
}

func seed(s *Server, n int) {
	for i := range n {
		// Created in reverse id order, two at each instant, to prove the order.
		s.Add(Invite{ID: fmt.Sprintf("i%02d", i), CreatedAt: t0.Add(-time.Duration(i/2) * time.Minute)})
	}
}

func TestListPagination(t *testing.T) {
	tests := []struct {
		name      string
		maxPage   int
		n         int
		sizeQuery string
		want      [][]string
	}{
		{name: "created_at ascending then id", n: 5, sizeQuery: "page_size=100",
			want: [][]string{{"i04", "i02", "i03", "i00", "i01"}}},
		{name: "page_size splits pages", n: 5, sizeQuery: "page_size=2",
			want: [][]string{{"i04", "i02"}, {"i03", "i00"}, {"i01"}}},
		{name: "max page size caps a larger page_size", maxPage: 3, n: 5, sizeQuery: "page_size=100",
			want: [][]string{{"i04", "i02", "i03"}, {"i00", "i01"}}},
		{name: "absent page_size is the default of ten", n: 12, sizeQuery: "",
			want: [][]string{{"i10", "i11", "i08", "i09", "i06", "i07", "i04", "i05", "i02", "i03"}, {"i00", "i01"}}},
		{name: "zero page_size is the default", n: 11, sizeQuery: "page_size=0",
			want: [][]string{{"i10", "i08", "i09", "i06", "i07", "i04", "i05", "i02", "i03", "i00"}, {"i01"}}},
		{name: "full last page has no token", n: 4, sizeQuery: "page_size=2",
			want: [][]string{{"i02", "i03"}, {"i00", "i01"}}},
		{name: "empty list", n: 0, sizeQuery: "page_size=2", want: [][]string{nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, srv := start(t, Options{Token: testToken, MaxPageSize: tt.maxPage})
			seed(s, tt.n)
			if got := walk(t, srv, tt.sizeQuery); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("pages = %q, want %q", got, tt.want)
			}
		})
	}

	t.Run("inserts during a walk neither repeat nor skip", func(t *testing.T) {
		s, srv := start(t, Options{Token: testToken})
		seed(s, 4) // i02 i03 i00 i01
		ids, next := list(t, srv, "page_size=2")
		s.Add(Invite{ID: "early", CreatedAt: t0.Add(-time.Hour)}, Invite{ID: "late", CreatedAt: t0.Add(time.Hour)})
		rest, next2 := list(t, srv, "page_size=2&page_token="+url.QueryEscape(next))
		last, next3 := list(t, srv, "page_size=2&page_token="+url.QueryEscape(next2))
		got := [][]string{ids, rest, last}
		if want := [][]string{{"i02", "i03"}, {"i00", "i01"}, {"late"}}; !reflect.DeepEqual(got, want) || next3 != "" {
			t.Errorf("pages = %q (last token %q), want %q", got, next3, want)
		}
	})
}

func TestListRejections(t *testing.T) {
	badSize := func(msg, desc string) string {
		return `{"code":"INVALID_ARGUMENT","message":"` + msg + `","details":[` +
			`{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"REASON_INVALID_INPUT","domain":"redpanda.com/controlplane","metadata":{}},` +
			`{"@type":"type.googleapis.com/google.rpc.BadRequest","field_violations":[{"field":"page_size","description":"` + desc + `"}]}]}`
	}
	rangeMsg := "invalid ListUserInvitesRequest.page_size: value must be inside range [1, 100]"
	tests := []struct {
		name  string
		query string
		body  string
	}{
		{name: "page_size above 100", query: "page_size=101", body: badSize(rangeMsg, "value must be inside range [1, 100]")},
		{name: "negative page_size", query: "page_size=-1", body: badSize(rangeMsg, "value must be inside range [1, 100]")},
		{name: "page_size not a number", query: "page_size=ten",
			body: badSize(`parsing field \"page_size\": \"ten\" is not a valid int32`, "value must be an int32")},
		{name: "page_size beyond int32", query: "page_size=4294967296",
			body: badSize(`parsing field \"page_size\": \"4294967296\" is not a valid int32`, "value must be an int32")},
		{name: "undecodable page token", query: "page_size=10&page_token=garbage!",
			body: `{"code":"INVALID_ARGUMENT","message":"Provided page token is invalid","details":[` +
				`{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"REASON_INVALID_PAGE_TOKEN","domain":"redpanda.com/controlplane","metadata":{}}]}`},
		{name: "base64 that is not a cursor", query: "page_token=" + "aGVsbG8",
			body: `{"code":"INVALID_ARGUMENT","message":"Provided page token is invalid","details":[` +
				`{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"REASON_INVALID_PAGE_TOKEN","domain":"redpanda.com/controlplane","metadata":{}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := start(t, Options{Token: testToken})
			check(t, do(t, srv, "GET", "/v1/user-invites?"+tt.query, "Bearer "+testToken, ""), 400, tt.body)
		})
	}
}

func TestUpdateUserInvite(t *testing.T) {
	seeded := Invite{ID: "inv-1", Email: "ada@example.com", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour),
		RoleBindings: []RoleBinding{{RoleName: "Reader", ResourceType: "SCOPE_RESOURCE_TYPE_ORGANIZATION", ResourceID: "org"}}}
	later := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	invalid := func(msg string) string {
		return `{"code":"INVALID_ARGUMENT","message":` + msg + `,"details":[]}`
	}
	badRequest := func(msg, field, desc string) string {
		return `{"code":"INVALID_ARGUMENT","message":"` + msg + `","details":[` +
			`{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"REASON_INVALID_INPUT","domain":"redpanda.com/controlplane","metadata":{}},` +
			`{"@type":"type.googleapis.com/google.rpc.BadRequest","field_violations":[{"field":"` + field + `","description":"` + desc + `"}]}]}`
	}
	tests := []struct {
		name       string
		id         string
		body       string
		wantStatus int
		wantBody   string // exact, when set
		wantStored Invite
	}{
		{
			name:       "expiry only, snake_case field names",
			body:       `{"update_mask":"expiresAt","user_invite":{"expires_at":"2025-06-01T02:00:00+02:00","role_bindings":[]}}`,
			wantStatus: 200,
			wantBody: `{"user_invite":{"created_at":"2025-05-04T09:42:00Z","email":"ada@example.com","expires_at":"2025-06-01T00:00:00Z",` +
				`"id":"inv-1","invite_url":"","role_bindings":[{"role_name":"Reader","scope":{"resource_id":"org","resource_type":"SCOPE_RESOURCE_TYPE_ORGANIZATION"}}]}}`,
			wantStored: Invite{ID: "inv-1", Email: "ada@example.com", CreatedAt: t0, ExpiresAt: later,
				RoleBindings: seeded.RoleBindings},
		},
		{
			name: "bindings only, camelCase field names",
			body: `{"updateMask":"roleBindings","userInvite":{"roleBindings":[{"roleName":"Writer",` +
				`"scope":{"resourceType":"SCOPE_RESOURCE_TYPE_CLUSTER","resourceId":"cl-1","dataplaneId":"dp"}}],"unknownField":1}}`,
			wantStatus: 200,
			wantStored: Invite{ID: "inv-1", Email: "ada@example.com", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour),
				RoleBindings: []RoleBinding{{RoleName: "Writer", ResourceType: "SCOPE_RESOURCE_TYPE_CLUSTER", ResourceID: "cl-1", DataplaneID: "dp"}}},
		},
		{
			name:       "masked absent bindings are cleared",
			body:       `{"update_mask":" roleBindings ","user_invite":{"role_bindings":null}}`,
			wantStatus: 200,
			wantStored: Invite{ID: "inv-1", Email: "ada@example.com", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)},
		},
		{
			name:       "snake_case mask path is invalid",
			body:       `{"update_mask":"expires_at","user_invite":{"expires_at":"2025-06-01T00:00:00Z"}}`,
			wantStatus: 400,
			wantBody:   invalid(`"proto: google.protobuf.FieldMask.paths contains invalid path: \"expires_at\""`),
		},
		{
			name:       "unknown mask path",
			body:       `{"update_mask":"email","user_invite":{}}`,
			wantStatus: 400,
			wantBody:   badRequest(`invalid update_mask path \"email\"`, "update_mask", `path \"email\" is not one of expires_at, role_bindings`),
		},
		{
			name:       "empty mask",
			body:       `{"update_mask":"","user_invite":{"expires_at":"2025-06-01T00:00:00Z"}}`,
			wantStatus: 400,
			wantBody:   badRequest("update_mask must name at least one field", "update_mask", "value is required"),
		},
		{
			name:       "empty path in the mask",
			body:       `{"update_mask":"expiresAt,","user_invite":{"expires_at":"2025-06-01T00:00:00Z"}}`,
			wantStatus: 400,
			wantBody:   invalid(`"proto: google.protobuf.FieldMask.paths contains invalid path: \"\""`),
		},
		{
			name:       "masked expiry missing",
			body:       `{"update_mask":"expiresAt","user_invite":{}}`,
			wantStatus: 400,
			wantBody: badRequest("user_invite.expires_at is required when update_mask names it",
				"user_invite.expires_at", "value is required"),
		},
		{
			name:       "bad timestamp",
			body:       `{"update_mask":"expiresAt","user_invite":{"expires_at":"tomorrow"}}`,
			wantStatus: 400,
			wantBody:   invalid(`"proto: invalid google.protobuf.Timestamp value \"tomorrow\""`),
		},
		{
			name: "unknown resource type",
			body: `{"update_mask":"roleBindings","user_invite":{"role_bindings":[{"role_name":"Admin",` +
				`"scope":{"resource_type":"SCOPE_RESOURCE_TYPE_GALAXY","resource_id":"x"}}]}}`,
			wantStatus: 400,
			wantBody:   invalid(`"proto: invalid value for enum field resourceType: \"SCOPE_RESOURCE_TYPE_GALAXY\""`),
		},
		{
			// The spec's enum has no UNSPECIFIED value (FACTS.md 1.4): the fake knows none.
			name: "unspecified resource type is not in the spec",
			body: `{"update_mask":"roleBindings","user_invite":{"role_bindings":[{"role_name":"Admin",` +
				`"scope":{"resource_type":"SCOPE_RESOURCE_TYPE_UNSPECIFIED","resource_id":"x"}}]}}`,
			wantStatus: 400,
			wantBody:   invalid(`"proto: invalid value for enum field resourceType: \"SCOPE_RESOURCE_TYPE_UNSPECIFIED\""`),
		},
		{
			name:       "binding without scope",
			body:       `{"update_mask":"roleBindings","user_invite":{"role_bindings":[{"role_name":"Admin"}]}}`,
			wantStatus: 400,
			wantBody: badRequest("user_invite.role_bindings[0].scope.resource_type: value is required",
				"user_invite.role_bindings[0].scope.resource_type", "value is required"),
		},
		{
			name: "binding without role name",
			body: `{"update_mask":"roleBindings","user_invite":{"role_bindings":[{"role_name":"Admin","scope":{"resource_type":"SCOPE_RESOURCE_TYPE_NETWORK","resource_id":"n"}},` +
				`{"scope":{"resource_type":"SCOPE_RESOURCE_TYPE_NETWORK","resource_id":"n"}}]}}`,
			wantStatus: 400,
			wantBody: badRequest("user_invite.role_bindings[1].role_name: value is required",
				"user_invite.role_bindings[1].role_name", "value is required"),
		},
		{
			name:       "not json",
			body:       `{"update_mask":`,
			wantStatus: 400,
		},
		{
			name:       "unknown invite",
			id:         "inv-2",
			body:       `{"update_mask":"expiresAt","user_invite":{"expires_at":"2025-06-01T00:00:00Z"}}`,
			wantStatus: 404,
			wantBody:   `{"code":"NOT_FOUND","message":"user invite \"inv-2\" not found","details":[]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, srv := start(t, Options{Token: testToken})
			s.Add(seeded)
			id := tt.id
			if id == "" {
				id = "inv-1"
			}
			got := do(t, srv, "PATCH", "/v1/user-invites/"+id, "Bearer "+testToken, tt.body)
			if got.status != tt.wantStatus || (tt.wantBody != "" && got.body != tt.wantBody) {
				t.Errorf("got %d %s\nwant %d %s", got.status, got.body, tt.wantStatus, tt.wantBody)
			}
			if string(s.LastPatch()) != tt.body {
				t.Errorf("LastPatch = %s", s.LastPatch())
			}
			want := tt.wantStored
			if tt.wantStatus != 200 {
				want = seeded
			}
			if stored, _ := s.Invite("inv-1"); !reflect.DeepEqual(stored, want) {
				t.Errorf("stored:\n got %+v\nwant %+v", stored, want)
			}
		})
	}
}

// list is every stored invite, through the list route's own reading of the store.
func (s *Server) list() []Invite {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Invite, 0, len(s.invites))
	for _, inv := range s.invites {
		out = append(out, inv)
	}
	return out
}

func TestCreateUserInvite(t *testing.T) {
	now := time.Date(2025, 5, 4, 9, 42, 0, 123_000_000, time.UTC)
	badRequest := func(msg, field, desc string) string {
		return `{"code":"INVALID_ARGUMENT","message":"` + msg + `","details":[` +
			`{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"REASON_INVALID_INPUT","domain":"redpanda.com/controlplane","metadata":{}},` +
			`{"@type":"type.googleapis.com/google.rpc.BadRequest","field_violations":[{"field":"` + field + `","description":"` + desc + `"}]}]}`
	}
	invalidEmail := badRequest("user_invite.email: value must be a valid email address", "user_invite.email",
		"value must be a valid email address")
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantBody   string // with <id> for the new invite's ID
		wantStored *Invite
	}{
		{
			name:       "email and a binding, snake_case",
			body:       `{"user_invite":{"email":"ada@example.com","role_bindings":[{"role_name":"Writer","scope":{"resource_type":"SCOPE_RESOURCE_TYPE_CLUSTER","resource_id":"cl-1"}}]}}`,
			wantStatus: 201,
			wantBody: `{"user_invite":{"created_at":"2025-05-04T09:42:00.123Z","email":"ada@example.com","expires_at":"2025-05-11T09:42:00.123Z",` +
				`"id":"<id>","invite_url":"https://cloud.redpanda.com/invite/<id>","role_bindings":[{"role_name":"Writer","scope":{"resource_id":"cl-1","resource_type":"SCOPE_RESOURCE_TYPE_CLUSTER"}}]}}`,
			wantStored: &Invite{Email: "ada@example.com", CreatedAt: now, ExpiresAt: now.Add(InviteTTL),
				RoleBindings: []RoleBinding{{RoleName: "Writer", ResourceType: "SCOPE_RESOURCE_TYPE_CLUSTER", ResourceID: "cl-1"}}},
		},
		{
			name:       "camelCase names, no bindings",
			body:       `{"userInvite":{"email":"grace@example.com","roleBindings":null,"unknown":true}}`,
			wantStatus: 201,
			wantBody: `{"user_invite":{"created_at":"2025-05-04T09:42:00.123Z","email":"grace@example.com","expires_at":"2025-05-11T09:42:00.123Z",` +
				`"id":"<id>","invite_url":"https://cloud.redpanda.com/invite/<id>","role_bindings":[]}}`,
			wantStored: &Invite{Email: "grace@example.com", CreatedAt: now, ExpiresAt: now.Add(InviteTTL)},
		},
		{name: "invalid email", body: `{"user_invite":{"email":"not-an-email"}}`, wantStatus: 400, wantBody: invalidEmail},
		{name: "email with a display name", body: `{"user_invite":{"email":"Ada <ada@example.com>"}}`, wantStatus: 400,
			wantBody: invalidEmail},
		{name: "no email", body: `{"user_invite":{}}`, wantStatus: 400, wantBody: invalidEmail},
		{name: "no body", body: ``, wantStatus: 400, wantBody: invalidEmail},
		{
			name:       "incomplete binding",
			body:       `{"user_invite":{"email":"ada@example.com","role_bindings":[{"role_name":"Admin"}]}}`,
			wantStatus: 400,
			wantBody: badRequest("user_invite.role_bindings[0].scope.resource_type: value is required",
				"user_invite.role_bindings[0].scope.resource_type", "value is required"),
		},
		{
			name:       "unknown resource type",
			body:       `{"user_invite":{"email":"ada@example.com","role_bindings":[{"role_name":"Admin","scope":{"resource_type":"SCOPE_RESOURCE_TYPE_GALAXY","resource_id":"x"}}]}}`,
			wantStatus: 400,
			wantBody:   `{"code":"INVALID_ARGUMENT","message":"proto: invalid value for enum field resourceType: \"SCOPE_RESOURCE_TYPE_GALAXY\"","details":[]}`,
		},
		{name: "email of the wrong type", body: `{"user_invite":{"email":7}}`, wantStatus: 400,
			wantBody: `{"code":"INVALID_ARGUMENT","message":"proto: invalid value for string field email: 7","details":[]}`},
		{name: "not json", body: `{"user_invite":`, wantStatus: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, srv := start(t, Options{Token: testToken, Now: func() time.Time { return now }})
			got := do(t, srv, "POST", "/v1/user-invites", "Bearer "+testToken, tt.body)
			stored := s.list()
			var id string
			if len(stored) == 1 {
				id = stored[0].ID
			}
			want := strings.ReplaceAll(tt.wantBody, "<id>", id)
			if got.status != tt.wantStatus || (tt.wantBody != "" && got.body != want) {
				t.Errorf("got %d %s\nwant %d %s", got.status, got.body, tt.wantStatus, want)
			}
			if tt.wantStored == nil {
				if len(stored) != 0 {
					t.Errorf("stored %+v after a refusal", stored)
				}
				return
			}
			w := *tt.wantStored
			w.ID, w.InviteURL = id, InviteURLPrefix+id
			if len(stored) != 1 || !reflect.DeepEqual(stored[0], w) {
				t.Errorf("stored:\n got %+v\nwant %+v", stored, w)
			}
			if len(id) != 20 || strings.Trim(id, "0123456789abcdefghijklmnopqrstuv") != "" {
				t.Errorf("id %q is not 20 characters of the XID alphabet", id)
			}
			if reqs := s.Requests("CreateUserInvite"); len(reqs) != 1 || string(reqs[0].Body) != tt.body {
				t.Errorf("recorded %+v", reqs)
			}
		})
	}

	t.Run("a second invite for one email is another invite, listed after the first", func(t *testing.T) {
		_, srv := start(t, Options{Token: testToken, Now: func() time.Time { return now }})
		for range 2 {
			if got := do(t, srv, "POST", "/v1/user-invites", "Bearer "+testToken, `{"user_invite":{"email":"ada@example.com"}}`); got.status != 201 {
				t.Fatalf("got %d %s", got.status, got.body)
			}
		}
		if ids := listedIDs(t, srv); len(ids) != 2 || ids[0] == ids[1] {
			t.Errorf("listed %q", ids)
		}
	})
}

// listedIDs are the IDs the list route serves, in order.
func listedIDs(t *testing.T, srv *httptest.Server) []string {
	t.Helper()
	var list struct {
		UserInvites []struct {
			ID string `json:"id"`
		} `json:"user_invites"`
	}
	if err := json.Unmarshal([]byte(do(t, srv, "GET", "/v1/user-invites", "Bearer "+testToken, "").body), &list); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, inv := range list.UserInvites {
		ids = append(ids, inv.ID)
	}
	return ids
}

func TestDeleteUserInvite(t *testing.T) {
	tests := []struct {
		name       string
		id         string
		wantStatus int
		wantBody   string
		wantLeft   []string // IDs still listed
	}{
		{name: "deletes the invite", id: "inv-1", wantStatus: 204, wantLeft: []string{"inv/3", "inv-2"}},
		{name: "escaped id", id: "inv%2F3", wantStatus: 204, wantLeft: []string{"inv-1", "inv-2"}},
		{name: "unknown id is not found", id: "inv-9", wantStatus: 404,
			wantBody: `{"code":"NOT_FOUND","message":"user invite \"inv-9\" not found","details":[]}`,
			wantLeft: []string{"inv/3", "inv-1", "inv-2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, srv := start(t, Options{Token: testToken})
			s.Add(Invite{ID: "inv-1", CreatedAt: t0}, Invite{ID: "inv-2", CreatedAt: t0.Add(time.Second)},
				Invite{ID: "inv/3", CreatedAt: t0.Add(-time.Second)})
			check(t, do(t, srv, "DELETE", "/v1/user-invites/"+tt.id, "Bearer "+testToken, ""), tt.wantStatus, tt.wantBody)
			if left := listedIDs(t, srv); !reflect.DeepEqual(left, tt.wantLeft) {
				t.Errorf("listed %q, want %q", left, tt.wantLeft)
			}
		})
	}
	t.Run("a second delete is not found", func(t *testing.T) {
		s, srv := start(t, Options{Token: testToken})
		s.Add(Invite{ID: "inv-1"})
		check(t, do(t, srv, "DELETE", "/v1/user-invites/inv-1", "Bearer "+testToken, ""), 204, "")
		check(t, do(t, srv, "DELETE", "/v1/user-invites/inv-1", "Bearer "+testToken, ""), 404,
			`{"code":"NOT_FOUND","message":"user invite \"inv-1\" not found","details":[]}`)
		if _, ok := s.Invite("inv-1"); ok {
			t.Error("invite still stored")
		}
		if n := s.Calls("DeleteUserInvite"); n != 2 {
			t.Errorf("calls = %d", n)
		}
	})
}

func TestInjectedFailures(t *testing.T) {
	tests := []struct {
		status    int
		body      string
		wantRetry string
		wantWWW   string
	}{
		{status: 400, body: `{"code":"INVALID_ARGUMENT","message":"injected failure: invalid_argument","details":[]}`},
		{status: 401, body: badTokenBody, wantWWW: "Provided API token is invalid"},
		{status: 429, wantRetry: "1",
			body: `{"code":"RESOURCE_EXHAUSTED","message":"Rate limit exceeded. Reduce request rate.","details":[` +
				`{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"REASON_RATE_LIMIT_EXCEEDED","domain":"redpanda.com/controlplane","metadata":{}}]}`},
		{status: 500, body: `{"code":"INTERNAL","message":"injected failure: internal","details":[]}`},
		{status: 503, body: `{"code":"UNAVAILABLE","message":"injected failure: unavailable","details":[]}`},
		{status: 504, body: `{"code":"DEADLINE_EXCEEDED","message":"injected failure: deadline_exceeded","details":[]}`},
		{status: 502, body: `{"code":"UNKNOWN","message":"injected failure: unknown","details":[]}`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d has its rpc code", tt.status), func(t *testing.T) {
			s, srv := start(t, Options{Token: testToken})
			s.FailNext("ListUserInvites", 1, tt.status)
			got := do(t, srv, "GET", "/v1/user-invites", "Bearer "+testToken, "")
			check(t, got, tt.status, tt.body)
			if got.header.Get("Retry-After") != tt.wantRetry || got.header.Get("WWW-Authenticate") != tt.wantWWW {
				t.Errorf("headers = %v", got.header)
			}
			// Only the next call fails.
			check(t, do(t, srv, "GET", "/v1/user-invites", "Bearer "+testToken, ""), 200, `{"next_page_token":"","user_invites":[]}`)
			if n := s.Calls("ListUserInvites"); n != 2 {
				t.Errorf("calls = %d", n)
			}
		})
	}
}

func TestGetCurrentOrganization(t *testing.T) {
	_, srv := start(t, Options{Token: testToken, OrgID: "org-7", OrgName: `Acme & "Sons"`})
	check(t, do(t, srv, "GET", "/v1/organizations/current", "Bearer "+testToken, ""), 200,
		`{"organization":{"auth0_id":"","id":"org-7","mfa_enforced":false,"name":"Acme & \"Sons\""}}`)
}

func TestSeedIsCopied(t *testing.T) {
	s := New(Options{})
	rb := []RoleBinding{{RoleName: "Reader"}}
	s.Add(Invite{ID: "a", RoleBindings: rb})
	rb[0].RoleName = "Admin"
	got, _ := s.Invite("a")
	got.RoleBindings[0].RoleName = "Writer"
	if again, _ := s.Invite("a"); again.RoleBindings[0].RoleName != "Reader" {
		t.Errorf("stored binding = %q", again.RoleBindings[0].RoleName)
	}
	if _, ok := s.Invite("b"); ok {
		t.Error("unknown invite found")
	}
}

// testClock is a clock that moves only when told to.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// issue asks the token endpoint for a token and returns it with its expires_in.
func issue(t *testing.T, srv *httptest.Server) (string, int) {
	t.Helper()
	got := postForm(t, srv, url.Values{"grant_type": {"client_credentials"}, "client_id": {testClient},
		"client_secret": {testSecret}, "audience": {Audience}})
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal([]byte(got.body), &tok); err != nil || got.status != 200 {
		t.Fatalf("token reply %d %s: %v", got.status, got.body, err)
	}
	return tok.AccessToken, tok.ExpiresIn
}

func TestTokenLifetime(t *testing.T) {
	const expiredBody = `{"code":"UNAUTHENTICATED","message":"Provided API token has expired","details":[` +
		`{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"REASON_TOKEN_EXPIRED","domain":"redpanda.com/controlplane","metadata":{}}]}`
	const orgBody = `{"organization":{"auth0_id":"","id":"cnl3b0f7a2gq9s8d1e0g","mfa_enforced":false,"name":"Fake Organization"}}`
	tests := []struct {
		name          string
		ttl           time.Duration
		wantExpiresIn int
		// after is how long after issue the token is used; revoke revokes it first.
		after    time.Duration
		revoke   bool
		status   int
		wantBody string
		wantWWW  string
	}{
		{name: "default ttl is an hour", wantExpiresIn: 3600, after: time.Hour - time.Second,
			status: 200, wantBody: orgBody},
		{name: "token at its ttl has expired", wantExpiresIn: 3600, after: time.Hour,
			status: 401, wantBody: expiredBody, wantWWW: "Provided API token has expired"},
		{name: "short ttl", ttl: 90 * time.Second, wantExpiresIn: 90, after: 89 * time.Second,
			status: 200, wantBody: orgBody},
		{name: "short ttl expires", ttl: 90 * time.Second, wantExpiresIn: 90, after: 91 * time.Second,
			status: 401, wantBody: expiredBody, wantWWW: "Provided API token has expired"},
		{name: "sub-second ttl says one second", ttl: 500 * time.Millisecond, wantExpiresIn: 1,
			after: 499 * time.Millisecond, status: 200, wantBody: orgBody},
		{name: "revoked token is invalid", wantExpiresIn: 3600, revoke: true,
			status: 401, wantBody: badTokenBody, wantWWW: "Provided API token is invalid"},
		{name: "revoked and expired token is invalid", ttl: time.Minute, wantExpiresIn: 60, after: time.Hour,
			revoke: true, status: 401, wantBody: badTokenBody, wantWWW: "Provided API token is invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &testClock{t: t0}
			s, srv := start(t, Options{Token: testToken, ClientID: testClient, ClientSecret: testSecret,
				TokenTTL: tt.ttl, Now: clock.Now})
			tok, expiresIn := issue(t, srv)
			if expiresIn != tt.wantExpiresIn {
				t.Errorf("expires_in = %d, want %d", expiresIn, tt.wantExpiresIn)
			}
			if tt.revoke {
				s.RevokeTokens()
			}
			clock.Advance(tt.after)
			got := do(t, srv, "GET", "/v1/organizations/current", "Bearer "+tok, "")
			check(t, got, tt.status, tt.wantBody)
			if www := got.header.Get("WWW-Authenticate"); www != tt.wantWWW {
				t.Errorf("WWW-Authenticate = %q, want %q", www, tt.wantWWW)
			}
			// The static token neither expires nor is revoked, and TokensIssued counts
			// the token whatever became of it.
			check(t, do(t, srv, "GET", "/v1/organizations/current", "Bearer "+testToken, ""), 200, orgBody)
			if n := s.TokensIssued(); n != 1 {
				t.Errorf("tokens issued = %d, want 1", n)
			}
		})
	}

	t.Run("tokens issued after a revocation are valid", func(t *testing.T) {
		s, srv := start(t, Options{ClientID: testClient, ClientSecret: testSecret})
		old, _ := issue(t, srv)
		s.RevokeTokens()
		tok, _ := issue(t, srv)
		check(t, do(t, srv, "GET", "/v1/organizations/current", "Bearer "+tok, ""), 200, orgBody)
		check(t, do(t, srv, "GET", "/v1/organizations/current", "Bearer "+old, ""), 401, badTokenBody)
		if n := s.TokensIssued(); n != 2 {
			t.Errorf("tokens issued = %d, want 2", n)
		}
	})
}
