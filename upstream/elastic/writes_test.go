package elastic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/invitegw/invitegw/upstream"
	"github.com/invitegw/invitegw/upstream/elastic/elasticfake"
	"github.com/invitegw/invitegw/upstream/upstreamtest"
)

// acme is the organization newFake seeds, as every invitation embeds it.
var acme = Organization{ID: testOrg, Name: "Acme Search", DefaultDiskUsageAlertsEnabled: true,
	NotificationsAllowedEmailDomains: []string{}, BillingContacts: []string{}, OperationalContacts: []string{}}

// at is tm as the client decodes Elastic's "+00:00" form of it (see mustParse).
func at(t *testing.T, tm time.Time) time.Time {
	t.Helper()
	return mustParse(t, tm.UTC().Format("2006-01-02T15:04:05")+"+00:00")
}

func TestCreateInvitations(t *testing.T) {
	roles := &RoleAssignments{Organization: []OrganizationRoleAssignment{{RoleID: "billing-admin", OrganizationID: testOrg}}}
	tests := []struct {
		name     string
		seed     []elasticfake.Invitation
		req      OrganizationInvitationRequest
		wantBody string
		want     []OrganizationInvitation // a zero Token is the fake's new one
	}{
		{
			name: "two emails with roles and a lifetime",
			req:  OrganizationInvitationRequest{Emails: []string{"ada@example.com", "bob@example.com"}, ExpiresIn: "7d", RoleAssignments: roles},
			wantBody: `{"emails":["ada@example.com","bob@example.com"],"expires_in":"7d",` +
				`"role_assignments":{"organization":[{"role_id":"billing-admin","organization_id":"1234567890"}]}}`,
			want: []OrganizationInvitation{
				{Email: "ada@example.com", CreatedAt: at(t, created), ExpiresAt: at(t, created.Add(7*24*time.Hour)), Organization: acme, RoleAssignments: roles},
				{Email: "bob@example.com", CreatedAt: at(t, created), ExpiresAt: at(t, created.Add(7*24*time.Hour)), Organization: acme, RoleAssignments: roles},
			},
		},
		{
			name:     "only emails: Elastic's defaults",
			req:      OrganizationInvitationRequest{Emails: []string{"ada@example.com"}},
			wantBody: `{"emails":["ada@example.com"]}`,
			want:     []OrganizationInvitation{{Email: "ada@example.com", CreatedAt: at(t, created), ExpiresAt: at(t, created.Add(72*time.Hour)), Organization: acme}},
		},
		{
			name: "an expired invitation is refreshed: the resend",
			seed: []elasticfake.Invitation{{Token: testToken, Email: "ada@example.com", CreatedAt: created.Add(-96 * time.Hour),
				ExpiresAt: created.Add(-24 * time.Hour), Expired: true}},
			req:      OrganizationInvitationRequest{Emails: []string{"ada@example.com"}, ExpiresIn: "24h"},
			wantBody: `{"emails":["ada@example.com"],"expires_in":"24h"}`,
			want: []OrganizationInvitation{{Token: testToken, Email: "ada@example.com", CreatedAt: at(t, created.Add(-96*time.Hour)),
				ExpiresAt: at(t, created.Add(24*time.Hour)), Organization: acme}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, c := newFake(t, Options{Policy: upstreamtest.RetryAtOnce()})
			for _, inv := range tt.seed {
				fake.AddInvitation(testOrg, inv)
			}
			got, err := c.CreateInvitations(context.Background(), testOrg, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			reqs := fake.Requests("CreateInvitations")
			if len(reqs) != 1 || reqs[0].Method != "POST" || reqs[0].Path != "/api/v1/organizations/"+testOrg+"/invitations" ||
				string(reqs[0].Body) != tt.wantBody {
				t.Fatalf("requests = %+v\nwant one POST with %s", reqs, tt.wantBody)
			}
			if auth := fake.LastAuthorization("CreateInvitations"); auth != "ApiKey "+testKey {
				t.Errorf("authorization = %q", auth)
			}
			want := tt.want
			for i := range want {
				if want[i].Token == "" && i < len(got) {
					want[i].Token = got[i].Token
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("invitations:\n got %s\nwant %s", dump(got), dump(want))
			}
			listed, err := c.ListInvitations(context.Background(), testOrg)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(listed, want) {
				t.Errorf("listed:\n got %s\nwant %s", dump(listed), dump(want))
			}
		})
	}
}

func TestCreateInvitationsErrors(t *testing.T) {
	tests := []struct {
		name   string
		org    string
		req    OrganizationInvitationRequest
		inject func(fake *elasticfake.Server)
		want   upstream.Error
		calls  int
		stored int // invitations the fake holds afterwards
	}{
		{name: "invalid email", req: OrganizationInvitationRequest{Emails: []string{"ada@example.com", "nope"}},
			want: upstream.Error{Op: "CreateInvitations", Kind: upstream.ErrInvalidArgument, Status: 400,
				Code: "organization.invitation_invalid_email", Message: "Invalid email address: nope"}, calls: 1},
		{name: "unknown organization", org: "7", req: OrganizationInvitationRequest{Emails: []string{"ada@example.com"}},
			want: upstream.Error{Op: "CreateInvitations", Kind: upstream.ErrNotFound, Status: 404,
				Code: "organization.not_found", Message: "Organization not found"}, calls: 1},
		{name: "no emails fails without a call",
			want: upstream.Error{Op: "CreateInvitations", Kind: upstream.ErrInvalidArgument}},
		{name: "503 is not retried", req: OrganizationInvitationRequest{Emails: []string{"ada@example.com"}},
			inject: func(f *elasticfake.Server) { f.FailNext("CreateInvitations", 1, 503) },
			want: upstream.Error{Op: "CreateInvitations", Kind: upstream.ErrUnavailable, Status: 503,
				Code: "root.unavailable", Message: "The service is temporarily unavailable"}, calls: 1},
		{name: "a lost reply is not retried", req: OrganizationInvitationRequest{Emails: []string{"ada@example.com"}},
			inject: func(f *elasticfake.Server) { f.DropReplyNext("CreateInvitations", 1) },
			want:   upstream.Error{Op: "CreateInvitations", Kind: upstream.ErrUnavailable}, calls: 1, stored: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, c := newFake(t, Options{Policy: upstreamtest.RetryAtOnce()})
			if tt.inject != nil {
				tt.inject(fake)
			}
			org := testOrg
			if tt.org != "" {
				org = tt.org
			}
			_, err := c.CreateInvitations(context.Background(), org, tt.req)
			checkError(t, err, tt.want, 0)
			if n := fake.Calls("CreateInvitations"); n != tt.calls {
				t.Errorf("calls = %d, want %d", n, tt.calls)
			}
			if n := len(fake.Invitations(testOrg)); n != tt.stored {
				t.Errorf("%d invitations stored, want %d", n, tt.stored)
			}
		})
	}
}

func TestDeleteInvitations(t *testing.T) {
	const other = "other/token+1"
	tests := []struct {
		name     string
		seeded   []string
		tokens   []Token
		inject   func(fake *elasticfake.Server)
		policy   *upstream.Policy
		wantPath string
		want     *upstream.Error // nil for success
		calls    int
		left     []string
	}{
		{name: "one token", seeded: []string{testToken, other}, tokens: []Token{testToken},
			wantPath: "/api/v1/organizations/" + testOrg + "/invitations/" + testToken, calls: 1, left: []string{other}},
		{name: "tokens comma-separated in one segment, each escaped", seeded: []string{testToken, other},
			tokens:   []Token{other, testToken},
			wantPath: "/api/v1/organizations/" + testOrg + "/invitations/other%2Ftoken+1," + testToken, calls: 1},
		{name: "unknown token is not found", seeded: []string{testToken}, tokens: []Token{testToken, "nope"},
			wantPath: "/api/v1/organizations/" + testOrg + "/invitations/" + testToken + ",nope",
			want: &upstream.Error{Op: "DeleteInvitations", Kind: upstream.ErrNotFound, Status: 404,
				Code: "organization.invitation_not_found", Message: "Invitation not found"}, calls: 1, left: []string{testToken}},
		{name: "503 is retried", seeded: []string{testToken}, tokens: []Token{testToken}, policy: upstreamtest.RetryAtOnce(),
			inject:   func(f *elasticfake.Server) { f.FailNext("DeleteInvitations", 1, 503) },
			wantPath: "/api/v1/organizations/" + testOrg + "/invitations/" + testToken, calls: 2},
		{name: "a lost reply, then invitation_not_found, is success", seeded: []string{testToken}, tokens: []Token{testToken},
			policy:   upstreamtest.RetryAtOnce(),
			inject:   func(f *elasticfake.Server) { f.DropReplyNext("DeleteInvitations", 1) },
			wantPath: "/api/v1/organizations/" + testOrg + "/invitations/" + testToken, calls: 2},
		{name: "503 then organization.not_found stays an error", tokens: []Token{testToken}, policy: upstreamtest.RetryAtOnce(),
			inject: func(f *elasticfake.Server) {
				f.FailNext("DeleteInvitations", 1, 503)
				f.FailNext("DeleteInvitations", 1, 404) // the injected 404 is organization.not_found
			},
			wantPath: "/api/v1/organizations/" + testOrg + "/invitations/" + testToken,
			want: &upstream.Error{Op: "DeleteInvitations", Kind: upstream.ErrNotFound, Status: 404,
				Code: "organization.not_found", Message: "Organization not found"}, calls: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, c := newFake(t, Options{Policy: tt.policy})
			for _, tok := range tt.seeded {
				fake.AddInvitation(testOrg, elasticfake.Invitation{Token: tok, Email: tok + "@example.com"})
			}
			if tt.inject != nil {
				tt.inject(fake)
			}
			err := c.DeleteInvitations(context.Background(), testOrg, tt.tokens)
			if tt.want != nil {
				checkError(t, err, *tt.want, 0)
			} else if err != nil {
				t.Fatal(err)
			}
			reqs := fake.Requests("DeleteInvitations")
			if len(reqs) != tt.calls {
				t.Fatalf("%d calls, want %d", len(reqs), tt.calls)
			}
			for _, r := range reqs {
				if r.Method != "DELETE" || r.Path != tt.wantPath || r.Body != nil {
					t.Errorf("request = %+v, want DELETE %s", r, tt.wantPath)
				}
			}
			var left []string
			for _, inv := range fake.Invitations(testOrg) {
				left = append(left, inv.Token)
			}
			if !reflect.DeepEqual(left, tt.left) {
				t.Errorf("left %q, want %q", left, tt.left)
			}
		})
	}
}

// TestDeleteInvitationsNeverShowsAToken fails DeleteInvitations every way it can fail and
// looks for the tokens, as sent and as escaped, in everything the error prints.
func TestDeleteInvitationsNeverShowsAToken(t *testing.T) {
	const secret = "s3cr3t/t0ken+x"
	tokens := []Token{testToken, secret}
	echo := func(status int, code string) http.HandlerFunc {
		// An upstream (or a proxy) that quotes the tokens it was sent, in its message and header.
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set(ErrorCodesHeader, code)
			w.WriteHeader(status)
			msg := fmt.Sprintf("invitations %s and %s not found at %s", testToken, secret, r.URL.EscapedPath())
			_ = json.NewEncoder(w).Encode(BasicFailedReply{Errors: []BasicFailedReplyElement{{Code: code, Message: msg, Fields: []string{secret}}}})
		}
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := []struct {
		name    string
		tokens  []Token
		policy  *upstream.Policy
		timeout time.Duration
		inject  func(fake *elasticfake.Server)
		handler http.HandlerFunc // instead of the fake
		base    string           // instead of either
		kind    error
	}{
		{name: "unknown tokens", kind: upstream.ErrNotFound},
		{name: "a message that quotes the tokens", handler: echo(404, "organization.invitation_not_found"), kind: upstream.ErrNotFound},
		{name: "a 400 that quotes them", handler: echo(400, "root.invalid_data"), kind: upstream.ErrInvalidArgument},
		{name: "a 503 that quotes them, retried", handler: echo(503, "root.unavailable"), policy: upstreamtest.RetryAtOnce(), kind: upstream.ErrUnavailable},
		{name: "injected 503", inject: func(f *elasticfake.Server) { f.FailNext("", 1, 503) }, kind: upstream.ErrUnavailable},
		{name: "a lost reply", inject: func(f *elasticfake.Server) { f.DropReplyNext("", 1) }, kind: upstream.ErrUnavailable},
		{name: "a timeout", timeout: 20 * time.Millisecond, inject: func(f *elasticfake.Server) { f.DelayNext("", 1, time.Hour) },
			kind: upstream.ErrTimeout},
		{name: "no server", base: closed.URL, kind: upstream.ErrUnavailable},
		{name: "a token with a comma", tokens: []Token{testToken, "a,b" + secret}, kind: upstream.ErrInvalidArgument},
		{name: "an empty token", tokens: []Token{secret, ""}, kind: upstream.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Options{APIKey: testKey, Timeout: testTimeout, Policy: tt.policy}
			if tt.timeout != 0 {
				o.Timeout = tt.timeout
			}
			var fake *elasticfake.Server
			switch {
			case tt.base != "":
				o.BaseURL = tt.base
			case tt.handler != nil:
				srv := httptest.NewServer(tt.handler)
				t.Cleanup(srv.Close)
				o.BaseURL = srv.URL
			default:
				fake = elasticfake.New(elasticfake.Options{APIKey: testKey})
				fake.AddOrganization(testOrg, "Acme")
				srv := httptest.NewServer(fake)
				t.Cleanup(srv.Close)
				o.BaseURL = srv.URL
				if tt.inject != nil {
					tt.inject(fake)
				}
			}
			c, err := NewClient(o)
			if err != nil {
				t.Fatal(err)
			}
			toks := tokens
			if tt.tokens != nil {
				toks = tt.tokens
			}
			err = c.DeleteInvitations(context.Background(), testOrg, toks)
			if !errors.Is(err, tt.kind) {
				t.Fatalf("err = %v, want %v", err, tt.kind)
			}
			for _, shown := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				for _, tok := range []string{testToken, secret, url.PathEscape(secret)} {
					if strings.Contains(shown, tok) {
						t.Errorf("the error shows a token:\n%s", shown)
					}
				}
			}
			var ue *upstream.Error
			if errors.As(err, &ue) && tt.handler != nil && ue.Message != "invitations [redacted] and [redacted] not found at /api/v1/organizations/"+testOrg+"/invitations/[redacted],[redacted]" {
				t.Errorf("message = %q", ue.Message)
			}
		})
	}
}
