package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// vegetaModule is the load generator installed when none is on PATH or given with -vegeta.
const vegetaModule = "github.com/tsenart/vegeta/v12@v12.13.0"

// findVegeta returns the vegeta binary: the -vegeta flag, else one on PATH, else one this
// benchmark installed earlier in the user cache directory, else it installs it there now
// (`go install`, through the Go module proxy).
func findVegeta(ctx context.Context, flagPath string, logf func(string, ...any)) (string, error) {
	if flagPath != "" {
		return flagPath, nil
	}
	if p, err := exec.LookPath("vegeta"); err == nil {
		return p, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("bench: no place to install vegeta (pass -vegeta): %w", err)
	}
	gobin := filepath.Join(cache, "invitegw-bench", "bin")
	bin := filepath.Join(gobin, "vegeta")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	logf("installing %s into %s", vegetaModule, gobin)
	cmd := exec.CommandContext(ctx, "go", "install", vegetaModule)
	cmd.Env = append(os.Environ(), "GOBIN="+gobin, "GOFLAGS=")
	cmd.Dir = os.TempDir() // outside the module: nothing of ours is touched
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("bench: go install %s: %w\n%s", vegetaModule, err, out)
	}
	return bin, nil
}

// shot is one vegeta run against one server, or against replicas of one in turn.
type shot struct {
	urls     []string      // vegeta sends to each in turn
	bodyFile string        // the GraphQL request
	expect   []byte        // the one right answer, byte for byte
	rate     int           // requests per second; 0 is a closed loop of `workers` requests in flight
	workers  int           // closed loop: requests in flight
	duration time.Duration // how long vegeta sends
	// maxWorkers caps a fixed-rate run's requests in flight (0: vegeta's default, no cap). Past
	// a stall, an uncapped vegeta opens hundreds of connections, and the server's RSS then
	// measures the load generator's connection count rather than the server.
	maxWorkers int
}

// outcome is what a run measured. Every response is checked against the expected bytes; a
// wrong one counts as bad however fast it came.
type outcome struct {
	requests   int
	bad        int
	badSamples []string
	latencies  []time.Duration // sorted
	first      time.Time       // the first request's start
	last       time.Time       // the last response's end
}

// rps is requests per second over the run.
func (o *outcome) rps() float64 {
	d := o.last.Sub(o.first).Seconds()
	if d <= 0 {
		return 0
	}
	return float64(o.requests) / d
}

// pct is the p-th percentile latency (nearest rank), p in (0, 100].
func (o *outcome) pct(p float64) time.Duration {
	return percentile(o.latencies, p)
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// vegetaResult is the part of vegeta's Result (lib/results.go) the benchmark reads. `vegeta
// attack` writes its results as a gob stream; gob matches fields by name, so this decodes it
// without importing vegeta.
type vegetaResult struct {
	Code      uint16
	Timestamp time.Time
	Latency   time.Duration
	Error     string
	Body      []byte
}

// attack runs vegeta and checks every response as it streams out of it.
func attack(ctx context.Context, sup *supervisor, vegeta string, s shot) (*outcome, error) {
	args := []string{"attack", "-duration", s.duration.String(), "-timeout", "10s",
		"-header", "Content-Type: application/json", "-body", s.bodyFile, "-max-body", "-1"}
	if s.rate == 0 {
		n := strconv.Itoa(s.workers)
		args = append(args, "-rate", "0", "-workers", n, "-max-workers", n)
	} else {
		args = append(args, "-rate", fmt.Sprintf("%d/1s", s.rate), "-workers", "16")
		if s.maxWorkers > 0 {
			args = append(args, "-max-workers", strconv.Itoa(s.maxWorkers))
		}
	}
	cmd := exec.Command(vegeta, args...)
	var targets strings.Builder
	for _, u := range s.urls {
		targets.WriteString("POST " + u + "\n\n")
	}
	cmd.Stdin = strings.NewReader(targets.String())
	// A pipe of our own, not cmd.StdoutPipe: the supervisor Waits for every child as soon as
	// it starts, and Wait closes a StdoutPipe when the process exits, which can be before the
	// last results have been read ("read |0: file already closed").
	stdout, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer stdout.Close()
	cmd.Stdout = w
	errOut := &tail{max: 16 << 10}
	cmd.Stderr = errOut
	c, err := sup.start(ctx, "vegeta", cmd)
	w.Close() // the child has its own copy; reads end at EOF once it exits
	if err != nil {
		return nil, err
	}
	o := &outcome{}
	dec := gob.NewDecoder(bufio.NewReaderSize(stdout, 1<<20))
	var latencies []time.Duration
	for {
		var r vegetaResult // fresh each time: gob leaves zero-valued fields untouched
		if err := dec.Decode(&r); err != nil {
			if !errors.Is(err, io.EOF) {
				c.stop()
				return nil, fmt.Errorf("bench: read vegeta results: %w\n%s", err, errOut.String())
			}
			break
		}
		o.requests++
		latencies = append(latencies, r.Latency)
		if o.first.IsZero() || r.Timestamp.Before(o.first) {
			o.first = r.Timestamp
		}
		if end := r.Timestamp.Add(r.Latency); end.After(o.last) {
			o.last = end
		}
		if r.Code != 200 || r.Error != "" || !bytes.Equal(r.Body, s.expect) {
			o.bad++
			if len(o.badSamples) < 3 {
				o.badSamples = append(o.badSamples, fmt.Sprintf("status %d %s: %.200s", r.Code, r.Error, r.Body))
			}
		}
	}
	<-c.done
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if c.err != nil {
		return nil, fmt.Errorf("bench: vegeta: %w\n%s", c.err, errOut.String())
	}
	if o.requests == 0 {
		return nil, fmt.Errorf("bench: vegeta sent nothing\n%s", errOut.String())
	}
	slices.Sort(latencies)
	o.latencies = latencies
	return o, nil
}
