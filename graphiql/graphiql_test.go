package graphiql_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/invitegw/invitegw/graphiql"
)

func TestPageAndAssets(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", graphiql.Handler("invitegw", "/graphql", "/graphiql/"))
	mux.Handle("GET /graphiql/", http.StripPrefix("/graphiql/", graphiql.Assets()))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func(path string) (*http.Response, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	resp, page := get("/")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Security-Policy") != graphiql.CSP ||
		!strings.Contains(page, `data-endpoint="/graphql"`) || strings.Contains(page, "<script>") {
		t.Fatalf("page: %d, CSP %q:\n%s", resp.StatusCode, resp.Header.Get("Content-Security-Policy"), page)
	}
	// Every script and stylesheet the page names is served from here, with its type.
	refs := regexp.MustCompile(`(?:src|href)="(/graphiql/[^"?]+)\?v=[0-9a-f]{12}"`).FindAllStringSubmatch(page, -1)
	if len(refs) != 5 {
		t.Fatalf("the page names %d assets, want 5: %v", len(refs), refs)
	}
	for _, r := range refs {
		resp, body := get(r[1])
		want := "text/javascript; charset=utf-8"
		if strings.HasSuffix(r[1], ".css") {
			want = "text/css; charset=utf-8"
		}
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != want || len(body) < 100 {
			t.Errorf("%s: %d %q, %d bytes", r[1], resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
		}
	}
	if strings.Contains(page, "http://") || strings.Contains(page, "https://") {
		t.Errorf("the page names another origin:\n%s", page)
	}
	for _, path := range []string{"/graphiql/", "/graphiql/vendor/graphiql.min.js", "/graphiql/LICENSE.react", "/graphiql/../graphiql.go"} {
		if resp, _ := get(path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, resp.StatusCode)
		}
	}
}
