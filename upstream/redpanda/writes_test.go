package redpanda

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/invitegw/invitegw/upstream"
	"github.com/invitegw/invitegw/upstream/redpanda/redpandafake"
	"github.com/invitegw/invitegw/upstream/upstreamtest"
)

func TestCreateUserInvite(t *testing.T) {
	now := time.Date(2025, 5, 4, 9, 42, 0, 0, time.UTC)
	writerCluster := []RoleBinding{{RoleName: "Writer", Scope: &Scope{ResourceType: ResourceTypeCluster, ResourceID: "cl-9"}}}
	tests := []struct {
		name     string
		create   UserInviteCreate
		wantBody string
		want     UserInvite // ID and InviteURL are the fake's
	}{
		{
			name:   "email and a binding",
			create: UserInviteCreate{Email: "ada@example.com", RoleBindings: writerCluster},
			wantBody: `{"user_invite":{"email":"ada@example.com","role_bindings":[{"role_name":"Writer",` +
				`"scope":{"resource_id":"cl-9","resource_type":"SCOPE_RESOURCE_TYPE_CLUSTER"}}]}}`,
			want: UserInvite{Email: "ada@example.com", CreatedAt: now, ExpiresAt: now.Add(redpandafake.InviteTTL),
				RoleBindings: writerCluster},
		},
		{
			name:     "no bindings are sent as an empty list",
			create:   UserInviteCreate{Email: "grace@example.com"},
			wantBody: `{"user_invite":{"email":"grace@example.com","role_bindings":[]}}`,
			want: UserInvite{Email: "grace@example.com", CreatedAt: now, ExpiresAt: now.Add(redpandafake.InviteTTL),
				RoleBindings: []RoleBinding{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, c, _ := newFake(t, redpandafake.Options{Now: func() time.Time { return now }}, Options{})
			got, err := c.CreateUserInvite(context.Background(), tt.create)
			if err != nil {
				t.Fatal(err)
			}
			reqs := fake.Requests("CreateUserInvite")
			if len(reqs) != 1 || reqs[0].Method != "POST" || reqs[0].Path != "/v1/user-invites" || string(reqs[0].Body) != tt.wantBody {
				t.Fatalf("requests = %+v\nwant one POST /v1/user-invites with %s", reqs, tt.wantBody)
			}
			if auth := fake.LastAuthorization("CreateUserInvite"); auth != "Bearer "+testToken {
				t.Errorf("authorization = %q", auth)
			}
			want := tt.want
			want.ID, want.InviteURL = got.ID, redpandafake.InviteURLPrefix+got.ID
			if got.ID == "" || !reflect.DeepEqual(*got, want) {
				t.Errorf("invite:\n got %+v\nwant %+v", *got, want)
			}
			listed, err := c.ListUserInvites(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(listed) != 1 || !reflect.DeepEqual(listed[0], want) {
				t.Errorf("listed %+v, want the created invite", listed)
			}
		})
	}
}

func TestCreateUserInviteErrors(t *testing.T) {
	tests := []struct {
		name     string
		create   UserInviteCreate
		setup    func(fake *redpandafake.Server)
		handler  http.HandlerFunc // instead of the fake
		wantKind error
		wantCode string
		status   int
		calls    int // calls the fake received
		stored   int // invites the fake holds afterwards
	}{
		{name: "invalid email is INVALID_ARGUMENT", create: UserInviteCreate{Email: "not-an-email"},
			wantKind: upstream.ErrInvalidArgument, wantCode: "INVALID_ARGUMENT", status: 400, calls: 1},
		{name: "incomplete binding is INVALID_ARGUMENT",
			create:   UserInviteCreate{Email: "ada@example.com", RoleBindings: []RoleBinding{{RoleName: "Admin"}}},
			wantKind: upstream.ErrInvalidArgument, wantCode: "INVALID_ARGUMENT", status: 400, calls: 1},
		{name: "503 is not retried", create: UserInviteCreate{Email: "ada@example.com"},
			setup:    func(f *redpandafake.Server) { f.FailNext("CreateUserInvite", 1, 503) },
			wantKind: upstream.ErrUnavailable, wantCode: "UNAVAILABLE", status: 503, calls: 1},
		{name: "429 is not retried", create: UserInviteCreate{Email: "ada@example.com"},
			setup:    func(f *redpandafake.Server) { f.FailNext("CreateUserInvite", 1, 429) },
			wantKind: upstream.ErrRateLimited, wantCode: "RESOURCE_EXHAUSTED", status: 429, calls: 1},
		{name: "a lost reply is not retried", create: UserInviteCreate{Email: "ada@example.com"},
			setup:    func(f *redpandafake.Server) { f.DropReplyNext("CreateUserInvite", 1) },
			wantKind: upstream.ErrUnavailable, calls: 1, stored: 1},
		{name: "a 201 without the invite is a bad response", create: UserInviteCreate{Email: "ada@example.com"},
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusCreated)
				_, _ = w.Write([]byte(`{}`))
			},
			wantKind: upstream.ErrBadResponse, status: 201},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				c    *Client
				fake *redpandafake.Server
			)
			if tt.handler != nil {
				c = newHandlerClient(t, Options{Policy: upstreamtest.RetryAtOnce()}, tt.handler)
			} else {
				fake, c, _ = newFake(t, redpandafake.Options{}, Options{Policy: upstreamtest.RetryAtOnce()})
				if tt.setup != nil {
					tt.setup(fake)
				}
			}
			_, err := c.CreateUserInvite(context.Background(), tt.create)
			var ue *upstream.Error
			if !errors.As(err, &ue) || !errors.Is(err, tt.wantKind) {
				t.Fatalf("err = %v, want %v", err, tt.wantKind)
			}
			if ue.Op != "CreateUserInvite" || ue.Code != tt.wantCode || ue.Status != tt.status {
				t.Errorf("error = %+v", ue)
			}
			if fake == nil {
				return
			}
			if n := fake.Calls("CreateUserInvite"); n != tt.calls {
				t.Errorf("calls = %d, want %d", n, tt.calls)
			}
			// Only a lost reply leaves an invite behind: the fake created it before the reply
			// was dropped, which is why the call must not be repeated.
			listed, err := c.ListUserInvites(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(listed) != tt.stored {
				t.Errorf("%d invites stored, want %d", len(listed), tt.stored)
			}
		})
	}
}

func TestDeleteUserInvite(t *testing.T) {
	seed := redpandafake.Invite{ID: "inv/1", Email: "ada@example.com", CreatedAt: created, ExpiresAt: expires}
	tests := []struct {
		name     string
		seeded   bool
		inject   func(fake *redpandafake.Server)
		policy   *upstream.Policy
		wantKind error // nil for success
		calls    int
	}{
		{name: "204 deletes the invite", seeded: true, calls: 1},
		{name: "unknown invite is not found", wantKind: upstream.ErrNotFound, calls: 1},
		{name: "unknown invite is not found with retries too", policy: upstreamtest.RetryAtOnce(), wantKind: upstream.ErrNotFound, calls: 1},
		{name: "503 is retried", seeded: true, policy: upstreamtest.RetryAtOnce(), calls: 2,
			inject: func(f *redpandafake.Server) { f.FailNext("DeleteUserInvite", 1, 503) }},
		{name: "a lost reply, then 404, is success", seeded: true, policy: upstreamtest.RetryAtOnce(), calls: 2,
			inject: func(f *redpandafake.Server) { f.DropReplyNext("DeleteUserInvite", 1) }},
		{name: "503 then 404 is success", policy: upstreamtest.RetryAtOnce(), calls: 2,
			inject: func(f *redpandafake.Server) { f.FailNext("DeleteUserInvite", 1, 503) }},
		{name: "429 then 404 is not found", policy: upstreamtest.RetryAtOnce(), wantKind: upstream.ErrNotFound, calls: 2,
			inject: func(f *redpandafake.Server) { f.FailNext("DeleteUserInvite", 1, 429) }},
		{name: "without a retry policy a lost reply is unavailable", seeded: true, wantKind: upstream.ErrUnavailable, calls: 1,
			inject: func(f *redpandafake.Server) { f.DropReplyNext("DeleteUserInvite", 1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, c, _ := newFake(t, redpandafake.Options{}, Options{Policy: tt.policy})
			if tt.seeded {
				fake.Add(seed)
			}
			if tt.inject != nil {
				tt.inject(fake)
			}
			err := c.DeleteUserInvite(context.Background(), "inv/1")
			if !errors.Is(err, tt.wantKind) || (tt.wantKind == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantKind)
			}
			reqs := fake.Requests("DeleteUserInvite")
			if len(reqs) != tt.calls {
				t.Fatalf("%d calls, want %d", len(reqs), tt.calls)
			}
			for _, r := range reqs {
				if r.Method != "DELETE" || r.Path != "/v1/user-invites/inv%2F1" || r.Body != nil {
					t.Errorf("request = %+v", r)
				}
			}
			if _, ok := fake.Invite("inv/1"); ok {
				t.Error("the invite is still stored")
			}
		})
	}

	t.Run("ids that would change the path are not found without a call", func(t *testing.T) {
		fake, c, _ := newFake(t, redpandafake.Options{}, Options{})
		for _, id := range []string{"", ".", ".."} {
			if err := c.DeleteUserInvite(context.Background(), id); !errors.Is(err, upstream.ErrNotFound) {
				t.Errorf("DeleteUserInvite(%q) err = %v", id, err)
			}
		}
		if n := fake.TotalCalls(); n != 0 {
			t.Errorf("%d calls made", n)
		}
	})
}

// TestDeleteUserInviteBodies: Redpanda documents 204 and an empty schema; an empty body and {}
// are both success, whatever the 2xx.
func TestDeleteUserInviteBodies(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
	}{
		{name: "204 without a body", status: http.StatusNoContent},
		{name: "200 with {}", status: http.StatusOK, body: `{}`},
		{name: "200 without a body", status: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newHandlerClient(t, Options{}, func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodDelete || r.URL.EscapedPath() != "/v1/user-invites/inv-1" {
					t.Errorf("request %s %s", r.Method, r.URL.EscapedPath())
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			})
			if err := c.DeleteUserInvite(context.Background(), "inv-1"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestWritesAfterRevokedToken: a 401 to a client-credentials token repeats the write once with
// a new token, the POST included; it was refused unprocessed, so nothing happens twice.
func TestWritesAfterRevokedToken(t *testing.T) {
	ccFake := redpandafake.Options{ClientID: testClientID, ClientSecret: testSecret}
	fake, c, _ := newFake(t, ccFake, Options{ClientID: testClientID, ClientSecret: testSecret})
	ctx := context.Background()
	if _, err := c.GetCurrentOrganization(ctx); err != nil {
		t.Fatal(err)
	}
	fake.RevokeTokens()
	inv, err := c.CreateUserInvite(ctx, UserInviteCreate{Email: "ada@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	fake.RevokeTokens()
	if err := c.DeleteUserInvite(ctx, inv.ID); err != nil {
		t.Fatal(err)
	}
	if n, d := fake.Calls("CreateUserInvite"), fake.Calls("DeleteUserInvite"); n != 2 || d != 2 || fake.TokensIssued() != 3 {
		t.Errorf("create calls %d, delete calls %d, tokens %d; want 2, 2, 3", n, d, fake.TokensIssued())
	}
	if _, ok := fake.Invite(inv.ID); ok {
		t.Error("the invite is still stored")
	}
}
