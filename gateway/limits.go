package gateway

import (
	"net/http"
	"strconv"
)

// limitBody answers 413 to a request body larger than max before anything reads it, and caps
// bodies of unknown length (chunked) at max while they are read.
func limitBody(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			_, _ = w.Write([]byte(`{"errors":[{"message":"request body larger than ` + strconv.FormatInt(max, 10) +
				` bytes","extensions":{"code":"BAD_USER_INPUT"}}]}`))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		next.ServeHTTP(w, r)
	})
}
