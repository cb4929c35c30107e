package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// post is the GraphQL-over-HTTP POST transport. It accepts what gqlgen's transport.POST
// accepts and answers as it does, except for how it writes an answer: transport.POST passes
// the whole *graphql.Response through encoding/json, which validates and compacts again the
// data that gqlgen has just written as compact JSON (a json.RawMessage), a tenth of the CPU of
// executing the benchmark query from cache. writeResponse writes the data as it is.
type post struct{ transport.POST }

func (post) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	contentType := responseContentType(r.Header.Get("Accept"))
	w.Header().Set("Content-Type", contentType)
	start := graphql.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		if tooBig, ok := errors.AsType[*http.MaxBytesError](err); ok {
			tooLarge(w, tooBig.Limit)
			return
		}
		writeResponse(w, http.StatusBadRequest, exec.DispatchError(ctx, gqlerror.List{gqlerror.Errorf("could not read the request body")}))
		return
	}
	var params graphql.RawParams
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // variables keep their numbers exact, as gqlgen's transports do
	if err := dec.Decode(&params); err != nil {
		writeResponse(w, http.StatusBadRequest, exec.DispatchError(ctx, gqlerror.List{gqlerror.Errorf("%s", bodyError(err))}))
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	rc, errs := exec.CreateOperationContext(ctx, &params)
	if errs != nil {
		writeResponse(w, requestErrorStatus(contentType, errs), exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, rc)
	writeResponse(w, http.StatusOK, responses(ctx))
}

// bodyError says what is wrong with a request body that does not decode, in the protocol's
// words: encoding/json's messages name Go types and struct fields.
func bodyError(err error) string {
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

// responseContentType picks the answer's media type from the Accept header as gqlgen does:
// the first of application/json and application/graphql-response+json that is accepted, JSON
// for a wildcard or no Accept at all, and graphql-response+json when nothing known is accepted.
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

// requestErrorStatus is gqlgen's status for a request that failed before execution: 422 for a
// protocol error (parsing, validation, variables) under application/json (which overHTTP
// turns into 200), 400 under application/graphql-response+json, else 200.
func requestErrorStatus(contentType string, errs gqlerror.List) int {
	if errcode.GetErrorKind(errs) != errcode.KindProtocol {
		return http.StatusOK
	}
	if contentType == "application/json" {
		return http.StatusUnprocessableEntity
	}
	return http.StatusBadRequest
}

// writeResponse answers with status and resp, written as encoding/json would, in
// graphql.Response's member order, but with resp.Data copied as it is: gqlgen wrote it, as
// compact JSON, a moment ago. The answer goes out in one Write with its length (see
// setLength). TestWriteResponse keeps the two in step.
func writeResponse(w http.ResponseWriter, status int, resp *graphql.Response) {
	if resp == nil {
		// A response handler with nothing (more) to say: gqlgen's transports write null.
		setLength(w, len("null"))
		w.WriteHeader(status)
		_, _ = w.Write([]byte("null"))
		return
	}
	var b bytes.Buffer
	b.Grow(len(resp.Data) + 64)
	b.WriteByte('{')
	member := func(name string, v any) {
		enc, err := json.Marshal(v)
		if err != nil {
			// gqlgen's transports panic here too (net/http recovers and drops the connection):
			// only a value JSON cannot hold (a NaN, a func) in an error or extension gets here.
			panic("gateway: encode response " + name + ": " + err.Error())
		}
		b.WriteString(`"` + name + `":`)
		b.Write(enc)
		b.WriteByte(',')
	}
	if len(resp.Errors) > 0 {
		member("errors", resp.Errors)
	}
	b.WriteString(`"data":`)
	if len(resp.Data) == 0 {
		b.WriteString("null")
	} else {
		b.Write(resp.Data)
	}
	b.WriteByte(',')
	if resp.Label != "" {
		member("label", resp.Label)
	}
	if len(resp.Path) > 0 {
		member("path", resp.Path)
	}
	if resp.HasNext != nil {
		member("hasNext", *resp.HasNext)
	}
	if len(resp.Extensions) > 0 {
		member("extensions", resp.Extensions)
	}
	out := b.Bytes()
	out[len(out)-1] = '}' // the last member's comma
	setLength(w, len(out))
	w.WriteHeader(status)
	_, _ = w.Write(out)
}
