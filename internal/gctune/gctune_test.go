package gctune

import (
	"errors"
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"testing"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

func TestApply(t *testing.T) {
	if v := os.Getenv("GOMEMLIMIT"); v != "" {
		t.Skipf("GOMEMLIMIT=%s is set for this test process: automemlimit leaves it", v)
	}
	prevGC, prevLimit := debug.SetGCPercent(100), debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetGCPercent(prevGC); debug.SetMemoryLimit(prevLimit) })
	logger := slog.New(slog.DiscardHandler)
	const gib = 1 << 30
	var limit uint64 = gib
	ninetyPercent := int64(float64(limit) * 0.9)
	tests := []struct {
		name      string
		gogc      string
		limit     memlimit.Provider
		wantGC    int // what the collector runs with after Apply
		wantLimit int64
	}{
		{"defaults in a 1 GiB container", "", memlimit.Limit(gib), DefaultGOGC, ninetyPercent},
		{"GOGC set", "50", memlimit.Limit(gib), 100, ninetyPercent},
		{"no memory limit", "", func() (uint64, error) { return 0, memlimit.ErrNoLimit }, DefaultGOGC, math.MaxInt64},
		{"limit unreadable", "", func() (uint64, error) { return 0, errors.New("no cgroup") }, DefaultGOGC, math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			debug.SetGCPercent(100)
			debug.SetMemoryLimit(math.MaxInt64)
			env := map[string]string{"GOGC": tt.gogc}
			Apply(func(k string) string { return env[k] }, tt.limit, logger)
			if got := debug.SetGCPercent(100); got != tt.wantGC {
				t.Errorf("GOGC %d, want %d", got, tt.wantGC)
			}
			if got := debug.SetMemoryLimit(-1); got != tt.wantLimit {
				t.Errorf("memory limit %d, want %d", got, tt.wantLimit)
			}
		})
	}
}
