// Package auth says who is calling the gateway: it authenticates each /graphql request and
// puts an Identity in its context, for the gateway to enforce scopes and to key cached
// answers by permission set.
//
// A client sends one credential, as "Authorization: Bearer <credential>" or
// "X-API-Key: <key>". A bearer credential equal to a configured API key is that key;
// otherwise, when JWTs are configured, it must be a JWT signed by one of the identity
// provider's published keys (JWTOptions). With neither configured the gateway is open: every
// request is the anonymous identity with every scope.
//
// # API keys
//
// INVITEGW_API_KEYS is a comma-separated list of entries (see ParseAPIKeys). An entry is
// whitespace-separated words: a single word is a bare key, named key-<position> and granted
// every scope (the original format); otherwise the words are a name, the key, and the scopes
// it grants, every scope when none is listed:
//
//	INVITEGW_API_KEYS="console k-5f0c3a1e9b7d2c4f invitations:read invitations:write, legacy-0123456789abcdef"
//
// Names are 1 to 64 of [A-Za-z0-9._-] and unique; keys are at least 16 characters, without
// spaces, and unique; scopes are [A-Za-z0-9._:-]+ (like invitations:read). Keys are compared
// as SHA-256 digests in constant time.
//
// # JWTs
//
// Only asymmetric algorithms are accepted (RS256/384/512, PS256/384/512, ES256/384/512,
// EdDSA), checked against the token's header before anything else; the header must name a
// key id (kid) found in the JWKS. exp is required, and exp, nbf and iat are checked with 60 s
// of clock skew; iss must be one of the issuers and aud must contain one of the audiences;
// sub is required and becomes Identity.Subject. The scope claim is a space-separated string
// or an array of strings.
//
// The key set is fetched at start; New does not fail when the IdP is down, it logs and keeps
// trying. It is refreshed in the background (following the response's Cache-Control within
// RefreshMin and RefreshMax), and at once, at most every ForcedRefreshEvery, when a token
// names a key id the set does not hold (so a key rotation needs no restart) or while no set
// has been loaded. Until one is, JWTs are answered 503 with Retry-After; API keys keep
// working.
//
// # Answers
//
// A request without a credential is answered 401 with "WWW-Authenticate: Bearer
// realm=\"invitegw\"", and one with a bad credential adds error="invalid_token" and an
// error_description saying what was wrong (RFC 6750), in our words: never the credential, and
// it is never logged. Both have a GraphQL error body with extensions.code UNAUTHENTICATED.
// CORS preflights (OPTIONS) pass without a credential and without an identity.
package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Options configures an Authenticator.
type Options struct {
	// JWT, when set, accepts JWTs signed by an identity provider.
	JWT *JWTOptions
	// APIKeys are the accepted static keys (see ParseAPIKeys).
	APIKeys []APIKey
	// Logger receives why credentials were refused (at Debug) and trouble with the signing
	// keys; never a credential. nil: no logging.
	Logger *slog.Logger
	// Now is the clock for token times and the forced refresh limit. nil: time.Now.
	Now func() time.Time
}

// The extensions.code values of the middleware's error answers.
const (
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeUnavailable     = "UNAVAILABLE"
)

// retryAfter is the Retry-After of a 503 for missing signing keys, in seconds.
const retryAfter = "5"

// Authenticator authenticates requests; build it once with New and Close it at exit.
type Authenticator struct {
	keys    *keyring
	grants  []APIKey  // the keys' names and scopes, without the keys
	jwt     *verifier // nil without JWTs
	enabled bool
	log     *slog.Logger
	stop    func() error // stops the key refresh
	once    sync.Once
	stopErr error
}

// open is the identity of every caller when no authentication is configured.
var open = Identity{Kind: KindAnonymous, Subject: anonymous, All: true}

// New checks the options and, with JWTs, starts fetching the signing keys, waiting within
// ctx (and at most 15 s) for the first fetch. A failed fetch is logged, not returned: the
// keys keep being fetched in the background until Close. ctx bounds only that first wait.
func New(ctx context.Context, o Options) (*Authenticator, error) {
	if err := checkKeys(o.APIKeys); err != nil {
		return nil, err
	}
	a := &Authenticator{
		keys:    newKeyring(o.APIKeys),
		enabled: o.JWT != nil || len(o.APIKeys) > 0,
		log:     o.Logger,
		stop:    func() error { return nil },
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	for _, k := range o.APIKeys {
		a.grants = append(a.grants, APIKey{Name: k.Name, Scopes: k.Scopes})
	}
	if o.JWT == nil {
		return a, nil
	}
	if err := checkJWTOptions(o.JWT); err != nil {
		return nil, err
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	client := o.JWT.HTTPClient
	if client == nil {
		client = defaultJWKSClient()
	}
	life, stop := context.WithCancel(context.WithoutCancel(ctx))
	keys, err := newKeySource(ctx, life, o.JWT.JWKSURL, client, now, a.log)
	if err != nil {
		stop()
		return nil, fmt.Errorf("auth: start fetching the JWT signing keys: %w", err)
	}
	a.stop = func() error {
		stop()
		if err := keys.close(); err != nil {
			return fmt.Errorf("auth: stop refreshing the JWT signing keys: %w", err)
		}
		return nil
	}
	a.jwt = &verifier{
		keys:       keys,
		issuers:    o.JWT.Issuers,
		audiences:  o.JWT.Audiences,
		scopeClaim: o.JWT.ScopeClaim,
		now:        now,
		log:        a.log,
	}
	if a.jwt.scopeClaim == "" {
		a.jwt.scopeClaim = DefaultScopeClaim
	}
	return a, nil
}

// Enabled reports whether any authentication is configured (JWTs or API keys). When it is
// not, the gateway is open and every caller is anonymous with every scope.
func (a *Authenticator) Enabled() bool { return a.enabled }

// CheckScopes refuses API keys that grant a scope not in known (the schema's scopes): a
// misspelt scope would otherwise grant nothing, silently. Token scopes are the IdP's: a
// token may carry scopes for other services, which are ignored.
func (a *Authenticator) CheckScopes(known []string) error {
	for _, k := range a.grants {
		for _, s := range k.Scopes {
			if !slices.Contains(known, s) {
				return fmt.Errorf("auth: API key %q grants the unknown scope %q (known: %s)", k.Name, s, strings.Join(known, ", "))
			}
		}
	}
	return nil
}

// Close stops the background refresh of the signing keys. It is safe to call more than once.
func (a *Authenticator) Close() error {
	a.once.Do(func() { a.stopErr = a.stop() })
	return a.stopErr
}

// errNoCredential means the request sent none.
var errNoCredential = errors.New("auth: no credential")

// Why a credential is refused, besides the JWT's refusals.
const (
	errTwoCredentials refusal = "send one credential, in Authorization or X-API-Key"
	errScheme         refusal = "unsupported authorization scheme"
	errEmpty          refusal = "empty credential"
)

// Middleware authenticates every request but CORS preflights and calls next with the
// Identity in the request's context, or answers 401 (or 503, for a JWT while no signing keys
// are loaded) itself.
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.enabled {
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), open)))
			return
		}
		if r.Method == http.MethodOptions {
			next.ServeHTTP(w, r) // CORS preflights carry no credentials
			return
		}
		id, err := a.authenticate(r)
		if err == nil {
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), id)))
			return
		}
		switch {
		case errors.Is(err, errNoCredential):
			a.log.Debug("auth: no credential")
			w.Header().Set("WWW-Authenticate", `Bearer realm="invitegw"`)
			writeError(w, http.StatusUnauthorized, CodeUnauthenticated, "authentication required: send Authorization: Bearer or X-API-Key")
		case errors.Is(err, errNoKeys) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
			a.log.Info("auth: JWT not checked: no signing keys")
			w.Header().Set("Retry-After", retryAfter)
			writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "signing keys are unavailable")
		default:
			reason := describe(err)
			a.log.Debug("auth: credential refused", "reason", reason)
			w.Header().Set("WWW-Authenticate", `Bearer realm="invitegw", error="invalid_token", error_description="`+reason+`"`)
			writeError(w, http.StatusUnauthorized, CodeUnauthenticated, "invalid credential: "+reason)
		}
	})
}

// authenticate finds the request's one credential and checks it.
func (a *Authenticator) authenticate(r *http.Request) (Identity, error) {
	authz, apiKey := r.Header.Values("Authorization"), r.Header.Values("X-API-Key")
	switch len(authz) + len(apiKey) {
	case 0:
		return Identity{}, errNoCredential
	case 1:
	default:
		return Identity{}, errTwoCredentials
	}
	if len(apiKey) == 1 {
		if apiKey[0] == "" {
			return Identity{}, errEmpty
		}
		if id, ok := a.keys.match(apiKey[0]); ok {
			return id, nil
		}
		return Identity{}, errUnknownAPIKey
	}
	scheme, cred, _ := strings.Cut(authz[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return Identity{}, errScheme
	}
	if cred = strings.TrimSpace(cred); cred == "" {
		return Identity{}, errEmpty
	}
	if id, ok := a.keys.match(cred); ok {
		return id, nil
	}
	if a.jwt == nil {
		return Identity{}, errUnknownAPIKey
	}
	return a.jwt.verify(r.Context(), cred)
}

// writeError answers with a GraphQL error body.
func writeError(w http.ResponseWriter, status int, code, message string) {
	type gqlError struct {
		Message    string            `json:"message"`
		Extensions map[string]string `json:"extensions"`
	}
	body, _ := json.Marshal(struct {
		Errors []gqlError `json:"errors"`
	}{[]gqlError{{message, map[string]string{"code": code}}}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
