// Package upstream holds what the provider clients share: the typed upstream error with its
// kinds, and one way to make a bounded JSON call (timeout, body size limit, error decoding).
//
// The provider packages (redpanda, elastic, frontier) speak each API in its own words; this
// package speaks none of them.
package upstream

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Kinds of upstream failure. Test with errors.Is(err, upstream.ErrNotFound); the GraphQL layer
// maps each to a stable extensions.code.
var (
	ErrNotFound        = errors.New("not found")
	ErrUnauthenticated = errors.New("unauthenticated")
	ErrForbidden       = errors.New("forbidden")
	ErrRateLimited     = errors.New("rate limited")
	ErrUnavailable     = errors.New("unavailable")
	ErrTimeout         = errors.New("timeout")
	ErrBadResponse     = errors.New("bad response")
	// ErrInvalidArgument is the upstream rejecting our request as malformed: a bug on our side
	// or input we failed to validate.
	ErrInvalidArgument = errors.New("invalid argument")
)

// Error is a failed upstream call.
//
// Message is the provider's own message: fine for logs, never shown to GraphQL clients (the
// presenter writes its own text).
type Error struct {
	Provider string // "redpanda", "elastic", "frontier"
	Op       string // the provider's operation name, e.g. "ListUserInvites"
	Status   int    // HTTP status; 0 when no response arrived
	Code     string // the provider's error code, e.g. "NOT_FOUND", "organization.not_found", "5"
	Message  string
	Kind     error // one of the Err* kinds
	// RetryAfter is the server's Retry-After hint, when it sent one.
	RetryAfter time.Duration
	Err        error // the underlying cause, if any (network error, decode error)
}

func (e *Error) Error() string {
	s := e.Provider + ": " + e.Op + ": " + e.Kind.Error()
	if e.Status != 0 {
		s += fmt.Sprintf(" (HTTP %d", e.Status)
		if e.Code != "" {
			s += " " + e.Code
		}
		s += ")"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is makes errors.Is(err, ErrNotFound) and friends work.
func (e *Error) Is(target error) bool { return target == e.Kind }

// Unwrap exposes the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// KindForStatus is the default kind of an HTTP error status, before any provider-specific code
// refines it.
func KindForStatus(status int) error {
	switch {
	case status == http.StatusUnauthorized:
		return ErrUnauthenticated
	case status == http.StatusForbidden:
		return ErrForbidden
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status == http.StatusRequestTimeout, status == http.StatusGatewayTimeout:
		return ErrTimeout
	case status >= 500:
		return ErrUnavailable
	case status >= 400:
		return ErrInvalidArgument
	}
	return ErrBadResponse
}
