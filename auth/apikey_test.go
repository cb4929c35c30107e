package auth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
)

func TestParseAPIKeys(t *testing.T) {
	tests := []struct {
		name    string
		entries []string
		want    []APIKey
	}{
		{"none", nil, nil},
		{"bare keys, named by position", []string{"0123456789abcdef", "fedcba9876543210"}, []APIKey{
			{Name: "key-1", Key: "0123456789abcdef"}, {Name: "key-2", Key: "fedcba9876543210"},
		}},
		{"named keys with and without scopes", []string{
			"console k-abc123abc123abc123 invitations:read invitations:write",
			" auditor\tk-def456def456def456  invitations:audit ",
			"ops k-0000000000000000",
			"legacykey-1234567890",
		}, []APIKey{
			{Name: "console", Key: "k-abc123abc123abc123", Scopes: []string{"invitations:read", "invitations:write"}},
			{Name: "auditor", Key: "k-def456def456def456", Scopes: []string{"invitations:audit"}},
			{Name: "ops", Key: "k-0000000000000000"},
			{Name: "key-4", Key: "legacykey-1234567890"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAPIKeys(tt.entries)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tt.want) // redacted: compare by eye with care
			}
		})
	}
}

func TestParseAPIKeysErrors(t *testing.T) {
	const secret = "s3cr3t-s3cr3t-s3cr3t"
	tests := []struct {
		name    string
		entries []string
		want    string
	}{
		{"short bare key", []string{"0123456789abcdef", "short"}, "auth: API key entry 2: the key must be at least 16 characters"},
		{"short named key", []string{"console s3cr3t"}, "auth: API key entry 1: the key must be at least 16 characters"},
		{"empty entry", []string{"  "}, "auth: API key entry 1 is empty"},
		{"bad name", []string{"con/sole " + secret}, "auth: API key entry 1: the name must be 1 to 64 letters"},
		{"name too long", []string{strings.Repeat("n", 65) + " " + secret}, "auth: API key entry 1: the name must be"},
		{"duplicate name", []string{"ops " + secret, "ops 0123456789abcdef"}, "auth: API key entry 2: has the name of entry 1"},
		{"bare name clash", []string{secret, "key-1 0123456789abcdef"}, "auth: API key entry 2: has the name of entry 1"},
		{"duplicate key", []string{"a " + secret, "b " + secret}, "auth: API key entry 2: has the key of entry 1"},
		{"bad scope", []string{"console " + secret + " invitations:write invitations/*"}, "auth: API key entry 1: scope 2 must be letters"},
		{"key and name swapped", []string{secret + " console"}, "auth: API key entry 1: the key must be at least 16 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseAPIKeys(tt.entries)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			for _, e := range tt.entries {
				for _, w := range strings.Fields(e) {
					if len(w) >= 6 && strings.Contains(err.Error(), w) {
						t.Fatalf("the error shows a word of an entry, %q: %v", w, err)
					}
				}
			}
		})
	}
}

// TestAPIKeyRedacted: printing, logging or encoding a key, alone or inside something else,
// never shows the secret.
func TestAPIKeyRedacted(t *testing.T) {
	const secret = "k-do-not-show-me-0123"
	k := APIKey{Name: "console", Key: secret, Scopes: []string{"invitations:read"}}
	holder := struct {
		Keys []APIKey
		One  APIKey
	}{[]APIKey{k}, k}
	var shown []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%10.3v"} {
		shown = append(shown, fmt.Sprintf(verb, k), fmt.Sprintf(verb, holder), fmt.Sprintf(verb, []APIKey{k}))
	}
	shown = append(shown, k.String(), fmt.Sprint(&k))
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("keys", "key", k, "keys", []APIKey{k})
	slog.New(slog.NewTextHandler(&buf, nil)).Info("keys", "key", k, "holder", holder)
	shown = append(shown, buf.String())
	b, err := json.Marshal(holder)
	if err != nil {
		t.Fatal(err)
	}
	shown = append(shown, string(b))
	for _, s := range shown {
		if strings.Contains(s, secret) || strings.Contains(s, fmt.Sprintf("%x", secret)) {
			t.Errorf("shows the key: %s", s)
		}
	}
	if got, want := fmt.Sprintf("%+v", k), "{Name:console Key:[redacted] Scopes:[invitations:read]}"; got != want {
		t.Errorf("%%+v = %s, want %s", got, want)
	}
	if !strings.Contains(buf.String(), "console") {
		t.Errorf("the log does not name the key: %s", buf.String())
	}
}

// TestKeyringMatch: each key matches itself only, wherever it is in the ring; a prefix, an
// extension or another case of a key does not match.
func TestKeyringMatch(t *testing.T) {
	keys := []APIKey{
		{Name: "a", Key: "aaaaaaaaaaaaaaaa"},
		{Name: "b", Key: "bbbbbbbbbbbbbbbb", Scopes: []string{"y", "x", "x"}},
		{Name: "c", Key: "cccccccccccccccc", Scopes: []string{}},
	}
	kr := newKeyring(keys)
	want := []Identity{
		{Kind: KindAPIKey, Subject: "a", All: true},
		{Kind: KindAPIKey, Subject: "b", Scopes: []string{"x", "y"}},
		{Kind: KindAPIKey, Subject: "c"},
	}
	for i, k := range keys {
		got, ok := kr.match(k.Key)
		if !ok || !reflect.DeepEqual(got, want[i]) {
			t.Errorf("key %d: got %#v, %v; want %#v", i, got, ok, want[i])
		}
	}
	for _, miss := range []string{"", "aaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaaa", "AAAAAAAAAAAAAAAA", "bbbbbbbbbbbbbbbb "} {
		if got, ok := kr.match(miss); ok {
			t.Errorf("%q matched %#v", miss, got)
		}
	}
}
