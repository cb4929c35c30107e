package invite

import (
	"container/heap"
	"slices"
)

// PageOf cuts one page of matches, in the sort order (Sort): the first invitations that sort
// after the cursor position `after`, so a page stays correct when invitations are added or
// removed between requests. matches may come in any order and is not changed: PageOf never
// sorts them all, it counts every match (TotalCount) and keeps only the page in a bounded
// heap, O(n log first) instead of the O(n log n) of sorting n matches to show 50 (at 60,000
// invitations that sort was three quarters of a request's CPU).
func PageOf(matches []*Invitation, first int, after *string) (*Connection[*Invitation], error) {
	if first < 1 || first > MaxFirst {
		return nil, Errorf(CodeBadUserInput, "first must be between 1 and %d, got %d", MaxFirst, first)
	}
	var (
		pos       cursorPos
		hasCursor bool
	)
	if after != nil {
		p, err := DecodeCursor(*after)
		if err != nil {
			return nil, err
		}
		pos, hasCursor = p, true
	}
	// top holds the best `first` invitations after the cursor, its worst on top.
	top := &worstFirst{invs: make([]*Invitation, 0, min(first, len(matches)))}
	before, later := 0, 0
	for _, inv := range matches {
		if hasCursor && !pos.before(inv) {
			before++
			continue
		}
		later++
		switch {
		case top.Len() < first:
			heap.Push(top, inv)
		case compare(inv, top.invs[0]) < 0:
			top.invs[0] = inv
			heap.Fix(top, 0)
		}
	}
	page := top.invs
	slices.SortFunc(page, compare)
	conn := &Connection[*Invitation]{
		Edges:      make([]Edge[*Invitation], len(page)),
		TotalCount: len(matches),
		PageInfo:   PageInfo{HasNextPage: later > len(page), HasPreviousPage: before > 0},
	}
	for i, inv := range page {
		conn.Edges[i] = Edge[*Invitation]{Cursor: EncodeCursor(inv), Node: inv}
	}
	if len(page) > 0 {
		conn.PageInfo.StartCursor = &conn.Edges[0].Cursor
		conn.PageInfo.EndCursor = &conn.Edges[len(page)-1].Cursor
	}
	return conn, nil
}

// before reports whether the cursor position sorts before inv (inv is on a later page).
func (p cursorPos) before(inv *Invitation) bool {
	if c := p.createdAt.Compare(inv.CreatedAt); c != 0 {
		return c > 0 // newer first: a later creation time sorts earlier
	}
	return p.id < inv.ID
}

// worstFirst is a heap of invitations whose root sorts last.
type worstFirst struct{ invs []*Invitation }

func (h *worstFirst) Len() int           { return len(h.invs) }
func (h *worstFirst) Less(i, j int) bool { return compare(h.invs[i], h.invs[j]) > 0 }
func (h *worstFirst) Swap(i, j int)      { h.invs[i], h.invs[j] = h.invs[j], h.invs[i] }
func (h *worstFirst) Push(x any)         { h.invs = append(h.invs, x.(*Invitation)) }
func (h *worstFirst) Pop() any {
	n := len(h.invs) - 1
	x := h.invs[n]
	h.invs = h.invs[:n]
	return x
}

// PageSorted is PageOf for invitations already sorted (Sort): the page is found by binary
// search, O(log n + first), and TotalCount is len(invs). Views keep their matches sorted. The page starts after
// the position named by the cursor `after`, so it stays correct when invitations are added or
// removed between requests. TotalCount counts every invitation in invs.
func PageSorted(invs []*Invitation, first int, after *string) (*Connection[*Invitation], error) {
	if first < 1 || first > MaxFirst {
		return nil, Errorf(CodeBadUserInput, "first must be between 1 and %d, got %d", MaxFirst, first)
	}
	start := 0
	if after != nil {
		pos, err := DecodeCursor(*after)
		if err != nil {
			return nil, err
		}
		// The first invitation that sorts after the cursor position.
		start, _ = slices.BinarySearchFunc(invs, pos, func(inv *Invitation, p cursorPos) int {
			if c := p.createdAt.Compare(inv.CreatedAt); c != 0 {
				return c
			}
			if inv.ID <= p.id {
				return -1
			}
			return 1
		})
	}
	end := min(start+first, len(invs))
	conn := &Connection[*Invitation]{
		Edges:      make([]Edge[*Invitation], 0, end-start),
		TotalCount: len(invs),
		PageInfo:   PageInfo{HasNextPage: end < len(invs), HasPreviousPage: start > 0},
	}
	for i := start; i < end; i++ {
		conn.Edges = append(conn.Edges, Edge[*Invitation]{Cursor: EncodeCursor(invs[i]), Node: invs[i]})
	}
	if len(conn.Edges) > 0 {
		conn.PageInfo.StartCursor = &conn.Edges[0].Cursor
		conn.PageInfo.EndCursor = &conn.Edges[len(conn.Edges)-1].Cursor
	}
	return conn, nil
}
