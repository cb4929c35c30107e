package upstream_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invitegw/invitegw/upstream"
)

// TestBodies reads 2xx bodies of every shape through one Caller, in order, so that each reply
// reuses the buffer of the one before: a decoded value must never change when a later reply
// is read, and MaxBody holds whether or not the length is announced.
func TestBodies(t *testing.T) {
	const maxBody = 4096
	big := `{"name":"` + strings.Repeat("x", maxBody) + `"}`
	fits := `{"name":"` + strings.Repeat("y", maxBody-len(`{"name":""}`)) + `"}`
	tests := []struct {
		name, body string
		chunked    bool // no Content-Length
		want       string
		wantErr    error
	}{
		{name: "small", body: `{"name":"first"}`, want: "first"},
		{name: "exactly MaxBody, chunked", body: fits, chunked: true, want: fits[9 : len(fits)-2]},
		{name: "another small one", body: `{"name":"second"}`, want: "second"},
		{name: "over MaxBody with a length", body: big, wantErr: upstream.ErrBadResponse},
		{name: "over MaxBody, chunked", body: big, chunked: true, wantErr: upstream.ErrBadResponse},
		{name: "empty body is an empty message", body: "", want: ""},
		{name: "broken JSON", body: `{"name":`, wantErr: upstream.ErrBadResponse},
	}
	var current int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		tt := tests[current]
		if !tt.chunked {
			w.Header().Set("Content-Length", strconv.Itoa(len(tt.body)))
		}
		for i := 0; i < len(tt.body); i += 1000 { // several writes: chunked when no length
			_, _ = w.Write([]byte(tt.body[i:min(i+1000, len(tt.body))]))
			w.(http.Flusher).Flush()
		}
	}))
	defer srv.Close()
	c := &upstream.Caller{Provider: "test", BaseURL: srv.URL, HTTP: srv.Client(), Timeout: 5 * time.Second, MaxBody: maxBody}

	type reply struct {
		Name string `json:"name"`
	}
	var kept []*reply
	for i, tt := range tests {
		current = i
		var out reply
		err := c.Do(context.Background(), "op", http.MethodGet, "/", nil, &out)
		if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
			t.Fatalf("%s: err = %v, want %v", tt.name, err, tt.wantErr)
		}
		if err == nil {
			if out.Name != tt.want {
				t.Fatalf("%s: name = %.20q (%d bytes), want %.20q", tt.name, out.Name, len(out.Name), tt.want)
			}
			kept = append(kept, &out)
		}
	}
	if got := []string{kept[0].Name, kept[2].Name}; got[0] != "first" || got[1] != "second" {
		t.Fatalf("earlier replies changed after later ones were read: %q", got)
	}
}

// TestRawBody takes 2xx bodies undecoded: as they came (a copy, not the pooled buffer the next
// reply is read into), "{}" for an empty one, and errors exactly as Do with a decoded reply.
func TestRawBody(t *testing.T) {
	tests := []struct {
		name, body string
		status     int
		want       string
		wantErr    error
	}{
		{name: "a body is kept as it came", body: `{"a": [1, 2]}`, status: 200, want: `{"a": [1, 2]}`},
		{name: "not even checked to be JSON", body: `{"a":`, status: 200, want: `{"a":`},
		{name: "empty body is an empty message", body: "", status: 200, want: "{}"},
		{name: "an error status is still an error", body: `{"code":"NOT_FOUND"}`, status: 404, wantErr: upstream.ErrNotFound},
		{name: "another body after the first", body: `{"b":true}`, status: 200, want: `{"b":true}`},
	}
	var current int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(tests[current].status)
		_, _ = w.Write([]byte(tests[current].body))
	}))
	defer srv.Close()
	c := &upstream.Caller{Provider: "test", BaseURL: srv.URL, HTTP: srv.Client(), Timeout: 5 * time.Second}
	var first upstream.RawBody
	for i, tt := range tests {
		current = i
		var raw upstream.RawBody
		err := c.Do(context.Background(), "op", http.MethodGet, "/", nil, &raw)
		if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
			t.Fatalf("%s: err = %v, want %v", tt.name, err, tt.wantErr)
		}
		if string(raw) != tt.want {
			t.Fatalf("%s: body = %q, want %q", tt.name, raw, tt.want)
		}
		if i == 0 {
			first = raw
		}
	}
	if string(first) != tests[0].body {
		t.Fatalf("the first body changed when later ones were read: %q", first)
	}
}

// TestCallerRequiresTimeout: a Caller without a positive Timeout substitutes none; every call
// fails with the same error before a request is sent.
func TestCallerRequiresTimeout(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		wantErr string
	}{
		{name: "zero", timeout: 0, wantErr: "test: op: timeout must be positive, got 0s"},
		{name: "negative", timeout: -time.Millisecond, wantErr: "test: op: timeout must be positive, got -1ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var requests atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				requests.Add(1)
				_, _ = w.Write([]byte(`{}`))
			}))
			defer srv.Close()
			c := &upstream.Caller{Provider: "test", BaseURL: srv.URL, HTTP: srv.Client(), Timeout: tt.timeout}
			err := c.Do(context.Background(), "op", http.MethodGet, "/", nil, nil)
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if n := requests.Load(); n != 0 {
				t.Fatalf("%d requests sent, want 0", n)
			}
		})
	}
}

func TestDecodeError(t *testing.T) {
	err := upstream.DecodeError("redpanda", "ListUserInvites", 200, errors.New("bad token"))
	if !errors.Is(err, upstream.ErrBadResponse) || err.Status != 200 || err.Op != "ListUserInvites" ||
		err.Error() != "redpanda: ListUserInvites: bad response (HTTP 200): decode body: bad token" {
		t.Fatalf("DecodeError = %q %+v", err, err)
	}
}

// TestRequestErrorsHideTheURL: a path can carry a secret (an Elastic invitation token), so no
// error quotes the URL: not one that fails to parse, nor one whose request fails.
func TestRequestErrorsHideTheURL(t *testing.T) {
	const secret = "s3cret-token"
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := []struct {
		name, base, path string
	}{
		{name: "a path that does not parse", base: "http://127.0.0.1:9", path: "/x/" + secret + "/%zz"},
		{name: "a server that is gone", base: closed.URL, path: "/x/" + secret + "?q=" + secret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &upstream.Caller{Provider: "test", BaseURL: tt.base, HTTP: closed.Client(), Timeout: 5 * time.Second}
			err := c.Do(context.Background(), "op", http.MethodDelete, tt.path, nil, nil)
			if err == nil || strings.Contains(err.Error(), secret) {
				t.Fatalf("err = %v, want an error without the URL", err)
			}
		})
	}
}
