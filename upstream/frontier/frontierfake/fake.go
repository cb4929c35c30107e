// Package frontierfake is an in-memory fake of Raystack Frontier, limited to the calls invitegw
// makes, served over real HTTP for tests and the demo. Each instance speaks one of Frontier's two
// APIs (Options.Protocol): the REST API of releases <= v0.90.0 (a grpc-gateway) or the ConnectRPC
// API of releases >= v0.91.0. It speaks the wire formats of FACTS.md section 3 with its own JSON
// types (it never imports the client) and checks credentials the same way in both.
//
// Routes. The Recorder names each by its Connect method in both protocols, and everything else
// "NotFound", so call counts can be asserted without knowing which protocol is served:
//
//	REST                                                          Connect (POST /raystack.frontier.v1beta1.FrontierService/...)
//	GET    /v1beta1/organizations/{org_id}/invitations?user_id=   ListOrganizationInvitations
//	POST   /v1beta1/organizations/{org_id}/invitations            CreateOrganizationInvitation
//	DELETE /v1beta1/organizations/{org_id}/invitations/{id}       DeleteOrganizationInvitation
//	GET    /v1beta1/organizations/{id}                            GetOrganization
//	GET    /v1beta1/roles                                         ListRoles
//	GET    /v1beta1/organizations/{org_id}/roles                  ListOrganizationRoles
//	GET    /v1beta1/organizations/{org_id}/groups                 ListOrganizationGroups
//
// Every request is kept by the embedded Recorder (Requests: method, escaped path, query, body);
// the Add* methods seed, Invitations reads an organization's invitations back.
//
// What both protocols reproduce: timestamps in protojson's form (UTC, "Z", 0/3/6/9 fractional
// digits), no HTML escaping; invitation user_id lower-cased, the user_id filter compared
// lower-cased; the invitation metadata as the store returns it, with "group_ids" and "role_ids"
// keys repeating the lists (null when a list is empty); an organization found by ID or by name;
// platform roles with org_id 00000000-0000-0000-0000-000000000000.
//
// REST: JSON as grpc-gateway writes it with UseProtoNames and EmitUnpopulated (empty lists as
// [], empty strings as "", every field present); grpc-gateway also accepts the query parameter
// userId. Errors are rpc.Status with an integer code. Unauthenticated calls are answered 401
// {"code":16,"message":"not authenticated","details":[]} before anything else is looked at; an
// unknown organization is 404 {"code":5,"message":"org doesn't exist","details":[]}.
//
// Connect: unary calls with the JSON codec. The request body is decoded as protojson does it with
// DiscardUnknown (proto names or their lowerCamelCase JSON names, unknown fields ignored, a wrong
// type refused); Frontier's codec refuses an empty body, so a call without fields must send {}.
// Replies use protojson with UseProtoNames and nothing else: empty lists, empty strings and zero
// numbers are omitted (a reply without items is {}), a set message field (timestamps, metadata)
// is present even when empty. Errors are Connect's JSON, {"code":"not_found","message":"not
// found"}, with the status of the Connect spec's table. The checks run in connect-go's order:
// method (anything but POST is 405 with Allow: POST and no body), Content-Type (other than
// application/json is 415 with no body), a Connect-Protocol-Version other than "1" (400
// invalid_argument; a missing one is accepted, as Frontier does not require it), the body (400
// invalid_argument "unmarshal message: ..."), then credentials (401
// {"code":"unauthenticated","message":"not authenticated"}), then org_id against Frontier's
// proto rules, at least 3 characters matching ^[A-Za-z0-9_-]+$ (400 invalid_argument, message
// in protovalidate's words), then the organization: an unknown one given as a UUID is 403
// {"code":"permission_denied","message":"not authorized"}, as Frontier's authorization
// interceptor refuses it before any lookup, and an unknown name is 404
// {"code":"not_found","message":"not found"} (FACTS.md 3.2; both outcomes, the messages and
// the validation's place in the order are inferred there). The Recorder counts the 405 and 415 answers, and
// applies injected faults to them, under the procedure's name.
//
// The writes, in both protocols (REST answers as grpc-gateway does, HTTP 200 with the reply
// message; errors in each protocol's body with the code's status, REST's code as its number):
//   - CreateOrganizationInvitation: body {user_ids, group_ids, role_ids} (REST, org_id from the
//     path; an empty REST body is an empty message, as grpc-gateway reads it) or with org_id
//     (Connect). user_ids must hold 1 to 10 entries (Frontier's proto rule, FACTS.md 3.2),
//     checked before the organization, else invalid_argument "validation error: user_ids:
//     value must contain at least 1 item(s) [repeated.min_items]" or "... no more than 10
//     item(s) [repeated.max_items]" (protovalidate's wording, inferred). Then the organization
//     (as on the reads), then every user_id must be a bare email address (net/mail's
//     addr-spec; Frontier has its own check), else invalid_argument "Invalid email" and nothing
//     is created. Each email, lower-cased, in order: an invitation of the organization for it
//     that has not expired is reused, as Frontier reuses its ID (FACTS.md 3.2): its group_ids
//     and role_ids become the request's and its metadata only those two keys, while created_at
//     and expires_at stay (inferred from the store's upsert, which updates user, org and
//     metadata only). Otherwise a new one gets a random UUID, created_at now and expires_at
//     DefaultExpiry later. The reply is {"invitations":[...]}, one per user_id, in order.
//     Group and role IDs are not checked against the organization's groups and roles, and no
//     user is ever "already a member" (Frontier's already_exists): the fake has no members.
//   - DeleteOrganizationInvitation: the organization first (as on the reads), then the id must
//     be a canonical UUID, else invalid_argument "invalid syntax in body" (Frontier's bad-UUID
//     answer, FACTS.md 3.4); an id that is no invitation of that organization is not_found
//     "invitation not found", and a deleted invitation leaves the list at once; the reply is
//     {}. That not_found is what invitegw's contract asks for: Frontier's handler deletes by ID
//     without checking that a row went, and its authorization interceptor checks a permission
//     on the invitation before the handler runs, so the real service probably answers an
//     unknown (or already deleted) invitation 403 permission_denied, or 200 {}; neither is
//     documented.
//
// How it differs from the real service, and what is inferred or invented:
//   - Auth: accepted are exactly `Bearer <Options.Token>` and Basic auth with
//     Options.ClientID/ClientSecret (DefaultToken when no credential is configured). There are no
//     JWTs, no token endpoint and no identity-proxy header, and there is no authorization: any
//     accepted credential reads every organization (the real server checks SpiceDB permissions
//     and answers 403 code 7 / "permission_denied" "not authorized" when they fail).
//   - An unknown organization is 404 on every REST organization route. The real server runs
//     its authorization check first, which may well deny an unknown organization with 403
//     instead (FACTS.md 3.1, inferred there); the REST fake chooses the handler's 404, the
//     answer a client must handle in any case, while the Connect fake answers an unknown UUID
//     403 (see above). The messages are the invitation handlers' ("org doesn't exist" in REST,
//     "not found" in Connect); the fake uses them on the role, group and organization calls too.
//     REST does not check org_id against the proto rules. Disabled organizations are not
//     modelled.
//   - Lookup by name: the real server looks an organization up by ID when the value is a UUID
//     and by name otherwise; the fake tries the ID first, then the name, whatever the form.
//   - Lists come in insertion order (the real queries have no ORDER BY). Filters other than
//     user_id (state, scopes, group_ids, with_members, with_member_count) are ignored: roles are
//     always "enabled" and groups come without users and with members_count 0.
//   - Role IDs are kept whatever the invite_with_roles preference (the real server drops them
//     unless it is "true"). Invitations, roles and groups seeded without an ID get a random UUID;
//     an invitation without CreatedAt is created now, one without ExpiresAt expires 7 days after
//     creation (Frontier's default); timestamps are truncated to microseconds, as Postgres stores
//     them. Organizations and roles or groups without timestamps get the time of seeding.
//   - Invented defaults (the sources do not say): organization, role and group metadata is {}
//     (present in Connect replies too, as a set but empty Struct), organization avatar "",
//     permissions and scopes empty unless seeded.
//   - Output is compact and stable; protojson randomly adds spaces. No Grpc-Metadata-* headers.
//     Connect mode serves only the Connect protocol with JSON: no application/proto, no gRPC or
//     gRPC-Web, no GET, no compression, and Connect-Timeout-Ms is ignored.
//   - Injected failures (Recorder.FailNext) write the protocol's error body with the code that
//     maps to the status (fakeserver.GRPCCodeFor): 400 3/invalid_argument "invalid argument",
//     401 16/unauthenticated "not authenticated", 403 7/permission_denied "not authorized", 404
//     5/not_found "not found", 409 6/already_exists "already exists", 429 8/resource_exhausted
//     "resource exhausted" (with Retry-After: 1, which neither server sends; a rate-limiting
//     proxy would), 499 1/canceled "canceled", 500 13/internal "internal server error", 501
//     12/unimplemented "unimplemented", 503 14/unavailable "unavailable", 504
//     4/deadline_exceeded "deadline exceeded", anything else 2/unknown "unknown". Frontier
//     itself has no rate limiting.
//   - Unknown paths answer without checking credentials: REST with 404 {"code":5,"message":"Not
//     Found","details":[]}, as the gateway's router does for a path it does not serve, and other
//     methods on known REST paths likewise (the real gateway may answer those with another
//     status); Connect with net/http's plain-text 404 "404 page not found", as Frontier's mux and
//     generated handler do.
package frontierfake

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/invitegw/invitegw/upstream/fakeserver"
)

// DefaultToken is the Bearer token the fake accepts when Options configures no credential.
const DefaultToken = "frontier-fake-token"

// PlatformOrgID is the org_id of platform roles (the nil UUID).
const PlatformOrgID = "00000000-0000-0000-0000-000000000000"

// DefaultExpiry is how long an invitation seeded without ExpiresAt lasts (Frontier's
// invitation.DefaultExpiryDuration).
const DefaultExpiry = 7 * 24 * time.Hour

// Invitation is a seeded invitation.
type Invitation struct {
	// ID is the invitation's UUID; a random one when empty.
	ID string
	// UserID is the invitee's email; served lower-cased.
	UserID string
	// CreatedAt is now when zero; ExpiresAt is CreatedAt + DefaultExpiry when zero.
	CreatedAt, ExpiresAt time.Time
	GroupIDs, RoleIDs    []string
	// Metadata is merged with the "group_ids" and "role_ids" keys the store adds.
	Metadata map[string]any
}

// Role is a seeded role. Only ID, Name and Title are required.
type Role struct {
	ID, Name, Title string
	// Permissions and Scopes are served as [] when empty.
	Permissions, Scopes []string
	// Metadata is served as {} when nil.
	Metadata map[string]any
	// CreatedAt and UpdatedAt are the time of seeding when zero.
	CreatedAt, UpdatedAt time.Time
}

// Group is a seeded group. Only ID and Name are required; Title is often empty in Frontier.
type Group struct {
	ID, Name, Title string
	// Metadata is served as {} when nil.
	Metadata map[string]any
	// CreatedAt and UpdatedAt are the time of seeding when zero.
	CreatedAt, UpdatedAt time.Time
}

// Options configures the fake. With no credential at all, Bearer DefaultToken is accepted.
type Options struct {
	// Token is accepted as `Authorization: Bearer <Token>`.
	Token string
	// ClientID and ClientSecret are accepted as Basic auth.
	ClientID, ClientSecret string
	// Now is the clock for server-set timestamps; time.Now when nil.
	Now func() time.Time
	// Protocol is the API served: ProtocolREST (also when empty) or ProtocolConnect.
	Protocol string
}

// The protocols a fake can serve (Options.Protocol), named as the client names them.
const (
	// ProtocolREST is the grpc-gateway REST API of releases <= v0.90.0.
	ProtocolREST = "rest"
	// ProtocolConnect is the ConnectRPC API of releases >= v0.91.0.
	ProtocolConnect = "connect"
)

// Server is the fake. It is safe for concurrent use; seed it before or while serving.
type Server struct {
	*fakeserver.Recorder

	token, clientID, clientSecret string
	now                           func() time.Time
	mux                           *http.ServeMux
	handler                       http.Handler // mux, or mux behind what the protocol needs first

	mu            sync.Mutex
	orgs          []*organization // in insertion order
	platformRoles []Role
}

type organization struct {
	id, name, title      string
	createdAt, updatedAt time.Time
	invitations          []Invitation
	roles                []Role
	groups               []Group
}

// New returns an empty fake. It panics on an unknown protocol: that is a test bug.
func New(o Options) *Server {
	s := &Server{token: o.Token, clientID: o.ClientID, clientSecret: o.ClientSecret, now: o.Now, mux: http.NewServeMux()}
	if s.token == "" && s.clientID == "" && s.clientSecret == "" {
		s.token = DefaultToken
	}
	if s.now == nil {
		s.now = time.Now
	}
	switch o.Protocol {
	case "", ProtocolREST:
		s.Recorder = fakeserver.NewRecorder(writeRESTInjected)
		s.routeREST()
		s.handler = s.mux
	case ProtocolConnect:
		s.Recorder = fakeserver.NewRecorder(writeConnectInjected)
		s.routeConnect()
		s.handler = readBodyFirst(s.mux)
	default:
		panic(fmt.Sprintf("frontierfake: unknown protocol %q", o.Protocol))
	}
	return s
}

// ServeHTTP makes the fake an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// AddOrganization adds an organization: id is its UUID, name its unique slug, title its display
// name. Adding an existing id changes its name and title and keeps what it holds.
func (s *Server) AddOrganization(id, name, title string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.stamp(time.Time{})
	for _, o := range s.orgs {
		if o.id == id {
			o.name, o.title, o.updatedAt = name, title, now
			return
		}
	}
	s.orgs = append(s.orgs, &organization{id: id, name: name, title: title, createdAt: now, updatedAt: now})
}

// AddPlatformRole adds a platform role, listed by ListRoles with the nil-UUID org_id.
func (s *Server) AddPlatformRole(r Role) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.platformRoles = append(s.platformRoles, s.seedRole(r))
}

// AddOrganizationRole adds a custom role to an organization. It panics when the organization is
// unknown: that is a seeding bug.
func (s *Server) AddOrganizationRole(orgID string, r Role) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.mustOrg("AddOrganizationRole", orgID)
	o.roles = append(o.roles, s.seedRole(r))
}

// AddGroup adds a group to an organization. It panics when the organization is unknown.
func (s *Server) AddGroup(orgID string, g Group) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.mustOrg("AddGroup", orgID)
	if g.ID == "" {
		g.ID = newUUID()
	}
	g.CreatedAt, g.UpdatedAt = s.stamp(g.CreatedAt), s.stamp(g.UpdatedAt)
	g.Metadata = maps.Clone(g.Metadata)
	o.groups = append(o.groups, g)
}

// AddInvitation adds an invitation to an organization as Frontier's store would keep it (see
// Invitation). It panics when the organization is unknown.
func (s *Server) AddInvitation(orgID string, inv Invitation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.mustOrg("AddInvitation", orgID)
	if inv.ID == "" {
		inv.ID = newUUID()
	}
	inv.UserID = strings.ToLower(inv.UserID)
	inv.CreatedAt = s.stamp(inv.CreatedAt)
	if inv.ExpiresAt.IsZero() {
		inv.ExpiresAt = inv.CreatedAt.Add(DefaultExpiry)
	}
	inv.ExpiresAt = truncate(inv.ExpiresAt)
	inv.GroupIDs, inv.RoleIDs = slices.Clone(inv.GroupIDs), slices.Clone(inv.RoleIDs)
	inv.Metadata = maps.Clone(inv.Metadata)
	o.invitations = append(o.invitations, inv)
}

// Invitations is an organization's invitations as stored, in list order; nil for an unknown
// organization (found by ID, else by name).
func (s *Server) Invitations(orgRef string) []Invitation {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.findOrg(orgRef)
	if o == nil {
		return nil
	}
	out := make([]Invitation, 0, len(o.invitations))
	for _, inv := range o.invitations {
		inv.GroupIDs, inv.RoleIDs = slices.Clone(inv.GroupIDs), slices.Clone(inv.RoleIDs)
		inv.Metadata = maps.Clone(inv.Metadata)
		out = append(out, inv)
	}
	return out
}

// RemoveInvitation deletes an invitation, as accepting or deleting it does. It reports whether
// it was there.
func (s *Server) RemoveInvitation(orgID, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.findOrg(orgID)
	if o == nil {
		return false
	}
	for i, inv := range o.invitations {
		if inv.ID == id {
			o.invitations = slices.Delete(o.invitations, i, i+1)
			return true
		}
	}
	return false
}

// seedRole must be called with s.mu held.
func (s *Server) seedRole(r Role) Role {
	if r.ID == "" {
		r.ID = newUUID()
	}
	r.CreatedAt, r.UpdatedAt = s.stamp(r.CreatedAt), s.stamp(r.UpdatedAt)
	r.Permissions, r.Scopes = slices.Clone(r.Permissions), slices.Clone(r.Scopes)
	r.Metadata = maps.Clone(r.Metadata)
	return r
}

// stamp is t, or now when t is zero, as Postgres keeps it.
func (s *Server) stamp(t time.Time) time.Time {
	if t.IsZero() {
		t = s.now()
	}
	return truncate(t)
}

func truncate(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// mustOrg must be called with s.mu held.
func (s *Server) mustOrg(fn, id string) *organization {
	for _, o := range s.orgs {
		if o.id == id {
			return o
		}
	}
	panic(fmt.Sprintf("frontierfake: %s: unknown organization %q", fn, id))
}

// findOrg finds an organization by ID, else by name. It must be called with s.mu held.
func (s *Server) findOrg(idOrName string) *organization {
	for _, o := range s.orgs {
		if o.id == idOrName {
			return o
		}
	}
	for _, o := range s.orgs {
		if o.name == idOrName {
			return o
		}
	}
	return nil
}

// Wire types: the fake's own, in proto field order, every field present (the REST gateway's
// EmitUnpopulated). The Connect replies convert them to the omitempty twins in connect.go.

type invitationsJSON struct {
	Invitations []invitationJSON `json:"invitations"`
}

type invitationJSON struct {
	ID        string         `json:"id"`
	UserID    string         `json:"user_id"`
	OrgID     string         `json:"org_id"`
	GroupIDs  []string       `json:"group_ids"`
	Metadata  map[string]any `json:"metadata"`
	CreatedAt string         `json:"created_at"`
	ExpiresAt string         `json:"expires_at"`
	RoleIDs   []string       `json:"role_ids"`
}

type organizationReplyJSON struct {
	Organization organizationJSON `json:"organization"`
}

type organizationJSON struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Title     string         `json:"title"`
	Metadata  map[string]any `json:"metadata"`
	CreatedAt string         `json:"created_at"`
	UpdatedAt string         `json:"updated_at"`
	State     string         `json:"state"`
	Avatar    string         `json:"avatar"`
}

type rolesJSON struct {
	Roles []roleJSON `json:"roles"`
}

type roleJSON struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	Permissions []string       `json:"permissions"`
	Title       string         `json:"title"`
	Metadata    map[string]any `json:"metadata"`
	CreatedAt   string         `json:"created_at"`
	UpdatedAt   string         `json:"updated_at"`
	OrgID       string         `json:"org_id"`
	State       string         `json:"state"`
	Scopes      []string       `json:"scopes"`
}

type groupsJSON struct {
	Groups []groupJSON `json:"groups"`
}

type groupJSON struct {
	ID           string         `json:"id"`
	Name         string         `json:"name"`
	Title        string         `json:"title"`
	OrgID        string         `json:"org_id"`
	Metadata     map[string]any `json:"metadata"`
	CreatedAt    string         `json:"created_at"`
	UpdatedAt    string         `json:"updated_at"`
	Users        []any          `json:"users"`
	MembersCount int32          `json:"members_count"`
}

// The replies, the same data for both protocols. Each reports false when the organization is
// unknown.

func (s *Server) invitationsReply(orgRef, userID string) (invitationsJSON, bool) {
	userID = strings.ToLower(userID)
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.findOrg(orgRef)
	if o == nil {
		return invitationsJSON{}, false
	}
	reply := invitationsJSON{Invitations: []invitationJSON{}}
	for _, inv := range o.invitations {
		if userID == "" || inv.UserID == userID {
			reply.Invitations = append(reply.Invitations, invitationToJSON(o.id, &inv))
		}
	}
	return reply, true
}

func (s *Server) organizationReply(ref string) (organizationReplyJSON, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.findOrg(ref)
	if o == nil {
		return organizationReplyJSON{}, false
	}
	return organizationReplyJSON{Organization: organizationJSON{
		ID: o.id, Name: o.name, Title: o.title, Metadata: map[string]any{},
		CreatedAt: timestamp(o.createdAt), UpdatedAt: timestamp(o.updatedAt), State: "enabled",
	}}, true
}

func (s *Server) rolesReply() rolesJSON {
	s.mu.Lock()
	defer s.mu.Unlock()
	return rolesJSON{Roles: rolesToJSON(PlatformOrgID, s.platformRoles)}
}

func (s *Server) organizationRolesReply(ref string) (rolesJSON, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.findOrg(ref)
	if o == nil {
		return rolesJSON{}, false
	}
	return rolesJSON{Roles: rolesToJSON(o.id, o.roles)}, true
}

func (s *Server) groupsReply(ref string) (groupsJSON, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.findOrg(ref)
	if o == nil {
		return groupsJSON{}, false
	}
	reply := groupsJSON{Groups: make([]groupJSON, 0, len(o.groups))}
	for _, g := range o.groups {
		reply.Groups = append(reply.Groups, groupJSON{
			ID: g.ID, Name: g.Name, Title: g.Title, OrgID: o.id, Metadata: orEmptyMap(g.Metadata),
			CreatedAt: timestamp(g.CreatedAt), UpdatedAt: timestamp(g.UpdatedAt), Users: []any{},
		})
	}
	return reply, true
}

// refusal is a call's answer other than success, the same in both protocols: an HTTP status
// (whose gRPC code fakeserver.GRPCCodeFor gives) and Frontier's message.
type refusal struct {
	status  int
	message string
}

// errOrgNotFound is the refusal of an unknown organization, which each protocol words its own
// way (and Connect answers 403 for a UUID).
var errOrgNotFound = &refusal{status: http.StatusNotFound}

func invalidArgument(msg string) *refusal {
	return &refusal{status: http.StatusBadRequest, message: msg}
}

// found is a read's reply: v, or errOrgNotFound when the organization is unknown.
func found(v any, ok bool) (any, *refusal) {
	if !ok {
		return nil, errOrgNotFound
	}
	return v, nil
}

// MaxInvitationUserIDs is how many user_ids one CreateOrganizationInvitation may carry.
const MaxInvitationUserIDs = 10

// createInvitations is CreateOrganizationInvitation (see the package doc).
func (s *Server) createInvitations(orgRef string, userIDs, groupIDs, roleIDs []string) (invitationsJSON, *refusal) {
	switch {
	case len(userIDs) == 0:
		return invitationsJSON{}, invalidArgument("validation error: user_ids: value must contain at least 1 item(s) [repeated.min_items]")
	case len(userIDs) > MaxInvitationUserIDs:
		return invitationsJSON{}, invalidArgument("validation error: user_ids: value must contain no more than 10 item(s) [repeated.max_items]")
	}
	now := s.stamp(time.Time{})
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.findOrg(orgRef)
	if o == nil {
		return invitationsJSON{}, errOrgNotFound
	}
	if slices.ContainsFunc(userIDs, func(u string) bool { return !validEmail(u) }) {
		return invitationsJSON{}, invalidArgument("Invalid email")
	}
	reply := invitationsJSON{Invitations: []invitationJSON{}}
	for _, u := range userIDs {
		u = strings.ToLower(u)
		i := slices.IndexFunc(o.invitations, func(inv Invitation) bool { return inv.UserID == u && inv.ExpiresAt.After(now) })
		if i < 0 {
			o.invitations = append(o.invitations, Invitation{ID: newUUID(), UserID: u, CreatedAt: now, ExpiresAt: now.Add(DefaultExpiry)})
			i = len(o.invitations) - 1
		}
		inv := &o.invitations[i]
		inv.GroupIDs, inv.RoleIDs, inv.Metadata = slices.Clone(groupIDs), slices.Clone(roleIDs), nil
		reply.Invitations = append(reply.Invitations, invitationToJSON(o.id, inv))
	}
	return reply, nil
}

// deleteInvitation is DeleteOrganizationInvitation (see the package doc).
func (s *Server) deleteInvitation(orgRef, id string) *refusal {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.findOrg(orgRef)
	switch {
	case o == nil:
		return errOrgNotFound
	case !isUUID(id):
		return invalidArgument("invalid syntax in body")
	}
	i := slices.IndexFunc(o.invitations, func(inv Invitation) bool { return inv.ID == id })
	if i < 0 {
		return &refusal{status: http.StatusNotFound, message: "invitation not found"}
	}
	o.invitations = slices.Delete(o.invitations, i, i+1)
	return nil
}

// validEmail says whether s is a bare email address, without a display name or angle brackets.
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s
}

// invitationToJSON builds the served invitation: the store puts the group and role lists into
// the metadata (a nil list, as an empty proto list is, becomes null) and reads the top-level
// lists back from there.
func invitationToJSON(orgID string, inv *Invitation) invitationJSON {
	md := maps.Clone(inv.Metadata)
	if md == nil {
		md = map[string]any{}
	}
	md["group_ids"], md["role_ids"] = nilIfEmpty(inv.GroupIDs), nilIfEmpty(inv.RoleIDs)
	return invitationJSON{
		ID: inv.ID, UserID: inv.UserID, OrgID: orgID,
		GroupIDs: orEmpty(inv.GroupIDs), Metadata: md,
		CreatedAt: timestamp(inv.CreatedAt), ExpiresAt: timestamp(inv.ExpiresAt),
		RoleIDs: orEmpty(inv.RoleIDs),
	}
}

func rolesToJSON(orgID string, roles []Role) []roleJSON {
	out := make([]roleJSON, 0, len(roles))
	for _, r := range roles {
		out = append(out, roleJSON{
			ID: r.ID, Name: r.Name, Permissions: orEmpty(r.Permissions), Title: r.Title,
			Metadata: orEmptyMap(r.Metadata), CreatedAt: timestamp(r.CreatedAt), UpdatedAt: timestamp(r.UpdatedAt),
			OrgID: orgID, State: "enabled", Scopes: orEmpty(r.Scopes),
		})
	}
	return out
}

func orEmpty(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func nilIfEmpty(l []string) any {
	if len(l) == 0 {
		return nil
	}
	return l
}

func orEmptyMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// timestamp formats t as protojson does a google.protobuf.Timestamp: UTC, "Z", and 0, 3, 6 or
// 9 fractional digits.
func timestamp(t time.Time) string {
	t = t.UTC()
	base, ns := t.Format("2006-01-02T15:04:05"), t.Nanosecond()
	switch {
	case ns == 0:
		return base + "Z"
	case ns%1e6 == 0:
		return fmt.Sprintf("%s.%03dZ", base, ns/1e6)
	case ns%1e3 == 0:
		return fmt.Sprintf("%s.%06dZ", base, ns/1e3)
	}
	return fmt.Sprintf("%s.%09dZ", base, ns)
}

// authenticated reports whether r carries an accepted credential; each protocol writes its own
// 401.
func (s *Server) authenticated(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	if s.token != "" && strings.HasPrefix(h, "Bearer ") && equal(strings.TrimPrefix(h, "Bearer "), s.token) {
		return true
	}
	id, secret, ok := r.BasicAuth()
	return ok && s.clientID != "" && s.clientSecret != "" && equal(id, s.clientID) && equal(secret, s.clientSecret)
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// failure is what an injected failure status answers with, in either protocol.
type failure struct {
	code    fakeserver.GRPCCode
	message string
}

// failureMessages are Frontier's messages where they are not the code's name in words.
var failureMessages = map[string]string{
	"UNAUTHENTICATED":   "not authenticated",
	"PERMISSION_DENIED": "not authorized",
	"INTERNAL":          "internal server error",
}

// failureFor is the failure an injected status writes (see the package doc).
func failureFor(status int) failure {
	code := fakeserver.GRPCCodeFor(status)
	msg, ok := failureMessages[code.Name]
	if !ok {
		msg = strings.ReplaceAll(code.ConnectName(), "_", " ")
	}
	return failure{code: code, message: msg}
}

// retryAfterOnInjected sets Retry-After: 1 on an injected 429, as a rate-limiting proxy would.
func retryAfterOnInjected(w http.ResponseWriter, status int) {
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
}

// writeJSON writes v compactly and without HTML escaping, as protojson does.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, "frontierfake: encode: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// newUUID is a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
