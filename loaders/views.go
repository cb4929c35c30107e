package loaders

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/invitegw/invitegw/invite"
)

// Views keeps, per filter, the invitations it matched in the lists it was matched against,
// for every request of the process: filtering 60,000 cached invitations for every page of 50
// made a page's cost grow with the data. A view is used only while the request loaded the very
// same lists (the same decoded values, which the cache hands out unchanged while the stored
// data is unchanged), and while no invitation's status has changed since, when the filter
// asks for statuses. A view holds its lists, so their memory cannot be reused for other
// lists while it is kept; so that old data is not kept alive, a view is dropped as soon as a
// request finds other lists, and after ViewTTL in any case, and at most DefaultViews are kept.
// Safe for concurrent use.
type Views struct {
	lru          *expirable.LRU[string, *view]
	hits, misses atomic.Int64
}

// Stats are how many requests used a kept view, and how many matched their lists anew.
func (v *Views) Stats() (hits, misses int64) { return v.hits.Load(), v.misses.Load() }

// DefaultViews is how many filters' views are kept; ViewTTL is how long one is kept at most.
const (
	DefaultViews = 64
	ViewTTL      = time.Minute
)

// NewViews keeps the views of up to n filters, each for at most ttl.
func NewViews(n int, ttl time.Duration) *Views {
	return &Views{lru: expirable.NewLRU[string, *view](max(n, 1), nil, ttl)}
}

// view is one filter's matches in one set of lists.
type view struct {
	lists       [][]invite.Invitation // what was matched, kept to compare (and alive)
	redpandaOrg string
	changes     time.Time            // the lists' first status change after the view was made
	byStatus    bool                 // the filter asks for statuses: valid until changes
	matches     []*invite.Invitation // in no order; never changed once kept
	once        sync.Once
	sorted      []*invite.Invitation // matches sorted, made the first time asked for
}

// get returns the view kept under key, if it is of these very lists and still valid at now.
// A view of other lists is dropped: its lists are old data.
func (v *Views) get(key string, lists [][]invite.Invitation, redpandaOrg string, now time.Time) *view {
	if v == nil {
		return nil
	}
	vw, ok := v.lru.Get(key)
	if ok && (vw.redpandaOrg != redpandaOrg || (vw.byStatus && !vw.changes.IsZero() && !now.Before(vw.changes)) || !sameLists(vw.lists, lists)) {
		v.lru.Remove(key)
		ok = false
	}
	if !ok {
		v.misses.Add(1)
		return nil
	}
	v.hits.Add(1)
	return vw
}

func (v *Views) put(key string, vw *view) {
	if v != nil {
		v.lru.Add(key, vw)
	}
}

// sameLists reports whether a and b are the same decoded lists, element for element in
// memory (not merely equal).
func sameLists(a, b [][]invite.Invitation) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) || (len(a[i]) > 0 && &a[i][0] != &b[i][0]) {
			return false
		}
		if (a[i] == nil) != (b[i] == nil) { // a failed source is nil, an empty list is not
			return false
		}
	}
	return true
}

// sortedMatches returns the view's matches sorted, sorting them the first time it is asked.
// The first request of a view pages its matches unsorted (invite.PageOf); only a view read
// again pays for a sort, once, and is then paged by binary search.
func (vw *view) sortedMatches() []*invite.Invitation {
	vw.once.Do(func() {
		vw.sorted = slices.Clone(vw.matches) // others may be paging matches meanwhile
		invite.Sort(vw.sorted)
	})
	return vw.sorted
}

// viewKey is f in canonical form, with the sources it reads.
func viewKey(f *invite.Filter, sources []invite.Source) string {
	var b strings.Builder
	providers := slices.Clone(f.Providers)
	slices.Sort(providers)
	for _, p := range providers {
		b.WriteString(string(p))
		b.WriteByte(',')
	}
	b.WriteByte('|')
	b.WriteString(strings.ToLower(strings.TrimSpace(f.Email)))
	b.WriteByte('|')
	if f.Organization != nil {
		b.WriteString(f.Organization.String())
	}
	b.WriteByte('|')
	statuses := slices.Clone(f.Statuses)
	slices.Sort(statuses)
	for _, s := range statuses {
		b.WriteString(string(s))
		b.WriteByte(',')
	}
	b.WriteByte('|')
	if f.ExpiresBefore != nil {
		b.WriteString(strconv.FormatInt(f.ExpiresBefore.UnixNano(), 10))
	}
	for _, src := range sources {
		b.WriteByte('|')
		b.WriteString(src.String())
	}
	return b.String()
}

// statusesUntil is when the first invitation of lists changes status after now (a pending
// one expiring); zero when none will. A view of a filter on statuses is valid until then.
func statusesUntil(lists [][]invite.Invitation, now time.Time) time.Time {
	var first time.Time
	for _, list := range lists {
		if t := invite.NextStatusChange(list, now); !t.IsZero() && (first.IsZero() || t.Before(first)) {
			first = t
		}
	}
	return first
}
