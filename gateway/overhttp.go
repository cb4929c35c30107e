package gateway

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
)

// overHTTP brings gqlgen's request-error answers in line with the GraphQL over HTTP spec
// (https://graphql.github.io/graphql-over-http/draft/), as the graphql-http audit checks:
//
//   - Under application/json, a request that fails parsing, validation or variable coercion is
//     answered with 200 (clients of that media type read errors from the body); gqlgen sends 422.
//   - Under application/graphql-response+json, such an answer (status 400) carries no "data"
//     entry, since execution never started; gqlgen writes "data": null.
//
// Other answers pass through untouched and unbuffered.
func overHTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &specWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		sw.finish()
	})
}

type specWriter struct {
	http.ResponseWriter
	hold   bool // buffering a request-error body to rewrite
	status int
	buf    bytes.Buffer
}

func (s *specWriter) WriteHeader(code int) {
	mediaType, _, _ := mime.ParseMediaType(s.Header().Get("Content-Type"))
	switch {
	case code == http.StatusUnprocessableEntity && mediaType == "application/json":
		code = http.StatusOK
	case code == http.StatusBadRequest && mediaType == "application/graphql-response+json":
		s.hold, s.status = true, code
		return
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *specWriter) Write(b []byte) (int, error) {
	if s.hold {
		return s.buf.Write(b)
	}
	return s.ResponseWriter.Write(b)
}

func (s *specWriter) finish() {
	if !s.hold {
		return
	}
	body := s.buf.Bytes()
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) == nil && string(fields["data"]) == "null" {
		delete(fields, "data")
		if b, err := json.Marshal(fields); err == nil {
			body = b
		}
	}
	setLength(s.ResponseWriter, len(body))
	s.ResponseWriter.WriteHeader(s.status)
	_, _ = s.ResponseWriter.Write(body)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *specWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// setLength announces a body of n bytes that its writer holds whole. Without a length,
// net/http chunks any body over 2 KiB, and the client then also waits for the terminating
// chunk, which the server writes only once the handler chain (access log included) returns.
func setLength(w http.ResponseWriter, n int) {
	w.Header().Set("Content-Length", strconv.Itoa(n))
}
