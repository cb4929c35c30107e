package invite

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

// randomInvitations makes n invitations with many equal creation times (ties order by ID).
func randomInvitations(r *rand.Rand, n int) []*Invitation {
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	out := make([]*Invitation, n)
	for i := range out {
		out[i] = &Invitation{ID: fmt.Sprintf("redpanda:%06d", r.IntN(1_000_000)), Provider: Redpanda,
			CreatedAt: base.Add(time.Duration(r.IntN(n/3+1)) * time.Second)}
	}
	return out
}

// TestPageOfIsPaginate: on unsorted input PageOf cuts exactly the page PageSorted cuts from the
// sorted input, for every page size and for cursors inside, between and outside the data.
func TestPageOfIsPaginate(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 7, 50, 333} {
		invs := randomInvitations(r, n)
		sorted := slices.Clone(invs)
		Sort(sorted)
		cursors := []*string{nil}
		for range 20 {
			if n > 0 {
				c := EncodeCursor(sorted[r.IntN(n)])
				cursors = append(cursors, &c)
			}
			// A position no invitation holds (a removed one's).
			c := EncodeCursor(&Invitation{ID: fmt.Sprintf("redpanda:%06d", r.IntN(1_000_000)),
				CreatedAt: time.Date(2026, 11, 1, 0, 0, r.IntN(n/3+2), 0, time.UTC)})
			cursors = append(cursors, &c)
		}
		for _, first := range []int{1, 2, 10, 50, 100} {
			for _, after := range cursors {
				want, err1 := PageSorted(sorted, first, after)
				shuffled := slices.Clone(invs)
				r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
				got, err2 := PageOf(shuffled, first, after)
				if err1 != nil || err2 != nil {
					t.Fatalf("errors %v %v", err1, err2)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("n=%d first=%d: PageOf differs from Paginate:\n got %+v\nwant %+v", n, first, got.PageInfo, want.PageInfo)
				}
			}
		}
	}
	if _, err := PageOf(nil, 0, nil); err == nil {
		t.Fatal("first 0 accepted")
	}
	bad := "not-a-cursor"
	if _, err := PageOf(nil, 10, &bad); err == nil {
		t.Fatal("a bad cursor accepted")
	}
}

// BenchmarkPage compares cutting the first page of n matches by sorting them all (the old
// way) with PageOf, in one run.
func BenchmarkPage(b *testing.B) {
	for _, n := range []int{600, 6_000, 60_000} {
		invs := randomInvitations(rand.New(rand.NewPCG(3, 4)), n)
		b.Run(fmt.Sprintf("n=%d/sort", n), func(b *testing.B) {
			buf := make([]*Invitation, n)
			for b.Loop() {
				copy(buf, invs)
				Sort(buf)
				if _, err := PageSorted(buf, 50, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("n=%d/select", n), func(b *testing.B) {
			buf := make([]*Invitation, n)
			for b.Loop() {
				copy(buf, invs)
				if _, err := PageOf(buf, 50, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
