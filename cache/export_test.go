package cache

// OnRefreshed makes c call f as each background refresh ends, so that a test can wait for
// one without sleeping. Call it before c loads anything.
func OnRefreshed(c *Cache, f func(key string)) { c.refreshed = f }

// LockKey is key's refresh lock in a shared store.
func LockKey(key string) string { return lockKey(key) }

// RevalidateRetry is how long a key whose refresh did not store a value is not tried again.
const RevalidateRetry = revalidateRetry

// StampKey is where a Stamper keeps key's stamp.
func StampKey(key string) string { return stampKey(key) }

// SetDecodedLimits bounds c's memo of decoded values (call it before c loads anything).
func SetDecodedLimits(c *Cache, maxEntries, maxBytes int) { c.memo = newMemo(maxEntries, maxBytes) }

// Decoded is how many decoded values c holds, and the bytes of their stored JSON.
func Decoded(c *Cache) (entries, bytes int) { return c.memo.held() }
