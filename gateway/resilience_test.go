package gateway_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/invitegw/invitegw/cache"
	"github.com/invitegw/invitegw/upstream"
)

func retryingPolicy() *upstream.Policy {
	return &upstream.Policy{
		Retry:   &upstream.Retry{Attempts: 2, Base: time.Millisecond, Max: 2 * time.Millisecond, MaxWait: 2 * time.Second},
		Breaker: upstream.NewBreaker("test", time.Hour),
	}
}

const elasticCount = `{ invitations(filter: {providers: [ELASTIC]}) { totalCount } }`

func TestUpstreamFailsThenRecovers(t *testing.T) {
	tests := []struct {
		name  string
		fault func(e *env)
		calls int
	}{
		{"two 503s", func(e *env) { e.ec.FailNext("ListInvitations", 2, http.StatusServiceUnavailable) }, 3},
		{"a 504", func(e *env) { e.ec.FailNext("ListInvitations", 1, http.StatusGatewayTimeout) }, 2},
		{"a body cut off", func(e *env) { e.ec.CloseMidBodyNext("ListInvitations", 1) }, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{policy: retryingPolicy})
			e.seed()
			tt.fault(e)
			r := e.query(t, elasticCount, nil)
			if len(r.Errors) > 0 {
				t.Fatalf("should be retried away: %s", r.raw)
			}
			jsonEq(t, r.Data, `{"invitations": {"totalCount": 3}}`)
			if n := e.ec.Calls("ListInvitations"); n != tt.calls {
				t.Fatalf("calls = %d, want %d", n, tt.calls)
			}
		})
	}
}

func TestUpstreamFaults(t *testing.T) {
	tests := []struct {
		name  string
		fault func(e *env)
		code  string
	}{
		{"malformed JSON", func(e *env) { e.ec.MalformedNext("ListInvitations", 1) }, "UPSTREAM_BAD_RESPONSE"},
		{"connection closed mid-body on every try", func(e *env) { e.ec.CloseMidBodyNext("ListInvitations", 3) }, "UPSTREAM_UNAVAILABLE"},
		{"503 on every try", func(e *env) { e.ec.FailNext("ListInvitations", 3, http.StatusServiceUnavailable) }, "UPSTREAM_UNAVAILABLE"},
		{"429 with a long Retry-After", func(e *env) { e.ec.FailNext("ListInvitations", 1, http.StatusTooManyRequests) }, "UPSTREAM_RATE_LIMITED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			policy := func() *upstream.Policy {
				p := retryingPolicy()
				p.Retry.MaxWait = 500 * time.Millisecond // the fakes' Retry-After is 1s: not waited for
				return p
			}
			e := newEnv(t, envOptions{policy: policy})
			e.seed()
			tt.fault(e)
			r := e.query(t, `{ invitations { totalCount } }`, nil)
			if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != tt.code || r.Errors[0].Extensions["provider"] != "ELASTIC" {
				t.Fatalf("want one ELASTIC %s error, got %s", tt.code, r.raw)
			}
			jsonEq(t, r.Data, `{"invitations": {"totalCount": 5}}`) // Redpanda and Frontier still answer
			assertNoSecrets(t, "response", r.raw)
		})
	}
}

func TestSlowUpstreamHitsTheRequestDeadline(t *testing.T) {
	e := newEnv(t, envOptions{requestTimeout: 300 * time.Millisecond})
	e.seed()
	e.ec.DelayNext("ListInvitations", 1, 2*time.Second) // far past the deadline; short enough for cleanup
	r := e.query(t, `{ invitations { totalCount } }`, nil)
	if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "UPSTREAM_TIMEOUT" || r.Errors[0].Extensions["provider"] != "ELASTIC" {
		t.Fatalf("want one ELASTIC UPSTREAM_TIMEOUT error, got %s", r.raw)
	}
	jsonEq(t, r.Data, `{"invitations": {"totalCount": 5}}`)
}

func TestOpenBreakerFailsFastOrServesStale(t *testing.T) {
	e := newEnv(t, envOptions{policy: retryingPolicy, store: cache.NewMemory(nil)})
	e.seed()
	e.query(t, elasticCount, nil) // a copy for later
	e.clock.Advance(time.Minute)  // stale now

	// Five failing calls (each retried twice: 15 tries) open the breaker.
	e.ec.FailNext("ListInvitations", 15, http.StatusBadGateway)
	for range 5 {
		e.clock.Advance(time.Second)
		r := e.query(t, elasticCount, nil)
		if len(r.Errors) > 0 || r.Extensions == nil {
			t.Fatalf("a failing upstream with a kept copy should answer stale: %s", r.raw)
		}
	}
	calls := e.ec.Calls("ListInvitations")
	r := e.query(t, elasticCount, nil)
	if e.ec.Calls("ListInvitations") != calls {
		t.Fatal("the open breaker let a call through")
	}
	jsonEq(t, r.Data, `{"invitations": {"totalCount": 3}}`)
	if w, _ := r.Extensions["warnings"].([]any); len(w) != 1 {
		t.Fatalf("want a STALE_DATA warning while the breaker is open: %s", r.raw)
	}

	// Without a kept copy, the open breaker is UPSTREAM_UNAVAILABLE and the others answer.
	fresh := newEnv(t, envOptions{policy: retryingPolicy})
	fresh.seed()
	fresh.ec.FailNext("ListInvitations", 15, http.StatusBadGateway)
	for range 5 {
		fresh.query(t, elasticCount, nil)
	}
	calls = fresh.ec.Calls("ListInvitations")
	r = fresh.query(t, `{ invitations { totalCount } }`, nil)
	if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "UPSTREAM_UNAVAILABLE" || fresh.ec.Calls("ListInvitations") != calls {
		t.Fatalf("open breaker without a copy: %s (calls %d -> %d)", r.raw, calls, fresh.ec.Calls("ListInvitations"))
	}
	jsonEq(t, r.Data, `{"invitations": {"totalCount": 5}}`)
}
