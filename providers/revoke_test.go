package providers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/invitegw/invitegw/errcode"
	"github.com/invitegw/invitegw/invite"
	"github.com/invitegw/invitegw/providers"
	"github.com/invitegw/invitegw/upstream"
	"github.com/invitegw/invitegw/upstream/elastic"
	"github.com/invitegw/invitegw/upstream/elastic/elasticfake"
	"github.com/invitegw/invitegw/upstream/frontier"
	"github.com/invitegw/invitegw/upstream/frontier/frontierfake"
	"github.com/invitegw/invitegw/upstream/redpanda"
	"github.com/invitegw/invitegw/upstream/redpanda/redpandafake"
)

// fakes are the three fake upstreams on real sockets, and a Set over them.
type fakes struct {
	rp  *redpandafake.Server
	ec  *elasticfake.Server
	fr  *frontierfake.Server
	set *providers.Set
}

const (
	tokA, tokB = "ec-secret-token-revoke-a", "ec-secret-token-revoke-b"
	frInv      = "3f1c2a7e-0b5d-4c8e-9a61-2d7f4e8b1c05"
)

func newFakes(t *testing.T) *fakes {
	t.Helper()
	f := &fakes{
		rp: redpandafake.New(redpandafake.Options{Token: "rp-token-0123456789", OrgID: "rp-org", OrgName: "RP"}),
		ec: elasticfake.New(elasticfake.Options{APIKey: "ec-key-0123456789"}),
		fr: frontierfake.New(frontierfake.Options{Token: "fr-token-0123456789"}),
	}
	now := time.Now().UTC()
	f.rp.Add(redpandafake.Invite{ID: "rp-1", Email: "ada@example.com", CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	f.ec.AddOrganization("1004", "Search")
	for _, tok := range []string{tokA, tokB} {
		f.ec.AddInvitation("1004", elasticfake.Invitation{Token: tok, Email: tok + "@example.com", CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	}
	f.fr.AddOrganization("f-org-1", "acme", "Acme")
	f.fr.AddInvitation("f-org-1", frontierfake.Invitation{ID: frInv, UserID: "grace@example.com", CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	rpSrv, ecSrv, frSrv := httptest.NewServer(f.rp), httptest.NewServer(f.ec), httptest.NewServer(f.fr)
	t.Cleanup(rpSrv.Close)
	t.Cleanup(ecSrv.Close)
	t.Cleanup(frSrv.Close)
	hc := upstream.NewHTTPClient()
	rp, err := redpanda.NewClient(redpanda.Options{BaseURL: rpSrv.URL, HTTP: hc, Timeout: 5 * time.Second, Token: "rp-token-0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	ec, err := elastic.NewClient(elastic.Options{BaseURL: ecSrv.URL, HTTP: hc, Timeout: 5 * time.Second, APIKey: "ec-key-0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	fr, err := frontier.NewClient(frontier.Options{BaseURL: frSrv.URL, HTTP: hc, Timeout: 5 * time.Second, Token: "fr-token-0123456789", Protocol: "rest"})
	if err != nil {
		t.Fatal(err)
	}
	f.set, err = providers.New(providers.Options{Redpanda: rp, Elastic: ec, ElasticOrgs: []string{"1004"}, Frontier: fr, FrontierOrgs: []string{"f-org-1"},
		TTL: providers.TTL{Invitations: 30 * time.Second, Directory: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestRevoke(t *testing.T) {
	f := newFakes(t)
	ids := []invite.ID{
		{Provider: invite.Redpanda, Key: "rp-1"},
		{Provider: invite.Redpanda, Key: "rp-missing"},
		{Provider: invite.Elastic, OrgID: "1004", Key: invite.TokenDigest(tokA)},
		{Provider: invite.Elastic, OrgID: "1004", Key: invite.TokenDigest(tokB)},
		{Provider: invite.Elastic, OrgID: "1004", Key: "0123456789abcdef"},
		{Provider: invite.Elastic, OrgID: "9999", Key: invite.TokenDigest(tokA)}, // not configured
		{Provider: invite.Frontier, OrgID: "f-org-1", Key: frInv},
	}
	errs := f.set.Revoke(context.Background(), ids)
	want := []string{"", "NOT_FOUND", "", "", "NOT_FOUND", "NOT_FOUND", ""}
	for i, err := range errs {
		got := ""
		if err != nil {
			got = errcode.Of(err).Code
			if strings.Contains(fmt.Sprintf("%v %+v", err, err), "ec-secret") {
				t.Fatalf("item %d: an Elastic token in the error: %v", i, err)
			}
		}
		if got != want[i] {
			t.Errorf("item %d (%s): %q, want %q (%v)", i, ids[i], got, want[i], err)
		}
	}
	// One fresh read and one DELETE for both Elastic tokens, in the order given.
	if got := f.ec.Requests("ListInvitations"); len(got) != 1 {
		t.Fatalf("Elastic lists read: %d, want 1", len(got))
	}
	dels := f.ec.Requests("DeleteInvitations")
	if len(dels) != 1 || dels[0].Path != "/api/v1/organizations/1004/invitations/"+tokA+","+tokB {
		t.Fatalf("Elastic DELETEs: %+v", dels)
	}
	if got := f.rp.Requests("DeleteUserInvite"); len(got) != 2 || got[0].Path != "/v1/user-invites/rp-1" && got[1].Path != "/v1/user-invites/rp-1" {
		t.Fatalf("Redpanda DELETEs: %+v", got)
	}
	if got := f.fr.Requests("DeleteOrganizationInvitation"); len(got) != 1 || got[0].Path != "/v1beta1/organizations/f-org-1/invitations/"+frInv {
		t.Fatalf("Frontier DELETEs: %+v", got)
	}
	if n := len(f.ec.Invitations("1004")) + len(f.fr.Invitations("f-org-1")); n != 0 {
		t.Fatalf("%d invitations left", n)
	}
}

// TestCreateFrontierBatches: Frontier takes at most 10 emails a request.
func TestCreateFrontierBatches(t *testing.T) {
	f := newFakes(t)
	emails := make([]string, 12)
	for i := range emails {
		emails[i] = fmt.Sprintf("p%02d@example.com", i)
	}
	out := f.set.Create(context.Background(), invite.Source{Provider: invite.Frontier, OrgID: "f-org-1"}, emails, invite.Grant{})
	for i, c := range out {
		if c.Err != nil || c.Invitation == nil || c.Invitation.Email != emails[i] {
			t.Fatalf("item %d: %+v", i, c)
		}
	}
	posts := f.fr.Requests("CreateOrganizationInvitation")
	if len(posts) != 2 {
		t.Fatalf("%d POSTs, want 2", len(posts))
	}
	for i, want := range []int{10, 2} {
		var body struct {
			UserIDs []string `json:"user_ids"`
		}
		if err := json.Unmarshal(posts[i].Body, &body); err != nil || len(body.UserIDs) != want {
			t.Fatalf("POST %d carried %d emails (%v), want %d", i, len(body.UserIDs), err, want)
		}
	}
}
