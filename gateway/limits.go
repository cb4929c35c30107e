package gateway

import (
	"encoding/json"
	"mime"
	"net/http"
	"strconv"

	"github.com/invitegw/invitegw/invite"
)

// limitBody answers 413 to a request body larger than max before anything reads it, and caps
// bodies of unknown length (chunked) at max while they are read (postBody answers 413 when the
// cap is hit).
func limitBody(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			tooLarge(w, max)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		next.ServeHTTP(w, r)
	})
}

// tooLarge answers 413 for a body over max bytes.
func tooLarge(w http.ResponseWriter, max int64) {
	writeError(w, http.StatusRequestEntityTooLarge, "request body larger than "+strconv.FormatInt(max, 10)+" bytes",
		string(invite.CodeBadUserInput))
}

// Codes of the errors the HTTP layer answers before GraphQL runs.
const (
	CodeMethodNotAllowed     = "METHOD_NOT_ALLOWED"
	CodeUnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
)

// checkProtocol answers what GraphQL over HTTP has no transport for: 405 (with Allow) for a
// method other than GET, POST and OPTIONS (CORS preflights), and 415 for a POST whose body is
// not application/json. gqlgen would answer both with 400 "transport not supported".
func checkProtocol(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodOptions:
		case http.MethodPost:
			if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
				writeError(w, http.StatusUnsupportedMediaType, "a POST body must be application/json", CodeUnsupportedMediaType)
				return
			}
		default:
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed; use POST or GET", CodeMethodNotAllowed)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// writeError answers with one GraphQL error and no data, as application/json unless the
// caller has chosen the media type.
func writeError(w http.ResponseWriter, status int, message, code string) {
	body, _ := json.Marshal(map[string]any{"errors": []any{map[string]any{"message": message, "extensions": map[string]string{"code": code}}}})
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	setLength(w, len(body))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
