package upstream

import (
	"errors"
	"testing"
)

func TestGRPCCodeName(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "OK"}, {1, "CANCELLED"}, {5, "NOT_FOUND"}, {16, "UNAUTHENTICATED"}, {17, ""}, {-1, ""},
	}
	for _, tt := range tests {
		if got := GRPCCodeName(tt.n); got != tt.want {
			t.Errorf("GRPCCodeName(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestGRPCCodeKind(t *testing.T) {
	tests := []struct {
		name string
		code string
		want error
	}{
		{"enum name", "NOT_FOUND", ErrNotFound},
		{"connect name", "not_found", ErrNotFound},
		{"unauthenticated", "UNAUTHENTICATED", ErrUnauthenticated},
		{"permission denied", "permission_denied", ErrForbidden},
		{"resource exhausted", "RESOURCE_EXHAUSTED", ErrRateLimited},
		{"deadline exceeded", "deadline_exceeded", ErrTimeout},
		{"unavailable", "UNAVAILABLE", ErrUnavailable},
		{"failed precondition is an invalid argument", "FAILED_PRECONDITION", ErrInvalidArgument},
		{"out of range is an invalid argument", "out_of_range", ErrInvalidArgument},
		{"internal keeps the status kind", "INTERNAL", nil},
		{"already exists keeps the status kind", "already_exists", nil},
		{"unknown code", "TEAPOT", nil},
		{"empty code", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := GRPCCodeKind(tt.code); !errors.Is(got, tt.want) || (got == nil) != (tt.want == nil) {
				t.Errorf("GRPCCodeKind(%q) = %v, want %v", tt.code, got, tt.want)
			}
		})
	}
}
