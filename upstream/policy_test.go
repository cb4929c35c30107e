package upstream_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/invitegw/invitegw/upstream"
	"github.com/invitegw/invitegw/upstream/fakeserver"
)

// server is a trivial upstream on a real socket whose faults come from a Recorder.
func server(t *testing.T) (*fakeserver.Recorder, *upstream.Caller) {
	t.Helper()
	rec := fakeserver.NewRecorder(func(w http.ResponseWriter, status int) {
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		w.WriteHeader(status)
	})
	srv := httptest.NewServer(rec.Wrap("op", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(srv.Close)
	retry := &upstream.Retry{Attempts: 2, Base: time.Millisecond, Max: 2 * time.Millisecond, MaxWait: 2 * time.Second}
	return rec, &upstream.Caller{Provider: "test", BaseURL: srv.URL, HTTP: srv.Client(), Timeout: 5 * time.Second, Policy: &upstream.Policy{Retry: retry}}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		faults  []int // statuses of the next calls
		budget  *upstream.Budget
		wantErr error
		calls   int
	}{
		{"503 then success", http.MethodGet, []int{503}, nil, nil, 2},
		{"502, 504 then success", http.MethodGet, []int{502, 504}, nil, nil, 3},
		{"gives up after the attempts", http.MethodGet, []int{503, 503, 503}, nil, upstream.ErrUnavailable, 3},
		{"500 is not retried", http.MethodGet, []int{500}, nil, upstream.ErrUnavailable, 1},
		{"404 is not retried", http.MethodGet, []int{404}, nil, upstream.ErrNotFound, 1},
		{"PATCH is never retried", http.MethodPatch, []int{503}, nil, upstream.ErrUnavailable, 1},
		{"POST is never retried", http.MethodPost, []int{503}, nil, upstream.ErrUnavailable, 1},
		{"a POST's 429 is not retried either", http.MethodPost, []int{429}, nil, upstream.ErrRateLimited, 1},
		{"an empty budget stops retries", http.MethodGet, []int{503, 503}, upstream.NewBudget(0, 1), upstream.ErrUnavailable, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, c := server(t)
			c.Policy.Retry.Budget = tt.budget
			for _, s := range tt.faults {
				rec.FailNext("op", 1, s)
			}
			var out map[string]bool
			err := c.Do(context.Background(), "Op", tt.method, "/", nil, &out)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if n := rec.Calls("op"); n != tt.calls {
				t.Fatalf("calls = %d, want %d", n, tt.calls)
			}
		})
	}
}

// TestDeleteRetries drives DoDelete against a route that removes one thing: 200 {} the first
// time, 404 once it is gone.
func TestDeleteRetries(t *testing.T) {
	tests := []struct {
		name    string
		present bool // whether the thing is there before the call
		inject  func(rec *fakeserver.Recorder)
		noRetry bool // a policy without Retry
		wantErr error
		calls   int
		left    bool // whether the thing is still there after the call
	}{
		{name: "removed at once", present: true, inject: func(*fakeserver.Recorder) {}, calls: 1},
		{name: "503 then removed", present: true,
			inject: func(rec *fakeserver.Recorder) { rec.FailNext("del", 1, 503) }, calls: 2},
		{name: "a lost reply, then 404, is success", present: true,
			inject: func(rec *fakeserver.Recorder) { rec.DropReplyNext("del", 1) }, calls: 2},
		{name: "503 then 404 is success", present: false,
			inject: func(rec *fakeserver.Recorder) { rec.FailNext("del", 1, 503) }, calls: 2},
		{name: "502, 504 then 404 on the last retry is success", present: false,
			inject: func(rec *fakeserver.Recorder) { rec.FailNext("del", 1, 502); rec.FailNext("del", 1, 504) }, calls: 3},
		{name: "404 on the first attempt is not found", present: false,
			inject: func(*fakeserver.Recorder) {}, wantErr: upstream.ErrNotFound, calls: 1},
		{name: "429 then 404 is not found: the 429 refused the call", present: false,
			inject: func(rec *fakeserver.Recorder) { rec.FailNext("del", 1, 429) }, wantErr: upstream.ErrNotFound, calls: 2},
		{name: "503 then 403 is forbidden: only gone's answer is success", present: true,
			inject:  func(rec *fakeserver.Recorder) { rec.FailNext("del", 1, 503); rec.FailNext("del", 1, 403) },
			wantErr: upstream.ErrForbidden, calls: 2, left: true},
		{name: "500 is not retried", present: true,
			inject: func(rec *fakeserver.Recorder) { rec.FailNext("del", 1, 500) }, wantErr: upstream.ErrUnavailable, calls: 1, left: true},
		{name: "without retries a lost reply is unavailable", present: true, noRetry: true,
			inject: func(rec *fakeserver.Recorder) { rec.DropReplyNext("del", 1) }, wantErr: upstream.ErrUnavailable, calls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := fakeserver.NewRecorder(func(w http.ResponseWriter, status int) { w.WriteHeader(status) })
			var mu sync.Mutex
			present := tt.present
			srv := httptest.NewServer(rec.Wrap("del", func(w http.ResponseWriter, _ *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				if !present {
					w.WriteHeader(http.StatusNotFound)
					return
				}
				present = false
				_, _ = w.Write([]byte(`{}`))
			}))
			defer srv.Close()
			retry := &upstream.Retry{Attempts: 2, Base: time.Millisecond, Max: 2 * time.Millisecond, MaxWait: 2 * time.Second}
			if tt.noRetry {
				retry = nil
			}
			c := &upstream.Caller{Provider: "test", BaseURL: srv.URL, HTTP: srv.Client(), Timeout: 5 * time.Second,
				Policy: &upstream.Policy{Retry: retry}}
			tt.inject(rec)
			err := c.DoDelete(context.Background(), "Del", http.MethodDelete, "/thing", nil, nil, upstream.NotFound)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if n := rec.Calls("del"); n != tt.calls {
				t.Errorf("calls = %d, want %d", n, tt.calls)
			}
			mu.Lock()
			defer mu.Unlock()
			if present != tt.left {
				t.Errorf("the thing is there: %v, want %v", present, tt.left)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	rec, c := server(t)
	rec.FailNext("op", 1, http.StatusTooManyRequests) // Retry-After: 1
	start := time.Now()
	if err := c.Do(context.Background(), "Op", http.MethodGet, "/", nil, nil); err != nil {
		t.Fatal(err)
	}
	if rec.Calls("op") != 2 || time.Since(start) < time.Second {
		t.Fatalf("calls = %d after %v: want the retry to wait out Retry-After", rec.Calls("op"), time.Since(start))
	}

	c.Policy.Retry.MaxWait = 500 * time.Millisecond
	rec.Reset()
	rec.FailNext("op", 1, http.StatusTooManyRequests)
	err := c.Do(context.Background(), "Op", http.MethodGet, "/", nil, nil)
	var ue *upstream.Error
	if !errors.As(err, &ue) || ue.Kind != upstream.ErrRateLimited || ue.RetryAfter != time.Second || rec.Calls("op") != 1 {
		t.Fatalf("a Retry-After beyond MaxWait: err = %v, calls = %d; want no retry", err, rec.Calls("op"))
	}
}

func TestBreakerOpensAndHalfOpens(t *testing.T) {
	rec, c := server(t)
	c.Policy.Retry = nil
	c.Policy.Breaker = upstream.NewBreaker("test", 50*time.Millisecond)
	ctx := context.Background()
	rec.FailNext("op", 5, http.StatusInternalServerError)
	for range 5 {
		_ = c.Do(ctx, "Op", http.MethodGet, "/", nil, nil)
	}
	err := c.Do(ctx, "Op", http.MethodGet, "/", nil, nil)
	if !errors.Is(err, upstream.ErrUnavailable) || rec.Calls("op") != 5 {
		t.Fatalf("open breaker: err = %v, calls = %d; want a fast failure without a call", err, rec.Calls("op"))
	}
	// The breaker turns half-open once its open period is over; gobreaker has no clock to
	// move, so watch for it, bounded.
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(5 * time.Second)
	for c.Policy.Breaker.State().String() != "half-open" {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatal("breaker never half-opened")
		}
	}
	if err := c.Do(ctx, "Op", http.MethodGet, "/", nil, nil); err != nil || rec.Calls("op") != 6 {
		t.Fatalf("half-open probe: err = %v, calls = %d", err, rec.Calls("op"))
	}
	if s := c.Policy.Breaker.State().String(); s != "closed" {
		t.Fatalf("after a good probe the breaker is %s", s)
	}
	// Not found is the upstream answering well: it must not count against it.
	rec.FailNext("op", 10, http.StatusNotFound)
	for range 10 {
		_ = c.Do(ctx, "Op", http.MethodGet, "/", nil, nil)
	}
	if s := c.Policy.Breaker.State().String(); s != "closed" {
		t.Fatalf("404s opened the breaker: %s", s)
	}
}

func TestSecondsIsCapped(t *testing.T) {
	for in, want := range map[int64]time.Duration{-5: 0, 0: 0, 1: time.Second, 9_300_000_000: upstream.MaxRetryAfter} {
		if got := upstream.Seconds(in); got != want {
			t.Errorf("Seconds(%d) = %v, want %v", in, got, want)
		}
	}
}
