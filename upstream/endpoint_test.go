package upstream

import (
	"errors"
	"testing"
	"time"
)

func TestCheckBaseURL(t *testing.T) {
	tests := []struct {
		name    string
		s, def  string
		want    string
		wantErr string
	}{
		{name: "default when empty", def: "https://api.example.com", want: "https://api.example.com"},
		{name: "trailing slashes dropped", s: "http://127.0.0.1:8080//", want: "http://127.0.0.1:8080"},
		{name: "path prefix kept", s: "https://proxy.example.com/frontier/", want: "https://proxy.example.com/frontier"},
		{name: "required without a default", wantErr: "p: base url is required"},
		{name: "relative url", s: "/api", wantErr: "p: base url must be an absolute http(s) url without query"},
		{name: "other scheme", s: "ftp://example.com", wantErr: "p: base url must be an absolute http(s) url without query"},
		{name: "query", s: "https://example.com?a=1", wantErr: "p: base url must be an absolute http(s) url without query"},
		{name: "fragment", s: "https://example.com#x", wantErr: "p: base url must be an absolute http(s) url without query"},
		{name: "unparsable", s: "https://exa mple.com:x", wantErr: "p: base url must be an absolute http(s) url without query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CheckBaseURL("p", "base url", tt.s, tt.def)
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

func TestDefaults(t *testing.T) {
	if hc := HTTPClientOr(nil); hc == nil || hc.Timeout == 0 {
		t.Errorf("HTTPClientOr(nil) = %+v, want a client with a timeout", hc)
	}
	tests := []struct{ in, want time.Duration }{{0, DefaultTimeout}, {-1, DefaultTimeout}, {time.Second, time.Second}}
	for _, tt := range tests {
		if got := TimeoutOr(tt.in); got != tt.want {
			t.Errorf("TimeoutOr(%v) = %v, want %v", tt.in, got, tt.want)
		}
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
