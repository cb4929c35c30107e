package idempotency

// StoreKey is storeKey, for tests that set records up in a store.
var StoreKey = storeKey

// PendingRecord is a new reservation for a request with body.
func PendingRecord(body string) []byte { return pending(fingerprint([]byte(body))).encode() }
