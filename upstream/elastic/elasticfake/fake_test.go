package elasticfake

import (
	"cmp"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const key = "fake-test-key"

func start(t *testing.T) (*Server, *httptest.Server) {
	t.Helper()
	s := New(Options{APIKey: key})
	s.AddOrganization("42", "Acme")
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

type response struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, srv *httptest.Server, path, auth string) response {
	t.Helper()
	return do(t, srv, http.MethodGet, path, auth)
}

func do(t *testing.T, srv *httptest.Server, method, path, auth string) response {
	t.Helper()
	return send(t, srv, method, path, auth, "")
}

// send is do with a JSON body (none when empty).
func send(t *testing.T, srv *httptest.Server, method, path, auth, body string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
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
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func checkResponse(t *testing.T, got response, status int, errorCode, body string) {
	t.Helper()
	if got.status != status || got.body != body+"\n" {
		t.Errorf("got %d %s\nwant %d %s", got.status, got.body, status, body)
	}
	if h := got.header.Get("x-cloud-error-codes"); h != errorCode {
		t.Errorf("x-cloud-error-codes = %q, want %q", h, errorCode)
	}
	if ct := got.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("content type = %q", ct)
	}
}

const unauthorized = `{"errors":[{"code":"root.unauthorized","message":"Credentials were invalid"}]}`

func TestAuthRejection(t *testing.T) {
	tests := []struct {
		name string
		path string
		auth string
	}{
		{"missing key on list", "/api/v1/organizations/42/invitations", ""},
		{"wrong key on list", "/api/v1/organizations/42/invitations", "ApiKey nope"},
		{"bearer scheme on list", "/api/v1/organizations/42/invitations", "Bearer " + key},
		{"missing key on an unknown path", "/api/v1/deployments", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := start(t)
			checkResponse(t, get(t, srv, tt.path, tt.auth), 401, "root.unauthorized", unauthorized)
		})
	}
	t.Run("writes with a wrong key change nothing", func(t *testing.T) {
		s, srv := start(t)
		s.AddInvitation("42", Invitation{Token: "tok1", Email: "a@example.com"})
		checkResponse(t, send(t, srv, "POST", "/api/v1/organizations/42/invitations", "ApiKey nope", `{"emails":["b@example.com"]}`),
			401, "root.unauthorized", unauthorized)
		checkResponse(t, send(t, srv, "DELETE", "/api/v1/organizations/42/invitations/tok1", "", ""),
			401, "root.unauthorized", unauthorized)
		if got := s.Invitations("42"); len(got) != 1 || got[0].Token != "tok1" {
			t.Errorf("invitations = %+v", got)
		}
	})
}

// TestOrganizationErrors checks GET /organizations/{id} against the errors its spec documents
// (FACTS.md 2.5): 401 user.not_found for a bad key, 403 organization.invalid_access for an
// organization the key cannot access.
func TestOrganizationErrors(t *testing.T) {
	const (
		userNotFound  = `{"errors":[{"code":"user.not_found","message":"User not found"}]}`
		invalidAccess = `{"errors":[{"code":"organization.invalid_access","message":"You do not have access to this organization"}]}`
	)
	tests := []struct {
		name      string
		path      string
		auth      string
		status    int
		errorCode string
		body      string
	}{
		{"missing key", "/api/v1/organizations/42", "", 401, "user.not_found", userNotFound},
		{"wrong key", "/api/v1/organizations/42", "ApiKey nope", 401, "user.not_found", userNotFound},
		{"wrong key on an unknown org", "/api/v1/organizations/missing", "ApiKey nope", 401, "user.not_found", userNotFound},
		{"foreign organization", "/api/v1/organizations/7", "ApiKey " + key, 403, "organization.invalid_access", invalidAccess},
		{"foreign organization's invitations", "/api/v1/organizations/7/invitations", "ApiKey " + key,
			403, "organization.invalid_access", invalidAccess},
		{"foreign organization with a wrong key", "/api/v1/organizations/7", "ApiKey nope", 401, "user.not_found", userNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, srv := start(t)
			s.AddForeignOrganization("7", "Other Co")
			checkResponse(t, get(t, srv, tt.path, tt.auth), tt.status, tt.errorCode, tt.body)
		})
	}
}

func TestRoutes(t *testing.T) {
	created := time.Date(2024, 5, 4, 9, 42, 0, 0, time.UTC)
	accepted := time.Date(2024, 5, 5, 10, 0, 0, 500_000_000, time.FixedZone("", 3600))
	const org = `{"id":"42","name":"Acme","default_disk_usage_alerts_enabled":true,` +
		`"notifications_allowed_email_domains":[],"billing_contacts":[],"operational_contacts":[]}`
	tests := []struct {
		name      string
		seed      func(s *Server)
		method    string
		path      string
		status    int
		errorCode string
		body      string
	}{
		{
			name:   "empty list",
			path:   "/api/v1/organizations/42/invitations",
			status: 200, body: `{"invitations":[]}`,
		},
		{
			name: "list embeds the organization and keeps role assignments verbatim",
			seed: func(s *Server) {
				s.AddInvitation("42", Invitation{
					Token: "tok1", Email: "a@x", CreatedAt: created, ExpiresAt: created.Add(72 * time.Hour),
					AcceptedAt: &accepted, RoleAssignments: json.RawMessage(`{"platform": [{"role_id":"p"}]}`),
				})
				s.AddInvitation("42", Invitation{Token: "tok2", Email: "b@x", CreatedAt: created, ExpiresAt: created, Expired: true})
			},
			path:   "/api/v1/organizations/42/invitations",
			status: 200,
			body: `{"invitations":[` +
				`{"token":"tok1","email":"a@x","created_at":"2024-05-04T09:42:00+00:00","expires_at":"2024-05-07T09:42:00+00:00",` +
				`"expired":false,"accepted_at":"2024-05-05T09:00:00.5+00:00","organization":` + org + `,` +
				`"role_assignments":{"platform":[{"role_id":"p"}]}},` +
				`{"token":"tok2","email":"b@x","created_at":"2024-05-04T09:42:00+00:00","expires_at":"2024-05-04T09:42:00+00:00",` +
				`"expired":true,"organization":` + org + `}]}`,
		},
		{
			name:   "removed invitation is gone",
			seed:   func(s *Server) { s.AddInvitation("42", Invitation{Token: "t"}); s.RemoveInvitation("42", "t") },
			path:   "/api/v1/organizations/42/invitations",
			status: 200, body: `{"invitations":[]}`,
		},
		{
			name:   "get organization",
			path:   "/api/v1/organizations/42",
			status: 200, body: org,
		},
		{
			name:   "escaped organization id",
			seed:   func(s *Server) { s.AddOrganization("a/b c", "Slash") },
			path:   "/api/v1/organizations/a%2Fb%20c/invitations",
			status: 200, body: `{"invitations":[]}`,
		},
		{
			name:   "unknown organization on list",
			path:   "/api/v1/organizations/7/invitations",
			status: 404, errorCode: "organization.not_found",
			body: `{"errors":[{"code":"organization.not_found","message":"Organization not found"}]}`,
		},
		{
			name:   "unknown organization on get",
			path:   "/api/v1/organizations/7",
			status: 404, errorCode: "organization.not_found",
			body: `{"errors":[{"code":"organization.not_found","message":"Organization not found"}]}`,
		},
		{
			name:   "unknown path",
			path:   "/api/v1/organizations/42/members",
			status: 404, errorCode: "root.not_found",
			body: `{"errors":[{"code":"root.not_found","message":"The requested resource could not be found"}]}`,
		},
		{
			name:   "other method on a known path",
			method: http.MethodDelete,
			path:   "/api/v1/organizations/42/invitations",
			status: 404, errorCode: "root.not_found",
			body: `{"errors":[{"code":"root.not_found","message":"The requested resource could not be found"}]}`,
		},
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
			checkResponse(t, do(t, srv, method, tt.path, "ApiKey "+key), tt.status, tt.errorCode, tt.body)
		})
	}
}

func TestCreateInvitations(t *testing.T) {
	now := time.Date(2025, 5, 4, 9, 42, 0, 0, time.UTC)
	const org = `{"id":"42","name":"Acme","default_disk_usage_alerts_enabled":true,` +
		`"notifications_allowed_email_domains":[],"billing_contacts":[],"operational_contacts":[]}`
	const roles = `{"organization":[{"role_id":"billing-admin","organization_id":"42"}]}`
	invalidData := `{"errors":[{"code":"root.invalid_data","message":"The request body is invalid"}]}`
	open := Invitation{Token: "tok-open", Email: "Ada@Example.com", CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour)}
	expired := Invitation{Token: "tok-old", Email: "grace@example.com", CreatedAt: now.Add(-100 * time.Hour),
		ExpiresAt: now.Add(-28 * time.Hour), Expired: true}
	acceptedAt := now.Add(-time.Minute)
	accepted := Invitation{Token: "tok-done", Email: "alan@example.com", CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour),
		AcceptedAt: &acceptedAt}
	tests := []struct {
		name      string
		org       string
		body      string
		status    int
		errorCode string
		wantBody  string // with <new> for a new token
		want      []Invitation
	}{
		{
			name:   "creates one per email with role assignments and expires_in",
			body:   `{"emails":["linus@example.com"],"expires_in":"7d","role_assignments":` + roles + `}`,
			status: 201,
			wantBody: `{"invitations":[{"token":"<new>","email":"linus@example.com","created_at":"2025-05-04T09:42:00+00:00",` +
				`"expires_at":"2025-05-11T09:42:00+00:00","expired":false,"organization":` + org + `,"role_assignments":` + roles + `}]}`,
			want: []Invitation{open, expired, accepted, {Token: "<new>", Email: "linus@example.com", CreatedAt: now,
				ExpiresAt: now.Add(7 * 24 * time.Hour), RoleAssignments: json.RawMessage(roles)}},
		},
		{
			name:   "an open invitation is refreshed: same token, later expiry",
			body:   `{"emails":["ada@example.com"]}`,
			status: 201,
			wantBody: `{"invitations":[{"token":"tok-open","email":"Ada@Example.com","created_at":"2025-05-04T08:42:00+00:00",` +
				`"expires_at":"2025-05-07T09:42:00+00:00","expired":false,"organization":` + org + `}]}`,
			want: []Invitation{{Token: "tok-open", Email: "Ada@Example.com", CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(72 * time.Hour)},
				expired, accepted},
		},
		{
			name:   "an expired invitation is refreshed too; an accepted one is not",
			body:   `{"emails":["grace@example.com","alan@example.com"],"expires_in":"24h","role_assignments":null}`,
			status: 201,
			wantBody: `{"invitations":[{"token":"tok-old","email":"grace@example.com","created_at":"2025-04-30T05:42:00+00:00",` +
				`"expires_at":"2025-05-05T09:42:00+00:00","expired":false,"organization":` + org + `},` +
				`{"token":"<new>","email":"alan@example.com","created_at":"2025-05-04T09:42:00+00:00",` +
				`"expires_at":"2025-05-05T09:42:00+00:00","expired":false,"organization":` + org + `}]}`,
			want: []Invitation{open, {Token: "tok-old", Email: "grace@example.com", CreatedAt: expired.CreatedAt, ExpiresAt: now.Add(24 * time.Hour)},
				accepted, {Token: "<new>", Email: "alan@example.com", CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}},
		},
		{name: "invalid email", body: `{"emails":["linus@example.com","not an email"]}`, status: 400,
			errorCode: "organization.invitation_invalid_email",
			wantBody:  `{"errors":[{"code":"organization.invitation_invalid_email","message":"Invalid email address: not an email"}]}`},
		{name: "no emails", body: `{"emails":[]}`, status: 400, errorCode: "root.invalid_data", wantBody: invalidData},
		{name: "emails missing", body: `{"expires_in":"72h"}`, status: 400, errorCode: "root.invalid_data", wantBody: invalidData},
		{name: "bad expires_in", body: `{"emails":["a@example.com"],"expires_in":"soon"}`, status: 400,
			errorCode: "root.invalid_data", wantBody: invalidData},
		{name: "role assignments not an object", body: `{"emails":["a@example.com"],"role_assignments":[]}`, status: 400,
			errorCode: "root.invalid_data", wantBody: invalidData},
		{name: "not json", body: `{"emails":`, status: 400, errorCode: "root.invalid_data", wantBody: invalidData},
		{name: "unknown organization comes before the body", org: "7", body: `{`, status: 404, errorCode: "organization.not_found",
			wantBody: `{"errors":[{"code":"organization.not_found","message":"Organization not found"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Options{APIKey: key, Now: func() time.Time { return now }})
			s.AddOrganization("42", "Acme")
			for _, inv := range []Invitation{open, expired, accepted} {
				s.AddInvitation("42", inv)
			}
			srv := httptest.NewServer(s)
			defer srv.Close()
			orgID := cmp.Or(tt.org, "42")
			got := send(t, srv, "POST", "/api/v1/organizations/"+orgID+"/invitations", "ApiKey "+key, tt.body)
			stored := s.Invitations("42")
			newToken := ""
			if len(stored) == 4 {
				newToken = stored[3].Token
			}
			checkResponse(t, got, tt.status, tt.errorCode, strings.ReplaceAll(tt.wantBody, "<new>", newToken))
			want := tt.want
			if want == nil {
				want = []Invitation{open, expired, accepted}
			}
			for i := range want {
				if want[i].Token == "<new>" {
					want[i].Token = newToken
				}
			}
			if !reflect.DeepEqual(stored, want) {
				t.Errorf("stored:\n got %+v\nwant %+v", stored, want)
			}
			if newToken != "" && (len(newToken) != 32 || strings.Trim(newToken, "0123456789abcdef") != "") {
				t.Errorf("new token %q is not 32 hex digits", newToken)
			}
			if reqs := s.Requests("CreateInvitations"); len(reqs) != 1 || string(reqs[0].Body) != tt.body {
				t.Errorf("recorded %+v", reqs)
			}
		})
	}
}

func TestDeleteInvitations(t *testing.T) {
	seed := []Invitation{{Token: "tok1", Email: "a@example.com"}, {Token: "tok,2", Email: "b@example.com"}, {Token: "tok3", Email: "c@example.com"}}
	invalidData := `{"errors":[{"code":"root.invalid_data","message":"No valid invitation token was supplied"}]}`
	notFound := `{"errors":[{"code":"organization.invitation_not_found","message":"Invitation not found"}]}`
	tests := []struct {
		name      string
		path      string
		status    int
		errorCode string
		body      string
		left      []string
	}{
		{name: "one token", path: "/api/v1/organizations/42/invitations/tok1", status: 200, body: `{}`, left: []string{"tok,2", "tok3"}},
		{name: "a CSV of tokens, one with an escaped comma", path: "/api/v1/organizations/42/invitations/tok3,tok%2C2",
			status: 200, body: `{}`, left: []string{"tok1"}},
		{name: "spaces and empty parts are dropped", path: "/api/v1/organizations/42/invitations/,%20tok1%20,,",
			status: 200, body: `{}`, left: []string{"tok,2", "tok3"}},
		{name: "an unknown token deletes nothing", path: "/api/v1/organizations/42/invitations/tok1,nope",
			status: 404, errorCode: "organization.invitation_not_found", body: notFound, left: []string{"tok1", "tok,2", "tok3"}},
		{name: "no valid token", path: "/api/v1/organizations/42/invitations/,%20,",
			status: 400, errorCode: "root.invalid_data", body: invalidData, left: []string{"tok1", "tok,2", "tok3"}},
		{name: "unknown organization", path: "/api/v1/organizations/7/invitations/tok1", status: 404, errorCode: "organization.not_found",
			body: `{"errors":[{"code":"organization.not_found","message":"Organization not found"}]}`, left: []string{"tok1", "tok,2", "tok3"}},
		{name: "foreign organization", path: "/api/v1/organizations/9/invitations/tok1", status: 403, errorCode: "organization.invalid_access",
			body: `{"errors":[{"code":"organization.invalid_access","message":"You do not have access to this organization"}]}`,
			left: []string{"tok1", "tok,2", "tok3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, srv := start(t)
			s.AddForeignOrganization("9", "Other")
			for _, inv := range seed {
				s.AddInvitation("42", inv)
			}
			checkResponse(t, send(t, srv, "DELETE", tt.path, "ApiKey "+key, ""), tt.status, tt.errorCode, tt.body)
			var left []string
			for _, inv := range s.Invitations("42") {
				left = append(left, inv.Token)
			}
			if !reflect.DeepEqual(left, tt.left) {
				t.Errorf("left %q, want %q", left, tt.left)
			}
			if reqs := s.Requests("DeleteInvitations"); len(reqs) != 1 || reqs[0].Path != tt.path {
				t.Errorf("recorded %+v", reqs)
			}
		})
	}
}

func TestInjectedFailures(t *testing.T) {
	tests := []struct {
		status     int
		code       string
		message    string
		retryAfter string
	}{
		{400, "root.invalid_data", "The request was invalid", ""},
		{401, "root.unauthorized", "Credentials were invalid", ""},
		{403, "root.invalid_authentication", "The supplied authentication is not allowed to perform this action", ""},
		{404, "organization.not_found", "Organization not found", ""},
		{429, "root.rate_limit_exceeded", "Rate limit exceeded", "1"},
		{500, "root.unexpected_error", "An unexpected error occurred", ""},
		{503, "root.unavailable", "The service is temporarily unavailable", ""},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status)+" writes "+tt.code, func(t *testing.T) {
			s, srv := start(t)
			s.FailNext("ListInvitations", 1, tt.status)
			got := get(t, srv, "/api/v1/organizations/42/invitations", "ApiKey "+key)
			checkResponse(t, got, tt.status, tt.code,
				`{"errors":[{"code":"`+tt.code+`","message":"`+tt.message+`"}]}`)
			if ra := got.header.Get("Retry-After"); ra != tt.retryAfter {
				t.Errorf("Retry-After = %q, want %q", ra, tt.retryAfter)
			}
			// The fault is used up: the next call succeeds.
			checkResponse(t, get(t, srv, "/api/v1/organizations/42/invitations", "ApiKey "+key), 200, "",
				`{"invitations":[]}`)
			if n := s.Calls("ListInvitations"); n != 2 {
				t.Errorf("calls = %d, want 2", n)
			}
		})
	}
}

func TestRateLimitHeaders(t *testing.T) {
	_, srv := start(t)
	for i := 1; i <= 3; i++ {
		got := get(t, srv, "/api/v1/organizations/42", "ApiKey "+key)
		want := map[string]string{
			"X-Ratelimit-Interval":  "60s",
			"X-Ratelimit-Limit":     "1000",
			"X-Ratelimit-Remaining": strconv.Itoa(1000 - i),
		}
		for h, v := range want {
			if g := got.header.Get(h); g != v {
				t.Errorf("call %d: %s = %q, want %q", i, h, g, v)
			}
		}
	}
}

func TestRateLimitWindow(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	s := New(Options{APIKey: key, Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	s.AddOrganization("42", "Acme")
	srv := httptest.NewServer(s)
	defer srv.Close()
	remaining := func() string {
		t.Helper()
		return get(t, srv, "/api/v1/organizations/42", "ApiKey "+key).header.Get("X-Ratelimit-Remaining")
	}
	steps := []struct {
		name string
		do   func()
		want []string // what the next answers say
	}{
		{"counts down", func() {}, []string{"999", "998"}},
		{"set to 0 stays at 0", func() { s.SetRateLimitRemaining(0) }, []string{"0", "0"}},
		{"set to 2 counts down from it", func() { s.SetRateLimitRemaining(2) }, []string{"2", "1", "0", "0"}},
		{"within the window nothing changes", func() { mu.Lock(); now = now.Add(59 * time.Second); mu.Unlock() }, []string{"0"}},
		{"a new window starts over", func() { mu.Lock(); now = now.Add(time.Second); mu.Unlock() }, []string{"999", "998"}},
	}
	for _, st := range steps {
		st.do()
		for i, want := range st.want {
			if got := remaining(); got != want {
				t.Errorf("%s: answer %d says %s left, want %s", st.name, i+1, got, want)
			}
		}
	}
}

func TestDefaultAPIKey(t *testing.T) {
	s := New(Options{})
	s.AddOrganization("1", "One")
	srv := httptest.NewServer(s)
	defer srv.Close()
	if got := get(t, srv, "/api/v1/organizations/1", "ApiKey "+DefaultAPIKey); got.status != 200 {
		t.Errorf("status = %d, want 200", got.status)
	}
}

func TestSeedingBugsPanic(t *testing.T) {
	tests := []struct {
		name string
		seed func(s *Server)
	}{
		{"unknown organization", func(s *Server) { s.AddInvitation("nope", Invitation{}) }},
		{"invalid role assignments", func(s *Server) {
			s.AddInvitation("42", Invitation{RoleAssignments: json.RawMessage(`{`)})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Options{})
			s.AddOrganization("42", "Acme")
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tt.seed(s)
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	s, srv := start(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			s.AddInvitation("42", Invitation{Token: strconv.Itoa(i)})
		}()
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/organizations/42/invitations", nil)
			req.Header.Set("Authorization", "ApiKey "+key)
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
	if err := json.Unmarshal([]byte(get(t, srv, "/api/v1/organizations/42/invitations", "ApiKey "+key).body), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Invitations) != 8 || s.Calls("ListInvitations") != 9 {
		t.Errorf("invitations = %d, calls = %d; want 8 and 9", len(got.Invitations), s.Calls("ListInvitations"))
	}
}
