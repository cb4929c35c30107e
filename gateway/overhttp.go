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
// It also sends every answer in one piece with a Content-Length. gqlgen writes an answer with
// one Write of the whole body (nothing here streams), but without a length net/http chunks
// any body over 2 KiB, and the client then also waits for the terminating chunk, which the
// server writes only after the handler chain (access log included) has returned.
func overHTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &specWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		sw.finish()
	})
}

// specWriter holds an answer until the handler is done, then sends it (see overHTTP).
type specWriter struct {
	http.ResponseWriter
	status  int
	rewrite bool // a request-error body that must lose its "data": null
	buf     bytes.Buffer
}

func (s *specWriter) WriteHeader(code int) {
	mediaType, _, _ := mime.ParseMediaType(s.Header().Get("Content-Type"))
	switch {
	case code == http.StatusUnprocessableEntity && mediaType == "application/json":
		code = http.StatusOK
	case code == http.StatusBadRequest && mediaType == "application/graphql-response+json":
		s.rewrite = true
	}
	s.status = code
}

func (s *specWriter) Write(b []byte) (int, error) { return s.buf.Write(b) }

func (s *specWriter) finish() {
	body := s.buf.Bytes()
	if s.rewrite {
		var fields map[string]json.RawMessage
		if json.Unmarshal(body, &fields) == nil && string(fields["data"]) == "null" {
			delete(fields, "data")
			if b, err := json.Marshal(fields); err == nil {
				body = b
			}
		}
	}
	if s.status != http.StatusNoContent && s.status != http.StatusNotModified && s.status >= 200 {
		s.Header().Set("Content-Length", strconv.Itoa(len(body)))
	}
	s.ResponseWriter.WriteHeader(s.status)
	if len(body) > 0 {
		_, _ = s.ResponseWriter.Write(body)
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *specWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
