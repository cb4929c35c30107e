package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// phase is where this instance is between starting and stopping, for /readyz.
type phase struct {
	draining atomic.Bool
}

// closeWhileDraining answers with Connection: close once the drain has begun, so that keep-
// alive clients (a load balancer's pool too) open their next connection elsewhere instead of
// finding this one closed under them when the server stops.
func (l *phase) closeWhileDraining(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l.draining.Load() {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// serve serves on ln until ctx ends, then drains: /readyz turns 503 at once, everything is
// still served (with Connection: close) for drain, long enough for a load balancer's health
// check to notice; then the server stops accepting and waits up to timeout for the requests
// in flight. It returns nil after a clean stop.
func serve(ctx context.Context, srv *http.Server, ln net.Listener, l *phase, drain, timeout time.Duration, logger *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	l.draining.Store(true)
	logger.Info("draining: /readyz answers 503; still serving", "drain", drain.String(), "timeout", timeout.String())
	select {
	case err := <-errc:
		return err
	case <-time.After(drain):
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		_ = srv.Close()
		return fmt.Errorf("shutdown: requests still running after %v: %w", timeout, err)
	}
	logger.Info("stopped")
	return nil
}
