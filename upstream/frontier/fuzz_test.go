package frontier

import (
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/invitegw/invitegw/invite"
	"github.com/invitegw/invitegw/upstream"
)

// docListExample is the 200 example of "List pending invitations" in Frontier's API reference
// (/work/shared/upstreams/frontier-list-pending-invitations.txt); note the lone strings where the
// schema has arrays.
const docListExample = `{
"invitations": [
{
"id": "k9c4f4e2-9b9a-4c1a-8f1a-2b9b9b9b9b9b",
"user_id": "john.doe@raystack.org",
"org_id": "b9c4f4e2-9b9a-4c1a-8f1a-2b9b9b9b9b9b",
"group_ids": "c9c4f4e2-9b9a-4c1a-8f1a-2b9b9b9b9b9b",
"metadata": {
"key": "value"
},
"created_at": "2023-06-07T05:39:56.961Z",
"expires_at": "2023-06-07T05:39:56.961Z",
"role_ids": "d9c4f4e2-9b9a-4c1a-8f1a-2b9b9b9b9b9b"
}
]
}`

// docErrorExample is the error example of the same page (every status shows the same one).
const docErrorExample = `{
"code": 0,
"message": "string",
"details": [
{
"@type": "string"
}
]
}`

// FuzzListOrganizationInvitations decodes a list reply into the shape both transports decode it
// into, and converts every invitation: neither may panic, and the conversion keeps what
// ToInvitation promises.
func FuzzListOrganizationInvitations(f *testing.F) {
	for _, s := range []string{
		docListExample, `{"invitations":[]}`, `{}`, ``, `null`, `{"invitations":null}`,
		`{"invitations":[{"id":"i","user_id":"a@b.c","org_id":"o","group_ids":["g1","g2"],"role_ids":[],` +
			`"metadata":{"group_ids":["g1","g2"],"role_ids":null,"n":1.5,"deep":{"x":[true,null]}},` +
			`"created_at":"2023-06-07T05:39:56.961Z","expires_at":"2023-06-14T05:39:56.961Z"}]}`,
		`{"invitations":[{"group_ids":"","role_ids":null}]}`, `{"invitations":[{"group_ids":"\u0000"}]}`,
		`{"invitations":[{"group_ids":[null]}]}`, `{"invitations":[{"group_ids":7}]}`, `{"invitations":[{"role_ids":{}}]}`,
		`{"invitations":[{"metadata":[]}]}`, `{"invitations":[{"created_at":"0001-01-01T00:00:00Z"}]}`,
		`{"invitations":[{"id":"a:b","expires_at":"9999-12-31T23:59:59Z"}]}`, `{"invitations": [`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var out struct {
			Invitations []Invitation `json:"invitations"`
		}
		if upstream.Decode(body, &out) != nil { // as the client decodes
			return
		}
		for i := range out.Invitations {
			inv := &out.Invitations[i]
			got := ToInvitation(testOrg, inv)
			if got.ID != invite.FrontierID(testOrg, inv.ID) || got.Provider != invite.Frontier ||
				got.Email != inv.UserID || got.OrgID != testOrg || got.Bindings != nil ||
				!got.CreatedAt.Equal(inv.CreatedAt) || got.CreatedAt.Location() != time.UTC {
				t.Fatalf("ToInvitation(%+v) = %+v", inv, got)
			}
			if (got.ExpiresAt == nil) != inv.ExpiresAt.IsZero() || got.ExpiresAt != nil && !got.ExpiresAt.Equal(inv.ExpiresAt) {
				t.Fatalf("expiry %v became %v", inv.ExpiresAt, got.ExpiresAt)
			}
			if got.RoleIDs == nil || got.GroupIDs == nil ||
				!slices.Equal(got.RoleIDs, inv.RoleIDs) || !slices.Equal(got.GroupIDs, inv.GroupIDs) {
				t.Fatalf("role ids %q and group ids %q became %q and %q", inv.RoleIDs, inv.GroupIDs, got.RoleIDs, got.GroupIDs)
			}
			if (got.Metadata == nil) != (inv.Metadata == nil) || len(got.Metadata) != len(inv.Metadata) {
				t.Fatalf("metadata %v became %v", inv.Metadata, got.Metadata)
			}
		}
	})
}

// FuzzDecodeError runs both transports' ErrorDecoders, the ones upstream.Caller uses, on any
// error status and body: they must not panic, must leave a known kind, and may only add a code,
// a message and a kind.
func FuzzDecodeError(f *testing.F) {
	for _, c := range []struct {
		status int
		body   string
	}{
		{500, docErrorExample},
		{404, `{"code":5,"message":"org doesn't exist","details":[]}`},
		{400, `{"code":3,"message":"invalid syntax in body","details":[]}`},
		{401, `{"code":16,"message":"unauthenticated"}`},
		{404, `{"code":"not_found","message":"not found"}`},
		{429, `{"code":"resource_exhausted","message":"slow down","details":[{"type":"x","value":"AA=="}]}`},
		{500, `{"code":"internal"}`}, {409, `{"code":"already_exists"}`}, {500, `{"code":"something_new"}`},
		{500, `{"code":-1}`}, {500, `{"code":2147483648}`}, {500, `{"code":17}`}, {500, `{"code":null}`},
		{502, `<html>Bad Gateway</html>`}, {503, ``}, {404, `null`}, {500, `[]`}, {500, `{"code":"5"}`},
	} {
		f.Add(c.status, []byte(c.body))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 599 || status/100 == 2 {
			return // Caller decodes only non-2xx replies
		}
		for name, decode := range map[string]upstream.ErrorDecoder{"rest": decodeRESTError, "connect": decodeConnectError} {
			e := &upstream.Error{Provider: provider, Op: "ListOrganizationInvitations", Status: status,
				Kind: upstream.KindForStatus(status)}
			decode(e, http.Header{}, body)
			if !knownKind(e.Kind) {
				t.Fatalf("%s: kind %v is not an upstream kind", name, e.Kind)
			}
			if e.Provider != provider || e.Op != "ListOrganizationInvitations" || e.Status != status ||
				e.Err != nil || e.RetryAfter != 0 {
				t.Fatalf("%s: decoder changed more than code, message and kind: %+v", name, e)
			}
			if name == "rest" && e.Code != "" {
				if _, err := strconv.ParseInt(e.Code, 10, 32); err != nil {
					t.Fatalf("rest: code %q is not a gRPC code number", e.Code)
				}
			}
			_ = e.Error()
		}
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
