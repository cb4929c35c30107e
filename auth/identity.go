package auth

import (
	"context"
	"slices"
	"strings"
)

// Kind says how a caller proved who it is.
type Kind string

// The kinds of Identity.
const (
	KindJWT       Kind = "JWT"
	KindAPIKey    Kind = "API_KEY"
	KindAnonymous Kind = "ANONYMOUS"
)

// anonymous is the Subject of every caller of an open gateway.
const anonymous = "anonymous"

// allScopes is the ScopeKey of an identity that may do everything. No scope can equal it:
// API key scopes are checked against scopePattern and token scopes that are "*" are dropped.
const allScopes = "*"

// Identity is who called and what they may do. The middleware puts one in every
// authenticated request's context; the gateway reads it with FromContext to enforce scopes
// and to key cached answers by what the caller may see.
type Identity struct {
	Kind Kind
	// Subject is the JWT's sub, the API key's name, or "anonymous".
	Subject string
	// Issuer is the JWT's iss; empty for the other kinds.
	Issuer string
	// Scopes are sorted and deduplicated; nil when All (and when there are none). Each is
	// non-empty, has no whitespace or control characters, and is never "*", so that ScopeKey
	// tells every permission set apart.
	Scopes []string
	// All grants every scope: bare API keys, named keys listed without scopes, and the open
	// gateway (no authentication configured). A JWT never grants All.
	All bool
}

// Has reports whether the identity may use scope.
func (id Identity) Has(scope string) bool {
	if id.All {
		return true
	}
	_, found := slices.BinarySearch(id.Scopes, scope)
	return found
}

// ScopeKey is a canonical string of what the identity may do: "*" for All, else the sorted
// scopes joined by single spaces ("" for none). Two identities with the same ScopeKey may see
// the same answers, so cached answers are keyed by it.
func (id Identity) ScopeKey() string {
	if id.All {
		return allScopes
	}
	return strings.Join(id.Scopes, " ")
}

// normalizeScopes sorts and deduplicates scopes, dropping those that are not an OAuth 2.0
// scope-token (RFC 6749 section 3.3: printable ASCII but space, '"' and '\') and "*": either
// could make ScopeKey confuse two permission sets. It returns nil for none.
func normalizeScopes(scopes []string) []string {
	var out []string
	for _, s := range scopes {
		if isScopeToken(s) && s != allScopes {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func isScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// contextKey is the private key of the Identity in a context.
type contextKey struct{}

// NewContext returns a copy of ctx carrying id.
func NewContext(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, contextKey{}, id)
}

// FromContext returns the identity the middleware put in ctx. ok is false when there is
// none: the middleware did not run, or the request was a CORS preflight it let through.
// Treat that as unauthenticated, never as the open gateway.
func FromContext(ctx context.Context) (id Identity, ok bool) {
	id, ok = ctx.Value(contextKey{}).(Identity)
	return id, ok
}
