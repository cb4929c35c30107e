// Package errcode classifies errors into what clients see: a stable code (GraphQL
// extensions.code, the audit trail's errorCode, a mutation result's error code), a message of
// ours, and the provider an upstream failure came from. The GraphQL error presenter and
// everything that reports errors as data use it, so one error reads the same everywhere.
package errcode

import (
	"errors"

	"github.com/invitegw/invitegw/invite"
	"github.com/invitegw/invitegw/upstream"
)

// Upstream error codes, one per upstream.Err* kind.
const (
	UpstreamUnauthenticated = "UPSTREAM_UNAUTHENTICATED"
	UpstreamForbidden       = "UPSTREAM_FORBIDDEN"
	UpstreamRateLimited     = "UPSTREAM_RATE_LIMITED"
	UpstreamUnavailable     = "UPSTREAM_UNAVAILABLE"
	UpstreamTimeout         = "UPSTREAM_TIMEOUT"
	UpstreamBadResponse     = "UPSTREAM_BAD_RESPONSE"
)

// upstreamCodes maps each upstream kind to its code and the message clients see. Messages are
// ours: an upstream body may carry anything.
var upstreamCodes = []struct {
	kind    error
	code    string
	message string
}{
	{upstream.ErrUnauthenticated, UpstreamUnauthenticated, "the gateway's credential was rejected"},
	{upstream.ErrForbidden, UpstreamForbidden, "the gateway's credential is not allowed to read this"},
	{upstream.ErrRateLimited, UpstreamRateLimited, "rate limited"},
	{upstream.ErrTimeout, UpstreamTimeout, "did not answer in time"},
	{upstream.ErrUnavailable, UpstreamUnavailable, "unavailable"},
	// A configured organization the upstream does not know is a configuration problem that
	// surfaces as an unusable answer.
	{upstream.ErrNotFound, UpstreamBadResponse, "did not find a configured organization"},
	{upstream.ErrBadResponse, UpstreamBadResponse, "sent a response the gateway could not use"},
	{upstream.ErrInvalidArgument, UpstreamBadResponse, "rejected the gateway's request"},
}

// Class is what clients may learn of an error.
type Class struct {
	Code    string
	Message string
	// Provider is set for upstream failures.
	Provider invite.Provider
	// Known is false for errors that are neither ours nor an upstream's: their text is not for
	// clients (Message is "internal error") and belongs in the log.
	Known bool
	// Upstream is the upstream failure, when it is one (for logging its details).
	Upstream *upstream.Error
}

// Of classifies err. Application errors (invite.Error) keep their code and message; upstream
// errors get an UPSTREAM_* code and a message of ours prefixed with the provider.
func Of(err error) Class {
	var (
		appErr *invite.Error
		upErr  *upstream.Error
	)
	switch {
	case errors.As(err, &appErr):
		return Class{Code: string(appErr.Code), Message: appErr.Message, Known: true}
	case errors.As(err, &upErr):
		code, msg := UpstreamBadResponse, "failed"
		for _, c := range upstreamCodes {
			if errors.Is(upErr, c.kind) {
				code, msg = c.code, c.message
				break
			}
		}
		p, _ := invite.ProviderFromSlug(upErr.Provider)
		return Class{Code: code, Message: string(p) + ": " + msg, Provider: p, Known: true, Upstream: upErr}
	}
	return Class{Code: string(invite.CodeInternal), Message: "internal error"}
}
