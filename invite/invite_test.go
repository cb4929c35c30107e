package invite

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

func TestStatus(t *testing.T) {
	tests := []struct {
		name string
		inv  Invitation
		want Status
	}{
		{"no expiry is pending", Invitation{}, StatusPending},
		{"future expiry is pending", Invitation{ExpiresAt: ptr(t0.Add(time.Second))}, StatusPending},
		{"expiry at now is expired", Invitation{ExpiresAt: ptr(t0)}, StatusExpired},
		{"past expiry is expired", Invitation{ExpiresAt: ptr(t0.Add(-time.Hour))}, StatusExpired},
		{"provider flag is expired", Invitation{ExpiredFlag: true, ExpiresAt: ptr(t0.Add(time.Hour))}, StatusExpired},
		{"accepted wins over expiry", Invitation{AcceptedAt: ptr(t0.Add(-time.Hour)), ExpiresAt: ptr(t0.Add(-time.Minute))}, StatusAccepted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.inv.StatusAt(t0); got != tt.want {
				t.Errorf("Status = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParseID(t *testing.T) {
	tests := []struct {
		in   string
		want ID
		bad  bool
	}{
		{in: "redpanda:abc123", want: ID{Provider: Redpanda, Key: "abc123"}},
		{in: "elastic:1004:0123456789abcdef", want: ID{Provider: Elastic, OrgID: "1004", Key: "0123456789abcdef"}},
		{in: "frontier:8e4d-org:inv-1", want: ID{Provider: Frontier, OrgID: "8e4d-org", Key: "inv-1"}},
		{in: "frontier:org:a:b", want: ID{Provider: Frontier, OrgID: "org", Key: "a:b"}},
		{in: "", bad: true},
		{in: "redpanda", bad: true},
		{in: "redpanda:", bad: true},
		{in: "redpanda:a/b", bad: true},
		{in: "github:1", bad: true},
		{in: "elastic:1004", bad: true},
		{in: "elastic:1004:", bad: true},
		{in: ":x:y", bad: true},
		{in: "elastic::0123456789abcdef", bad: true},
		{in: "elastic:1004:0123456789ABCDEF", bad: true},
		{in: "elastic:1004:0123", bad: true},
		{in: "elastic:1004:the-raw-secret-token-value", bad: true},
		{in: "frontier:org:inv?x=1", bad: true},
		{in: "redpanda:" + string(make([]byte, 600)), bad: true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%.40q", tt.in), func(t *testing.T) {
			got, err := ParseID(tt.in)
			if tt.bad {
				var e *Error
				if !errors.As(err, &e) || e.Code != CodeBadUserInput {
					t.Fatalf("ParseID(%q) error = %v, want BAD_USER_INPUT", tt.in, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseID(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
			if got.String() != tt.in {
				t.Errorf("String() = %q, want round trip to %q", got.String(), tt.in)
			}
		})
	}
}

func TestElasticIDHidesToken(t *testing.T) {
	const token = "s3cr3t-invitation-token"
	id := ElasticID("1004", token)
	// sha256("s3cr3t-invitation-token"), first 8 bytes.
	if want := "elastic:1004:" + TokenDigest(token); id != want || len(TokenDigest(token)) != 16 {
		t.Fatalf("ElasticID = %q, want %q", id, want)
	}
	if TokenDigest(token) == TokenDigest(token+"x") {
		t.Fatal("digest does not depend on the token")
	}
	parsed, err := ParseID(id)
	if err != nil || parsed.OrgID != "1004" {
		t.Fatalf("ParseID(%q) = %+v, %v", id, parsed, err)
	}
}

func TestParseOrgID(t *testing.T) {
	tests := []struct {
		in   string
		want Source
		bad  bool
	}{
		{in: "elastic:1004", want: Source{Provider: Elastic, OrgID: "1004"}},
		{in: "redpanda:org1", want: Source{Provider: Redpanda, OrgID: "org1"}},
		{in: "frontier:8e4d", want: Source{Provider: Frontier, OrgID: "8e4d"}},
		{in: "elastic", bad: true},
		{in: "elastic:", bad: true},
		{in: "elastic:1:2", bad: true},
		{in: "nope:1", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseOrgID(tt.in)
			if tt.bad != (err != nil) || got != tt.want {
				t.Fatalf("ParseOrgID(%q) = %+v, %v", tt.in, got, err)
			}
		})
	}
}

// sample is invitations with ties on createdAt, already in sort order after Sort.
func sample() []*Invitation {
	invs := []*Invitation{
		{ID: "redpanda:c", CreatedAt: t0.Add(-3 * time.Hour)},
		{ID: "elastic:1:aaaaaaaaaaaaaaaa", CreatedAt: t0.Add(-1 * time.Hour)},
		{ID: "redpanda:b", CreatedAt: t0.Add(-2 * time.Hour)},
		{ID: "frontier:o:x", CreatedAt: t0.Add(-2 * time.Hour)},
		{ID: "redpanda:a", CreatedAt: t0.Add(-2 * time.Hour)},
	}
	Sort(invs)
	return invs
}

func ids(invs []*Invitation) []string {
	out := []string{}
	for _, inv := range invs {
		out = append(out, inv.ID)
	}
	return out
}

func TestSort(t *testing.T) {
	want := []string{"elastic:1:aaaaaaaaaaaaaaaa", "frontier:o:x", "redpanda:a", "redpanda:b", "redpanda:c"}
	invs := sample()
	var got []string
	for _, inv := range invs {
		got = append(got, inv.ID)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("order = %v, want %v", got, want)
	}
}

func TestPaginateWalksEveryPageOnce(t *testing.T) {
	invs := sample()
	var (
		seen  []string
		after *string
		pages int
	)
	for {
		conn, err := PageOf(invs, 2, after)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if conn.TotalCount != 5 {
			t.Fatalf("TotalCount = %d, want 5", conn.TotalCount)
		}
		if conn.PageInfo.HasPreviousPage != (pages > 1) {
			t.Fatalf("page %d: HasPreviousPage = %v", pages, conn.PageInfo.HasPreviousPage)
		}
		seen = append(seen, ids(conn.Nodes())...)
		if !conn.PageInfo.HasNextPage {
			break
		}
		after = conn.PageInfo.EndCursor
	}
	want := []string{"elastic:1:aaaaaaaaaaaaaaaa", "frontier:o:x", "redpanda:a", "redpanda:b", "redpanda:c"}
	if pages != 3 || !reflect.DeepEqual(seen, want) {
		t.Fatalf("pages = %d, seen = %v; want 3 pages of %v", pages, seen, want)
	}
}

func TestPaginateCursorSurvivesRemoval(t *testing.T) {
	invs := sample()
	first, _ := PageOf(invs, 2, nil)
	// The last item of page one disappears before page two is asked for.
	var rest []*Invitation
	for _, inv := range invs {
		if inv.ID != "frontier:o:x" {
			rest = append(rest, inv)
		}
	}
	next, err := PageOf(rest, 2, first.PageInfo.EndCursor)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(next.Nodes()), []string{"redpanda:a", "redpanda:b"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("page two = %v, want %v", got, want)
	}
}

func TestPaginateRejects(t *testing.T) {
	tests := []struct {
		name  string
		first int
		after *string
	}{
		{"first zero", 0, nil},
		{"first negative", -1, nil},
		{"first over 100", 101, nil},
		{"cursor not base64", 10, ptr("!!!")},
		{"cursor without prefix", 10, ptr("eDE")},
		{"cursor with bad time", 10, ptr(EncodeCursor(&Invitation{ID: "x"})[:4] + "AAAA")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := PageOf(sample(), tt.first, tt.after)
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeBadUserInput {
				t.Fatalf("err = %v, want BAD_USER_INPUT", err)
			}
		})
	}
}

// TestPaginateZeroAndFarTimes: invitations without a creation time (the zero time) or far in
// the future must page like any other; UnixNano-based cursors looped forever on them.
func TestPaginateZeroAndFarTimes(t *testing.T) {
	invs := []*Invitation{{ID: "redpanda:a"}, {ID: "redpanda:b"}, {ID: "redpanda:c", CreatedAt: time.Date(9000, 1, 1, 0, 0, 0, 0, time.UTC)}}
	Sort(invs)
	var seen []string
	var after *string
	for range 5 {
		conn, err := PageOf(invs, 1, after)
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, ids(conn.Nodes())...)
		if !conn.PageInfo.HasNextPage {
			break
		}
		after = conn.PageInfo.EndCursor
	}
	if want := []string{"redpanda:c", "redpanda:a", "redpanda:b"}; !reflect.DeepEqual(seen, want) {
		t.Fatalf("pages = %v, want %v", seen, want)
	}
}

func TestPaginateEmpty(t *testing.T) {
	conn, err := PageOf(nil, 50, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := &Connection[*Invitation]{Edges: []Edge[*Invitation]{}, TotalCount: 0}
	if !reflect.DeepEqual(conn, want) {
		t.Fatalf("got %+v, want %+v", conn, want)
	}
}

func TestFilterMatch(t *testing.T) {
	rp := Invitation{ID: "redpanda:a", Provider: Redpanda, Email: "Ada@Example.com", ExpiresAt: ptr(t0.Add(time.Hour))}
	ec := Invitation{ID: "elastic:1:x", Provider: Elastic, OrgID: "1", Email: "bob@example.com", ExpiresAt: ptr(t0.Add(-time.Hour))}
	tests := []struct {
		name string
		f    Filter
		inv  Invitation
		want bool
	}{
		{"empty filter matches", Filter{}, rp, true},
		{"provider in list", Filter{Providers: []Provider{Elastic, Redpanda}}, rp, true},
		{"provider not in list", Filter{Providers: []Provider{Elastic}}, rp, false},
		{"email trimmed and case-insensitive", Filter{Email: "  ada@EXAMPLE.com "}, rp, true},
		{"email is exact, not substring", Filter{Email: "ada@example.co"}, rp, false},
		{"status pending", Filter{Statuses: []Status{StatusPending}}, rp, true},
		{"status expired", Filter{Statuses: []Status{StatusExpired}}, ec, true},
		{"status not matching", Filter{Statuses: []Status{StatusAccepted}}, ec, false},
		{"expires before later time", Filter{ExpiresBefore: ptr(t0.Add(2 * time.Hour))}, rp, true},
		{"expires before is strict", Filter{ExpiresBefore: ptr(t0.Add(time.Hour))}, rp, false},
		{"expires before without expiry", Filter{ExpiresBefore: ptr(t0)}, Invitation{Provider: Redpanda}, false},
		{"organization matches", Filter{Organization: &Source{Elastic, "1"}}, ec, true},
		{"other organization", Filter{Organization: &Source{Elastic, "2"}}, ec, false},
		{"redpanda organization via token org", Filter{Organization: &Source{Redpanda, "rp-org"}}, rp, true},
		{"redpanda other organization", Filter{Organization: &Source{Redpanda, "nope"}}, rp, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.Match(&tt.inv, t0, "rp-org"); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFilterWants(t *testing.T) {
	f := Filter{Organization: &Source{Elastic, "1"}}
	for src, want := range map[Source]bool{
		{Elastic, "1"}: true, {Elastic, "2"}: false, {Redpanda, ""}: false, {Frontier, "1"}: false,
	} {
		if got := f.Wants(src); got != want {
			t.Errorf("Wants(%v) = %v, want %v", src, got, want)
		}
	}
	rp := Filter{Organization: &Source{Redpanda, "any"}}
	if !rp.Wants(Source{Provider: Redpanda}) {
		t.Error("a Redpanda organization filter must still fetch Redpanda's list")
	}
}

func TestUpdateValidate(t *testing.T) {
	tests := []struct {
		name string
		u    Update
		ok   bool
		mask []string
	}{
		{"empty", Update{}, false, nil},
		{"past expiry", Update{ExpiresAt: ptr(t0.Add(-time.Second))}, false, []string{"expiresAt"}},
		{"future expiry", Update{ExpiresAt: ptr(t0.Add(time.Hour))}, true, []string{"expiresAt"}},
		{"clear bindings", Update{SetRoleBindings: true}, true, []string{"roleBindings"}},
		{"both", Update{ExpiresAt: ptr(t0.Add(time.Hour)), SetRoleBindings: true,
			RoleBindings: []RoleBinding{{RoleName: "Admin", Scope: &Scope{ScopeOrganization, "o"}}}}, true, []string{"expiresAt", "roleBindings"}},
		{"binding without name", Update{SetRoleBindings: true, RoleBindings: []RoleBinding{{Scope: &Scope{ScopeOrganization, "o"}}}}, false, []string{"roleBindings"}},
		{"binding without resource", Update{SetRoleBindings: true, RoleBindings: []RoleBinding{{RoleName: "Admin", Scope: &Scope{ScopeOrganization, ""}}}}, false, []string{"roleBindings"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.u.Validate(t0)
			if (err == nil) != tt.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, tt.ok)
			}
			if got := tt.u.Mask(); !reflect.DeepEqual(got, tt.mask) {
				t.Errorf("Mask = %v, want %v", got, tt.mask)
			}
		})
	}
}

func TestNextStatusChange(t *testing.T) {
	hour := t0.Add(time.Hour)
	tests := []struct {
		name string
		invs []Invitation
		want time.Time
	}{
		{"none", nil, time.Time{}},
		{"the earliest pending expiry", []Invitation{{ExpiresAt: ptr(t0.Add(2 * time.Hour))}, {ExpiresAt: &hour}}, hour},
		{"accepted, expired, flagged or without expiry change nothing", []Invitation{
			{ExpiresAt: &hour, AcceptedAt: &t0}, {ExpiresAt: ptr(t0.Add(-time.Minute))},
			{ExpiresAt: &hour, ExpiredFlag: true}, {}}, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NextStatusChange(tt.invs, t0); !got.Equal(tt.want) {
				t.Fatalf("NextStatusChange = %v, want %v", got, tt.want)
			}
		})
	}
}
