package frontier

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/invitegw/invitegw/upstream"
	"github.com/invitegw/invitegw/upstream/fakeserver"
	"github.com/invitegw/invitegw/upstream/frontier/frontierfake"
	"github.com/invitegw/invitegw/upstream/upstreamtest"
)

const (
	invA = "11111111-2222-4333-8444-555555555555"
	invB = "66666666-7777-4888-8999-aaaaaaaaaaaa"
)

// writeRequest is what a write looks like on each transport: the fake's record of it.
func writeRequest(protocol, op, restMethod, restPath, restBody, connectBody string) fakeserver.Request {
	if protocol == ProtocolConnect {
		return fakeserver.Request{Route: op, Method: "POST", Path: "/raystack.frontier.v1beta1.FrontierService/" + op,
			Body: []byte(connectBody)}
	}
	r := fakeserver.Request{Route: op, Method: restMethod, Path: restPath}
	if restBody != "" {
		r.Body = []byte(restBody)
	}
	return r
}

// errorCode is the code of a gRPC code number as each transport carries it in Error.Code.
func errorCode(protocol string, n int, name string) string {
	if protocol == ProtocolConnect {
		return name
	}
	return fmt.Sprint(n)
}

func TestCreateOrganizationInvitation(t *testing.T) {
	forEachProtocol(t, testCreateOrganizationInvitation)
}

func testCreateOrganizationInvitation(t *testing.T, protocol string) {
	week := seeded.Add(frontierfake.DefaultExpiry)
	tests := []struct {
		name                  string
		req                   CreateInvitationRequest
		restBody, connectBody string
		want                  []Invitation // IDs are the fake's
	}{
		{
			name:        "emails with groups and roles",
			req:         CreateInvitationRequest{UserIDs: []string{"Ada@Example.com", "bob@example.com"}, GroupIDs: []string{"g1"}, RoleIDs: []string{"r1"}},
			restBody:    `{"user_ids":["Ada@Example.com","bob@example.com"],"group_ids":["g1"],"role_ids":["r1"]}`,
			connectBody: `{"org_id":"` + testOrg + `","user_ids":["Ada@Example.com","bob@example.com"],"group_ids":["g1"],"role_ids":["r1"]}`,
			want: []Invitation{
				{UserID: "ada@example.com", OrgID: testOrg, GroupIDs: IDs{"g1"}, RoleIDs: IDs{"r1"}, CreatedAt: seeded, ExpiresAt: week,
					Metadata: map[string]any{"group_ids": []any{"g1"}, "role_ids": []any{"r1"}}},
				{UserID: "bob@example.com", OrgID: testOrg, GroupIDs: IDs{"g1"}, RoleIDs: IDs{"r1"}, CreatedAt: seeded, ExpiresAt: week,
					Metadata: map[string]any{"group_ids": []any{"g1"}, "role_ids": []any{"r1"}}},
			},
		},
		{
			name:        "only an email: empty lists are left out and come back empty",
			req:         CreateInvitationRequest{UserIDs: []string{"ada@example.com"}},
			restBody:    `{"user_ids":["ada@example.com"]}`,
			connectBody: `{"org_id":"` + testOrg + `","user_ids":["ada@example.com"]}`,
			want: []Invitation{{UserID: "ada@example.com", OrgID: testOrg, GroupIDs: IDs{}, RoleIDs: IDs{}, CreatedAt: seeded, ExpiresAt: week,
				Metadata: map[string]any{"group_ids": nil, "role_ids": nil}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, c := newFake(t, Options{Protocol: protocol, Policy: upstreamtest.RetryAtOnce()})
			ctx := context.Background()
			got, err := c.CreateOrganizationInvitation(ctx, testOrg, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			want := writeRequest(protocol, "CreateOrganizationInvitation", "POST", "/v1beta1/organizations/"+testOrg+"/invitations",
				tt.restBody, tt.connectBody)
			if reqs := fake.Requests(""); len(reqs) != 1 || !reflect.DeepEqual(reqs[0], want) {
				t.Fatalf("requests = %+v\nwant [%+v]", reqs, want)
			}
			if auth := fake.LastAuthorization("CreateOrganizationInvitation"); auth != bearer {
				t.Errorf("authorization = %q", auth)
			}
			for i := range tt.want {
				if i < len(got) {
					tt.want[i].ID = got[i].ID
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("invitations:\n got %s\nwant %s", dump(got), dump(tt.want))
			}
			listed, err := c.ListOrganizationInvitations(ctx, testOrg, "")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(listed, tt.want) {
				t.Errorf("listed:\n got %s\nwant %s", dump(listed), dump(tt.want))
			}
		})
	}

	t.Run("an unexpired invitation's ID is reused", func(t *testing.T) {
		fake, c := newFake(t, Options{Protocol: protocol})
		fake.AddInvitation(testOrg, frontierfake.Invitation{ID: invA, UserID: "ada@example.com", CreatedAt: created, ExpiresAt: seeded.Add(1e9)})
		got, err := c.CreateOrganizationInvitation(context.Background(), "acme-corp", CreateInvitationRequest{UserIDs: []string{"ADA@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != invA || !got[0].CreatedAt.Equal(created) {
			t.Errorf("invitations = %s", dump(got))
		}
	})
}

// TestCreateOrganizationInvitationBatchLimit: Frontier takes 1 to 10 emails a call; the client
// refuses others before any request, on both transports.
func TestCreateOrganizationInvitationBatchLimit(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, protocol string) {
		emails := func(n int) []string {
			out := make([]string, n)
			for i := range out {
				out[i] = fmt.Sprintf("user%d@example.com", i)
			}
			return out
		}
		tests := []struct {
			name    string
			n       int
			wantErr string
		}{
			{name: "none", n: 0, wantErr: "frontier: CreateOrganizationInvitation: invalid argument: user_ids must hold 1 to 10 emails, got 0"},
			{name: "eleven", n: 11, wantErr: "frontier: CreateOrganizationInvitation: invalid argument: user_ids must hold 1 to 10 emails, got 11"},
			{name: "ten", n: 10},
			{name: "one", n: 1},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				fake, c := newFake(t, Options{Protocol: protocol})
				got, err := c.CreateOrganizationInvitation(context.Background(), testOrg, CreateInvitationRequest{UserIDs: emails(tt.n)})
				if tt.wantErr != "" {
					if !errors.Is(err, upstream.ErrInvalidArgument) || err.Error() != tt.wantErr {
						t.Fatalf("err = %v, want %q", err, tt.wantErr)
					}
					if n := fake.TotalCalls(); n != 0 {
						t.Errorf("%d calls made", n)
					}
					return
				}
				if err != nil || len(got) != tt.n || fake.Calls("CreateOrganizationInvitation") != 1 {
					t.Fatalf("err = %v, %d invitations, %d calls", err, len(got), fake.Calls("CreateOrganizationInvitation"))
				}
			})
		}
	})
}

func TestCreateOrganizationInvitationErrors(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, protocol string) {
		const op = "CreateOrganizationInvitation"
		tests := []struct {
			name   string
			org    string
			emails []string
			inject func(fake *frontierfake.Server)
			want   upstream.Error
			calls  int
			stored int // invitations the fake holds afterwards
		}{
			{name: "invalid email", emails: []string{"ada@example.com", "nope"}, calls: 1,
				want: upstream.Error{Op: op, Kind: upstream.ErrInvalidArgument, Status: 400,
					Code: errorCode(protocol, 3, "invalid_argument"), Message: "Invalid email"}},
			{name: "unknown organization", org: "missing", calls: 1,
				want: upstream.Error{Op: op, Kind: upstream.ErrNotFound, Status: 404, Code: errorCode(protocol, 5, "not_found"),
					Message: map[string]string{ProtocolREST: "org doesn't exist", ProtocolConnect: "not found"}[protocol]}},
			{name: "503 is not retried", calls: 1,
				inject: func(f *frontierfake.Server) { f.FailNext(op, 1, 503) },
				want: upstream.Error{Op: op, Kind: upstream.ErrUnavailable, Status: 503, Code: errorCode(protocol, 14, "unavailable"),
					Message: "unavailable"}},
			{name: "a lost reply is not retried", calls: 1, stored: 1,
				inject: func(f *frontierfake.Server) { f.DropReplyNext(op, 1) },
				want:   upstream.Error{Op: op, Kind: upstream.ErrUnavailable}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				fake, c := newFake(t, Options{Protocol: protocol, Policy: upstreamtest.RetryAtOnce()})
				if tt.inject != nil {
					tt.inject(fake)
				}
				org, emails := testOrg, []string{"ada@example.com"}
				if tt.org != "" {
					org = tt.org
				}
				if tt.emails != nil {
					emails = tt.emails
				}
				_, err := c.CreateOrganizationInvitation(context.Background(), org, CreateInvitationRequest{UserIDs: emails})
				checkError(t, err, tt.want, 0)
				if n := fake.Calls(op); n != tt.calls {
					t.Errorf("calls = %d, want %d", n, tt.calls)
				}
				if n := len(fake.Invitations(testOrg)); n != tt.stored {
					t.Errorf("%d invitations stored, want %d", n, tt.stored)
				}
			})
		}
	})
}

func TestDeleteOrganizationInvitation(t *testing.T) {
	forEachProtocol(t, testDeleteOrganizationInvitation)
}

func testDeleteOrganizationInvitation(t *testing.T, protocol string) {
	const op = "DeleteOrganizationInvitation"
	tests := []struct {
		name   string
		id     string
		seeded bool // invA is there
		inject func(fake *frontierfake.Server)
		policy *upstream.Policy
		want   *upstream.Error // nil for success
		calls  int
	}{
		{name: "deletes the invitation", id: invA, seeded: true, calls: 1},
		{name: "an unknown invitation is not found", id: invA, calls: 1,
			want: &upstream.Error{Op: op, Kind: upstream.ErrNotFound, Status: 404, Code: errorCode(protocol, 5, "not_found"),
				Message: "invitation not found"}},
		{name: "an id that is not a UUID is invalid", id: "inv-1", seeded: true, calls: 1,
			want: &upstream.Error{Op: op, Kind: upstream.ErrInvalidArgument, Status: 400, Code: errorCode(protocol, 3, "invalid_argument"),
				Message: "invalid syntax in body"}},
		{name: "503 is retried", id: invA, seeded: true, policy: upstreamtest.RetryAtOnce(), calls: 2,
			inject: func(f *frontierfake.Server) { f.FailNext(op, 1, 503) }},
		{name: "a lost reply, then not found, is success", id: invA, seeded: true, policy: upstreamtest.RetryAtOnce(), calls: 2,
			inject: func(f *frontierfake.Server) { f.DropReplyNext(op, 1) }},
		{name: "503 then not found is success", id: invA, policy: upstreamtest.RetryAtOnce(), calls: 2,
			inject: func(f *frontierfake.Server) { f.FailNext(op, 1, 503) }},
		{name: "not found at once stays not found with retries", id: invA, policy: upstreamtest.RetryAtOnce(), calls: 1,
			want: &upstream.Error{Op: op, Kind: upstream.ErrNotFound, Status: 404, Code: errorCode(protocol, 5, "not_found"),
				Message: "invitation not found"}},
		{name: "without retries a lost reply is unavailable", id: invA, seeded: true, calls: 1,
			inject: func(f *frontierfake.Server) { f.DropReplyNext(op, 1) },
			want:   &upstream.Error{Op: op, Kind: upstream.ErrUnavailable}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, c := newFake(t, Options{Protocol: protocol, Policy: tt.policy})
			fake.AddInvitation(testOrg, frontierfake.Invitation{ID: invB, UserID: "bob@example.com"})
			if tt.seeded {
				fake.AddInvitation(testOrg, frontierfake.Invitation{ID: invA, UserID: "ada@example.com"})
			}
			if tt.inject != nil {
				tt.inject(fake)
			}
			err := c.DeleteOrganizationInvitation(context.Background(), testOrg, tt.id)
			if tt.want != nil {
				checkError(t, err, *tt.want, 0)
			} else if err != nil {
				t.Fatal(err)
			}
			want := writeRequest(protocol, op, "DELETE", "/v1beta1/organizations/"+testOrg+"/invitations/"+tt.id, "",
				`{"org_id":"`+testOrg+`","id":"`+tt.id+`"}`)
			reqs := fake.Requests("")
			if len(reqs) != tt.calls {
				t.Fatalf("%d calls, want %d: %+v", len(reqs), tt.calls, reqs)
			}
			for _, r := range reqs {
				if !reflect.DeepEqual(r, want) {
					t.Errorf("request = %+v\nwant %+v", r, want)
				}
			}
			var left []string
			for _, inv := range fake.Invitations(testOrg) {
				left = append(left, inv.ID)
			}
			wantLeft := []string{invB}
			if tt.seeded && tt.want != nil && tt.want.Kind != upstream.ErrUnavailable {
				wantLeft = append(wantLeft, invA)
			}
			if !reflect.DeepEqual(left, wantLeft) {
				t.Errorf("left %q, want %q", left, wantLeft)
			}
		})
	}

	t.Run("ids that would change a path are invalid without a call", func(t *testing.T) {
		fake, c := newFake(t, Options{Protocol: protocol})
		for _, id := range []string{"", ".", ".."} {
			if err := c.DeleteOrganizationInvitation(context.Background(), testOrg, id); !errors.Is(err, upstream.ErrInvalidArgument) {
				t.Errorf("DeleteOrganizationInvitation(%q) err = %v", id, err)
			}
		}
		if n := fake.TotalCalls(); n != 0 {
			t.Errorf("%d calls made", n)
		}
	})
}
