package frontier

// Why this is a small hand-written JSON client over upstream.Caller and not Connect's generated
// one (checked November 2026):
//   - Frontier's generated Go code (proto/v1beta1 and its frontierv1beta1connect package) is
//     published only inside the server module, github.com/raystack/frontier, whose go.mod
//     requires some 60 modules directly and 180 indirectly (SpiceDB, gRPC, grpc-gateway, Stripe,
//     the AWS SDK, Docker test tooling). Importing it for five read calls would tie our
//     protobuf, gRPC and oauth2 versions to Frontier's release train.
//   - The protos live in github.com/raystack/proton, which holds .proto files and no Go module.
//     No small, well-kept module with the generated code exists: the module proxy this project
//     builds from served none of github.com/raystack/frontier, github.com/raystack/proton or Buf's
//     generated SDKs (buf.build/gen/go/raystack/proton/...) when this was checked (403).
//   - Even a generated client would add connectrpc.com/connect (a 280 KB zip) and
//     google.golang.org/protobuf (2.3 MB) for what the Connect protocol makes plain HTTP: a unary
//     JSON call is one POST with the request message as its body, and an error is a JSON object
//     with a string code (https://connectrpc.com/docs/protocol).
// The wire types (types.go) already keep Frontier's proto JSON names, so this file is only what
// is Connect's own: procedure paths, request messages, response wrappers and the error body.
// Calls get the same timeouts, body limits and upstream.Error as every other provider.

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/invitegw/invitegw/upstream"
)

// connectService is the path of Frontier's service; each procedure is {connectService}/{Method}.
const connectService = "/raystack.frontier.v1beta1.FrontierService"

// connectRPC is the Connect transport: unary calls with the JSON codec.
type connectRPC struct {
	caller upstream.Caller
}

// newConnect is the Connect transport over c, the caller NewClient set up for the deployment.
func newConnect(c upstream.Caller, auth string) *connectRPC {
	c.BaseURL += connectService
	c.Authorize = func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", auth)
		// The Connect protocol asks clients to mark unary calls with it, and servers may
		// refuse calls without it. Caller has no other per-request hook, so it is set here.
		r.Header.Set("Connect-Protocol-Version", "1")
		return nil
	}
	c.DecodeErr = decodeConnectError
	return &connectRPC{caller: c}
}

// call POSTs the request message in to the procedure named op, one that only reads, and decodes
// the response message into out. in must not be nil: Frontier's JSON codec rejects an empty
// body, so a request without fields is sent as {}. A read is safe to retry although it is a
// POST; create and remove say what their procedures are.
func (t *connectRPC) call(ctx context.Context, op string, in, out any) error {
	return t.caller.DoIdempotent(ctx, op, http.MethodPost, "/"+op, in, out)
}

// create is call for a procedure that creates: never retried.
func (t *connectRPC) create(ctx context.Context, op string, in, out any) error {
	return t.caller.Do(ctx, op, http.MethodPost, "/"+op, in, out)
}

// remove is call for a procedure that deletes: retried, with not_found to a retry after an
// attempt in doubt read as done (upstream.Caller.DoDelete). Its reply, {}, is not decoded.
func (t *connectRPC) remove(ctx context.Context, op string, in any) error {
	return t.caller.DoDelete(ctx, op, http.MethodPost, "/"+op, in, nil, upstream.NotFound)
}

// Request messages, with their proto field names. Optional fields are omitted when empty, as
// protojson writes them.
type (
	listOrganizationInvitationsRequest struct {
		OrgID  string `json:"org_id"`
		UserID string `json:"user_id,omitempty"`
	}
	createOrganizationInvitationRequest struct {
		OrgID string `json:"org_id"`
		CreateInvitationRequest
	}
	deleteOrganizationInvitationRequest struct {
		OrgID string `json:"org_id"`
		ID    string `json:"id"`
	}
	getOrganizationRequest struct {
		ID string `json:"id"`
	}
	// listRolesRequest has state and scopes filters, which the client does not use.
	listRolesRequest struct{}
	// orgRequest is ListOrganizationRolesRequest and ListOrganizationGroupsRequest without their
	// filters (state, scopes; state, group_ids, with_members, with_member_count).
	orgRequest struct {
		OrgID string `json:"org_id"`
	}
)

// The response messages leave out every empty field, so a reply with no items is {}. The
// methods below turn each missing list into an empty one: the same values the REST gateway's
// `[]` decodes to, so callers cannot tell the transports apart.

// listOrganizationInvitations is ListOrganizationInvitations.
func (t *connectRPC) listOrganizationInvitations(ctx context.Context, orgID, userID string) ([]Invitation, error) {
	const op = "ListOrganizationInvitations"
	if _, err := orgSegment(op, orgID); err != nil {
		return nil, err
	}
	var out struct {
		Invitations []Invitation `json:"invitations"`
	}
	if err := t.call(ctx, op, listOrganizationInvitationsRequest{OrgID: orgID, UserID: userID}, &out); err != nil {
		return nil, err
	}
	return fillInvitations(out.Invitations), nil
}

// createOrganizationInvitation is CreateOrganizationInvitation.
func (t *connectRPC) createOrganizationInvitation(ctx context.Context, orgID string, req CreateInvitationRequest) ([]Invitation, error) {
	const op = "CreateOrganizationInvitation"
	if _, err := orgSegment(op, orgID); err != nil {
		return nil, err
	}
	var out struct {
		Invitations []Invitation `json:"invitations"`
	}
	if err := t.create(ctx, op, createOrganizationInvitationRequest{OrgID: orgID, CreateInvitationRequest: req}, &out); err != nil {
		return nil, err
	}
	return fillInvitations(out.Invitations), nil
}

// deleteOrganizationInvitation is DeleteOrganizationInvitation.
func (t *connectRPC) deleteOrganizationInvitation(ctx context.Context, orgID, id string) error {
	const op = "DeleteOrganizationInvitation"
	if _, err := orgSegment(op, orgID); err != nil {
		return err
	}
	if _, err := invitationSegment(op, id); err != nil {
		return err
	}
	return t.remove(ctx, op, deleteOrganizationInvitationRequest{OrgID: orgID, ID: id})
}

// fillInvitations turns the lists Connect omitted into empty ones.
func fillInvitations(invs []Invitation) []Invitation {
	for i := range invs {
		invs[i].GroupIDs, invs[i].RoleIDs = orEmpty(invs[i].GroupIDs), orEmpty(invs[i].RoleIDs)
	}
	return orEmpty(invs)
}

// getOrganization is GetOrganization.
func (t *connectRPC) getOrganization(ctx context.Context, orgID string) (*Organization, error) {
	const op = "GetOrganization"
	if _, err := orgSegment(op, orgID); err != nil {
		return nil, err
	}
	var out struct {
		Organization Organization `json:"organization"`
	}
	if err := t.call(ctx, op, getOrganizationRequest{ID: orgID}, &out); err != nil {
		return nil, err
	}
	return &out.Organization, nil
}

// listRoles is ListRoles.
func (t *connectRPC) listRoles(ctx context.Context) ([]Role, error) {
	const op = "ListRoles"
	var out struct {
		Roles []Role `json:"roles"`
	}
	if err := t.call(ctx, op, listRolesRequest{}, &out); err != nil {
		return nil, err
	}
	return fillRoles(out.Roles), nil
}

// listOrganizationRoles is ListOrganizationRoles.
func (t *connectRPC) listOrganizationRoles(ctx context.Context, orgID string) ([]Role, error) {
	const op = "ListOrganizationRoles"
	if _, err := orgSegment(op, orgID); err != nil {
		return nil, err
	}
	var out struct {
		Roles []Role `json:"roles"`
	}
	if err := t.call(ctx, op, orgRequest{OrgID: orgID}, &out); err != nil {
		return nil, err
	}
	return fillRoles(out.Roles), nil
}

// listOrganizationGroups is ListOrganizationGroups.
func (t *connectRPC) listOrganizationGroups(ctx context.Context, orgID string) ([]Group, error) {
	const op = "ListOrganizationGroups"
	if _, err := orgSegment(op, orgID); err != nil {
		return nil, err
	}
	var out struct {
		Groups []Group `json:"groups"`
	}
	if err := t.call(ctx, op, orgRequest{OrgID: orgID}, &out); err != nil {
		return nil, err
	}
	for i := range out.Groups {
		out.Groups[i].Users = orEmpty(out.Groups[i].Users)
	}
	return orEmpty(out.Groups), nil
}

func fillRoles(roles []Role) []Role {
	for i := range roles {
		roles[i].Permissions, roles[i].Scopes = orEmpty(roles[i].Permissions), orEmpty(roles[i].Scopes)
	}
	return orEmpty(roles)
}

// orEmpty is l, or an empty list when l is nil.
func orEmpty[T any](l []T) []T {
	if l == nil {
		return []T{}
	}
	return l
}

// connectError is the Connect protocol's error body, e.g.
// {"code":"not_found","message":"not found"}; details are omitted when there are none.
type connectError struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Details []json.RawMessage `json:"details"`
}

// decodeConnectError is the upstream.ErrorDecoder for the Connect API. Error.Code is the Connect
// code ("not_found") and the kind comes from upstream.GRPCCodeKind, as on REST. A body without a string
// code (a proxy's HTML page, an empty body, an rpc.Status with an integer code) leaves Code and
// Message empty and keeps the status-derived kind: the protocol's own fallback table would make a
// bare 404 "unimplemented", which the gateway has no use for. An unknown code is kept as Code and
// also keeps the status-derived kind.
func decodeConnectError(e *upstream.Error, _ http.Header, body []byte) {
	var ce connectError
	if json.Unmarshal(body, &ce) != nil || ce.Code == "" {
		return
	}
	e.Code, e.Message = ce.Code, ce.Message
	if k := upstream.GRPCCodeKind(ce.Code); k != nil {
		e.Kind = k
	}
}
