package redistest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisServer finds the redis-server binary, or ends the test: skipped locally, failed in CI
// (CI=true), where a missing binary means the machine was set up wrong.
func redisServer(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redistest: redis-server not found; CI must install it (apt-get install -y redis-server)")
		}
		t.Skip("redistest: redis-server not installed")
	}
	return bin
}

// spawn starts bin with args (a redis-server or a sentinel that is to listen on port) and
// waits until it answers PING. It fails when the process exits first, e.g. because the port
// was taken meanwhile, or after 10 s. exited receives the process's end, once.
func spawn(bin string, port int, args ...string) (proc *os.Process, exited chan error, err error) {
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	exited = make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	c := redis.NewClient(&redis.Options{Addr: addr(port), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return cmd.Process, exited, nil
		}
		select {
		case err := <-exited:
			return nil, nil, fmt.Errorf("redis-server on port %d exited: %v", port, err)
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return nil, nil, fmt.Errorf("redis-server on port %d did not answer PING: %v", port, err)
		}
	}
}

func addr(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// dataArgs is the command line of a data node of a Cluster or a Sentinel setup in dir. It
// persists nothing, and its replicas never write what they receive to disk, so a node that
// restarts comes back empty rather than with another node's dump. A full sync starts at once
// (Redis waits 5 s for more replicas by default).
func dataArgs(dir string, port int) (args []string, log string) {
	log = filepath.Join(dir, fmt.Sprintf("redis-%d.log", port))
	return []string{
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--daemonize", "no",
		"--save", "", "--appendonly", "no", "--dir", dir, "--dbfilename", fmt.Sprintf("dump-%d.rdb", port),
		"--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0", "--repl-diskless-load", "swapdb",
		"--loglevel", "notice", "--logfile", log,
	}, log
}

// Ports for the nodes of a Cluster or a Sentinel setup. They lie below Linux's default
// ephemeral range (32768-60999), so no outgoing connection can take a node's port while the
// node is down for a restart, and a cluster node's bus port (port+10000) stays below it too.
// Client ports and bus ports never overlap, so setups started concurrently by other test
// binaries can collide only on a check-then-bind race, which a retry with another port cures.
const (
	minPort = 20000
	maxPort = 32768 - busOffset // exclusive
	// busOffset is where Redis Cluster puts a node's bus port, relative to its client port.
	busOffset = 10000
)

// ports hands out distinct free ports for one setup.
type ports map[int]bool

// next returns a port that is free now and not handed out before, with its bus port free too
// when bus is set.
func (p ports) next(bus bool) (int, error) {
	for range 200 {
		port := minPort + rand.IntN(maxPort-minPort)
		if p[port] || !free(port) || bus && !free(port+busOffset) {
			continue
		}
		p[port] = true
		return port, nil
	}
	return 0, errors.New("no free port found")
}

func free(port int) bool {
	ln, err := net.Listen("tcp", addr(port))
	if err != nil {
		return false
	}
	_ = ln.Close()
	return true
}

// Node is one redis-server process of a Cluster or a Sentinel setup: a data node or a
// sentinel. It keeps its port (and a cluster node its nodes.conf) across restarts. A Node is
// not safe for concurrent use: kill and restart it from the test's goroutine.
type Node struct {
	t    testing.TB
	bin  string
	args []string
	port int
	log  string // its log file

	proc   *os.Process // nil while it is not running
	exited chan error
	rc     *redis.Client // to this node while it runs

	// Cluster nodes only.
	cluster     *Cluster
	id          string      // its cluster node ID
	killedSlots []slotRange // the slots it served when it was last killed
}

// startNode starts a node on a port from ps, trying another port when the process exits
// early (its port or bus port was taken between the check and the bind). args builds the
// command line and names the log file for a port.
func startNode(t testing.TB, bin string, ps ports, bus bool, args func(port int) (cmdline []string, log string, err error)) (*Node, error) {
	var lastErr error
	for range 5 {
		port, err := ps.next(bus)
		if err != nil {
			return nil, err
		}
		n := &Node{t: t, bin: bin, port: port}
		if n.args, n.log, err = args(port); err != nil {
			return nil, err
		}
		if lastErr = n.start(); lastErr == nil {
			return n, nil
		}
	}
	return nil, lastErr
}

// Addr is host:port.
func (n *Node) Addr() string { return addr(n.port) }

// Kill kills the process with SIGKILL, as a crash would, and waits until it has exited. A
// cluster master first notes the slots it serves, for Cluster.WaitForFailover. Safe to call
// on a node that is not running.
func (n *Node) Kill() {
	if n.proc == nil {
		return
	}
	if n.cluster != nil {
		n.killedSlots = n.cluster.servedSlots(n)
	}
	n.stop()
}

// Restart starts the node again on the same port, with the same command line, killing it
// first if it runs: a cluster node with the same nodes.conf, so it rejoins as itself; a
// Sentinel data node with the role the sentinels last wrote to its config file. It waits for
// PING only: it persists no data, and rejoining is the setup's business (see
// Cluster.WaitHealthy).
func (n *Node) Restart() {
	n.t.Helper()
	n.Kill()
	if err := n.start(); err != nil {
		n.t.Fatalf("redistest: restart %s: %v", n.Addr(), err)
	}
}

func (n *Node) start() error {
	proc, exited, err := spawn(n.bin, n.port, n.args...)
	if err != nil {
		return err
	}
	n.proc, n.exited = proc, exited
	n.rc = redis.NewClient(&redis.Options{Addr: n.Addr(), MaxRetries: -1,
		DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second})
	return nil
}

func (n *Node) stop() {
	if n.proc == nil {
		return
	}
	_ = n.rc.Close()
	_ = n.proc.Kill()
	<-n.exited
	n.proc, n.rc = nil, nil
}

func (n *Node) running() bool { return n.proc != nil }

// logTail is the end of the node's log file, for a failed test's output.
func (n *Node) logTail(lines int) string {
	b, err := os.ReadFile(n.log)
	if err != nil {
		return err.Error()
	}
	b = bytes.TrimRight(b, "\n")
	for i, cut := len(b)-1, 0; i >= 0; i-- {
		if b[i] == '\n' {
			if cut++; cut == lines {
				return string(b[i+1:])
			}
		}
	}
	return string(b)
}

// stopAll kills nodes and, when the test failed, logs the end of each node's log.
func stopAll(t testing.TB, nodes []*Node) {
	for _, n := range nodes {
		n.stop()
	}
	if t.Failed() {
		for _, n := range nodes {
			t.Logf("redistest: log of %s:\n%s", n.Addr(), n.logTail(20))
		}
	}
}

// isMaster is nil when n answers ROLE as a master.
func (n *Node) isMaster(ctx context.Context) error {
	role, err := n.rc.Do(ctx, "ROLE").Slice()
	if err != nil {
		return fmt.Errorf("ROLE on %s: %w", n.Addr(), err)
	}
	if len(role) == 0 || role[0] != "master" {
		return fmt.Errorf("%s answers ROLE %v", n.Addr(), role)
	}
	return nil
}

// poll runs check every 50 ms until it returns nil or ctx ends; then it returns check's last
// error with ctx's.
func poll(ctx context.Context, check func(context.Context) error) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		err := check(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w; last: %v", ctx.Err(), err)
		case <-tick.C:
		}
	}
}
