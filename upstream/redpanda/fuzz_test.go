package redpanda

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/invitegw/invitegw/invite"
	"github.com/invitegw/invitegw/upstream"
)

// docListExample is the 200 example of GET /v1/user-invites in Redpanda's API reference
// (/work/shared/upstreams/redpanda-list-user-invites.txt).
const docListExample = `{
  "next_page_token": "string",
  "user_invites": [
    {
      "created_at": "2025-05-04T09:42:00Z",
      "email": "string",
      "expires_at": "2025-05-04T09:42:00Z",
      "id": "string",
      "invite_url": "string",
      "role_bindings": [
        {
          "role_name": "string",
          "scope": {
            "resource_id": "string",
            "resource_type": "SCOPE_RESOURCE_TYPE_RESOURCE_GROUP"
          }
        }
      ]
    }
  ]
}`

// docErrorExample is the 500 (and default) example of the same page.
const docErrorExample = `{
  "code": "OK",
  "details": [
    {
      "@type": "type.googleapis.com/google.rpc.BadRequest",
      "field_violations": [
        {
          "description": "string",
          "field": "string",
          "localized_message": {
            "locale": "string",
            "message": "string"
          },
          "reason": "string"
        }
      ]
    }
  ],
  "message": "string"
}`

// docUnauthenticated is the unauthenticated example of FACTS.md 1.7.
const docUnauthenticated = `{"code":"UNAUTHENTICATED","message":"Bearer token is not present","details":[` +
	`{"@type":"google.rpc.ErrorInfo","reason":"REASON_NO_TOKEN","domain":"redpanda.com/controlplane","metadata":{}},` +
	`{"@type":"google.rpc.Help","links":[{"description":"…","url":"https://cloud.redpanda.com/clients"}]}]}`

// FuzzListUserInvites decodes a ListUserInvites page as the client does and converts every
// invite: neither may panic, and the conversion keeps what ToInvitation promises.
func FuzzListUserInvites(f *testing.F) {
	for _, s := range []string{
		docListExample,
		`{"user_invites":[],"next_page_token":""}`, `{}`, ``, `null`, `[]`, `{"user_invites":null}`,
		`{"user_invites":[{"id":"a","created_at":"","expires_at":null}]}`,
		`{"user_invites":[{"created_at":"2025-05-04T09:42:00.123456789Z","expires_at":"2025-05-11T11:42:00+02:00"}]}`,
		`{"user_invites":[{"created_at":"0001-01-01T00:00:00Z","expires_at":"9999-12-31T23:59:59.999999999-23:59"}]}`,
		`{"user_invites":[{"created_at":"yesterday"}]}`, `{"user_invites":[{"created_at":12}]}`,
		`{"user_invites":[{"id":"x","role_bindings":[{"role_name":"Admin","scope":{"resource_type":"SCOPE_RESOURCE_TYPE_AIAGENT","resource_id":"x","dataplane_id":"d0dataplane000000000","future":1}},{"role_name":"Writer"},{"scope":null}]}]}`,
		`{"user_invites":[{"id":"inv/1","email":"ada@example.com","invite_url":"https://cloud.redpanda.com/invite/abc?x=1&y=2"}],"next_page_token":"A"}`,
		`{"user_invites":[{"id":"a"},{"id":"a"}],"next_page_token":"\u0000"}`,
		`{"user_invites":{"id":"a"}}`, `{"user_invites":[{"role_bindings":{}}]}`, `{"user_invites":[`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var page listUserInvitesResponse
		if upstream.Decode(body, &page, decodeOptions) != nil { // as the client decodes
			return
		}
		for i := range page.UserInvites {
			u := &page.UserInvites[i]
			got := ToInvitation(u)
			if got.ID != invite.RedpandaID(u.ID) || got.Provider != invite.Redpanda || got.Email != u.Email ||
				got.OrgID != "" || !got.CreatedAt.Equal(u.CreatedAt) || got.CreatedAt.Location() != time.UTC {
				t.Fatalf("ToInvitation(%+v) = %+v", u, got)
			}
			if (got.ExpiresAt == nil) != u.ExpiresAt.IsZero() || got.ExpiresAt != nil && !got.ExpiresAt.Equal(u.ExpiresAt) {
				t.Fatalf("expiry %v became %v", u.ExpiresAt, got.ExpiresAt)
			}
			if (got.InviteURL == nil) != (u.InviteURL == "") || got.InviteURL != nil && *got.InviteURL != u.InviteURL {
				t.Fatalf("invite url %q became %v", u.InviteURL, got.InviteURL)
			}
			if len(got.Bindings) != len(u.RoleBindings) {
				t.Fatalf("%d bindings became %d", len(u.RoleBindings), len(got.Bindings))
			}
			for j, b := range got.Bindings {
				rb := u.RoleBindings[j]
				if b.RoleName != rb.RoleName || (b.Scope == nil) != (rb.Scope == nil) ||
					b.Scope != nil && (b.Scope.ResourceID != rb.Scope.ResourceID || !b.Scope.ResourceType.IsValid()) {
					t.Fatalf("binding %+v became %+v", rb, b)
				}
			}
		}
	})
}

// FuzzDecodeError runs the ErrorDecoder upstream.Caller uses on any error status, rate-limit
// header and body: it must not panic, must leave a known kind, and may only add to the error.
func FuzzDecodeError(f *testing.F) {
	for _, c := range []struct {
		status    int
		ratelimit string
		body      string
	}{
		{500, "", docErrorExample},
		{401, "", docUnauthenticated},
		{404, "", `{"code":"NOT_FOUND","message":"user invite \"x\" not found","details":[]}`},
		{400, "", `{"code":"INVALID_ARGUMENT","details":[{"@type":"google.rpc.ErrorInfo","reason":"REASON_INVALID_PAGE_TOKEN"}]}`},
		{404, "", `{"code":5,"message":"gone","details":[]}`},
		{500, "", `{"code":-1}`}, {500, "", `{"code":99999999999999999999}`}, {500, "", `{"code":1.5}`},
		{500, "", `{"code":"UNKNOWN","details":[{"@type":"google.rpc.ErrorInfo","reason":"REASON_RATE_LIMIT_EXCEEDED"}]}`},
		{404, "", `{"code":"NOT_FOUND","details":[7,{"@type":"google.rpc.Help","links":[]},{"@type":"google.rpc.ErrorInfo","reason":"R","metadata":{"a":1}}]}`},
		{429, "limit=500, remaining=0, reset=7", `{"code":"RESOURCE_EXHAUSTED"}`},
		{429, "limit=500, remaining=4, reset=7", ``},
		{429, "remaining=0,reset=-3", ``}, {429, "remaining=0, reset=99999999999", ``}, {429, "=,=,,", ``},
		{503, "", ``}, {502, "", `<html><body>Bad Gateway</body></html>`}, {500, "", `["x"]`}, {500, "", `null`},
		{418, "", `{"code":"SOMETHING_NEW"}`}, {401, "", `{"code":"UNAUTHENTICATED","details":{}}`},
	} {
		f.Add(c.status, c.ratelimit, []byte(c.body))
	}
	f.Fuzz(func(t *testing.T, status int, ratelimit string, body []byte) {
		if status < 100 || status > 599 || status/100 == 2 {
			return // Caller decodes only non-2xx replies
		}
		h := http.Header{}
		if ratelimit != "" {
			h.Set("Ratelimit", ratelimit)
		}
		e := &upstream.Error{Provider: provider, Op: "ListUserInvites", Status: status, Kind: upstream.KindForStatus(status)}
		decodeError(e, h, body)
		if !knownKind(e.Kind) {
			t.Fatalf("kind %v is not an upstream kind", e.Kind)
		}
		if e.Provider != provider || e.Op != "ListUserInvites" || e.Status != status {
			t.Fatalf("decodeError changed the call's identity: %+v", e)
		}
		if e.RetryAfter < 0 {
			t.Fatalf("negative retry-after %v from %q", e.RetryAfter, ratelimit)
		}
		var info *ErrorInfo
		if e.Err != nil && !errors.As(e.Err, &info) {
			t.Fatalf("cause %T, want *ErrorInfo", e.Err)
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
