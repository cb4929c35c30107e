package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/invitegw/invitegw/errcode"
	"github.com/invitegw/invitegw/invite"
)

// presenter turns resolver errors into client-safe GraphQL errors: application errors keep
// their message and code, upstream errors get ours plus extensions.provider, and anything else
// becomes a generic internal error whose cause goes to the log.
func presenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		var preset *gqlerror.Error
		c := errcode.Of(err)
		switch {
		case c.Known:
			if c.Upstream != nil {
				log.WarnContext(ctx, "upstream error", "request_id", RequestID(ctx),
					"operation", operationName(ctx), "error", c.Upstream.Error())
				if gqlErr.Extensions == nil {
					gqlErr.Extensions = map[string]any{}
				}
				gqlErr.Extensions["provider"] = string(c.Provider)
			}
			gqlErr.Message = c.Message
			setCode(gqlErr, c.Code)
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
			gqlErr.Message = c.Message
			gqlErr.Extensions = nil
			setCode(gqlErr, c.Code)
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
