package upstreamtest

import (
	"encoding/json"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/invitegw/invitegw/upstream"
)

// BenchmarkDecoders decodes body into a T with upstream.Decode (and opts, as the provider's
// client passes them) and, as the baseline in the same run, with encoding/json; items counts
// what was decoded, which must be want.
func BenchmarkDecoders[T any](b *testing.B, body []byte, items func(*T) int, want int, opts ...jsonv2.Options) {
	for _, d := range []struct {
		name   string
		decode func([]byte, any) error
	}{
		{"decoder=upstream.Decode", func(b []byte, v any) error { return upstream.Decode(b, v, opts...) }},
		{"decoder=encoding/json", json.Unmarshal},
	} {
		b.Run(d.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				var out T
				if err := d.decode(body, &out); err != nil || items(&out) != want {
					b.Fatalf("decoded %d items, want %d: %v", items(&out), want, err)
				}
			}
		})
	}
}
