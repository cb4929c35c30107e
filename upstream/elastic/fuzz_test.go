package elastic

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/invitegw/invitegw/invite"
	"github.com/invitegw/invitegw/upstream"
)

// docListExample is the 200 example of list-organization-invitations in Elastic's API reference
// (/work/shared/upstreams/elastic-list-organization-invitations.txt).
const docListExample = `{
  "invitations": [
    {
      "token": "string",
      "email": "string",
      "created_at": "2024-05-04T09:42:00+00:00",
      "expires_at": "2024-05-04T09:42:00+00:00",
      "expired": true,
      "accepted_at": "2024-05-04T09:42:00+00:00",
      "organization": {
        "id": "string",
        "name": "string",
        "default_disk_usage_alerts_enabled": true,
        "notifications_allowed_email_domains": [
          "string"
        ],
        "billing_contacts": [
          "string"
        ],
        "operational_contacts": [
          "string"
        ]
      }
    }
  ]
}`

// docErrorExample is the 404 example of the same page (its header is
// x-cloud-error-codes: organization.not_found).
const docErrorExample = `{
  "errors": [
    {
      "code": "string",
      "message": "string",
      "fields": [
        "string"
      ]
    }
  ]
}`

// sdkListExample is the list body of cloud-sdk-go's invitation_list_test.go (FACTS.md 2.4).
const sdkListExample = `{"invitations":[{"token":"c4f3-SECRET-invitation-token-91ab","email":"ada@example.com",` +
	`"created_at":"2024-05-04T09:42:00Z","expires_at":"2024-05-07T09:42:00Z","expired":false,` +
	`"organization":{"id":"testorg","name":"Test"},` +
	`"role_assignments":{"organization":[{"organization_id":"testorg","role_id":"billing-admin"}]}}]}`

// pointer matches the addresses %#v prints for pointers, which differ from one value to the next.
var pointer = regexp.MustCompile(`0x[0-9a-f]+`)

// FuzzListInvitations decodes a list reply as the client does and converts every invitation: neither
// may panic, and the converted invitation must not show the token. The token may reach it only
// through the digest in its ID, so the invitation converted without its token, given the same ID,
// must print the same; a token of 8 or more characters must not appear in its %#v at all unless
// it appears there without the token too (an email that contains it, say).
func FuzzListInvitations(f *testing.F) {
	for _, s := range []string{
		docListExample, sdkListExample, `{"invitations":[]}`, `{}`, ``, `null`, `{"invitations":null}`,
		`{"invitations":[{"token":"t","email":"e@x","created_at":"2019-01-01T00:00:00Z",` +
			`"organization":{"id":"o","name":"n","new_field":{"x":1}},` +
			`"role_assignments":{"deployment":[{"role_id":"r"}],"future_kind":[{}]},"extra":true}]}`,
		`{"invitations":[{"token":"c4f3-SECRET-invitation-token-91ab","email":"ada@example.com",` +
			`"created_at":"2024-05-04T09:42:00+00:00","expires_at":"2024-05-07T09:42:00+00:00",` +
			`"accepted_at":"2024-05-05T10:00:00+00:00","role_assignments":` + fullRoles + `}]}`,
		`{"invitations":[{"token":"12345678","email":"12345678@example.com","organization":{"id":"12345678"}}]}`,
		`{"invitations":[{"token":"2024-05-04","created_at":"2024-05-04T09:42:00Z"}]}`,
		`{"invitations":[{"token":"0xc000123456"}]}`, `{"invitations":[{"token":"` + strings.Repeat("s", 300) + `"}]}`,
		`{"invitations":[{"token":null,"accepted_at":null,"role_assignments":null}]}`,
		`{"invitations":[{"role_assignments":{"project":{"security":[{"all":true,"project_ids":["p"]}]}}}]}`,
		`{"invitations":[{"created_at":"2024-05-04"}]}`, `{"invitations":[{"token":7}]}`, `{"invitations": [`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var list organizationInvitations
		if upstream.Decode(body, &list) != nil { // as the client decodes
			return
		}
		for i := range list.Invitations {
			inv := &list.Invitations[i]
			tok := string(inv.Token)
			got := ToInvitation(testOrg, inv)
			if got.ID != invite.ElasticID(testOrg, tok) || got.Provider != invite.Elastic ||
				got.OrgID != testOrg || got.Email != inv.Email || got.ExpiredFlag != inv.Expired ||
				!got.CreatedAt.Equal(inv.CreatedAt) || got.CreatedAt.Location() != time.UTC {
				t.Fatalf("ToInvitation = %+v", got)
			}
			if id, err := invite.ParseID(got.ID); err != nil || id.OrgID != testOrg || id.Key != inv.Token.Digest() {
				t.Fatalf("ParseID(%q) = %+v, %v", got.ID, id, err)
			}

			blank := *inv
			blank.Token = ""
			ref := ToInvitation(testOrg, &blank)
			ref.ID = got.ID
			shown := pointer.ReplaceAllString(fmt.Sprintf("%#v", got), "0x")
			without := pointer.ReplaceAllString(fmt.Sprintf("%#v", ref), "0x")
			if shown != without {
				t.Fatalf("the token changes more than the ID:\n with    %s\n without %s", shown, without)
			}
			if len(tok) >= 8 && strings.Contains(shown, tok) && !strings.Contains(without, tok) {
				t.Fatalf("converted invitation shows the token %q: %s", tok, shown)
			}
			// The wire value redacts its token under every verb, so it prints as if it had none.
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
				with := pointer.ReplaceAllString(fmt.Sprintf(verb, *inv), "0x")
				if with != pointer.ReplaceAllString(fmt.Sprintf(verb, blank), "0x") {
					t.Fatalf("%s of the wire invitation depends on the token: %s", verb, with)
				}
			}
		}
	})
}

// FuzzDecodeError runs the ErrorDecoder upstream.Caller uses on any error status,
// x-cloud-error-codes header and body: it must not panic, must leave a known kind, and may only
// add to the error.
func FuzzDecodeError(f *testing.F) {
	for _, c := range []struct {
		status int
		codes  string
		body   string
	}{
		{404, "organization.not_found", docErrorExample},
		{404, "organization.not_found", `{"errors":[{"code":"organization.not_found","message":"Organization not found","fields":["organization_id"]}]}`},
		{401, "", `{"errors":[{"code":"root.unauthorized","message":"Credentials were invalid"}]}`},
		{403, "", `{"errors":[{"code":"root.invalid_authentication"}]}`},
		{429, "", `{"errors":[{"code":"organization.invitations_rate_limit_exceeded"}]}`},
		{400, "root.invalid_data, other.code", `<html>proxy</html>`},
		{502, "", ``}, {500, "", `{"errors":[]}`}, {500, "", `{"errors":[{"code":""}]}`}, {500, "", `{"errors":null}`},
		{500, "", `{"errors":[{"code":7}]}`}, {404, ",,", `null`}, {404, " organization.not_found ", `[]`},
	} {
		f.Add(c.status, c.codes, []byte(c.body))
	}
	f.Fuzz(func(t *testing.T, status int, codes string, body []byte) {
		if status < 100 || status > 599 || status/100 == 2 {
			return // Caller decodes only non-2xx replies
		}
		h := http.Header{}
		if codes != "" {
			h.Set(ErrorCodesHeader, codes)
		}
		e := &upstream.Error{Provider: provider, Op: "ListInvitations", Status: status, Kind: upstream.KindForStatus(status)}
		decodeError(e, h, body)
		if !knownKind(e.Kind) {
			t.Fatalf("kind %v is not an upstream kind", e.Kind)
		}
		if e.Provider != provider || e.Op != "ListInvitations" || e.Status != status || e.Err != nil {
			t.Fatalf("decodeError changed more than code, message and kind: %+v", e)
		}
		_ = e.Error()
	})
}

// knownKind reports whether k is one of the upstream error kinds.
func knownKind(k error) bool {
	for _, want := range []error{
		upstream.ErrNotFound, upstream.ErrUnauthenticated, upstream.ErrForbidden, upstream.ErrRateLimited,
		upstream.ErrUnavailable, upstream.ErrTimeout, upstream.ErrBadResponse, upstream.ErrInvalidArgument,
	} {
		if k == want {
			return true
		}
	}
	return false
}
