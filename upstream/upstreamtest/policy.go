package upstreamtest

import (
	"time"

	"github.com/invitegw/invitegw/upstream"
)

// RetryAtOnce is a policy of two retries with millisecond backoffs, so a test counts a client's
// retries without waiting for them. A Retry-After is honoured up to 2s, as DefaultRetry does.
func RetryAtOnce() *upstream.Policy {
	return &upstream.Policy{Retry: &upstream.Retry{Attempts: 2, Base: time.Millisecond, Max: 2 * time.Millisecond, MaxWait: 2 * time.Second}}
}
