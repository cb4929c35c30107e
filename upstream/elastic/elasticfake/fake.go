// Package elasticfake is an in-memory fake of the Elastic Cloud API's organization invitation
// routes, served over real HTTP for tests and the demo. It speaks the wire format of FACTS.md
// section 2 with its own JSON types (it never imports the client), checks the API key, and
// returns Elastic's BasicFailedReply errors with the x-cloud-error-codes header.
//
// Routes (Recorder names in brackets):
//
//	GET /api/v1/organizations/{organization_id}/invitations   [ListInvitations]
//	GET /api/v1/organizations/{organization_id}                [GetOrganization]
//	anything else                                              [NotFound]
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
//   - `expired` is served as seeded; the real service computes it. The list serves every seeded
//     invitation, accepted or expired alike, in insertion order; what the real "open
//     invitations" list includes is not documented.
//   - Each item embeds its organization as {id, name, default_disk_usage_alerts_enabled: true,
//     notifications_allowed_email_domains: [], billing_contacts: [], operational_contacts: []};
//     the defaults and the empty lists are invented.
//   - Timestamps are written in UTC as "2006-01-02T15:04:05+00:00" (the documented example
//     form), with fractional seconds only when seeded.
//   - Rate limits are not enforced. Every answer carries x-ratelimit-interval "60s",
//     x-ratelimit-limit "1000" and an x-ratelimit-remaining that counts down per request and
//     stops at 0 (header names documented, values invented).
//   - Injected failures (Recorder.FailNext) answer a BasicFailedReply whose code depends on the
//     status: 400 root.invalid_data, 401 root.unauthorized, 403 root.invalid_authentication,
//     404 organization.not_found (all seen in the spec), 429 root.rate_limit_exceeded with
//     Retry-After: 1, 500 root.unexpected_error, 502/503/504 root.unavailable (the last three
//     invented; Elastic documents no 429 code for these routes nor any 5xx code).
//   - Unknown paths, and other methods on known paths, answer 404 root.not_found (invented;
//     the real service may answer 405 for a wrong method).
package elasticfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
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
}

// Server is the fake. It is safe for concurrent use; seed it before or while serving.
type Server struct {
	*fakeserver.Recorder

	apiKey string
	mux    *http.ServeMux

	mu        sync.Mutex
	orgs      map[string]*organization
	remaining int
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
		mux:       http.NewServeMux(),
		orgs:      map[string]*organization{},
		remaining: RateLimitLimit,
	}
	if s.apiKey == "" {
		s.apiKey = DefaultAPIKey
	}
	s.Recorder = fakeserver.NewRecorder(s.writeInjected)
	s.mux.HandleFunc("GET /api/v1/organizations/{organization_id}/invitations",
		s.Wrap("ListInvitations", s.listInvitations))
	s.mux.HandleFunc("GET /api/v1/organizations/{organization_id}",
		s.Wrap("GetOrganization", s.getOrganization))
	s.mux.HandleFunc("/", s.Wrap("NotFound", s.notFound))
	return s
}

// ServeHTTP makes the fake an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

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
	if inv.AcceptedAt != nil {
		at := *inv.AcceptedAt
		inv.AcceptedAt = &at
	}
	inv.RoleAssignments = append(json.RawMessage(nil), inv.RoleAssignments...)
	if len(inv.RoleAssignments) == 0 {
		inv.RoleAssignments = nil
	}
	o.invitations = append(o.invitations, inv)
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
	s.mu.Lock()
	o, ok := s.orgs[id]
	foreign := ok && o.foreign
	var reply invitationsJSON
	if ok && !foreign {
		org := orgJSON(id, o)
		reply.Invitations = make([]invitationJSON, 0, len(o.invitations))
		for _, inv := range o.invitations {
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
	}
	s.mu.Unlock()
	switch {
	case !ok:
		s.writeOrgNotFound(w)
	case foreign:
		s.writeInvalidAccess(w)
	default:
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
	s.mu.Lock()
	o, ok := s.orgs[id]
	foreign := ok && o.foreign
	var reply organizationJSON
	if ok {
		reply = orgJSON(id, o)
	}
	s.mu.Unlock()
	switch {
	case !ok:
		s.writeOrgNotFound(w)
	case foreign:
		s.writeInvalidAccess(w)
	default:
		s.writeJSON(w, http.StatusOK, reply)
	}
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	s.writeError(w, http.StatusNotFound, "root.not_found", "The requested resource could not be found")
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
