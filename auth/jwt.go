package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/invitegw/invitegw/upstream"
)

// JWTOptions configures JWT bearer tokens signed by an identity provider's published keys.
type JWTOptions struct {
	// JWKSURL is where the IdP publishes its signing keys (http or https; redirects are not
	// followed).
	JWKSURL string
	// Issuers are the accepted values of iss. Required.
	Issuers []string
	// Audiences: a token's aud (a string or an array) must contain one of them. Required, so
	// that a token the IdP issued for another application is refused.
	Audiences []string
	// ScopeClaim names the claim holding the scopes: a space-separated string (OAuth's
	// "scope") or an array of strings (such as "scp", or Entra ID's "roles"). A claim of any
	// other type grants no scopes. Default "scope".
	ScopeClaim string
	// HTTPClient fetches the JWKS. nil: a client with explicit timeouts.
	HTTPClient *http.Client
}

// DefaultScopeClaim is the claim read for scopes when JWTOptions.ScopeClaim is empty.
const DefaultScopeClaim = "scope"

// clockSkew is how far exp, nbf and iat may be off, for clocks that disagree a little.
const clockSkew = 60 * time.Second

// maxTokenLength bounds a bearer token before it is decoded; real ones are a few KiB.
const maxTokenLength = 16 << 10

// jwksTimeout bounds one fetch of the JWKS with the default client.
const jwksTimeout = 10 * time.Second

// allowedAlgs are the signature algorithms accepted, each with the key type it needs. Only
// asymmetric ones: with an HMAC algorithm anyone who has the public key could sign.
var allowedAlgs = map[string]struct {
	alg jwa.SignatureAlgorithm
	kty jwa.KeyType
}{
	"RS256": {jwa.RS256(), jwa.RSA()}, "RS384": {jwa.RS384(), jwa.RSA()}, "RS512": {jwa.RS512(), jwa.RSA()},
	"PS256": {jwa.PS256(), jwa.RSA()}, "PS384": {jwa.PS384(), jwa.RSA()}, "PS512": {jwa.PS512(), jwa.RSA()},
	"ES256": {jwa.ES256(), jwa.EC()}, "ES384": {jwa.ES384(), jwa.EC()}, "ES512": {jwa.ES512(), jwa.EC()},
	"EdDSA": {jwa.EdDSA(), jwa.OKP()},
}

// refusal is why a credential was refused, in words safe to show the caller (RFC 6750's
// error_description): never the credential, nor anything read from it.
type refusal string

func (r refusal) Error() string { return string(r) }

// Why a JWT is refused.
const (
	errMalformed     refusal = "malformed token"
	errAlgorithm     refusal = "unsupported signing algorithm"
	errNoKeyID       refusal = "token has no key id"
	errUnknownKey    refusal = "unknown signing key"
	errKeyMismatch   refusal = "signing key does not match the token's algorithm"
	errSignature     refusal = "invalid signature"
	errNoExpiry      refusal = "token has no expiry"
	errExpired       refusal = "token expired"
	errNotYetValid   refusal = "token not yet valid"
	errIssuedFuture  refusal = "token issued in the future"
	errBadTimes      refusal = "invalid token times"
	errIssuer        refusal = "untrusted issuer"
	errAudience      refusal = "wrong audience"
	errNoSubject     refusal = "token has no subject"
	errUnknownAPIKey refusal = "unknown API key"
)

// errNoKeys means no key set has ever been loaded: the caller cannot be told yes or no.
var errNoKeys = errors.New("auth: no signing keys loaded")

// verifier checks JWTs against the IdP's keys and turns their claims into an Identity.
type verifier struct {
	keys       *keySource
	issuers    []string
	audiences  []string
	scopeClaim string
	now        func() time.Time
	log        *slog.Logger
}

// checkJWTOptions rejects options that cannot work, before anything is started.
func checkJWTOptions(o *JWTOptions) error {
	u, err := url.Parse(o.JWKSURL)
	switch {
	case o.JWKSURL == "":
		return errors.New("auth: JWT: JWKSURL is required")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return errors.New("auth: JWT: JWKSURL must be an absolute http or https URL")
	case u.User != nil:
		return errors.New("auth: JWT: JWKSURL must not contain credentials")
	case len(o.Issuers) == 0 || slices.Contains(o.Issuers, ""):
		return errors.New("auth: JWT: Issuers is required and must not contain an empty issuer")
	case len(o.Audiences) == 0 || slices.Contains(o.Audiences, ""):
		return errors.New("auth: JWT: Audiences is required and must not contain an empty audience")
	case strings.ContainsFunc(o.ScopeClaim, func(r rune) bool { return r <= ' ' }):
		return errors.New("auth: JWT: ScopeClaim must not contain spaces or control characters")
	}
	return nil
}

// defaultJWKSClient is the JWKS client when none is given: explicit timeouts, no redirects.
func defaultJWKSClient() *http.Client {
	c := upstream.NewHTTPClient()
	c.Timeout = jwksTimeout
	return c
}

// verify returns the identity of a valid token; else a refusal, errNoKeys, or the request's
// context error.
func (v *verifier) verify(ctx context.Context, token string) (Identity, error) {
	if len(token) > maxTokenLength {
		return Identity{}, errMalformed
	}
	hdr, err := readHeader(token)
	if err != nil {
		return Identity{}, err
	}
	allowed, ok := allowedAlgs[hdr.Alg]
	if !ok {
		return Identity{}, errAlgorithm
	}
	if hdr.Kid == "" {
		return Identity{}, errNoKeyID
	}
	key, err := v.key(ctx, hdr.Kid)
	if err != nil {
		return Identity{}, err
	}
	if alg, ok := key.Algorithm(); (ok && alg.String() != hdr.Alg) || key.KeyType() != allowed.kty {
		return Identity{}, errKeyMismatch
	}
	if use, ok := key.KeyUsage(); ok && use != "sig" {
		return Identity{}, errKeyMismatch
	}
	tok, err := jwt.Parse([]byte(token), jwt.WithKey(allowed.alg, key), jwt.WithValidate(false))
	if err != nil {
		if errors.Is(err, jws.VerifyError()) || errors.Is(err, jws.VerificationError()) {
			return Identity{}, errSignature
		}
		return Identity{}, errMalformed
	}
	return v.claims(tok)
}

// joseHeader is what is read of a token's header before its signature is checked.
type joseHeader struct{ Alg, Kid string }

// readHeader reads the header of a compact JWS (three base64url parts), the only
// serialization a bearer token has. Member names match exactly (encoding/json's struct
// decoding would take "ALG" for "alg"); a value that is not a string counts as missing.
func readHeader(token string) (joseHeader, error) {
	first, rest, ok := strings.Cut(token, ".")
	if !ok || strings.Count(rest, ".") != 1 {
		return joseHeader{}, errMalformed
	}
	var members map[string]any
	b, err := base64.RawURLEncoding.DecodeString(first)
	if err != nil || json.Unmarshal(b, &members) != nil {
		return joseHeader{}, errMalformed
	}
	alg, _ := members["alg"].(string)
	kid, _ := members["kid"].(string)
	return joseHeader{alg, kid}, nil
}

// key finds the signing key kid, refreshing the set once (within ForcedRefreshEvery) when
// kid is not in it: the IdP may have rotated its keys.
func (v *verifier) key(ctx context.Context, kid string) (jwk.Key, error) {
	if set := v.keys.set(); set != nil {
		if key, ok := set.LookupKeyID(kid); ok {
			return key, nil
		}
	}
	if err := v.keys.refresh(ctx); err != nil && !errors.Is(err, errRefreshLimited) {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		v.log.Warn("auth: cannot refresh the JWT signing keys", "error", err.Error())
	}
	set := v.keys.set()
	if set == nil {
		return nil, errNoKeys
	}
	if key, ok := set.LookupKeyID(kid); ok {
		return key, nil
	}
	return nil, errUnknownKey
}

// claims checks a verified token's claims and reads its identity.
func (v *verifier) claims(tok jwt.Token) (Identity, error) {
	if _, ok := tok.Expiration(); !ok {
		return Identity{}, errNoExpiry
	}
	if err := jwt.Validate(tok, jwt.WithClock(jwt.ClockFunc(v.now)), jwt.WithAcceptableSkew(clockSkew)); err != nil {
		switch {
		case errors.Is(err, jwt.TokenExpiredError()):
			return Identity{}, errExpired
		case errors.Is(err, jwt.TokenNotYetValidError()):
			return Identity{}, errNotYetValid
		case errors.Is(err, jwt.InvalidIssuedAtError()):
			return Identity{}, errIssuedFuture
		}
		return Identity{}, errBadTimes
	}
	iss, _ := tok.Issuer()
	if !slices.Contains(v.issuers, iss) {
		return Identity{}, errIssuer
	}
	aud, _ := tok.Audience()
	if !slices.ContainsFunc(aud, func(a string) bool { return slices.Contains(v.audiences, a) }) {
		return Identity{}, errAudience
	}
	sub, _ := tok.Subject()
	if sub == "" {
		return Identity{}, errNoSubject
	}
	return Identity{Kind: KindJWT, Subject: sub, Issuer: iss, Scopes: v.scopes(tok)}, nil
}

// scopes reads the scope claim: a space-separated string or an array of strings. Anything
// else, including an array with a non-string in it, grants nothing.
func (v *verifier) scopes(tok jwt.Token) []string {
	var claim any
	if err := tok.Get(v.scopeClaim, &claim); err != nil {
		return nil
	}
	switch c := claim.(type) {
	case string:
		return normalizeScopes(strings.Fields(c))
	case []string:
		return normalizeScopes(c)
	case []any:
		out := make([]string, 0, len(c))
		for _, e := range c {
			s, ok := e.(string)
			if !ok {
				return nil
			}
			out = append(out, s)
		}
		return normalizeScopes(out)
	}
	return nil
}

// describe is what a caller is told about err: a refusal as it is, anything else as a
// generic word.
func describe(err error) string {
	var r refusal
	if errors.As(err, &r) {
		return string(r)
	}
	return "invalid credential"
}
