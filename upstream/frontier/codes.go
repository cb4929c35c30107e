package frontier

import "github.com/invitegw/invitegw/upstream"

// Frontier's errors are gRPC status codes on both transports: REST writes the number (5), Connect
// the lower-snake name ("not_found"). One table maps them to upstream kinds, so a failure means
// the same to the gateway whichever transport carried it.

// grpcCodeNames are the gRPC codes by number, named as the Connect protocol writes them.
var grpcCodeNames = [...]string{
	0: "ok", 1: "canceled", 2: "unknown", 3: "invalid_argument", 4: "deadline_exceeded",
	5: "not_found", 6: "already_exists", 7: "permission_denied", 8: "resource_exhausted",
	9: "failed_precondition", 10: "aborted", 11: "out_of_range", 12: "unimplemented",
	13: "internal", 14: "unavailable", 15: "data_loss", 16: "unauthenticated",
}

// codeName is the Connect name of a gRPC code number, or "" for a number outside the table.
func codeName(code int32) string {
	if code < 0 || int(code) >= len(grpcCodeNames) {
		return ""
	}
	return grpcCodeNames[code]
}

// codeKinds refines the status-derived kind by code, for the codes that say more than their
// HTTP status. Codes not listed (internal, unknown, data_loss, already_exists, aborted,
// unimplemented, canceled) keep the kind of the HTTP status they came with: 500 and 501 are
// unavailable, 409 an invalid argument.
var codeKinds = map[string]error{
	"invalid_argument":    upstream.ErrInvalidArgument,
	"failed_precondition": upstream.ErrInvalidArgument,
	"out_of_range":        upstream.ErrInvalidArgument,
	"deadline_exceeded":   upstream.ErrTimeout,
	"not_found":           upstream.ErrNotFound,
	"permission_denied":   upstream.ErrForbidden,
	"resource_exhausted":  upstream.ErrRateLimited,
	"unavailable":         upstream.ErrUnavailable,
	"unauthenticated":     upstream.ErrUnauthenticated,
}
