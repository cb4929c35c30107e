// Package graphiql serves the GraphiQL IDE from the binary: the page, its start script and
// the GraphiQL and React bundles (npm packages pinned in package.json, copied into
// assets/vendor by `make graphiql-assets`). The page loads nothing from another origin, and
// its Content-Security-Policy allows nothing else: it works without internet access and
// behind a strict network policy.
package graphiql

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed assets
var assets embed.FS

// CSP allows the page only its own scripts, styles and API; fonts and icons are data: URIs
// inside GraphiQL's stylesheet, and its editors set inline styles.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{{.Prefix}}graphiql.min.css?v={{.Version}}">
<style>body { margin: 0; } #graphiql { height: 100dvh; }</style>
</head>
<body>
<div id="graphiql" data-endpoint="{{.Endpoint}}">Loading GraphiQL…</div>
<script src="{{.Prefix}}react.production.min.js?v={{.Version}}"></script>
<script src="{{.Prefix}}react-dom.production.min.js?v={{.Version}}"></script>
<script src="{{.Prefix}}graphiql.min.js?v={{.Version}}"></script>
<script src="{{.Prefix}}init.js?v={{.Version}}"></script>
</body>
</html>
`))

// Handler serves the page at any path it is mounted on, with title, querying endpoint, and
// its assets under prefix (a path ending in "/", which Assets must be mounted on).
func Handler(title, endpoint, prefix string) http.Handler {
	var b strings.Builder
	if err := page.Execute(&b, map[string]string{"Title": title, "Endpoint": endpoint, "Prefix": prefix, "Version": version}); err != nil {
		panic("graphiql: " + err.Error()) // a constant template with string data cannot fail
	}
	body := []byte(b.String())
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-cache")
		_, _ = w.Write(body)
	})
}

// version names the embedded assets' content: the page asks for each with ?v=version, so a
// browser that kept them for a day still gets the new ones right after an upgrade.
var version = func() string {
	h := sha256.New()
	_ = fs.WalkDir(assets, "assets", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := assets.ReadFile(path)
			h.Write([]byte(path))
			h.Write(b)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}()

// Assets serves the page's scripts and styles (mount it with http.StripPrefix on the prefix
// given to Handler). The page names them with their content's version, so they are cached
// for a day.
func Assets() http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic("graphiql: " + err.Error())
	}
	files := http.FileServerFS(flatten{sub})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", CSP)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	})
}

// flatten serves init.js and the vendored files from one directory, and no listings.
type flatten struct{ fs.FS }

func (f flatten) Open(name string) (fs.File, error) {
	if name == "." || strings.Contains(name, "/") || strings.HasPrefix(name, "LICENSE") {
		return nil, fs.ErrNotExist
	}
	if name == "init.js" {
		return f.FS.Open(name)
	}
	return f.FS.Open("vendor/" + name)
}
