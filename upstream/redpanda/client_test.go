package redpanda

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invitegw/invitegw/upstream"
	"github.com/invitegw/invitegw/upstream/redpanda/redpandafake"
)

const (
	testToken    = "rp-static-token-5f2c"
	testClientID = "svc-client-42"
	testSecret   = "svc-secret-DO-NOT-LEAK"
	testOrgID    = "cnl3b0f7a2gq9s8d1e0g"
	// testTimeout is what config gives every client by default; NewClient requires one.
	testTimeout = 5 * time.Second
	// publicURL and publicTokenURL are the production API and token endpoint (FACTS.md
	// section 1), config's defaults.
	publicURL      = "https://api.redpanda.com"
	publicTokenURL = "https://auth.prd.cloud.redpanda.com/oauth/token"
)

var (
	created = time.Date(2025, 5, 4, 9, 42, 0, 0, time.UTC)
	expires = time.Date(2025, 5, 11, 9, 42, 0, 0, time.UTC)
)

// newFake starts a fake (with fo) and a client for it (with o; Token defaults to testToken
// unless client credentials are given, TokenURL to the fake's, Timeout to testTimeout).
func newFake(t *testing.T, fo redpandafake.Options, o Options) (*redpandafake.Server, *Client, string) {
	t.Helper()
	if fo.Token == "" && fo.ClientID == "" {
		fo.Token = testToken
	}
	if fo.OrgID == "" {
		fo.OrgID = testOrgID
	}
	fake := redpandafake.New(fo)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	o.BaseURL = srv.URL
	if o.Token == "" && o.ClientID == "" {
		o.Token = testToken
	}
	if o.ClientID != "" && o.TokenURL == "" {
		o.TokenURL = srv.URL + "/oauth/token"
	}
	if o.Timeout == 0 {
		o.Timeout = testTimeout
	}
	c, err := NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	return fake, c, srv.URL
}

// newHandlerClient serves h and returns a client for it (Timeout defaults to testTimeout).
func newHandlerClient(t *testing.T, o Options, h http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	o.BaseURL, o.Token = srv.URL, testToken
	if o.Timeout == 0 {
		o.Timeout = testTimeout
	}
	c, err := NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewClient(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options
		wantErr  string
		wantBase string
	}{
		{name: "no credential is refused", opts: Options{BaseURL: publicURL, Timeout: testTimeout},
			wantErr: "redpanda: a token or both client id and client secret are required"},
		{name: "client id without secret is refused", opts: Options{BaseURL: publicURL, Timeout: testTimeout, ClientID: "id", TokenURL: publicTokenURL},
			wantErr: "redpanda: a token or both client id and client secret are required"},
		{name: "secret without client id is refused", opts: Options{BaseURL: publicURL, Timeout: testTimeout, ClientSecret: "s", TokenURL: publicTokenURL},
			wantErr: "redpanda: a token or both client id and client secret are required"},
		{name: "token and client credentials are refused",
			opts:    Options{BaseURL: publicURL, Timeout: testTimeout, Token: "t", ClientID: "id", ClientSecret: "s", TokenURL: publicTokenURL},
			wantErr: "redpanda: give either a token or client credentials, not both"},
		{name: "empty base url is refused, not defaulted", opts: Options{Timeout: testTimeout, Token: "t"},
			wantErr: "redpanda: base url is required"},
		{name: "relative base url is refused", opts: Options{BaseURL: "api.redpanda.com", Timeout: testTimeout, Token: "t"},
			wantErr: "redpanda: base url must be an absolute http(s) url without query"},
		{name: "zero timeout is refused, not defaulted", opts: Options{BaseURL: publicURL, Token: "t"},
			wantErr: "redpanda: timeout must be positive, got 0s"},
		{name: "negative timeout is refused", opts: Options{BaseURL: publicURL, Timeout: -time.Second, Token: "t"},
			wantErr: "redpanda: timeout must be positive, got -1s"},
		{name: "client credentials without a token url are refused, not defaulted",
			opts:    Options{BaseURL: publicURL, Timeout: testTimeout, ClientID: "id", ClientSecret: "s"},
			wantErr: "redpanda: token url is required with client credentials"},
		{name: "relative token url is refused",
			opts:    Options{BaseURL: publicURL, Timeout: testTimeout, ClientID: "id", ClientSecret: "s", TokenURL: "/oauth/token"},
			wantErr: "redpanda: token url must be an absolute http(s) url without query"},
		{name: "negative list budget is refused", opts: Options{BaseURL: publicURL, Timeout: testTimeout, Token: "t", MaxListBytes: -1},
			wantErr: "redpanda: max list bytes must not be negative"},
		{name: "a static token needs no token url", opts: Options{BaseURL: publicURL, Timeout: testTimeout, Token: "t"},
			wantBase: publicURL},
		{name: "client credentials with a token url are enough",
			opts:     Options{BaseURL: publicURL, Timeout: time.Second, ClientID: "id", ClientSecret: "s", TokenURL: publicTokenURL},
			wantBase: publicURL},
		{name: "trailing slash is trimmed", opts: Options{BaseURL: "http://127.0.0.1:9/", Timeout: testTimeout, Token: "t"},
			wantBase: "http://127.0.0.1:9"},
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
			if c.caller.HTTP == nil || c.caller.Timeout != tt.opts.Timeout || c.maxListBytes != DefaultMaxListBytes {
				t.Errorf("http %v, timeout %v, max pages %d; want a client, timeout %v and %d pages",
					c.caller.HTTP, c.caller.Timeout, c.maxListBytes, tt.opts.Timeout, DefaultMaxListBytes)
			}
		})
	}
}

func TestCredentialID(t *testing.T) {
	id := func(o Options) string {
		t.Helper()
		o.BaseURL, o.Timeout, o.TokenURL = publicURL, testTimeout, publicTokenURL
		c, err := NewClient(o)
		if err != nil {
			t.Fatal(err)
		}
		return c.CredentialID()
	}
	sum := sha256.Sum256([]byte("token\x00" + testToken))
	if got, want := id(Options{Token: testToken}), hex.EncodeToString(sum[:]); got != want {
		t.Errorf("token CredentialID = %q, want %q", got, want)
	}
	sum = sha256.Sum256([]byte("client_credentials\x00" + testClientID + "\x00" + testSecret))
	if got, want := id(Options{ClientID: testClientID, ClientSecret: testSecret}), hex.EncodeToString(sum[:]); got != want {
		t.Errorf("client credentials CredentialID = %q, want %q", got, want)
	}
	seen := map[string]string{}
	for name, o := range map[string]Options{
		"token":        {Token: testToken},
		"other token":  {Token: testToken + "x"},
		"client":       {ClientID: testClientID, ClientSecret: testSecret},
		"other secret": {ClientID: testClientID, ClientSecret: testSecret + "x"},
		"other client": {ClientID: testClientID + "x", ClientSecret: testSecret},
	} {
		got := id(o)
		if strings.Contains(got, testSecret) || strings.Contains(got, testToken) {
			t.Errorf("%s: credential id contains the credential", name)
		}
		if other, dup := seen[got]; dup {
			t.Errorf("%s and %s share a credential id", name, other)
		}
		seen[got] = name
	}
}

// pageLog records, per ListUserInvites request, the query sent and the next_page_token
// answered, by teeing the fake's responses.
type pageLog struct {
	mu      sync.Mutex
	queries []string
	nexts   []string
}

func (l *pageLog) wrap(h http.Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if r.URL.Path == "/v1/user-invites" {
			var page struct {
				NextPageToken string `json:"next_page_token"`
			}
			_ = json.Unmarshal(rec.Body.Bytes(), &page)
			l.mu.Lock()
			l.queries = append(l.queries, r.URL.RawQuery)
			l.nexts = append(l.nexts, page.NextPageToken)
			l.mu.Unlock()
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}
}

// seedInvites adds n invites, one minute apart, and returns them as the client decodes them.
func seedInvites(fake *redpandafake.Server, n int) []UserInvite {
	var want []UserInvite
	for i := range n {
		id := fmt.Sprintf("inv-%02d", i)
		c := created.Add(time.Duration(i) * time.Minute)
		fake.Add(redpandafake.Invite{
			ID: id, Email: id + "@example.com", InviteURL: "https://cloud.redpanda.com/invite/" + id,
			CreatedAt: c, ExpiresAt: c.Add(7 * 24 * time.Hour),
			RoleBindings: []redpandafake.RoleBinding{{RoleName: "Reader",
				ResourceType: "SCOPE_RESOURCE_TYPE_ORGANIZATION", ResourceID: testOrgID}},
		})
		want = append(want, UserInvite{
			ID: id, Email: id + "@example.com", InviteURL: "https://cloud.redpanda.com/invite/" + id,
			CreatedAt: c, ExpiresAt: c.Add(7 * 24 * time.Hour),
			RoleBindings: []RoleBinding{{RoleName: "Reader",
				Scope: &Scope{ResourceType: ResourceTypeOrganization, ResourceID: testOrgID}}},
		})
	}
	return want
}

func TestListUserInvitesFollowsPages(t *testing.T) {
	tests := []struct {
		name      string
		invites   int
		maxPage   int
		wantPages int
	}{
		{name: "empty list is one page", invites: 0, maxPage: 2, wantPages: 1},
		{name: "one short page", invites: 3, maxPage: 0, wantPages: 1},
		{name: "five invites in pages of two", invites: 5, maxPage: 2, wantPages: 3},
		{name: "exactly full pages end without an empty page", invites: 4, maxPage: 2, wantPages: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := redpandafake.New(redpandafake.Options{Token: testToken, OrgID: testOrgID, MaxPageSize: tt.maxPage})
			want := seedInvites(fake, tt.invites)
			var log pageLog
			srv := httptest.NewServer(log.wrap(fake))
			t.Cleanup(srv.Close)
			c, err := NewClient(Options{BaseURL: srv.URL, Timeout: testTimeout, Token: testToken})
			if err != nil {
				t.Fatal(err)
			}
			var auths []string
			var mu sync.Mutex
			fake.OnRequest(func(_ string, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				auths = append(auths, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
			})

			got, err := c.ListUserInvites(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("invites:\n got %+v\nwant %+v", got, want)
			}
			if n := fake.Calls("ListUserInvites"); n != tt.wantPages {
				t.Errorf("pages fetched = %d, want %d", n, tt.wantPages)
			}
			log.mu.Lock()
			defer log.mu.Unlock()
			wantQueries := []string{"page_size=100"}
			for _, next := range log.nexts[:len(log.nexts)-1] {
				if next == "" {
					t.Fatalf("empty token before the last page: %q", log.nexts)
				}
				wantQueries = append(wantQueries, "page_size=100&page_token="+url.QueryEscape(next))
			}
			if !reflect.DeepEqual(log.queries, wantQueries) {
				t.Errorf("queries:\n got %q\nwant %q", log.queries, wantQueries)
			}
			if last := log.nexts[len(log.nexts)-1]; last != "" {
				t.Errorf("last next_page_token = %q", last)
			}
			for _, a := range auths {
				if !strings.HasSuffix(a, " Bearer "+testToken) {
					t.Errorf("request without the bearer token: %q", a)
				}
			}
		})
	}
}

// countingTransport adds up the response body bytes of every call.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		c.n.Add(int64(len(b)))
		resp.Body = io.NopCloser(bytes.NewReader(b))
	}
	return resp, err
}

// TestListUserInvitesByteBudget: the walk is bounded by the bytes it reads, not by a count of
// pages: a budget of exactly the list's bytes reads it all, one byte less fails on the last
// page.
func TestListUserInvitesByteBudget(t *testing.T) {
	count := &countingTransport{}
	fake, c, _ := newFake(t, redpandafake.Options{MaxPageSize: 1}, Options{HTTP: &http.Client{Transport: count}})
	want := seedInvites(fake, 3)
	if got, err := c.ListUserInvites(context.Background()); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("default budget: %v, %v", got, err)
	}
	total := count.n.Load()
	tests := []struct {
		name      string
		budget    int64
		wantErr   bool
		wantCalls int
	}{
		{name: "a budget of the list's bytes reads it", budget: total, wantCalls: 3},
		{name: "one byte less fails on the last page", budget: total - 1, wantErr: true, wantCalls: 3},
		{name: "less than a page fails at once", budget: 1, wantErr: true, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, c, _ := newFake(t, redpandafake.Options{MaxPageSize: 1}, Options{MaxListBytes: tt.budget})
			want := seedInvites(fake, 3)
			got, err := c.ListUserInvites(context.Background())
			if fake.Calls("ListUserInvites") != tt.wantCalls {
				t.Errorf("calls = %d, want %d", fake.Calls("ListUserInvites"), tt.wantCalls)
			}
			if !tt.wantErr {
				if err != nil || !reflect.DeepEqual(got, want) {
					t.Fatalf("got %v, %v", got, err)
				}
				return
			}
			var ue *upstream.Error
			if !errors.Is(err, upstream.ErrBadResponse) || !errors.As(err, &ue) || got != nil {
				t.Fatalf("got %v, %v; want ErrBadResponse", got, err)
			}
			if ue.Op != "ListUserInvites" || ue.Provider != "redpanda" {
				t.Errorf("error = %+v", ue)
			}
		})
	}
}

func TestListUserInvitesRepeatedToken(t *testing.T) {
	tests := []struct {
		name      string
		next      []string // next_page_token of each successive page
		wantCalls int
	}{
		{name: "same token twice in a row", next: []string{"A", "A"}, wantCalls: 2},
		{name: "token cycle", next: []string{"A", "B", "A"}, wantCalls: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			calls := 0
			c := newHandlerClient(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				next := tt.next[calls%len(tt.next)]
				calls++
				mu.Unlock()
				fmt.Fprintf(w, `{"next_page_token":%q,"user_invites":[{"id":"x"}]}`, next)
			})
			got, err := c.ListUserInvites(context.Background())
			if !errors.Is(err, upstream.ErrBadResponse) || got != nil {
				t.Fatalf("got %v, %v; want ErrBadResponse", got, err)
			}
			if calls != tt.wantCalls {
				t.Errorf("calls = %d, want %d", calls, tt.wantCalls)
			}
		})
	}
}

// The walk reads a page's next_page_token before decoding its invites (see ListUserInvites):
// a page whose invites do not decode must still fail the whole list, whichever page it is.
func TestListUserInvitesBadPage(t *testing.T) {
	good := `{"id":"ok","email":"a@example.com"}`
	bad := `{"id":"bad","email":5}` // a number where a string belongs
	tests := []struct {
		name      string
		pages     []string // user_invites of each page; the last has no next_page_token
		wantCalls int
		wantErr   string
	}{
		{name: "first of three pages", pages: []string{bad, good, good}, wantCalls: 3, wantErr: "redpanda: ListUserInvites: bad response"},
		{name: "middle page", pages: []string{good, bad, good}, wantCalls: 3, wantErr: "redpanda: ListUserInvites: bad response"},
		{name: "last page", pages: []string{good, good, bad}, wantCalls: 3, wantErr: "redpanda: ListUserInvites: bad response"},
		{name: "page that is not JSON stops the walk", pages: []string{good, "{", good}, wantCalls: 2, wantErr: "redpanda: ListUserInvites: bad response"},
		{name: "all good", pages: []string{good, good, good}, wantCalls: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			calls := 0
			c := newHandlerClient(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				n := calls
				calls++
				mu.Unlock()
				next := ""
				if n < len(tt.pages)-1 {
					next = fmt.Sprintf("page-%d", n+1)
				}
				want := ""
				if n > 0 {
					want = fmt.Sprintf("page-%d", n)
				}
				if got := r.URL.Query().Get("page_token"); got != want {
					t.Errorf("call %d asked for page_token %q, want %q", n, got, want)
				}
				fmt.Fprintf(w, `{"user_invites":[%s],"next_page_token":%q}`, tt.pages[n], next)
			})
			got, err := c.ListUserInvites(context.Background())
			if calls != tt.wantCalls {
				t.Errorf("calls = %d, want %d", calls, tt.wantCalls)
			}
			if tt.wantErr == "" {
				if err != nil || len(got) != 3 || got[0].ID != "ok" || got[2].Email != "a@example.com" {
					t.Fatalf("got %+v, %v; want the 3 invites", got, err)
				}
				return
			}
			var ue *upstream.Error
			if !errors.As(err, &ue) || !errors.Is(err, upstream.ErrBadResponse) || got != nil {
				t.Fatalf("got %v, %v; want ErrBadResponse", got, err)
			}
			if ue.Status != http.StatusOK || !strings.HasPrefix(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "decode body") {
				t.Errorf("error = %q (status %d), want %q... decode body", err, ue.Status, tt.wantErr)
			}
		})
	}
}

// TestInvitePath checks that UpdateUserInvite escapes the invite ID into one path segment, and
// refuses without a call the IDs that would change the path. The reply decodes exactly, an
// unknown resource type and a dataplane ID included.
func TestInvitePath(t *testing.T) {
	fake, c, _ := newFake(t, redpandafake.Options{}, Options{})
	fake.Add(redpandafake.Invite{
		ID: "inv/1", Email: "ada@example.com", InviteURL: "https://cloud.redpanda.com/invite/abc?x=1&y=2",
		CreatedAt: created.Add(123 * time.Millisecond), ExpiresAt: created,
		RoleBindings: []redpandafake.RoleBinding{
			{RoleName: "Admin", ResourceType: "SCOPE_RESOURCE_TYPE_CLUSTER", ResourceID: "cl-1", DataplaneID: "d0dataplane000000000"},
			{RoleName: "Reader", ResourceType: "SCOPE_RESOURCE_TYPE_MCPSERVER", ResourceID: "mcp-1"},
			{RoleName: "Writer"},
		},
	})
	var gotPath string
	fake.OnRequest(func(_ string, r *http.Request) { gotPath = r.Method + " " + r.URL.EscapedPath() })
	upd := UserInviteUpdate{ExpiresAt: &expires}
	got, err := c.UpdateUserInvite(context.Background(), "inv/1", upd, []string{"expiresAt"})
	if err != nil {
		t.Fatal(err)
	}
	if gotPath != "PATCH /v1/user-invites/inv%2F1" {
		t.Errorf("request = %q", gotPath)
	}
	dp := "d0dataplane000000000"
	want := &UserInvite{
		ID: "inv/1", Email: "ada@example.com", InviteURL: "https://cloud.redpanda.com/invite/abc?x=1&y=2",
		CreatedAt: created.Add(123 * time.Millisecond), ExpiresAt: expires,
		RoleBindings: []RoleBinding{
			{RoleName: "Admin", Scope: &Scope{ResourceType: ResourceTypeCluster, ResourceID: "cl-1", DataplaneID: &dp}},
			{RoleName: "Reader", Scope: &Scope{ResourceType: "SCOPE_RESOURCE_TYPE_MCPSERVER", ResourceID: "mcp-1"}},
			{RoleName: "Writer"},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("invite:\n got %+v\nwant %+v", got, want)
	}

	t.Run("ids that would change the path are not found without a call", func(t *testing.T) {
		before := fake.TotalCalls()
		for _, id := range []string{"", ".", ".."} {
			if _, err := c.UpdateUserInvite(context.Background(), id, upd, []string{"expiresAt"}); !errors.Is(err, upstream.ErrNotFound) {
				t.Errorf("UpdateUserInvite(%q) err = %v", id, err)
			}
		}
		if fake.TotalCalls() != before {
			t.Errorf("%d calls made", fake.TotalCalls()-before)
		}
	})
}

func TestUpdateUserInvite(t *testing.T) {
	newExpiry := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	seed := redpandafake.Invite{
		ID: "inv-1", Email: "ada@example.com", InviteURL: "https://cloud.redpanda.com/invite/inv-1",
		CreatedAt: created, ExpiresAt: expires,
		RoleBindings: []redpandafake.RoleBinding{{RoleName: "Reader",
			ResourceType: "SCOPE_RESOURCE_TYPE_ORGANIZATION", ResourceID: testOrgID}},
	}
	readerOrg := []RoleBinding{{RoleName: "Reader", Scope: &Scope{ResourceType: ResourceTypeOrganization, ResourceID: testOrgID}}}
	writerCluster := []RoleBinding{{RoleName: "Writer", Scope: &Scope{ResourceType: ResourceTypeCluster, ResourceID: "cl-9"}}}

	tests := []struct {
		name       string
		upd        UserInviteUpdate
		mask       []string
		wantBody   string
		wantInvite UserInvite
		wantStored redpandafake.Invite
	}{
		{
			name: "both fields",
			upd:  UserInviteUpdate{ExpiresAt: &newExpiry, RoleBindings: writerCluster},
			mask: []string{"expiresAt", "roleBindings"},
			wantBody: `{"update_mask":"expiresAt,roleBindings","user_invite":{"expires_at":"2025-06-01T00:00:00Z",` +
				`"role_bindings":[{"role_name":"Writer","scope":{"resource_id":"cl-9","resource_type":"SCOPE_RESOURCE_TYPE_CLUSTER"}}]}}`,
			wantInvite: UserInvite{ID: "inv-1", Email: "ada@example.com", InviteURL: seed.InviteURL,
				CreatedAt: created, ExpiresAt: newExpiry, RoleBindings: writerCluster},
			wantStored: redpandafake.Invite{ID: "inv-1", Email: "ada@example.com", InviteURL: seed.InviteURL,
				CreatedAt: created, ExpiresAt: newExpiry, RoleBindings: []redpandafake.RoleBinding{
					{RoleName: "Writer", ResourceType: "SCOPE_RESOURCE_TYPE_CLUSTER", ResourceID: "cl-9"}}},
		},
		{
			name: "expiry only, given in another zone, leaves bindings alone",
			upd: UserInviteUpdate{
				ExpiresAt:    ptr(newExpiry.In(time.FixedZone("CEST", 2*3600))),
				RoleBindings: writerCluster, // not in the mask: ignored by Redpanda
			},
			mask: []string{"expiresAt"},
			wantBody: `{"update_mask":"expiresAt","user_invite":{"expires_at":"2025-06-01T00:00:00Z",` +
				`"role_bindings":[{"role_name":"Writer","scope":{"resource_id":"cl-9","resource_type":"SCOPE_RESOURCE_TYPE_CLUSTER"}}]}}`,
			wantInvite: UserInvite{ID: "inv-1", Email: "ada@example.com", InviteURL: seed.InviteURL,
				CreatedAt: created, ExpiresAt: newExpiry, RoleBindings: readerOrg},
			wantStored: redpandafake.Invite{ID: "inv-1", Email: "ada@example.com", InviteURL: seed.InviteURL,
				CreatedAt: created, ExpiresAt: newExpiry, RoleBindings: seed.RoleBindings},
		},
		{
			name:     "masked empty bindings clear them",
			upd:      UserInviteUpdate{},
			mask:     []string{"roleBindings"},
			wantBody: `{"update_mask":"roleBindings","user_invite":{}}`,
			wantInvite: UserInvite{ID: "inv-1", Email: "ada@example.com", InviteURL: seed.InviteURL,
				CreatedAt: created, ExpiresAt: expires, RoleBindings: []RoleBinding{}},
			wantStored: redpandafake.Invite{ID: "inv-1", Email: "ada@example.com", InviteURL: seed.InviteURL,
				CreatedAt: created, ExpiresAt: expires},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, c, _ := newFake(t, redpandafake.Options{}, Options{})
			fake.Add(seed)
			var req string
			fake.OnRequest(func(_ string, r *http.Request) {
				req = r.Method + " " + r.URL.Path + " " + r.Header.Get("Content-Type") + " " + r.Header.Get("Authorization")
			})
			got, err := c.UpdateUserInvite(context.Background(), "inv-1", tt.upd, tt.mask)
			if err != nil {
				t.Fatal(err)
			}
			if want := "PATCH /v1/user-invites/inv-1 application/json Bearer " + testToken; req != want {
				t.Errorf("request = %q, want %q", req, want)
			}
			if body := string(fake.LastPatch()); body != tt.wantBody {
				t.Errorf("body:\n got %s\nwant %s", body, tt.wantBody)
			}
			if !reflect.DeepEqual(*got, tt.wantInvite) {
				t.Errorf("reply:\n got %+v\nwant %+v", *got, tt.wantInvite)
			}
			if stored, _ := fake.Invite("inv-1"); !reflect.DeepEqual(stored, tt.wantStored) {
				t.Errorf("stored:\n got %+v\nwant %+v", stored, tt.wantStored)
			}
		})
	}

	t.Run("snake case mask is rejected by the fake as by protojson", func(t *testing.T) {
		fake, c, _ := newFake(t, redpandafake.Options{}, Options{})
		fake.Add(seed)
		_, err := c.UpdateUserInvite(context.Background(), "inv-1", UserInviteUpdate{ExpiresAt: &newExpiry}, []string{"expires_at"})
		var ue *upstream.Error
		if !errors.Is(err, upstream.ErrInvalidArgument) || !errors.As(err, &ue) || ue.Code != "INVALID_ARGUMENT" {
			t.Fatalf("err = %v, want INVALID_ARGUMENT", err)
		}
	})
	t.Run("unknown invite is not found", func(t *testing.T) {
		_, c, _ := newFake(t, redpandafake.Options{}, Options{})
		_, err := c.UpdateUserInvite(context.Background(), "gone", UserInviteUpdate{ExpiresAt: &newExpiry}, []string{"expiresAt"})
		if !errors.Is(err, upstream.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("a failed patch is not retried", func(t *testing.T) {
		fake, c, _ := newFake(t, redpandafake.Options{}, Options{})
		fake.Add(seed)
		fake.FailNext("UpdateUserInvite", 1, http.StatusServiceUnavailable)
		_, err := c.UpdateUserInvite(context.Background(), "inv-1", UserInviteUpdate{ExpiresAt: &newExpiry}, []string{"expiresAt"})
		if !errors.Is(err, upstream.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
		if n := fake.Calls("UpdateUserInvite"); n != 1 {
			t.Errorf("calls = %d, want 1", n)
		}
		if stored, _ := fake.Invite("inv-1"); !stored.ExpiresAt.Equal(expires) {
			t.Errorf("stored expiry changed to %v", stored.ExpiresAt)
		}
	})
}

func ptr[T any](v T) *T { return &v }

func TestGetCurrentOrganization(t *testing.T) {
	fake, c, _ := newFake(t, redpandafake.Options{OrgName: "Acme Streaming"}, Options{})
	var req string
	fake.OnRequest(func(_ string, r *http.Request) {
		req = r.Method + " " + r.URL.Path + " " + r.Header.Get("Authorization")
	})
	got, err := c.GetCurrentOrganization(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := (&Organization{ID: testOrgID, Name: "Acme Streaming"}); !reflect.DeepEqual(got, want) {
		t.Errorf("organization = %+v, want %+v", got, want)
	}
	if want := "GET /v1/organizations/current Bearer " + testToken; req != want {
		t.Errorf("request = %q, want %q", req, want)
	}
}

func TestClientCredentials(t *testing.T) {
	ccOpts := Options{ClientID: testClientID, ClientSecret: testSecret}
	ccFake := redpandafake.Options{ClientID: testClientID, ClientSecret: testSecret}

	t.Run("token is fetched once and reused", func(t *testing.T) {
		fake, c, _ := newFake(t, ccFake, ccOpts)
		seedInvites(fake, 3)
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make(chan error, 10)
		for range 10 {
			wg.Go(func() {
				_, err := c.ListUserInvites(ctx)
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if _, err := c.GetCurrentOrganization(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := c.UpdateUserInvite(ctx, "inv-00", UserInviteUpdate{ExpiresAt: &expires}, []string{"expiresAt"}); err != nil {
			t.Fatal(err)
		}
		if n := fake.TokensIssued(); n != 1 {
			t.Errorf("tokens issued = %d, want 1", n)
		}
		if n := fake.Calls("Token"); n != 1 {
			t.Errorf("token requests = %d, want 1", n)
		}
		want := url.Values{"grant_type": {"client_credentials"}, "client_id": {testClientID},
			"client_secret": {testSecret}, "audience": {DefaultAudience}}
		if got := fake.LastTokenForm(); !reflect.DeepEqual(got, want) {
			t.Errorf("token form = %v, want %v", got, want)
		}
		if auth := fake.LastAuthorization("UpdateUserInvite"); !strings.HasPrefix(auth, "Bearer rpfake_") {
			t.Errorf("Authorization = %q, want the issued token", auth)
		}
	})

	t.Run("bad client secret is unauthenticated", func(t *testing.T) {
		o := ccOpts
		o.ClientSecret = "wrong-" + testSecret
		fake, c, _ := newFake(t, ccFake, o)
		_, err := c.ListUserInvites(context.Background())
		var ue *upstream.Error
		if !errors.Is(err, upstream.ErrUnauthenticated) || !errors.As(err, &ue) {
			t.Fatalf("err = %v, want ErrUnauthenticated", err)
		}
		if ue.Status != 0 || ue.Op != "ListUserInvites" {
			t.Errorf("error = %+v", ue)
		}
		if want := `redpanda: ListUserInvites: unauthenticated: authorize: token endpoint answered HTTP 401 "access_denied"`; err.Error() != want {
			t.Errorf("error text = %q, want %q", err, want)
		}
		if strings.Contains(err.Error(), testSecret) {
			t.Error("error text contains the client secret")
		}
		if fake.Calls("ListUserInvites") != 0 || fake.TokensIssued() != 0 {
			t.Errorf("calls = %d, tokens = %d", fake.Calls("ListUserInvites"), fake.TokensIssued())
		}
	})

	t.Run("custom audience is sent", func(t *testing.T) {
		o := ccOpts
		o.Audience = "cloudv2-preprod.redpanda.cloud"
		fake, c, _ := newFake(t, ccFake, o)
		_, err := c.GetCurrentOrganization(context.Background())
		if !errors.Is(err, upstream.ErrUnauthenticated) {
			t.Fatalf("err = %v, want ErrUnauthenticated (the fake only knows production)", err)
		}
		if got := fake.LastTokenForm().Get("audience"); got != o.Audience {
			t.Errorf("audience = %q", got)
		}
	})

	t.Run("slow token endpoint times out the call and the token is kept", func(t *testing.T) {
		o := ccOpts
		o.Timeout = 20 * time.Millisecond
		fake, c, _ := newFake(t, ccFake, o)
		release := make(chan struct{})
		var once sync.Once
		unblock := func() { once.Do(func() { close(release) }) }
		t.Cleanup(unblock)
		fake.OnRequest(func(route string, _ *http.Request) {
			if route == "Token" {
				<-release
			}
		})
		_, err := c.GetCurrentOrganization(context.Background())
		if !errors.Is(err, upstream.ErrTimeout) {
			t.Fatalf("err = %v, want ErrTimeout", err)
		}
		// The abandoned fetch still holds the token source; the next call waits for it and
		// uses its token instead of asking again.
		unblock()
		c.caller.Timeout = testTimeout
		if _, err := c.GetCurrentOrganization(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := fake.TokensIssued(); n != 1 {
			t.Errorf("tokens issued = %d, want 1", n)
		}
	})
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		name       string
		opts       Options
		setup      func(fake *redpandafake.Server)
		handler    http.HandlerFunc // instead of the fake
		wantKind   error
		wantStatus int
		wantCode   string
		wantMsg    string
		wantReason string
		wantRetry  time.Duration
	}{
		{name: "401 wrong token", opts: Options{Token: "stale"}, wantKind: upstream.ErrUnauthenticated,
			wantStatus: 401, wantCode: "UNAUTHENTICATED", wantMsg: "Provided API token is invalid",
			wantReason: "REASON_TOKEN_INVALID"},
		{name: "403 permission denied", setup: func(f *redpandafake.Server) { f.FailNext("", 1, 403) },
			wantKind: upstream.ErrForbidden, wantStatus: 403, wantCode: "PERMISSION_DENIED",
			wantMsg: "injected failure: permission_denied"},
		{name: "404 not found", setup: func(f *redpandafake.Server) { f.FailNext("", 1, 404) },
			wantKind: upstream.ErrNotFound, wantStatus: 404, wantCode: "NOT_FOUND", wantMsg: "injected failure: not_found"},
		{name: "400 invalid argument", setup: func(f *redpandafake.Server) { f.FailNext("", 1, 400) },
			wantKind: upstream.ErrInvalidArgument, wantStatus: 400, wantCode: "INVALID_ARGUMENT",
			wantMsg: "injected failure: invalid_argument"},
		{name: "429 with retry-after", setup: func(f *redpandafake.Server) { f.FailNext("", 1, 429) },
			wantKind: upstream.ErrRateLimited, wantStatus: 429, wantCode: "RESOURCE_EXHAUSTED",
			wantMsg: "Rate limit exceeded. Reduce request rate.", wantReason: "REASON_RATE_LIMIT_EXCEEDED",
			wantRetry: time.Second},
		{name: "500 internal", setup: func(f *redpandafake.Server) { f.FailNext("", 1, 500) },
			wantKind: upstream.ErrUnavailable, wantStatus: 500, wantCode: "INTERNAL", wantMsg: "injected failure: internal"},
		{name: "503 unavailable", setup: func(f *redpandafake.Server) { f.FailNext("", 1, 503) },
			wantKind: upstream.ErrUnavailable, wantStatus: 503, wantCode: "UNAVAILABLE", wantMsg: "injected failure: unavailable"},
		{name: "504 deadline exceeded", setup: func(f *redpandafake.Server) { f.FailNext("", 1, 504) },
			wantKind: upstream.ErrTimeout, wantStatus: 504, wantCode: "DEADLINE_EXCEEDED",
			wantMsg: "injected failure: deadline_exceeded"},
		{name: "timeout", opts: Options{Timeout: 20 * time.Millisecond},
			setup:    func(f *redpandafake.Server) { f.DelayNext("", 1, time.Hour) },
			wantKind: upstream.ErrTimeout},
		{name: "malformed json body", handler: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"organization":`))
		}, wantKind: upstream.ErrBadResponse, wantStatus: 200},
		{name: "non-json error body keeps the status kind", handler: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("<html>bad gateway</html>"))
		}, wantKind: upstream.ErrUnavailable, wantStatus: 502},
		{name: "reply without organization", handler: func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{}`))
		}, wantKind: upstream.ErrBadResponse, wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c *Client
			if tt.handler != nil {
				c = newHandlerClient(t, tt.opts, tt.handler)
			} else {
				var fake *redpandafake.Server
				fake, c, _ = newFake(t, redpandafake.Options{}, tt.opts)
				if tt.setup != nil {
					tt.setup(fake)
				}
			}
			_, err := c.GetCurrentOrganization(context.Background())
			var ue *upstream.Error
			if !errors.As(err, &ue) {
				t.Fatalf("err = %v, want *upstream.Error", err)
			}
			if !errors.Is(err, tt.wantKind) {
				t.Errorf("kind = %v, want %v", ue.Kind, tt.wantKind)
			}
			if ue.Provider != "redpanda" || ue.Op != "GetCurrentOrganization" || ue.Status != tt.wantStatus ||
				ue.Code != tt.wantCode || ue.Message != tt.wantMsg || ue.RetryAfter != tt.wantRetry {
				t.Errorf("error = %+v", ue)
			}
			var info *ErrorInfo
			reason := ""
			if errors.As(err, &info) {
				reason = info.Reason
				if info.Domain != "redpanda.com/controlplane" {
					t.Errorf("domain = %q", info.Domain)
				}
			}
			if reason != tt.wantReason {
				t.Errorf("reason = %q, want %q", reason, tt.wantReason)
			}
		})
	}
}

func TestMissingTokenBody(t *testing.T) {
	// The fake's missing-token answer, as the client sees it: the documented example.
	fake := redpandafake.New(redpandafake.Options{Token: testToken})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	c := &Client{caller: upstream.Caller{Provider: provider, BaseURL: srv.URL, HTTP: srv.Client(), Timeout: testTimeout, DecodeErr: decodeError}, maxListBytes: DefaultMaxListBytes}
	_, err := c.ListUserInvites(context.Background())
	var ue *upstream.Error
	var info *ErrorInfo
	if !errors.Is(err, upstream.ErrUnauthenticated) || !errors.As(err, &ue) || !errors.As(err, &info) {
		t.Fatalf("err = %v", err)
	}
	if ue.Message != "Bearer token is not present" || info.Reason != ReasonNoToken {
		t.Errorf("message %q, reason %q", ue.Message, info.Reason)
	}
}

func TestDecodeError(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     http.Header
		body       string
		wantKind   error
		wantCode   string
		wantMsg    string
		wantReason string
		wantRetry  time.Duration
	}{
		{name: "prefixed detail type", status: 401,
			body:     `{"code":"UNAUTHENTICATED","message":"expired","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"REASON_TOKEN_EXPIRED","domain":"redpanda.com/controlplane"}]}`,
			wantKind: upstream.ErrUnauthenticated, wantCode: "UNAUTHENTICATED", wantMsg: "expired", wantReason: "REASON_TOKEN_EXPIRED"},
		{name: "numeric code is named", status: 404, body: `{"code":5,"message":"gone","details":[]}`,
			wantKind: upstream.ErrNotFound, wantCode: "NOT_FOUND", wantMsg: "gone"},
		{name: "code refines the status", status: 400, body: `{"code":"NOT_FOUND","message":"m"}`,
			wantKind: upstream.ErrNotFound, wantCode: "NOT_FOUND", wantMsg: "m"},
		{name: "failed precondition is invalid argument", status: 400, body: `{"code":"FAILED_PRECONDITION"}`,
			wantKind: upstream.ErrInvalidArgument, wantCode: "FAILED_PRECONDITION"},
		{name: "unlisted code keeps the status kind", status: 409, body: `{"code":"ALREADY_EXISTS"}`,
			wantKind: upstream.ErrInvalidArgument, wantCode: "ALREADY_EXISTS"},
		{name: "unknown code keeps the status kind", status: 503, body: `{"code":"SOMETHING_NEW"}`,
			wantKind: upstream.ErrUnavailable, wantCode: "SOMETHING_NEW"},
		{name: "reason refines when the code does not", status: 500,
			body:     `{"code":"UNKNOWN","details":[{"@type":"google.rpc.ErrorInfo","reason":"REASON_RATE_LIMIT_EXCEEDED"}]}`,
			wantKind: upstream.ErrRateLimited, wantCode: "UNKNOWN", wantReason: "REASON_RATE_LIMIT_EXCEEDED"},
		{name: "odd details are skipped", status: 404,
			body:     `{"code":"NOT_FOUND","message":"m","details":[7,{"@type":"google.rpc.Help","links":[]},{"@type":"google.rpc.ErrorInfo","reason":"R"}]}`,
			wantKind: upstream.ErrNotFound, wantCode: "NOT_FOUND", wantMsg: "m", wantReason: "R"},
		{name: "details that are not a list are ignored", status: 404, body: `{"code":"NOT_FOUND","details":{}}`,
			wantKind: upstream.ErrNotFound, wantCode: "NOT_FOUND"},
		{name: "empty body", status: 503, body: ``, wantKind: upstream.ErrUnavailable},
		{name: "json that is not an object", status: 500, body: `["x"]`, wantKind: upstream.ErrUnavailable},
		{name: "rate-limit header gives retry-after when nothing remains", status: 429,
			header: http.Header{"Ratelimit": {"limit=500, remaining=0, reset=7"}}, body: `{"code":"RESOURCE_EXHAUSTED"}`,
			wantKind: upstream.ErrRateLimited, wantCode: "RESOURCE_EXHAUSTED", wantRetry: 7 * time.Second},
		{name: "grpc-gateway rate-limit header", status: 429,
			header:   http.Header{"Grpc-Metadata-Ratelimit": {"limit=500, remaining=0, reset=3"}},
			wantKind: upstream.ErrRateLimited, wantRetry: 3 * time.Second},
		{name: "rate-limit header with requests left is no hint", status: 429,
			header:   http.Header{"Ratelimit": {"limit=500, remaining=4, reset=7"}},
			wantKind: upstream.ErrRateLimited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &upstream.Error{Provider: provider, Op: "Op", Status: tt.status, Kind: upstream.KindForStatus(tt.status)}
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			decodeError(e, h, []byte(tt.body))
			if e.Kind != tt.wantKind || e.Code != tt.wantCode || e.Message != tt.wantMsg || e.RetryAfter != tt.wantRetry {
				t.Errorf("error = %+v", e)
			}
			reason := ""
			var info *ErrorInfo
			if errors.As(e, &info) {
				reason = info.Reason
			}
			if reason != tt.wantReason {
				t.Errorf("reason = %q, want %q", reason, tt.wantReason)
			}
		})
	}
}

func TestUserInviteTimestamps(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		want    UserInvite
		wantErr bool
	}{
		{name: "missing timestamps are zero", json: `{"id":"a"}`, want: UserInvite{ID: "a"}},
		{name: "empty and null timestamps are zero", json: `{"id":"a","created_at":"","expires_at":null}`,
			want: UserInvite{ID: "a"}},
		{name: "fractional seconds", json: `{"created_at":"2025-05-04T09:42:00.123456789Z"}`,
			want: UserInvite{CreatedAt: created.Add(123456789)}},
		{name: "offset", json: `{"expires_at":"2025-05-11T11:42:00+02:00"}`,
			want: UserInvite{ExpiresAt: expires.In(time.FixedZone("", 2*3600))}},
		{name: "not a timestamp fails", json: `{"created_at":"yesterday"}`, wantErr: true},
		{name: "not a string fails", json: `{"created_at":12}`, wantErr: true},
		{name: "unknown fields are ignored", json: `{"id":"a","state":"NEW","role_bindings":[{"role_name":"Admin","scope":{"resource_type":"SCOPE_RESOURCE_TYPE_AIAGENT","resource_id":"x","future":1}}]}`,
			want: UserInvite{ID: "a", RoleBindings: []RoleBinding{{RoleName: "Admin",
				Scope: &Scope{ResourceType: "SCOPE_RESOURCE_TYPE_AIAGENT", ResourceID: "x"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got UserInvite
			err := upstream.Decode([]byte(tt.json), &got, decodeOptions)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("decoded %+v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestUserInviteJSONRoundTrip(t *testing.T) {
	in := UserInvite{ID: "a", Email: "e", CreatedAt: created, ExpiresAt: expires,
		RoleBindings: []RoleBinding{{RoleName: "Reader", Scope: &Scope{ResourceType: ResourceTypeNetwork, ResourceID: "n"}}}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out UserInvite
	if err := upstream.Decode(b, &out, decodeOptions); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip:\n got %+v\nwant %+v", out, in)
	}
	if !bytes.Contains(b, []byte(`"role_bindings":[{"role_name":"Reader","scope":{"resource_id":"n","resource_type":"SCOPE_RESOURCE_TYPE_NETWORK"}}]`)) {
		t.Errorf("json = %s", b)
	}
}
