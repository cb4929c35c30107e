package frontier

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/invitegw/invitegw/upstream"
)

// This file is everything specific to Frontier's REST API (grpc-gateway, releases <= v0.90.0):
// paths, query parameters, response envelopes and the rpc.Status error body.

// restPrefix is the API version prefix of every REST path.
const restPrefix = "/v1beta1"

// rest is the REST transport.
type rest struct {
	caller upstream.Caller
}

// newREST is the REST transport over c, the caller NewClient set up for the deployment.
func newREST(c upstream.Caller, auth string) *rest {
	c.BaseURL += restPrefix
	c.Authorize = func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", auth)
		return nil
	}
	c.DecodeErr = decodeRESTError
	return &rest{caller: c}
}

// listOrganizationInvitations is GET /v1beta1/organizations/{org_id}/invitations[?user_id=].
func (t *rest) listOrganizationInvitations(ctx context.Context, orgID, userID string) ([]Invitation, error) {
	const op = "ListOrganizationInvitations"
	p, err := orgPath(op, orgID)
	if err != nil {
		return nil, err
	}
	p += "/invitations"
	if userID != "" {
		p += "?" + url.Values{"user_id": {userID}}.Encode()
	}
	var out struct {
		Invitations []Invitation `json:"invitations"`
	}
	if err := t.caller.Do(ctx, op, http.MethodGet, p, nil, &out); err != nil {
		return nil, err
	}
	return out.Invitations, nil
}

// createOrganizationInvitation is POST /v1beta1/organizations/{org_id}/invitations.
func (t *rest) createOrganizationInvitation(ctx context.Context, orgID string, req CreateInvitationRequest) ([]Invitation, error) {
	const op = "CreateOrganizationInvitation"
	p, err := orgPath(op, orgID)
	if err != nil {
		return nil, err
	}
	var out struct {
		Invitations []Invitation `json:"invitations"`
	}
	if err := t.caller.Do(ctx, op, http.MethodPost, p+"/invitations", req, &out); err != nil {
		return nil, err
	}
	return out.Invitations, nil
}

// deleteOrganizationInvitation is DELETE /v1beta1/organizations/{org_id}/invitations/{id}.
func (t *rest) deleteOrganizationInvitation(ctx context.Context, orgID, id string) error {
	const op = "DeleteOrganizationInvitation"
	p, err := orgPath(op, orgID)
	if err != nil {
		return err
	}
	seg, err := invitationSegment(op, id)
	if err != nil {
		return err
	}
	return t.caller.DoDelete(ctx, op, http.MethodDelete, p+"/invitations/"+seg, nil, nil, upstream.NotFound)
}

// getOrganization is GET /v1beta1/organizations/{id}.
func (t *rest) getOrganization(ctx context.Context, orgID string) (*Organization, error) {
	const op = "GetOrganization"
	p, err := orgPath(op, orgID)
	if err != nil {
		return nil, err
	}
	var out struct {
		Organization Organization `json:"organization"`
	}
	if err := t.caller.Do(ctx, op, http.MethodGet, p, nil, &out); err != nil {
		return nil, err
	}
	return &out.Organization, nil
}

// listRoles is GET /v1beta1/roles.
func (t *rest) listRoles(ctx context.Context) ([]Role, error) {
	const op = "ListRoles"
	var out struct {
		Roles []Role `json:"roles"`
	}
	if err := t.caller.Do(ctx, op, http.MethodGet, "/roles", nil, &out); err != nil {
		return nil, err
	}
	return out.Roles, nil
}

// listOrganizationRoles is GET /v1beta1/organizations/{org_id}/roles.
func (t *rest) listOrganizationRoles(ctx context.Context, orgID string) ([]Role, error) {
	const op = "ListOrganizationRoles"
	p, err := orgPath(op, orgID)
	if err != nil {
		return nil, err
	}
	var out struct {
		Roles []Role `json:"roles"`
	}
	if err := t.caller.Do(ctx, op, http.MethodGet, p+"/roles", nil, &out); err != nil {
		return nil, err
	}
	return out.Roles, nil
}

// listOrganizationGroups is GET /v1beta1/organizations/{org_id}/groups.
func (t *rest) listOrganizationGroups(ctx context.Context, orgID string) ([]Group, error) {
	const op = "ListOrganizationGroups"
	p, err := orgPath(op, orgID)
	if err != nil {
		return nil, err
	}
	var out struct {
		Groups []Group `json:"groups"`
	}
	if err := t.caller.Do(ctx, op, http.MethodGet, p+"/groups", nil, &out); err != nil {
		return nil, err
	}
	return out.Groups, nil
}

// orgPath is /organizations/{org_id} with the ID path-escaped (see orgSegment).
func orgPath(op, orgID string) (string, error) {
	seg, err := orgSegment(op, orgID)
	return "/organizations/" + seg, err
}

// rpcStatus is google.rpc.Status as grpc-gateway writes it: the code is the integer gRPC code,
// e.g. {"code":5,"message":"org doesn't exist","details":[]}.
type rpcStatus struct {
	Code    *int32            `json:"code"`
	Message string            `json:"message"`
	Details []json.RawMessage `json:"details"`
}

// decodeRESTError is the upstream.ErrorDecoder for the REST API. Error.Code is the gRPC code in
// decimal ("5"); the kind comes from upstream.GRPCCodeKind, as on the Connect transport. A body that is
// not an rpc.Status with an integer code (a proxy's page, a Connect error) leaves Code and
// Message empty and keeps the status-derived kind.
func decodeRESTError(e *upstream.Error, _ http.Header, body []byte) {
	var st rpcStatus
	if json.Unmarshal(body, &st) != nil || st.Code == nil {
		return
	}
	e.Code = strconv.Itoa(int(*st.Code))
	e.Message = st.Message
	if k := upstream.GRPCCodeKind(upstream.GRPCCodeName(int64(*st.Code))); k != nil {
		e.Kind = k
	}
}
