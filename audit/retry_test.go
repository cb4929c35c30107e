package audit

import (
	"testing"
	"time"
)

func TestRetryDelay(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		name    string
		lo, hi  time.Duration
		failure int
		want    time.Duration
	}{
		{"first failure waits the minimum", 50 * ms, 2000 * ms, 1, 50 * ms},
		{"then it doubles", 50 * ms, 2000 * ms, 2, 100 * ms},
		{"and doubles again", 50 * ms, 2000 * ms, 6, 1600 * ms},
		{"up to the maximum", 50 * ms, 2000 * ms, 7, 2000 * ms},
		{"and stays there", 50 * ms, 2000 * ms, 1_000_000, 2000 * ms},
		{"a minimum at the maximum", 10 * ms, 10 * ms, 3, 10 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := retryDelay(tt.lo, tt.hi, tt.failure); got != tt.want {
				t.Fatalf("retryDelay(%v, %v, %d) = %v, want %v", tt.lo, tt.hi, tt.failure, got, tt.want)
			}
		})
	}
}
