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

// What every provider client does the same way: check its base URL, default its HTTP client
// and timeout, name its credential, and put an ID into a path. One copy each, so the providers
// cannot drift apart.

// CheckBaseURL returns s, or def when s is empty, without trailing slashes, after checking that
// it is an absolute http(s) URL without query or fragment: the client appends paths to it. what
// names the URL in the error ("base url", "token url").
func CheckBaseURL(provider, what, s, def string) (string, error) {
	if s == "" {
		s = def
	}
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

// HTTPClientOr is hc, or a client of its own from NewHTTPClient when hc is nil.
func HTTPClientOr(hc *http.Client) *http.Client {
	if hc == nil {
		return NewHTTPClient()
	}
	return hc
}

// TimeoutOr is d, or DefaultTimeout when d is not positive.
func TimeoutOr(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultTimeout
	}
	return d
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
