package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Log. A zero duration or size takes the default named in its comment.
type Options struct {
	// Store keeps the trail. Required.
	Store Store
	// Logger gets one line per event, at Info, with the message "audit". Default slog.Default().
	Logger *slog.Logger
	// Now sets Event.At when the caller left it zero. Default time.Now.
	Now func() time.Time
	// InlineTimeout bounds the store write Record makes before returning. Default 500ms: long
	// enough for a Redis that answers, short enough not to hold up a mutation for long when
	// it does not.
	InlineTimeout time.Duration
	// RetryTimeout bounds each background store write. Default 2s.
	RetryTimeout time.Duration
	// QueueSize bounds the events waiting for the store; past it the oldest is dropped (it is
	// still in the log), so a long outage costs a bounded amount of memory. The one event
	// being retried is not counted until its write fails. Default 10,000.
	QueueSize int
	// RetryMin and RetryMax shape the background retries: see retryDelay. Defaults 50ms and 2s.
	RetryMin, RetryMax time.Duration
}

// Log records events: in the log at once, and in the store as soon as it takes them. Safe for
// concurrent use; share one per process.
type Log struct {
	o Options

	mu         sync.Mutex
	queue      []Event       // waiting for the store, oldest first
	inFlight   int           // store writes under way: Records' own and the retrier's
	retrying   bool          // the retrier goroutine runs; while it does, new events join the queue
	failing    bool          // a write failed and the queue has not emptied since
	warnedFull bool          // the queue overflowed during this failure, and it was logged
	idle       chan struct{} // closed while nothing is queued or in flight
	retrierEnd chan struct{} // closed when the retrier last started has ended
	stopped    bool          // Close has ended its wait: no more queueing
	stop       chan struct{} // closed with stopped: ends the retrier's write and wait

	dropped, storeErrors atomic.Uint64
}

// New returns a Log writing to o.Store. It panics without a Store.
func New(o Options) *Log {
	if o.Store == nil {
		panic("audit: New: Options.Store is nil")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.InlineTimeout <= 0 {
		o.InlineTimeout = 500 * time.Millisecond
	}
	if o.RetryTimeout <= 0 {
		o.RetryTimeout = 2 * time.Second
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 10_000
	}
	if o.RetryMin <= 0 {
		o.RetryMin = 50 * time.Millisecond
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 2 * time.Second
	}
	o.RetryMax = max(o.RetryMax, o.RetryMin)
	idle := make(chan struct{})
	close(idle)
	return &Log{o: o, idle: idle, stop: make(chan struct{})}
}

// Record writes e (with At set to now when zero) as one log line, then to the store: once
// before returning, bounded by InlineTimeout and not by ctx's end (a client that hangs up
// after its mutation ran must not lose the event), so a List right after a mutation sees it.
// When that write fails, or while earlier events still wait for the store (this one must not
// overtake them, nor wait for a store known to fail), the event joins a queue that a
// background goroutine retries until the store takes it; see Options.QueueSize for what
// happens when the store stays down. Record never fails its caller.
//
// After Close has returned Record still logs, and tries the store once.
func (l *Log) Record(ctx context.Context, e Event) {
	if e.At.IsZero() {
		e.At = l.o.Now()
	}
	l.logEvent(ctx, e)

	l.mu.Lock()
	if (len(l.queue) > 0 || l.retrying) && !l.stopped {
		l.enqueue(e)
		l.mu.Unlock()
		return
	}
	l.inFlight++
	l.settle()
	l.mu.Unlock()

	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.o.InlineTimeout)
	_, err := l.o.Store.Append(wctx, e)
	cancel()

	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight--
	if err != nil {
		l.failed(err)
		if l.stopped {
			l.dropped.Add(1)
			l.o.Logger.Warn("audit event not stored: the audit log is closed", "operation", e.Operation, "request_id", e.RequestID)
		} else {
			l.enqueue(e)
		}
	}
	l.settle()
}

// logEvent writes e's log line. Each field is its own attribute, so a log pipeline can search
// the trail without the store.
func (l *Log) logEvent(ctx context.Context, e Event) {
	targets := make([]wireTarget, len(e.Targets))
	for i, t := range e.Targets {
		targets[i] = wireTarget(t)
	}
	l.o.Logger.LogAttrs(ctx, slog.LevelInfo, "audit",
		slog.Time("at", e.At),
		slog.String("actor_kind", string(e.Actor.Kind)),
		slog.String("actor_subject", e.Actor.Subject),
		slog.String("actor_issuer", e.Actor.Issuer),
		slog.String("operation", e.Operation),
		slog.String("outcome", string(e.Outcome)),
		slog.String("error_code", e.ErrorCode),
		slog.String("request_id", e.RequestID),
		slog.Any("targets", targets))
}

// enqueue adds e to the queue, dropping the oldest event when it is full, and starts the
// retrier unless it runs. l.mu is held.
func (l *Log) enqueue(e Event) {
	if len(l.queue) >= l.o.QueueSize {
		l.dropOldest()
	}
	l.queue = append(l.queue, e)
	if !l.retrying {
		l.retrying = true
		l.retrierEnd = make(chan struct{})
		go l.retry(l.retrierEnd)
	}
	l.settle()
}

// dropOldest drops the queue's first event. l.mu is held.
func (l *Log) dropOldest() {
	l.queue[0] = Event{}
	l.queue = l.queue[1:]
	l.dropped.Add(1)
	if !l.warnedFull {
		l.warnedFull = true
		l.o.Logger.Warn("audit queue full: dropping the oldest events not yet stored (they are in the log)", "queue_size", l.o.QueueSize)
	}
}

// failed counts a failed store write and logs the first of a failure. l.mu is held.
func (l *Log) failed(err error) {
	l.storeErrors.Add(1)
	if !l.failing {
		l.failing = true
		l.o.Logger.Warn("audit store failing: queueing events until it takes them", "error", err.Error())
	}
}

// retry writes the queue to the store, oldest first, until it is empty or Close gives up,
// waiting retryDelay after each failure. It closes end as it ends.
func (l *Log) retry(end chan<- struct{}) {
	// Close's stop cancels a write under way, so that Close need not wait for it.
	stopCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-l.stop:
			cancel()
		case <-stopCtx.Done():
		}
	}()
	failures := 0
	for {
		l.mu.Lock()
		if len(l.queue) == 0 || l.stopped {
			l.retrying = false
			close(end)
			l.settle()
			l.mu.Unlock()
			return
		}
		e := l.queue[0]
		l.queue[0] = Event{}
		l.queue = l.queue[1:]
		l.inFlight++
		l.mu.Unlock()

		ctx, cancelWrite := context.WithTimeout(stopCtx, l.o.RetryTimeout)
		_, err := l.o.Store.Append(ctx, e)
		cancelWrite()

		l.mu.Lock()
		l.inFlight--
		if err == nil {
			failures = 0
			if len(l.queue) == 0 && l.failing {
				l.failing, l.warnedFull = false, false
				l.o.Logger.Info("audit store recovered: every queued event is stored")
			}
			l.settle()
			l.mu.Unlock()
			continue
		}
		if !l.stopped { // a write Close cancelled is no store error
			l.failed(err)
		}
		failures++
		// Back to the front, where it was (for Close to count, once stopped); the oldest goes
		// when the queue is full.
		l.queue = append([]Event{e}, l.queue...)
		if len(l.queue) > l.o.QueueSize {
			l.dropOldest()
		}
		l.settle()
		l.mu.Unlock()

		t := time.NewTimer(retryDelay(l.o.RetryMin, l.o.RetryMax, failures))
		select {
		case <-t.C:
		case <-l.stop:
			t.Stop()
		}
	}
}

// retryDelay is the wait after the nth consecutive failed write (n >= 1): lo, doubling with
// each further failure, up to hi (by default 50ms, 100ms, 200ms ... 2s, 2s). No jitter: one
// retrier per process writes one event at a time, which cannot swamp a recovering Redis.
func retryDelay(lo, hi time.Duration, n int) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}

// settle keeps idle in step with the pending count. l.mu is held.
func (l *Log) settle() {
	select {
	case <-l.idle:
		if l.pending() > 0 {
			l.idle = make(chan struct{})
		}
	default:
		if l.pending() == 0 {
			close(l.idle)
		}
	}
}

func (l *Log) pending() int { return len(l.queue) + l.inFlight }

// Close waits until every recorded event is stored, or ctx ends; then it stops the retrier
// (cancelling its write: a Store must return promptly once its context ends), drops what is
// still queued, counting it in Dropped (each is in the log), and returns an error saying how
// many. Call it at shutdown, after the server has stopped taking requests and before the
// store's client is closed. Later Records still log, and try the store once without queueing.
func (l *Log) Close(ctx context.Context) error {
	l.mu.Lock()
	idle := l.idle
	l.mu.Unlock()
	var waitErr error
	select {
	case <-idle:
	case <-ctx.Done():
		waitErr = ctx.Err()
	}

	l.mu.Lock()
	if !l.stopped {
		l.stopped = true
		close(l.stop)
	}
	end := l.retrierEnd
	l.mu.Unlock()
	if end != nil {
		<-end
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.queue)
	clear(l.queue)
	l.queue = nil
	l.dropped.Add(uint64(n))
	l.settle()
	switch {
	case n == 0 && waitErr == nil:
		return nil
	case n == 0: // only Records' own writes were still under way: they go on, or count in Dropped
		return fmt.Errorf("audit: close: %w", waitErr)
	case waitErr == nil: // recorded while Close ran, and the store failed them
		waitErr = errors.New("the store failed them while Close ran")
	}
	l.o.Logger.Error("audit events not stored at shutdown (they are in the log)", "count", n)
	return fmt.Errorf("audit: close: %d queued events not stored: %w", n, waitErr)
}

// Pending is the number of events not yet stored: queued, or being written. For a gauge.
func (l *Log) Pending() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pending()
}

// Dropped counts events that never reached the store (they are in the log): the oldest of a
// full queue, those still queued when Close gave up, and those whose one write after Close
// failed.
func (l *Log) Dropped() uint64 { return l.dropped.Load() }

// StoreErrors counts failed store writes, each retry included.
func (l *Log) StoreErrors() uint64 { return l.storeErrors.Load() }
