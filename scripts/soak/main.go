// Command soak runs a bounded load against invitegw -demo for a few minutes while the demo's
// fakes fail at random (INVITEGW_DEMO_CHAOS), and reports what a production gateway must never
// do under faults: lost responses (no HTTP answer), non-200 answers, answers without data, and
// memory growth (RSS at the start and the end). Not part of CI.
//
//	go run ./scripts/soak                       # 3 minutes at 50 requests/s, 5% upstream faults
//	go run ./scripts/soak -duration 30s -rate 100 -chaos 0.1
//
// Everything runs on 127.0.0.1 and stops by itself.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/invitegw/invitegw/internal/loopback"
)

var queries = []string{
	`{ invitations(first: 50) { totalCount edges { node { id email status organization { name } roleBindings { roleName } } } } }`,
	`{ invitations(filter: {status: [PENDING], providers: [ELASTIC, FRONTIER]}, first: 20) { nodes { id groups { name } } } }`,
	`{ organizations { id name invitations(first: 5) { totalCount } } }`,
	`query($r: [_Any!]!) { _entities(representations: $r) { ... on User { email invitations { provider status } } } }`,
}

func main() {
	duration := flag.Duration("duration", 3*time.Minute, "how long to send load")
	rate := flag.Int("rate", 50, "requests per second")
	chaos := flag.Float64("chaos", 0.05, "share of upstream calls that fail at random")
	flag.Parse()
	if err := run(*duration, *rate, *chaos); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

func run(duration time.Duration, rate int, chaos float64) error {
	dir, err := os.MkdirTemp("", "invitegw-soak")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "invitegw")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return fmt.Errorf("build: %v\n%s", err, out)
	}
	port, err := loopback.FreePort()
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(bin, "-demo", "-addr", addr)
	cmd.Env = append(os.Environ(), "INVITEGW_DEMO_LATENCY=20ms", "INVITEGW_CACHE_TTL_INVITATIONS=2s",
		"INVITEGW_CACHE_TTL_DIRECTORY=5s", "INVITEGW_DEMO_CHAOS="+strconv.FormatFloat(chaos, 'f', -1, 64))
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	url := "http://" + addr + "/graphql"
	if err := waitReady("http://" + addr + "/healthz"); err != nil {
		return err
	}

	client := &http.Client{Timeout: 30 * time.Second}
	var rssStart atomic.Int64 // taken after a tenth of the run: caches and pools warm up first
	warm := time.AfterFunc(duration/10, func() { rssStart.Store(rss(cmd.Process.Pid)) })
	defer warm.Stop()
	var sent, lost, non200, noData, withErrors, stale atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256) // bounded in-flight requests
	fmt.Printf("soak: %v at %d req/s against %s, %.0f%% upstream faults\n", duration, rate, addr, chaos*100)
loop:
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
		}
		select {
		case sem <- struct{}{}:
		default:
			lost.Add(1) // the gateway is so slow that 256 requests are outstanding
			continue
		}
		wg.Add(1)
		sent.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			body := map[string]any{"query": queries[i%len(queries)]}
			if i%len(queries) == 3 {
				body["variables"] = map[string]any{"r": []any{
					map[string]any{"__typename": "User", "email": "ada.lovelace@acme.test"},
					map[string]any{"__typename": "User", "email": "grace.hopper@acme.test"},
				}}
			}
			b, _ := json.Marshal(body)
			resp, err := client.Post(url, "application/json", bytes.NewReader(b))
			if err != nil {
				lost.Add(1)
				return
			}
			defer resp.Body.Close()
			var r struct {
				Data       json.RawMessage
				Errors     []json.RawMessage
				Extensions struct{ Warnings []json.RawMessage }
			}
			if resp.StatusCode != 200 {
				non200.Add(1)
				return
			}
			if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || len(r.Data) == 0 || string(r.Data) == "null" {
				noData.Add(1)
				return
			}
			if len(r.Errors) > 0 {
				withErrors.Add(1) // partial data with an upstream error: expected under chaos
			}
			if len(r.Extensions.Warnings) > 0 {
				stale.Add(1) // a failed upstream answered from a kept copy
			}
		}()
	}
	wg.Wait()
	rssEnd := rss(cmd.Process.Pid)

	fmt.Printf("sent %d, lost %d, non-200 %d, without data %d, partial (data + upstream errors) %d, stale copies %d\n",
		sent.Load(), lost.Load(), non200.Load(), noData.Load(), withErrors.Load(), stale.Load())
	start := rssStart.Load()
	fmt.Printf("RSS %d KiB after warm-up, %d KiB at the end (%+.1f%%)\n", start, rssEnd, 100*float64(rssEnd-start)/float64(max(start, 1)))
	if lost.Load()+non200.Load()+noData.Load() > 0 {
		return fmt.Errorf("%d requests lost or failed outright", lost.Load()+non200.Load()+noData.Load())
	}
	return nil
}

func waitReady(url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer within 30s", url)
}

// rss is the process's resident set size in KiB, from /proc.
func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	return 0
}
