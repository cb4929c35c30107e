package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
)

// MinKeyLength is the shortest API key accepted: long enough that guessing one is hopeless.
const MinKeyLength = 16

var (
	namePattern  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	scopePattern = regexp.MustCompile(`^[A-Za-z0-9._:-]+$`)
)

// APIKey is a static client credential. It redacts its Key under fmt, slog and
// encoding/json, so that logging a key (or a slice or struct holding one) cannot leak it.
type APIKey struct {
	// Name identifies the caller: Identity.Subject, and what logs and metrics show.
	Name string
	// Key is the secret the client sends.
	Key string
	// Scopes the key grants. nil grants every scope; an empty, non-nil slice grants none.
	Scopes []string
}

// redacted is what a secret shows instead of itself.
const redacted = "[redacted]"

// shownKey is an APIKey as it may be printed.
type shownKey struct {
	Name   string
	Key    string
	Scopes []string
}

func (k APIKey) shown() shownKey { return shownKey{k.Name, redacted, k.Scopes} }

// String shows the key's name and scopes, not the secret.
func (k APIKey) String() string { return fmt.Sprint(k.shown()) }

// GoString redacts the secret under %#v.
func (k APIKey) GoString() string { return fmt.Sprintf("%#v", k.shown()) }

// Format redacts the secret under every verb and flag, also when the key is printed as an
// element of a slice or a field of a struct.
func (k APIKey) Format(f fmt.State, verb rune) {
	_, _ = io.WriteString(f, fmt.Sprintf(fmt.FormatString(f, verb), k.shown()))
}

// LogValue shows the name and scopes in slog output.
func (k APIKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", k.Name), slog.Any("scopes", k.Scopes))
}

// MarshalJSON redacts the secret.
func (k APIKey) MarshalJSON() ([]byte, error) {
	return json.Marshal(k.shown())
}

// ParseAPIKeys reads the entries of INVITEGW_API_KEYS (already split on commas). Each entry
// is whitespace-separated words:
//
//	<key>                       a bare key, named key-<position>, with every scope
//	<name> <key>                a named key with every scope
//	<name> <key> <scope> ...    a named key with the listed scopes only
//
// Errors name the entry by its position (from 1) and never show its words, which could be
// a key written in the wrong place.
func ParseAPIKeys(entries []string) ([]APIKey, error) {
	var keys []APIKey
	for i, e := range entries {
		words := strings.Fields(e)
		var k APIKey
		switch len(words) {
		case 0:
			return nil, fmt.Errorf("auth: API key entry %d is empty", i+1)
		case 1:
			k = APIKey{Name: "key-" + strconv.Itoa(i+1), Key: words[0]}
		default:
			k = APIKey{Name: words[0], Key: words[1]}
			if len(words) > 2 {
				k.Scopes = words[2:]
			}
		}
		keys = append(keys, k)
	}
	if err := checkKeys(keys); err != nil {
		return nil, err
	}
	return keys, nil
}

// checkKeys rejects keys that cannot work or would be ambiguous, naming each as the entry at
// its position (from 1). Messages never contain a key, nor a word that could be one.
func checkKeys(keys []APIKey) error {
	var errs []error
	names := map[string]int{}
	digests := map[[32]byte]int{}
	for i, k := range keys {
		pos := i + 1
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("auth: API key entry %d: "+format, append([]any{pos}, args...)...))
		}
		if !namePattern.MatchString(k.Name) {
			bad("the name must be 1 to 64 letters, digits, '.', '_' or '-'")
		} else if first, dup := names[k.Name]; dup {
			bad("has the name of entry %d", first)
		} else {
			names[k.Name] = pos
		}
		d := sha256.Sum256([]byte(k.Key))
		switch {
		case len(k.Key) < MinKeyLength:
			bad("the key must be at least %d characters", MinKeyLength)
		case strings.ContainsFunc(k.Key, func(r rune) bool { return r <= ' ' || r == 0x7f }):
			bad("the key must not contain spaces or control characters")
		case digests[d] != 0:
			bad("has the key of entry %d", digests[d])
		default:
			digests[d] = pos
		}
		for j, s := range k.Scopes {
			if !scopePattern.MatchString(s) {
				bad("scope %d must be letters, digits, '.', '_', ':' or '-' (like invitations:read)", j+1)
			}
		}
	}
	return errors.Join(errs...)
}

// keyring matches presented keys against the configured ones in constant time.
type keyring struct {
	digests    [][32]byte
	identities []Identity
}

func newKeyring(keys []APIKey) *keyring {
	kr := &keyring{}
	for _, k := range keys {
		id := Identity{Kind: KindAPIKey, Subject: k.Name, All: k.Scopes == nil}
		if !id.All {
			id.Scopes = normalizeScopes(k.Scopes)
		}
		kr.digests = append(kr.digests, sha256.Sum256([]byte(k.Key)))
		kr.identities = append(kr.identities, id)
	}
	return kr
}

// match returns the identity of the key presented. It compares SHA-256 digests, so neither
// a key's length nor its prefix shows in the timing, and it compares with every key whatever
// matched, so the position of the match does not show either.
func (kr *keyring) match(presented string) (Identity, bool) {
	got := sha256.Sum256([]byte(presented))
	found := -1
	for i := range kr.digests {
		eq := subtle.ConstantTimeCompare(got[:], kr.digests[i][:])
		found = subtle.ConstantTimeSelect(eq, i, found)
	}
	if found < 0 {
		return Identity{}, false
	}
	return kr.identities[found], true
}
