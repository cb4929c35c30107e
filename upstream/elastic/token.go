package elastic

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/invitegw/invitegw/invite"
)

// redacted is what a Token shows instead of itself.
const redacted = "[redacted]"

// Token is an invitation token: whoever holds it can accept the invitation. It is a named type so
// that every accidental way of showing it (fmt with any verb, on its own or inside a struct; slog;
// encoding/json) prints "[redacted]". Only Digest may leave this package; string(t) is the one
// deliberate way to reach the secret.
//
// One hole remains, because fmt handles %p before any method: %p of a Token (or of a struct
// holding one, by value) prints the string. go vet rejects %p on such operands.
//
// Because MarshalJSON redacts, wire values do not survive a JSON round trip: cache converted
// invite.Invitation values, never OrganizationInvitation.
type Token string

// Digest is the token's short SHA-256 digest (invite.TokenDigest), safe to put in IDs and logs.
func (t Token) Digest() string { return invite.TokenDigest(string(t)) }

// String redacts the token.
func (t Token) String() string { return redacted }

// GoString redacts the token under %#v.
func (t Token) GoString() string { return redacted }

// Format redacts the token under every verb and flag (%v %+v %#v %s %q %x ...), which also
// covers a Token printed as a field of a struct.
func (t Token) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		_, _ = io.WriteString(f, `"`+redacted+`"`)
		return
	}
	_, _ = io.WriteString(f, redacted)
}

// LogValue redacts the token in slog output.
func (t Token) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON redacts the token, so a wire value logged as JSON cannot leak it. Decoding is the
// default string decoding.
func (t Token) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
