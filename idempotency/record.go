package idempotency

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
)

// KeyPrefix starts every store key. Bump its version when the record format changes in a way
// the old readers would misread: old and new replicas then never read each other's records.
const KeyPrefix = "invitegw:v1:idem:"

// storeKey is the store key of a caller's Idempotency-Key. Hashing bounds the key's length
// whatever the caller identity, and keeps both out of the store. A key is printable ASCII,
// so the last NUL separates the two unambiguously.
func storeKey(caller, key string) string {
	sum := sha256.Sum256([]byte(caller + "\x00" + key))
	return KeyPrefix + hex.EncodeToString(sum[:])
}

// fingerprint identifies a request body: a repeat must send the same bytes.
func fingerprint(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// record is what the store holds under a key: a reservation while the first request runs
// (pending), then its response (done).
//
//	v1 pending <fingerprint> <token>\n
//	v1 done <fingerprint> <status> <content type>\n<body>
//
// The fingerprint is hex SHA-256 of the request body. The token is random, so that a
// reservation can be replaced or released only by the request that made it, never by one
// that outlived it and finds another request's reservation in its place. The body follows the
// line as it is, so a record is its response plus a line.
type record struct {
	fingerprint string
	token       string // pending only
	done        bool
	status      int    // done only
	contentType string // done only
	body        payload
}

// pending returns a new reservation for a request with fingerprint fp.
func pending(fp string) record {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return record{fingerprint: fp, token: hex.EncodeToString(b[:])}
}

func (r record) encode() []byte {
	if !r.done {
		return []byte("v1 pending " + r.fingerprint + " " + r.token + "\n")
	}
	// net/http writes a newline in a header value as a space; the line must not end early.
	ct := strings.NewReplacer("\r", " ", "\n", " ").Replace(r.contentType)
	head := "v1 done " + r.fingerprint + " " + strconv.Itoa(r.status) + " " + ct + "\n"
	out := make([]byte, 0, len(head)+len(r.body))
	return append(append(out, head...), r.body...)
}

var errRecord = errors.New("idempotency: unreadable record")

func decode(b []byte) (record, error) {
	head, body, ok := bytes.Cut(b, []byte("\n"))
	if !ok {
		return record{}, errRecord
	}
	f := strings.SplitN(string(head), " ", 5)
	if len(f) < 4 || f[0] != "v1" || !isHex(f[2], sha256.Size) {
		return record{}, errRecord
	}
	switch {
	case f[1] == "pending" && len(f) == 4 && isHex(f[3], 16) && len(body) == 0:
		return record{fingerprint: f[2], token: f[3]}, nil
	case f[1] == "done" && len(f) == 5:
		status, err := strconv.Atoi(f[3])
		if err != nil || status < 100 || status > 999 {
			return record{}, errRecord
		}
		return record{fingerprint: f[2], done: true, status: status, contentType: f[4], body: body}, nil
	}
	return record{}, errRecord
}

// isHex reports whether s is n bytes in lower-case hex, as encoding/hex writes them.
func isHex(s string, n int) bool {
	if len(s) != 2*n {
		return false
	}
	for _, c := range []byte(s) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Format prints the record without its body, under every verb: fmt cannot reach the
// payload's own methods through an unexported field.
func (r record) Format(f fmt.State, _ rune) {
	_, _ = fmt.Fprintf(f, "{fingerprint:%s token:%s done:%t status:%d contentType:%q body:%s}",
		r.fingerprint, r.token, r.done, r.status, r.contentType, redacted)
}

// LogValue logs the record without its body.
func (r record) LogValue() slog.Value {
	return slog.GroupValue(slog.String("fingerprint", r.fingerprint), slog.String("token", r.token),
		slog.Bool("done", r.done), slog.Int("status", r.status), slog.String("content_type", r.contentType),
		slog.String("body", redacted))
}

// redacted is what a payload shows instead of itself.
const redacted = "[redacted]"

// payload is a kept response body: it may hold personal data (invitees' addresses) of the
// caller who made the request, so every accidental way of showing it (fmt with any verb, on
// its own or inside a record; slog; encoding/json) prints "[redacted]". []byte(p) is the
// deliberate way to reach it. As with upstream/elastic's Token, %p is the one gap: fmt prints
// the pointer before asking the value, and go vet rejects %p on such operands.
type payload []byte

// String redacts the payload.
func (p payload) String() string { return redacted }

// GoString redacts the payload under %#v.
func (p payload) GoString() string { return redacted }

// Format redacts the payload under every verb and flag, which also covers a payload printed
// as a field of a struct.
func (p payload) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		_, _ = io.WriteString(f, `"`+redacted+`"`)
		return
	}
	_, _ = io.WriteString(f, redacted)
}

// LogValue redacts the payload in slog output.
func (p payload) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON redacts the payload.
func (p payload) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
