package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/invitegw/invitegw/invite"
)

// postBody reads a POST body whole (limitBody caps it) and answers, before gqlgen sees it,
// what cannot be a GraphQL request: 413 past the cap, and 400 for a body that is not a JSON
// object holding GraphQL's parameters with their types (query and operationName strings,
// variables and extensions objects) or that has no query (outside a persisted query). The
// spec lets a server answer invalid parameters with 400, and the graphql-http audit asks for
// it (8764, 3E3A). gqlgen's transport.POST would answer the first with 200 and a Go error
// text, a missing query with 200 under application/json, the others with 400 and the body
// echoed back. The body is then handed on as read.
func postBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if tooBig, ok := errors.AsType[*http.MaxBytesError](err); ok {
			tooLarge(w, tooBig.Limit)
			return
		}
		msg := "could not read the request body"
		if err == nil {
			msg = paramsError(body)
		}
		if msg != "" {
			// In the media type gqlgen would have answered in.
			w.Header().Set("Content-Type", responseContentType(r.Header.Get("Accept")))
			writeError(w, http.StatusBadRequest, msg, string(invite.CodeBadUserInput))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// paramsError says what is wrong with a POST body's GraphQL parameters, in the protocol's
// words (encoding/json's messages name Go types), or "" when nothing is.
func paramsError(body []byte) string {
	var p struct {
		Query         *string                    `json:"query"`
		OperationName *string                    `json:"operationName"`
		Variables     map[string]json.RawMessage `json:"variables"`
		Extensions    map[string]json.RawMessage `json:"extensions"`
	}
	err := json.Unmarshal(body, &p)
	if err == nil {
		// A persisted query (APQ) may leave the query out: gqlgen fills it in, or answers
		// PERSISTED_QUERY_NOT_FOUND so that the client sends it.
		if (p.Query == nil || *p.Query == "") && p.Extensions["persistedQuery"] == nil {
			return `the request has no "query"`
		}
		return ""
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		switch te.Field {
		case "query", "operationName":
			return `"` + te.Field + `" must be a string`
		case "variables", "extensions":
			return `"` + te.Field + `" must be a JSON object`
		case "":
			return "the request body must be a JSON object"
		}
		return `"` + te.Field + `" has the wrong type`
	}
	return "the request body is not valid JSON"
}

// responseContentType picks the answer's media type from the Accept header as gqlgen's
// transports do: the first of application/json and application/graphql-response+json that is
// accepted, JSON for a wildcard or no Accept at all, and graphql-response+json when nothing
// known is accepted.
func responseContentType(accept string) string {
	const js, gql = "application/json", "application/graphql-response+json"
	if accept == "" {
		return js
	}
	for part := range strings.SplitSeq(accept, ",") {
		mediaType, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mediaType {
		case "*/*", "application/*", js:
			return js
		case gql:
			return gql
		}
	}
	return gql
}
