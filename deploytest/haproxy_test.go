package deploytest

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/invitegw/invitegw/internal/testlog"
)

// haproxy is a real HAProxy in front of gateways: HTTP mode, round robin, each server checked
// with GET /readyz every 200 ms and taken out on the first failure and back on the first
// success, no retries (a request that fails on one gateway fails; the test sees it). Each
// server is named by its host:port, and every response carries the name of the one that
// answered in X-Served-By. Its admin socket reports each server's state.
type haproxy struct {
	t    testing.TB
	port int
	sock string          // admin socket
	out  *testlog.Buffer // HAProxy's log and warnings
	done chan struct{}
	cmd  *exec.Cmd
}

// haproxyBackend is the backend the gateways are servers of.
const haproxyBackend = "gateways"

var haproxyConfig = template.Must(template.New("haproxy.cfg").Parse(`global
    stats socket {{.Sock}} mode 600 level admin
    log stderr format raw local0 info

defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 30s
    timeout server 30s

frontend invitegw
    bind 127.0.0.1:{{.Port}}
    default_backend ` + haproxyBackend + `

backend ` + haproxyBackend + `
    balance roundrobin
    retries 0
    option httpchk GET /readyz
    http-check expect status 200
    http-response set-header X-Served-By %s
    default-server inter 200ms fall 1 rise 1
{{- range .Backends}}
    server {{.}} {{.}} check
{{- end}}
`))

// startHAProxy runs haproxy (-db: in the foreground) over backends (host:port each) on a free
// loopback port until the end of the test, and waits until it has checked every server once,
// so the states it reports are real. Without haproxy the test is skipped, or fails in CI.
func startHAProxy(t testing.TB, backends []string) *haproxy {
	t.Helper()
	bin := needBinary(t, "haproxy", "haproxy")
	dir := t.TempDir()
	// A unix socket's path has at most 107 bytes; a test's temporary directory can be longer.
	sockDir, err := os.MkdirTemp("", "hap")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(sockDir) })
	h := &haproxy{t: t, sock: filepath.Join(sockDir, "admin.sock"), out: &testlog.Buffer{}}
	t.Cleanup(func() {
		if h.cmd != nil {
			_ = h.cmd.Process.Kill()
			<-h.done
		}
		if t.Failed() {
			t.Logf("haproxy output:\n%s", h.out.String())
		}
	})
	cfg := filepath.Join(dir, "haproxy.cfg")
	for range 5 { // the port can be taken between finding it and HAProxy binding it
		h.port = freePort(t)
		var b strings.Builder
		if err := haproxyConfig.Execute(&b, map[string]any{"Sock": h.sock, "Port": h.port, "Backends": backends}); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(cfg, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		before := len(h.out.String())
		if err = h.start(bin, cfg, len(backends)); err == nil {
			return h
		}
		if !strings.Contains(h.out.String()[before:], "cannot bind") {
			break
		}
	}
	t.Fatalf("deploytest: start haproxy: %v\n%s", err, h.out.String())
	return nil
}

func (h *haproxy) start(bin, cfg string, servers int) error {
	cmd := exec.Command(bin, "-f", cfg, "-db")
	cmd.Stdout, cmd.Stderr = h.out, h.out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(done)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := poll(ctx, done, func(ctx context.Context) error {
		rows, err := h.servers(ctx)
		if err != nil {
			return err
		}
		if len(rows) != servers {
			return fmt.Errorf("%d servers in the stats, want %d", len(rows), servers)
		}
		for name, r := range rows {
			if r.check == "" || strings.HasPrefix(r.check, "INI") {
				return fmt.Errorf("server %s not checked yet", name)
			}
		}
		return nil
	})
	if err == nil {
		h.cmd, h.done = cmd, done
		return nil
	}
	select {
	case <-done:
		return fmt.Errorf("haproxy exited: %v", waitErr)
	default:
		_ = cmd.Process.Kill()
		<-done
		return err
	}
}

// URL is HAProxy's base URL.
func (h *haproxy) URL() string { return "http://127.0.0.1:" + strconv.Itoa(h.port) }

// WaitState waits until HAProxy reports server (a backend's host:port) up, or not up (down
// or in maintenance), and fails when ctx ends first.
func (h *haproxy) WaitState(ctx context.Context, server string, up bool) error {
	want := map[bool]string{true: "UP", false: "not UP"}[up]
	err := poll(ctx, h.done, func(ctx context.Context) error {
		rows, err := h.servers(ctx)
		if err != nil {
			return err
		}
		r, ok := rows[server]
		if !ok {
			return fmt.Errorf("no server %s", server)
		}
		if strings.HasPrefix(r.status, "UP") != up {
			return fmt.Errorf("%s is %s (check %s)", server, r.status, r.check)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("deploytest: haproxy: %s never %s: %w", server, want, err)
	}
	return nil
}

// serverState is a server's row of HAProxy's "show stat".
type serverState struct {
	status string // UP, DOWN, MAINT, ... ("UP 1/2" while going down with a higher fall)
	check  string // the last check's result: L7OK, L7STS, L4CON, ... (INI before the first)
}

// servers asks the admin socket for the state of each server of the backend, by name.
func (h *haproxy) servers(ctx context.Context) (map[string]serverState, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", h.sock)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := io.WriteString(conn, "show stat\n"); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(conn) // HAProxy closes the connection after one command
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(b), "# ")))
	r.FieldsPerRecord = -1
	records, err := r.ReadAll()
	if err != nil || len(records) == 0 {
		return nil, fmt.Errorf("show stat: %v %q", err, b)
	}
	col := map[string]int{}
	for i, name := range records[0] {
		col[name] = i
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	out := map[string]serverState{}
	for _, rec := range records[1:] {
		sv := get(rec, "svname")
		if get(rec, "pxname") != haproxyBackend || sv == "BACKEND" || sv == "FRONTEND" {
			continue
		}
		out[sv] = serverState{status: get(rec, "status"), check: get(rec, "check_status")}
	}
	return out, nil
}

// poll runs check every 50 ms until it returns nil, ctx ends, or exited is closed (the process
// being waited on has died); it returns check's last error with the reason it stopped.
func poll(ctx context.Context, exited <-chan struct{}, check func(context.Context) error) error {
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
		case <-exited:
			return fmt.Errorf("process exited; last: %v", err)
		case <-tick.C:
		}
	}
}
