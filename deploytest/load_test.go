package deploytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// loadQueries are what the load sends in turn: several shapes, so that the lists, the
// lookups and the response cache all take part.
var loadQueries = []string{
	`{"query":"{ invitations(first: 5) { totalCount nodes { id email status } } }"}`,
	`{"query":"{ invitations(first: 5, filter: {providers: [ELASTIC]}) { totalCount nodes { id organization { name } } } }"}`,
	`{"query":"{ organizations { id name } }"}`,
	`{"query":"{ invitations(first: 3, filter: {status: [PENDING]}) { totalCount edges { cursor node { roleBindings { roleName } } } } }"}`,
}

// load sends loadQueries through one URL from a few keep-alive clients, each at most one
// request per interval, until stopped (or for loadMax at most), and counts what failed: any
// transport error, any status but 200, any answer without data or with errors.
type load struct {
	sent, ok atomic.Int64
	stop     chan struct{}
	wg       sync.WaitGroup

	mu       sync.Mutex
	failures []string
}

// loadMax bounds a load that a failed test forgot to stop.
const loadMax = 2 * time.Minute

func startLoad(url string, workers int, interval time.Duration) *load {
	l := &load{stop: make(chan struct{})}
	tr := &http.Transport{MaxIdleConnsPerHost: workers}
	hc := &http.Client{Timeout: 15 * time.Second, Transport: tr}
	end := time.After(loadMax)
	for w := range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			tick := time.NewTicker(interval)
			defer tick.Stop()
			for i := w; ; i++ {
				select {
				case <-l.stop:
					return
				case <-end:
					return
				case <-tick.C:
				}
				l.sent.Add(1)
				if err := send(hc, url, loadQueries[i%len(loadQueries)]); err != nil {
					l.mu.Lock()
					l.failures = append(l.failures, err.Error())
					l.mu.Unlock()
					continue
				}
				l.ok.Add(1)
			}
		}()
	}
	return l
}

// send posts one query and checks the answer.
func send(hc *http.Client, url, body string) error {
	resp, err := hc.Post(url+"/graphql", "application/json", strings.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	var r struct {
		Data   json.RawMessage
		Errors json.RawMessage
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &r) != nil || len(r.Data) == 0 || bytes.Equal(r.Data, []byte("null")) || r.Errors != nil {
		return fmt.Errorf("status %d from %s: %.300s", resp.StatusCode, resp.Header.Get("X-Served-By"), b)
	}
	return nil
}

// Stop ends the load and returns how many requests were sent and what failed.
func (l *load) Stop() (sent int64, failures []string) {
	close(l.stop)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sent.Load(), l.failures
}
