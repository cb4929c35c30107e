package upstream

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// What every provider client does the same way: check its base URL and timeout, default its
// HTTP client, name its credential, and put an ID into a path. One copy each, so the providers
// cannot drift apart.
//
// The checks substitute nothing: the defaults of URLs and timeouts are config's (its envDefault
// tags), so a client given an empty one says so instead of choosing its own.

// CheckBaseURL returns s without trailing slashes, after checking that it is set and an
// absolute http(s) URL without query or fragment: the client appends paths to it. what names
// the URL in the error ("base url", "token url").
func CheckBaseURL(provider, what, s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("%s: %s is required", provider, what)
	}
	s = strings.TrimRight(s, "/")
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%s: %s must be an absolute http(s) url without query", provider, what)
	}
	return s, nil
}

// CheckTimeout fails unless d, the bound of each call to provider, is positive: a zero
// timeout would fail every call at once, and a client has no business picking another.
func CheckTimeout(provider string, d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("%s: timeout must be positive, got %v", provider, d)
	}
	return nil
}

// HTTPClientOr is hc, or a client of its own from NewHTTPClient when hc is nil. Unlike a URL or
// a timeout, no setting owns the HTTP client: nil only means "no pool to share", and the client
// substituted is the one NewHTTPClient gives production, so nothing is decided here.
func HTTPClientOr(hc *http.Client) *http.Client {
	if hc == nil {
		return NewHTTPClient()
	}
	return hc
}

// CredentialID is the hex SHA-256 of a credential: it separates cache entries by tenant without
// holding the credential itself. material must tell kinds of credential apart (a token from a
// client secret), so that two never share an ID.
func CredentialID(material string) string {
	sum := sha256.Sum256([]byte(material))
	return hex.EncodeToString(sum[:])
}

// PathSegment is id path-escaped into one segment of provider's path for op. An id that would
// change the path instead ("", ".", "..") fails before any request, as an *Error of kind; what
// names the id in it ("invite id").
func PathSegment(provider, op, what, id string, kind error) (string, error) {
	switch id {
	case "", ".", "..":
		return "", &Error{Provider: provider, Op: op, Kind: kind, Err: fmt.Errorf("invalid %s %q", what, id)}
	}
	return url.PathEscape(id), nil
}
