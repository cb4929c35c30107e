package elastic

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/invitegw/invitegw/upstream"
)

// Elastic's rate-limit headers, on every answer (FACTS.md 2.6): the calls left in the current
// window, and the window's length.
const (
	remainingHeader = "X-Ratelimit-Remaining"
	intervalHeader  = "X-Ratelimit-Interval"
)

// rateLimitReset is the Caller's RateLimitReset for Elastic: when an answer says no calls are
// left in the window, the whole window's length. Elastic does not say when the window started,
// so this may hold calls longer than needed, never shorter. The interval's format is not
// documented: a Go duration ("60s", "1m0s") or whole seconds ("60") are read, and anything
// else holds nothing (the next call's 429 and its Retry-After then do).
func rateLimitReset(h http.Header) time.Duration {
	remaining, err := strconv.Atoi(strings.TrimSpace(h.Get(remainingHeader)))
	if err != nil || remaining != 0 {
		return 0
	}
	v := strings.TrimSpace(h.Get(intervalHeader))
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return upstream.Seconds(n)
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0
	}
	return min(d, upstream.MaxRetryAfter)
}
