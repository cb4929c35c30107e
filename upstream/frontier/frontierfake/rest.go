package frontierfake

import (
	"net/http"
)

// This file is the REST API (grpc-gateway, releases <= v0.90.0): routes, query parameters and
// rpc.Status errors.

// routeREST registers the REST routes.
func (s *Server) routeREST() {
	s.mux.HandleFunc("GET /v1beta1/organizations/{org_id}/invitations",
		s.Wrap("ListOrganizationInvitations", s.restRoute(func(r *http.Request) (any, bool) {
			q := r.URL.Query()
			userID := q.Get("user_id")
			if userID == "" {
				userID = q.Get("userId")
			}
			return s.invitationsReply(r.PathValue("org_id"), userID)
		})))
	s.mux.HandleFunc("GET /v1beta1/organizations/{id}",
		s.Wrap("GetOrganization", s.restRoute(func(r *http.Request) (any, bool) {
			return s.organizationReply(r.PathValue("id"))
		})))
	s.mux.HandleFunc("GET /v1beta1/roles",
		s.Wrap("ListRoles", s.restRoute(func(*http.Request) (any, bool) {
			return s.rolesReply(), true
		})))
	s.mux.HandleFunc("GET /v1beta1/organizations/{org_id}/roles",
		s.Wrap("ListOrganizationRoles", s.restRoute(func(r *http.Request) (any, bool) {
			return s.organizationRolesReply(r.PathValue("org_id"))
		})))
	s.mux.HandleFunc("GET /v1beta1/organizations/{org_id}/groups",
		s.Wrap("ListOrganizationGroups", s.restRoute(func(r *http.Request) (any, bool) {
			return s.groupsReply(r.PathValue("org_id"))
		})))
	s.mux.HandleFunc("/", s.Wrap("NotFound", func(w http.ResponseWriter, _ *http.Request) {
		writeStatus(w, http.StatusNotFound, 5, "Not Found")
	}))
}

// restRoute serves one REST route: credentials first, then the reply; a false ok is the
// handler's "org doesn't exist".
func (s *Server) restRoute(reply func(r *http.Request) (v any, ok bool)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.authenticated(r) {
			writeStatus(w, http.StatusUnauthorized, 16, "not authenticated")
			return
		}
		v, ok := reply(r)
		if !ok {
			writeStatus(w, http.StatusNotFound, 5, "org doesn't exist")
			return
		}
		writeJSON(w, http.StatusOK, v)
	}
}

// statusJSON is google.rpc.Status as grpc-gateway writes it.
type statusJSON struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Details []any  `json:"details"`
}

func writeStatus(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, statusJSON{Code: code, Message: msg, Details: []any{}})
}

// writeRESTInjected writes the rpc.Status of an injected failure (see the package doc).
func writeRESTInjected(w http.ResponseWriter, status int) {
	f := failureFor(status)
	retryAfterOnInjected(w, status)
	writeStatus(w, status, f.code.Number, f.message)
}
