package redpanda

import (
	"context"
	"testing"

	"github.com/invitegw/invitegw/upstream/fakeserver"
	"github.com/invitegw/invitegw/upstream/redpanda/redpandafake"
	"github.com/invitegw/invitegw/upstream/upstreamtest"
)

// TestBrokenReplies breaks a 200 in the two ways the fake can. A body that is not JSON is a bad
// response: the upstream broke its contract. A connection that closes halfway through the body
// is unavailable: the upstream or the network failed, and call.go classifies an error while
// reading the body like one before the response came. Either way the next call succeeds.
func TestBrokenReplies(t *testing.T) {
	calls := map[string]func(ctx context.Context, c *Client) error{
		"ListUserInvites": func(ctx context.Context, c *Client) error {
			_, err := c.ListUserInvites(ctx)
			return err
		},
		"GetCurrentOrganization": func(ctx context.Context, c *Client) error {
			_, err := c.GetCurrentOrganization(ctx)
			return err
		},
	}
	tests := []struct {
		name  string
		op    string // the operation called, which is also the fake's route
		route string // the route faulted: op, or "" for every route
		fault fakeserver.FaultKind
	}{
		{name: "malformed list page", op: "ListUserInvites", route: "ListUserInvites",
			fault: fakeserver.FaultMalformed},
		{name: "malformed organization from every route", op: "GetCurrentOrganization",
			fault: fakeserver.FaultMalformed},
		{name: "list page closed mid-body", op: "ListUserInvites", route: "ListUserInvites",
			fault: fakeserver.FaultCloseMidBody},
		{name: "organization closed mid-body from every route", op: "GetCurrentOrganization",
			fault: fakeserver.FaultCloseMidBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, c, _ := newFake(t, redpandafake.Options{}, Options{})
			seedInvites(fake, 1)
			fake.InjectNext(tt.route, tt.fault)
			ctx := context.Background()

			err := calls[tt.op](ctx, c)
			upstreamtest.CheckFault(t, err, tt.fault, "redpanda", tt.op)

			if err := calls[tt.op](ctx, c); err != nil {
				t.Errorf("call after the fault: %v", err)
			}
			if n := fake.Calls(tt.op); n != 2 {
				t.Errorf("%s calls = %d, want 2 (one each, no retry)", tt.op, n)
			}
		})
	}
}
