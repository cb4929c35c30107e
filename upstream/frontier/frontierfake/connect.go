package frontierfake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"unicode/utf8"

	"github.com/invitegw/invitegw/upstream/fakeserver"
)

// This file is the ConnectRPC API (releases >= v0.91.0): procedures, request decoding, the
// omit-empty reply types and Connect errors.

// connectService prefixes every procedure path.
const connectService = "/raystack.frontier.v1beta1.FrontierService/"

// maxRequest bounds a request body; the fake's requests are tiny.
const maxRequest = 1 << 20

// routeConnect registers the Connect procedures.
func (s *Server) routeConnect() {
	procedure(s, "ListOrganizationInvitations", func(q *invitationsRequest) (any, *refusal) {
		return found(invitationsToConnect(s.invitationsReply(q.orgID, q.userID)))
	})
	procedure(s, "CreateOrganizationInvitation", func(q *createInvitationRequest) (any, *refusal) {
		reply, ref := s.createInvitations(q.orgID, q.userIDs, q.groupIDs, q.roleIDs)
		v, _ := invitationsToConnect(reply, true)
		return v, ref
	})
	procedure(s, "DeleteOrganizationInvitation", func(q *deleteInvitationRequest) (any, *refusal) {
		return struct{}{}, s.deleteInvitation(q.orgID, q.id)
	})
	procedure(s, "GetOrganization", func(q *getOrganizationRequest) (any, *refusal) {
		reply, ok := s.organizationReply(q.id)
		return found(organizationReplyConnect{Organization: organizationConnect(reply.Organization)}, ok)
	})
	procedure(s, "ListRoles", func(*rolesRequest) (any, *refusal) {
		return rolesToConnect(s.rolesReply()), nil
	})
	procedure(s, "ListOrganizationRoles", func(q *organizationRolesRequest) (any, *refusal) {
		reply, ok := s.organizationRolesReply(q.orgID)
		return found(rolesToConnect(reply), ok)
	})
	procedure(s, "ListOrganizationGroups", func(q *groupsRequest) (any, *refusal) {
		reply, ok := s.groupsReply(q.orgID)
		return found(groupsConnect{Groups: twins(reply.Groups, func(v groupJSON) groupConnect { return groupConnect(v) })}, ok)
	})
	// Frontier's mux, and its generated handler for an unknown method, answer net/http's 404.
	s.mux.HandleFunc("/", s.Wrap("NotFound", http.NotFound))
}

// readBodyFirst reads the request body before next sees the request. net/http notices a client
// that hangs up (and cancels the request's context) only once the body has been read to its
// end; without this, an injected delay would outlast a client that gave up on a POST.
func readBodyFirst(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxRequest))
		if err != nil {
			return // the client is gone
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// procedure serves one unary procedure, checking the request in connect-go's order (see the
// package doc); reply answers the reply message or its refusal.
func procedure[Q any, PQ interface {
	*Q
	request
}](s *Server, method string, reply func(q *Q) (v any, ref *refusal)) {
	s.mux.HandleFunc(connectService+method, s.Wrap(method, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			w.Header().Set("Accept-Post", "application/json")
			w.WriteHeader(http.StatusUnsupportedMediaType)
			return
		}
		if v := r.Header.Get("Connect-Protocol-Version"); v != "" && v != "1" {
			writeConnectError(w, http.StatusBadRequest, "invalid_argument",
				fmt.Sprintf("Connect-Protocol-Version must be %q: got %q", "1", v))
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxRequest))
		var q Q
		if err == nil {
			err = decodeRequest(body, PQ(&q).fields())
		}
		if err != nil {
			writeConnectError(w, http.StatusBadRequest, "invalid_argument", "unmarshal message: "+err.Error())
			return
		}
		if !s.authenticated(r) {
			writeConnectError(w, http.StatusUnauthorized, "unauthenticated", "not authenticated")
			return
		}
		var org string
		if o, ok := any(PQ(&q)).(orgRequest); ok {
			var validated bool
			org, validated = o.org()
			if msg := invalidOrgID(org); validated && msg != "" {
				writeConnectError(w, http.StatusBadRequest, "invalid_argument", msg)
				return
			}
		}
		v, ref := reply(&q)
		switch {
		case ref == errOrgNotFound && isUUID(org):
			// Frontier's authorization interceptor checks a permission on the organization
			// before the handler looks it up, and an unknown UUID has none.
			writeConnectError(w, http.StatusForbidden, "permission_denied", "not authorized")
		case ref == errOrgNotFound:
			writeConnectError(w, http.StatusNotFound, "not_found", "not found")
		case ref != nil:
			writeConnectError(w, ref.status, fakeserver.GRPCCodeFor(ref.status).ConnectName(), ref.message)
		default:
			writeJSON(w, http.StatusOK, v)
		}
	}))
}

// A request is a request message: its fields, each with where to decode it.
type request interface {
	fields() []field
}

// orgRequest is a request message that names an organization, by ID or by name. validated
// says whether the field is org_id, which Frontier's proto rules constrain (invalidOrgID);
// GetOrganization's id has no such rule.
type orgRequest interface {
	org() (ref string, validated bool)
}

func (q *invitationsRequest) org() (string, bool)       { return q.orgID, true }
func (q *createInvitationRequest) org() (string, bool)  { return q.orgID, true }
func (q *deleteInvitationRequest) org() (string, bool)  { return q.orgID, true }
func (q *organizationRolesRequest) org() (string, bool) { return q.orgID, true }
func (q *groupsRequest) org() (string, bool)            { return q.orgID, true }
func (q *getOrganizationRequest) org() (string, bool)   { return q.id, false }

// orgIDPattern is the pattern rule of org_id in Frontier's protos (FACTS.md 3.2).
var orgIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// invalidOrgID is the message of the invalid_argument answer to an org_id that breaks
// Frontier's proto rules (min_len 3, orgIDPattern), or "" for a valid one. The wording follows
// protovalidate's; that Frontier's answer reads exactly so is inferred.
func invalidOrgID(id string) string {
	switch {
	case utf8.RuneCountInString(id) < 3:
		return "validation error: org_id: value length must be at least 3 characters [string.min_len]"
	case !orgIDPattern.MatchString(id):
		return `validation error: org_id: value does not match regex pattern "^[A-Za-z0-9_-]+$" [string.pattern]`
	}
	return ""
}

// uuidPattern is a UUID in its canonical form, the form Frontier looks an organization up by
// ID rather than by name.
var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func isUUID(s string) bool { return uuidPattern.MatchString(s) }

// field is one field of a request message, by its proto name and its lowerCamelCase JSON name
// (protojson accepts either), decoded into into. The fields the fake ignores are decoded too, so
// a value of the wrong type is refused as Frontier refuses it.
type field struct {
	proto, json string
	into        any
}

// The request messages, each with the fields the fake reads or checks.

type invitationsRequest struct{ orgID, userID string }

// createInvitationRequest is CreateOrganizationInvitationRequest; the REST route decodes its
// body into it too, and takes org_id from the path.
type createInvitationRequest struct {
	orgID                      string
	userIDs, groupIDs, roleIDs []string
}

type deleteInvitationRequest struct{ orgID, id string }

type getOrganizationRequest struct{ id string }

type rolesRequest struct {
	state  string
	scopes []string
}

type organizationRolesRequest struct {
	orgID, state string
	scopes       []string
}

type groupsRequest struct {
	orgID, state                 string
	groupIDs                     []string
	withMembers, withMemberCount bool
}

func (q *invitationsRequest) fields() []field {
	return []field{{"org_id", "orgId", &q.orgID}, {"user_id", "userId", &q.userID}}
}

func (q *createInvitationRequest) fields() []field {
	return []field{
		{"org_id", "orgId", &q.orgID}, {"user_ids", "userIds", &q.userIDs},
		{"group_ids", "groupIds", &q.groupIDs}, {"role_ids", "roleIds", &q.roleIDs},
	}
}

func (q *deleteInvitationRequest) fields() []field {
	return []field{{"org_id", "orgId", &q.orgID}, {"id", "id", &q.id}}
}

func (q *getOrganizationRequest) fields() []field { return []field{{"id", "id", &q.id}} }

func (q *rolesRequest) fields() []field {
	return []field{{"state", "state", &q.state}, {"scopes", "scopes", &q.scopes}}
}

func (q *organizationRolesRequest) fields() []field {
	return []field{{"org_id", "orgId", &q.orgID}, {"state", "state", &q.state}, {"scopes", "scopes", &q.scopes}}
}

func (q *groupsRequest) fields() []field {
	return []field{
		{"org_id", "orgId", &q.orgID}, {"state", "state", &q.state}, {"group_ids", "groupIds", &q.groupIDs},
		{"with_members", "withMembers", &q.withMembers}, {"with_member_count", "withMemberCount", &q.withMemberCount},
	}
}

// errNotProto is what Frontier's JSON codec answers for any body protojson refuses.
var errNotProto = errors.New("error not proto")

// decodeRequest decodes a request message as Frontier's codec does: an empty body is refused,
// unknown fields are ignored, null is the default value, and a field given under both of its
// names or with a value of the wrong type is refused.
func decodeRequest(body []byte, fields []field) error {
	if len(body) == 0 {
		return errors.New("zero-length payload is not a valid JSON object")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return errNotProto
	}
	for _, f := range fields {
		names := []string{f.proto}
		if f.json != f.proto {
			names = append(names, f.json)
		}
		var raw json.RawMessage
		n := 0
		for _, name := range names {
			if v, ok := m[name]; ok {
				raw, n = v, n+1
			}
		}
		if n > 1 {
			return errNotProto // the same field twice
		}
		if n == 1 && string(raw) != "null" && json.Unmarshal(raw, f.into) != nil {
			return errNotProto
		}
	}
	return nil
}

// Connect's reply types: the REST types' twins with every empty field omitted, as protojson
// writes them without EmitUnpopulated. Metadata is a set Struct whenever the fake has one, so it
// is omitted only when nil (omitzero) and an empty one is {}.

type invitationsConnect struct {
	Invitations []invitationConnect `json:"invitations,omitempty"`
}

type invitationConnect struct {
	ID        string         `json:"id,omitempty"`
	UserID    string         `json:"user_id,omitempty"`
	OrgID     string         `json:"org_id,omitempty"`
	GroupIDs  []string       `json:"group_ids,omitempty"`
	Metadata  map[string]any `json:"metadata,omitzero"`
	CreatedAt string         `json:"created_at,omitempty"`
	ExpiresAt string         `json:"expires_at,omitempty"`
	RoleIDs   []string       `json:"role_ids,omitempty"`
}

type organizationReplyConnect struct {
	Organization organizationConnect `json:"organization"`
}

type organizationConnect struct {
	ID        string         `json:"id,omitempty"`
	Name      string         `json:"name,omitempty"`
	Title     string         `json:"title,omitempty"`
	Metadata  map[string]any `json:"metadata,omitzero"`
	CreatedAt string         `json:"created_at,omitempty"`
	UpdatedAt string         `json:"updated_at,omitempty"`
	State     string         `json:"state,omitempty"`
	Avatar    string         `json:"avatar,omitempty"`
}

type rolesConnect struct {
	Roles []roleConnect `json:"roles,omitempty"`
}

type roleConnect struct {
	ID          string         `json:"id,omitempty"`
	Name        string         `json:"name,omitempty"`
	Permissions []string       `json:"permissions,omitempty"`
	Title       string         `json:"title,omitempty"`
	Metadata    map[string]any `json:"metadata,omitzero"`
	CreatedAt   string         `json:"created_at,omitempty"`
	UpdatedAt   string         `json:"updated_at,omitempty"`
	OrgID       string         `json:"org_id,omitempty"`
	State       string         `json:"state,omitempty"`
	Scopes      []string       `json:"scopes,omitempty"`
}

type groupsConnect struct {
	Groups []groupConnect `json:"groups,omitempty"`
}

type groupConnect struct {
	ID           string         `json:"id,omitempty"`
	Name         string         `json:"name,omitempty"`
	Title        string         `json:"title,omitempty"`
	OrgID        string         `json:"org_id,omitempty"`
	Metadata     map[string]any `json:"metadata,omitzero"`
	CreatedAt    string         `json:"created_at,omitempty"`
	UpdatedAt    string         `json:"updated_at,omitempty"`
	Users        []any          `json:"users,omitempty"`
	MembersCount int32          `json:"members_count,omitempty"`
}

// invitationsToConnect is the Connect twin of an invitations reply, passing ok through.
func invitationsToConnect(reply invitationsJSON, ok bool) (invitationsConnect, bool) {
	return invitationsConnect{Invitations: twins(reply.Invitations, func(v invitationJSON) invitationConnect {
		return invitationConnect(v)
	})}, ok
}

func rolesToConnect(reply rolesJSON) rolesConnect {
	return rolesConnect{Roles: twins(reply.Roles, func(v roleJSON) roleConnect { return roleConnect(v) })}
}

// twins converts each REST value to its Connect twin.
func twins[From, To any](in []From, conv func(From) To) []To {
	out := make([]To, 0, len(in))
	for _, v := range in {
		out = append(out, conv(v))
	}
	return out
}

// connectErrorJSON is the Connect protocol's error body; the fake sends no details, and Connect
// omits them then.
type connectErrorJSON struct {
	Code    string `json:"code"`
	Message string `json:"message,omitempty"`
}

func writeConnectError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, connectErrorJSON{Code: code, Message: msg})
}

// writeConnectInjected writes the Connect error of an injected failure (see the package doc).
func writeConnectInjected(w http.ResponseWriter, status int) {
	f := failureFor(status)
	retryAfterOnInjected(w, status)
	writeConnectError(w, status, f.code.ConnectName(), f.message)
}
