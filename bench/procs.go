package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/invitegw/invitegw/internal/loopback"

	"github.com/redis/go-redis/v9"
)

// supervisor owns every process the benchmark starts and stops them all on the way out,
// whether the run ends, fails or is interrupted.
type supervisor struct {
	mu       sync.Mutex
	children []*child
}

// child is one process the benchmark started.
type child struct {
	name string
	cmd  *exec.Cmd
	out  *tail
	keep io.Closer     // the child's stdin, when it must stay open as long as we run
	done chan struct{} // closed once the process has exited
	err  error         // its exit status, once done
}

// start starts cmd and registers it. The child is killed if the benchmark dies without
// cleaning up (Pdeathsig), and stopped when ctx ends.
func (s *supervisor) start(ctx context.Context, name string, cmd *exec.Cmd) (*child, error) {
	c := &child{name: name, cmd: cmd, done: make(chan struct{})}
	if cmd.Stdout == nil && cmd.Stderr == nil {
		c.out = &tail{max: 64 << 10}
		cmd.Stdout, cmd.Stderr = c.out, c.out
	} else if t, ok := cmd.Stderr.(*tail); ok {
		c.out = t
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: start %s: %w", name, err)
	}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	go func() {
		select {
		case <-ctx.Done():
			c.stop()
		case <-c.done:
		}
	}()
	s.mu.Lock()
	s.children = append(s.children, c)
	s.mu.Unlock()
	return c, nil
}

// stopAll stops every child still running, newest first.
func (s *supervisor) stopAll() {
	s.mu.Lock()
	children := s.children
	s.children = nil
	s.mu.Unlock()
	for i := len(children) - 1; i >= 0; i-- {
		children[i].stop()
	}
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// stop asks the process to end (SIGTERM), kills it after 5 seconds, and waits for it.
func (c *child) stop() {
	if c.exited() {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// output is the end of what the process wrote, for error messages.
func (c *child) output() string {
	if c.out == nil {
		return ""
	}
	return c.out.String()
}

// tail keeps the last max bytes written to it. invitegw logs a line per request; the benchmark
// keeps only the end, for when something fails.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buf
	if len(b) > t.max {
		b = b[len(b)-t.max:]
	}
	return string(b)
}

// buildGateway builds invitegw from the module at root into dir.
func buildGateway(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "invitegw")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("bench: go build invitegw: %w\n%s", err, out)
	}
	return bin, nil
}

// gatewayEnv is the process environment minus anything that would configure invitegw or
// its tracing behind the benchmark's back.
func gatewayEnv(extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "INVITEGW_") || strings.HasPrefix(kv, "OTEL_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// startGateway runs invitegw with env on a free loopback port and waits until /healthz answers.
// It shuts down without draining: nothing balances load over it, and the default drain (5s)
// would add itself to the run each time a gateway stops.
func (s *supervisor) startGateway(ctx context.Context, name, bin string, env []string) (*child, string, error) {
	port, err := loopback.FreePort()
	if err != nil {
		return nil, "", err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin)
	cmd.Env = gatewayEnv(append(env, "INVITEGW_ADDR="+addr, "INVITEGW_SHUTDOWN_DRAIN=0s"))
	c, err := s.start(ctx, name, cmd)
	if err != nil {
		return nil, "", err
	}
	base := "http://" + addr
	if err := waitHTTP(ctx, c, base+"/healthz", 15*time.Second); err != nil {
		c.stop()
		return nil, "", fmt.Errorf("bench: %s did not start: %w\n%s", name, err, c.output())
	}
	return c, base + "/graphql", nil
}

// waitHTTP polls url until it answers 200, the child exits or d passes.
func waitHTTP(ctx context.Context, c *child, url string, d time.Duration) error {
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(d)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if c.exited() {
			return fmt.Errorf("exited: %v", c.err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer from %s within %s", url, d)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// startRedis runs a private redis-server on a free loopback port, without persistence, and
// waits until it answers PING. It returns a client of database 0 and the server's address.
func (s *supervisor) startRedis(ctx context.Context, dir string) (*child, *redis.Client, string, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, nil, "", errors.New("bench: redis-server not found (Debian: apt-get install redis-server)")
	}
	port, err := loopback.FreePort()
	if err != nil {
		return nil, nil, "", err
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--daemonize", "no", "--protected-mode", "yes")
	c, err := s.start(ctx, "redis-server", cmd)
	if err != nil {
		return nil, nil, "", err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	rdb := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: time.Second, ReadTimeout: 5 * time.Second})
	deadline := time.Now().Add(10 * time.Second)
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		err := rdb.Ping(pctx).Err()
		cancel()
		if err == nil {
			return c, rdb, addr, nil
		}
		if c.exited() || time.Now().After(deadline) || ctx.Err() != nil {
			_ = rdb.Close()
			c.stop()
			return nil, nil, "", fmt.Errorf("bench: redis-server did not answer PING: %v\n%s", err, c.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startBaseline runs this program again as the baseline server (see serveBaseline), serving
// the bytes in file, and reads the address it listens on. Its stdin is a pipe from us: when
// we go, it goes.
func (s *supervisor) startBaseline(ctx context.Context, file string) (*child, string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, "", fmt.Errorf("bench: find own binary: %w", err)
	}
	cmd := exec.Command(self, "-serve-baseline", file)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, "", err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	out := &tail{max: 16 << 10}
	cmd.Stderr = out
	c, err := s.start(ctx, "baseline", cmd)
	if err != nil {
		return nil, "", err
	}
	c.keep = stdin // closed by the OS when we exit, which ends the child
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case addr, ok := <-lines:
		if !ok {
			c.stop()
			return nil, "", fmt.Errorf("bench: baseline did not start\n%s", out.String())
		}
		base := "http://" + addr
		if err := waitHTTP(ctx, c, base+"/healthz", 5*time.Second); err != nil {
			c.stop()
			return nil, "", fmt.Errorf("bench: baseline: %w", err)
		}
		return c, base + "/graphql", nil
	case <-time.After(10 * time.Second):
		c.stop()
		return nil, "", errors.New("bench: baseline did not print its address")
	case <-ctx.Done():
		c.stop()
		return nil, "", ctx.Err()
	}
}

// serveBaseline is the baseline server: POST /graphql reads the request and answers the
// pre-serialized bytes of file, the fastest any GraphQL server could answer the query. It
// prints its address on stdout and ends when stdin closes (the benchmark is gone) or on SIGTERM.
func serveBaseline(file string) error {
	body, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	length := strconv.Itoa(len(body))
	mux := http.NewServeMux()
	mux.HandleFunc("POST /graphql", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", length)
		_, _ = w.Write(body)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute}
	fmt.Println(ln.Addr().String())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		_ = srv.Close()
	}()
	err = srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// userHZ is the unit of utime and stime in /proc/<pid>/stat: USER_HZ, 100 on every Linux
// architecture Go runs on.
const userHZ = 100

// cpuSeconds is the user and system CPU time the process has used so far.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; the fields after it start at field 3.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("bench: short /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseUint(f[12], 10, 64) // field 15
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return float64(utime+stime) / userHZ, nil
}

// memKiB reads one line of /proc/<pid>/status: VmHWM (peak resident set) or VmRSS.
func memKiB(pid int, field string) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, fmt.Errorf("bench: no %s in /proc/%d/status", field, pid)
}
