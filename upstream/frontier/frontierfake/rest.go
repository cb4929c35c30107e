package frontierfake

import (
	"bytes"
	"io"
	"net/http"

	"github.com/invitegw/invitegw/upstream/fakeserver"
)

// This file is the REST API (grpc-gateway, releases <= v0.90.0): routes, query parameters and
// rpc.Status errors.

// routeREST registers the REST routes.
func (s *Server) routeREST() {
	s.mux.HandleFunc("GET /v1beta1/organizations/{org_id}/invitations",
		s.Wrap("ListOrganizationInvitations", s.restRoute(func(r *http.Request) (any, *refusal) {
			q := r.URL.Query()
			userID := q.Get("user_id")
			if userID == "" {
				userID = q.Get("userId")
			}
			return found(s.invitationsReply(r.PathValue("org_id"), userID))
		})))
	s.mux.HandleFunc("POST /v1beta1/organizations/{org_id}/invitations",
		s.Wrap("CreateOrganizationInvitation", s.restRoute(func(r *http.Request) (any, *refusal) {
			var q createInvitationRequest
			body, err := io.ReadAll(io.LimitReader(r.Body, maxRequest))
			if err == nil && len(bytes.TrimSpace(body)) > 0 { // grpc-gateway reads no body as an empty message
				err = decodeRequest(body, q.fields())
			}
			if err != nil {
				return nil, invalidArgument(err.Error())
			}
			return s.createInvitations(r.PathValue("org_id"), q.userIDs, q.groupIDs, q.roleIDs)
		})))
	s.mux.HandleFunc("DELETE /v1beta1/organizations/{org_id}/invitations/{id}",
		s.Wrap("DeleteOrganizationInvitation", s.restRoute(func(r *http.Request) (any, *refusal) {
			return struct{}{}, s.deleteInvitation(r.PathValue("org_id"), r.PathValue("id"))
		})))
	s.mux.HandleFunc("GET /v1beta1/organizations/{id}",
		s.Wrap("GetOrganization", s.restRoute(func(r *http.Request) (any, *refusal) {
			return found(s.organizationReply(r.PathValue("id")))
		})))
	s.mux.HandleFunc("GET /v1beta1/roles",
		s.Wrap("ListRoles", s.restRoute(func(*http.Request) (any, *refusal) {
			return s.rolesReply(), nil
		})))
	s.mux.HandleFunc("GET /v1beta1/organizations/{org_id}/roles",
		s.Wrap("ListOrganizationRoles", s.restRoute(func(r *http.Request) (any, *refusal) {
			return found(s.organizationRolesReply(r.PathValue("org_id")))
		})))
	s.mux.HandleFunc("GET /v1beta1/organizations/{org_id}/groups",
		s.Wrap("ListOrganizationGroups", s.restRoute(func(r *http.Request) (any, *refusal) {
			return found(s.groupsReply(r.PathValue("org_id")))
		})))
	s.mux.HandleFunc("/", s.Wrap("NotFound", func(w http.ResponseWriter, _ *http.Request) {
		writeStatus(w, http.StatusNotFound, 5, "Not Found")
	}))
}

// restRoute serves one REST route: credentials first, then the reply or its refusal (an
// unknown organization is the handler's "org doesn't exist").
func (s *Server) restRoute(reply func(r *http.Request) (any, *refusal)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.authenticated(r) {
			writeStatus(w, http.StatusUnauthorized, 16, "not authenticated")
			return
		}
		v, ref := reply(r)
		switch {
		case ref == errOrgNotFound:
			writeStatus(w, http.StatusNotFound, 5, "org doesn't exist")
		case ref != nil:
			writeStatus(w, ref.status, fakeserver.GRPCCodeFor(ref.status).Number, ref.message)
		default:
			writeJSON(w, http.StatusOK, v)
		}
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
