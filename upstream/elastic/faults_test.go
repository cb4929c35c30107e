package elastic

import (
	"context"
	"testing"

	"github.com/invitegw/invitegw/upstream/elastic/elasticfake"
	"github.com/invitegw/invitegw/upstream/fakeserver"
	"github.com/invitegw/invitegw/upstream/upstreamtest"
)

// TestBrokenReplies breaks a 200 in the two ways the fake can. A body that is not JSON is a bad
// response: the upstream broke its contract. A connection that closes halfway through the body
// is unavailable: the upstream or the network failed, and call.go classifies an error while
// reading the body like one before the response came. Either way the next call succeeds.
func TestBrokenReplies(t *testing.T) {
	calls := map[string]func(ctx context.Context, c *Client) error{
		"ListInvitations": func(ctx context.Context, c *Client) error {
			_, err := c.ListInvitations(ctx, testOrg)
			return err
		},
		"GetOrganization": func(ctx context.Context, c *Client) error {
			_, err := c.GetOrganization(ctx, testOrg)
			return err
		},
	}
	tests := []struct {
		name  string
		op    string // the operation called, which is also the fake's route
		route string // the route faulted: op, or "" for every route
		fault fakeserver.FaultKind
	}{
		{name: "malformed list", op: "ListInvitations", route: "ListInvitations",
			fault: fakeserver.FaultMalformed},
		{name: "malformed organization from every route", op: "GetOrganization",
			fault: fakeserver.FaultMalformed},
		{name: "list closed mid-body", op: "ListInvitations", route: "ListInvitations",
			fault: fakeserver.FaultCloseMidBody},
		{name: "organization closed mid-body from every route", op: "GetOrganization",
			fault: fakeserver.FaultCloseMidBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, c := newFake(t, Options{})
			fake.AddInvitation(testOrg, elasticfake.Invitation{
				Token: testToken, Email: "ada@example.com", CreatedAt: created, ExpiresAt: expires,
			})
			fake.InjectNext(tt.route, tt.fault)
			ctx := context.Background()

			err := calls[tt.op](ctx, c)
			upstreamtest.CheckFault(t, err, tt.fault, "elastic", tt.op)

			if err := calls[tt.op](ctx, c); err != nil {
				t.Errorf("call after the fault: %v", err)
			}
			if n := fake.Calls(tt.op); n != 2 {
				t.Errorf("%s calls = %d, want 2 (one each, no retry)", tt.op, n)
			}
		})
	}
}
