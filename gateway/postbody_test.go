package gateway

import "testing"

func TestResponseContentType(t *testing.T) {
	tests := []struct{ accept, want string }{
		{"", "application/json"},
		{"*/*", "application/json"},
		{"application/json", "application/json"},
		{"application/graphql-response+json", "application/graphql-response+json"},
		{"application/graphql-response+json, application/json;q=0.9", "application/graphql-response+json"},
		{"text/html, application/json", "application/json"},
		{"text/html", "application/graphql-response+json"},
		{"not a media type;;, application/*", "application/json"},
	}
	for _, tt := range tests {
		if got := responseContentType(tt.accept); got != tt.want {
			t.Errorf("Accept %q: %q, want %q", tt.accept, got, tt.want)
		}
	}
}
