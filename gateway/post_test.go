package gateway

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// TestWriteResponse: writeResponse writes what encoding/json makes of a graphql.Response (the
// same members, in the same order, the same values), except that the data is copied as it is.
func TestWriteResponse(t *testing.T) {
	yes := true
	tests := []struct {
		name string
		resp graphql.Response
	}{
		{"data only", graphql.Response{Data: json.RawMessage(`{"invitations":{"edges":[{"node":{"id":"redpanda:rp-1"}}]}}`)}},
		{"no data", graphql.Response{}},
		{"errors and data", graphql.Response{
			Errors: gqlerror.List{{Message: "upstream unavailable", Path: ast.Path{ast.PathName("invitations")},
				Extensions: map[string]any{"code": "UPSTREAM_UNAVAILABLE", "provider": "elastic"}}},
			Data: json.RawMessage(`{"invitations":null}`)}},
		{"errors without data", graphql.Response{Errors: gqlerror.List{{Message: `bad "input" <here>`}}}},
		{"every member", graphql.Response{Data: json.RawMessage(`{"a":1}`), Label: "l", Path: ast.Path{ast.PathName("a"), ast.PathIndex(2)},
			HasNext: &yes, Extensions: map[string]any{"warnings": []map[string]any{{"code": "STALE_DATA", "ageSeconds": 31}}}}},
		{"data with HTML characters", graphql.Response{Data: json.RawMessage(`{"url":"https://x.example/?a=1&b=<2>"}`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			writeResponse(rec, http.StatusTeapot, &tt.resp)
			want, err := json.Marshal(&tt.resp)
			if err != nil {
				t.Fatal(err)
			}
			got := rec.Body.Bytes()
			if rec.Code != http.StatusTeapot || rec.Header().Get("Content-Length") != strconv.Itoa(len(got)) {
				t.Errorf("status %d, Content-Length %q for %d bytes", rec.Code, rec.Header().Get("Content-Length"), len(got))
			}
			var g, w any
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatalf("not JSON: %s: %v", got, err)
			}
			_ = json.Unmarshal(want, &w)
			if !reflect.DeepEqual(g, w) {
				t.Fatalf("got  %s\nwant %s", got, want)
			}
			if keys(t, got) != keys(t, want) {
				t.Errorf("member order %s, want %s", keys(t, got), keys(t, want))
			}
			// The data goes out byte for byte (encoding/json would have escaped & < >).
			if tt.resp.Data != nil && !bytes.Contains(got, []byte(`"data":`+string(tt.resp.Data))) {
				t.Errorf("data not copied as it is: %s", got)
			}
		})
	}
}

func TestWriteNoResponse(t *testing.T) {
	rec := httptest.NewRecorder()
	writeResponse(rec, http.StatusOK, nil)
	if want, _ := json.Marshal((*graphql.Response)(nil)); rec.Body.String() != string(want) || rec.Header().Get("Content-Length") != "4" {
		t.Fatalf("body %q (Content-Length %q), want %q", rec.Body, rec.Header().Get("Content-Length"), want)
	}
}

// TestResponseMembers fails when gqlgen's Response gains a member that writeResponse does not
// write.
func TestResponseMembers(t *testing.T) {
	var names []string
	rt := reflect.TypeFor[graphql.Response]()
	for i := range rt.NumField() {
		names = append(names, rt.Field(i).Tag.Get("json"))
	}
	want := []string{"errors,omitempty", "data", "label,omitempty", "path,omitempty", "hasNext,omitempty", "extensions,omitempty"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("graphql.Response members %q, writeResponse writes %q", names, want)
	}
}

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

// keys lists the top-level member names of a JSON object, in order.
func keys(t *testing.T, b []byte) string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	out := ""
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		out += k.(string) + " "
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
