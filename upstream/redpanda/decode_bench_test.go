package redpanda

import (
	"encoding/json"
	"testing"

	"github.com/invitegw/invitegw/upstream/redpanda/redpandafake"
	"github.com/invitegw/invitegw/upstream/upstreamtest"
)

// BenchmarkDecodeListPage decodes one page of 25 invites (a page of the benchmark data set)
// with the client's decoder and, as the baseline, with encoding/json.
func BenchmarkDecodeListPage(b *testing.B) {
	page := listUserInvitesResponse{
		UserInvites:   seedInvites(redpandafake.New(redpandafake.Options{}), 25),
		NextPageToken: "cnBmYWtlMXwyMDI2LTEwLTI5VDIxOjAxOjMwWnxkNDAwMDAwOWQ5MGU2NzgwZTBiYw",
	}
	body, err := json.Marshal(page)
	if err != nil {
		b.Fatal(err)
	}
	upstreamtest.BenchmarkDecoders(b, body, func(p *listUserInvitesResponse) int { return len(p.UserInvites) }, 25, decodeOptions)
}
