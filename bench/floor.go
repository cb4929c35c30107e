package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// A cold query's upstream calls run beside each other, on the same 2 CPUs as the fakes, so the
// slowest chain (Redpanda's pages) is slower among them than alone. The fan-out floor replays
// the very requests invitegw made for the query with a plain Go client, all at once and
// Redpanda's pages one after the other, reading every body and decoding none: what any client
// fetching the same data as concurrently as possible would wait.

// recorded is one upstream request as a fake received it.
type recorded struct {
	base, method, uri string
	header            http.Header
	body              []byte
}

// recorder keeps the requests the fakes receive while on.
type recorder struct {
	mu   sync.Mutex
	on   bool
	reqs []recorded
}

func (rc *recorder) start() { rc.mu.Lock(); rc.on, rc.reqs = true, nil; rc.mu.Unlock() }

func (rc *recorder) stop() []recorded {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.on = false
	return rc.reqs
}

func (rc *recorder) add(base string, r *http.Request, body []byte) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.on {
		h := http.Header{}
		for _, k := range []string{"Authorization", "Content-Type", "Connect-Protocol-Version", "Accept"} {
			if v := r.Header.Get(k); v != "" {
				h.Set(k, v)
			}
		}
		rc.reqs = append(rc.reqs, recorded{base: base, method: r.Method, uri: r.URL.RequestURI(), header: h, body: body})
	}
}

// fanOutFloor replays reqs, except Redpanda's list pages, all at once beside a walk of
// Redpanda's pages, and returns how long the slowest took.
func (u *upstreams) fanOutFloor(ctx context.Context, hc *http.Client, reqs []recorded) (time.Duration, error) {
	t0 := time.Now()
	errs := make(chan error, len(reqs)+1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, err := u.walkRedpanda(ctx, hc)
		errs <- err
	}()
	for _, rq := range reqs {
		if rq.base == u.redpandaURL && strings.HasPrefix(rq.uri, "/v1/user-invites?") {
			continue // walked above, following the page tokens
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- replay(ctx, hc, rq)
		}()
	}
	wg.Wait()
	d := time.Since(t0)
	close(errs)
	for err := range errs {
		if err != nil {
			return 0, err
		}
	}
	return d, nil
}

func replay(ctx context.Context, hc *http.Client, rq recorded) error {
	req, err := http.NewRequestWithContext(ctx, rq.method, rq.base+rq.uri, bytes.NewReader(rq.body))
	if err != nil {
		return err
	}
	req.Header = rq.header.Clone()
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("bench: fan-out floor: %s %s: %w", rq.method, rq.uri, err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("bench: fan-out floor: %s %s: status %d: %v", rq.method, rq.uri, resp.StatusCode, err)
	}
	return nil
}
