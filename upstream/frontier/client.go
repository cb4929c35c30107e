// Package frontier is invitegw's client for Raystack Frontier, in Frontier's own words: it lists,
// creates and deletes an organization's pending invitations and reads what turns their IDs into
// names (the organization, its platform and custom roles, its groups).
//
// Frontier is self-hosted, so there is no default base URL. Releases up to v0.90.0 serve the
// documented REST API (a grpc-gateway under /v1beta1, FACTS.md section 3); releases from v0.91.0
// on serve only ConnectRPC. Options.Protocol picks one. Each transport owns its paths, envelopes
// and error body (rest.go, connect.go); the error codes (upstream.GRPCCodeKind), the wire types
// (types.go) and the conversion to invite types (convert.go) are shared, and the Client's
// methods return the same values and error kinds whichever transport is in use.
//
// Credentials are a Bearer token (a Frontier-issued or self-signed JWT, or an access token from
// the client-credentials flow) or a service user's client ID and secret, sent as Basic auth on
// every call. Frontier accepts the latter on API calls although its code marks that "should be
// removed in future"; its docs prefer exchanging them for a token at /v1beta1/auth/token.
package frontier

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/invitegw/invitegw/upstream"
)

// provider names this upstream in errors and logs.
const provider = "frontier"

// Wire protocols, the values of Options.Protocol.
const (
	// ProtocolREST is the grpc-gateway REST API under /v1beta1 of releases up to v0.90.0 (HTTP
	// port 8000 or 8080 by default). It is the default: it is the documented API.
	ProtocolREST = "rest"
	// ProtocolConnect is the ConnectRPC API, the only one releases from v0.91.0 on serve (port
	// 8002 by default).
	ProtocolConnect = "connect"
)

// Options configures a Client.
type Options struct {
	// BaseURL is the address of the deployment's API for Protocol: scheme, host, and any path
	// prefix a proxy adds, without /v1beta1 or the Connect service name. Required: Frontier is
	// self-hosted and has no public default.
	BaseURL string
	// Protocol is ProtocolREST (also when empty) or ProtocolConnect; it must match the
	// deployment's release (see the package doc).
	Protocol string
	// HTTP is the client to send requests with; upstream.NewHTTPClient() when nil.
	HTTP *http.Client
	// Policy is wrapped around every call (observation, retries); nil for none.
	Policy *upstream.Policy
	// Timeout bounds each call. Required, and positive: config holds its default.
	Timeout time.Duration
	// Token is sent as `Authorization: Bearer <Token>`.
	Token string
	// ClientID and ClientSecret are a service user's client credentials, sent as
	// `Authorization: Basic base64(client_id:client_secret)`. Give them or Token, not both.
	ClientID, ClientSecret string
}

// Client calls one Frontier deployment with one credential. It is safe for concurrent use.
type Client struct {
	t        transport
	protocol string
	credID   string
	baseURL  string
}

// transport is one of Frontier's wire protocols: REST (rest.go) or Connect (connect.go). Each
// implementation owns its paths, envelopes and error body, returns *upstream.Error for failed
// calls, and returns an empty list as an empty, non-nil slice (REST because the gateway always
// writes [], Connect by filling in the lists it omits).
type transport interface {
	listOrganizationInvitations(ctx context.Context, orgID, userID string) ([]Invitation, error)
	createOrganizationInvitation(ctx context.Context, orgID string, req CreateInvitationRequest) ([]Invitation, error)
	deleteOrganizationInvitation(ctx context.Context, orgID, id string) error
	getOrganization(ctx context.Context, orgID string) (*Organization, error)
	listRoles(ctx context.Context) ([]Role, error)
	listOrganizationRoles(ctx context.Context, orgID string) ([]Role, error)
	listOrganizationGroups(ctx context.Context, orgID string) ([]Group, error)
}

// NewClient validates o and returns a client. It fails without a base URL or a positive
// timeout, with an unknown protocol, without a credential, or with both kinds of credential: a
// silent choice between a token and client credentials would call Frontier as a principal the
// operator did not mean.
func NewClient(o Options) (*Client, error) {
	base, err := upstream.CheckBaseURL(provider, "base url", o.BaseURL)
	if err != nil {
		return nil, err
	}
	if err := upstream.CheckTimeout(provider, o.Timeout); err != nil {
		return nil, err
	}
	protocol := o.Protocol
	switch protocol {
	case "":
		protocol = ProtocolREST
	case ProtocolREST, ProtocolConnect:
	default:
		return nil, fmt.Errorf("frontier: unknown protocol %q (want %q or %q)", o.Protocol, ProtocolREST, ProtocolConnect)
	}
	auth, err := authorization(o)
	if err != nil {
		return nil, err
	}
	credID := upstream.CredentialID(auth)
	caller := upstream.Caller{
		Provider:     provider,
		BaseURL:      base,
		HTTP:         upstream.HTTPClientOr(o.HTTP),
		Policy:       o.Policy,
		Timeout:      o.Timeout,
		CredentialID: credID,
	}
	var t transport
	switch protocol {
	case ProtocolConnect:
		t = newConnect(caller, auth)
	default:
		t = newREST(caller, auth)
	}
	return &Client{t: t, protocol: protocol, credID: credID, baseURL: base}, nil
}

// authorization is the Authorization header value for o's credential.
func authorization(o Options) (string, error) {
	basic := o.ClientID != "" || o.ClientSecret != ""
	switch {
	case o.Token != "" && basic:
		return "", errors.New("frontier: give a token or a client id and secret, not both")
	case o.Token != "":
		return "Bearer " + o.Token, nil
	case !basic:
		return "", errors.New("frontier: a token or a client id and secret is required")
	case o.ClientID == "" || o.ClientSecret == "":
		return "", errors.New("frontier: client id and client secret must be given together")
	case strings.Contains(o.ClientID, ":"):
		// Basic auth cannot carry a colon in the user part (RFC 7617).
		return "", errors.New("frontier: client id must not contain a colon")
	}
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(o.ClientID+":"+o.ClientSecret)), nil
}

// CredentialID is the hex SHA-256 of the Authorization header value (so a token and a client
// secret never share an ID): it separates cache entries by tenant without holding the secret.
func (c *Client) CredentialID() string { return c.credID }

// BaseURL is the deployment this client talks to; with CredentialID and Protocol it names whose
// data a cache entry holds.
func (c *Client) BaseURL() string { return c.baseURL }

// Protocol is the wire protocol in use, ProtocolREST or ProtocolConnect (never empty). Both
// decode to the same values, but they are different upstream endpoints (a proxy may route one
// base URL to either), so a cache key names the protocol too.
func (c *Client) Protocol() string { return c.protocol }

// orgSegment is orgID path-escaped into one path segment. The IDs that would collapse a REST
// path ("", ".", "..") are refused before any request is sent. Connect carries the ID in a JSON
// body and could send them, but both transports refuse them so that a bad ID fails alike
// whichever is in use.
func orgSegment(op, orgID string) (string, error) {
	return upstream.PathSegment(provider, op, "organization id", orgID, upstream.ErrInvalidArgument)
}

// ListOrganizationInvitations lists the pending invitations of an organization (given by ID or
// by name). A non-empty userID, an email address, keeps only that invitee's invitations;
// Frontier lower-cases it before matching. There is no pagination: every invitation comes at
// once.
func (c *Client) ListOrganizationInvitations(ctx context.Context, orgID, userID string) ([]Invitation, error) {
	return c.t.listOrganizationInvitations(ctx, orgID, userID)
}

// MaxInvitationUserIDs is how many emails one CreateOrganizationInvitation may carry: Frontier's
// proto validation refuses more (FACTS.md 3.2). A caller with more makes several calls.
const MaxInvitationUserIDs = 10

// CreateOrganizationInvitation invites req.UserIDs (emails) to an organization (given by ID or
// by name) and returns the invitations, one per email. Frontier reuses the invitation of an
// email that already has an unexpired one, ID included. REST answers HTTP 200, not 201.
//
// Zero emails, or more than MaxInvitationUserIDs, is ErrInvalidArgument before any request, as
// Frontier's proto validation would answer. The call is never retried: it creates.
func (c *Client) CreateOrganizationInvitation(ctx context.Context, orgID string, req CreateInvitationRequest) ([]Invitation, error) {
	const op = "CreateOrganizationInvitation"
	if n := len(req.UserIDs); n < 1 || n > MaxInvitationUserIDs {
		return nil, &upstream.Error{Provider: provider, Op: op, Kind: upstream.ErrInvalidArgument,
			Err: fmt.Errorf("user_ids must hold 1 to %d emails, got %d", MaxInvitationUserIDs, n)}
	}
	return c.t.createOrganizationInvitation(ctx, orgID, req)
}

// DeleteOrganizationInvitation deletes an invitation of an organization (given by ID or by
// name); id is the invitation's UUID. A delete is safe to repeat, so the policy's retries apply,
// and a not-found answer to a retry after an attempt that may have done the work is success
// (upstream.Caller.DoDelete). An id that would change a REST path ("", ".", "..") is
// ErrInvalidArgument without a request, on both transports, as Frontier answers a malformed one.
func (c *Client) DeleteOrganizationInvitation(ctx context.Context, orgID, id string) error {
	return c.t.deleteOrganizationInvitation(ctx, orgID, id)
}

// invitationSegment is id path-escaped into one path segment (see orgSegment).
func invitationSegment(op, id string) (string, error) {
	return upstream.PathSegment(provider, op, "invitation id", id, upstream.ErrInvalidArgument)
}

// GetOrganization reads an organization (given by ID or by name), for its display name.
func (c *Client) GetOrganization(ctx context.Context, orgID string) (*Organization, error) {
	return c.t.getOrganization(ctx, orgID)
}

// ListRoles lists the platform roles, which every organization shares (OrgID PlatformOrgID).
// With ListOrganizationRoles it resolves an invitation's role IDs: a platform role cannot be read
// through the organization's role routes.
func (c *Client) ListRoles(ctx context.Context) ([]Role, error) {
	return c.t.listRoles(ctx)
}

// ListOrganizationRoles lists an organization's custom roles (not the platform roles).
func (c *Client) ListOrganizationRoles(ctx context.Context, orgID string) ([]Role, error) {
	return c.t.listOrganizationRoles(ctx, orgID)
}

// ListOrganizationGroups lists an organization's groups, to resolve an invitation's group IDs.
func (c *Client) ListOrganizationGroups(ctx context.Context, orgID string) ([]Group, error) {
	return c.t.listOrganizationGroups(ctx, orgID)
}
