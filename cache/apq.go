package cache

import (
	"context"
	"time"
)

// APQTTL is how long an automatic persisted query is kept after its last registration.
const APQTTL = 24 * time.Hour

// APQ stores automatic persisted queries (gqlgen's extension.AutomaticPersistedQuery) in the
// Cache's store, so hashes registered with one instance work on every instance and after a
// restart. Query texts are not tenant data: one namespace serves all.
type APQ struct{ c *Cache }

// APQ returns the persisted-query store of c.
func (c *Cache) APQ() *APQ { return &APQ{c: c} }

func apqKey(hash string) string { return Prefix + "apq:" + hash }

// Get implements graphql.Cache. A store failure is a miss: the client then resends the query.
func (a *APQ) Get(ctx context.Context, hash string) (string, bool) {
	vals := a.c.mget(ctx, []string{apqKey(hash)})
	if vals[0] == nil {
		return "", false
	}
	return string(vals[0]), true
}

// Add implements graphql.Cache.
func (a *APQ) Add(ctx context.Context, hash, query string) {
	a.c.set(ctx, "apq write", []Entry{{Key: apqKey(hash), Value: []byte(query), TTL: APQTTL}})
}
