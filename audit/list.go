package audit

import (
	"context"
	"fmt"
	"strings"
)

// scanner is what a store does for List: read its trail newest first. list does the rest
// (filters, paging, the scan bound), so both stores page alike.
type scanner interface {
	// scan returns up to n entries, newest first, with IDs below before (from the newest when
	// before is nil) and not below floor. Fewer than n means none is left down to floor.
	scan(ctx context.Context, before *streamID, floor streamID, n int) ([]entry, error)
}

// entry is one entry of a trail. An entry that did not decode (written by a later version,
// or by hand) has ok false: it is skipped, but it counts as scanned and moves the cursor.
type entry struct {
	id    streamID
	event Event
	ok    bool
}

// Chunk sizes of a scan: the first chunk is just big enough for a page when most events match,
// and each next one doubles, up to maxChunk (the COUNT of one XREVRANGE).
const (
	minChunk = 16
	maxChunk = 500
)

// list implements Store.List over s.
func list(ctx context.Context, s scanner, f Filter, first int, after string) (Page, error) {
	if first < 1 {
		return Page{}, fmt.Errorf("audit: list: first is %d, want 1 or more", first)
	}
	var before *streamID
	if after != "" {
		id, err := parseCursor(after)
		if err != nil {
			return Page{}, err
		}
		before = &id
	}
	m := newMatcher(f)
	var p Page
	scanned, chunk := 0, max(first+1, minChunk)
	for scanned < ScanLimit {
		n := min(chunk, maxChunk, ScanLimit-scanned)
		entries, err := s.scan(ctx, before, m.floor, n)
		if err != nil {
			return Page{}, err
		}
		for _, en := range entries {
			scanned++
			before = &en.id
			if !en.ok || !m.match(en.event) {
				continue
			}
			if len(p.Events) == first {
				p.HasNext = true
				return p, nil
			}
			p.Events = append(p.Events, en.event)
			p.EndCursor = en.id.cursor()
		}
		if len(entries) < n {
			return p, nil
		}
		chunk *= 2
	}
	p.HasNext, p.EndCursor = true, before.cursor()
	return p, nil
}

// matcher is a Filter prepared for matching many events.
type matcher struct {
	f     Filter
	email string   // trimmed and lower-cased
	floor streamID // no entry below it can match Since
}

func newMatcher(f Filter) matcher {
	m := matcher{f: f, email: strings.ToLower(strings.TrimSpace(f.Email))}
	if !f.Since.IsZero() {
		if ms := f.Since.Add(-IndexSlack).UnixMilli(); ms > 0 {
			m.floor = streamID{ms: uint64(ms)}
		}
	}
	return m
}

func (m matcher) match(e Event) bool {
	f := m.f
	switch {
	case f.ActorSubject != "" && e.Actor.Subject != f.ActorSubject,
		f.Operation != "" && e.Operation != f.Operation,
		!f.Since.IsZero() && e.At.Before(f.Since),
		!f.Until.IsZero() && !e.At.Before(f.Until):
		return false
	}
	if m.email == "" {
		return true
	}
	for _, t := range e.Targets {
		if strings.EqualFold(strings.TrimSpace(t.Email), m.email) {
			return true
		}
	}
	return false
}
