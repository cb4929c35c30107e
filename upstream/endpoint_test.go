package upstream

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestCheckBaseURL(t *testing.T) {
	tests := []struct {
		name    string
		s       string
		want    string
		wantErr string
	}{
		{name: "plain host", s: "https://api.example.com", want: "https://api.example.com"},
		{name: "trailing slashes dropped", s: "http://127.0.0.1:8080//", want: "http://127.0.0.1:8080"},
		{name: "path prefix kept", s: "https://proxy.example.com/frontier/", want: "https://proxy.example.com/frontier"},
		{name: "empty is refused, never defaulted", wantErr: "p: base url is required"},
		{name: "relative url", s: "/api", wantErr: "p: base url must be an absolute http(s) url without query"},
		{name: "other scheme", s: "ftp://example.com", wantErr: "p: base url must be an absolute http(s) url without query"},
		{name: "query", s: "https://example.com?a=1", wantErr: "p: base url must be an absolute http(s) url without query"},
		{name: "fragment", s: "https://example.com#x", wantErr: "p: base url must be an absolute http(s) url without query"},
		{name: "unparsable", s: "https://exa mple.com:x", wantErr: "p: base url must be an absolute http(s) url without query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CheckBaseURL("p", "base url", tt.s)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestHTTPClientOr(t *testing.T) {
	if hc := HTTPClientOr(nil); hc == nil || hc.Timeout == 0 {
		t.Errorf("HTTPClientOr(nil) = %+v, want a client with a timeout", hc)
	}
	hc := &http.Client{}
	if got := HTTPClientOr(hc); got != hc {
		t.Errorf("HTTPClientOr(hc) = %p, want hc %p", got, hc)
	}
}

func TestCheckTimeout(t *testing.T) {
	tests := []struct {
		name    string
		d       time.Duration
		wantErr string
	}{
		{name: "zero is refused, never defaulted", d: 0, wantErr: "p: timeout must be positive, got 0s"},
		{name: "negative is refused", d: -time.Second, wantErr: "p: timeout must be positive, got -1s"},
		{name: "a nanosecond is positive", d: time.Nanosecond},
		{name: "five seconds", d: 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckTimeout("p", tt.d)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("err = %v, want nil", err)
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestCredentialID(t *testing.T) {
	// sha256("abc")
	if got, want := CredentialID("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Errorf("CredentialID = %q, want %q", got, want)
	}
}

func TestPathSegment(t *testing.T) {
	tests := []struct {
		name string
		id   string
		want string // "" for refused
	}{
		{"plain", "inv-1", "inv-1"},
		{"slash and space are escaped", "acme/eu west", "acme%2Feu%20west"},
		{"dots inside are kept", "a.b", "a.b"},
		{"empty is refused", "", ""},
		{"dot is refused", ".", ""},
		{"dot dot is refused", "..", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PathSegment("p", "Op", "thing id", tt.id, ErrNotFound)
			if tt.want == "" {
				var ue *Error
				if !errors.Is(err, ErrNotFound) || !errors.As(err, &ue) || ue.Provider != "p" || ue.Op != "Op" || ue.Status != 0 {
					t.Errorf("err = %v, want a p/Op ErrNotFound", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
