package invite

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// ID is a parsed unified invitation ID.
//
//	redpanda:<invite id>
//	elastic:<organization id>:<first 16 hex chars of sha256(token)>
//	frontier:<organization id>:<invitation id>
//
// Elastic's invitation token is the secret that accepts the invitation, so its ID carries only a
// digest of it.
type ID struct {
	Provider Provider
	OrgID    string // empty for Redpanda
	Key      string // invite id, token digest or invitation id
}

// String formats the ID.
func (id ID) String() string {
	if id.Provider == Redpanda {
		return "redpanda:" + id.Key
	}
	return id.Provider.Slug() + ":" + id.OrgID + ":" + id.Key
}

// Source is the upstream list the invitation lives in.
func (id ID) Source() Source { return Source{Provider: id.Provider, OrgID: id.OrgID} }

// RedpandaID builds the unified ID of a Redpanda invite.
func RedpandaID(inviteID string) string { return ID{Provider: Redpanda, Key: inviteID}.String() }

// ElasticID builds the unified ID of an Elastic invitation from its secret token; the token itself
// never leaves this function.
func ElasticID(orgID, token string) string {
	return ID{Provider: Elastic, OrgID: orgID, Key: TokenDigest(token)}.String()
}

// FrontierID builds the unified ID of a Frontier invitation.
func FrontierID(orgID, invitationID string) string {
	return ID{Provider: Frontier, OrgID: orgID, Key: invitationID}.String()
}

// TokenDigest is the first 16 hex characters of sha256(token): enough to identify an Elastic
// invitation within its organization, useless for accepting it.
func TokenDigest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:8])
}

// maxIDLen bounds what ParseID will look at: real IDs are far shorter.
const maxIDLen = 512

// ParseID parses a unified invitation ID. A malformed ID is a BAD_USER_INPUT error.
func ParseID(s string) (ID, error) {
	bad := func(why string) (ID, error) { return ID{}, Errorf(CodeBadUserInput, "invalid invitation id: %s", why) }
	if len(s) > maxIDLen {
		return bad("too long")
	}
	slug, rest, ok := strings.Cut(s, ":")
	if !ok {
		return bad(`expected "<provider>:..."`)
	}
	p, ok := ProviderFromSlug(slug)
	if !ok {
		return bad("unknown provider " + quoteShort(slug))
	}
	if p == Redpanda {
		if rest == "" || strings.ContainsAny(rest, ":/?#") {
			return bad(`expected "redpanda:<invite id>"`)
		}
		return ID{Provider: p, Key: rest}, nil
	}
	// Organization IDs never contain a colon (config rejects them), invitation IDs might: split
	// at the first one.
	org, key, ok := strings.Cut(rest, ":")
	if !ok || org == "" || key == "" {
		return bad(`expected "` + slug + `:<organization id>:<invitation>"`)
	}
	id := ID{Provider: p, OrgID: org, Key: key}
	if strings.ContainsAny(id.OrgID, "/?#") || strings.ContainsAny(id.Key, "/?#") {
		return bad("unexpected character")
	}
	if p == Elastic && !isLowerHex(id.Key, 16) {
		return bad("expected 16 hex characters after the organization id")
	}
	return id, nil
}

// ParseOrgID parses a unified organization ID, "<provider>:<org id>".
func ParseOrgID(s string) (Source, error) {
	bad := func(why string) (Source, error) {
		return Source{}, Errorf(CodeBadUserInput, "invalid organization id: %s", why)
	}
	if len(s) > maxIDLen {
		return bad("too long")
	}
	slug, rest, ok := strings.Cut(s, ":")
	if !ok || rest == "" {
		return bad(`expected "<provider>:<organization id>"`)
	}
	p, ok := ProviderFromSlug(slug)
	if !ok {
		return bad("unknown provider " + quoteShort(slug))
	}
	if strings.ContainsAny(rest, ":/?#") {
		return bad("unexpected character")
	}
	return Source{Provider: p, OrgID: rest}, nil
}

// OrgID builds a unified organization ID.
func OrgID(p Provider, orgID string) string { return p.Slug() + ":" + orgID }

func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// quoteShort quotes user input for an error message, cut short so a huge input cannot bloat it.
func quoteShort(s string) string {
	if len(s) > 32 {
		s = s[:32] + "..."
	}
	return `"` + strings.ToValidUTF8(s, "?") + `"`
}
