package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql/introspection"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/lexer"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/invitegw/invitegw/cache"
)

// TestHTTPProtocolErrors: what GraphQL over HTTP has no transport for gets its own status and
// a GraphQL error with a code, never gqlgen's 400 "transport not supported" or a Go message.
func TestHTTPProtocolErrors(t *testing.T) {
	e := newEnv(t, envOptions{})
	big := `{"query":"{ invitations { totalCount } }","variables":{"x":"` + strings.Repeat("a", 2<<20) + `"}}`
	tests := []struct {
		name, method, contentType string
		body                      io.Reader
		status                    int
		want                      string // the whole body
		allow                     string
	}{
		{"PUT", http.MethodPut, "application/json", strings.NewReader(`{"query":"{ __typename }"}`), 405,
			`{"errors":[{"extensions":{"code":"METHOD_NOT_ALLOWED"},"message":"method PUT is not allowed; use POST or GET"}]}`, "GET, POST, OPTIONS"},
		{"DELETE", http.MethodDelete, "", nil, 405,
			`{"errors":[{"extensions":{"code":"METHOD_NOT_ALLOWED"},"message":"method DELETE is not allowed; use POST or GET"}]}`, "GET, POST, OPTIONS"},
		{"text/plain", http.MethodPost, "text/plain", strings.NewReader(`{"query":"{ __typename }"}`), 415,
			`{"errors":[{"extensions":{"code":"UNSUPPORTED_MEDIA_TYPE"},"message":"a POST body must be application/json"}]}`, ""},
		{"no content type", http.MethodPost, "", strings.NewReader(`{"query":"{ __typename }"}`), 415,
			`{"errors":[{"extensions":{"code":"UNSUPPORTED_MEDIA_TYPE"},"message":"a POST body must be application/json"}]}`, ""},
		// io.MultiReader hides the length: the client sends it chunked.
		{"chunked body over the limit", http.MethodPost, "application/json", io.MultiReader(strings.NewReader(big)), 413,
			`{"errors":[{"extensions":{"code":"BAD_USER_INPUT"},"message":"request body larger than 1048576 bytes"}]}`, ""},
		{"variables not an object", http.MethodPost, "application/json", strings.NewReader(`{"query":"{ __typename }","variables":"x"}`), 400,
			`{"errors":[{"extensions":{"code":"BAD_USER_INPUT"},"message":"\"variables\" must be a JSON object"}]}`, ""},
		{"query not a string", http.MethodPost, "application/json", strings.NewReader(`{"query":1}`), 400,
			`{"errors":[{"extensions":{"code":"BAD_USER_INPUT"},"message":"\"query\" must be a string"}]}`, ""},
		{"not JSON", http.MethodPost, "application/json", strings.NewReader(`{"query":`), 400,
			`{"errors":[{"extensions":{"code":"BAD_USER_INPUT"},"message":"the request body is not valid JSON"}]}`, ""},
		{"a JSON array", http.MethodPost, "application/json", strings.NewReader(`[]`), 400,
			`{"errors":[{"extensions":{"code":"BAD_USER_INPUT"},"message":"the request body must be a JSON object"}]}`, ""},
		// graphql-http audit 8764 and 3E3A: invalid parameters under application/json.
		{"no query", http.MethodPost, "application/json", strings.NewReader(`{"qeury":"{ __typename }"}`), 400,
			`{"errors":[{"extensions":{"code":"BAD_USER_INPUT"},"message":"the request has no \"query\""}]}`, ""},
		{"an empty query", http.MethodPost, "application/json", strings.NewReader(`{"query":"","variables":{}}`), 400,
			`{"errors":[{"extensions":{"code":"BAD_USER_INPUT"},"message":"the request has no \"query\""}]}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, e.gw.URL+"/graphql", tt.body)
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || resp.Header.Get("Allow") != tt.allow {
				t.Fatalf("status %d, Allow %q; want %d, %q: %s", resp.StatusCode, resp.Header.Get("Allow"), tt.status, tt.allow, raw)
			}
			jsonEq(t, raw, tt.want)
		})
	}
	if n := e.upstreamCalls(); n != 0 {
		t.Fatalf("refused requests made %d upstream calls", n)
	}
}

// panicOn makes the upstream transport panic for requests to host.
func panicOn(host string) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper {
		return roundTripper(func(r *http.Request) (*http.Response, error) {
			if "http://"+r.URL.Host == host {
				panic("boom: secret internal detail")
			}
			return next.RoundTrip(r)
		})
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestInternalErrorsAreNotShown: an error that is neither ours nor an upstream's (here a
// panic on the way to Elastic) reaches the client as a generic INTERNAL_SERVER_ERROR with the
// other providers' data, and the log has it in full with the request ID and the stack.
func TestInternalErrorsAreNotShown(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	e.gw.Close()
	e.gw, _ = e.newGateway(t, envOptions{store: cache.NewMemory(nil), transport: panicOn(e.ecURL)})
	body, _ := json.Marshal(map[string]any{"query": `{ invitations(filter: {providers: [ELASTIC]}) { totalCount } }`})
	req, _ := http.NewRequest(http.MethodPost, e.gw.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", "req-internal-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var r response
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Errors) != 1 || r.Errors[0].Message != "internal error" || r.Errors[0].Extensions["code"] != "INTERNAL_SERVER_ERROR" ||
		len(r.Errors[0].Extensions) != 1 {
		t.Fatalf("want one generic INTERNAL_SERVER_ERROR, got %s", raw)
	}
	if bytes.Contains(raw, []byte("boom")) || bytes.Contains(raw, []byte("panic")) {
		t.Fatalf("the panic's text reached the client: %s", raw)
	}
	log := e.log.String()
	for _, want := range []string{`"msg":"internal error"`, `"request_id":"req-internal-1"`, "boom: secret internal detail",
		`"msg":"cache: fetch panicked"`, "runtime/debug.Stack"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %s:\n%s", want, log)
		}
	}
}

// hugeQuery repeats one field until the document is size bytes long.
func hugeQuery(size int) string {
	const field = "organizations { id } "
	return "query Q { " + strings.Repeat(field, (size-12)/len(field)) + "}"
}

// TestHugeQueriesRejectedBeforeValidation: documents whose validation would cost more than
// their size suggests are refused by size first, each with its reason and no upstream call;
// GraphiQL's full introspection query stays well inside.
func TestHugeQueriesRejectedBeforeValidation(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.seed()
	var manyFields, sameName strings.Builder
	for i := range 1001 {
		fmt.Fprintf(&manyFields, "f%d: __typename ", i)
	}
	for range 101 {
		sameName.WriteString("__typename ")
	}
	// Fragments that each spread the one below twice: 3 KB, 156 fields written, 2^26 once
	// spread (depth, aliases and complexity walked it expanded, for seconds).
	var doubling strings.Builder
	doubling.WriteString("{ organizations { ...F26 } } fragment F0 on Organization { id } ")
	for k := 1; k <= 26; k++ {
		fmt.Fprintf(&doubling, "fragment F%d on Organization { invitations { nodes { organization { ...F%d } } "+
			"edges { node { organization { ...F%d } } } } } ", k, k-1, k-1)
	}
	tests := []struct{ name, query, reason string }{
		{"1 MiB of one field", hugeQuery(1<<20 - 100), "MAX_TOKENS"},
		{"1001 fields", "{ " + manyFields.String() + "}", "MAX_FIELDS"},
		{"fragments doubling per level", doubling.String(), "MAX_FIELDS"},
		{"101 fields of one name", "{ " + sameName.String() + "}", "MAX_SAME_NAME"},
		{"101 fields of one name in a fragment", "{ ...F } fragment F on Query { " + sameName.String() + "}", "MAX_SAME_NAME"},
		{"one field in 101 fragments", "{ " + spreads(101, "...F%d ") + "} " + spreads(101, "fragment F%d on Query { __typename } "), "MAX_SAME_NAME"},
		{"101 spreads", "{ " + spreads(101, "...F%d ") + "} " + spreads(101, "fragment F%d on Query { f%[1]d: __typename } "), "MAX_SPREADS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.query(t, tt.query, nil)
			if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "BAD_USER_INPUT" || r.Errors[0].Extensions["reason"] != tt.reason {
				t.Fatalf("want one BAD_USER_INPUT %s error, got %.500s", tt.reason, r.raw)
			}
		})
	}
	if n := e.upstreamCalls(); n != 0 {
		t.Fatalf("rejected queries made %d upstream calls", n)
	}
	// The full introspection query passes the size check (it is then refused for its depth,
	// a limit of its own).
	r := e.query(t, introspection.Query, nil)
	if len(r.Errors) != 1 || r.Errors[0].Extensions["reason"] != "MAX_DEPTH" {
		t.Fatalf("the introspection query: %.300s", r.raw)
	}
	tokens, fields := measure(t, introspection.Query)
	t.Logf("introspection query: %d tokens, %d fields", tokens, fields)
	if r := e.query(t, "{ "+sameName.String()[len("__typename "):]+"}", nil); len(r.Errors) > 0 {
		t.Fatalf("100 fields of one name were refused: %s", r.raw)
	}
	// One fragment per component, all spread into one selection set (the Relay pattern).
	relay := "{ invitations(first: 1) { nodes { " + spreads(31, "...C%d ") + "} } } " +
		spreads(31, "fragment C%d on Invitation { __typename id } ")
	if r := e.query(t, relay, nil); len(r.Errors) > 0 {
		t.Fatalf("31 component fragments were refused: %.300s", r.raw)
	}
}

// measure counts a document's tokens and the fields it writes.
func measure(t *testing.T, q string) (tokens, fields int) {
	lex := lexer.New(&ast.Source{Input: q})
	for {
		tok, err := lex.ReadToken()
		if err != nil {
			t.Fatal(err)
		}
		if tok.Kind == lexer.EOF {
			break
		}
		tokens++
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: q})
	if err != nil {
		t.Fatal(err)
	}
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				fields++
				walk(s.SelectionSet)
			case *ast.InlineFragment:
				walk(s.SelectionSet)
			}
		}
	}
	for _, op := range doc.Operations {
		walk(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		walk(f.SelectionSet)
	}
	return tokens, fields
}

// BenchmarkRejectHugeQuery: the cost of refusing a document of repeated fields grows with
// its size, linearly and in microseconds to milliseconds (validating 10,000 copies of one
// field took many seconds before the size check).
func BenchmarkRejectHugeQuery(b *testing.B) {
	e := newEnv(b, envOptions{})
	h := e.gw.Config.Handler
	for _, size := range []int{16 << 10, 128 << 10, 1<<20 - 100} {
		body, _ := json.Marshal(map[string]string{"query": hugeQuery(size)})
		b.Run(fmt.Sprintf("bytes=%d", size), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if out := w.Body.Bytes(); !bytes.Contains(out, []byte(`"reason":"MAX_`)) {
					b.Fatalf("not refused by size: %.300s", w.Body.Bytes())
				}
			}
		})
	}
}

// spreads repeats format n times, each with its index.
func spreads(n int, format string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, format, i)
	}
	return b.String()
}

// TestNoGraphiQLWithoutIntrospection: GraphiQL needs introspection, so an instance without it
// serves neither the page nor its assets.
func TestNoGraphiQLWithoutIntrospection(t *testing.T) {
	e := newEnv(t, envOptions{noIntrospection: true})
	for _, path := range []string{"/", "/graphiql/init.js"} {
		resp, err := http.Get(e.gw.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, resp.StatusCode)
		}
	}
}
