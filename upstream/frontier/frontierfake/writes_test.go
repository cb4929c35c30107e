package frontierfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The writes, against both protocols.

const (
	otherOrg = "0f0e0d0c-0b0a-4909-8807-060504030201"
	inv1     = "11111111-2222-4333-8444-555555555555"
	inv2     = "66666666-7777-4888-8999-aaaaaaaaaaaa"
)

// writer sends the write calls to a fake of one protocol.
type writer struct {
	protocol string
	srv      *httptest.Server
}

func startWriter(t *testing.T, protocol string) (*Server, writer) {
	t.Helper()
	s := New(Options{Token: token, Now: func() time.Time { return clock }, Protocol: protocol})
	s.AddOrganization(org, "acme-corp", "Acme Corp")
	s.AddOrganization(otherOrg, "other", "Other")
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, writer{protocol: protocol, srv: srv}
}

// create sends CreateOrganizationInvitation; fields is the body without org_id.
func (w writer) create(t *testing.T, orgRef, fields, auth string) response {
	t.Helper()
	if w.protocol == ProtocolConnect {
		body := `{"org_id":"` + orgRef + `"`
		if fields != "{}" && fields != "" {
			body += "," + strings.TrimPrefix(fields, "{")
		} else {
			body += "}"
		}
		return connectCall{path: procedures + "CreateOrganizationInvitation", body: body, auth: auth}.send(t, w.srv)
	}
	return send(t, w.srv, http.MethodPost, "/v1beta1/organizations/"+orgRef+"/invitations", auth, fields)
}

func (w writer) delete(t *testing.T, orgRef, id, auth string) response {
	t.Helper()
	if w.protocol == ProtocolConnect {
		return connectCall{path: procedures + "DeleteOrganizationInvitation",
			body: `{"org_id":"` + orgRef + `","id":"` + id + `"}`, auth: auth}.send(t, w.srv)
	}
	return send(t, w.srv, http.MethodDelete, "/v1beta1/organizations/"+orgRef+"/invitations/"+id, auth, "")
}

// failure is an error answer in the protocol's body: the REST code number or the Connect name.
func (w writer) failure(status, code int, connectCode, msg string) (int, string) {
	if w.protocol == ProtocolConnect {
		b, _ := json.Marshal(map[string]string{"code": connectCode, "message": msg})
		return status, string(b)
	}
	b, _ := json.Marshal(msg)
	return status, fmt.Sprintf(`{"code":%d,"message":%s,"details":[]}`, code, b)
}

func TestCreateOrganizationInvitation(t *testing.T) {
	later := clock.Add(DefaultExpiry)
	open := Invitation{ID: inv1, UserID: "Ada@Example.com", CreatedAt: clock.Add(-time.Hour), ExpiresAt: clock.Add(time.Hour),
		GroupIDs: []string{"g0"}, Metadata: map[string]any{"note": "kept?"}}
	expired := Invitation{ID: inv2, UserID: "bob@example.com", CreatedAt: clock.Add(-8 * 24 * time.Hour), ExpiresAt: clock.Add(-time.Hour)}
	eleven := `{"user_ids":["a@x.io","b@x.io","c@x.io","d@x.io","e@x.io","f@x.io","g@x.io","h@x.io","i@x.io","j@x.io","k@x.io"]}`
	tests := []struct {
		name   string
		seed   []Invitation
		org    string
		fields string
		// wantREST and wantConnect are the success bodies, with <new> for a new ID.
		wantREST, wantConnect string
		wantStored            []Invitation // with "<new>" for a new ID; nil means as seeded
	}{
		{
			name:   "new invitations, lower-cased, in order",
			fields: `{"user_ids":["Grace@Example.com","linus@example.com"],"group_ids":["g1"]}`,
			wantREST: `{"invitations":[` +
				`{"id":"<new>","user_id":"grace@example.com","org_id":"` + org + `","group_ids":["g1"],"metadata":{"group_ids":["g1"],"role_ids":null},` +
				`"created_at":"2024-01-02T03:04:05Z","expires_at":"2024-01-09T03:04:05Z","role_ids":[]},` +
				`{"id":"<new2>","user_id":"linus@example.com","org_id":"` + org + `","group_ids":["g1"],"metadata":{"group_ids":["g1"],"role_ids":null},` +
				`"created_at":"2024-01-02T03:04:05Z","expires_at":"2024-01-09T03:04:05Z","role_ids":[]}]}`,
			wantConnect: `{"invitations":[` +
				`{"id":"<new>","user_id":"grace@example.com","org_id":"` + org + `","group_ids":["g1"],"metadata":{"group_ids":["g1"],"role_ids":null},` +
				`"created_at":"2024-01-02T03:04:05Z","expires_at":"2024-01-09T03:04:05Z"},` +
				`{"id":"<new2>","user_id":"linus@example.com","org_id":"` + org + `","group_ids":["g1"],"metadata":{"group_ids":["g1"],"role_ids":null},` +
				`"created_at":"2024-01-02T03:04:05Z","expires_at":"2024-01-09T03:04:05Z"}]}`,
			wantStored: []Invitation{
				{ID: "<new>", UserID: "grace@example.com", CreatedAt: clock, ExpiresAt: later, GroupIDs: []string{"g1"}},
				{ID: "<new2>", UserID: "linus@example.com", CreatedAt: clock, ExpiresAt: later, GroupIDs: []string{"g1"}},
			},
		},
		{
			name:   "an unexpired invitation's ID is reused, by the organization's name too",
			seed:   []Invitation{open},
			org:    "acme-corp",
			fields: `{"userIds":["ADA@example.com"],"roleIds":["r1"]}`,
			wantREST: `{"invitations":[{"id":"` + inv1 + `","user_id":"ada@example.com","org_id":"` + org + `","group_ids":[],` +
				`"metadata":{"group_ids":null,"role_ids":["r1"]},"created_at":"2024-01-02T02:04:05Z","expires_at":"2024-01-02T04:04:05Z","role_ids":["r1"]}]}`,
			wantConnect: `{"invitations":[{"id":"` + inv1 + `","user_id":"ada@example.com","org_id":"` + org + `",` +
				`"metadata":{"group_ids":null,"role_ids":["r1"]},"created_at":"2024-01-02T02:04:05Z","expires_at":"2024-01-02T04:04:05Z","role_ids":["r1"]}]}`,
			wantStored: []Invitation{{ID: inv1, UserID: "ada@example.com", CreatedAt: open.CreatedAt, ExpiresAt: open.ExpiresAt, RoleIDs: []string{"r1"}}},
		},
		{
			name:   "an expired invitation is not reused",
			seed:   []Invitation{expired},
			fields: `{"user_ids":["bob@example.com"]}`,
			wantREST: `{"invitations":[{"id":"<new>","user_id":"bob@example.com","org_id":"` + org + `","group_ids":[],` +
				`"metadata":{"group_ids":null,"role_ids":null},"created_at":"2024-01-02T03:04:05Z","expires_at":"2024-01-09T03:04:05Z","role_ids":[]}]}`,
			wantConnect: `{"invitations":[{"id":"<new>","user_id":"bob@example.com","org_id":"` + org + `",` +
				`"metadata":{"group_ids":null,"role_ids":null},"created_at":"2024-01-02T03:04:05Z","expires_at":"2024-01-09T03:04:05Z"}]}`,
			wantStored: []Invitation{expired, {ID: "<new>", UserID: "bob@example.com", CreatedAt: clock, ExpiresAt: later}},
		},
	}
	refusals := []struct {
		name   string
		org    string
		fields string
		auth   string
		status int
		code   int
		cname  string
		msg    string
		// only limits a case to one protocol ("" runs both).
		only string
	}{
		{name: "no user_ids", fields: `{"user_ids":[]}`, status: 400, code: 3, cname: "invalid_argument",
			msg: "validation error: user_ids: value must contain at least 1 item(s) [repeated.min_items]"},
		{name: "eleven user_ids", fields: eleven, status: 400, code: 3, cname: "invalid_argument",
			msg: "validation error: user_ids: value must contain no more than 10 item(s) [repeated.max_items]"},
		{name: "user_ids are checked before the organization", org: "missing", fields: `{}`, status: 400, code: 3,
			cname: "invalid_argument", msg: "validation error: user_ids: value must contain at least 1 item(s) [repeated.min_items]"},
		{name: "an invalid email", fields: `{"user_ids":["ada@example.com","not an email"]}`, status: 400, code: 3,
			cname: "invalid_argument", msg: "Invalid email"},
		{name: "unknown organization by name", org: "missing", fields: `{"user_ids":["a@example.com"]}`, status: 404, code: 5,
			cname: "not_found", msg: "not found"},
		{name: "unknown organization by UUID", org: "99999999-2222-4333-8444-555555555555", fields: `{"user_ids":["a@example.com"]}`,
			status: 403, code: 7, cname: "permission_denied", msg: "not authorized"},
		{name: "no credential", auth: "-", fields: `{"user_ids":["a@example.com"]}`, status: 401, code: 16,
			cname: "unauthenticated", msg: "not authenticated"},
		{name: "org_id too short", org: "ab", fields: `{"user_ids":["a@example.com"]}`, status: 400, cname: "invalid_argument",
			msg: "validation error: org_id: value length must be at least 3 characters [string.min_len]", only: ProtocolConnect},
		{name: "user_ids of the wrong type", fields: `{"user_ids":"a@example.com"}`, status: 400, code: 3, cname: "invalid_argument",
			msg: "unmarshal message: error not proto", only: ProtocolConnect},
		{name: "user_ids of the wrong type", fields: `{"user_ids":"a@example.com"}`, status: 400, code: 3, msg: "error not proto",
			only: ProtocolREST},
		{name: "an empty body is an empty message", fields: ``, status: 400, code: 3,
			msg: "validation error: user_ids: value must contain at least 1 item(s) [repeated.min_items]", only: ProtocolREST},
	}
	for _, protocol := range []string{ProtocolREST, ProtocolConnect} {
		for _, tt := range tests {
			t.Run(protocol+": "+tt.name, func(t *testing.T) {
				s, w := startWriter(t, protocol)
				for _, inv := range tt.seed {
					s.AddInvitation(org, inv)
				}
				got := w.create(t, orgOr(tt.org), tt.fields, bearer)
				stored := s.Invitations(org)
				ids := map[string]string{}
				for i, inv := range stored {
					if !seeded(tt.seed, inv.ID) {
						ids[[]string{"<new>", "<new2>"}[len(ids)]] = stored[i].ID
					}
				}
				want := tt.wantREST
				if protocol == ProtocolConnect {
					want = tt.wantConnect
				}
				for k, v := range ids {
					want = strings.ReplaceAll(want, `"`+k+`"`, `"`+v+`"`)
				}
				checkResponse(t, got, http.StatusOK, want)
				wantStored := make([]Invitation, len(tt.wantStored))
				for i, inv := range tt.wantStored {
					if id, ok := ids[inv.ID]; ok {
						inv.ID = id
					}
					inv.CreatedAt, inv.ExpiresAt = inv.CreatedAt.UTC(), inv.ExpiresAt.UTC()
					wantStored[i] = inv
				}
				if !reflect.DeepEqual(stored, wantStored) {
					t.Errorf("stored:\n got %+v\nwant %+v", stored, wantStored)
				}
				if reqs := s.Requests("CreateOrganizationInvitation"); len(reqs) != 1 {
					t.Errorf("recorded %+v", reqs)
				}
			})
		}
		for _, tt := range refusals {
			if tt.only != "" && tt.only != protocol {
				continue
			}
			t.Run(protocol+": "+tt.name, func(t *testing.T) {
				s, w := startWriter(t, protocol)
				auth := bearer
				if tt.auth != "" {
					auth = tt.auth
				}
				if protocol == ProtocolREST && tt.status == 403 {
					// REST looks an unknown organization up, whatever its form (see the package doc).
					tt.status, tt.code, tt.msg = 404, 5, "org doesn't exist"
				} else if protocol == ProtocolREST && tt.status == 404 {
					tt.msg = "org doesn't exist"
				}
				if auth == "-" && protocol == ProtocolREST {
					auth = ""
				}
				status, body := w.failure(tt.status, tt.code, tt.cname, tt.msg)
				checkResponse(t, w.create(t, orgOr(tt.org), tt.fields, auth), status, body)
				if n := len(s.Invitations(org)); n != 0 {
					t.Errorf("%d invitations stored after a refusal", n)
				}
			})
		}
	}
}

func orgOr(ref string) string {
	if ref == "" {
		return org
	}
	return ref
}

// seeded reports whether seed holds an invitation with id.
func seeded(seed []Invitation, id string) bool {
	for _, inv := range seed {
		if inv.ID == id {
			return true
		}
	}
	return false
}

func TestDeleteOrganizationInvitation(t *testing.T) {
	tests := []struct {
		name   string
		org    string
		id     string
		status int
		code   int
		cname  string
		msg    string
		left   []string // IDs left in org
	}{
		{name: "deletes the invitation", id: inv1, status: 200, left: []string{inv2}},
		{name: "by the organization's name", org: "acme-corp", id: inv2, status: 200, left: []string{inv1}},
		{name: "an unknown invitation is not found", id: "99999999-2222-4333-8444-555555555555", status: 404, code: 5,
			cname: "not_found", msg: "invitation not found", left: []string{inv1, inv2}},
		{name: "another organization's invitation is not found", org: otherOrg, id: inv1, status: 404, code: 5,
			cname: "not_found", msg: "invitation not found", left: []string{inv1, inv2}},
		{name: "an id that is not a UUID", id: "inv-1", status: 400, code: 3, cname: "invalid_argument",
			msg: "invalid syntax in body", left: []string{inv1, inv2}},
		{name: "unknown organization", org: "missing", id: inv1, status: 404, code: 5, cname: "not_found",
			msg: "not found", left: []string{inv1, inv2}},
	}
	for _, protocol := range []string{ProtocolREST, ProtocolConnect} {
		for _, tt := range tests {
			t.Run(protocol+": "+tt.name, func(t *testing.T) {
				s, w := startWriter(t, protocol)
				s.AddInvitation(org, Invitation{ID: inv1, UserID: "ada@example.com"})
				s.AddInvitation(org, Invitation{ID: inv2, UserID: "bob@example.com"})
				status, body := tt.status, `{}`
				if tt.status != 200 {
					msg := tt.msg
					if protocol == ProtocolREST && tt.org == "missing" {
						msg = "org doesn't exist"
					}
					status, body = w.failure(tt.status, tt.code, tt.cname, msg)
				}
				checkResponse(t, w.delete(t, orgOr(tt.org), tt.id, bearer), status, body)
				var left []string
				for _, inv := range s.Invitations(org) {
					left = append(left, inv.ID)
				}
				if !reflect.DeepEqual(left, tt.left) {
					t.Errorf("left %q, want %q", left, tt.left)
				}
			})
		}
		t.Run(protocol+": a second delete is not found, and the list no longer has it", func(t *testing.T) {
			s, w := startWriter(t, protocol)
			s.AddInvitation(org, Invitation{ID: inv1, UserID: "ada@example.com"})
			checkResponse(t, w.delete(t, org, inv1, bearer), 200, `{}`)
			status, body := w.failure(404, 5, "not_found", "invitation not found")
			checkResponse(t, w.delete(t, org, inv1, bearer), status, body)
			if n := s.Calls("DeleteOrganizationInvitation"); n != 2 {
				t.Errorf("calls = %d", n)
			}
			if inv := s.Invitations(org); len(inv) != 0 {
				t.Errorf("left %+v", inv)
			}
		})
		t.Run(protocol+": no credential", func(t *testing.T) {
			s, w := startWriter(t, protocol)
			s.AddInvitation(org, Invitation{ID: inv1, UserID: "ada@example.com"})
			auth := "-"
			if protocol == ProtocolREST {
				auth = ""
			}
			status, body := w.failure(401, 16, "unauthenticated", "not authenticated")
			checkResponse(t, w.delete(t, org, inv1, auth), status, body)
			if inv := s.Invitations(org); len(inv) != 1 {
				t.Errorf("left %+v", inv)
			}
		})
	}
}
