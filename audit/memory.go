package audit

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"
)

// Memory is a Store in this process, for -demo and for an instance without Redis: its trail is
// this instance's alone and ends with it. It keeps the newest maxEvents events (a ring: the
// oldest goes first) and gives IDs as Redis would, from this process's clock, so it lists and
// pages exactly as Redis does.
type Memory struct {
	max int

	mu    sync.Mutex
	ring  []entry // grows to max, then wraps
	start int     // index of the oldest entry once the ring has wrapped
	last  streamID
}

// NewMemory returns an empty store that keeps at most maxEvents events. It panics when
// maxEvents is not positive: the configuration must have rejected that before.
func NewMemory(maxEvents int) *Memory {
	if maxEvents < 1 {
		panic(fmt.Sprintf("audit: NewMemory(%d): maxEvents must be positive", maxEvents))
	}
	return &Memory{max: maxEvents}
}

// Append implements Store. The event is copied: the caller may reuse its Targets.
func (m *Memory) Append(_ context.Context, e Event) (string, error) {
	e = normalize(e)
	ms := uint64(max(time.Now().UnixMilli(), 0))
	m.mu.Lock()
	defer m.mu.Unlock()
	// Like XADD with "*": a clock that stands still or steps back reuses the last millisecond.
	id := streamID{ms: ms}
	if !m.last.less(id) {
		id = streamID{ms: m.last.ms, seq: m.last.seq + 1}
	}
	m.last = id
	e.ID = id.String()
	en := entry{id: id, event: e, ok: true}
	if len(m.ring) < m.max {
		m.ring = append(m.ring, en)
	} else {
		m.ring[m.start] = en
		m.start = (m.start + 1) % m.max
	}
	return e.ID, nil
}

// List implements Store.
func (m *Memory) List(ctx context.Context, f Filter, first int, after string) (Page, error) {
	return list(ctx, m, f, first, after)
}

// scan implements scanner.
func (m *Memory) scan(_ context.Context, before *streamID, floor streamID, n int) ([]entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	at := func(i int) entry { return m.ring[(m.start+i)%len(m.ring)] } // 0 is the oldest
	end := len(m.ring)
	if before != nil {
		end = sort.Search(len(m.ring), func(i int) bool { return !at(i).id.less(*before) })
	}
	var out []entry
	for i := end - 1; i >= 0 && len(out) < n; i-- {
		en := at(i)
		if en.id.less(floor) {
			break
		}
		en.event.Targets = slices.Clone(en.event.Targets)
		out = append(out, en)
	}
	return out, nil
}
