package invite_test

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/invitegw/invitegw/invite"
)

// year0 is 0000-01-01T00:00:00Z in Unix seconds.
var year0 = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Unix()

// years10k is the length of the years 0000 to 9999, in seconds.
var years10k = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC).Unix() - year0

// createdAt maps any sec and nsec onto the times an upstream can send: RFC 3339 has four-digit
// years, and a missing timestamp decodes as the zero time (year 1). sec counts seconds from
// 0000-01-01 and wraps every 10,000 years; nsec wraps every second.
func createdAt(sec, nsec int64) time.Time {
	sec %= years10k
	if sec < 0 {
		sec += years10k
	}
	nsec %= 1e9
	if nsec < 0 {
		nsec += 1e9
	}
	return time.Unix(year0+sec, nsec).UTC()
}

// maxMessage bounds a client-facing parse error: the input is quoted cut short.
const maxMessage = 200

// checkBadInput fails unless err is the client-safe BAD_USER_INPUT error the parsers promise.
func checkBadInput(t *testing.T, in string, err error) {
	t.Helper()
	var e *invite.Error
	if !errors.As(err, &e) || e.Code != invite.CodeBadUserInput {
		t.Fatalf("parse %q: error %v (%T), want BAD_USER_INPUT", in, err, err)
	}
	if !utf8.ValidString(e.Message) || len(e.Message) > maxMessage {
		t.Fatalf("parse %q: message %q is not short valid UTF-8", in, e.Message)
	}
}

func FuzzParseID(f *testing.F) {
	for _, s := range []string{
		"redpanda:abc123", "redpanda:cnl3b0f7a2gq9s8d1e0g",
		"elastic:1004:0123456789abcdef", "elastic:1234567890:" + invite.TokenDigest("c4f3-secret"),
		"frontier:b9c4f4e2-9b9a-4c1a-8f1a-2b9b9b9b9b9b:k9c4f4e2-9b9a-4c1a-8f1a-2b9b9b9b9b9b",
		"frontier:acme:corp:inv-1",
		"", "redpanda", "redpanda:", "redpanda:a/b", "redpanda:a:b", "github:1", "elastic:1004", "elastic:1004:",
		":x:y", "elastic::0123456789abcdef", "elastic:1004:0123456789ABCDEF", "elastic:1004:0123",
		"elastic:1004:the-raw-secret-token-value", "frontier:org:inv?x=1", "frontier:org#:inv",
		"REDPANDA:abc", "redpanda:\xff\xfe", "\xffprovider:x", strings.Repeat("x", 600),
		"redpanda:" + strings.Repeat("a", 503), "redpanda:" + strings.Repeat("a", 504),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := invite.ParseID(s)
		if err != nil {
			checkBadInput(t, s, err)
			return
		}
		if !id.Provider.IsValid() || id.Key == "" || (id.Provider == invite.Redpanda) != (id.OrgID == "") {
			t.Fatalf("ParseID(%q) = %+v: incomplete", s, id)
		}
		if got := id.String(); got != s {
			t.Fatalf("ParseID(%q).String() = %q", s, got)
		}
		again, err := invite.ParseID(id.String())
		if err != nil || again != id {
			t.Fatalf("ParseID(%q) = %+v, %v; first parse %+v", id.String(), again, err, id)
		}
		if src := id.Source(); src.Provider != id.Provider || src.OrgID != id.OrgID {
			t.Fatalf("Source() = %+v for %+v", src, id)
		}
	})
}

func FuzzParseOrgID(f *testing.F) {
	for _, s := range []string{
		"elastic:1004", "redpanda:org1", "frontier:8e4d", "redpanda:cnl3b0f7a2gq9s8d1e0g",
		"frontier:b9c4f4e2-9b9a-4c1a-8f1a-2b9b9b9b9b9b", "elastic:1234567890",
		"", "elastic", "elastic:", "elastic:1:2", "nope:1", ":1", "frontier:a/b", "frontier:a?b", "frontier:a#b",
		"ELASTIC:1", "elastic:\xff", strings.Repeat("y", 513), "elastic:" + strings.Repeat("1", 504),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		src, err := invite.ParseOrgID(s)
		if err != nil {
			checkBadInput(t, s, err)
			return
		}
		if !src.Provider.IsValid() || src.OrgID == "" {
			t.Fatalf("ParseOrgID(%q) = %+v: incomplete", s, src)
		}
		if got := src.String(); got != s {
			t.Fatalf("ParseOrgID(%q).String() = %q", s, got)
		}
		if got := invite.OrgID(src.Provider, src.OrgID); got != s {
			t.Fatalf("OrgID(%+v) = %q, want %q", src, got, s)
		}
		again, err := invite.ParseOrgID(src.String())
		if err != nil || again != src {
			t.Fatalf("ParseOrgID(%q) = %+v, %v; first parse %+v", src.String(), again, err, src)
		}
	})
}

// FuzzDecodeCursor has two halves. Any string given as a cursor decodes or is BAD_USER_INPUT,
// and Paginate agrees with DecodeCursor about it. And the cursor of any invitation names its
// position: the page after it starts with exactly the invitations that sort after it. The
// invitation's ID is id, and it was created sec seconds and nsec nanoseconds into the years an
// upstream can send (see createdAt).
func FuzzDecodeCursor(f *testing.F) {
	created := time.Date(2025, 5, 4, 9, 42, 0, 123456789, time.UTC)
	good := invite.EncodeCursor(&invite.Invitation{ID: "redpanda:abc", CreatedAt: created})
	since := func(t time.Time) int64 { return t.Unix() - year0 }
	for _, c := range []struct {
		cursor, id string
		sec, nsec  int64
	}{
		{good, "redpanda:abc", since(created), int64(created.Nanosecond())},
		{"", "elastic:1004:0123456789abcdef", since(time.Unix(0, 0)), 0},
		{"djF8MTIzfA", "frontier:org:inv-1", since(time.Unix(-1, 0)), 999_999_999}, // "v1|123|": no id
		{"djF8MTIzfGE", "a|b", since(time.Unix(1_700_000_000, 0)), 0},              // "v1|123|a"
		{"djF8eHx5", "redpanda:x", since(time.Unix(1_700_000_000, 0)), 1},          // "v1|x|y": not a number
		{"djJ8MTIzfGE", "redpanda:x", since(time.Unix(1_700_000_000, 0)), 1},       // "v2|123|a"
		{"djF8MTIzfGE=", "redpanda:x", since(time.Unix(1_700_000_000, 0)), 1},      // padded
		{"!!!", "redpanda:" + strings.Repeat("i", 500), since(time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)), 0},
		{strings.Repeat("A", 1025), "x", since(time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC)), 0}, // too long
	} {
		f.Add(c.cursor, c.id, c.sec, c.nsec)
	}
	f.Fuzz(func(t *testing.T, cursor, id string, sec, nsec int64) {
		invs := []*invite.Invitation{
			{ID: "redpanda:a", CreatedAt: created.Add(time.Hour)},
			{ID: "redpanda:b", CreatedAt: created},
			{ID: "redpanda:c", CreatedAt: created},
			{ID: "redpanda:d", CreatedAt: created.Add(-time.Hour)},
		}
		_, decErr := invite.DecodeCursor(cursor)
		if decErr != nil {
			checkBadInput(t, cursor, decErr)
		}
		conn, err := invite.PageOf(invs, 2, &cursor)
		if (err == nil) != (decErr == nil) {
			t.Fatalf("DecodeCursor(%q) error %v, but Paginate error %v", cursor, decErr, err)
		}
		if err == nil && (len(conn.Edges) > 2 || conn.TotalCount != len(invs)) {
			t.Fatalf("Paginate after %q: %d edges, total %d", cursor, len(conn.Edges), conn.TotalCount)
		}

		// IDs are never empty, and the parsers refuse longer ones than ParseID's limit.
		if id == "" || len(id) > 512 {
			return
		}
		at := createdAt(sec, nsec)
		inv := invite.Invitation{ID: id, CreatedAt: at}
		c := invite.EncodeCursor(&inv)
		if _, err := invite.DecodeCursor(c); err != nil {
			t.Fatalf("DecodeCursor(EncodeCursor(%q at %v)) = %v", id, at, err)
		}
		// Neighbours on every side of inv in the sort order (newest first, then ID).
		list := []*invite.Invitation{
			&inv,
			{ID: id, CreatedAt: at.Add(time.Nanosecond)},
			{ID: id, CreatedAt: at.Add(-time.Nanosecond)},
			{ID: id[:len(id)-1], CreatedAt: at},
			{ID: id + "\x00", CreatedAt: at},
			{ID: "~", CreatedAt: at.Add(time.Second)},
			{ID: "~", CreatedAt: at.Add(-time.Second)},
		}
		invite.Sort(list)
		pos := -1
		for i := range list {
			if list[i].ID == id && list[i].CreatedAt.Equal(at) {
				pos = i
			}
		}
		conn, err = invite.PageOf(list, invite.MaxFirst, &c)
		if err != nil {
			t.Fatalf("Paginate after the cursor of %q at %v: %v", id, at, err)
		}
		var got, want []string
		for _, e := range conn.Edges {
			got = append(got, e.Node.ID+" @ "+e.Node.CreatedAt.Format(time.RFC3339Nano))
		}
		for _, w := range list[pos+1:] {
			want = append(want, w.ID+" @ "+w.CreatedAt.Format(time.RFC3339Nano))
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("page after the cursor of %q at %v:\n got %q\nwant %q", id, at, got, want)
		}
	})
}
