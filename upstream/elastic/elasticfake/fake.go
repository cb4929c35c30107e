// Package elasticfake is an in-memory fake of the Elastic Cloud API's organization invitation
// routes, served over real HTTP for tests and the demo. It speaks the wire format of FACTS.md
// section 2 with its own JSON types (it never imports the client), checks the API key, and
// returns Elastic's BasicFailedReply errors with the x-cloud-error-codes header.
//
// Routes (Recorder names in brackets):
//
//	GET    /api/v1/organizations/{organization_id}/invitations                       [ListInvitations]
//	POST   /api/v1/organizations/{organization_id}/invitations                       [CreateInvitations]
//	DELETE /api/v1/organizations/{organization_id}/invitations/{invitation_tokens}   [DeleteInvitations]
//	GET    /api/v1/organizations/{organization_id}                                   [GetOrganization]
//	anything else                                                                    [NotFound]
//
// Every request is kept by the embedded Recorder (Requests: method, escaped path, query, body);
// AddOrganization and AddInvitation seed, Invitations reads an organization's list back.
//
// How it differs from the real service, and what is inferred or invented:
//   - Auth: the request must carry exactly `Authorization: ApiKey <Options.APIKey>`.
//     GetOrganization answers a missing or wrong key as its spec documents, 401 user.not_found
//     (message "User not found" invented). The list documents no auth failure, so it answers
//     those of other endpoints, 401 {"errors":[{"code":"root.unauthorized","message":"Credentials
//     were invalid"}]} (inferred, FACTS.md 2.5), as do unknown paths. The key reads every
//     organization seeded with AddOrganization; one seeded with AddForeignOrganization exists
//     but is not the key's: GetOrganization answers it 403 organization.invalid_access, as
//     documented, and so does the list (inferred: its spec documents only 404; message "You
//     do not have access to this organization" invented). No X-Elastic-Api-Key-Expiration
//     header is sent.
//   - An unknown organization is 404 organization.not_found, message "Organization not found"
//     (the code is documented for the list; the message and its use on GetOrganization are
//     inferred).
//   - `expired` is served as seeded (or as CreateInvitations last set it); the real service
//     computes it. The list serves every invitation, accepted or expired alike, in insertion
//     order; what the real "open invitations" list includes is not documented.
//   - CreateInvitations: the checks run as auth, organization (404 organization.not_found, 403
//     organization.invalid_access, as on the list), body. A body that is not a JSON object
//     with a non-empty emails list of strings, an expires_in that is not a positive duration
//     (Go's syntax, or whole days as "7d"), or a role_assignments that is not an object is 400
//     root.invalid_data "The request body is invalid" (inferred; the message is invented). An
//     email that is not a bare address (net/mail's addr-spec) is 400
//     organization.invitation_invalid_email "Invalid email address: <email>" (code documented,
//     message invented) and nothing is created. Otherwise each email, in order, "creates or
//     refreshes" (documented) an invitation: an email (compared case-insensitively) that
//     already has an invitation not yet accepted, expired or not, keeps that invitation and its
//     token, which gets expires_at pushed to now + expires_in, expired false and, when the
//     request has them, the new role_assignments. Elastic documents neither whether a refresh
//     keeps the token nor whether it applies to expired invitations: both are this fake's
//     choice. A new one gets a random 32-hex-digit token (invented format), created_at now,
//     expires_at now + expires_in (72h when absent, as the SDK documents) and role_assignments
//     verbatim. The answer is 201 {"invitations":[...]}, one per email, in the request's
//     order. Neither organization.invitation_already_exists nor the membership errors
//     (organization.user_organization_already_belongs) are produced: the fake has no members,
//     and when the service says "already exists" instead of refreshing is undocumented.
//   - DeleteInvitations: auth, then the organization as above. The tokens segment is split on
//     "," as sent, each part path-unescaped and trimmed; empty parts are dropped, and none left
//     is 400 root.invalid_data "No valid invitation token was supplied" (documented). A token
//     the organization does not have is 404 organization.invitation_not_found "Invitation not
//     found" and nothing is deleted (all-or-nothing is inferred; the message is invented and,
//     like every message of the fake, never quotes a token). Otherwise every named invitation
//     leaves the list and the answer is 200 {}.
//   - Each item embeds its organization as {id, name, default_disk_usage_alerts_enabled: true,
//     notifications_allowed_email_domains: [], billing_contacts: [], operational_contacts: []};
//     the defaults and the empty lists are invented.
//   - Timestamps are written in UTC as "2006-01-02T15:04:05+00:00" (the documented example
//     form), with fractional seconds only when seeded.
//   - Rate limits are not enforced. Every answer carries x-ratelimit-interval "60s",
//     x-ratelimit-limit "1000" and an x-ratelimit-remaining that counts down per request,
//     stops at 0, and starts again from 1000 once the window (60 s on Options.Now's clock from
//     its start) is over (header names documented; values, and when a window starts,
//     invented). SetRateLimitRemaining sets what the next answer says.
//   - Injected failures (Recorder.FailNext) answer a BasicFailedReply whose code depends on the
//     status: 400 root.invalid_data, 401 root.unauthorized, 403 root.invalid_authentication,
//     404 organization.not_found (all seen in the spec), 429 root.rate_limit_exceeded with
//     Retry-After: 1, 500 root.unexpected_error, 502/503/504 root.unavailable (the last three
//     invented; Elastic documents no 429 code for these routes nor any 5xx code).
//   - Unknown paths, and other methods on known paths, answer 404 root.not_found (invented;
//     the real service may answer 405 for a wrong method).
package elasticfake

import (
	"bytes"
	"crypto/rand"
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

// DefaultAPIKey is the key the fake accepts when Options.APIKey is empty.
const DefaultAPIKey = "elastic-fake-api-key"

// Rate-limit header values (invented; Elastic publishes none).
const (
	RateLimitInterval = "60s"
	RateLimitLimit    = 1000
)

// rateLimitWindow is RateLimitInterval as a duration.
const rateLimitWindow = 60 * time.Second

// Invitation is a seeded invitation.
type Invitation struct {
	Token     string
	Email     string
	CreatedAt time.Time
	ExpiresAt time.Time
	// Expired is served as is; the fake does not compute it from ExpiresAt.
	Expired    bool
	AcceptedAt *time.Time
	// RoleAssignments is the role_assignments object, verbatim; nil omits the field.
	RoleAssignments json.RawMessage
}

// Options configures the fake.
type Options struct {
	// APIKey is the only key accepted; DefaultAPIKey when empty.
	APIKey string
	// Now is the clock CreateInvitations stamps invitations with; time.Now when nil.
	Now func() time.Time
}

// DefaultExpiresIn is the lifetime of a created invitation when the request gives no
// expires_in (the SDK: "Defaults to 72h").
const DefaultExpiresIn = 72 * time.Hour

// Server is the fake. It is safe for concurrent use; seed it before or while serving.
type Server struct {
	*fakeserver.Recorder

	apiKey string
	now    func() time.Time
	mux    *http.ServeMux

	mu        sync.Mutex
	orgs      map[string]*organization
	remaining int       // calls left in the rate-limit window, before this answer's
	window    time.Time // when the window started
}

type organization struct {
	name        string
	invitations []Invitation
	// foreign marks an organization the key cannot access (AddForeignOrganization).
	foreign bool
}

// New returns an empty fake.
func New(o Options) *Server {
	s := &Server{
		apiKey:    o.APIKey,
		now:       o.Now,
		mux:       http.NewServeMux(),
		orgs:      map[string]*organization{},
		remaining: RateLimitLimit,
	}
	if s.apiKey == "" {
		s.apiKey = DefaultAPIKey
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.window = s.now()
	s.Recorder = fakeserver.NewRecorder(s.writeInjected)
	s.mux.HandleFunc("GET /api/v1/organizations/{organization_id}/invitations",
		s.Wrap("ListInvitations", s.listInvitations))
	s.mux.HandleFunc("POST /api/v1/organizations/{organization_id}/invitations",
		s.Wrap("CreateInvitations", s.createInvitations))
	s.mux.HandleFunc("DELETE /api/v1/organizations/{organization_id}/invitations/{invitation_tokens}",
		s.Wrap("DeleteInvitations", s.deleteInvitations))
	s.mux.HandleFunc("GET /api/v1/organizations/{organization_id}",
		s.Wrap("GetOrganization", s.getOrganization))
	s.mux.HandleFunc("/", s.Wrap("NotFound", s.notFound))
	return s
}

// ServeHTTP makes the fake an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// SetRateLimitRemaining makes the next answer say n calls are left in the window (x-ratelimit-
// remaining), and the ones after count down from there as usual; the window starts again now.
// A test sets 0 to see what a client does before Elastic's 429s would begin.
func (s *Server) SetRateLimitRemaining(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.window, s.remaining = s.now(), n+1
}

// AddOrganization adds an organization, or renames an existing one (keeping its invitations).
func (s *Server) AddOrganization(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.orgs[id]; ok {
		o.name = name
		return
	}
	s.orgs[id] = &organization{name: name}
}

// AddForeignOrganization adds an organization that exists but that the fake's API key cannot
// access (a key of another organization): its routes answer 403 organization.invalid_access.
func (s *Server) AddForeignOrganization(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orgs[id] = &organization{name: name, foreign: true}
}

// AddInvitation appends an invitation to an organization's list. It panics when the
// organization is unknown or RoleAssignments is not valid JSON: both are seeding bugs.
func (s *Server) AddInvitation(organizationID string, inv Invitation) {
	if inv.RoleAssignments != nil && !json.Valid(inv.RoleAssignments) {
		panic("elasticfake: AddInvitation: role assignments are not valid JSON")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orgs[organizationID]
	if !ok {
		panic(fmt.Sprintf("elasticfake: AddInvitation: unknown organization %q", organizationID))
	}
	o.invitations = append(o.invitations, cloneInvitation(inv))
}

// RemoveInvitation deletes the invitation with token from an organization's list, as accepting
// or deleting it would. It reports whether it was there.
func (s *Server) RemoveInvitation(organizationID, token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orgs[organizationID]
	if !ok {
		return false
	}
	for i, inv := range o.invitations {
		if inv.Token == token {
			o.invitations = append(o.invitations[:i], o.invitations[i+1:]...)
			return true
		}
	}
	return false
}

// Invitations is an organization's invitations as stored, in list order (nil for an unknown
// organization).
func (s *Server) Invitations(organizationID string) []Invitation {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orgs[organizationID]
	if !ok {
		return nil
	}
	out := make([]Invitation, 0, len(o.invitations))
	for _, inv := range o.invitations {
		out = append(out, cloneInvitation(inv))
	}
	return out
}

func cloneInvitation(inv Invitation) Invitation {
	if inv.AcceptedAt != nil {
		at := *inv.AcceptedAt
		inv.AcceptedAt = &at
	}
	inv.RoleAssignments = append(json.RawMessage(nil), inv.RoleAssignments...)
	if len(inv.RoleAssignments) == 0 {
		inv.RoleAssignments = nil
	}
	return inv
}

// Wire types: the fake's own, so a JSON-name mistake in the client cannot hide here.

type invitationsJSON struct {
	Invitations []invitationJSON `json:"invitations"`
}

type invitationJSON struct {
	Token           string           `json:"token"`
	Email           string           `json:"email"`
	CreatedAt       string           `json:"created_at"`
	ExpiresAt       string           `json:"expires_at"`
	Expired         bool             `json:"expired"`
	AcceptedAt      *string          `json:"accepted_at,omitempty"`
	Organization    organizationJSON `json:"organization"`
	RoleAssignments json.RawMessage  `json:"role_assignments,omitempty"`
}

type organizationJSON struct {
	ID                               string   `json:"id"`
	Name                             string   `json:"name"`
	DefaultDiskUsageAlertsEnabled    bool     `json:"default_disk_usage_alerts_enabled"`
	NotificationsAllowedEmailDomains []string `json:"notifications_allowed_email_domains"`
	BillingContacts                  []string `json:"billing_contacts"`
	OperationalContacts              []string `json:"operational_contacts"`
}

type failedReplyJSON struct {
	Errors []failedElementJSON `json:"errors"`
}

type failedElementJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// timeLayout is RFC 3339 with a numeric UTC offset, as in Elastic's documented examples.
const timeLayout = "2006-01-02T15:04:05.999999999-07:00"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func (s *Server) listInvitations(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	id := r.PathValue("organization_id")
	var reply invitationsJSON
	if s.inOrg(w, id, func(o *organization) { reply = invitationsToJSON(id, o, o.invitations) }) {
		s.writeJSON(w, http.StatusOK, reply)
	}
}

// getOrganization answers as get-organization documents its errors: 401 user.not_found for a
// key that names no user, 403 organization.invalid_access for an organization the key cannot
// access (FACTS.md 2.5).
func (s *Server) getOrganization(w http.ResponseWriter, r *http.Request) {
	if !s.keyValid(r) {
		s.writeError(w, http.StatusUnauthorized, "user.not_found", "User not found")
		return
	}
	id := r.PathValue("organization_id")
	var reply organizationJSON
	if s.inOrg(w, id, func(o *organization) { reply = orgJSON(id, o) }) {
		s.writeJSON(w, http.StatusOK, reply)
	}
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	s.writeError(w, http.StatusNotFound, "root.not_found", "The requested resource could not be found")
}

// invitationsToJSON must be called with s.mu held.
func invitationsToJSON(id string, o *organization, invs []Invitation) invitationsJSON {
	org := orgJSON(id, o)
	reply := invitationsJSON{Invitations: make([]invitationJSON, 0, len(invs))}
	for _, inv := range invs {
		j := invitationJSON{
			Token:           inv.Token,
			Email:           inv.Email,
			CreatedAt:       formatTime(inv.CreatedAt),
			ExpiresAt:       formatTime(inv.ExpiresAt),
			Expired:         inv.Expired,
			Organization:    org,
			RoleAssignments: inv.RoleAssignments,
		}
		if inv.AcceptedAt != nil {
			at := formatTime(*inv.AcceptedAt)
			j.AcceptedAt = &at
		}
		reply.Invitations = append(reply.Invitations, j)
	}
	return reply
}

// invitationRequestJSON is OrganizationInvitationRequest; pointers tell absent from empty.
type invitationRequestJSON struct {
	Emails          *[]string       `json:"emails"`
	ExpiresIn       *string         `json:"expires_in"`
	RoleAssignments json.RawMessage `json:"role_assignments"`
}

// invitationRequest is a create body the fake can use.
type invitationRequest struct {
	emails []string
	ttl    time.Duration
	roles  json.RawMessage // nil when absent or null
}

// maxBody bounds a request body the fake reads.
const maxBody = 1 << 20

// parseInvitationRequest reads a create body; false means 400 root.invalid_data (see the
// package doc).
func parseInvitationRequest(b []byte) (invitationRequest, bool) {
	var req invitationRequestJSON
	if err := json.Unmarshal(b, &req); err != nil || req.Emails == nil || len(*req.Emails) == 0 {
		return invitationRequest{}, false
	}
	out := invitationRequest{emails: *req.Emails, ttl: DefaultExpiresIn, roles: req.RoleAssignments}
	if req.ExpiresIn != nil {
		d, ok := parseExpiresIn(*req.ExpiresIn)
		if !ok {
			return invitationRequest{}, false
		}
		out.ttl = d
	}
	if string(out.roles) == "null" {
		out.roles = nil
	}
	if out.roles != nil && !bytes.HasPrefix(bytes.TrimSpace(out.roles), []byte("{")) {
		return invitationRequest{}, false
	}
	return out, true
}

// parseExpiresIn reads a positive duration: Go's syntax ("72h", "90m") or whole days ("7d").
func parseExpiresIn(s string) (time.Duration, bool) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > 3650 {
			return 0, false
		}
		return time.Duration(n) * 24 * time.Hour, true
	}
	d, err := time.ParseDuration(s)
	return d, err == nil && d > 0
}

// validEmail says whether s is a bare email address, without a display name or angle brackets.
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s
}

// inOrg runs f on the organization named id with s.mu held, and reports true; or answers the
// organization's error (unknown 404, foreign 403) and reports false.
func (s *Server) inOrg(w http.ResponseWriter, id string, f func(o *organization)) bool {
	s.mu.Lock()
	o, ok := s.orgs[id]
	foreign := ok && o.foreign
	if ok && !foreign {
		f(o)
	}
	s.mu.Unlock()
	switch {
	case !ok:
		s.writeOrgNotFound(w)
	case foreign:
		s.writeInvalidAccess(w)
	}
	return ok && !foreign
}

func (s *Server) createInvitations(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	req, valid := parseInvitationRequest(b)
	valid = valid && err == nil
	badEmail := -1
	if valid {
		badEmail = slices.IndexFunc(req.emails, func(e string) bool { return !validEmail(e) })
	}
	id := r.PathValue("organization_id")
	now := s.now().UTC()
	var reply invitationsJSON
	found := s.inOrg(w, id, func(o *organization) {
		if !valid || badEmail >= 0 {
			return
		}
		created := make([]Invitation, 0, len(req.emails))
		for _, e := range req.emails {
			i := slices.IndexFunc(o.invitations, func(inv Invitation) bool {
				return inv.AcceptedAt == nil && strings.EqualFold(inv.Email, e)
			})
			if i < 0 {
				o.invitations = append(o.invitations, Invitation{Token: newToken(), Email: e, CreatedAt: now})
				i = len(o.invitations) - 1
			}
			inv := &o.invitations[i]
			inv.ExpiresAt, inv.Expired = now.Add(req.ttl), false
			if req.roles != nil {
				inv.RoleAssignments = slices.Clone(req.roles)
			}
			created = append(created, *inv)
		}
		reply = invitationsToJSON(id, o, created)
	})
	switch {
	case !found:
	case !valid:
		s.writeError(w, http.StatusBadRequest, "root.invalid_data", "The request body is invalid")
	case badEmail >= 0:
		s.writeError(w, http.StatusBadRequest, "organization.invitation_invalid_email", "Invalid email address: "+req.emails[badEmail])
	default:
		s.writeJSON(w, http.StatusCreated, reply)
	}
}

// newToken is a random invitation token (the real format is not documented).
func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Server) deleteInvitations(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	// The tokens as sent: a token's own escaped "," must not split it.
	p := r.URL.EscapedPath()
	var tokens []string
	for _, part := range strings.Split(p[strings.LastIndexByte(p, '/')+1:], ",") {
		tok, err := url.PathUnescape(part)
		if tok = strings.TrimSpace(tok); err == nil && tok != "" {
			tokens = append(tokens, tok)
		}
	}
	missing := false
	found := s.inOrg(w, r.PathValue("organization_id"), func(o *organization) {
		missing = slices.ContainsFunc(tokens, func(tok string) bool {
			return !slices.ContainsFunc(o.invitations, func(inv Invitation) bool { return inv.Token == tok })
		})
		if len(tokens) > 0 && !missing {
			o.invitations = slices.DeleteFunc(o.invitations, func(inv Invitation) bool { return slices.Contains(tokens, inv.Token) })
		}
	})
	switch {
	case !found:
	case len(tokens) == 0:
		s.writeError(w, http.StatusBadRequest, "root.invalid_data", "No valid invitation token was supplied")
	case missing:
		s.writeError(w, http.StatusNotFound, "organization.invitation_not_found", "Invitation not found")
	default:
		s.writeJSON(w, http.StatusOK, struct{}{})
	}
}

// orgJSON must be called with s.mu held.
func orgJSON(id string, o *organization) organizationJSON {
	return organizationJSON{
		ID:                               id,
		Name:                             o.name,
		DefaultDiskUsageAlertsEnabled:    true,
		NotificationsAllowedEmailDomains: []string{},
		BillingContacts:                  []string{},
		OperationalContacts:              []string{},
	}
}

// keyValid says whether the request carries the fake's API key.
func (s *Server) keyValid(r *http.Request) bool {
	return r.Header.Get("Authorization") == "ApiKey "+s.apiKey
}

// authorized checks the API key and writes the 401 of the routes that document none when it is
// missing or wrong.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	if s.keyValid(r) {
		return true
	}
	s.writeError(w, http.StatusUnauthorized, "root.unauthorized", "Credentials were invalid")
	return false
}

func (s *Server) writeOrgNotFound(w http.ResponseWriter) {
	s.writeError(w, http.StatusNotFound, "organization.not_found", "Organization not found")
}

func (s *Server) writeInvalidAccess(w http.ResponseWriter) {
	s.writeError(w, http.StatusForbidden, "organization.invalid_access", "You do not have access to this organization")
}

// writeInjected writes the error body of an injected failure (see the package doc).
func (s *Server) writeInjected(w http.ResponseWriter, status int) {
	code, msg := "root.unexpected_error", "An unexpected error occurred"
	switch status {
	case http.StatusBadRequest:
		code, msg = "root.invalid_data", "The request was invalid"
	case http.StatusUnauthorized:
		code, msg = "root.unauthorized", "Credentials were invalid"
	case http.StatusForbidden:
		code, msg = "root.invalid_authentication", "The supplied authentication is not allowed to perform this action"
	case http.StatusNotFound:
		code, msg = "organization.not_found", "Organization not found"
	case http.StatusTooManyRequests:
		code, msg = "root.rate_limit_exceeded", "Rate limit exceeded"
		w.Header().Set("Retry-After", "1")
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		code, msg = "root.unavailable", "The service is temporarily unavailable"
	}
	s.writeError(w, status, code, msg)
}

func (s *Server) writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("X-Cloud-Error-Codes", code)
	s.writeJSON(w, status, failedReplyJSON{Errors: []failedElementJSON{{Code: code, Message: msg}}})
}

func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "elasticfake: encode: "+err.Error(), http.StatusInternalServerError)
		return
	}
	s.mu.Lock()
	if now := s.now(); now.Sub(s.window) >= rateLimitWindow {
		s.window, s.remaining = now, RateLimitLimit
	}
	if s.remaining > 0 {
		s.remaining--
	}
	remaining := s.remaining
	s.mu.Unlock()
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Ratelimit-Interval", RateLimitInterval)
	h.Set("X-Ratelimit-Limit", strconv.Itoa(RateLimitLimit))
	h.Set("X-Ratelimit-Remaining", strconv.Itoa(remaining))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
