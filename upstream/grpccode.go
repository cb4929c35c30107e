package upstream

import "strings"

// Redpanda (a grpc-gateway that writes the enum name) and Frontier (the number over REST, the
// lower-snake name over Connect) both answer errors with a google.rpc.Code. This is the one table
// of those codes, so a code means the same kind whichever provider or transport carried it.

// grpcCodeNames are the google.rpc.Code enum names by number.
var grpcCodeNames = [...]string{
	"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
	"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
	"OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
}

// grpcCodeKinds are the codes that say more than the HTTP status they come with. The others
// (INTERNAL, UNKNOWN, DATA_LOSS, ALREADY_EXISTS, ABORTED, UNIMPLEMENTED, CANCELLED) keep the kind
// of their status: 500 and 501 are unavailable, 409 an invalid argument.
var grpcCodeKinds = map[string]error{
	"INVALID_ARGUMENT":    ErrInvalidArgument,
	"FAILED_PRECONDITION": ErrInvalidArgument,
	"OUT_OF_RANGE":        ErrInvalidArgument,
	"DEADLINE_EXCEEDED":   ErrTimeout,
	"NOT_FOUND":           ErrNotFound,
	"PERMISSION_DENIED":   ErrForbidden,
	"RESOURCE_EXHAUSTED":  ErrRateLimited,
	"UNAVAILABLE":         ErrUnavailable,
	"UNAUTHENTICATED":     ErrUnauthenticated,
}

// GRPCCodeName is the enum name of a gRPC code number ("NOT_FOUND" for 5), or "" for a number
// outside the table.
func GRPCCodeName(n int64) string {
	if n < 0 || n >= int64(len(grpcCodeNames)) {
		return ""
	}
	return grpcCodeNames[n]
}

// GRPCCodeKind is the kind a gRPC code gives an error, or nil when the code says no more than
// the HTTP status (or is unknown). code is the enum name ("NOT_FOUND") or the Connect protocol's
// lower-snake name ("not_found"), which differ only in case for every code that has a kind.
func GRPCCodeKind(code string) error {
	return grpcCodeKinds[strings.ToUpper(code)]
}
