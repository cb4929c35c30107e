package invite

import (
	"net/mail"
	"strings"
)

// Grant is what a new invitation gives its invitee: roles, and (Frontier) groups.
type Grant struct {
	RoleBindings []RoleBinding
	GroupIDs     []string
}

// Bounds of one createInvitations call.
const (
	MaxCreateEmails  = 50
	MaxCreateTargets = 20
	MaxCreateItems   = 100
)

// NormalizeEmail is an address as invitegw compares and sends it: trimmed and lower-cased.
// It must be a bare address (no display name, no comments).
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", Errorf(CodeBadUserInput, "%s is not an email address", quoteShort(s))
	}
	return s, nil
}

// NormalizeEmails normalizes every address and drops repeats, keeping the first's place.
func NormalizeEmails(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	seen := make(map[string]bool, len(in))
	for _, s := range in {
		e, err := NormalizeEmail(s)
		if err != nil {
			return nil, err
		}
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out, nil
}
