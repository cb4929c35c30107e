package demo_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/invitegw/invitegw/demo"
	"github.com/invitegw/invitegw/upstream/elastic"
	"github.com/invitegw/invitegw/upstream/frontier"
	"github.com/invitegw/invitegw/upstream/frontier/frontierfake"
	"github.com/invitegw/invitegw/upstream/redpanda"
)

// TestDemoTakesWrites creates and deletes an invitation at each of the demo's upstreams, with
// the clients and the credentials the demo hands the gateway: -demo serves writes as the
// tests' fakes do.
func TestDemoTakesWrites(t *testing.T) {
	for _, protocol := range []string{frontier.ProtocolREST, frontier.ProtocolConnect} {
		t.Run("frontier "+protocol, func(t *testing.T) {
			u, err := demo.Start(time.Now(), protocol)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = u.Close() })
			ctx := context.Background()
			const timeout = 5 * time.Second
			const email = "new.person@acme.test"

			rp, err := redpanda.NewClient(redpanda.Options{BaseURL: u.Config.Redpanda.URL, Token: u.Config.Redpanda.Token, Timeout: timeout})
			if err != nil {
				t.Fatal(err)
			}
			inv, err := rp.CreateUserInvite(ctx, redpanda.UserInviteCreate{Email: email})
			if err != nil {
				t.Fatal(err)
			}
			if err := rp.DeleteUserInvite(ctx, inv.ID); err != nil {
				t.Fatal(err)
			}
			if _, ok := u.Redpanda.Invite(inv.ID); ok {
				t.Error("redpanda: the invite is still there")
			}

			ec, err := elastic.NewClient(elastic.Options{BaseURL: u.Config.Elastic.URL, APIKey: u.Config.Elastic.APIKey, Timeout: timeout})
			if err != nil {
				t.Fatal(err)
			}
			org := u.Config.Elastic.Organizations[0]
			before := len(u.Elastic.Invitations(org))
			invs, err := ec.CreateInvitations(ctx, org, elastic.OrganizationInvitationRequest{Emails: []string{email}})
			if err != nil {
				t.Fatal(err)
			}
			if err := ec.DeleteInvitations(ctx, org, []elastic.Token{invs[0].Token}); err != nil {
				t.Fatal(err)
			}
			if n := len(u.Elastic.Invitations(org)); n != before {
				t.Errorf("elastic: %d invitations after create and delete, want %d", n, before)
			}

			fr, err := frontier.NewClient(frontier.Options{BaseURL: u.Config.Frontier.URL, Protocol: protocol,
				Token: u.Config.Frontier.Token, Timeout: timeout})
			if err != nil {
				t.Fatal(err)
			}
			forg := u.Config.Frontier.Organizations[0]
			created, err := fr.CreateOrganizationInvitation(ctx, forg, frontier.CreateInvitationRequest{UserIDs: []string{email}})
			if err != nil {
				t.Fatal(err)
			}
			if err := fr.DeleteOrganizationInvitation(ctx, forg, created[0].ID); err != nil {
				t.Fatal(err)
			}
			if slices.ContainsFunc(u.Frontier.Invitations(forg), func(i frontierfake.Invitation) bool { return i.ID == created[0].ID }) {
				t.Error("frontier: the invitation is still there")
			}
		})
	}
}
