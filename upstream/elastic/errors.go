package elastic

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/invitegw/invitegw/upstream"
)

// ErrorCodesHeader is the response header in which Elastic repeats the error code(s) of a
// failed call (swagger x-cloud-error-codes).
const ErrorCodesHeader = "X-Cloud-Error-Codes"

// BasicFailedReply is Elastic's error body.
type BasicFailedReply struct {
	Errors []BasicFailedReplyElement `json:"errors"`
}

// BasicFailedReplyElement is one error of a BasicFailedReply.
type BasicFailedReplyElement struct {
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Fields  []string `json:"fields,omitempty"`
}

// codeKinds refines the status-derived kind for the codes Elastic documents (FACTS.md 2.3, 2.5).
// Codes ending in ".rate_limit_exceeded" are handled by suffix in kindForCode. user.not_found
// keeps its status's kind: get-organization answers it with 401 for a key that names no user,
// accept-organization-invitation with 404.
var codeKinds = map[string]error{
	"organization.not_found":            upstream.ErrNotFound,
	"organization.invitation_not_found": upstream.ErrNotFound,
	"root.unauthorized":                 upstream.ErrUnauthenticated,
	"root.unauthenticated":              upstream.ErrUnauthenticated,
	"root.invalid_authentication":       upstream.ErrForbidden,
	"organization.invalid_access":       upstream.ErrForbidden,
	"root.invalid_data":                 upstream.ErrInvalidArgument,
}

// decodeError is the upstream.ErrorDecoder for Elastic. The code comes from the body's first
// error, or from the x-cloud-error-codes header when the body is not a BasicFailedReply (a proxy
// page, say). A code it does not know keeps the status-derived kind.
func decodeError(e *upstream.Error, h http.Header, body []byte) {
	var reply BasicFailedReply
	if json.Unmarshal(body, &reply) == nil && len(reply.Errors) > 0 && reply.Errors[0].Code != "" {
		e.Code = reply.Errors[0].Code
		e.Message = reply.Errors[0].Message
	} else {
		e.Code = firstHeaderCode(h)
	}
	if k := kindForCode(e.Code); k != nil {
		e.Kind = k
	}
}

// firstHeaderCode is the first code of a possibly comma-separated x-cloud-error-codes header.
func firstHeaderCode(h http.Header) string {
	code, _, _ := strings.Cut(h.Get(ErrorCodesHeader), ",")
	return strings.TrimSpace(code)
}

func kindForCode(code string) error {
	if k, ok := codeKinds[code]; ok {
		return k
	}
	if strings.HasSuffix(code, ".rate_limit_exceeded") {
		return upstream.ErrRateLimited
	}
	return nil
}
