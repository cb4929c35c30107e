package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/invitegw/invitegw/invite"
	"github.com/invitegw/invitegw/upstream"
)

// Upstream error codes, one per upstream.Err* kind, as clients see them in extensions.code.
const (
	CodeUpstreamUnauthenticated = "UPSTREAM_UNAUTHENTICATED"
	CodeUpstreamForbidden       = "UPSTREAM_FORBIDDEN"
	CodeUpstreamRateLimited     = "UPSTREAM_RATE_LIMITED"
	CodeUpstreamUnavailable     = "UPSTREAM_UNAVAILABLE"
	CodeUpstreamTimeout         = "UPSTREAM_TIMEOUT"
	CodeUpstreamBadResponse     = "UPSTREAM_BAD_RESPONSE"
)

// upstreamCodes maps each upstream kind to its code and the message clients see. Messages are
// ours: an upstream body may carry anything.
var upstreamCodes = []struct {
	kind    error
	code    string
	message string
}{
	{upstream.ErrUnauthenticated, CodeUpstreamUnauthenticated, "the gateway's credential was rejected"},
	{upstream.ErrForbidden, CodeUpstreamForbidden, "the gateway's credential is not allowed to read this"},
	{upstream.ErrRateLimited, CodeUpstreamRateLimited, "rate limited"},
	{upstream.ErrTimeout, CodeUpstreamTimeout, "did not answer in time"},
	{upstream.ErrUnavailable, CodeUpstreamUnavailable, "unavailable"},
	// A configured organization the upstream does not know is a configuration problem that
	// surfaces as an unusable answer.
	{upstream.ErrNotFound, CodeUpstreamBadResponse, "did not find a configured organization"},
	{upstream.ErrBadResponse, CodeUpstreamBadResponse, "sent a response the gateway could not use"},
	{upstream.ErrInvalidArgument, CodeUpstreamBadResponse, "rejected the gateway's request"},
}

// presenter turns resolver errors into client-safe GraphQL errors: application errors keep
// their message and code, upstream errors get ours plus extensions.provider, and anything else
// becomes a generic internal error whose cause goes to the log.
func presenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		var (
			appErr *invite.Error
			upErr  *upstream.Error
			preset *gqlerror.Error
		)
		switch {
		case errors.As(err, &appErr):
			gqlErr.Message = appErr.Message
			setCode(gqlErr, string(appErr.Code))
		case errors.As(err, &upErr):
			log.WarnContext(ctx, "upstream error", "request_id", RequestID(ctx),
				"operation", operationName(ctx), "error", upErr.Error())
			code, msg := CodeUpstreamBadResponse, "failed"
			for _, c := range upstreamCodes {
				if errors.Is(upErr, c.kind) {
					code, msg = c.code, c.message
					break
				}
			}
			p, _ := invite.ProviderFromSlug(upErr.Provider)
			gqlErr.Message = string(p) + ": " + msg
			setCode(gqlErr, code)
			gqlErr.Extensions["provider"] = string(p)
		case errors.As(err, &preset) && !wrapsForeign(preset):
			// gqlgen's own request errors (parsing, validation, variables) are client-safe;
			// the ones without a code are about the caller's input. gqlgen also wraps every
			// resolver error in a *gqlerror.Error: those wrapping anything but our own kinds
			// fall through to default.
			if gqlErr.Extensions["code"] == nil {
				setCode(gqlErr, string(invite.CodeBadUserInput))
			}
		default:
			if !errors.Is(err, errPanic) { // a panic was logged with its stack where it was recovered
				log.ErrorContext(ctx, "internal error", "request_id", RequestID(ctx),
					"operation", operationName(ctx), "error", err.Error())
			}
			gqlErr.Message = "internal error"
			gqlErr.Extensions = nil
			setCode(gqlErr, string(invite.CodeInternal))
		}
		return gqlErr
	}
}

// wrapsForeign reports whether e is gqlgen's wrapper around an error that is neither one of
// its own nor one of ours: a resolver's unexpected error, whose text is not for clients.
func wrapsForeign(e *gqlerror.Error) bool {
	var inner *gqlerror.Error
	return e.Err != nil && !errors.As(e.Err, &inner)
}

// errPanic is what a recovered resolver panic becomes; recoverPanic has logged it.
var errPanic = errors.New("resolver panicked")

// recoverPanic logs a resolver panic with its stack and turns it into an internal error.
func recoverPanic(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "resolver panic", "request_id", RequestID(ctx), "operation", operationName(ctx),
			"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return errPanic
	}
}

func setCode(e *gqlerror.Error, code string) {
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	e.Extensions["code"] = code
}
