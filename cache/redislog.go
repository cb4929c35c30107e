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
	every time.Duration
	now   func() time.Time

	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// NewRedisLog returns a logger for redis.SetLogger that writes at most one line per every.
func NewRedisLog(log *slog.Logger, every time.Duration) *RedisLog {
	return &RedisLog{log: log, every: every, now: time.Now}
}

// Printf implements go-redis's internal.Logging.
func (l *RedisLog) Printf(ctx context.Context, format string, v ...any) {
	now := l.now()
	l.mu.Lock()
	if !l.last.IsZero() && now.Sub(l.last) < l.every {
		l.suppressed++
		l.mu.Unlock()
		return
	}
	suppressed := l.suppressed
	l.last, l.suppressed = now, 0
	l.mu.Unlock()
	l.log.WarnContext(ctx, "redis client", "message", fmt.Sprintf(format, v...), "suppressed_since_last_log", suppressed)
}
