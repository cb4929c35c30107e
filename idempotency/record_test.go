package idempotency

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
)

func TestRecordRoundTrip(t *testing.T) {
	fp := fingerprint([]byte(`{"query":"mutation { x }"}`))
	for _, r := range []record{
		pending(fp),
		{fingerprint: fp, done: true, status: 200, contentType: "application/graphql-response+json; charset=utf-8",
			body: payload(`{"data":{"x":"a b\nc"}}` + "\n")},
		{fingerprint: fp, done: true, status: 204},
		{fingerprint: fp, done: true, status: 200, contentType: "a b", body: payload("\n\n")},
	} {
		got, err := decode(r.encode())
		if err != nil {
			t.Fatalf("decode(%q): %v", r.encode(), err)
		}
		if len(got.body) == 0 {
			got.body = nil // an empty body is none
		}
		if !reflect.DeepEqual(got, r) {
			t.Fatalf("decode(%q) = %#v, want %#v", r.encode(), got, r)
		}
	}
}

// A newline in a content type cannot end the record's line early.
func TestRecordContentTypeNewline(t *testing.T) {
	fp := fingerprint(nil)
	r := record{fingerprint: fp, done: true, status: 200, contentType: "text/plain\r\nX-Evil: 1", body: payload("b")}
	got, err := decode(r.encode())
	if err != nil {
		t.Fatal(err)
	}
	if got.contentType != "text/plain  X-Evil: 1" || string(got.body) != "b" {
		t.Fatalf("got content type %q and body %q", got.contentType, []byte(got.body))
	}
}

func TestRecordUnreadable(t *testing.T) {
	fp := fingerprint(nil)
	token := strings.Repeat("0", 32)
	for _, v := range []string{
		"",
		"v1 done " + fp + " 200 application/json", // no newline
		"v2 done " + fp + " 200 application/json\n{}",
		"v1 done " + fp[:63] + " 200 application/json\n{}",
		"v1 done " + strings.ToUpper(fp) + " 200 application/json\n{}",
		"v1 done " + fp + " OK application/json\n{}",
		"v1 done " + fp + " 99 application/json\n{}",
		"v1 done " + fp + " 200\n{}",
		"v1 pending " + fp + "\n",
		"v1 pending " + fp + " " + token[:31] + "\n",
		"v1 pending " + fp + " " + token + "\nbody",
		"v1 pending " + fp + " " + token + " more\n",
		"v1 kept " + fp + " 200 application/json\n{}",
	} {
		if r, err := decode([]byte(v)); err == nil {
			t.Errorf("decode(%q) = %#v, want an error", v, r)
		}
	}
}

func TestPendingRecordsDiffer(t *testing.T) {
	fp := fingerprint(nil)
	if a, b := pending(fp), pending(fp); bytes.Equal(a.encode(), b.encode()) {
		t.Fatalf("two reservations of one request encode alike: %q", a.encode())
	}
}

func TestStoreKey(t *testing.T) {
	for _, c := range []struct{ a, b [2]string }{
		{[2]string{"JWT\x00iss\x00sub", "k"}, [2]string{"JWT\x00iss", "sub k"}},
		{[2]string{"a", "k"}, [2]string{"b", "k"}},
		{[2]string{"a", "k"}, [2]string{"a", "k2"}},
	} {
		if storeKey(c.a[0], c.a[1]) == storeKey(c.b[0], c.b[1]) {
			t.Errorf("%q and %q share a store key", c.a, c.b)
		}
	}
}

// A kept response body never shows in logs or printed values.
func TestPayloadIsRedacted(t *testing.T) {
	const secret = "invitee@example.com"
	r := record{fingerprint: fingerprint(nil), done: true, status: 200, body: payload(secret)}
	var out bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		fmt.Fprintf(&out, verb+" "+verb+"\n", r, r.body)
	}
	fmt.Fprintln(&out, r.body.String(), r.body.GoString())
	slog.New(slog.NewJSONHandler(&out, nil)).Info("x", "body", r.body, "record", r)
	slog.New(slog.NewTextHandler(&out, nil)).Info("x", "body", r.body, "record", r)
	b, err := json.Marshal(struct{ Body payload }{r.body})
	if err != nil {
		t.Fatal(err)
	}
	out.Write(b)
	if strings.Contains(out.String(), secret) || strings.Contains(out.String(), fmt.Sprintf("%x", secret)) {
		t.Fatalf("the body shows:\n%s", out.String())
	}
	if !strings.Contains(out.String(), redacted) {
		t.Fatalf("nothing redacted:\n%s", out.String())
	}
}
