package invite

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Filter selects invitations. The zero Filter matches everything.
type Filter struct {
	Providers     []Provider
	Email         string // matched trimmed and case-insensitively
	Organization  *Source
	Statuses      []Status
	ExpiresBefore *time.Time
}

// Wants reports whether the filter can match anything from src, so callers skip upstream calls
// the filter would throw away.
func (f *Filter) Wants(src Source) bool {
	if len(f.Providers) > 0 && !slices.Contains(f.Providers, src.Provider) {
		return false
	}
	if f.Organization != nil && f.Organization.Provider != src.Provider {
		return false
	}
	// Redpanda's list has no org id to compare before fetching; Match checks it afterwards.
	if f.Organization != nil && src.Provider != Redpanda && f.Organization.OrgID != src.OrgID {
		return false
	}
	return true
}

// Match reports whether inv passes every part of the filter at now. redpandaOrg is the
// organization the Redpanda token belongs to, needed to match an organization filter against
// Redpanda invites, which carry no organization ID.
func (f *Filter) Match(inv *Invitation, now time.Time, redpandaOrg string) bool {
	if len(f.Providers) > 0 && !slices.Contains(f.Providers, inv.Provider) {
		return false
	}
	if f.Organization != nil {
		org := inv.OrgID
		if inv.Provider == Redpanda {
			org = redpandaOrg
		}
		if f.Organization.Provider != inv.Provider || f.Organization.OrgID != org {
			return false
		}
	}
	if f.Email != "" && !strings.EqualFold(strings.TrimSpace(f.Email), strings.TrimSpace(inv.Email)) {
		return false
	}
	if len(f.Statuses) > 0 && !slices.Contains(f.Statuses, inv.StatusAt(now)) {
		return false
	}
	if f.ExpiresBefore != nil && (inv.ExpiresAt == nil || !inv.ExpiresAt.Before(*f.ExpiresBefore)) {
		return false
	}
	return true
}

// Sort orders invitations by CreatedAt descending, then ID ascending: newest first, with a
// total order so that cursors are stable.
func Sort(invs []*Invitation) {
	slices.SortFunc(invs, compare)
}

func compare(a, b *Invitation) int {
	if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// Connection is one page of invitations, Relay style. N is what a node is: *Invitation as
// PageOf cuts the page, *loaders.Invitation once a request has joined it (loaders.Connection,
// what GraphQL binds).
type Connection[N any] struct {
	Edges      []Edge[N]
	PageInfo   PageInfo
	TotalCount int
}

// Nodes is the page's nodes without cursors.
func (c *Connection[N]) Nodes() []N {
	out := make([]N, len(c.Edges))
	for i := range c.Edges {
		out[i] = c.Edges[i].Node
	}
	return out
}

// Edge is a node with its cursor.
type Edge[N any] struct {
	Cursor string
	Node   N
}

// PageInfo describes where a page sits in the full result.
type PageInfo struct {
	HasNextPage     bool
	HasPreviousPage bool
	StartCursor     *string
	EndCursor       *string
}

// Page limits.
const (
	DefaultFirst = 50
	MaxFirst     = 100
)

// cursorPos is the sort position a cursor encodes.
type cursorPos struct {
	createdAt time.Time
	id        string
}

const cursorPrefix = "v2|"

// EncodeCursor makes the opaque cursor of inv: its position in the sort order. The time is
// seconds and nanoseconds, not UnixNano, which overflows outside 1678..2262: an invitation
// without a creation time (the zero time) must page like any other.
func EncodeCursor(inv *Invitation) string {
	raw := cursorPrefix + strconv.FormatInt(inv.CreatedAt.Unix(), 10) + "|" +
		strconv.Itoa(inv.CreatedAt.Nanosecond()) + "|" + inv.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// DecodeCursor parses a cursor made by EncodeCursor. Anything else is BAD_USER_INPUT.
func DecodeCursor(s string) (cursorPos, error) {
	bad := Errorf(CodeBadUserInput, "invalid cursor")
	if len(s) > 2*maxIDLen {
		return cursorPos{}, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursorPos{}, bad
	}
	rest, ok := strings.CutPrefix(string(raw), cursorPrefix)
	if !ok {
		return cursorPos{}, bad
	}
	secs, rest, ok := strings.Cut(rest, "|")
	if !ok {
		return cursorPos{}, bad
	}
	nanos, id, ok := strings.Cut(rest, "|")
	if !ok || id == "" {
		return cursorPos{}, bad
	}
	sec, err1 := strconv.ParseInt(secs, 10, 64)
	nsec, err2 := strconv.Atoi(nanos)
	if err1 != nil || err2 != nil || nsec < 0 || nsec > 999_999_999 {
		return cursorPos{}, bad
	}
	return cursorPos{createdAt: time.Unix(sec, int64(nsec)), id: id}, nil
}
