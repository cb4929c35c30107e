package redpanda

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/invitegw/invitegw/upstream"
)

// statusDetail is one entry of an rpc.Status's details. Only google.rpc.ErrorInfo's fields are
// decoded; other detail types keep just their type.
type statusDetail struct {
	// Type is "@type", with or without the "type.googleapis.com/" prefix: Redpanda's spec shows
	// it with, its docs and Connect-based servers without.
	Type     string            `json:"@type"`
	Reason   string            `json:"reason"`
	Domain   string            `json:"domain"`
	Metadata map[string]string `json:"metadata"`
}

// ErrorInfo is the google.rpc.ErrorInfo detail of a failed call. The client puts it in
// upstream.Error.Err, so `errors.As(err, &info)` reveals why Redpanda refused (for example
// REASON_TOKEN_EXPIRED against REASON_TOKEN_INVALID) and logs show the reason.
type ErrorInfo struct {
	Reason   string
	Domain   string
	Metadata map[string]string
}

func (e *ErrorInfo) Error() string { return "reason " + e.Reason }

// Reasons Redpanda documents (error-and-status-codes.md) that this client acts on.
const (
	ReasonNoToken           = "REASON_NO_TOKEN"
	ReasonTokenExpired      = "REASON_TOKEN_EXPIRED"
	ReasonTokenInvalid      = "REASON_TOKEN_INVALID"
	ReasonRateLimitExceeded = "REASON_RATE_LIMIT_EXCEEDED"
	ReasonInvalidPageToken  = "REASON_INVALID_PAGE_TOKEN"
)

// reasonKinds gives a kind for a reason when the code alone did not.
var reasonKinds = map[string]error{
	ReasonNoToken:           upstream.ErrUnauthenticated,
	ReasonTokenExpired:      upstream.ErrUnauthenticated,
	ReasonTokenInvalid:      upstream.ErrUnauthenticated,
	ReasonRateLimitExceeded: upstream.ErrRateLimited,
}

// typePrefix is the optional prefix of a detail's "@type".
const typePrefix = "type.googleapis.com/"

// decodeError is the upstream.ErrorDecoder for Redpanda. A body that is not an rpc.Status (a
// proxy's HTML page, say) keeps the status-derived kind and leaves Code empty.
func decodeError(e *upstream.Error, h http.Header, body []byte) {
	if e.RetryAfter == 0 {
		e.RetryAfter = rateLimitReset(h)
	}
	// The body is a google.rpc.Status whose code is the enum name ("NOT_FOUND"), not the
	// number (FACTS.md 1.7). Each part is decoded on its own, so one odd field does not hide
	// the others.
	var raw map[string]json.RawMessage
	if json.Unmarshal(body, &raw) != nil {
		return
	}
	e.Code = codeName(raw["code"])
	_ = json.Unmarshal(raw["message"], &e.Message)
	kind := upstream.GRPCCodeKind(e.Code)
	var details []json.RawMessage
	_ = json.Unmarshal(raw["details"], &details)
	for _, b := range details {
		var d statusDetail
		if json.Unmarshal(b, &d) != nil || strings.TrimPrefix(d.Type, typePrefix) != "google.rpc.ErrorInfo" {
			continue
		}
		e.Err = &ErrorInfo{Reason: d.Reason, Domain: d.Domain, Metadata: d.Metadata}
		if kind == nil {
			kind = reasonKinds[d.Reason]
		}
		break
	}
	if kind != nil {
		e.Kind = kind
	}
}

// codeName reads an rpc code given as its name (Redpanda) or its number (plain grpc-gateway).
func codeName(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n int64
	if json.Unmarshal(raw, &n) == nil {
		if name := upstream.GRPCCodeName(n); name != "" {
			return name
		}
		return strconv.FormatInt(n, 10)
	}
	return ""
}

// rateLimitReset reads the reset of Redpanda's rate-limit header, "limit=<n>, remaining=<n>,
// reset=<seconds>" (FACTS.md 1.8; Terraform reads it as gRPC metadata `ratelimit`, which
// grpc-gateway would forward as Grpc-Metadata-Ratelimit). It is used only when remaining is 0:
// otherwise the limit is not what stopped the call. It is also the Caller's RateLimitReset, so
// that any answer saying remaining=0 holds the next calls until the reset, as Terraform's
// provider waits then, instead of spending them on 429s.
func rateLimitReset(h http.Header) time.Duration {
	v := h.Get("Ratelimit")
	if v == "" {
		v = h.Get("Grpc-Metadata-Ratelimit")
	}
	if v == "" {
		return 0
	}
	var remaining, reset = -1, -1
	for _, part := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil || n < 0 {
			continue
		}
		switch strings.TrimSpace(k) {
		case "remaining":
			remaining = n
		case "reset":
			reset = n
		}
	}
	if remaining != 0 || reset < 0 {
		return 0
	}
	return upstream.Seconds(int64(reset))
}
