package invite

import "fmt"

// Code is a stable, client-facing error code (GraphQL extensions.code). Application codes live
// here; upstream failures get their UPSTREAM_* codes from the upstream error kinds.
type Code string

// The application error codes.
const (
	CodeBadUserInput Code = "BAD_USER_INPUT"
	CodeNotFound     Code = "NOT_FOUND"
	CodeUnsupported  Code = "UNSUPPORTED_OPERATION"
	// CodeAlreadyExists: the invitee already belongs to the organization, or the provider
	// refused a second invitation.
	CodeAlreadyExists Code = "ALREADY_EXISTS"
	CodeInternal      Code = "INTERNAL_SERVER_ERROR"
)

// Error is a client-facing application error: its message is safe to show to the caller.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf builds an application error with a formatted, client-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}
