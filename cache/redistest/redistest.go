// Package redistest runs a real redis-server for tests: a child process on a free loopback
// port, with no persistence, stopped when the test ends. It never touches a Redis the machine
// already runs. StartCluster and StartSentinel run the two replicated setups the gateway
// supports, a Redis Cluster and a Sentinel-managed primary, with crashes and failovers on
// demand.
//
// Without a redis-server binary the test is skipped, except in CI (CI=true), where that is a
// failure: CI must install it.
package redistest

import (
	"os"
	"strconv"
	"testing"

	"github.com/invitegw/invitegw/internal/loopback"

	"github.com/redis/go-redis/v9"
)

// Server is one redis-server child process.
type Server struct {
	t      testing.TB
	bin    string
	dir    string
	port   int
	proc   *os.Process
	exited chan error // receives once the running process has exited
}

// Start starts a redis-server and waits until it answers PING.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, bin: redisServer(t), dir: t.TempDir()}
	var err, lastErr error
	for range 5 { // a free port can be taken between finding it and binding it
		if s.port, err = loopback.FreePort(); err != nil {
			t.Fatal(err)
		}
		if lastErr = s.start(); lastErr == nil {
			t.Cleanup(s.Stop)
			return s
		}
	}
	t.Fatalf("redistest: %v", lastErr)
	return nil
}

// Addr is host:port.
func (s *Server) Addr() string { return addr(s.port) }

// URL is the redis:// URL of the server.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Client returns a plain client, closed at the end of the test, for inspecting the server.
func (s *Server) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr()})
	s.t.Cleanup(func() { _ = c.Close() })
	return c
}

// Stop kills the server, as a crash would. Safe to call twice.
func (s *Server) Stop() {
	if s.proc == nil {
		return
	}
	_ = s.proc.Kill()
	<-s.exited
	s.proc = nil
}

// Restart starts the server again on the same port (empty: it persists nothing).
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		s.t.Fatalf("redistest: restart: %v", err)
	}
}

func (s *Server) start() error {
	proc, exited, err := spawn(s.bin, s.port,
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir, "--daemonize", "no",
		"--loglevel", "warning", "--logfile", "")
	if err != nil {
		return err
	}
	s.proc, s.exited = proc, exited
	return nil
}
