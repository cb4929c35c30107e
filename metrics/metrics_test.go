package metrics

import (
	"fmt"
	"testing"
)

func TestOperationLabelIsBounded(t *testing.T) {
	m := New()
	tests := []struct{ in, want string }{
		{"", "anonymous"},
		{"ListInvites", "ListInvites"},
		{"has space", "other"},
		{"ada@example.com", "other"},
		{string(make([]byte, 100)), "other"},
	}
	for _, tt := range tests {
		if got := m.operation(tt.in); got != tt.want {
			t.Errorf("operation(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for i := range maxOperationNames + 10 {
		m.operation(fmt.Sprintf("Op%d", i))
	}
	if got := m.operation("BrandNew"); got != "other" {
		t.Fatalf("name %d = %q, want other", maxOperationNames+11, got)
	}
	if got := m.operation("ListInvites"); got != "ListInvites" {
		t.Fatalf("a name seen before the cap = %q", got)
	}
}
