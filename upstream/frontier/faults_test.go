package frontier

import (
	"context"
	"testing"

	"github.com/invitegw/invitegw/upstream/fakeserver"
	"github.com/invitegw/invitegw/upstream/upstreamtest"
)

// TestBrokenReplies breaks a 200 in the two ways the fake can, on each transport. A body that is
// not JSON is a bad response: the upstream broke its contract. A connection that closes halfway
// through the body is unavailable: the upstream or the network failed, and call.go classifies an
// error while reading the body like one before the response came. Either way the next call
// succeeds.
func TestBrokenReplies(t *testing.T) {
	calls := map[string]func(ctx context.Context, c *Client) error{
		"ListOrganizationInvitations": func(ctx context.Context, c *Client) error {
			_, err := c.ListOrganizationInvitations(ctx, testOrg, "")
			return err
		},
		"GetOrganization": func(ctx context.Context, c *Client) error {
			_, err := c.GetOrganization(ctx, testOrg)
			return err
		},
		"ListRoles": func(ctx context.Context, c *Client) error {
			_, err := c.ListRoles(ctx)
			return err
		},
	}
	tests := []struct {
		name  string
		op    string // the operation called, which is also the fake's route
		route string // the route faulted: op, or "" for every route
		fault fakeserver.FaultKind
	}{
		{name: "malformed invitations", op: "ListOrganizationInvitations", route: "ListOrganizationInvitations",
			fault: fakeserver.FaultMalformed},
		{name: "malformed organization", op: "GetOrganization", route: "GetOrganization",
			fault: fakeserver.FaultMalformed},
		{name: "malformed roles from every route", op: "ListRoles", fault: fakeserver.FaultMalformed},
		{name: "invitations closed mid-body", op: "ListOrganizationInvitations", route: "ListOrganizationInvitations",
			fault: fakeserver.FaultCloseMidBody},
		{name: "organization closed mid-body", op: "GetOrganization", route: "GetOrganization",
			fault: fakeserver.FaultCloseMidBody},
		{name: "roles closed mid-body from every route", op: "ListRoles", fault: fakeserver.FaultCloseMidBody},
	}
	forEachProtocol(t, func(t *testing.T, protocol string) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				fake, c := newFake(t, Options{Protocol: protocol})
				fake.InjectNext(tt.route, tt.fault)
				ctx := context.Background()

				err := calls[tt.op](ctx, c)
				upstreamtest.CheckFault(t, err, tt.fault, "frontier", tt.op)

				if err := calls[tt.op](ctx, c); err != nil {
					t.Errorf("call after the fault: %v", err)
				}
				if n := fake.Calls(tt.op); n != 2 {
					t.Errorf("%s calls = %d, want 2 (one each, no retry)", tt.op, n)
				}
			})
		}
	})
}
