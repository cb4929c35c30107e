// Package elastic is invitegw's client for Elastic Cloud (ESS) organization invitations, in
// Elastic's own words: it lists, creates (or refreshes) and deletes an organization's
// invitations and reads the organization.
//
// The API is documented in cloud-sdk-go's api/apidocs-user.json (see FACTS.md section 2):
// base https://api.elastic-cloud.com/api/v1, `Authorization: ApiKey <key>`, snake_case JSON,
// errors as BasicFailedReply {"errors":[{"code","message","fields"}]} plus an
// `x-cloud-error-codes` header. The invitation list has no pagination.
//
// An invitation's token is the secret that accepts it. It is decoded into the Token type, which
// prints, logs and marshals as "[redacted]", and stays one: this package turns it only into its
// digest (Token.Digest), inside the unified invitation ID (ToInvitation). Code elsewhere that
// holds an OrganizationInvitation can still reach the secret, but only by converting the Token
// to a string on purpose. DeleteInvitations has to send tokens, in its path; no error of it
// carries one (see DeleteInvitations).
package elastic

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/invitegw/invitegw/upstream"
)

// basePath is the API version prefix of every path (swagger basePath). The client appends it
// to Options.BaseURL, so the public host, a GovCloud or a test URL is given the same way
// (scheme and host only).
const basePath = "/api/v1"

// provider names this upstream in errors and logs.
const provider = "elastic"

// Options configures a Client. The client substitutes no default for BaseURL or Timeout:
// config's tags hold them (the public host is https://api.elastic-cloud.com).
type Options struct {
	// BaseURL is scheme and host, without /api/v1. Required.
	BaseURL string
	// HTTP is the client to send requests with; upstream.NewHTTPClient() when nil.
	HTTP *http.Client
	// Policy is wrapped around every call (observation, retries); nil for none.
	Policy *upstream.Policy
	// Timeout bounds each call. Required, and positive.
	Timeout time.Duration
	// APIKey is an Elastic Cloud API key (created by an organization owner). Required.
	APIKey string
}

// Client calls the Elastic Cloud API with one API key. It is safe for concurrent use.
type Client struct {
	caller upstream.Caller
	credID string
}

// NewClient validates o and returns a client. It fails without an API key, because every
// Elastic Cloud endpoint requires one, and without a base URL or a positive timeout.
func NewClient(o Options) (*Client, error) {
	if o.APIKey == "" {
		return nil, errors.New("elastic: api key is required")
	}
	base, err := upstream.CheckBaseURL(provider, "base url", o.BaseURL)
	if err != nil {
		return nil, err
	}
	if err := upstream.CheckTimeout(provider, o.Timeout); err != nil {
		return nil, err
	}
	auth := "ApiKey " + o.APIKey
	credID := upstream.CredentialID(o.APIKey)
	return &Client{
		caller: upstream.Caller{
			Provider: provider,
			BaseURL:  base + basePath,
			HTTP:     upstream.HTTPClientOr(o.HTTP),
			Policy:   o.Policy,
			Timeout:  o.Timeout,
			Authorize: func(_ context.Context, r *http.Request) error {
				r.Header.Set("Authorization", auth)
				return nil
			},
			DecodeErr:      decodeError,
			CredentialID:   credID,
			RateLimitReset: rateLimitReset,
		},
		credID: credID,
	}, nil
}

// CredentialID is the hex SHA-256 of the API key: it separates cache entries by tenant without
// holding the key itself.
func (c *Client) CredentialID() string { return c.credID }

// BaseURL is the API this client talks to; with CredentialID it names whose data a cache
// entry holds.
func (c *Client) BaseURL() string { return c.caller.BaseURL }

// organizationInvitations is the list reply (swagger OrganizationInvitations).
type organizationInvitations struct {
	Invitations []OrganizationInvitation `json:"invitations"`
}

// ListInvitations fetches the organization's open invitations (operation
// list-organization-invitations). Elastic returns them all at once: there is no pagination.
func (c *Client) ListInvitations(ctx context.Context, organizationID string) ([]OrganizationInvitation, error) {
	const op = "ListInvitations"
	p, err := orgPath(op, organizationID)
	if err != nil {
		return nil, err
	}
	var out organizationInvitations
	if err := c.caller.Do(ctx, op, http.MethodGet, p+"/invitations", nil, &out); err != nil {
		return nil, err
	}
	return out.Invitations, nil
}

// CreateInvitations invites req.Emails to an organization (operation
// create-organization-invitations) and returns the invitations, one per email. Elastic
// "creates or refreshes": an email that already has an open invitation gets it back refreshed
// rather than a second one (whether its token stays the same is not documented).
//
// The POST is never retried, as no create is: a failed call may or may not have invited, and
// only ListInvitations tells. No emails at all is ErrInvalidArgument without a request.
func (c *Client) CreateInvitations(ctx context.Context, organizationID string, req OrganizationInvitationRequest) ([]OrganizationInvitation, error) {
	const op = "CreateInvitations"
	p, err := orgPath(op, organizationID)
	if err != nil {
		return nil, err
	}
	if len(req.Emails) == 0 {
		return nil, &upstream.Error{Provider: provider, Op: op, Kind: upstream.ErrInvalidArgument, Err: errors.New("no emails to invite")}
	}
	var out organizationInvitations
	if err := c.caller.Do(ctx, op, http.MethodPost, p+"/invitations", req, &out); err != nil {
		return nil, err
	}
	return out.Invitations, nil
}

// DeleteInvitations deletes invitations of an organization by their tokens (operation
// delete-organization-invitations), all in one call: the tokens go comma-separated into one
// path segment, each path-escaped. Elastic answers 200 {}; a token it does not know is
// ErrNotFound (organization.invitation_not_found), and whether it then deleted the others is
// not documented.
//
// The tokens are secrets and the path carries them, so no error of this call holds one: the
// caller's errors never quote a URL, and an Elastic message that quotes a token has it replaced
// by "[redacted]". A token that cannot be sent in the list ("", ".", "..", or one holding a
// comma) fails before any request, with an error that names its position, not its value; so
// does an empty list.
//
// A delete is safe to repeat, so the policy's retries apply, and an
// organization.invitation_not_found to a retry after an attempt that may have done the work
// is success (upstream.Caller.DoDelete).
func (c *Client) DeleteInvitations(ctx context.Context, organizationID string, tokens []Token) error {
	const op = "DeleteInvitations"
	p, err := orgPath(op, organizationID)
	if err != nil {
		return err
	}
	seg, err := tokensSegment(tokens)
	if err != nil {
		return &upstream.Error{Provider: provider, Op: op, Kind: upstream.ErrInvalidArgument, Err: err}
	}
	caller := c.caller // a copy, whose error decoder knows this call's tokens
	caller.DecodeErr = func(e *upstream.Error, h http.Header, body []byte) {
		decodeError(e, h, body)
		e.Message = redactTokens(e.Message, tokens)
	}
	return caller.DoDelete(ctx, op, http.MethodDelete, p+"/invitations/"+seg, nil, nil, invitationGone)
}

// tokensSegment is the invitation_tokens path segment: the tokens path-escaped and joined by
// commas. Its errors name a token by position only.
func tokensSegment(tokens []Token) (string, error) {
	if len(tokens) == 0 {
		return "", errors.New("no invitation tokens")
	}
	parts := make([]string, len(tokens))
	for i, t := range tokens {
		s := string(t)
		if s == "" || s == "." || s == ".." || strings.Contains(s, ",") {
			return "", fmt.Errorf("invitation token %d of %d cannot be sent in a comma-separated list", i+1, len(tokens))
		}
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, ","), nil
}

// redactTokens replaces each token in msg, as sent and as path-escaped, with "[redacted]".
func redactTokens(msg string, tokens []Token) string {
	for _, t := range tokens {
		for _, s := range []string{string(t), url.PathEscape(string(t))} {
			if s != "" {
				msg = strings.ReplaceAll(msg, s, redacted)
			}
		}
	}
	return msg
}

// invitationGone is DoDelete's gone: the code that says an invitation is not there. An unknown
// organization is not "gone": retrying cannot have removed it.
func invitationGone(e *upstream.Error) bool { return e.Code == "organization.invitation_not_found" }

// GetOrganization reads one organization (operation get-organization), for its name.
func (c *Client) GetOrganization(ctx context.Context, organizationID string) (*Organization, error) {
	const op = "GetOrganization"
	p, err := orgPath(op, organizationID)
	if err != nil {
		return nil, err
	}
	var out Organization
	if err := c.caller.Do(ctx, op, http.MethodGet, p, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// orgPath is /organizations/{organization_id} with the ID path-escaped. An ID that would
// collapse the path ("", ".", "..") is refused before any request is sent.
func orgPath(op, organizationID string) (string, error) {
	seg, err := upstream.PathSegment(provider, op, "organization id", organizationID, upstream.ErrInvalidArgument)
	return "/organizations/" + seg, err
}
