package elastic

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invitegw/invitegw/upstream"
	"github.com/invitegw/invitegw/upstream/elastic/elasticfake"
)

const (
	testKey = "essu_c2VjcmV0LWFwaS1rZXk="
	// testTimeout is what config gives every client by default; NewClient requires one.
	testTimeout = 5 * time.Second
	// publicURL is Elastic Cloud's API host (FACTS.md section 2), config's default.
	publicURL = "https://api.elastic-cloud.com"
	testToken = "c4f3-SECRET-invitation-token-91ab"
	testOrg   = "1234567890"
)

// fullRoles is a role_assignments object with every kind of assignment.
const fullRoles = `{
  "platform": [{"role_id": "platform-viewer"}],
  "organization": [{"role_id": "billing-admin", "organization_id": "1234567890"}],
  "deployment": [
    {"role_id": "deployment-editor", "organization_id": "1234567890", "deployment_ids": ["d1", "d2"]},
    {"role_id": "deployment-viewer", "organization_id": "1234567890", "all": true, "application_roles": ["kibana_admin"]}
  ],
  "project": {
    "elasticsearch": [{"role_id": "admin", "organization_id": "1234567890", "project_ids": ["es1"]}],
    "observability": [{"role_id": "viewer", "organization_id": "1234567890", "all": true}],
    "security": [{"role_id": "editor", "organization_id": "1234567890", "project_ids": ["sec1", "sec2"], "application_roles": ["t1_analyst"]}]
  }
}`

// fullAssignments is fullRoles decoded.
var fullAssignments = &RoleAssignments{
	Platform:     []PlatformRoleAssignment{{RoleID: "platform-viewer"}},
	Organization: []OrganizationRoleAssignment{{RoleID: "billing-admin", OrganizationID: testOrg}},
	Deployment: []DeploymentRoleAssignment{
		{RoleID: "deployment-editor", OrganizationID: testOrg, DeploymentIDs: []string{"d1", "d2"}},
		{RoleID: "deployment-viewer", OrganizationID: testOrg, All: true, ApplicationRoles: []string{"kibana_admin"}},
	},
	Project: &ProjectRoleAssignments{
		Elasticsearch: []ProjectRoleAssignment{{RoleID: "admin", OrganizationID: testOrg, ProjectIDs: []string{"es1"}}},
		Observability: []ProjectRoleAssignment{{RoleID: "viewer", OrganizationID: testOrg, All: true}},
		Security: []ProjectRoleAssignment{{
			RoleID: "editor", OrganizationID: testOrg, ProjectIDs: []string{"sec1", "sec2"},
			ApplicationRoles: []string{"t1_analyst"},
		}},
	},
}

var (
	created  = time.Date(2024, 5, 4, 9, 42, 0, 0, time.UTC)
	expires  = time.Date(2024, 5, 7, 9, 42, 0, 0, time.UTC)
	accepted = time.Date(2024, 5, 5, 10, 0, 0, 0, time.UTC)
)

// mustParse parses like encoding/json does, so expected and decoded times share a location.
func mustParse(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// newFake starts a seeded fake, whose clock stands at created, and a client for it.
func newFake(t *testing.T, o Options) (*elasticfake.Server, *Client) {
	t.Helper()
	fake := elasticfake.New(elasticfake.Options{APIKey: testKey, Now: func() time.Time { return created }})
	fake.AddOrganization(testOrg, "Acme Search")
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	o.BaseURL = srv.URL
	if o.APIKey == "" {
		o.APIKey = testKey
	}
	if o.Timeout == 0 {
		o.Timeout = testTimeout
	}
	c, err := NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	return fake, c
}

func TestNewClient(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options
		wantErr  string
		wantBase string
	}{
		{name: "empty key is refused", opts: Options{BaseURL: publicURL, Timeout: testTimeout}, wantErr: "elastic: api key is required"},
		{name: "relative base url is refused", opts: Options{APIKey: "k", BaseURL: "api.example", Timeout: testTimeout},
			wantErr: "elastic: base url must be an absolute http(s) url without query"},
		{name: "empty base url is refused, not defaulted", opts: Options{APIKey: "k", Timeout: testTimeout},
			wantErr: "elastic: base url is required"},
		{name: "zero timeout is refused, not defaulted", opts: Options{APIKey: "k", BaseURL: publicURL},
			wantErr: "elastic: timeout must be positive, got 0s"},
		{name: "negative timeout is refused", opts: Options{APIKey: "k", BaseURL: publicURL, Timeout: -time.Second},
			wantErr: "elastic: timeout must be positive, got -1s"},
		{name: "the public api", opts: Options{APIKey: "k", BaseURL: publicURL, Timeout: testTimeout},
			wantBase: "https://api.elastic-cloud.com/api/v1"},
		{name: "trailing slash is trimmed", opts: Options{APIKey: "k", BaseURL: "http://127.0.0.1:9/", Timeout: time.Second},
			wantBase: "http://127.0.0.1:9/api/v1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(tt.opts)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.caller.BaseURL != tt.wantBase {
				t.Errorf("base = %q, want %q", c.caller.BaseURL, tt.wantBase)
			}
			if c.caller.HTTP == nil || c.caller.Timeout != tt.opts.Timeout {
				t.Errorf("http %v, timeout %v; want a client and timeout %v", c.caller.HTTP, c.caller.Timeout, tt.opts.Timeout)
			}
		})
	}
}

func TestCredentialID(t *testing.T) {
	c, err := NewClient(Options{BaseURL: publicURL, Timeout: testTimeout, APIKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(testKey))
	if got, want := c.CredentialID(), hex.EncodeToString(sum[:]); got != want {
		t.Errorf("CredentialID = %q, want %q", got, want)
	}
	other, _ := NewClient(Options{BaseURL: publicURL, Timeout: testTimeout, APIKey: testKey + "x"})
	if other.CredentialID() == c.CredentialID() {
		t.Error("two keys share a credential id")
	}
}

// sentRequest is what the fake saw.
type sentRequest struct {
	Method, EscapedPath, RawQuery, Authorization, Accept string
	ContentLength                                        int64
}

func TestRequests(t *testing.T) {
	tests := []struct {
		name  string
		orgID string
		call  func(c *Client, org string) error
		want  sentRequest
	}{
		{
			name:  "list invitations escapes the organization id",
			orgID: "org/with space",
			call:  func(c *Client, org string) error { _, err := c.ListInvitations(context.Background(), org); return err },
			want: sentRequest{Method: "GET", EscapedPath: "/api/v1/organizations/org%2Fwith%20space/invitations",
				Authorization: "ApiKey " + testKey, Accept: "application/json"},
		},
		{
			name:  "get organization escapes the organization id",
			orgID: "org/with space",
			call:  func(c *Client, org string) error { _, err := c.GetOrganization(context.Background(), org); return err },
			want: sentRequest{Method: "GET", EscapedPath: "/api/v1/organizations/org%2Fwith%20space",
				Authorization: "ApiKey " + testKey, Accept: "application/json"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, c := newFake(t, Options{})
			fake.AddOrganization(tt.orgID, "Slashed")
			var mu sync.Mutex
			var got []sentRequest
			fake.OnRequest(func(_ string, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				got = append(got, sentRequest{
					Method: r.Method, EscapedPath: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
					Authorization: r.Header.Get("Authorization"), Accept: r.Header.Get("Accept"),
					ContentLength: r.ContentLength,
				})
			})
			if err := tt.call(c, tt.orgID); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if want := []sentRequest{tt.want}; !reflect.DeepEqual(got, want) {
				t.Errorf("requests:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestInvalidOrganizationID(t *testing.T) {
	fake, c := newFake(t, Options{})
	for _, id := range []string{"", ".", ".."} {
		_, err := c.ListInvitations(context.Background(), id)
		var ue *upstream.Error
		if !errors.As(err, &ue) || !errors.Is(err, upstream.ErrInvalidArgument) || ue.Op != "ListInvitations" {
			t.Errorf("ListInvitations(%q) err = %v, want invalid argument", id, err)
		}
		if _, err := c.GetOrganization(context.Background(), id); !errors.Is(err, upstream.ErrInvalidArgument) {
			t.Errorf("GetOrganization(%q) err = %v, want invalid argument", id, err)
		}
	}
	if n := fake.TotalCalls(); n != 0 {
		t.Errorf("calls = %d, want 0", n)
	}
}

func TestListInvitations(t *testing.T) {
	fake, c := newFake(t, Options{})
	fake.AddInvitation(testOrg, elasticfake.Invitation{
		Token: testToken, Email: "ada@example.com", CreatedAt: created, ExpiresAt: expires,
		AcceptedAt: &accepted, RoleAssignments: json.RawMessage(fullRoles),
	})
	fake.AddInvitation(testOrg, elasticfake.Invitation{
		Token: "second-token", Email: "bob@example.com", CreatedAt: created, ExpiresAt: expires, Expired: true,
	})
	fake.AddOrganization("empty", "No Invites")

	got, err := c.ListInvitations(context.Background(), testOrg)
	if err != nil {
		t.Fatal(err)
	}
	org := Organization{
		ID: testOrg, Name: "Acme Search", DefaultDiskUsageAlertsEnabled: true,
		NotificationsAllowedEmailDomains: []string{}, BillingContacts: []string{}, OperationalContacts: []string{},
	}
	acceptedAt := mustParse(t, "2024-05-05T10:00:00+00:00")
	want := []OrganizationInvitation{
		{
			Token: testToken, Email: "ada@example.com",
			CreatedAt: mustParse(t, "2024-05-04T09:42:00+00:00"), ExpiresAt: mustParse(t, "2024-05-07T09:42:00+00:00"),
			AcceptedAt: &acceptedAt, Organization: org, RoleAssignments: fullAssignments,
		},
		{
			Token: "second-token", Email: "bob@example.com",
			CreatedAt: mustParse(t, "2024-05-04T09:42:00+00:00"), ExpiresAt: mustParse(t, "2024-05-07T09:42:00+00:00"),
			Expired: true, Organization: org,
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("invitations:\n got %s\nwant %s", dump(got), dump(want))
	}

	t.Run("empty list decodes to an empty slice", func(t *testing.T) {
		got, err := c.ListInvitations(context.Background(), "empty")
		if err != nil {
			t.Fatal(err)
		}
		if got == nil || len(got) != 0 {
			t.Errorf("got %#v, want empty non-nil slice", got)
		}
	})
}

// dump shows a value for a failure message; Token redacts itself, so show its digest too.
func dump(invs []OrganizationInvitation) string {
	var b strings.Builder
	for _, inv := range invs {
		b.WriteString("token digest=" + inv.Token.Digest() + " ")
		j, _ := json.Marshal(inv)
		b.Write(j)
		b.WriteString("\n")
	}
	return b.String()
}

func TestDecodeTolerance(t *testing.T) {
	// Missing fields, unknown fields and the "Z" form of timestamps all decode.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"invitations":[{"token":"t","email":"e@x","created_at":"2019-01-01T00:00:00Z",` +
			`"organization":{"id":"o","name":"n","new_field":{"x":1}},"role_assignments":{"deployment":[{"role_id":"r"}],"future_kind":[{}]},"extra":true}]}`))
	}))
	defer srv.Close()
	c, err := NewClient(Options{BaseURL: srv.URL, Timeout: testTimeout, APIKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.ListInvitations(context.Background(), "o")
	if err != nil {
		t.Fatal(err)
	}
	want := []OrganizationInvitation{{
		Token: "t", Email: "e@x", CreatedAt: time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC),
		Organization:    Organization{ID: "o", Name: "n"},
		RoleAssignments: &RoleAssignments{Deployment: []DeploymentRoleAssignment{{RoleID: "r"}}},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %s\nwant %s", dump(got), dump(want))
	}
}

func TestGetOrganization(t *testing.T) {
	_, c := newFake(t, Options{})
	got, err := c.GetOrganization(context.Background(), testOrg)
	if err != nil {
		t.Fatal(err)
	}
	want := &Organization{
		ID: testOrg, Name: "Acme Search", DefaultDiskUsageAlertsEnabled: true,
		NotificationsAllowedEmailDomains: []string{}, BillingContacts: []string{}, OperationalContacts: []string{},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestErrors(t *testing.T) {
	list := func(c *Client, org string) error { _, err := c.ListInvitations(context.Background(), org); return err }
	get := func(c *Client, org string) error { _, err := c.GetOrganization(context.Background(), org); return err }
	tests := []struct {
		name       string
		opts       Options
		org        string
		setup      func(f *elasticfake.Server)
		call       func(c *Client, org string) error
		want       upstream.Error
		retryAfter time.Duration
	}{
		{
			name: "wrong api key maps to unauthenticated", opts: Options{APIKey: "wrong-key"}, org: testOrg, call: list,
			want: upstream.Error{Op: "ListInvitations", Status: 401, Code: "root.unauthorized",
				Message: "Credentials were invalid", Kind: upstream.ErrUnauthenticated},
		},
		{
			name: "wrong api key on get maps to unauthenticated", opts: Options{APIKey: "wrong-key"}, org: testOrg, call: get,
			want: upstream.Error{Op: "GetOrganization", Status: 401, Code: "user.not_found",
				Message: "User not found", Kind: upstream.ErrUnauthenticated},
		},
		{
			name: "foreign organization on get maps to forbidden", org: "foreign", call: get,
			setup: func(f *elasticfake.Server) { f.AddForeignOrganization("foreign", "Other Co") },
			want: upstream.Error{Op: "GetOrganization", Status: 403, Code: "organization.invalid_access",
				Message: "You do not have access to this organization", Kind: upstream.ErrForbidden},
		},
		{
			name: "foreign organization on list maps to forbidden", org: "foreign", call: list,
			setup: func(f *elasticfake.Server) { f.AddForeignOrganization("foreign", "Other Co") },
			want: upstream.Error{Op: "ListInvitations", Status: 403, Code: "organization.invalid_access",
				Message: "You do not have access to this organization", Kind: upstream.ErrForbidden},
		},
		{
			name: "unknown organization maps to not found", org: "nope", call: list,
			want: upstream.Error{Op: "ListInvitations", Status: 404, Code: "organization.not_found",
				Message: "Organization not found", Kind: upstream.ErrNotFound},
		},
		{
			name: "unknown organization on get maps to not found", org: "nope", call: get,
			want: upstream.Error{Op: "GetOrganization", Status: 404, Code: "organization.not_found",
				Message: "Organization not found", Kind: upstream.ErrNotFound},
		},
		{
			name: "429 maps to rate limited with retry after", org: testOrg, call: list,
			setup: func(f *elasticfake.Server) { f.FailNext("ListInvitations", 1, 429) },
			want: upstream.Error{Op: "ListInvitations", Status: 429, Code: "root.rate_limit_exceeded",
				Message: "Rate limit exceeded", Kind: upstream.ErrRateLimited},
			retryAfter: time.Second,
		},
		{
			name: "500 maps to unavailable", org: testOrg, call: get,
			setup: func(f *elasticfake.Server) { f.FailNext("GetOrganization", 1, 500) },
			want: upstream.Error{Op: "GetOrganization", Status: 500, Code: "root.unexpected_error",
				Message: "An unexpected error occurred", Kind: upstream.ErrUnavailable},
		},
		{
			name: "503 maps to unavailable", org: testOrg, call: list,
			setup: func(f *elasticfake.Server) { f.FailNext("ListInvitations", 1, 503) },
			want: upstream.Error{Op: "ListInvitations", Status: 503, Code: "root.unavailable",
				Message: "The service is temporarily unavailable", Kind: upstream.ErrUnavailable},
		},
		{
			name: "403 maps to forbidden", org: testOrg, call: list,
			setup: func(f *elasticfake.Server) { f.FailNext("ListInvitations", 1, 403) },
			want: upstream.Error{Op: "ListInvitations", Status: 403, Code: "root.invalid_authentication",
				Message: "The supplied authentication is not allowed to perform this action", Kind: upstream.ErrForbidden},
		},
		{
			name: "slow answer maps to timeout", opts: Options{Timeout: 20 * time.Millisecond}, org: testOrg, call: list,
			setup: func(f *elasticfake.Server) { f.DelayNext("ListInvitations", 1, time.Minute) },
			want:  upstream.Error{Op: "ListInvitations", Kind: upstream.ErrTimeout},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, c := newFake(t, tt.opts)
			if tt.setup != nil {
				tt.setup(fake)
			}
			err := tt.call(c, tt.org)
			checkError(t, err, tt.want, tt.retryAfter)
		})
	}
}

// checkError asserts an *upstream.Error field by field (Err, the cause, only for presence).
func checkError(t *testing.T, err error, want upstream.Error, retryAfter time.Duration) {
	t.Helper()
	var ue *upstream.Error
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v (%T), want *upstream.Error", err, err)
	}
	if !errors.Is(err, want.Kind) {
		t.Errorf("kind = %v, want %v", ue.Kind, want.Kind)
	}
	if ue.Provider != "elastic" || ue.Op != want.Op || ue.Status != want.Status || ue.Code != want.Code ||
		ue.Message != want.Message || ue.RetryAfter != retryAfter {
		t.Errorf("error = %+v,\nwant op %q status %d code %q message %q retryAfter %v",
			ue, want.Op, want.Status, want.Code, want.Message, retryAfter)
	}
	if !strings.HasPrefix(err.Error(), "elastic: ") {
		t.Errorf("error string %q does not start with the package", err)
	}
	if strings.Contains(err.Error(), testKey) {
		t.Errorf("error string leaks the api key: %q", err)
	}
}

func TestErrorsFromOtherBodies(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		header  string
		body    string
		want    upstream.Error
		wantErr bool // an underlying decode error is expected
	}{
		{
			name: "malformed 200 body maps to bad response", status: 200, body: `{"invitations":[{"token":`,
			want: upstream.Error{Op: "ListInvitations", Status: 200, Kind: upstream.ErrBadResponse}, wantErr: true,
		},
		{
			name: "wrong shape 200 body maps to bad response", status: 200, body: `{"invitations":{"token":"x"}}`,
			want: upstream.Error{Op: "ListInvitations", Status: 200, Kind: upstream.ErrBadResponse}, wantErr: true,
		},
		{
			name: "html error page keeps the status kind", status: 502, body: `<html>Bad Gateway</html>`,
			want: upstream.Error{Op: "ListInvitations", Status: 502, Kind: upstream.ErrUnavailable},
		},
		{
			name: "html error page takes the code from the header", status: 403, header: "root.invalid_authentication",
			body: `<html>Forbidden</html>`,
			want: upstream.Error{Op: "ListInvitations", Status: 403, Code: "root.invalid_authentication", Kind: upstream.ErrForbidden},
		},
		{
			name: "empty errors array falls back to the header", status: 404, header: "organization.not_found, user.not_found",
			body: `{"errors":[]}`,
			want: upstream.Error{Op: "ListInvitations", Status: 404, Code: "organization.not_found", Kind: upstream.ErrNotFound},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if tt.header != "" {
					w.Header().Set("x-cloud-error-codes", tt.header)
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			c, err := NewClient(Options{BaseURL: srv.URL, Timeout: testTimeout, APIKey: testKey})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.ListInvitations(context.Background(), testOrg)
			checkError(t, err, tt.want, 0)
			var ue *upstream.Error
			if errors.As(err, &ue) && (ue.Err != nil) != tt.wantErr {
				t.Errorf("cause = %v, want present %v", ue.Err, tt.wantErr)
			}
		})
	}
}

func TestDecodeError(t *testing.T) {
	reply := func(code string) string {
		return `{"errors":[{"code":"` + code + `","message":"m","fields":["f"]},{"code":"second","message":"n"}]}`
	}
	tests := []struct {
		name     string
		status   int
		header   string
		body     string
		wantCode string
		wantMsg  string
		wantKind error
	}{
		{"organization.not_found is not found", 404, "", reply("organization.not_found"), "organization.not_found", "m", upstream.ErrNotFound},
		{"invitation_not_found is not found", 404, "", reply("organization.invitation_not_found"), "organization.invitation_not_found", "m", upstream.ErrNotFound},
		{"root.unauthorized is unauthenticated", 401, "", reply("root.unauthorized"), "root.unauthorized", "m", upstream.ErrUnauthenticated},
		{"root.unauthenticated is unauthenticated", 401, "", reply("root.unauthenticated"), "root.unauthenticated", "m", upstream.ErrUnauthenticated},
		{"root.invalid_authentication is forbidden", 403, "", reply("root.invalid_authentication"), "root.invalid_authentication", "m", upstream.ErrForbidden},
		{"organization.invalid_access is forbidden", 404, "", reply("organization.invalid_access"), "organization.invalid_access", "m", upstream.ErrForbidden},
		{"invitations rate limit is rate limited", 429, "", reply("organization.invitations_rate_limit_exceeded"), "organization.invitations_rate_limit_exceeded", "m", upstream.ErrRateLimited},
		{"rate limit code wins over status", 400, "", reply("root.rate_limit_exceeded"), "root.rate_limit_exceeded", "m", upstream.ErrRateLimited},
		{"root.invalid_data is invalid argument", 400, "", reply("root.invalid_data"), "root.invalid_data", "m", upstream.ErrInvalidArgument},
		{"unknown code keeps the status kind", 500, "", reply("root.something_new"), "root.something_new", "m", upstream.ErrUnavailable},
		{"body wins over header", 404, "root.unauthorized", reply("organization.not_found"), "organization.not_found", "m", upstream.ErrNotFound},
		{"header when body is not json", 401, "root.unauthenticated", "nope", "root.unauthenticated", "", upstream.ErrUnauthenticated},
		{"nothing known keeps the status kind", 418, "", "", "", "", upstream.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &upstream.Error{Status: tt.status, Kind: upstream.KindForStatus(tt.status)}
			h := http.Header{}
			if tt.header != "" {
				h.Set("x-cloud-error-codes", tt.header)
			}
			decodeError(e, h, []byte(tt.body))
			if e.Code != tt.wantCode || e.Message != tt.wantMsg || e.Kind != tt.wantKind {
				t.Errorf("got code %q message %q kind %v, want %q %q %v", e.Code, e.Message, e.Kind,
					tt.wantCode, tt.wantMsg, tt.wantKind)
			}
		})
	}
}

func TestCallCounts(t *testing.T) {
	fake, c := newFake(t, Options{})
	ctx := context.Background()
	for range 2 {
		if _, err := c.ListInvitations(ctx, testOrg); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.GetOrganization(ctx, testOrg); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetOrganization(ctx, "missing"); !errors.Is(err, upstream.ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
	checks := []struct {
		name string
		got  int
		want int
	}{
		{"ListInvitations", fake.Calls("ListInvitations"), 2},
		{"GetOrganization", fake.Calls("GetOrganization"), 2},
		{"list path", fake.PathCalls("GET /api/v1/organizations/" + testOrg + "/invitations"), 2},
		{"missing org path", fake.PathCalls("GET /api/v1/organizations/missing"), 1},
		{"total", fake.TotalCalls(), 4},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s calls = %d, want %d", ch.name, ch.got, ch.want)
		}
	}
	if got := fake.LastAuthorization("GetOrganization"); got != "ApiKey "+testKey {
		t.Errorf("last authorization = %q", got)
	}
}
