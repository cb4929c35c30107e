// Package redpandafake is an in-memory fake of the Redpanda Cloud Control Plane API's user-invite
// routes and of its Auth0 token endpoint, served over real HTTP for tests and the demo. It
// speaks the wire format of FACTS.md sections 1 and 5 with its own JSON types (it never imports
// the client), checks bearer tokens, and answers errors as Redpanda's google.rpc.Status with a
// string code.
//
// Routes (Recorder names in brackets):
//
//	POST   /oauth/token                [Token]
//	GET    /v1/user-invites            [ListUserInvites]
//	POST   /v1/user-invites            [CreateUserInvite]
//	GET    /v1/user-invites/{id}       [GetUserInvite]
//	PATCH  /v1/user-invites/{id}       [UpdateUserInvite]
//	DELETE /v1/user-invites/{id}       [DeleteUserInvite]
//	GET    /v1/organizations/current   [GetCurrentOrganization]
//	anything else                      [NotFound]
//
// Every request is kept by the embedded Recorder (Requests: method, escaped path, query, body);
// Add seeds invites and Invite reads one back.
//
// In production the token endpoint lives on another host (auth.prd.cloud.redpanda.com); here
// one server plays both, so a client's TokenURL is the fake's URL + "/oauth/token".
//
// How it differs from the real service, and what is inferred or invented:
//   - Token endpoint: form-encoded bodies only (Auth0 also takes JSON and HTTP Basic client
//     authentication). grant_type must be client_credentials, else 400 unsupported_grant_type.
//     A wrong or missing client ID or secret is 401 {"error":"access_denied",
//     "error_description":"Unauthorized"}; a missing audience is 403 access_denied "No audience
//     parameter was provided, and no default audience has been configured"; another audience
//     is 403 access_denied "Service not enabled within domain: <audience>". These bodies are
//     inferred from how Auth0 behaves, not read in a Redpanda source. Success answers
//     {access_token, scope:"", expires_in:<Options.TokenTTL in whole seconds, 3600 by
//     default>, token_type:"Bearer"}; the token is an opaque random string (Auth0 issues a
//     JWT). It expires Options.TokenTTL after it was issued, on Options.Now's clock. With no
//     ClientID configured every token request is refused.
//   - Error details carry "@type" with the type.googleapis.com/ prefix, as the spec's enum
//     writes it (Redpanda's documented example, and Connect-based servers, write the bare name;
//     a client must accept both, FACTS.md 1.7).
//   - Auth on every /v1 route: `Authorization: Bearer <Options.Token or an issued token>`. No
//     header, or one that is not a Bearer token, is 401 with the documented body
//     (message "Bearer token is not present", reason REASON_NO_TOKEN, and the Help link);
//     another token, or an issued one after RevokeTokens, is 401 UNAUTHENTICATED, reason
//     REASON_TOKEN_INVALID, message "Provided API token is invalid" (the reason's documented
//     description; the message is inferred). An issued token past its TTL is 401
//     UNAUTHENTICATED, reason REASON_TOKEN_EXPIRED, message "Provided API token has expired"
//     (message invented). All set WWW-Authenticate to the message, as Redpanda's error handler
//     does. The static Options.Token never expires and is never revoked. Routing comes before
//     auth, so an unknown path is 404 even without a token.
//   - ListUserInvites: order is created_at ascending, then id (the real order is undocumented).
//     page_size is an int32 in 1..100, else 400 INVALID_ARGUMENT with a BadRequest detail; that
//     the real service rejects rather than clamps is inferred. An absent page_size, and 0 (which
//     proto3 cannot tell from absent), get a default of 10 (the real default is undocumented).
//     Options.MaxPageSize further caps each page, so small data spreads over several pages.
//     Page tokens are opaque keyset cursors (position after the last item served), so inserts
//     during a walk neither repeat nor skip items; a token that does not decode is 400
//     INVALID_ARGUMENT with ErrorInfo REASON_INVALID_PAGE_TOKEN (reason documented, status
//     inferred). The last page has next_page_token "" (documented); a full page with nothing
//     after it is also the last one.
//   - GetUserInvite, UpdateUserInvite and DeleteUserInvite: an unknown id is 404 NOT_FOUND,
//     message `user invite "<id>" not found` (message inferred).
//   - CreateUserInvite body: {"user_invite":{"email","role_bindings"}}, decoded as the PATCH
//     body is (below). The email must be a bare address (net/mail's addr-spec, no display
//     name), else 400 INVALID_ARGUMENT with a BadRequest on user_invite.email and the message
//     "user_invite.email: value must be a valid email address" (that the service refuses it is
//     in the brief; the wording is inferred). Bindings are checked as the PATCH's are; none at
//     all is accepted (the spec requires nothing). The invite gets an invented 20-character
//     lower-case base32hex ID (the XID alphabet; the real format is undocumented), invite_url
//     InviteURLPrefix + id (invented), created_at Options.Now and expires_at InviteTTL later
//     (invented: the real lifetime is undocumented), and is answered 201 {"user_invite":{...}}
//     as documented. Another invite for an email that already has one is created beside it: the
//     spec documents no conflict, and what the service does is unknown.
//   - DeleteUserInvite answers 204 with Content-Type application/json and no body (Go's server
//     drops a body after 204, and so does Redpanda's, FACTS.md 1.3); the invite is gone from
//     the list and from GetUserInvite at once.
//   - UpdateUserInvite body: decoded as protojson would, so field names may be the proto
//     (snake_case) or JSON (lowerCamelCase) names, unknown fields are ignored (as grpc-gateway's
//     default marshaler does) and null means absent. update_mask follows protojson's FieldMask
//     rules: comma-separated lowerCamelCase paths, and a path with "_" is 400 INVALID_ARGUMENT
//     `proto: google.protobuf.FieldMask.paths contains invalid path: "<path>"` (protojson also
//     prints a line:column position; this fake does not). Only expiresAt and roleBindings are
//     accepted (inferred); another path, or an empty mask, is 400 with a BadRequest on
//     update_mask (inferred: what the real service does with an empty mask is undocumented).
//     Masked fields are replaced; roleBindings masked but absent clears the bindings; expiresAt
//     masked but absent is 400 (inferred). Each binding needs a role_name, a scope with a
//     resource_type and a resource_id (inferred validation); a name outside the spec's enum
//     (SCOPE_RESOURCE_TYPE_UNSPECIFIED included: the spec has no such value) is 400 `proto:
//     invalid value for enum field resourceType: "<value>"` (protojson's wording without the
//     position). Role names and resource IDs are not checked against real
//     roles or resources, and an expiry in the past is accepted.
//   - Timestamps are written as protojson does: UTC, "Z", with 0, 3, 6 or 9 fractional digits.
//     A zero seeded timestamp is left out (an unset message field). Zero values are otherwise
//     emitted (EmitDefaultValues): "user_invites":[], "next_page_token":"", "role_bindings":[],
//     "invite_url":"". A binding whose scope fields are all empty is served without a scope; a
//     scope with an empty type is served without resource_type (the real service would write
//     the proto's zero value, whose name the spec does not give, FACTS.md 1.4, so the fake does
//     not invent one). dataplane_id appears only when set.
//   - GetCurrentOrganization answers {id, name, auth0_id:"", mfa_enforced:false}; the two
//     nullable fields are left out. auth0_id's value is invented.
//   - Rate limits are not enforced and no rate-limit header is sent unless a test sets one
//     with Recorder.SetHeader, e.g. SetHeader(RateLimitHeader, "limit=500, remaining=0,
//     reset=2"): Terraform's provider reads this `ratelimit` metadata (FACTS.md 1.8), but when
//     and under which name the control plane sends it over HTTP is not documented.
//   - Injected failures (Recorder.FailNext) answer an rpc.Status whose code matches the status
//     (400 INVALID_ARGUMENT, 401 UNAUTHENTICATED with REASON_TOKEN_INVALID and WWW-Authenticate,
//     403 PERMISSION_DENIED, 404 NOT_FOUND, 409 ALREADY_EXISTS, 429 RESOURCE_EXHAUSTED with
//     REASON_RATE_LIMIT_EXCEEDED and Retry-After: 1, 499 CANCELLED, 500 INTERNAL, 501
//     UNIMPLEMENTED, 503 UNAVAILABLE, 504 DEADLINE_EXCEEDED, anything else UNKNOWN). The
//     Retry-After header is invented. The Token route gets the same rpc.Status body, where Auth0
//     would answer its own JSON.
//   - Unknown paths, and other methods on known paths, answer 404 NOT_FOUND "Not Found" (the
//     real gateway may answer 405 or 501 for a wrong method).
package redpandafake

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/invitegw/invitegw/upstream/fakeserver"
)

// Defaults and limits of the fake.
const (
	// DefaultToken is the static token accepted when neither Options.Token nor client
	// credentials are given.
	DefaultToken = "redpanda-fake-token"
	// DefaultOrgID and DefaultOrgName describe the organization when Options leave them empty.
	DefaultOrgID   = "cnl3b0f7a2gq9s8d1e0g"
	DefaultOrgName = "Fake Organization"
	// Audience is the only audience the token endpoint issues tokens for.
	Audience = "cloudv2-production.redpanda.cloud"
	// DefaultPageSize is served when page_size is absent (inferred; see the package doc).
	DefaultPageSize = 10
	// MaxPageSize is the largest page_size accepted.
	MaxPageSize = 100
	// DefaultTokenTTL is the lifetime of issued tokens when Options.TokenTTL is zero (the
	// docs: one hour).
	DefaultTokenTTL = time.Hour
	// InviteTTL is how long a created invite lasts (invented; Redpanda does not say).
	InviteTTL = 7 * 24 * time.Hour
	// InviteURLPrefix starts a created invite's invite_url; its ID follows (invented).
	InviteURLPrefix = "https://cloud.redpanda.com/invite/"
	// Domain is the ErrorInfo domain of the control plane.
	Domain = "redpanda.com/controlplane"
	// Documented reasons.
	ReasonNoToken           = "REASON_NO_TOKEN"
	ReasonTokenInvalid      = "REASON_TOKEN_INVALID"
	ReasonTokenExpired      = "REASON_TOKEN_EXPIRED"
	ReasonInvalidInput      = "REASON_INVALID_INPUT"
	ReasonRateLimitExceeded = "REASON_RATE_LIMIT_EXCEEDED"
	ReasonInvalidPageToken  = "REASON_INVALID_PAGE_TOKEN"
)

// RateLimitHeader is the header Terraform's provider reads Redpanda's rate limit from,
// "limit=<n>, remaining=<n>, reset=<seconds>" (FACTS.md 1.8). The fake sends it only when a test
// sets it (Recorder.SetHeader).
const RateLimitHeader = "Ratelimit"

// HelpNoToken is the Help link Redpanda attaches to a missing-token error (documented example).
const HelpNoToken = "Please ensure you have a valid token to authenticate against the API. " +
	"If you don't have a token, create a client and follow the instructions to request a token."

// HelpURL is the Help link's URL.
const HelpURL = "https://cloud.redpanda.com/clients"

// resourceTypes are the ScopeResourceType enum names of the spec (FACTS.md 1.4). The spec has
// no name for the proto's zero value, so neither does the fake.
var resourceTypes = []string{
	"SCOPE_RESOURCE_TYPE_RESOURCE_GROUP", "SCOPE_RESOURCE_TYPE_NETWORK", "SCOPE_RESOURCE_TYPE_CLUSTER",
	"SCOPE_RESOURCE_TYPE_SERVERLESS_CLUSTER", "SCOPE_RESOURCE_TYPE_NETWORK_PEERING",
	"SCOPE_RESOURCE_TYPE_ORGANIZATION", "SCOPE_RESOURCE_TYPE_MCPSERVER", "SCOPE_RESOURCE_TYPE_AIAGENT",
	"SCOPE_RESOURCE_TYPE_AIGATEWAY_MODEL_PROVIDER", "SCOPE_RESOURCE_TYPE_AIGATEWAY_MODEL",
	"SCOPE_RESOURCE_TYPE_AIGATEWAY_PROVIDER_CONFIG", "SCOPE_RESOURCE_TYPE_AIGATEWAY_GATEWAY",
	"SCOPE_RESOURCE_TYPE_KAFKA_TOPIC",
}

// RoleBinding is a seeded role binding. A binding with all scope fields empty has no scope.
type RoleBinding struct {
	RoleName string
	// ResourceType is the full enum name, e.g. "SCOPE_RESOURCE_TYPE_ORGANIZATION". It is served
	// as given, so a seed may use a name the client has never heard of.
	ResourceType string
	ResourceID   string
	// DataplaneID is served only when non-empty.
	DataplaneID string
}

// Invite is a seeded user invite.
type Invite struct {
	ID, Email, InviteURL string
	// CreatedAt and ExpiresAt are left out of replies when zero.
	CreatedAt, ExpiresAt time.Time
	RoleBindings         []RoleBinding
}

// Options configures the fake.
type Options struct {
	// Token is a static bearer token that is always accepted. When it and ClientID are both
	// empty, DefaultToken is accepted.
	Token string
	// ClientID and ClientSecret are the client credentials the token endpoint accepts.
	ClientID, ClientSecret string
	// OrgID and OrgName describe the token's organization; DefaultOrgID and DefaultOrgName
	// when empty.
	OrgID, OrgName string
	// MaxPageSize caps every page below the requested page_size (0 means MaxPageSize, i.e. no
	// extra cap), so that demo data spreads over several pages.
	MaxPageSize int
	// TokenTTL is the lifetime of issued tokens, DefaultTokenTTL when zero; expires_in says it
	// in whole seconds (at least 1), rounded down. Short TTLs let tests see tokens expire.
	TokenTTL time.Duration
	// Now is the clock tokens expire by and created invites are stamped with; time.Now when
	// nil. A test shares its clock with the client's to move past a TTL without waiting.
	Now func() time.Time
}

// Server is the fake. It is safe for concurrent use; seed it before or while serving.
type Server struct {
	*fakeserver.Recorder

	opts Options
	mux  *http.ServeMux

	mu        sync.Mutex
	invites   map[string]Invite
	issued    map[string]issuedToken // every token ever issued, revoked ones included
	lastPatch []byte
	lastForm  url.Values
}

// New returns an empty fake.
func New(o Options) *Server {
	if o.Token == "" && o.ClientID == "" {
		o.Token = DefaultToken
	}
	if o.OrgID == "" {
		o.OrgID = DefaultOrgID
	}
	if o.OrgName == "" {
		o.OrgName = DefaultOrgName
	}
	if o.MaxPageSize <= 0 || o.MaxPageSize > MaxPageSize {
		o.MaxPageSize = MaxPageSize
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = DefaultTokenTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{
		opts:    o,
		mux:     http.NewServeMux(),
		invites: map[string]Invite{},
		issued:  map[string]issuedToken{},
	}
	s.Recorder = fakeserver.NewRecorder(writeInjected)
	s.mux.HandleFunc("POST /oauth/token", s.Wrap("Token", s.token))
	s.mux.HandleFunc("GET /v1/user-invites", s.Wrap("ListUserInvites", s.authed(s.listUserInvites)))
	s.mux.HandleFunc("POST /v1/user-invites", s.Wrap("CreateUserInvite", s.authed(s.createUserInvite)))
	s.mux.HandleFunc("GET /v1/user-invites/{id}", s.Wrap("GetUserInvite", s.authed(s.getUserInvite)))
	s.mux.HandleFunc("PATCH /v1/user-invites/{id}", s.Wrap("UpdateUserInvite", s.recordPatch(s.authed(s.updateUserInvite))))
	s.mux.HandleFunc("DELETE /v1/user-invites/{id}", s.Wrap("DeleteUserInvite", s.authed(s.deleteUserInvite)))
	s.mux.HandleFunc("GET /v1/organizations/current",
		s.Wrap("GetCurrentOrganization", s.authed(s.getCurrentOrganization)))
	s.mux.HandleFunc("/", s.Wrap("NotFound", func(w http.ResponseWriter, _ *http.Request) {
		writeStatus(w, http.StatusNotFound, "NOT_FOUND", "Not Found")
	}))
	return s
}

// ServeHTTP makes the fake an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Add seeds invites; an invite with an ID already present replaces it.
func (s *Server) Add(invs ...Invite) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, inv := range invs {
		s.invites[inv.ID] = clone(inv)
	}
}

// Invite returns the stored state of an invite, after any PATCHes.
func (s *Server) Invite(id string) (Invite, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv, ok := s.invites[id]
	return clone(inv), ok
}

// LastPatch is the raw body of the most recent PATCH that reached the route's handler (so not
// one answered by an injected failure), whether or not it succeeded.
func (s *Server) LastPatch() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.lastPatch)
}

// TokensIssued is how many client-credentials tokens the token endpoint has handed out,
// revoked and expired ones included.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.issued)
}

// RevokeTokens makes every token issued so far invalid, as rotating the service account's
// secret or revoking its tokens would: the next API call with one answers 401
// REASON_TOKEN_INVALID. Tokens issued afterwards are valid; the static Options.Token is not
// affected.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for tok, it := range s.issued {
		it.revoked = true
		s.issued[tok] = it
	}
}

// issuedToken is what the fake remembers of a token it issued.
type issuedToken struct {
	expires time.Time
	revoked bool
}

// LastTokenForm is the form of the most recent token request, client_secret included (test
// credentials only).
func (s *Server) LastTokenForm() url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := url.Values{}
	for k, v := range s.lastForm {
		out[k] = slices.Clone(v)
	}
	return out
}

func clone(inv Invite) Invite {
	inv.RoleBindings = slices.Clone(inv.RoleBindings)
	return inv
}

// --- token endpoint ---

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Invalid request body")
		return
	}
	form := r.PostForm
	s.mu.Lock()
	s.lastForm = form
	s.mu.Unlock()

	switch {
	case form.Get("grant_type") != "client_credentials":
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type",
			"Unsupported grant type: "+form.Get("grant_type"))
	case s.opts.ClientID == "" || form.Get("client_id") != s.opts.ClientID ||
		form.Get("client_secret") != s.opts.ClientSecret:
		writeOAuthError(w, http.StatusUnauthorized, "access_denied", "Unauthorized")
	case form.Get("audience") == "":
		writeOAuthError(w, http.StatusForbidden, "access_denied",
			"No audience parameter was provided, and no default audience has been configured")
	case form.Get("audience") != Audience:
		writeOAuthError(w, http.StatusForbidden, "access_denied",
			"Service not enabled within domain: "+form.Get("audience"))
	default:
		tok := "rpfake_" + randomHex(24)
		s.mu.Lock()
		s.issued[tok] = issuedToken{expires: s.opts.Now().Add(s.opts.TokenTTL)}
		s.mu.Unlock()
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, tokenResponse{AccessToken: tok,
			ExpiresIn: max(1, int(s.opts.TokenTTL/time.Second)), TokenType: "Bearer"})
	}
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	Scope       string `json:"scope"`
	ExpiresIn   int    `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

type oauthError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, oauthError{Error: code, ErrorDescription: desc})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return hex.EncodeToString(b)
}

// --- auth ---

// authed checks the bearer token before h runs.
func (s *Server) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		tok = strings.TrimSpace(tok)
		if !strings.EqualFold(scheme, "Bearer") || tok == "" {
			writeUnauthenticated(w, "Bearer token is not present", ReasonNoToken,
				helpDetail{Type: typeHelp, Links: []helpLink{{Description: HelpNoToken, URL: HelpURL}}})
			return
		}
		s.mu.Lock()
		it, issued := s.issued[tok]
		static := tok == s.opts.Token
		s.mu.Unlock()
		switch {
		case static:
		case !issued || it.revoked:
			writeUnauthenticated(w, "Provided API token is invalid", ReasonTokenInvalid)
			return
		case !s.opts.Now().Before(it.expires):
			writeUnauthenticated(w, "Provided API token has expired", ReasonTokenExpired)
			return
		}
		h(w, r)
	}
}

func writeUnauthenticated(w http.ResponseWriter, msg, reason string, more ...any) {
	w.Header().Set("WWW-Authenticate", msg)
	writeStatus(w, http.StatusUnauthorized, "UNAUTHENTICATED", msg, append([]any{errorInfo(reason)}, more...)...)
}

// recordPatch keeps the raw PATCH body for LastPatch and hands h a fresh reader over it.
func (s *Server) recordPatch(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			writeStatus(w, http.StatusBadRequest, "INVALID_ARGUMENT", "request body too large")
			return
		}
		s.mu.Lock()
		s.lastPatch = b
		s.mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(b)))
		h(w, r)
	}
}

// --- user invites ---

type listUserInvitesResponse struct {
	NextPageToken string       `json:"next_page_token"`
	UserInvites   []wireInvite `json:"user_invites"`
}

type userInviteResponse struct {
	UserInvite wireInvite `json:"user_invite"`
}

type wireInvite struct {
	CreatedAt    *string           `json:"created_at,omitempty"`
	Email        string            `json:"email"`
	ExpiresAt    *string           `json:"expires_at,omitempty"`
	ID           string            `json:"id"`
	InviteURL    string            `json:"invite_url"`
	RoleBindings []wireRoleBinding `json:"role_bindings"`
}

type wireRoleBinding struct {
	RoleName string     `json:"role_name"`
	Scope    *wireScope `json:"scope,omitempty"`
}

type wireScope struct {
	DataplaneID *string `json:"dataplane_id,omitempty"`
	ResourceID  string  `json:"resource_id"`
	// ResourceType is left out when empty: the spec's enum has no name for "unset".
	ResourceType string `json:"resource_type,omitempty"`
}

func (s *Server) listUserInvites(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	size := DefaultPageSize
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil {
			writeBadRequest(w, fmt.Sprintf("parsing field %q: %q is not a valid int32", "page_size", v),
				"page_size", "value must be an int32")
			return
		}
		switch {
		case n < 0 || n > MaxPageSize:
			writeBadRequest(w, "invalid ListUserInvitesRequest.page_size: value must be inside range [1, 100]",
				"page_size", "value must be inside range [1, 100]")
			return
		case n > 0:
			size = int(n)
		}
	}
	size = min(size, s.opts.MaxPageSize)

	var after *cursor
	if v := q.Get("page_token"); v != "" {
		c, ok := decodeCursor(v)
		if !ok {
			writeStatus(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Provided page token is invalid",
				errorInfo(ReasonInvalidPageToken))
			return
		}
		after = &c
	}

	s.mu.Lock()
	all := make([]Invite, 0, len(s.invites))
	for _, inv := range s.invites {
		all = append(all, clone(inv))
	}
	s.mu.Unlock()
	slices.SortFunc(all, func(a, b Invite) int { return cursorOf(a).compare(cursorOf(b)) })

	start := 0
	if after != nil {
		start, _ = slices.BinarySearchFunc(all, *after, func(inv Invite, c cursor) int {
			if cursorOf(inv).compare(c) <= 0 {
				return -1
			}
			return 1
		})
	}
	end := min(start+size, len(all))
	out := listUserInvitesResponse{UserInvites: []wireInvite{}}
	for _, inv := range all[start:end] {
		out.UserInvites = append(out.UserInvites, toWire(inv))
	}
	if end < len(all) {
		out.NextPageToken = cursorOf(all[end-1]).encode()
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getUserInvite(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	inv, ok := s.Invite(id)
	if !ok {
		writeNotFound(w, id)
		return
	}
	writeJSON(w, http.StatusOK, userInviteResponse{UserInvite: toWire(inv)})
}

func writeNotFound(w http.ResponseWriter, id string) {
	writeStatus(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("user invite %q not found", id))
}

// maxBody bounds a request body the fake reads.
const maxBody = 1 << 20

func (s *Server) createUserInvite(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeStatus(w, http.StatusBadRequest, "INVALID_ARGUMENT", "request body too large")
		return
	}
	email, bindings, err := parseCreate(b)
	if err != nil {
		writeStatus(w, http.StatusBadRequest, "INVALID_ARGUMENT", err.Error())
		return
	}
	if !validEmail(email) {
		const desc = "value must be a valid email address"
		writeBadRequest(w, "user_invite.email: "+desc, "user_invite.email", desc)
		return
	}
	if !checkBindings(w, bindings) {
		return
	}
	now := s.opts.Now().UTC()
	id := newInviteID()
	inv := Invite{ID: id, Email: email, InviteURL: InviteURLPrefix + id, CreatedAt: now, ExpiresAt: now.Add(InviteTTL),
		RoleBindings: bindings}
	s.Add(inv)
	writeJSON(w, http.StatusCreated, userInviteResponse{UserInvite: toWire(inv)})
}

// parseCreate reads a CreateUserInviteRequest as protojson would (see objectFields).
func parseCreate(b []byte) (email string, bindings []RoleBinding, err error) {
	body, err := objectFields(b, "user_invite")
	if err != nil {
		return "", nil, err
	}
	create, err := objectFields(body["user_invite"], "email", "role_bindings")
	if err != nil {
		return "", nil, err
	}
	if err := stringField(create, "email", &email); err != nil {
		return "", nil, err
	}
	bindings, err = parseBindings(create["role_bindings"])
	return email, bindings, err
}

// validEmail says whether s is a bare email address, without a display name or angle brackets.
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s
}

// newInviteID is a random 20-character ID in the XID alphabet (lower-case base32hex).
func newInviteID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return strings.ToLower(base32.HexEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

func (s *Server) deleteUserInvite(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	_, ok := s.invites[id]
	delete(s.invites, id)
	s.mu.Unlock()
	if !ok {
		writeNotFound(w, id)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNoContent)
}

// maskPaths are the update_mask paths UpdateUserInvite accepts, as protojson hands them to the
// server (snake_case).
var maskPaths = []string{"expires_at", "role_bindings"}

func (s *Server) updateUserInvite(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	b, _ := io.ReadAll(r.Body)
	body, err := objectFields(b, "update_mask", "user_invite")
	if err != nil {
		writeStatus(w, http.StatusBadRequest, "INVALID_ARGUMENT", err.Error())
		return
	}
	mask, err := fieldMask(body["update_mask"])
	if err != nil {
		writeStatus(w, http.StatusBadRequest, "INVALID_ARGUMENT", err.Error())
		return
	}
	upd, err := objectFields(body["user_invite"], "expires_at", "role_bindings")
	if err != nil {
		writeStatus(w, http.StatusBadRequest, "INVALID_ARGUMENT", err.Error())
		return
	}
	var expires time.Time
	if v := upd["expires_at"]; v != nil {
		if expires, err = parseTimestamp(v); err != nil {
			writeStatus(w, http.StatusBadRequest, "INVALID_ARGUMENT", err.Error())
			return
		}
	}
	bindings, err := parseBindings(upd["role_bindings"])
	if err != nil {
		writeStatus(w, http.StatusBadRequest, "INVALID_ARGUMENT", err.Error())
		return
	}

	if len(mask) == 0 {
		writeBadRequest(w, "update_mask must name at least one field", "update_mask", "value is required")
		return
	}
	for _, p := range mask {
		if !slices.Contains(maskPaths, p) {
			writeBadRequest(w, fmt.Sprintf("invalid update_mask path %q", p), "update_mask",
				fmt.Sprintf("path %q is not one of expires_at, role_bindings", p))
			return
		}
	}
	if slices.Contains(mask, "expires_at") && expires.IsZero() {
		writeBadRequest(w, "user_invite.expires_at is required when update_mask names it",
			"user_invite.expires_at", "value is required")
		return
	}
	if slices.Contains(mask, "role_bindings") && !checkBindings(w, bindings) {
		return
	}

	s.mu.Lock()
	inv, ok := s.invites[id]
	if ok {
		inv = clone(inv)
		if slices.Contains(mask, "expires_at") {
			inv.ExpiresAt = expires
		}
		if slices.Contains(mask, "role_bindings") {
			inv.RoleBindings = bindings
		}
		s.invites[id] = clone(inv)
	}
	s.mu.Unlock()
	if !ok {
		writeNotFound(w, id)
		return
	}
	writeJSON(w, http.StatusOK, userInviteResponse{UserInvite: toWire(inv)})
}

// checkBindings answers 400 for the first incomplete binding, and says whether all are complete.
func checkBindings(w http.ResponseWriter, bindings []RoleBinding) bool {
	for i, rb := range bindings {
		field, ok := invalidBinding(rb)
		if !ok {
			f := fmt.Sprintf("user_invite.role_bindings[%d].%s", i, field)
			writeBadRequest(w, f+": value is required", f, "value is required")
			return false
		}
	}
	return true
}

// invalidBinding names the first missing part of a binding ("" and true when it is complete).
func invalidBinding(rb RoleBinding) (string, bool) {
	switch {
	case rb.RoleName == "":
		return "role_name", false
	case rb.ResourceType == "":
		return "scope.resource_type", false
	case rb.ResourceID == "":
		return "scope.resource_id", false
	}
	return "", true
}

// objectFields decodes a JSON object the way protojson reads a message: each field under its
// proto name or its lowerCamelCase JSON name, unknown fields ignored, null meaning absent. A nil
// or null input is an empty message.
func objectFields(b []byte, names ...string) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	if len(b) == 0 || string(b) == "null" {
		return out, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("proto: syntax error: %v", err)
	}
	for _, name := range names {
		for _, key := range []string{name, camel(name)} {
			if v, ok := raw[key]; ok && string(v) != "null" {
				out[name] = v
			}
		}
	}
	return out, nil
}

// fieldMask parses a google.protobuf.FieldMask in its JSON form, as protojson does: the string is
// trimmed, "" is no paths, and each comma-separated path must be lowerCamelCase (no "_"); the
// paths come back in snake_case.
func fieldMask(v json.RawMessage) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, fmt.Errorf("proto: invalid value for message field updateMask: %s", v)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var paths []string
	for _, p := range strings.Split(s, ",") {
		snake := snakeCase(p)
		if strings.Contains(p, "_") || !validFullName(snake) {
			return nil, fmt.Errorf("proto: google.protobuf.FieldMask.paths contains invalid path: %q", p)
		}
		paths = append(paths, snake)
	}
	return paths, nil
}

// parseTimestamp reads a google.protobuf.Timestamp in its JSON form.
func parseTimestamp(v json.RawMessage) (time.Time, error) {
	var s string
	if json.Unmarshal(v, &s) == nil {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("proto: invalid google.protobuf.Timestamp value %s", v)
}

// parseBindings reads a repeated UserInvite.RoleBinding field.
func parseBindings(v json.RawMessage) ([]RoleBinding, error) {
	if v == nil {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(v, &items); err != nil {
		return nil, fmt.Errorf("proto: invalid value for message field roleBindings: %s", v)
	}
	out := make([]RoleBinding, 0, len(items))
	for _, item := range items {
		f, err := objectFields(item, "role_name", "scope")
		if err != nil {
			return nil, err
		}
		var rb RoleBinding
		if err := stringField(f, "role_name", &rb.RoleName); err != nil {
			return nil, err
		}
		if f["scope"] != nil {
			sc, err := objectFields(f["scope"], "resource_id", "resource_type", "dataplane_id")
			if err != nil {
				return nil, err
			}
			for _, fd := range []struct {
				name string
				dst  *string
			}{{"resource_id", &rb.ResourceID}, {"resource_type", &rb.ResourceType}, {"dataplane_id", &rb.DataplaneID}} {
				if err := stringField(sc, fd.name, fd.dst); err != nil {
					return nil, err
				}
			}
			if rb.ResourceType != "" && !slices.Contains(resourceTypes, rb.ResourceType) {
				return nil, fmt.Errorf("proto: invalid value for enum field resourceType: %q", rb.ResourceType)
			}
		}
		out = append(out, rb)
	}
	return out, nil
}

func stringField(f map[string]json.RawMessage, name string, dst *string) error {
	v := f[name]
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(v, dst); err != nil {
		return fmt.Errorf("proto: invalid value for string field %s: %s", camel(name), v)
	}
	return nil
}

// camel is protobuf's JSON name of a snake_case field name.
func camel(s string) string {
	var b strings.Builder
	upper := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' {
			upper = true
			continue
		}
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		upper = false
		b.WriteByte(c)
	}
	return b.String()
}

// snakeCase is protobuf's JSONSnakeCase: each upper-case ASCII letter becomes "_" and its
// lower-case form.
func snakeCase(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			b.WriteByte('_')
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// validFullName is protoreflect.FullName.IsValid: dot-separated identifiers.
func validFullName(s string) bool {
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return false
		}
		for i := 0; i < len(part); i++ {
			c := part[i]
			letter := c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
			if !letter && !(i > 0 && '0' <= c && c <= '9') {
				return false
			}
		}
	}
	return true
}

func toWire(inv Invite) wireInvite {
	out := wireInvite{
		CreatedAt:    formatTimestamp(inv.CreatedAt),
		Email:        inv.Email,
		ExpiresAt:    formatTimestamp(inv.ExpiresAt),
		ID:           inv.ID,
		InviteURL:    inv.InviteURL,
		RoleBindings: []wireRoleBinding{},
	}
	for _, rb := range inv.RoleBindings {
		b := wireRoleBinding{RoleName: rb.RoleName}
		if rb.ResourceType != "" || rb.ResourceID != "" || rb.DataplaneID != "" {
			b.Scope = &wireScope{ResourceID: rb.ResourceID, ResourceType: rb.ResourceType}
			if rb.DataplaneID != "" {
				d := rb.DataplaneID
				b.Scope.DataplaneID = &d
			}
		}
		out.RoleBindings = append(out.RoleBindings, b)
	}
	return out
}

// formatTimestamp writes t as protojson writes a Timestamp; nil (left out) for the zero time.
func formatTimestamp(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	layout := "2006-01-02T15:04:05"
	switch ns := t.Nanosecond(); {
	case ns == 0:
	case ns%1e6 == 0:
		layout += ".000"
	case ns%1e3 == 0:
		layout += ".000000"
	default:
		layout += ".000000000"
	}
	s := t.Format(layout + "Z")
	return &s
}

// cursor is a position in the list order (created_at, then id). A page token is the cursor of
// the last item served.
type cursor struct {
	created time.Time
	id      string
}

func cursorOf(inv Invite) cursor { return cursor{created: inv.CreatedAt.UTC(), id: inv.ID} }

func (c cursor) compare(d cursor) int {
	if n := c.created.Compare(d.created); n != 0 {
		return n
	}
	return strings.Compare(c.id, d.id)
}

const cursorPrefix = "rpfake1|"

func (c cursor) encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + c.created.Format(time.RFC3339Nano) + "|" + c.id))
}

func decodeCursor(s string) (cursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, false
	}
	rest, ok := strings.CutPrefix(string(b), cursorPrefix)
	if !ok {
		return cursor{}, false
	}
	ts, id, ok := strings.Cut(rest, "|")
	if !ok {
		return cursor{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return cursor{}, false
	}
	return cursor{created: t.UTC(), id: id}, true
}

// --- organization ---

type organization struct {
	Auth0ID     string `json:"auth0_id"`
	ID          string `json:"id"`
	MFAEnforced bool   `json:"mfa_enforced"`
	Name        string `json:"name"`
}

func (s *Server) getCurrentOrganization(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		Organization organization `json:"organization"`
	}{organization{ID: s.opts.OrgID, Name: s.opts.OrgName}})
}

// --- errors ---

// rpcStatus is Redpanda's error body: google.rpc.Status with the code's enum name.
type rpcStatus struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Details []any  `json:"details"`
}

type errorInfoDetail struct {
	Type     string            `json:"@type"`
	Reason   string            `json:"reason"`
	Domain   string            `json:"domain"`
	Metadata map[string]string `json:"metadata"`
}

type helpDetail struct {
	Type  string     `json:"@type"`
	Links []helpLink `json:"links"`
}

type helpLink struct {
	Description string `json:"description"`
	URL         string `json:"url"`
}

type badRequestDetail struct {
	Type            string           `json:"@type"`
	FieldViolations []fieldViolation `json:"field_violations"`
}

type fieldViolation struct {
	Field       string `json:"field"`
	Description string `json:"description"`
}

// Detail types, as the spec's "@type" enum names them: with the type.googleapis.com/ prefix.
// (Redpanda's documented example writes them bare; the client accepts both.)
const (
	typeErrorInfo  = "type.googleapis.com/google.rpc.ErrorInfo"
	typeBadRequest = "type.googleapis.com/google.rpc.BadRequest"
	typeHelp       = "type.googleapis.com/google.rpc.Help"
)

// errorInfo is a google.rpc.ErrorInfo detail of the control plane.
func errorInfo(reason string) errorInfoDetail {
	return errorInfoDetail{Type: typeErrorInfo, Reason: reason, Domain: Domain, Metadata: map[string]string{}}
}

func writeBadRequest(w http.ResponseWriter, msg, field, desc string) {
	writeStatus(w, http.StatusBadRequest, "INVALID_ARGUMENT", msg, errorInfo(ReasonInvalidInput),
		badRequestDetail{Type: typeBadRequest, FieldViolations: []fieldViolation{{Field: field, Description: desc}}})
}

func writeStatus(w http.ResponseWriter, status int, code, msg string, details ...any) {
	if details == nil {
		details = []any{}
	}
	writeJSON(w, status, rpcStatus{Code: code, Message: msg, Details: details})
}

// writeInjected writes the rpc.Status of an injected failure.
func writeInjected(w http.ResponseWriter, status int) {
	code := fakeserver.GRPCCodeFor(status).Name
	switch status {
	case http.StatusUnauthorized:
		writeUnauthenticated(w, "Provided API token is invalid", ReasonTokenInvalid)
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "1")
		writeStatus(w, status, code, "Rate limit exceeded. Reduce request rate.", errorInfo(ReasonRateLimitExceeded))
	default:
		writeStatus(w, status, code, "injected failure: "+strings.ToLower(code))
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // protojson does not escape <, > and &
	_ = enc.Encode(v)
}
