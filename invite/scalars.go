package invite

import (
	"time"

	"github.com/99designs/gqlgen/graphql"
)

// MarshalTime and UnmarshalTime bind the Time scalar (gqlgen.yml). Writing is gqlgen's;
// reading answers a malformed value with a BAD_USER_INPUT error of ours, so that every error
// an argument's coercion can raise is an application error, and anything else that reaches
// the error presenter is an internal one.
func MarshalTime(t time.Time) graphql.Marshaler { return graphql.MarshalTime(t) }

// UnmarshalTime reads an RFC 3339 time.
func UnmarshalTime(v any) (time.Time, error) {
	t, err := graphql.UnmarshalTime(v)
	if err != nil {
		return time.Time{}, Errorf(CodeBadUserInput, "Time must be an RFC 3339 string, e.g. 2026-12-31T00:00:00Z")
	}
	return t, nil
}
