package upstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/sony/gobreaker/v2"
)

// Bounds of every upstream call.
const (
	// DefaultMaxBody bounds a response body. The largest legitimate reply (a 100-item Redpanda
	// page, or an org's whole Elastic/Frontier list) is far below it.
	DefaultMaxBody = 8 << 20
	// maxErrorBody bounds what is read of an error body.
	maxErrorBody = 64 << 10
)

// NewHTTPClient returns a client with its own transport and explicit timeouts: never
// http.DefaultClient, whose zero timeouts let a stuck upstream hold a request forever.
func NewHTTPClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			MaxIdleConnsPerHost:   32,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: 30 * time.Second,
			ExpectContinueTimeout: time.Second,
		},
		// A hard ceiling; the per-call context deadline is normally much shorter.
		Timeout: 60 * time.Second,
		// Redirects could carry the Authorization header to another host; upstream APIs don't
		// redirect, so treat one as a bad response.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// ErrorDecoder turns a non-2xx response into an *Error in the provider's terms. It receives at
// most 64 KiB of the body and must fill Code, Message and (if the provider says more than the
// status does) Kind; Provider, Op, Status and RetryAfter are already set.
type ErrorDecoder func(e *Error, h http.Header, body []byte)

// Caller makes bounded JSON calls to one provider.
type Caller struct {
	Provider  string
	BaseURL   string
	HTTP      *http.Client
	Timeout   time.Duration // per call; required (see CheckTimeout)
	MaxBody   int64         // DefaultMaxBody when zero
	Authorize func(ctx context.Context, r *http.Request) error
	DecodeErr ErrorDecoder
	// Policy is what the deployment wraps around every call; nil for none.
	Policy *Policy
	// DecodeOptions are the provider's own for its replies (see Decode); nil for none.
	DecodeOptions jsonv2.Options
	// CredentialID is the hash of the credential the calls are made with (see CredentialID):
	// with Provider and BaseURL it names whose quota they spend (Tenant, Policy.Limiter).
	CredentialID string
	// RateLimitReset reads the provider's rate-limit headers of an answer, whatever its
	// status: how long until the provider takes calls again when they say its quota is spent,
	// else 0. Policy.Limiter then holds the provider's calls that long. Nil for a provider
	// that sends none (a 429's Retry-After holds them either way).
	RateLimitReset func(h http.Header) time.Duration
}

// Policy is what a deployment adds around each call of one provider. Each provider has its own
// (its breaker is its own); Observe may be shared.
type Policy struct {
	// Observe, if set, sees every finished call: its HTTP status (0 when no response came)
	// and error (nil on success), and how long it took, retries included.
	Observe func(provider, op string, status int, err error, d time.Duration)
	// Retry retries idempotent calls; nil for none.
	Retry *Retry
	// Breaker fails calls fast while the provider is failing; nil for none.
	Breaker *gobreaker.CircuitBreaker[struct{}]
	// Limiter keeps the calls within the provider's rate budget; nil for none. It is asked
	// before every attempt, retries included: a first attempt over budget fails at once with
	// ErrThrottled (kind ErrRateLimited), and a retry over budget is not made (the call fails
	// with the last attempt's error, as when the retry budget is spent).
	Limiter Limiter
}

// Do sends one request and decodes a 2xx JSON body into out (if out is non-nil). in, when
// non-nil, is sent as a JSON body. path is appended to BaseURL as is: callers escape it.
// Only GET calls are retried. Every other method goes out once, whatever happens to it: a POST
// that creates, or a PATCH, could be applied twice. DoIdempotent marks a POST that only reads
// (a Connect unary call) as safe to retry too, and DoDelete a call that removes something.
func (c *Caller) Do(ctx context.Context, op, method, path string, in, out any) error {
	return c.run(ctx, op, repeat{ok: method == http.MethodGet}, func() error { return c.do(ctx, op, method, path, in, out) })
}

// DoIdempotent is Do for a call that is safe to repeat whatever its method.
func (c *Caller) DoIdempotent(ctx context.Context, op, method, path string, in, out any) error {
	return c.run(ctx, op, repeat{ok: true}, func() error { return c.do(ctx, op, method, path, in, out) })
}

// DoDelete is Do for a call that removes something: a DELETE, or the POST of a Connect
// procedure that deletes. Removing is safe to repeat, so it is retried as a read is; gone says
// which answer means the thing is not there (typically NotFound).
//
// gone's answer to a retry made after an attempt that may have done the work is success: that
// attempt removed the thing, and only its reply was lost. Such an attempt is one that failed
// without an answer (a connection that broke, a body cut off) or with 502, 503 or 504, which a
// proxy or the upstream may send after the work was done; not one answered 429, which refused
// it. gone's answer to the first attempt, or to a retry after 429s only, stays an error: the
// thing was not there to remove.
func (c *Caller) DoDelete(ctx context.Context, op, method, path string, in, out any, gone func(*Error) bool) error {
	return c.run(ctx, op, repeat{ok: true, gone: gone}, func() error { return c.do(ctx, op, method, path, in, out) })
}

// NotFound is the gone of DoDelete for an upstream whose only "not there" is ErrNotFound.
func NotFound(e *Error) bool { return e.Kind == ErrNotFound }

// repeat is how a call may be repeated.
type repeat struct {
	// ok says it may be retried at all.
	ok bool
	// gone, for a removal (DoDelete), names the answer that means the thing is not there.
	gone func(*Error) bool
}

func (c *Caller) run(ctx context.Context, op string, rp repeat, try func() error) error {
	if c.Policy == nil {
		return try()
	}
	start := time.Now()
	err := c.call(ctx, op, rp, try)
	if c.Policy.Observe == nil {
		return err
	}
	status := http.StatusOK
	var ue *Error
	switch {
	case errors.As(err, &ue) && ue.Status >= 300:
		status = ue.Status
	case err != nil:
		status = 0 // no usable answer: no response, or a 2xx whose body broke
	}
	c.Policy.Observe(c.Provider, op, status, err, time.Since(start))
	return err
}

func (c *Caller) do(ctx context.Context, op, method, path string, in, out any) error {
	if c.Timeout <= 0 {
		// A Caller built without one (clients check theirs with CheckTimeout): every call
		// fails the same way, before any request.
		return fmt.Errorf("%s: %s: timeout must be positive, got %v", c.Provider, op, c.Timeout)
	}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()

	fail := func(kind error, status int, err error) *Error {
		return &Error{Provider: c.Provider, Op: op, Status: status, Kind: kind, Err: err}
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s: %s: encode request: %w", c.Provider, op, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		// A URL that does not parse is quoted in url.Error: its path may hold a secret (an
		// Elastic invitation token).
		return fmt.Errorf("%s: %s: build request: %w", c.Provider, op, redactURL(err))
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Authorize != nil {
		if err := c.Authorize(ctx, req); err != nil {
			return fail(transportKind(ctx, err, ErrUnauthenticated), 0, fmt.Errorf("authorize: %w", err))
		}
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fail(transportKind(ctx, err, ErrUnavailable), 0, redactURL(err))
	}
	defer resp.Body.Close()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		e := fail(KindForStatus(resp.StatusCode), resp.StatusCode, nil)
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"))
		if c.DecodeErr != nil {
			c.DecodeErr(e, resp.Header, b)
		}
		c.hold(ctx, resp, e)
		return e
	}
	c.hold(ctx, resp, nil)
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		return nil
	}
	maxBody := c.MaxBody
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	buf := bodyBuffers.Get().(*bytes.Buffer)
	defer putBodyBuffer(buf)
	if n := resp.ContentLength; n > 0 && n <= maxBody {
		buf.Grow(int(n) + bytes.MinRead) // ReadFrom wants MinRead free to read the EOF
	}
	_, err = buf.ReadFrom(io.LimitReader(resp.Body, maxBody+1))
	b := buf.Bytes()
	if err != nil {
		return fail(transportKind(ctx, err, ErrUnavailable), resp.StatusCode, fmt.Errorf("read body: %w", err))
	}
	if int64(len(b)) > maxBody {
		return fail(ErrBadResponse, resp.StatusCode, fmt.Errorf("body larger than %d bytes", maxBody))
	}
	if len(bytes.TrimSpace(b)) == 0 {
		// An empty 2xx body is an empty message (e.g. Redpanda's 204); decode as "{}".
		b = []byte("{}")
	}
	if raw, ok := out.(*RawBody); ok {
		*raw = bytes.Clone(b)
		return nil
	}
	if err := c.decode(b, out); err != nil {
		return DecodeError(c.Provider, op, resp.StatusCode, err)
	}
	return nil
}

// RawBody, given to Do as out, receives a 2xx body as it came, undecoded (an empty one as
// "{}"), for a caller that decodes it later or elsewhere: see DecodeError for failing the way
// Do would have.
type RawBody []byte

// DecodeError is the error Do returns when a 2xx body of provider's op does not decode into
// out, for callers that decode a RawBody themselves.
func DecodeError(provider, op string, status int, err error) *Error {
	return &Error{Provider: provider, Op: op, Status: status, Kind: ErrBadResponse, Err: fmt.Errorf("decode body: %w", err)}
}

// bodyBuffers hold 2xx bodies while they are decoded: io.ReadAll grew a new buffer from 512
// bytes for every reply, a third of what a cold request allocated. Decode copies what it
// keeps, so a buffer is free again once its body is decoded.
var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer keeps one rare large reply from pinning its buffer for the process's life.
const maxPooledBuffer = 1 << 20

func putBodyBuffer(buf *bytes.Buffer) {
	if buf.Cap() > maxPooledBuffer {
		return
	}
	buf.Reset()
	bodyBuffers.Put(buf)
}

func (c *Caller) decode(b []byte, out any) error {
	if c.DecodeOptions == nil {
		return Decode(b, out)
	}
	return Decode(b, out, c.DecodeOptions)
}

// transportKind classifies an error that happened before or while reading a response.
func transportKind(ctx context.Context, err, fallback error) error {
	var ne net.Error
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return ErrTimeout
	}
	return fallback
}

// redactURL drops the URL from a *url.Error so neither its query nor its path (where an Elastic
// invitation token travels) reaches an error, and so a log.
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s request: %w", ue.Op, ue.Err)
	}
	return err
}

// MaxRetryAfter caps a server's wait hint: beyond it the number is nonsense or hostile, and
// time.Duration would overflow not far past it.
const MaxRetryAfter = 24 * time.Hour

// Seconds converts a wait hint in whole seconds to a Duration, capped at MaxRetryAfter.
func Seconds(n int64) time.Duration {
	if n <= 0 {
		return 0
	}
	if n >= int64(MaxRetryAfter/time.Second) {
		return MaxRetryAfter
	}
	return time.Duration(n) * time.Second
}

// retryAfter parses a Retry-After header in seconds or as an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
		return Seconds(n)
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return min(d, MaxRetryAfter)
		}
	}
	return 0
}
