package fakeserver

import "testing"

func TestGRPCCodeFor(t *testing.T) {
	tests := []struct {
		status  int
		want    GRPCCode
		connect string
	}{
		{400, GRPCCode{3, "INVALID_ARGUMENT"}, "invalid_argument"},
		{401, GRPCCode{16, "UNAUTHENTICATED"}, "unauthenticated"},
		{404, GRPCCode{5, "NOT_FOUND"}, "not_found"},
		{429, GRPCCode{8, "RESOURCE_EXHAUSTED"}, "resource_exhausted"},
		{499, GRPCCode{1, "CANCELLED"}, "canceled"},
		{504, GRPCCode{4, "DEADLINE_EXCEEDED"}, "deadline_exceeded"},
		{418, GRPCCode{2, "UNKNOWN"}, "unknown"},
	}
	for _, tt := range tests {
		got := GRPCCodeFor(tt.status)
		if got != tt.want || got.ConnectName() != tt.connect {
			t.Errorf("GRPCCodeFor(%d) = %+v (%q), want %+v (%q)", tt.status, got, got.ConnectName(), tt.want, tt.connect)
		}
	}
}
