package elastic

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/invitegw/invitegw/invite"
	"github.com/invitegw/invitegw/upstream/elastic/elasticfake"
)

// decodedInvitation fetches one invitation through the fake, so the token took the real path.
func decodedInvitation(t *testing.T) OrganizationInvitation {
	t.Helper()
	fake, c := newFake(t, Options{})
	fake.AddInvitation(testOrg, elasticfake.Invitation{
		Token: testToken, Email: "ada@example.com", CreatedAt: created, ExpiresAt: expires,
		RoleAssignments: json.RawMessage(fullRoles),
	})
	invs, err := c.ListInvitations(context.Background(), testOrg)
	if err != nil {
		t.Fatal(err)
	}
	if len(invs) != 1 || string(invs[0].Token) != testToken {
		t.Fatalf("token did not decode: %d invitations", len(invs))
	}
	return invs[0]
}

// assertNoToken fails if s holds the token in plain or hex form.
func assertNoToken(t *testing.T, what, s string) {
	t.Helper()
	for _, secret := range []string{testToken, hex.EncodeToString([]byte(testToken)), strings.ToUpper(hex.EncodeToString([]byte(testToken)))} {
		if strings.Contains(s, secret) {
			t.Errorf("%s leaks the token: %s", what, s)
		}
	}
}

func TestTokenNeverPrinted(t *testing.T) {
	inv := decodedInvitation(t)
	invs := []OrganizationInvitation{inv}
	// vet rejects string verbs on a struct in a constant format; careless code can still reach
	// them through a variable one.
	stringVerbs := "%s %q %x %X %d %t"
	badVerbs := "%d %t %e" // without Format, fmt prints a bad verb's operand raw
	tests := []struct {
		name string
		out  string
	}{
		{"fmt of the invitation", fmt.Sprintf("%v %+v %#v", inv, inv, inv)},
		{"fmt of a pointer and a slice", fmt.Sprintf("%v %+v %#v %v %+v %#v", &inv, &inv, &inv, invs, invs, invs)},
		{"fmt string verbs of the invitation", fmt.Sprintf(stringVerbs, inv, inv, inv, inv, inv, inv)},
		{"fmt of the token", fmt.Sprintf("%v %+v %#v %s %q %x %X %10s %-q", inv.Token, inv.Token, inv.Token,
			inv.Token, inv.Token, inv.Token, inv.Token, inv.Token, inv.Token)},
		{"fmt bad verbs of the token", fmt.Sprintf(badVerbs, inv.Token, inv.Token, inv.Token)},
		{"print functions", fmt.Sprint(inv, inv.Token) + fmt.Sprintln(inv, inv.Token)},
		{"String and GoString", inv.Token.String() + inv.Token.GoString()},
		{"json of the invitation", mustJSON(t, inv)},
		{"slog text", logWith(slog.NewTextHandler, inv)},
		{"slog json", logWith(slog.NewJSONHandler, inv)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertNoToken(t, tt.name, tt.out)
			if !strings.Contains(tt.out, "[redacted]") {
				t.Errorf("%s shows no redaction marker: %s", tt.name, tt.out)
			}
		})
	}
}

func TestTokenFormats(t *testing.T) {
	tok := Token(testToken)
	tests := []struct {
		format string
		want   string
	}{
		{"%v", "[redacted]"},
		{"%s", "[redacted]"},
		{"%q", `"[redacted]"`},
		{"%#v", "[redacted]"},
		{"%+v", "[redacted]"},
		{"%x", "[redacted]"},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			if got := fmt.Sprintf(tt.format, tok); got != tt.want {
				t.Errorf("Sprintf(%q) = %q, want %q", tt.format, got, tt.want)
			}
		})
	}
	if got, want := tok.Digest(), invite.TokenDigest(testToken); got != want {
		t.Errorf("Digest = %q, want %q", got, want)
	}
}

func TestConvertedInvitationHasNoToken(t *testing.T) {
	inv := decodedInvitation(t)
	got := ToInvitation(testOrg, &inv)
	assertNoToken(t, "ToInvitation", fmt.Sprintf("%#v %+v", got, got))
	assertNoToken(t, "ToInvitation json", mustJSON(t, got))
	if want := "elastic:" + testOrg + ":" + inv.Token.Digest(); got.ID != want {
		t.Errorf("ID = %q, want %q", got.ID, want)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func logWith[H slog.Handler](newHandler func(io.Writer, *slog.HandlerOptions) H, inv OrganizationInvitation) string {
	var buf bytes.Buffer
	slog.New(newHandler(&buf, nil)).Info("invitation", "inv", inv, "token", inv.Token)
	return buf.String()
}
