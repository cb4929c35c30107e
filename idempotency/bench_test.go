package idempotency_test

import (
	"net/http"
	"testing"

	"github.com/invitegw/invitegw/idempotency"
)

// BenchmarkGuard is what the guard adds to a request: reading and parsing the body, and for a
// repeat the store round trip that replaces the upstream call.
func BenchmarkGuard(b *testing.B) {
	for _, c := range []struct {
		name string
		body string
		want response
	}{
		{"repeated mutation", mutation, ran(0, true)},
		{"query with a key", query, ran(0, false)},
	} {
		b.Run(c.name, func(b *testing.B) {
			u := &upstream{serve: func(_ int64, w http.ResponseWriter, _ *http.Request) { answer(0)(w) }}
			g, err := idempotency.New(idempotency.Options{Store: idempotency.NewMemory(nil), Caller: headerCaller})
			if err != nil {
				b.Fatal(err)
			}
			h := g.Middleware(u)
			do(h, post("c", "k", c.body)) // a mutation's first run, kept
			b.ReportAllocs()
			for b.Loop() {
				if got := do(h, post("c", "k", c.body)); got != c.want {
					b.Fatalf("got %+v, want %+v", got, c.want)
				}
			}
		})
	}
}
