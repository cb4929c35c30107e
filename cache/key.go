package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Prefix starts every key invitegw writes; the version is part of it (see the package doc).
const Prefix = "invitegw:v2:"

// Key builds a store key: invitegw:v2:<kind>:{<tenant>:<id>}. The hash tag in braces puts
// the entry's stamp and lock keys in its slot (see the package doc).
func Key(kind, tenant, id string) string {
	return Prefix + kind + ":{" + tenant + ":" + id + "}"
}

// Tenant hashes what identifies whose data a key holds (provider, base URL, credential ID) into
// a short opaque string. The credential itself never reaches a key.
func Tenant(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:10])
}
