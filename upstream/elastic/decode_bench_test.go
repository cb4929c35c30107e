package elastic

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/invitegw/invitegw/upstream/upstreamtest"
)

// BenchmarkDecodeList decodes one organization's list of 50 invitations (the benchmark data
// set's size) with the client's decoder and, as the baseline, with encoding/json.
func BenchmarkDecodeList(b *testing.B) {
	created := time.Date(2026, 11, 1, 9, 30, 0, 0, time.UTC)
	var list organizationInvitations
	for i := range 50 {
		list.Invitations = append(list.Invitations, OrganizationInvitation{
			Token: Token(fmt.Sprintf("%032x", i)), Email: fmt.Sprintf("user%03d@example.com", i),
			CreatedAt: created, ExpiresAt: created.Add(7 * 24 * time.Hour),
			Organization:    Organization{ID: testOrg, Name: "Acme Search", NotificationsAllowedEmailDomains: []string{}},
			RoleAssignments: fullAssignments,
		})
	}
	body, err := json.Marshal(list)
	if err != nil {
		b.Fatal(err)
	}
	upstreamtest.BenchmarkDecoders(b, body, func(l *organizationInvitations) int { return len(l.Invitations) }, 50)
}
