// Package cache puts a cache-aside layer between invitegw's loaders and its upstream clients:
// a narrow byte Store (Redis, or in memory for -demo and for running without Redis) and a Cache
// that reads a whole batch of keys at once, fetches only the misses (one upstream call per key
// however many callers miss it together), writes them back in one round trip, answers with a
// just-expired copy while one refresh runs in the background (stale-while-revalidate, one
// refresh per key among the instances sharing Redis), serves an expired copy when the upstream
// fails, and fails open when the store misbehaves.
//
// # Key scheme
//
//	invitegw:v2:<kind>:{<tenant>:<id>}      the value
//	invitegw:v2:<kind>:{<tenant>:<id>}:v    its stamp (Stamper)
//	invitegw:v2:<kind>:{<tenant>:<id>}:lock its refresh lock (Locker)
//
// kind is what is cached (inv, org, roles, groups); tenant is a hash of the provider, its
// base URL and the credential that fetched the data (Tenant), so deployments or credentials
// sharing one Redis never see each other's entries and no credential is ever in a key; id names
// the item within the tenant (e.g. elastic:1004). The braces are a Redis Cluster hash tag: an
// entry's keys are in one slot, so on one node, written and replicated in the order they are
// sent (Stamper), and one script can act on them (Locker). Bump v2 (Prefix) when the stored
// format changes: old entries are then simply never read again and expire, and old and new instances
// sharing a Redis during a rolling upgrade never read each other's entries (upgrade_test.go).
// JSON decoding is lenient, so a changed shape under an unchanged version would be read as
// wrong data: the bump is not optional. (v1 had no stamp in its values.)
//
// # Value format
//
//	v2 <stored at, unix ms> <fresh until, unix ms> <stamp>\n<JSON>
//
// The stamp is random and new with every write (newStamp): an instance that holds a key's
// entry decoded under the stamp it reads knows it holds what is stored. A value that does not
// parse is a miss and is overwritten by the next fetch.
package cache

import (
	"context"
	"fmt"
	"time"
)

// Store is the byte-level storage behind a Cache.
type Store interface {
	// MGet returns one value per key, nil for a miss, in key order.
	MGet(ctx context.Context, keys []string) ([][]byte, error)
	// SetMany writes entries in one round trip.
	SetMany(ctx context.Context, entries []Entry) error
	// Del removes keys.
	Del(ctx context.Context, keys ...string) error
}

// Locker is a Store shared by several instances that can hold a short lock per key, so that
// one instance refreshes an entry while the others keep serving their copy (see
// Options.StaleWhileRevalidate). A lock is a key holding its holder's random token: a holder
// whose lock has lapsed or been deleted (a write invalidated the entry) can neither write
// under it nor release another's. A Store without locks is one instance's own, where the
// Cache's bookkeeping alone keeps refreshes to one per key.
type Locker interface {
	// Lock takes lock for ttl under token; false when someone else holds it.
	Lock(ctx context.Context, lock, token string, ttl time.Duration) (bool, error)
	// SetLocked writes e only while lock is held under token; false when it is not.
	SetLocked(ctx context.Context, lock, token string, e Entry) (bool, error)
	// Unlock deletes lock if it is held under token.
	Unlock(ctx context.Context, lock, token string) error
}

// Stamper is a Store read over the network (Redis) that also keeps each entry's stamp (see
// the value format) under a small key of its own, stampKey, so that an instance holding the
// entry decoded can learn whether it is still the stored one without transferring it: a Load
// reads the stamps of its keys in one MGET, then only the values it does not hold under their
// stamps. Stores without it are read in full, which in process costs nothing.
//
// SetMany (and SetLocked) write an entry's stamp before its value, with the same TTL (so the
// stamp also expires first), and Cache.Invalidate deletes the stamp with its value, first
// where the two are separate commands; Key's hash tag keeps both on one node of a Cluster, so
// a replica promoted in a failover has them in that order too. A reader thus finds a stamp
// only from the start of its write to the start of the next write or delete of the entry, and
// the entry it holds decoded under that stamp is the last one whose write has begun. While a
// stamp is ahead of its value (between the two writes, or, when the value's write failed, until
// the entry is written again or expires), the value read carries an older stamp: the reader
// goes by the stamp in the value and serves what is stored, as it would without stamps.
type Stamper interface {
	// Stamps returns the stamp of each key's entry, nil where there is none, in key order.
	Stamps(ctx context.Context, keys []string) ([][]byte, error)
}

// stampKey is where a Stamper keeps key's stamp: in key's hash slot (see Key).
func stampKey(key string) string { return key + ":v" }

// Entry is one value to store, kept for TTL.
type Entry struct {
	Key   string
	Value []byte
	TTL   time.Duration
	// Stamp, when set, is the stamp in Value's header; a Stamper keeps it apart too.
	Stamp string
}

// Noop stores nothing: every read is a miss. It turns caching off while keeping the Cache's
// concurrent fan-out and in-process deduplication of misses.
type Noop struct{}

// MGet implements Store.
func (Noop) MGet(_ context.Context, keys []string) ([][]byte, error) {
	return make([][]byte, len(keys)), nil
}

// SetMany implements Store.
func (Noop) SetMany(context.Context, []Entry) error { return nil }

// Del implements Store.
func (Noop) Del(context.Context, ...string) error { return nil }

// KeyErrors is a store's error for some keys of a call while the others succeeded: a Cluster
// with one node down fails only the keys in that node's slots. Failed indexes the keys (MGet,
// Del) or entries (SetMany) passed in. A node that fails is not the store that fails: the
// Cache keeps using the store for the other keys.
type KeyErrors struct {
	Failed []int
	Err    error // the first failure
}

func (e *KeyErrors) Error() string {
	return fmt.Sprintf("%d keys failed: %v", len(e.Failed), e.Err)
}

func (e *KeyErrors) Unwrap() error { return e.Err }
