// Package redpanda is invitegw's client for the Redpanda Cloud Control Plane API's user invites,
// in Redpanda's own words: it lists, creates, updates and deletes the user invites of the
// organization a token belongs to, and reads that organization.
//
// The API is documented in redpanda-data/api-docs (cloud-controlplane.yaml; see FACTS.md
// sections 1 and 5): base https://api.redpanda.com, version prefix /v1, `Authorization: Bearer
// <token>` where the token comes from OAuth 2.0 client credentials at Auth0, snake_case JSON
// (protojson with proto names), and errors as a google.rpc.Status whose code is the enum name.
// A token is bound to one organization, so no organization ID appears in any path.
package redpanda

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/invitegw/invitegw/upstream"
)

// DefaultAudience is the audience a production token must be issued for. Redpanda's current
// docs omit it, but Terraform and the older quickstart send it (FACTS.md 1.2).
const DefaultAudience = "cloudv2-production.redpanda.cloud"

// DefaultMaxListBytes bounds what ListUserInvites reads of one list, in response bytes: a
// page of 100 invites is 30 to 60 kB, so 256 MiB is some 400,000 invites, and what the walk
// holds stays bounded whatever a server sends. (It was a cap of 100 pages: more than 10,000
// invites was an error.)
const DefaultMaxListBytes = 256 << 20

// pageSize is what ListUserInvites asks for: the most a page may hold (user_invites has
// maxItems 100), sent explicitly because the server's default is undocumented.
const pageSize = 100

// provider names this upstream in errors and logs.
const provider = "redpanda"

// Options configures a Client. Give either Token or both ClientID and ClientSecret. BaseURL,
// Timeout and (with client credentials) TokenURL are required: config's tags hold their
// defaults, and the client substitutes none. Audience and MaxPages, which no setting owns,
// have the defaults below when zero.
type Options struct {
	// BaseURL is scheme and host, without /v1 (https://api.redpanda.com for every
	// organization). Required.
	BaseURL string
	// HTTP sends the API calls and the token requests; upstream.NewHTTPClient() when nil.
	HTTP *http.Client
	// Policy is wrapped around every call (observation, retries); nil for none.
	Policy *upstream.Policy
	// Timeout bounds each request to the API, including the wait for a token. Required, and
	// positive. A call repeated after a 401 (see ClientID) gets a second Timeout for the
	// second request.
	Timeout time.Duration

	// Token is a ready bearer token (it expires after an hour: for tests and short runs). It
	// is never refreshed, and a 401 to it is returned without a retry.
	Token string
	// ClientID and ClientSecret are a service account's OAuth 2.0 client credentials. The
	// client fetches a token once, shares it among concurrent calls and replaces it in its
	// last minute (see earlyExpiry). When the API answers 401 anyway (the token was revoked or
	// rotated early), the client drops the token, fetches another and repeats that request
	// once.
	ClientID, ClientSecret string
	// TokenURL is the Auth0 token endpoint (production's is
	// https://auth.prd.cloud.redpanda.com/oauth/token); required with ClientID, unused with
	// Token. Audience is the audience asked for; DefaultAudience when empty.
	TokenURL, Audience string

	// MaxListBytes caps the response bytes ListUserInvites reads, over all pages;
	// DefaultMaxListBytes when zero.
	MaxListBytes int64
}

// Client calls the Redpanda Cloud API with one credential. It is safe for concurrent use.
type Client struct {
	caller upstream.Caller
	// tokens is the client-credentials token source; nil with a static token, which
	// caller.Authorize sets instead.
	tokens       *tokenSource
	credID       string
	maxListBytes int64
}

// NewClient validates o and returns a client. It fails unless exactly one kind of credential
// is given, because every Control Plane endpoint requires a token and two credentials would
// leave it unclear which organization is meant; and without a base URL, a positive timeout, or
// (with client credentials) a token URL.
func NewClient(o Options) (*Client, error) {
	hasToken := o.Token != ""
	hasCreds := o.ClientID != "" || o.ClientSecret != ""
	switch {
	case hasToken && hasCreds:
		return nil, errors.New("redpanda: give either a token or client credentials, not both")
	case !hasToken && (o.ClientID == "" || o.ClientSecret == ""):
		return nil, errors.New("redpanda: a token or both client id and client secret are required")
	case o.MaxListBytes < 0:
		return nil, errors.New("redpanda: max list bytes must not be negative")
	}
	base, err := upstream.CheckBaseURL(provider, "base url", o.BaseURL)
	if err != nil {
		return nil, err
	}
	if err := upstream.CheckTimeout(provider, o.Timeout); err != nil {
		return nil, err
	}
	hc, timeout := upstream.HTTPClientOr(o.HTTP), o.Timeout
	maxListBytes := o.MaxListBytes
	if maxListBytes == 0 {
		maxListBytes = DefaultMaxListBytes
	}

	var (
		authorize func(context.Context, *http.Request) error
		tokens    *tokenSource
		material  string
	)
	if hasToken {
		header := "Bearer " + o.Token
		authorize = func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", header)
			return nil
		}
		material = "token\x00" + o.Token
	} else {
		if o.TokenURL == "" {
			return nil, errors.New("redpanda: token url is required with client credentials")
		}
		tokenURL, err := upstream.CheckBaseURL(provider, "token url", o.TokenURL)
		if err != nil {
			return nil, err
		}
		audience := o.Audience
		if audience == "" {
			audience = DefaultAudience
		}
		tokens = newTokenSource(&clientcredentials.Config{
			ClientID:       o.ClientID,
			ClientSecret:   o.ClientSecret,
			TokenURL:       tokenURL,
			EndpointParams: url.Values{"audience": {audience}},
			AuthStyle:      oauth2.AuthStyleInParams,
		}, hc, max(minTokenTimeout, timeout))
		material = "client_credentials\x00" + o.ClientID + "\x00" + o.ClientSecret
	}
	credID := upstream.CredentialID(material)
	return &Client{
		caller: upstream.Caller{
			Provider:  provider,
			BaseURL:   base,
			HTTP:      hc,
			Policy:    o.Policy,
			Timeout:   timeout,
			Authorize: authorize,
			DecodeErr: decodeError,
			// Timestamps: see lenientTime.
			DecodeOptions:  decodeOptions,
			CredentialID:   credID,
			RateLimitReset: rateLimitReset,
		},
		tokens:       tokens,
		credID:       credID,
		maxListBytes: maxListBytes,
	}, nil
}

// tokenError describes a failed token request by the endpoint's status and OAuth error code,
// never by its body or the request (which carries the client secret).
func tokenError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		msg := "token endpoint answered"
		if re.Response != nil {
			msg += " HTTP " + strconv.Itoa(re.Response.StatusCode)
		}
		if re.ErrorCode != "" {
			msg += " " + strconv.Quote(re.ErrorCode)
		}
		return errors.New(msg)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("token request: %w", ue.Err)
	}
	return fmt.Errorf("token request: %w", err) // oauth2's own parse errors quote no body
}

// do is caller.Do with the client-credentials token (see send).
func (c *Client) do(ctx context.Context, op, method, path string, in, out any) error {
	return c.send(ctx, func(caller *upstream.Caller) error { return caller.Do(ctx, op, method, path, in, out) })
}

// send makes one call through call, with the client-credentials token. When the API answers
// 401 to a request with a token from c.tokens, the token was revoked or rotated before its
// expiry: send drops it, and repeats the call once with a newly fetched token. It never
// repeats more than once (a second 401 is returned), nor after a 401 to a static token, which
// would only fail again, nor once ctx is done. A failed token request is not a 401 from the API
// (its error has no status) and is returned as is.
//
// Repeating is safe for every operation, the POST that creates and UpdateUserInvite's PATCH
// included: a 401 means the request was refused before it was processed, so either is applied
// at most once.
func (c *Client) send(ctx context.Context, call func(caller *upstream.Caller) error) error {
	if c.tokens == nil {
		return call(&c.caller)
	}
	// A copy of the caller per call, so that its Authorize can note which generation of the
	// token source (see tokenSource) the sent token came from; both requests run on this
	// goroutine.
	caller := c.caller
	var sent oauth2.TokenSource
	caller.Authorize = func(ctx context.Context, r *http.Request) error {
		tok, gen, err := c.tokens.token(ctx)
		sent = gen
		if err != nil {
			return err
		}
		r.Header.Set("Authorization", "Bearer "+tok)
		return nil
	}
	err := call(&caller)
	var ue *upstream.Error
	if !errors.As(err, &ue) || ue.Status != http.StatusUnauthorized || !errors.Is(err, upstream.ErrUnauthenticated) ||
		ctx.Err() != nil {
		return err
	}
	c.tokens.invalidate(sent)
	return call(&caller)
}

// CredentialID is the hex SHA-256 of the credential (the token, or the client ID and secret):
// it separates cache entries by tenant without holding the credential itself.
func (c *Client) CredentialID() string { return c.credID }

// BaseURL is the API this client talks to; with CredentialID it names whose data a cache
// entry holds.
func (c *Client) BaseURL() string { return c.caller.BaseURL }

// ListUserInvites lists every invite of the token's organization
// (UserInviteService_ListUserInvites), following page_token until next_page_token is "". It
// always asks for pages of 100. A token seen before, or more than MaxListBytes of responses,
// ends the walk with an ErrBadResponse error rather than looping or growing without bound.
//
// The walk reads only a page's next_page_token before asking for the next page, and decodes
// the page's invites beside that request: the pages are the longest chain of calls behind a
// cold query, and decoding each one in turn (about 7 times the work of reading its token)
// would lengthen it once per page.
func (c *Client) ListUserInvites(ctx context.Context) ([]UserInvite, error) {
	const op = "ListUserInvites"
	var (
		token string
		seen  = map[string]bool{}
		pages []<-chan decodedPage
	)
	var read int64
	for page := 0; ; page++ {
		q := url.Values{"page_size": {strconv.Itoa(pageSize)}}
		if token != "" {
			q.Set("page_token", token)
		}
		var body upstream.RawBody
		if err := c.do(ctx, op, http.MethodGet, "/v1/user-invites?"+q.Encode(), nil, &body); err != nil {
			return nil, err
		}
		if read += int64(len(body)); read > c.maxListBytes {
			return nil, &upstream.Error{Provider: provider, Op: op, Kind: upstream.ErrBadResponse,
				Err: fmt.Errorf("the list is larger than %d bytes after %d pages", c.maxListBytes, page+1)}
		}
		var head struct {
			NextPageToken string `json:"next_page_token"`
		}
		if err := upstream.Decode(body, &head); err != nil {
			return nil, upstream.DecodeError(provider, op, http.StatusOK, err)
		}
		if head.NextPageToken == "" {
			// The last page: nothing to overlap its decoding with.
			pages = append(pages, decodePage(op, body, false))
			return collectPages(pages)
		}
		pages = append(pages, decodePage(op, body, true))
		if seen[head.NextPageToken] {
			return nil, &upstream.Error{Provider: provider, Op: op, Kind: upstream.ErrBadResponse,
				Err: fmt.Errorf("page token repeated after %d pages", page+1)}
		}
		seen[head.NextPageToken] = true
		token = head.NextPageToken
	}
}

// decodedPage is one decoded ListUserInvites page.
type decodedPage struct {
	invites []UserInvite
	err     error
}

// decodePage decodes a ListUserInvites body, in a goroutine of its own when async.
func decodePage(op string, body []byte, async bool) <-chan decodedPage {
	ch := make(chan decodedPage, 1)
	decode := func() {
		var out listUserInvitesResponse
		if err := upstream.Decode(body, &out, decodeOptions); err != nil {
			ch <- decodedPage{err: upstream.DecodeError(provider, op, http.StatusOK, err)}
			return
		}
		ch <- decodedPage{invites: out.UserInvites}
	}
	if async {
		go decode()
	} else {
		decode()
	}
	return ch
}

// collectPages joins the decoded pages in order; the first page that failed to decode fails
// the list.
func collectPages(pages []<-chan decodedPage) ([]UserInvite, error) {
	var all []UserInvite
	for _, ch := range pages {
		p := <-ch
		if p.err != nil {
			return nil, p.err
		}
		all = append(all, p.invites...)
	}
	return all, nil
}

// UpdateUserInvite changes the fields of an invite named by mask
// (UserInviteService_UpdateUserInvite) and returns the invite as Redpanda stored it. mask holds
// lowerCamelCase paths, "expiresAt" and "roleBindings" (FACTS.md 1.6); a masked field that upd
// leaves empty is cleared. The PATCH is never retried on failure (the policy's retries are
// for idempotent calls), except once after a 401 to a client-credentials token, when it was
// refused unprocessed (see do).
func (c *Client) UpdateUserInvite(ctx context.Context, id string, upd UserInviteUpdate, mask []string) (*UserInvite, error) {
	const op = "UpdateUserInvite"
	p, err := invitePath(op, id)
	if err != nil {
		return nil, err
	}
	if upd.ExpiresAt != nil {
		t := upd.ExpiresAt.UTC() // protojson writes timestamps in UTC; do the same
		upd.ExpiresAt = &t
	}
	body := updateUserInviteBody{UpdateMask: strings.Join(mask, ","), UserInvite: upd}
	var out userInviteResponse
	if err := c.do(ctx, op, http.MethodPatch, p, body, &out); err != nil {
		return nil, err
	}
	return reply(op, http.StatusOK, out.UserInvite)
}

// CreateUserInvite invites an email address to the token's organization with the given role
// bindings (UserInviteService_CreateUserInvite), and returns the invite as Redpanda stored it:
// its ID, invite URL and expiry are Redpanda's. The POST is never retried on failure, since a
// repeat could invite twice: a failed call may or may not have created the invite, and only a
// list shows which. (A 401 to a client-credentials token is the exception; see send.)
func (c *Client) CreateUserInvite(ctx context.Context, create UserInviteCreate) (*UserInvite, error) {
	const op = "CreateUserInvite"
	if create.RoleBindings == nil {
		create.RoleBindings = []RoleBinding{}
	}
	var out userInviteResponse
	if err := c.do(ctx, op, http.MethodPost, "/v1/user-invites", createUserInviteRequest{UserInvite: create}, &out); err != nil {
		return nil, err
	}
	return reply(op, http.StatusCreated, out.UserInvite)
}

// DeleteUserInvite withdraws an invite (UserInviteService_DeleteUserInvite). Redpanda answers
// 204 with no body; an empty 2xx body and {} are both success.
//
// A delete is safe to repeat, so the policy's retries apply. A 404 is ErrNotFound, except on a
// retry after an attempt that may have done the work (its reply was lost, or a 502/503/504
// came back): that attempt deleted the invite, so the 404 is success (upstream.Caller.DoDelete).
// An ID that cannot name an invite is ErrNotFound without a request, as in UpdateUserInvite.
func (c *Client) DeleteUserInvite(ctx context.Context, id string) error {
	const op = "DeleteUserInvite"
	p, err := invitePath(op, id)
	if err != nil {
		return err
	}
	return c.send(ctx, func(caller *upstream.Caller) error {
		return caller.DoDelete(ctx, op, http.MethodDelete, p, nil, nil, upstream.NotFound)
	})
}

// GetCurrentOrganization reads the organization the token belongs to
// (OrganizationService_GetCurrentOrganization).
func (c *Client) GetCurrentOrganization(ctx context.Context) (*Organization, error) {
	const op = "GetCurrentOrganization"
	var out getCurrentOrganizationResponse
	if err := c.do(ctx, op, http.MethodGet, "/v1/organizations/current", nil, &out); err != nil {
		return nil, err
	}
	if out.Organization == nil {
		return nil, &upstream.Error{Provider: provider, Op: op, Status: http.StatusOK,
			Kind: upstream.ErrBadResponse, Err: errors.New("reply has no organization")}
	}
	return out.Organization, nil
}

// invitePath is /v1/user-invites/{id} with the ID path-escaped. An ID that cannot name an
// invite ("", ".", "..", which would change the path) is ErrNotFound without a request.
func invitePath(op, id string) (string, error) {
	seg, err := upstream.PathSegment(provider, op, "invite id", id, upstream.ErrNotFound)
	return "/v1/user-invites/" + seg, err
}

// reply checks that a success (status) carried the invite it promises.
func reply(op string, status int, u *UserInvite) (*UserInvite, error) {
	if u == nil {
		return nil, &upstream.Error{Provider: provider, Op: op, Status: status,
			Kind: upstream.ErrBadResponse, Err: errors.New("reply has no user_invite")}
	}
	return u, nil
}
