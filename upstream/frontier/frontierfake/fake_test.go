package frontierfake

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	token    = "fake-test-token"
	clientID = "client-1"
	secret   = "client-secret"
	org      = "b9c4f4e2-9b9a-4c1a-8f1a-2b9b9b9b9b9b"
)

var (
	clock  = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	bearer = "Bearer " + token
	basic  = "Basic " + base64.StdEncoding.EncodeToString([]byte(clientID+":"+secret))
)

func start(t *testing.T) (*Server, *httptest.Server) {
	t.Helper()
	s := New(Options{Token: token, ClientID: clientID, ClientSecret: secret, Now: func() time.Time { return clock }})
	s.AddOrganization(org, "acme-corp", "Acme Corp")
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

type response struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, srv *httptest.Server, method, path, auth string) response {
	t.Helper()
	return send(t, srv, method, path, auth, "")
}

// send is do with a JSON body (none when empty).
func send(t *testing.T, srv *httptest.Server, method, path, auth, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return roundTrip(t, srv, req)
}

// roundTrip sends req and reads the whole answer.
func roundTrip(t *testing.T, srv *httptest.Server, req *http.Request) response {
	t.Helper()
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func get(t *testing.T, srv *httptest.Server, path string) response {
	t.Helper()
	return do(t, srv, http.MethodGet, path, bearer)
}

func checkResponse(t *testing.T, got response, status int, body string) {
	t.Helper()
	if got.status != status || got.body != body {
		t.Errorf("got %d %s\nwant %d %s", got.status, got.body, status, body)
	}
	if ct := got.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("content type = %q", ct)
	}
}

const (
	notAuthenticated = `{"code":16,"message":"not authenticated","details":[]}`
	orgNotFound      = `{"code":5,"message":"org doesn't exist","details":[]}`
	routeNotFound    = `{"code":5,"message":"Not Found","details":[]}`
)

func TestAuth(t *testing.T) {
	const list = "/v1beta1/organizations/" + org + "/invitations"
	tests := []struct {
		name   string
		path   string
		auth   string
		status int
		body   string
	}{
		{"bearer token is accepted", list, bearer, 200, `{"invitations":[]}`},
		{"client credentials are accepted", list, basic, 200, `{"invitations":[]}`},
		{"missing credential", list, "", 401, notAuthenticated},
		{"wrong token", list, "Bearer nope", 401, notAuthenticated},
		{"token as basic", list, "Basic " + base64.StdEncoding.EncodeToString([]byte(token+":")), 401, notAuthenticated},
		{"wrong client secret", list, "Basic " + base64.StdEncoding.EncodeToString([]byte(clientID+":nope")), 401, notAuthenticated},
		{"client secret as bearer", list, "Bearer " + secret, 401, notAuthenticated},
		{"missing credential on roles", "/v1beta1/roles", "", 401, notAuthenticated},
		{"checked before the organization", "/v1beta1/organizations/missing", "Bearer nope", 401, notAuthenticated},
		{"unknown path is not found without credentials", "/v1beta1/users/self", "", 404, routeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := start(t)
			checkResponse(t, do(t, srv, http.MethodGet, tt.path, tt.auth), tt.status, tt.body)
		})
	}
}

func TestDefaultToken(t *testing.T) {
	s := New(Options{})
	srv := httptest.NewServer(s)
	defer srv.Close()
	checkResponse(t, do(t, srv, http.MethodGet, "/v1beta1/roles", "Bearer "+DefaultToken), 200, `{"roles":[]}`)
	checkResponse(t, do(t, srv, http.MethodGet, "/v1beta1/roles", "Basic Og=="), 401, notAuthenticated)
}

func TestRoutes(t *testing.T) {
	created := time.Date(2023, 6, 7, 5, 39, 56, 961_000_000, time.FixedZone("", 3600))
	const (
		inv1 = `{"id":"i1","user_id":"ada@example.com","org_id":"` + org + `","group_ids":["g1"],` +
			`"metadata":{"group_ids":["g1"],"note":"<b>&</b>","role_ids":["r1","r2"]},` +
			`"created_at":"2023-06-07T04:39:56.961Z","expires_at":"2023-06-14T04:39:56.961Z","role_ids":["r1","r2"]}`
		inv2 = `{"id":"i2","user_id":"bob@example.com","org_id":"` + org + `","group_ids":[],` +
			`"metadata":{"group_ids":null,"role_ids":null},` +
			`"created_at":"2024-01-02T03:04:05Z","expires_at":"2024-01-09T03:04:05.000001Z","role_ids":[]}`
		orgJSON = `{"id":"` + org + `","name":"acme-corp","title":"Acme Corp","metadata":{},` +
			`"created_at":"2024-01-02T03:04:05Z","updated_at":"2024-01-02T03:04:05Z","state":"enabled","avatar":""}`
	)
	seedInvitations := func(s *Server) {
		s.AddInvitation(org, Invitation{
			ID: "i1", UserID: "Ada@Example.COM", CreatedAt: created, GroupIDs: []string{"g1"},
			RoleIDs: []string{"r1", "r2"}, Metadata: map[string]any{"note": "<b>&</b>"},
		})
		s.AddInvitation(org, Invitation{
			ID: "i2", UserID: "bob@example.com", GroupIDs: []string{},
			ExpiresAt: clock.Add(7*24*time.Hour + 1500*time.Nanosecond),
		})
	}
	tests := []struct {
		name   string
		seed   func(s *Server)
		method string
		path   string
		status int
		body   string
	}{
		{
			name:   "empty list is an empty array",
			path:   "/v1beta1/organizations/" + org + "/invitations",
			status: 200, body: `{"invitations":[]}`,
		},
		{
			name:   "invitations with every field, metadata merged, emails lower-cased",
			seed:   seedInvitations,
			path:   "/v1beta1/organizations/" + org + "/invitations",
			status: 200, body: `{"invitations":[` + inv1 + `,` + inv2 + `]}`,
		},
		{
			name:   "user filter compares lower-cased",
			seed:   seedInvitations,
			path:   "/v1beta1/organizations/" + org + "/invitations?user_id=ADA%40example.com",
			status: 200, body: `{"invitations":[` + inv1 + `]}`,
		},
		{
			name:   "user filter by its json name",
			seed:   seedInvitations,
			path:   "/v1beta1/organizations/" + org + "/invitations?userId=bob%40example.com",
			status: 200, body: `{"invitations":[` + inv2 + `]}`,
		},
		{
			name:   "organization by name",
			seed:   seedInvitations,
			path:   "/v1beta1/organizations/acme-corp/invitations?user_id=bob@example.com",
			status: 200, body: `{"invitations":[` + inv2 + `]}`,
		},
		{
			name: "removed invitation is gone",
			seed: func(s *Server) {
				seedInvitations(s)
				if !s.RemoveInvitation(org, "i1") || s.RemoveInvitation(org, "i1") {
					panic("RemoveInvitation")
				}
			},
			path:   "/v1beta1/organizations/" + org + "/invitations",
			status: 200, body: `{"invitations":[` + inv2 + `]}`,
		},
		{
			name:   "get organization",
			path:   "/v1beta1/organizations/" + org,
			status: 200, body: `{"organization":` + orgJSON + `}`,
		},
		{
			name:   "get organization by name",
			path:   "/v1beta1/organizations/acme-corp",
			status: 200, body: `{"organization":` + orgJSON + `}`,
		},
		{
			name:   "escaped organization id",
			seed:   func(s *Server) { s.AddOrganization("a/b c", "a-b-c", "") },
			path:   "/v1beta1/organizations/a%2Fb%20c/groups",
			status: 200, body: `{"groups":[]}`,
		},
		{
			name: "platform roles",
			seed: func(s *Server) {
				s.AddPlatformRole(Role{
					ID: "r1", Name: "app_organization_viewer", Title: "Member",
					Permissions: []string{"app_organization_get"}, Scopes: []string{"app/organization"},
					Metadata: map[string]any{"description": "member"}, CreatedAt: created, UpdatedAt: created,
				})
				s.AddPlatformRole(Role{ID: "r2", Name: "app_organization_owner", Title: "Owner"})
				s.AddOrganizationRole(org, Role{ID: "r3", Name: "custom", Title: "Custom"})
			},
			path:   "/v1beta1/roles",
			status: 200,
			body: `{"roles":[` +
				`{"id":"r1","name":"app_organization_viewer","permissions":["app_organization_get"],"title":"Member",` +
				`"metadata":{"description":"member"},"created_at":"2023-06-07T04:39:56.961Z","updated_at":"2023-06-07T04:39:56.961Z",` +
				`"org_id":"00000000-0000-0000-0000-000000000000","state":"enabled","scopes":["app/organization"]},` +
				`{"id":"r2","name":"app_organization_owner","permissions":[],"title":"Owner","metadata":{},` +
				`"created_at":"2024-01-02T03:04:05Z","updated_at":"2024-01-02T03:04:05Z",` +
				`"org_id":"00000000-0000-0000-0000-000000000000","state":"enabled","scopes":[]}]}`,
		},
		{
			name: "organization roles are the custom ones only",
			seed: func(s *Server) {
				s.AddPlatformRole(Role{ID: "r1", Name: "app_organization_viewer", Title: "Member"})
				s.AddOrganizationRole(org, Role{ID: "r3", Name: "custom", Title: "Custom"})
			},
			path:   "/v1beta1/organizations/" + org + "/roles",
			status: 200,
			body: `{"roles":[{"id":"r3","name":"custom","permissions":[],"title":"Custom","metadata":{},` +
				`"created_at":"2024-01-02T03:04:05Z","updated_at":"2024-01-02T03:04:05Z",` +
				`"org_id":"` + org + `","state":"enabled","scopes":[]}]}`,
		},
		{
			name:   "empty organization roles",
			path:   "/v1beta1/organizations/" + org + "/roles",
			status: 200, body: `{"roles":[]}`,
		},
		{
			name: "groups",
			seed: func(s *Server) {
				s.AddGroup(org, Group{ID: "g1", Name: "data-eng", Title: "Data Engineering", Metadata: map[string]any{"n": 1}})
				s.AddGroup(org, Group{ID: "g2", Name: "sre", CreatedAt: created})
			},
			path:   "/v1beta1/organizations/acme-corp/groups?with_members=true",
			status: 200,
			body: `{"groups":[` +
				`{"id":"g1","name":"data-eng","title":"Data Engineering","org_id":"` + org + `","metadata":{"n":1},` +
				`"created_at":"2024-01-02T03:04:05Z","updated_at":"2024-01-02T03:04:05Z","users":[],"members_count":0},` +
				`{"id":"g2","name":"sre","title":"","org_id":"` + org + `","metadata":{},` +
				`"created_at":"2023-06-07T04:39:56.961Z","updated_at":"2024-01-02T03:04:05Z","users":[],"members_count":0}]}`,
		},
		{
			name: "renaming an organization keeps what it holds",
			seed: func(s *Server) {
				s.AddGroup(org, Group{ID: "g1", Name: "sre", CreatedAt: clock, UpdatedAt: clock})
				s.AddOrganization(org, "acme", "Acme")
			},
			path:   "/v1beta1/organizations/acme/groups",
			status: 200,
			body: `{"groups":[{"id":"g1","name":"sre","title":"","org_id":"` + org + `","metadata":{},` +
				`"created_at":"2024-01-02T03:04:05Z","updated_at":"2024-01-02T03:04:05Z","users":[],"members_count":0}]}`,
		},
		{name: "unknown organization on list", path: "/v1beta1/organizations/missing/invitations", status: 404, body: orgNotFound},
		{name: "unknown organization on get", path: "/v1beta1/organizations/missing", status: 404, body: orgNotFound},
		{name: "unknown organization on roles", path: "/v1beta1/organizations/missing/roles", status: 404, body: orgNotFound},
		{name: "unknown organization on groups", path: "/v1beta1/organizations/missing/groups", status: 404, body: orgNotFound},
		{name: "unknown path", path: "/v1beta1/organizations/" + org + "/projects", status: 404, body: routeNotFound},
		{name: "other method on a known path", method: http.MethodPut,
			path: "/v1beta1/organizations/" + org + "/invitations", status: 404, body: routeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, srv := start(t)
			if tt.seed != nil {
				tt.seed(s)
			}
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			checkResponse(t, do(t, srv, method, tt.path, bearer), tt.status, tt.body)
		})
	}
}

func TestGeneratedIDs(t *testing.T) {
	s, srv := start(t)
	s.AddInvitation(org, Invitation{UserID: "a@x"})
	s.AddPlatformRole(Role{Name: "r"})
	s.AddGroup(org, Group{Name: "g"})
	var reply struct {
		Invitations []struct {
			ID string `json:"id"`
		} `json:"invitations"`
		Roles []struct {
			ID string `json:"id"`
		} `json:"roles"`
		Groups []struct {
			ID string `json:"id"`
		} `json:"groups"`
	}
	for _, path := range []string{"/v1beta1/organizations/" + org + "/invitations", "/v1beta1/roles",
		"/v1beta1/organizations/" + org + "/groups"} {
		if err := json.Unmarshal([]byte(get(t, srv, path).body), &reply); err != nil {
			t.Fatal(err)
		}
	}
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	ids := []string{reply.Invitations[0].ID, reply.Roles[0].ID, reply.Groups[0].ID}
	for _, id := range ids {
		if !uuid.MatchString(id) {
			t.Errorf("id %q is not a version 4 uuid", id)
		}
	}
	if ids[0] == ids[1] || ids[1] == ids[2] {
		t.Errorf("ids repeat: %v", ids)
	}
}

func TestInjectedFailures(t *testing.T) {
	tests := []struct {
		status     int
		code       int
		message    string
		retryAfter string
	}{
		{400, 3, "invalid argument", ""},
		{401, 16, "not authenticated", ""},
		{403, 7, "not authorized", ""},
		{404, 5, "not found", ""},
		{409, 6, "already exists", ""},
		{429, 8, "resource exhausted", "1"},
		{500, 13, "internal server error", ""},
		{501, 12, "unimplemented", ""},
		{503, 14, "unavailable", ""},
		{504, 4, "deadline exceeded", ""},
		{499, 1, "canceled", ""},
		{502, 2, "unknown", ""},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status)+" writes code "+strconv.Itoa(tt.code), func(t *testing.T) {
			s, srv := start(t)
			s.FailNext("ListRoles", 1, tt.status)
			got := get(t, srv, "/v1beta1/roles")
			checkResponse(t, got, tt.status,
				`{"code":`+strconv.Itoa(tt.code)+`,"message":"`+tt.message+`","details":[]}`)
			if ra := got.header.Get("Retry-After"); ra != tt.retryAfter {
				t.Errorf("Retry-After = %q, want %q", ra, tt.retryAfter)
			}
			// The fault is used up: the next call succeeds.
			checkResponse(t, get(t, srv, "/v1beta1/roles"), 200, `{"roles":[]}`)
			if n := s.Calls("ListRoles"); n != 2 {
				t.Errorf("calls = %d, want 2", n)
			}
		})
	}
}

func TestCallCounts(t *testing.T) {
	s, srv := start(t)
	paths := map[string]string{
		"ListOrganizationInvitations": "/v1beta1/organizations/" + org + "/invitations",
		"GetOrganization":             "/v1beta1/organizations/" + org,
		"ListRoles":                   "/v1beta1/roles",
		"ListOrganizationRoles":       "/v1beta1/organizations/" + org + "/roles",
		"ListOrganizationGroups":      "/v1beta1/organizations/" + org + "/groups",
		"NotFound":                    "/v1beta1/nothing",
	}
	for _, p := range paths {
		get(t, srv, p)
	}
	for route, p := range paths {
		if n := s.Calls(route); n != 1 {
			t.Errorf("%s calls = %d, want 1", route, n)
		}
		if n := s.PathCalls("GET " + p); n != 1 {
			t.Errorf("GET %s calls = %d, want 1", p, n)
		}
	}
}

func TestTimestamp(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Time{}, "0001-01-01T00:00:00Z"},
		{time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("", -3600)), "2024-01-02T04:04:05Z"},
		{time.Date(2024, 1, 2, 3, 4, 5, 100_000_000, time.UTC), "2024-01-02T03:04:05.100Z"},
		{time.Date(2024, 1, 2, 3, 4, 5, 100_000, time.UTC), "2024-01-02T03:04:05.000100Z"},
		{time.Date(2024, 1, 2, 3, 4, 5, 1, time.UTC), "2024-01-02T03:04:05.000000001Z"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := timestamp(tt.in); got != tt.want {
				t.Errorf("timestamp = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSeedingUnknownOrganizationPanics(t *testing.T) {
	seeds := map[string]func(s *Server){
		"invitation": func(s *Server) { s.AddInvitation("nope", Invitation{}) },
		"role":       func(s *Server) { s.AddOrganizationRole("nope", Role{}) },
		"group":      func(s *Server) { s.AddGroup("nope", Group{}) },
	}
	for name, seed := range seeds {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			seed(New(Options{}))
		})
	}
}

func TestSeedsAreCopied(t *testing.T) {
	s, srv := start(t)
	groups, md := []string{"g1"}, map[string]any{"k": "v"}
	s.AddInvitation(org, Invitation{ID: "i", UserID: "a@x", CreatedAt: clock, GroupIDs: groups, Metadata: md})
	groups[0], md["k"] = "changed", "changed"
	want := `{"invitations":[{"id":"i","user_id":"a@x","org_id":"` + org + `","group_ids":["g1"],` +
		`"metadata":{"group_ids":["g1"],"k":"v","role_ids":null},"created_at":"2024-01-02T03:04:05Z",` +
		`"expires_at":"2024-01-09T03:04:05Z","role_ids":[]}]}`
	checkResponse(t, get(t, srv, "/v1beta1/organizations/"+org+"/invitations"), 200, want)
	if len(md) != 1 {
		t.Errorf("seed metadata was changed: %v", md)
	}
}

func TestConcurrentUse(t *testing.T) {
	s, srv := start(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			s.AddInvitation(org, Invitation{ID: strconv.Itoa(i), UserID: "a@x"})
		}()
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1beta1/organizations/"+org+"/invitations", nil)
			req.Header.Set("Authorization", bearer)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}()
	}
	wg.Wait()
	var got struct {
		Invitations []json.RawMessage `json:"invitations"`
	}
	if err := json.Unmarshal([]byte(get(t, srv, "/v1beta1/organizations/"+org+"/invitations").body), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Invitations) != 8 || s.Calls("ListOrganizationInvitations") != 9 {
		t.Errorf("invitations = %d, calls = %d; want 8 and 9", len(got.Invitations), s.Calls("ListOrganizationInvitations"))
	}
}

// Connect mode.

const (
	procedures    = "/raystack.frontier.v1beta1.FrontierService/"
	connectNoAuth = `{"code":"unauthenticated","message":"not authenticated"}`
	connectNoOrg  = `{"code":"not_found","message":"not found"}`
	connectDenied = `{"code":"permission_denied","message":"not authorized"}`
	// Frontier's proto rules on org_id (FACTS.md 3.2), in protovalidate's words.
	connectShortOrgID = `{"code":"invalid_argument","message":"validation error: org_id: value length must be at least 3 characters [string.min_len]"}`
	connectBadOrgID   = `{"code":"invalid_argument","message":"validation error: org_id: value does not match regex pattern \"^[A-Za-z0-9_-]+$\" [string.pattern]"}`
	connectBadBody    = `{"code":"invalid_argument","message":"unmarshal message: error not proto"}`
)

func startConnect(t *testing.T) (*Server, *httptest.Server) {
	t.Helper()
	s := New(Options{Token: token, ClientID: clientID, ClientSecret: secret, Now: func() time.Time { return clock },
		Protocol: ProtocolConnect})
	s.AddOrganization(org, "acme-corp", "Acme Corp")
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

// connectCall is one request to the Connect fake; empty fields take a well-formed call's values.
type connectCall struct {
	method, path, auth, body string
	contentType, version     string // "-" sends no header
}

func (c connectCall) send(t *testing.T, srv *httptest.Server) response {
	t.Helper()
	method := cmp.Or(c.method, http.MethodPost)
	req, err := http.NewRequest(method, srv.URL+c.path, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	for h, v := range map[string]string{
		"Authorization":            cmp.Or(c.auth, bearer),
		"Content-Type":             cmp.Or(c.contentType, "application/json"),
		"Connect-Protocol-Version": cmp.Or(c.version, "1"),
	} {
		if v != "-" {
			req.Header.Set(h, v)
		}
	}
	return roundTrip(t, srv, req)
}

func TestConnectAuth(t *testing.T) {
	list := procedures + "ListOrganizationInvitations"
	body := `{"org_id":"` + org + `"}`
	tests := []struct {
		name   string
		call   connectCall
		status int
		want   string
	}{
		{"bearer token is accepted", connectCall{path: list, body: body}, 200, `{}`},
		{"client credentials are accepted", connectCall{path: list, body: body, auth: basic}, 200, `{}`},
		{"missing credential", connectCall{path: list, body: body, auth: "-"}, 401, connectNoAuth},
		{"wrong token", connectCall{path: list, body: body, auth: "Bearer nope"}, 401, connectNoAuth},
		{"wrong client secret", connectCall{path: list, body: body,
			auth: "Basic " + base64.StdEncoding.EncodeToString([]byte(clientID+":nope"))}, 401, connectNoAuth},
		{"client secret as bearer", connectCall{path: list, body: body, auth: "Bearer " + secret}, 401, connectNoAuth},
		{"missing credential on roles", connectCall{path: procedures + "ListRoles", body: `{}`, auth: "-"}, 401, connectNoAuth},
		{"checked before the organization", connectCall{path: procedures + "GetOrganization", body: `{"id":"missing"}`,
			auth: "Bearer nope"}, 401, connectNoAuth},
		{"checked after the body", connectCall{path: list, body: `{"org_id":5}`, auth: "-"}, 400, connectBadBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := startConnect(t)
			checkResponse(t, tt.call.send(t, srv), tt.status, tt.want)
		})
	}
}

func TestConnectRoutes(t *testing.T) {
	created := time.Date(2023, 6, 7, 5, 39, 56, 961_000_000, time.FixedZone("", 3600))
	const (
		// Empty lists, strings and zero numbers are omitted; set messages (metadata, timestamps)
		// are not.
		inv1 = `{"id":"i1","user_id":"ada@example.com","org_id":"` + org + `","group_ids":["g1"],` +
			`"metadata":{"group_ids":["g1"],"note":"<b>&</b>","role_ids":["r1","r2"]},` +
			`"created_at":"2023-06-07T04:39:56.961Z","expires_at":"2023-06-14T04:39:56.961Z","role_ids":["r1","r2"]}`
		inv2 = `{"id":"i2","user_id":"bob@example.com","org_id":"` + org + `",` +
			`"metadata":{"group_ids":null,"role_ids":null},` +
			`"created_at":"2024-01-02T03:04:05Z","expires_at":"2024-01-09T03:04:05.000001Z"}`
		orgJSON = `{"id":"` + org + `","name":"acme-corp","title":"Acme Corp","metadata":{},` +
			`"created_at":"2024-01-02T03:04:05Z","updated_at":"2024-01-02T03:04:05Z","state":"enabled"}`
		list = procedures + "ListOrganizationInvitations"
	)
	seedInvitations := func(s *Server) {
		s.AddInvitation(org, Invitation{
			ID: "i1", UserID: "Ada@Example.COM", CreatedAt: created, GroupIDs: []string{"g1"},
			RoleIDs: []string{"r1", "r2"}, Metadata: map[string]any{"note": "<b>&</b>"},
		})
		s.AddInvitation(org, Invitation{
			ID: "i2", UserID: "bob@example.com", GroupIDs: []string{},
			ExpiresAt: clock.Add(7*24*time.Hour + 1500*time.Nanosecond),
		})
	}
	seedRoles := func(s *Server) {
		s.AddPlatformRole(Role{
			ID: "r1", Name: "app_organization_viewer", Title: "Member",
			Permissions: []string{"app_organization_get"}, Scopes: []string{"app/organization"},
			Metadata: map[string]any{"description": "member"}, CreatedAt: created, UpdatedAt: created,
		})
		s.AddPlatformRole(Role{ID: "r2", Name: "app_organization_owner", Title: "Owner"})
		s.AddOrganizationRole(org, Role{ID: "r3", Name: "custom", Title: "Custom"})
	}
	const platformRoles = `{"roles":[` +
		`{"id":"r1","name":"app_organization_viewer","permissions":["app_organization_get"],"title":"Member",` +
		`"metadata":{"description":"member"},"created_at":"2023-06-07T04:39:56.961Z","updated_at":"2023-06-07T04:39:56.961Z",` +
		`"org_id":"00000000-0000-0000-0000-000000000000","state":"enabled","scopes":["app/organization"]},` +
		`{"id":"r2","name":"app_organization_owner","title":"Owner","metadata":{},` +
		`"created_at":"2024-01-02T03:04:05Z","updated_at":"2024-01-02T03:04:05Z",` +
		`"org_id":"00000000-0000-0000-0000-000000000000","state":"enabled"}]}`
	seedGroups := func(s *Server) {
		s.AddGroup(org, Group{ID: "g1", Name: "data-eng", Title: "Data Engineering", Metadata: map[string]any{"n": 1}})
		s.AddGroup(org, Group{ID: "g2", Name: "sre", CreatedAt: created})
	}
	const groups = `{"groups":[` +
		`{"id":"g1","name":"data-eng","title":"Data Engineering","org_id":"` + org + `","metadata":{"n":1},` +
		`"created_at":"2024-01-02T03:04:05Z","updated_at":"2024-01-02T03:04:05Z"},` +
		`{"id":"g2","name":"sre","org_id":"` + org + `","metadata":{},` +
		`"created_at":"2023-06-07T04:39:56.961Z","updated_at":"2024-01-02T03:04:05Z"}]}`
	tests := []struct {
		name   string
		seed   func(s *Server)
		call   connectCall
		status int
		body   string
	}{
		{name: "no invitations is an empty object", call: connectCall{path: list, body: `{"org_id":"` + org + `"}`},
			status: 200, body: `{}`},
		{name: "invitations omit their empty fields", seed: seedInvitations,
			call:   connectCall{path: list, body: `{"org_id":"` + org + `"}`},
			status: 200, body: `{"invitations":[` + inv1 + `,` + inv2 + `]}`},
		{name: "user filter compares lower-cased", seed: seedInvitations,
			call:   connectCall{path: list, body: `{"org_id":"` + org + `","user_id":"ADA@example.com"}`},
			status: 200, body: `{"invitations":[` + inv1 + `]}`},
		{name: "json names and an organization name", seed: seedInvitations,
			call:   connectCall{path: list, body: `{"orgId":"acme-corp","userId":"bob@example.com"}`},
			status: 200, body: `{"invitations":[` + inv2 + `]}`},
		{name: "unknown fields are ignored and the version header is optional", seed: seedInvitations,
			call:   connectCall{path: list, body: `{"org_id":"` + org + `","user_id":"nobody@x","future":{"a":1}}`, version: "-"},
			status: 200, body: `{}`},
		{name: "charset in the content type",
			call:   connectCall{path: list, body: `{"org_id":"` + org + `"}`, contentType: "application/json; charset=utf-8"},
			status: 200, body: `{}`},
		{name: "get organization", call: connectCall{path: procedures + "GetOrganization", body: `{"id":"` + org + `"}`},
			status: 200, body: `{"organization":` + orgJSON + `}`},
		{name: "organization without a title omits it", seed: func(s *Server) { s.AddOrganization("o2", "no-title", "") },
			call:   connectCall{path: procedures + "GetOrganization", body: `{"id":"no-title"}`},
			status: 200, body: `{"organization":{"id":"o2","name":"no-title","metadata":{},` +
				`"created_at":"2024-01-02T03:04:05Z","updated_at":"2024-01-02T03:04:05Z","state":"enabled"}}`},
		{name: "platform roles", seed: seedRoles, call: connectCall{path: procedures + "ListRoles", body: `{}`},
			status: 200, body: platformRoles},
		{name: "role filters are accepted and ignored", seed: seedRoles,
			call:   connectCall{path: procedures + "ListRoles", body: `{"state":"enabled","scopes":["app/project"]}`},
			status: 200, body: platformRoles},
		{name: "no platform roles", call: connectCall{path: procedures + "ListRoles", body: `{}`}, status: 200, body: `{}`},
		{name: "organization roles are the custom ones only", seed: seedRoles,
			call:   connectCall{path: procedures + "ListOrganizationRoles", body: `{"org_id":"` + org + `"}`},
			status: 200, body: `{"roles":[{"id":"r3","name":"custom","title":"Custom","metadata":{},` +
				`"created_at":"2024-01-02T03:04:05Z","updated_at":"2024-01-02T03:04:05Z","org_id":"` + org + `","state":"enabled"}]}`},
		{name: "groups omit users, count and empty titles", seed: seedGroups,
			call: connectCall{path: procedures + "ListOrganizationGroups",
				body: `{"org_id":"acme-corp","with_members":true,"group_ids":["g1"]}`},
			status: 200, body: groups},
		{name: "no groups", call: connectCall{path: procedures + "ListOrganizationGroups", body: `{"org_id":"` + org + `"}`},
			status: 200, body: `{}`},
		{name: "unknown organization on list", call: connectCall{path: list, body: `{"org_id":"missing"}`},
			status: 404, body: connectNoOrg},
		{name: "unknown organization on get", call: connectCall{path: procedures + "GetOrganization", body: `{"id":"missing"}`},
			status: 404, body: connectNoOrg},
		{name: "unknown organization on roles",
			call:   connectCall{path: procedures + "ListOrganizationRoles", body: `{"org_id":"missing"}`},
			status: 404, body: connectNoOrg},
		{name: "unknown organization on groups",
			call:   connectCall{path: procedures + "ListOrganizationGroups", body: `{"org_id":"missing"}`},
			status: 404, body: connectNoOrg},
		{name: "null is the default value", call: connectCall{path: list, body: `{"org_id":null}`},
			status: 400, body: connectShortOrgID},
		{name: "org_id shorter than 3 characters is invalid", call: connectCall{path: list, body: `{"org_id":"ab"}`},
			status: 400, body: connectShortOrgID},
		{name: "org_id outside the pattern is invalid",
			call:   connectCall{path: procedures + "ListOrganizationRoles", body: `{"org_id":"acme/eu west"}`},
			status: 400, body: connectBadOrgID},
		{name: "org_id is checked on groups too",
			call:   connectCall{path: procedures + "ListOrganizationGroups", body: `{"org_id":"a.b.c"}`},
			status: 400, body: connectBadOrgID},
		{name: "get organization's id has no pattern rule",
			call:   connectCall{path: procedures + "GetOrganization", body: `{"id":"a.b"}`},
			status: 404, body: connectNoOrg},
		{name: "unknown organization UUID on list is denied",
			call:   connectCall{path: list, body: `{"org_id":"00000000-1111-2222-3333-444444444444"}`},
			status: 403, body: connectDenied},
		{name: "unknown organization UUID on get is denied",
			call:   connectCall{path: procedures + "GetOrganization", body: `{"id":"00000000-1111-2222-3333-444444444444"}`},
			status: 403, body: connectDenied},
		{name: "unknown organization UUID on groups is denied",
			call:   connectCall{path: procedures + "ListOrganizationGroups", body: `{"org_id":"00000000-1111-2222-3333-444444444444"}`},
			status: 403, body: connectDenied},
		{name: "an empty body is refused", call: connectCall{path: procedures + "ListRoles"}, status: 400,
			body: `{"code":"invalid_argument","message":"unmarshal message: zero-length payload is not a valid JSON object"}`},
		{name: "a wrong type is refused", call: connectCall{path: list, body: `{"org_id":5}`},
			status: 400, body: connectBadBody},
		{name: "a wrong type in an ignored field is refused",
			call:   connectCall{path: procedures + "ListOrganizationGroups", body: `{"org_id":"` + org + `","with_members":"yes"}`},
			status: 400, body: connectBadBody},
		{name: "a field under both names is refused", call: connectCall{path: list, body: `{"org_id":"a","orgId":"b"}`},
			status: 400, body: connectBadBody},
		{name: "a body that is not an object is refused", call: connectCall{path: list, body: `[]`},
			status: 400, body: connectBadBody},
		{name: "another protocol version is refused", call: connectCall{path: list, body: `{}`, version: "2"},
			status: 400, body: `{"code":"invalid_argument","message":"Connect-Protocol-Version must be \"1\": got \"2\""}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, srv := startConnect(t)
			if tt.seed != nil {
				tt.seed(s)
			}
			checkResponse(t, tt.call.send(t, srv), tt.status, tt.body)
		})
	}
}

// TestConnectNegotiation covers the answers connect-go and net/http give before a procedure runs:
// no JSON body, and no credential check.
func TestConnectNegotiation(t *testing.T) {
	tests := []struct {
		name        string
		call        connectCall
		status      int
		header      string // the one header that must be set, "Name: value"
		contentType string
		body        string
		route       string
	}{
		{name: "GET is not allowed", call: connectCall{method: http.MethodGet, path: procedures + "ListRoles", auth: "-"},
			status: 405, header: "Allow: POST", route: "ListRoles"},
		{name: "another content type is unsupported",
			call:   connectCall{path: procedures + "ListRoles", body: `{}`, contentType: "application/proto", auth: "-"},
			status: 415, header: "Accept-Post: application/json", route: "ListRoles"},
		{name: "an unknown procedure is net/http's 404", call: connectCall{path: procedures + "ListUsers", body: `{}`, auth: "-"},
			status: 404, contentType: "text/plain; charset=utf-8", body: "404 page not found\n", route: "NotFound"},
		{name: "a REST path is net/http's 404", call: connectCall{method: http.MethodGet, path: "/v1beta1/roles"},
			status: 404, contentType: "text/plain; charset=utf-8", body: "404 page not found\n", route: "NotFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, srv := startConnect(t)
			got := tt.call.send(t, srv)
			if got.status != tt.status || got.body != tt.body || got.header.Get("Content-Type") != tt.contentType {
				t.Errorf("got %d %q %q, want %d %q %q", got.status, got.header.Get("Content-Type"), got.body,
					tt.status, tt.contentType, tt.body)
			}
			if tt.header != "" {
				name, value, _ := strings.Cut(tt.header, ": ")
				if got.header.Get(name) != value {
					t.Errorf("%s = %q, want %q", name, got.header.Get(name), value)
				}
			}
			if n := s.Calls(tt.route); n != 1 {
				t.Errorf("%s calls = %d, want 1", tt.route, n)
			}
		})
	}
}

func TestConnectInjectedFailures(t *testing.T) {
	tests := []struct {
		status     int
		code       string
		message    string
		retryAfter string
	}{
		{400, "invalid_argument", "invalid argument", ""},
		{401, "unauthenticated", "not authenticated", ""},
		{403, "permission_denied", "not authorized", ""},
		{404, "not_found", "not found", ""},
		{409, "already_exists", "already exists", ""},
		{429, "resource_exhausted", "resource exhausted", "1"},
		{500, "internal", "internal server error", ""},
		{501, "unimplemented", "unimplemented", ""},
		{503, "unavailable", "unavailable", ""},
		{504, "deadline_exceeded", "deadline exceeded", ""},
		{499, "canceled", "canceled", ""},
		{502, "unknown", "unknown", ""},
	}
	roles := connectCall{path: procedures + "ListRoles", body: `{}`}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status)+" writes "+tt.code, func(t *testing.T) {
			s, srv := startConnect(t)
			s.FailNext("ListRoles", 1, tt.status)
			got := roles.send(t, srv)
			checkResponse(t, got, tt.status, `{"code":"`+tt.code+`","message":"`+tt.message+`"}`)
			if ra := got.header.Get("Retry-After"); ra != tt.retryAfter {
				t.Errorf("Retry-After = %q, want %q", ra, tt.retryAfter)
			}
			checkResponse(t, roles.send(t, srv), 200, `{}`)
			if n := s.Calls("ListRoles"); n != 2 {
				t.Errorf("calls = %d, want 2", n)
			}
		})
	}
}

func TestConnectCallCounts(t *testing.T) {
	s, srv := startConnect(t)
	bodies := map[string]string{
		"ListOrganizationInvitations": `{"org_id":"` + org + `"}`,
		"GetOrganization":             `{"id":"` + org + `"}`,
		"ListRoles":                   `{}`,
		"ListOrganizationRoles":       `{"org_id":"` + org + `"}`,
		"ListOrganizationGroups":      `{"org_id":"` + org + `"}`,
		"NotFound":                    `{}`,
	}
	for route, body := range bodies {
		connectCall{path: procedures + route, body: body}.send(t, srv)
	}
	for route := range bodies {
		if n := s.Calls(route); n != 1 {
			t.Errorf("%s calls = %d, want 1", route, n)
		}
		if n := s.PathCalls("POST " + procedures + route); n != 1 {
			t.Errorf("POST %s calls = %d, want 1", route, n)
		}
	}
}

func TestUnknownProtocolPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	New(Options{Protocol: "grpc"})
}
