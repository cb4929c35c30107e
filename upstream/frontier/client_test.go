package frontier

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invitegw/invitegw/upstream"
	"github.com/invitegw/invitegw/upstream/frontier/frontierfake"
)

const (
	testToken    = "eyJhbGciOiJSUzI1NiJ9.test-service-user-jwt"
	testClientID = "5f1c7f3e-2a7b-4d0e-9c1a-7e3b2d4f6a80"
	testSecret   = "c2VjcmV0LWNsaWVudC1zZWNyZXQ"
	testOrg      = "b9c4f4e2-9b9a-4c1a-8f1a-2b9b9b9b9b9b"
	// testTimeout is what config gives every client by default; NewClient requires one.
	testTimeout = 5 * time.Second
)

var (
	// seeded is the fake's clock: the timestamps it sets itself.
	seeded  = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	created = time.Date(2023, 6, 7, 5, 39, 56, 961_000_000, time.UTC)
	expires = created.Add(7 * 24 * time.Hour)
)

var (
	bearer = "Bearer " + testToken
	basic  = "Basic " + base64.StdEncoding.EncodeToString([]byte(testClientID+":"+testSecret))
)

// protocols are the two transports. The tests of shared behaviour run against each, with a fake
// speaking it, and expect the same values and error kinds.
var protocols = []string{ProtocolREST, ProtocolConnect}

// forEachProtocol runs test once per protocol, as a subtest named after it.
func forEachProtocol(t *testing.T, test func(t *testing.T, protocol string)) {
	t.Helper()
	for _, p := range protocols {
		t.Run(p, func(t *testing.T) { test(t, p) })
	}
}

// newFake starts a fake speaking o.Protocol, seeded with testOrg ("acme-corp", "Acme Corp"),
// that accepts both the token and the client credentials, and a client for it (with the token
// unless o has a credential).
func newFake(t *testing.T, o Options) (*frontierfake.Server, *Client) {
	t.Helper()
	fake := frontierfake.New(frontierfake.Options{
		Token: testToken, ClientID: testClientID, ClientSecret: testSecret,
		Now: func() time.Time { return seeded }, Protocol: o.Protocol,
	})
	fake.AddOrganization(testOrg, "acme-corp", "Acme Corp")
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	o.BaseURL = srv.URL
	if o.Token == "" && o.ClientID == "" && o.ClientSecret == "" {
		o.Token = testToken
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
		wantAuth string
		// wantProtocol is ProtocolREST when empty.
		wantProtocol string
	}{
		{name: "empty base url is refused, not defaulted", opts: Options{Timeout: testTimeout, Token: "t"},
			wantErr: "frontier: base url is required"},
		{name: "zero timeout is refused, not defaulted", opts: Options{BaseURL: "https://f.example", Token: "t"},
			wantErr: "frontier: timeout must be positive, got 0s"},
		{name: "negative timeout is refused", opts: Options{BaseURL: "https://f.example", Token: "t", Timeout: -time.Second},
			wantErr: "frontier: timeout must be positive, got -1s"},
		{name: "relative base url is refused", opts: Options{Timeout: testTimeout, Token: "t", BaseURL: "frontier.internal"},
			wantErr: "frontier: base url must be an absolute http(s) url without query"},
		{name: "base url with a query is refused", opts: Options{Timeout: testTimeout, Token: "t", BaseURL: "https://f.example/?x=1"},
			wantErr: "frontier: base url must be an absolute http(s) url without query"},
		{name: "no credential is refused", opts: Options{Timeout: testTimeout, BaseURL: "https://f.example"},
			wantErr: "frontier: a token or a client id and secret is required"},
		{name: "both kinds of credential are refused",
			opts:    Options{Timeout: testTimeout, BaseURL: "https://f.example", Token: "t", ClientID: "id", ClientSecret: "s"},
			wantErr: "frontier: give a token or a client id and secret, not both"},
		{name: "client id without secret is refused", opts: Options{Timeout: testTimeout, BaseURL: "https://f.example", ClientID: "id"},
			wantErr: "frontier: client id and client secret must be given together"},
		{name: "client secret without id is refused", opts: Options{Timeout: testTimeout, BaseURL: "https://f.example", ClientSecret: "s"},
			wantErr: "frontier: client id and client secret must be given together"},
		{name: "client id with a colon is refused",
			opts:    Options{Timeout: testTimeout, BaseURL: "https://f.example", ClientID: "a:b", ClientSecret: "s"},
			wantErr: "frontier: client id must not contain a colon"},
		{name: "token is sent as bearer", opts: Options{Timeout: testTimeout, BaseURL: "https://f.example", Token: testToken},
			wantBase: "https://f.example/v1beta1", wantAuth: bearer},
		{name: "client credentials are sent as basic",
			opts:     Options{Timeout: testTimeout, BaseURL: "http://127.0.0.1:8000/", ClientID: testClientID, ClientSecret: testSecret},
			wantBase: "http://127.0.0.1:8000/v1beta1", wantAuth: basic},
		{name: "a proxy path prefix is kept", opts: Options{Timeout: testTimeout, BaseURL: "https://gw.example/frontier/", Token: testToken},
			wantBase: "https://gw.example/frontier/v1beta1", wantAuth: bearer},
		{name: "rest by name", opts: Options{Timeout: testTimeout, BaseURL: "https://f.example", Token: testToken, Protocol: "rest"},
			wantBase: "https://f.example/v1beta1", wantAuth: bearer},
		{name: "connect calls the service path",
			opts:     Options{Timeout: testTimeout, BaseURL: "http://127.0.0.1:8002", Token: testToken, Protocol: "connect"},
			wantBase: "http://127.0.0.1:8002/raystack.frontier.v1beta1.FrontierService", wantAuth: bearer,
			wantProtocol: ProtocolConnect},
		{name: "connect keeps a routing prefix and sends basic",
			opts: Options{Timeout: testTimeout, BaseURL: "https://gw.example/frontier-connect/", ClientID: testClientID, ClientSecret: testSecret,
				Protocol: ProtocolConnect},
			wantBase: "https://gw.example/frontier-connect/raystack.frontier.v1beta1.FrontierService", wantAuth: basic,
			wantProtocol: ProtocolConnect},
		{name: "unknown protocol is refused", opts: Options{Timeout: testTimeout, BaseURL: "https://f.example", Token: "t", Protocol: "grpc"},
			wantErr: `frontier: unknown protocol "grpc" (want "rest" or "connect")`},
		{name: "protocol names are exact", opts: Options{Timeout: testTimeout, BaseURL: "https://f.example", Token: "t", Protocol: "Connect"},
			wantErr: `frontier: unknown protocol "Connect" (want "rest" or "connect")`},
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
			wantProtocol := cmp.Or(tt.wantProtocol, ProtocolREST)
			if c.Protocol() != wantProtocol {
				t.Errorf("protocol = %q, want %q", c.Protocol(), wantProtocol)
			}
			caller := callerOf(t, c)
			if caller.BaseURL != tt.wantBase {
				t.Errorf("base = %q, want %q", caller.BaseURL, tt.wantBase)
			}
			if caller.HTTP == nil || caller.Timeout != tt.opts.Timeout {
				t.Errorf("http %v, timeout %v; want a client and timeout %v", caller.HTTP, caller.Timeout, tt.opts.Timeout)
			}
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if err := caller.Authorize(context.Background(), r); err != nil || r.Header.Get("Authorization") != tt.wantAuth {
				t.Errorf("authorization = %q, %v; want %q", r.Header.Get("Authorization"), err, tt.wantAuth)
			}
			wantVersion := ""
			if wantProtocol == ProtocolConnect {
				wantVersion = "1"
			}
			if got := r.Header.Get("Connect-Protocol-Version"); got != wantVersion {
				t.Errorf("Connect-Protocol-Version = %q, want %q", got, wantVersion)
			}
		})
	}
}

// callerOf is the upstream.Caller of c's transport.
func callerOf(t *testing.T, c *Client) upstream.Caller {
	t.Helper()
	switch tr := c.t.(type) {
	case *rest:
		return tr.caller
	case *connectRPC:
		return tr.caller
	}
	t.Fatalf("unknown transport %T", c.t)
	return upstream.Caller{}
}

func TestCredentialID(t *testing.T) {
	hash := func(s string) string { sum := sha256.Sum256([]byte(s)); return hex.EncodeToString(sum[:]) }
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"token", Options{Token: testToken}, hash(bearer)},
		{"client credentials", Options{ClientID: testClientID, ClientSecret: testSecret}, hash(basic)},
		{"another secret", Options{ClientID: testClientID, ClientSecret: testSecret + "x"},
			hash("Basic " + base64.StdEncoding.EncodeToString([]byte(testClientID+":"+testSecret+"x")))},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.BaseURL, tt.opts.Timeout = "https://f.example", testTimeout
			c, err := NewClient(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := c.CredentialID()
			if got != tt.want {
				t.Errorf("CredentialID = %q, want %q", got, tt.want)
			}
			if seen[got] {
				t.Error("two credentials share an id")
			}
			seen[got] = true
			if strings.Contains(got, testSecret) || strings.Contains(got, testToken) {
				t.Error("credential id contains the secret")
			}
		})
	}
}

// sentRequest is what the fake saw.
type sentRequest struct {
	Method, EscapedPath, RawQuery, Authorization, Accept string
	ContentType, ConnectProtocolVersion, Body            string
}

// recordRequests makes the fake record every request it receives, body included.
func recordRequests(fake *frontierfake.Server) func() []sentRequest {
	var mu sync.Mutex
	var got []sentRequest
	fake.OnRequest(func(_ string, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(b)) // the handler reads it again
		mu.Lock()
		defer mu.Unlock()
		got = append(got, sentRequest{
			Method: r.Method, EscapedPath: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
			Authorization: r.Header.Get("Authorization"), Accept: r.Header.Get("Accept"),
			ContentType: r.Header.Get("Content-Type"), ConnectProtocolVersion: r.Header.Get("Connect-Protocol-Version"),
			Body: string(b),
		})
	})
	return func() []sentRequest {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}

func TestRESTRequests(t *testing.T) {
	const slashed = "acme/eu west"
	ctx := context.Background()
	tests := []struct {
		name string
		opts Options
		call func(c *Client) error
		want sentRequest
	}{
		{
			name: "list invitations without a user filter sends no query",
			call: func(c *Client) error { _, err := c.ListOrganizationInvitations(ctx, testOrg, ""); return err },
			want: sentRequest{Method: "GET", EscapedPath: "/v1beta1/organizations/" + testOrg + "/invitations",
				Authorization: bearer, Accept: "application/json"},
		},
		{
			name: "list invitations sends user_id escaped and client credentials as basic",
			opts: Options{ClientID: testClientID, ClientSecret: testSecret},
			call: func(c *Client) error {
				_, err := c.ListOrganizationInvitations(ctx, testOrg, "Ada+1@Example.com")
				return err
			},
			want: sentRequest{Method: "GET", EscapedPath: "/v1beta1/organizations/" + testOrg + "/invitations",
				RawQuery: "user_id=Ada%2B1%40Example.com", Authorization: basic, Accept: "application/json"},
		},
		{
			name: "list invitations escapes the organization id",
			call: func(c *Client) error { _, err := c.ListOrganizationInvitations(ctx, slashed, ""); return err },
			want: sentRequest{Method: "GET", EscapedPath: "/v1beta1/organizations/acme%2Feu%20west/invitations",
				Authorization: bearer, Accept: "application/json"},
		},
		{
			name: "get organization escapes the organization id",
			call: func(c *Client) error { _, err := c.GetOrganization(ctx, slashed); return err },
			want: sentRequest{Method: "GET", EscapedPath: "/v1beta1/organizations/acme%2Feu%20west",
				Authorization: bearer, Accept: "application/json"},
		},
		{
			name: "list roles",
			call: func(c *Client) error { _, err := c.ListRoles(ctx); return err },
			want: sentRequest{Method: "GET", EscapedPath: "/v1beta1/roles", Authorization: bearer, Accept: "application/json"},
		},
		{
			name: "list organization roles",
			call: func(c *Client) error { _, err := c.ListOrganizationRoles(ctx, slashed); return err },
			want: sentRequest{Method: "GET", EscapedPath: "/v1beta1/organizations/acme%2Feu%20west/roles",
				Authorization: bearer, Accept: "application/json"},
		},
		{
			name: "list organization groups",
			opts: Options{ClientID: testClientID, ClientSecret: testSecret},
			call: func(c *Client) error { _, err := c.ListOrganizationGroups(ctx, testOrg); return err },
			want: sentRequest{Method: "GET", EscapedPath: "/v1beta1/organizations/" + testOrg + "/groups",
				Authorization: basic, Accept: "application/json"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, c := newFake(t, tt.opts)
			fake.AddOrganization(slashed, "eu-west", "EU West")
			sent := recordRequests(fake)
			if err := tt.call(c); err != nil {
				t.Fatal(err)
			}
			if got, want := sent(), []sentRequest{tt.want}; !reflect.DeepEqual(got, want) {
				t.Errorf("requests:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestConnectRequests(t *testing.T) {
	const slashed = "acme/eu west"
	ctx := context.Background()
	call := func(method, auth, body string) sentRequest {
		return sentRequest{Method: "POST", EscapedPath: "/raystack.frontier.v1beta1.FrontierService/" + method,
			Authorization: auth, Accept: "application/json", ContentType: "application/json",
			ConnectProtocolVersion: "1", Body: body}
	}
	tests := []struct {
		name    string
		opts    Options
		call    func(c *Client) error
		want    sentRequest
		wantErr error // nil for success
	}{
		{
			name: "list invitations without a user filter omits user_id",
			call: func(c *Client) error { _, err := c.ListOrganizationInvitations(ctx, testOrg, ""); return err },
			want: call("ListOrganizationInvitations", bearer, `{"org_id":"`+testOrg+`"}`),
		},
		{
			name: "list invitations sends user_id as given and client credentials as basic",
			opts: Options{ClientID: testClientID, ClientSecret: testSecret},
			call: func(c *Client) error {
				_, err := c.ListOrganizationInvitations(ctx, testOrg, "Ada+1@Example.com")
				return err
			},
			want: call("ListOrganizationInvitations", basic, `{"org_id":"`+testOrg+`","user_id":"Ada+1@Example.com"}`),
		},
		{
			// Frontier's proto rules refuse it (FACTS.md 3.2), but only once it has been sent.
			name:    "list invitations sends the organization id unescaped in the body",
			call:    func(c *Client) error { _, err := c.ListOrganizationInvitations(ctx, slashed, ""); return err },
			want:    call("ListOrganizationInvitations", bearer, `{"org_id":"acme/eu west"}`),
			wantErr: upstream.ErrInvalidArgument,
		},
		{
			name: "get organization sends id",
			call: func(c *Client) error { _, err := c.GetOrganization(ctx, slashed); return err },
			want: call("GetOrganization", bearer, `{"id":"acme/eu west"}`),
		},
		{
			name: "list roles sends an empty message",
			call: func(c *Client) error { _, err := c.ListRoles(ctx); return err },
			want: call("ListRoles", bearer, `{}`),
		},
		{
			name:    "list organization roles sends org_id",
			call:    func(c *Client) error { _, err := c.ListOrganizationRoles(ctx, slashed); return err },
			want:    call("ListOrganizationRoles", bearer, `{"org_id":"acme/eu west"}`),
			wantErr: upstream.ErrInvalidArgument,
		},
		{
			name: "list organization groups sends org_id",
			opts: Options{ClientID: testClientID, ClientSecret: testSecret},
			call: func(c *Client) error { _, err := c.ListOrganizationGroups(ctx, testOrg); return err },
			want: call("ListOrganizationGroups", basic, `{"org_id":"`+testOrg+`"}`),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Protocol = ProtocolConnect
			fake, c := newFake(t, tt.opts)
			fake.AddOrganization(slashed, "eu-west", "EU West")
			sent := recordRequests(fake)
			if err := tt.call(c); !errors.Is(err, tt.wantErr) || (err != nil && tt.wantErr == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got, want := sent(), []sentRequest{tt.want}; !reflect.DeepEqual(got, want) {
				t.Errorf("requests:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestInvalidOrganizationID(t *testing.T) {
	forEachProtocol(t, testInvalidOrganizationID)
}

func testInvalidOrganizationID(t *testing.T, protocol string) {
	fake, c := newFake(t, Options{Protocol: protocol})
	ctx := context.Background()
	calls := map[string]func(org string) error{
		"ListOrganizationInvitations": func(org string) error {
			_, err := c.ListOrganizationInvitations(ctx, org, "")
			return err
		},
		"GetOrganization":        func(org string) error { _, err := c.GetOrganization(ctx, org); return err },
		"ListOrganizationRoles":  func(org string) error { _, err := c.ListOrganizationRoles(ctx, org); return err },
		"ListOrganizationGroups": func(org string) error { _, err := c.ListOrganizationGroups(ctx, org); return err },
	}
	for op, call := range calls {
		for _, id := range []string{"", ".", ".."} {
			err := call(id)
			var ue *upstream.Error
			if !errors.As(err, &ue) || !errors.Is(err, upstream.ErrInvalidArgument) || ue.Op != op {
				t.Errorf("%s(%q) err = %v, want invalid argument", op, id, err)
			}
		}
	}
	if n := fake.TotalCalls(); n != 0 {
		t.Errorf("calls = %d, want 0", n)
	}
}

func TestListOrganizationInvitations(t *testing.T) {
	forEachProtocol(t, testListOrganizationInvitations)
}

func testListOrganizationInvitations(t *testing.T, protocol string) {
	fake, c := newFake(t, Options{Protocol: protocol})
	fake.AddInvitation(testOrg, frontierfake.Invitation{
		ID: "4a0c3a4e-1d4f-4e0b-9f8a-0d6c2b9e7f11", UserID: "Ada.Lovelace@Example.COM",
		CreatedAt: created, ExpiresAt: expires,
		GroupIDs: []string{"c9c4f4e2-0000-4c1a-8f1a-2b9b9b9b9b9b"},
		RoleIDs:  []string{"d9c4f4e2-0000-4c1a-8f1a-000000000001", "d9c4f4e2-0000-4c1a-8f1a-000000000002"},
		Metadata: map[string]any{"invited_by": "bob@example.com", "attempt": 2},
	})
	fake.AddInvitation(testOrg, frontierfake.Invitation{ID: "77e5d8a2-5b4c-4f3e-8d2a-1c0b9a8f7e6d", UserID: "bob@example.com"})
	fake.AddOrganization("0d5e7f6a-1111-4222-8333-944455556666", "empty-org", "")

	first := Invitation{
		ID: "4a0c3a4e-1d4f-4e0b-9f8a-0d6c2b9e7f11", UserID: "ada.lovelace@example.com", OrgID: testOrg,
		GroupIDs: []string{"c9c4f4e2-0000-4c1a-8f1a-2b9b9b9b9b9b"},
		Metadata: map[string]any{
			"invited_by": "bob@example.com", "attempt": float64(2),
			"group_ids": []any{"c9c4f4e2-0000-4c1a-8f1a-2b9b9b9b9b9b"},
			"role_ids":  []any{"d9c4f4e2-0000-4c1a-8f1a-000000000001", "d9c4f4e2-0000-4c1a-8f1a-000000000002"},
		},
		CreatedAt: created, ExpiresAt: expires,
		RoleIDs: []string{"d9c4f4e2-0000-4c1a-8f1a-000000000001", "d9c4f4e2-0000-4c1a-8f1a-000000000002"},
	}
	second := Invitation{
		ID: "77e5d8a2-5b4c-4f3e-8d2a-1c0b9a8f7e6d", UserID: "bob@example.com", OrgID: testOrg,
		GroupIDs: []string{}, Metadata: map[string]any{"group_ids": nil, "role_ids": nil},
		CreatedAt: seeded, ExpiresAt: seeded.Add(7 * 24 * time.Hour), RoleIDs: []string{},
	}
	tests := []struct {
		name   string
		org    string
		userID string
		want   []Invitation
	}{
		{"every invitation in order", testOrg, "", []Invitation{first, second}},
		{"user filter matches lower-cased", testOrg, "ADA.lovelace@example.com", []Invitation{first}},
		{"organization by name", "acme-corp", "bob@example.com", []Invitation{second}},
		{"no match is an empty list", testOrg, "nobody@example.com", []Invitation{}},
		{"empty organization is an empty list", "empty-org", "", []Invitation{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.ListOrganizationInvitations(context.Background(), tt.org, tt.userID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("invitations:\n got %s\nwant %s", dump(got), dump(tt.want))
			}
		})
	}
}

func dump(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestDecodeTolerance(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []Invitation
	}{
		{
			// Verbatim from the published "List pending invitations" page.
			name: "documented example with strings for the id lists",
			body: `{
"invitations": [
{
"id": "k9c4f4e2-9b9a-4c1a-8f1a-2b9b9b9b9b9b",
"user_id": "john.doe@raystack.org",
"org_id": "b9c4f4e2-9b9a-4c1a-8f1a-2b9b9b9b9b9b",
"group_ids": "c9c4f4e2-9b9a-4c1a-8f1a-2b9b9b9b9b9b",
"metadata": {
"key": "value"
},
"created_at": "2023-06-07T05:39:56.961Z",
"expires_at": "2023-06-07T05:39:56.961Z",
"role_ids": "d9c4f4e2-9b9a-4c1a-8f1a-2b9b9b9b9b9b"
}
]
}`,
			want: []Invitation{{
				ID: "k9c4f4e2-9b9a-4c1a-8f1a-2b9b9b9b9b9b", UserID: "john.doe@raystack.org", OrgID: testOrg,
				GroupIDs: []string{"c9c4f4e2-9b9a-4c1a-8f1a-2b9b9b9b9b9b"}, Metadata: map[string]any{"key": "value"},
				CreatedAt: created, ExpiresAt: created, RoleIDs: []string{"d9c4f4e2-9b9a-4c1a-8f1a-2b9b9b9b9b9b"},
			}},
		},
		{
			name: "null, empty string and missing fields decode to zero values",
			body: `{"invitations":[{"id":"x","group_ids":null,"role_ids":"","metadata":null,"created_at":null,"new_field":{"a":1}}]}`,
			want: []Invitation{{ID: "x"}},
		},
		{
			name: "empty arrays stay empty arrays",
			body: `{"invitations":[{"id":"x","group_ids":[],"role_ids":[ ]}]}`,
			want: []Invitation{{ID: "x", GroupIDs: []string{}, RoleIDs: []string{}}},
		},
		{
			// ConnectRPC-style output omits empty fields altogether.
			name: "an empty object is no invitations",
			body: `{}`,
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			c, err := NewClient(Options{BaseURL: srv.URL, Timeout: testTimeout, Token: testToken})
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.ListOrganizationInvitations(context.Background(), testOrg, "")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %s\nwant %s", dump(got), dump(tt.want))
			}
		})
	}
}

func TestGetOrganization(t *testing.T) {
	forEachProtocol(t, testGetOrganization)
}

func testGetOrganization(t *testing.T, protocol string) {
	_, c := newFake(t, Options{Protocol: protocol})
	want := &Organization{
		ID: testOrg, Name: "acme-corp", Title: "Acme Corp", Metadata: map[string]any{},
		CreatedAt: seeded, UpdatedAt: seeded, State: "enabled",
	}
	for _, ref := range []string{testOrg, "acme-corp"} {
		got, err := c.GetOrganization(context.Background(), ref)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("GetOrganization(%q) = %+v, want %+v", ref, got, want)
		}
	}
}

func TestListRoles(t *testing.T) {
	forEachProtocol(t, testListRoles)
}

func testListRoles(t *testing.T, protocol string) {
	fake, c := newFake(t, Options{Protocol: protocol})
	roleTime := time.Date(2023, 1, 1, 0, 0, 0, 123_456_000, time.UTC)
	fake.AddPlatformRole(frontierfake.Role{
		ID: "r-viewer", Name: "app_organization_viewer", Title: "Member",
		Permissions: []string{"app_organization_get"}, Scopes: []string{"app/organization"},
		Metadata: map[string]any{"description": "org member"}, CreatedAt: roleTime, UpdatedAt: roleTime,
	})
	fake.AddPlatformRole(frontierfake.Role{ID: "r-owner", Name: "app_organization_owner", Title: "Owner"})
	fake.AddOrganizationRole(testOrg, frontierfake.Role{ID: "r-custom", Name: "billing_reader", Title: "Billing Reader"})

	platform := []Role{
		{
			ID: "r-viewer", Name: "app_organization_viewer", Permissions: []string{"app_organization_get"},
			Title: "Member", Metadata: map[string]any{"description": "org member"}, CreatedAt: roleTime,
			UpdatedAt: roleTime, OrgID: PlatformOrgID, State: "enabled", Scopes: []string{"app/organization"},
		},
		{
			ID: "r-owner", Name: "app_organization_owner", Permissions: []string{}, Title: "Owner",
			Metadata: map[string]any{}, CreatedAt: seeded, UpdatedAt: seeded, OrgID: PlatformOrgID,
			State: "enabled", Scopes: []string{},
		},
	}
	custom := []Role{{
		ID: "r-custom", Name: "billing_reader", Permissions: []string{}, Title: "Billing Reader",
		Metadata: map[string]any{}, CreatedAt: seeded, UpdatedAt: seeded, OrgID: testOrg,
		State: "enabled", Scopes: []string{},
	}}
	got, err := c.ListRoles(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, platform) {
		t.Errorf("platform roles:\n got %s\nwant %s", dump(got), dump(platform))
	}
	got, err = c.ListOrganizationRoles(context.Background(), testOrg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, custom) {
		t.Errorf("organization roles:\n got %s\nwant %s", dump(got), dump(custom))
	}
}

func TestListOrganizationGroups(t *testing.T) {
	forEachProtocol(t, testListOrganizationGroups)
}

func testListOrganizationGroups(t *testing.T, protocol string) {
	fake, c := newFake(t, Options{Protocol: protocol})
	fake.AddGroup(testOrg, frontierfake.Group{ID: "g1", Name: "data-eng", Title: "Data Engineering",
		Metadata: map[string]any{"team": "data"}})
	fake.AddGroup(testOrg, frontierfake.Group{ID: "g2", Name: "sre"})
	want := []Group{
		{ID: "g1", Name: "data-eng", Title: "Data Engineering", OrgID: testOrg, Metadata: map[string]any{"team": "data"},
			CreatedAt: seeded, UpdatedAt: seeded, Users: []User{}},
		{ID: "g2", Name: "sre", OrgID: testOrg, Metadata: map[string]any{},
			CreatedAt: seeded, UpdatedAt: seeded, Users: []User{}},
	}
	got, err := c.ListOrganizationGroups(context.Background(), testOrg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("groups:\n got %s\nwant %s", dump(got), dump(want))
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	list := func(c *Client, org string) error { _, err := c.ListOrganizationInvitations(ctx, org, ""); return err }
	get := func(c *Client, org string) error { _, err := c.GetOrganization(ctx, org); return err }
	roles := func(c *Client, _ string) error { _, err := c.ListRoles(ctx); return err }
	orgRoles := func(c *Client, org string) error { _, err := c.ListOrganizationRoles(ctx, org); return err }
	groups := func(c *Client, org string) error { _, err := c.ListOrganizationGroups(ctx, org); return err }
	// wire is what each protocol says: REST's code and message, then Connect's.
	type wire struct{ restCode, restMsg, connectCode, connectMsg string }
	notAuthenticated := wire{"16", "not authenticated", "unauthenticated", "not authenticated"}
	orgNotFound := wire{"5", "org doesn't exist", "not_found", "not found"}
	fail := func(route string, status int) func(f *frontierfake.Server) {
		return func(f *frontierfake.Server) { f.FailNext(route, 1, status) }
	}
	tests := []struct {
		name       string
		opts       Options
		org        string
		setup      func(f *frontierfake.Server)
		call       func(c *Client, org string) error
		op         string
		status     int
		kind       error
		wire       wire
		retryAfter time.Duration
	}{
		{name: "wrong token maps to unauthenticated", opts: Options{Token: "wrong"}, org: testOrg, call: list,
			op: "ListOrganizationInvitations", status: 401, kind: upstream.ErrUnauthenticated, wire: notAuthenticated},
		{name: "wrong client secret maps to unauthenticated", opts: Options{ClientID: testClientID, ClientSecret: "wrong"},
			call: roles, op: "ListRoles", status: 401, kind: upstream.ErrUnauthenticated, wire: notAuthenticated},
		{name: "unknown organization maps to not found", org: "nope", call: list,
			op: "ListOrganizationInvitations", status: 404, kind: upstream.ErrNotFound, wire: orgNotFound},
		{name: "unknown organization on get maps to not found", org: "nope", call: get,
			op: "GetOrganization", status: 404, kind: upstream.ErrNotFound, wire: orgNotFound},
		{name: "unknown organization on roles maps to not found", org: "nope", call: orgRoles,
			op: "ListOrganizationRoles", status: 404, kind: upstream.ErrNotFound, wire: orgNotFound},
		{name: "unknown organization on groups maps to not found", org: "nope", call: groups,
			op: "ListOrganizationGroups", status: 404, kind: upstream.ErrNotFound, wire: orgNotFound},
		{name: "429 maps to rate limited with retry after", org: testOrg, call: list,
			setup: fail("ListOrganizationInvitations", 429), op: "ListOrganizationInvitations", status: 429,
			kind: upstream.ErrRateLimited, wire: wire{"8", "resource exhausted", "resource_exhausted", "resource exhausted"},
			retryAfter: time.Second},
		{name: "503 maps to unavailable", org: testOrg, call: get, setup: fail("GetOrganization", 503),
			op: "GetOrganization", status: 503, kind: upstream.ErrUnavailable,
			wire: wire{"14", "unavailable", "unavailable", "unavailable"}},
		{name: "500 maps to unavailable", call: roles, setup: fail("ListRoles", 500),
			op: "ListRoles", status: 500, kind: upstream.ErrUnavailable,
			wire: wire{"13", "internal server error", "internal", "internal server error"}},
		{name: "501 maps to unavailable", call: roles, setup: fail("ListRoles", 501),
			op: "ListRoles", status: 501, kind: upstream.ErrUnavailable,
			wire: wire{"12", "unimplemented", "unimplemented", "unimplemented"}},
		{name: "403 maps to forbidden", org: testOrg, call: orgRoles, setup: fail("ListOrganizationRoles", 403),
			op: "ListOrganizationRoles", status: 403, kind: upstream.ErrForbidden,
			wire: wire{"7", "not authorized", "permission_denied", "not authorized"}},
		{name: "400 maps to invalid argument", org: testOrg, call: groups, setup: fail("ListOrganizationGroups", 400),
			op: "ListOrganizationGroups", status: 400, kind: upstream.ErrInvalidArgument,
			wire: wire{"3", "invalid argument", "invalid_argument", "invalid argument"}},
		{name: "409 maps to invalid argument", org: testOrg, call: groups, setup: fail("ListOrganizationGroups", 409),
			op: "ListOrganizationGroups", status: 409, kind: upstream.ErrInvalidArgument,
			wire: wire{"6", "already exists", "already_exists", "already exists"}},
		{name: "504 maps to timeout", org: testOrg, call: list, setup: fail("ListOrganizationInvitations", 504),
			op: "ListOrganizationInvitations", status: 504, kind: upstream.ErrTimeout,
			wire: wire{"4", "deadline exceeded", "deadline_exceeded", "deadline exceeded"}},
		{name: "slow answer maps to timeout", opts: Options{Timeout: 20 * time.Millisecond}, org: testOrg, call: list,
			setup: func(f *frontierfake.Server) { f.DelayNext("ListOrganizationInvitations", 1, time.Minute) },
			op:    "ListOrganizationInvitations", kind: upstream.ErrTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachProtocol(t, func(t *testing.T, protocol string) {
				opts := tt.opts
				opts.Protocol = protocol
				fake, c := newFake(t, opts)
				if tt.setup != nil {
					tt.setup(fake)
				}
				want := upstream.Error{Op: tt.op, Status: tt.status, Kind: tt.kind,
					Code: tt.wire.restCode, Message: tt.wire.restMsg}
				if protocol == ProtocolConnect {
					want.Code, want.Message = tt.wire.connectCode, tt.wire.connectMsg
				}
				checkError(t, tt.call(c, tt.org), want, tt.retryAfter)
			})
		})
	}
}

// TestConnectOrgErrors checks the kinds of the answers only Connect gives about an organization
// (FACTS.md 3.2): org_id breaking the proto rules is invalid_argument, an unknown organization
// UUID is refused by authorization before any lookup.
func TestConnectOrgErrors(t *testing.T) {
	ctx := context.Background()
	const unknownUUID = "00000000-1111-2222-3333-444444444444"
	const shortMsg = "validation error: org_id: value length must be at least 3 characters [string.min_len]"
	tests := []struct {
		name string
		call func(c *Client) error
		want upstream.Error
	}{
		{
			name: "org_id shorter than 3 characters maps to invalid argument",
			call: func(c *Client) error { _, err := c.ListOrganizationInvitations(ctx, "ab", ""); return err },
			want: upstream.Error{Op: "ListOrganizationInvitations", Status: 400, Code: "invalid_argument",
				Message: shortMsg, Kind: upstream.ErrInvalidArgument},
		},
		{
			name: "unknown organization UUID maps to forbidden",
			call: func(c *Client) error { _, err := c.ListOrganizationGroups(ctx, unknownUUID); return err },
			want: upstream.Error{Op: "ListOrganizationGroups", Status: 403, Code: "permission_denied",
				Message: "not authorized", Kind: upstream.ErrForbidden},
		},
		{
			name: "unknown organization UUID on get maps to forbidden",
			call: func(c *Client) error { _, err := c.GetOrganization(ctx, unknownUUID); return err },
			want: upstream.Error{Op: "GetOrganization", Status: 403, Code: "permission_denied",
				Message: "not authorized", Kind: upstream.ErrForbidden},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := newFake(t, Options{Protocol: ProtocolConnect})
			checkError(t, tt.call(c), tt.want, 0)
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
	if ue.Provider != "frontier" || ue.Op != want.Op || ue.Status != want.Status || ue.Code != want.Code ||
		ue.Message != want.Message || ue.RetryAfter != retryAfter {
		t.Errorf("error = %+v,\nwant op %q status %d code %q message %q retryAfter %v",
			ue, want.Op, want.Status, want.Code, want.Message, retryAfter)
	}
	if !strings.HasPrefix(err.Error(), "frontier: ") {
		t.Errorf("error string %q does not start with the package", err)
	}
	if strings.Contains(err.Error(), testToken) || strings.Contains(err.Error(), testSecret) {
		t.Errorf("error string leaks a credential: %q", err)
	}
}

func TestErrorsFromOtherBodies(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		want      upstream.Error
		wantCause bool
	}{
		{
			name: "malformed 200 body maps to bad response", status: 200, body: `{"invitations":[{"id":`,
			want: upstream.Error{Op: "ListOrganizationInvitations", Status: 200, Kind: upstream.ErrBadResponse}, wantCause: true,
		},
		{
			name: "number for an id list maps to bad response", status: 200, body: `{"invitations":[{"group_ids":5}]}`,
			want: upstream.Error{Op: "ListOrganizationInvitations", Status: 200, Kind: upstream.ErrBadResponse}, wantCause: true,
		},
		{
			name: "html error page keeps the status kind", status: 502, body: `<html>Bad Gateway</html>`,
			want: upstream.Error{Op: "ListOrganizationInvitations", Status: 502, Kind: upstream.ErrUnavailable},
		},
		{
			name: "connect error body keeps the status kind", status: 404, body: `{"code":"not_found","message":"not found"}`,
			want: upstream.Error{Op: "ListOrganizationInvitations", Status: 404, Kind: upstream.ErrNotFound},
		},
		{
			name: "empty 401 body keeps the status kind", status: 401,
			want: upstream.Error{Op: "ListOrganizationInvitations", Status: 401, Kind: upstream.ErrUnauthenticated},
		},
		{
			name: "rpc status with an unknown code keeps the status kind", status: 409,
			body: `{"code":6,"message":"already exists","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo"}]}`,
			want: upstream.Error{Op: "ListOrganizationInvitations", Status: 409, Code: "6", Message: "already exists",
				Kind: upstream.ErrInvalidArgument},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			c, err := NewClient(Options{BaseURL: srv.URL, Timeout: testTimeout, Token: testToken})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.ListOrganizationInvitations(context.Background(), testOrg, "")
			checkError(t, err, tt.want, 0)
			var ue *upstream.Error
			if errors.As(err, &ue) && (ue.Err != nil) != tt.wantCause {
				t.Errorf("cause = %v, want present %v", ue.Err, tt.wantCause)
			}
		})
	}
}

func TestDecodeRESTError(t *testing.T) {
	status := func(code int) string {
		return `{"code":` + strconv.Itoa(code) + `,"message":"m","details":[]}`
	}
	tests := []struct {
		name     string
		status   int
		body     string
		wantCode string
		wantMsg  string
		wantKind error
	}{
		{"16 is unauthenticated", 401, status(16), "16", "m", upstream.ErrUnauthenticated},
		{"7 is forbidden", 403, status(7), "7", "m", upstream.ErrForbidden},
		{"5 is not found", 404, status(5), "5", "m", upstream.ErrNotFound},
		{"3 is invalid argument", 400, status(3), "3", "m", upstream.ErrInvalidArgument},
		{"8 is rate limited", 429, status(8), "8", "m", upstream.ErrRateLimited},
		{"14 is unavailable", 503, status(14), "14", "m", upstream.ErrUnavailable},
		{"4 is timeout", 504, status(4), "4", "m", upstream.ErrTimeout},
		{"code wins over status", 500, status(16), "16", "m", upstream.ErrUnauthenticated},
		{"13 keeps the status kind", 500, status(13), "13", "m", upstream.ErrUnavailable},
		{"9 is invalid argument whatever the status", 500, status(9), "9", "m", upstream.ErrInvalidArgument},
		{"11 is invalid argument", 400, status(11), "11", "m", upstream.ErrInvalidArgument},
		{"6 keeps the status kind", 409, status(6), "6", "m", upstream.ErrInvalidArgument},
		{"a number outside the table keeps the status kind", 503, status(99), "99", "m", upstream.ErrUnavailable},
		{"missing code keeps the status kind", 404, `{"message":"m"}`, "", "", upstream.ErrNotFound},
		{"string code keeps the status kind", 401, `{"code":"unauthenticated","message":"m"}`, "", "", upstream.ErrUnauthenticated},
		{"not json keeps the status kind", 418, "nope", "", "", upstream.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &upstream.Error{Status: tt.status, Kind: upstream.KindForStatus(tt.status)}
			decodeRESTError(e, http.Header{}, []byte(tt.body))
			if e.Code != tt.wantCode || e.Message != tt.wantMsg || e.Kind != tt.wantKind {
				t.Errorf("got code %q message %q kind %v, want %q %q %v", e.Code, e.Message, e.Kind,
					tt.wantCode, tt.wantMsg, tt.wantKind)
			}
		})
	}
}

func TestDecodeConnectError(t *testing.T) {
	body := func(code string) string { return `{"code":"` + code + `","message":"m"}` }
	tests := []struct {
		name     string
		status   int
		body     string
		wantCode string
		wantMsg  string
		wantKind error
	}{
		{"unauthenticated", 401, body("unauthenticated"), "unauthenticated", "m", upstream.ErrUnauthenticated},
		{"permission_denied is forbidden", 403, body("permission_denied"), "permission_denied", "m", upstream.ErrForbidden},
		{"not_found", 404, body("not_found"), "not_found", "m", upstream.ErrNotFound},
		{"invalid_argument", 400, body("invalid_argument"), "invalid_argument", "m", upstream.ErrInvalidArgument},
		{"failed_precondition is invalid argument", 400, body("failed_precondition"), "failed_precondition", "m",
			upstream.ErrInvalidArgument},
		{"out_of_range is invalid argument", 400, body("out_of_range"), "out_of_range", "m", upstream.ErrInvalidArgument},
		{"resource_exhausted is rate limited", 429, body("resource_exhausted"), "resource_exhausted", "m",
			upstream.ErrRateLimited},
		{"unavailable", 503, body("unavailable"), "unavailable", "m", upstream.ErrUnavailable},
		{"deadline_exceeded is timeout", 504, body("deadline_exceeded"), "deadline_exceeded", "m", upstream.ErrTimeout},
		{"internal keeps the status kind", 500, body("internal"), "internal", "m", upstream.ErrUnavailable},
		{"unknown keeps the status kind", 500, body("unknown"), "unknown", "m", upstream.ErrUnavailable},
		{"data_loss keeps the status kind", 500, body("data_loss"), "data_loss", "m", upstream.ErrUnavailable},
		{"already_exists keeps the status kind", 409, body("already_exists"), "already_exists", "m",
			upstream.ErrInvalidArgument},
		{"unimplemented keeps the status kind", 501, body("unimplemented"), "unimplemented", "m", upstream.ErrUnavailable},
		{"code wins over status", 500, body("unauthenticated"), "unauthenticated", "m", upstream.ErrUnauthenticated},
		{"an unknown code is kept with the status kind", 418, body("teapot"), "teapot", "m", upstream.ErrInvalidArgument},
		{"details and no message", 404, `{"code":"not_found","details":[{"type":"google.rpc.ErrorInfo","value":"CgI"}]}`,
			"not_found", "", upstream.ErrNotFound},
		{"an empty object keeps the status kind", 503, `{}`, "", "", upstream.ErrUnavailable},
		{"null code keeps the status kind", 401, `{"code":null,"message":"m"}`, "", "", upstream.ErrUnauthenticated},
		{"rpc status keeps the status kind", 404, `{"code":5,"message":"m","details":[]}`, "", "", upstream.ErrNotFound},
		{"html keeps the status kind", 502, `<html>Bad Gateway</html>`, "", "", upstream.ErrUnavailable},
		{"empty body keeps the status kind", 403, ``, "", "", upstream.ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &upstream.Error{Status: tt.status, Kind: upstream.KindForStatus(tt.status)}
			decodeConnectError(e, http.Header{}, []byte(tt.body))
			if e.Code != tt.wantCode || e.Message != tt.wantMsg || e.Kind != tt.wantKind {
				t.Errorf("got code %q message %q kind %v, want %q %q %v", e.Code, e.Message, e.Kind,
					tt.wantCode, tt.wantMsg, tt.wantKind)
			}
		})
	}
}

// connectServer serves body with status on every path and returns a Connect client for it.
func connectServer(t *testing.T, status int, contentType, body string) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	c, err := NewClient(Options{BaseURL: srv.URL, Timeout: testTimeout, Token: testToken, Protocol: ProtocolConnect})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConnectErrorBodies(t *testing.T) {
	const op = "ListOrganizationInvitations"
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		want        upstream.Error
		wantCause   bool
	}{
		{
			name: "connect error", status: 404, contentType: "application/json",
			body: `{"code":"not_found","message":"not found"}`,
			want: upstream.Error{Op: op, Status: 404, Code: "not_found", Message: "not found", Kind: upstream.ErrNotFound},
		},
		{
			name: "a proxy's html 502 keeps the status kind", status: 502, contentType: "text/html",
			body: `<html><body>502 Bad Gateway</body></html>`,
			want: upstream.Error{Op: op, Status: 502, Kind: upstream.ErrUnavailable},
		},
		{
			name: "net/http's plain 404 keeps the status kind", status: 404, contentType: "text/plain; charset=utf-8",
			body: "404 page not found\n",
			want: upstream.Error{Op: op, Status: 404, Kind: upstream.ErrNotFound},
		},
		{
			name: "a rest error body keeps the status kind", status: 401, contentType: "application/json",
			body: `{"code":16,"message":"not authenticated","details":[]}`,
			want: upstream.Error{Op: op, Status: 401, Kind: upstream.ErrUnauthenticated},
		},
		{
			name: "an unknown code keeps the status kind", status: 500, contentType: "application/json",
			body: `{"code":"exploded","message":"boom"}`,
			want: upstream.Error{Op: op, Status: 500, Code: "exploded", Message: "boom", Kind: upstream.ErrUnavailable},
		},
		{
			name: "malformed 200 body maps to bad response", status: 200, contentType: "application/json",
			body: `{"invitations":[{"id":`,
			want: upstream.Error{Op: op, Status: 200, Kind: upstream.ErrBadResponse}, wantCause: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := connectServer(t, tt.status, tt.contentType, tt.body)
			_, err := c.ListOrganizationInvitations(context.Background(), testOrg, "")
			checkError(t, err, tt.want, 0)
			var ue *upstream.Error
			if errors.As(err, &ue) && (ue.Err != nil) != tt.wantCause {
				t.Errorf("cause = %v, want present %v", ue.Err, tt.wantCause)
			}
		})
	}
}

// TestConnectDecoding feeds the Connect client replies with omitted fields: every missing list
// must come back as an empty list, as the REST gateway's [] does, and the rest as zero values.
func TestConnectDecoding(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		body string
		call func(c *Client) (any, error)
		want any
	}{
		{
			name: "no invitations is {}", body: `{}`,
			call: func(c *Client) (any, error) { return c.ListOrganizationInvitations(ctx, testOrg, "") },
			want: []Invitation{},
		},
		{
			name: "an invitation without lists, metadata or expiry",
			body: `{"invitations":[{"id":"i1","user_id":"a@b.c","org_id":"o","created_at":"2023-06-07T05:39:56.961Z"}]}`,
			call: func(c *Client) (any, error) { return c.ListOrganizationInvitations(ctx, testOrg, "") },
			want: []Invitation{{ID: "i1", UserID: "a@b.c", OrgID: "o", GroupIDs: []string{}, RoleIDs: []string{},
				CreatedAt: created}},
		},
		{
			name: "unknown fields are ignored",
			body: `{"invitations":[{"id":"i1","group_ids":["g"],"role_ids":["r"],"new_field":{"a":1}}],"orgs":[]}`,
			call: func(c *Client) (any, error) { return c.ListOrganizationInvitations(ctx, testOrg, "") },
			want: []Invitation{{ID: "i1", GroupIDs: []string{"g"}, RoleIDs: []string{"r"}}},
		},
		{
			name: "an organization without a message is empty", body: `{}`,
			call: func(c *Client) (any, error) { return c.GetOrganization(ctx, testOrg) },
			want: &Organization{},
		},
		{
			name: "an organization without title, avatar or metadata",
			body: `{"organization":{"id":"o","name":"acme","state":"enabled"}}`,
			call: func(c *Client) (any, error) { return c.GetOrganization(ctx, testOrg) },
			want: &Organization{ID: "o", Name: "acme", State: "enabled"},
		},
		{
			name: "no platform roles is {}", body: `{}`,
			call: func(c *Client) (any, error) { return c.ListRoles(ctx) },
			want: []Role{},
		},
		{
			name: "a role without permissions or scopes", body: `{"roles":[{"id":"r","name":"custom"}]}`,
			call: func(c *Client) (any, error) { return c.ListOrganizationRoles(ctx, testOrg) },
			want: []Role{{ID: "r", Name: "custom", Permissions: []string{}, Scopes: []string{}}},
		},
		{
			name: "no groups is {}", body: `{}`,
			call: func(c *Client) (any, error) { return c.ListOrganizationGroups(ctx, testOrg) },
			want: []Group{},
		},
		{
			name: "a group without users or count", body: `{"groups":[{"id":"g","name":"sre","metadata":{}}]}`,
			call: func(c *Client) (any, error) { return c.ListOrganizationGroups(ctx, testOrg) },
			want: []Group{{ID: "g", Name: "sre", Metadata: map[string]any{}, Users: []User{}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := connectServer(t, http.StatusOK, "application/json", tt.body)
			got, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %s (%#v)\nwant %s", dump(got), got, dump(tt.want))
			}
		})
	}
}

func TestCallCounts(t *testing.T) {
	forEachProtocol(t, testCallCounts)
}

func testCallCounts(t *testing.T, protocol string) {
	fake, c := newFake(t, Options{Protocol: protocol})
	ctx := context.Background()
	for range 2 {
		if _, err := c.ListOrganizationInvitations(ctx, testOrg, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.ListOrganizationInvitations(ctx, testOrg, "a@b.c"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetOrganization(ctx, testOrg); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetOrganization(ctx, "missing"); !errors.Is(err, upstream.ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
	if _, err := c.ListRoles(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListOrganizationRoles(ctx, testOrg); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListOrganizationGroups(ctx, testOrg); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want int
	}{
		{"ListOrganizationInvitations", fake.Calls("ListOrganizationInvitations"), 3},
		{"GetOrganization", fake.Calls("GetOrganization"), 2},
		{"ListRoles", fake.Calls("ListRoles"), 1},
		{"ListOrganizationRoles", fake.Calls("ListOrganizationRoles"), 1},
		{"ListOrganizationGroups", fake.Calls("ListOrganizationGroups"), 1},
		{"NotFound", fake.Calls("NotFound"), 0},
		{"total", fake.TotalCalls(), 8},
	}
	if protocol == ProtocolREST {
		checks = append(checks, []struct {
			name      string
			got, want int
		}{
			{"list path", fake.PathCalls("GET /v1beta1/organizations/" + testOrg + "/invitations"), 3},
			{"missing org path", fake.PathCalls("GET /v1beta1/organizations/missing"), 1},
		}...)
	} else {
		const service = "POST /raystack.frontier.v1beta1.FrontierService/"
		checks = append(checks, []struct {
			name      string
			got, want int
		}{
			{"list path", fake.PathCalls(service + "ListOrganizationInvitations"), 3},
			{"get path", fake.PathCalls(service + "GetOrganization"), 2},
		}...)
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s calls = %d, want %d", ch.name, ch.got, ch.want)
		}
	}
	if got := fake.LastAuthorization("ListOrganizationGroups"); got != bearer {
		t.Errorf("last authorization = %q", got)
	}
}
