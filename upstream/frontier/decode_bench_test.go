package frontier

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/invitegw/invitegw/upstream/upstreamtest"
)

type invitationList struct {
	Invitations []Invitation `json:"invitations"`
}

// BenchmarkDecodeList decodes one organization's 30 invitations (the benchmark data set's
// size), metadata included, with the client's decoder and, as the baseline, with encoding/json.
func BenchmarkDecodeList(b *testing.B) {
	var list invitationList
	for i := range 30 {
		group, role := fmt.Sprintf("c203dd6e-23a8-48d0-b96e-%012d", i), fmt.Sprintf("7f206b2e-fc38-400e-b824-%012d", i)
		list.Invitations = append(list.Invitations, Invitation{
			ID: fmt.Sprintf("9f6374f3-1bae-42b9-96df-%012d", i), UserID: fmt.Sprintf("user%03d@example.com", i),
			OrgID: testOrg, GroupIDs: IDs{group}, RoleIDs: IDs{role}, CreatedAt: created, ExpiresAt: expires,
			Metadata: map[string]any{"group_ids": []string{group}, "role_ids": []string{role}},
		})
	}
	body, err := json.Marshal(list)
	if err != nil {
		b.Fatal(err)
	}
	upstreamtest.BenchmarkDecoders(b, body, func(l *invitationList) int { return len(l.Invitations) }, 30)
}
