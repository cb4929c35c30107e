package cache

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// RedisLog is go-redis's internal logger (redis.SetLogger) writing through slog: one warning
// per interval at most, saying how many lines it held back, instead of go-redis's plain-text
// lines on stderr (several per second while a node is down, in the middle of a JSON log).
type RedisLog struct {
	log   *slog.Logger
	now   func() time.Time
	limit logLimit
}

// NewRedisLog returns a logger for redis.SetLogger that writes at most one line per every.
func NewRedisLog(log *slog.Logger, every time.Duration) *RedisLog {
	return &RedisLog{log: log, now: time.Now, limit: logLimit{every: every}}
}

// Printf implements go-redis's internal.Logging.
func (l *RedisLog) Printf(ctx context.Context, format string, v ...any) {
	if suppressed, ok := l.limit.allow(l.now()); ok {
		l.log.WarnContext(ctx, "redis client", "message", fmt.Sprintf(format, v...), "suppressed_since_last_log", suppressed)
	}
}

// logLimit lets one log line through per interval and counts those it holds back, so a
// failing dependency cannot flood the log.
type logLimit struct {
	every time.Duration

	mu         sync.Mutex
	last       time.Time // of the last line let through; zero before the first
	suppressed int
}

// allow reports whether a line may be logged at now, and how many were held back since the
// last one.
func (l *logLimit) allow(now time.Time) (suppressed int, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.Sub(l.last) < l.every {
		l.suppressed++
		return 0, false
	}
	suppressed = l.suppressed
	l.last, l.suppressed = now, 0
	return suppressed, true
}
