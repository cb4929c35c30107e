package deploytest

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/invitegw/invitegw/internal/testlog"
)

// gatewayProc is one invitegw process on a fixed loopback port, which it keeps across
// restarts. Not safe for concurrent use: drive it from the test's goroutine.
type gatewayProc struct {
	t    testing.TB
	bin  string
	addr string
	env  []string
	out  *testlog.Buffer // stdout and stderr of every run
	run  *gatewayRun     // the latest run
}

// gatewayRun is one run of the process.
type gatewayRun struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once it has exited and its output is copied
	err  error         // cmd.Wait's; read after done
}

// Bounds on the waits: start-up until /healthz answers, and exit after a signal (the gateway
// gives in-flight requests 10 s and its trace exporter 5 s).
const (
	gatewayStartTimeout = 15 * time.Second
	gatewayExitTimeout  = 30 * time.Second
)

// startGateway runs the built gateway with env (and PATH and HOME, nothing else of the test's
// environment) on a free loopback port, and waits until GET /healthz answers 200. It is killed
// at the end of the test if it still runs; a failed test logs its output.
func startGateway(t testing.TB, env map[string]string) *gatewayProc {
	t.Helper()
	g := &gatewayProc{t: t, bin: buildGateway(t), out: &testlog.Buffer{}}
	t.Cleanup(func() {
		if g.running() {
			_ = g.run.cmd.Process.Kill()
			<-g.run.done
		}
		if t.Failed() {
			t.Logf("gateway %s output:\n%s", g.addr, g.out.String())
		}
	})
	var err error
	for range 5 { // the port can be taken between finding it and the gateway binding it
		g.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
		g.env = gatewayEnv(env, g.addr)
		before := len(g.out.String())
		if err = g.start(); err == nil {
			return g
		}
		if !strings.Contains(g.out.String()[before:], "address already in use") {
			break
		}
	}
	t.Fatalf("deploytest: start gateway: %v\n%s", err, g.out.String())
	return nil
}

func gatewayEnv(env map[string]string, addr string) []string {
	out := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "INVITEGW_ADDR=" + addr}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}

// Addr is the gateway's host:port.
func (g *gatewayProc) Addr() string { return g.addr }

// URL is the gateway's base URL.
func (g *gatewayProc) URL() string { return "http://" + g.addr }

// Logs is everything the gateway printed, over all its runs.
func (g *gatewayProc) Logs() string { return g.out.String() }

// Signal sends sig to the running gateway.
func (g *gatewayProc) Signal(sig os.Signal) {
	g.t.Helper()
	if !g.running() {
		g.t.Fatalf("deploytest: signal %v: gateway %s is not running", sig, g.addr)
	}
	if err := g.run.cmd.Process.Signal(sig); err != nil {
		g.t.Fatalf("deploytest: signal %v to gateway %s: %v", sig, g.addr, err)
	}
}

// Wait waits (30 s at most) until the gateway has exited, and returns its exit code: -1 when
// a signal ended it. The error is for a gateway that did not exit in time, or never ran.
func (g *gatewayProc) Wait() (int, error) {
	if g.run == nil {
		return -1, errors.New("deploytest: gateway never started")
	}
	timer := time.NewTimer(gatewayExitTimeout)
	defer timer.Stop()
	select {
	case <-g.run.done:
	case <-timer.C:
		return -1, fmt.Errorf("deploytest: gateway %s still running after %v", g.addr, gatewayExitTimeout)
	}
	return g.run.cmd.ProcessState.ExitCode(), nil
}

// Restart stops the gateway if it runs (SIGTERM, then Wait), and starts it again on the same
// port with the same environment, waiting for /healthz as startGateway does.
func (g *gatewayProc) Restart() {
	g.t.Helper()
	if g.running() {
		g.Signal(syscall.SIGTERM)
		if _, err := g.Wait(); err != nil {
			g.t.Fatal(err)
		}
	}
	fmt.Fprintf(g.out, "--- deploytest: restart on %s ---\n", g.addr)
	if err := g.start(); err != nil {
		g.t.Fatalf("deploytest: restart gateway %s: %v\n%s", g.addr, err, g.out.String())
	}
}

func (g *gatewayProc) running() bool {
	if g.run == nil {
		return false
	}
	select {
	case <-g.run.done:
		return false
	default:
		return true
	}
}

// start runs the binary and waits until /healthz answers 200, the process exits, or
// gatewayStartTimeout passes.
func (g *gatewayProc) start() error {
	cmd := exec.Command(g.bin)
	cmd.Env = g.env
	cmd.Stdout, cmd.Stderr = g.out, g.out
	cmd.WaitDelay = 5 * time.Second // bounds Wait should a child keep the output pipes open
	if err := cmd.Start(); err != nil {
		return err
	}
	r := &gatewayRun{cmd: cmd, done: make(chan struct{})}
	go func() {
		r.err = cmd.Wait()
		close(r.done)
	}()
	g.run = r

	hc := &http.Client{Timeout: 500 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.NewTimer(gatewayStartTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := hc.Get(g.URL() + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("/healthz answered %d", resp.StatusCode)
		}
		select {
		case <-r.done:
			return fmt.Errorf("gateway on %s exited: %v", g.addr, r.err)
		case <-deadline.C:
			_ = cmd.Process.Kill()
			<-r.done
			return fmt.Errorf("gateway on %s not healthy after %v: %v", g.addr, gatewayStartTimeout, err)
		case <-tick.C:
		}
	}
}
