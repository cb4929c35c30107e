package fakeserver

import (
	"net/http"
	"strings"
)

// GRPCCode is a google.rpc.Code: its number and its enum name.
type GRPCCode struct {
	Number int
	Name   string // "NOT_FOUND"
}

// ConnectName is the code as the Connect protocol writes it: the enum name in lower case, with
// CANCELLED spelled "canceled".
func (c GRPCCode) ConnectName() string {
	if c.Name == "CANCELLED" {
		return "canceled"
	}
	return strings.ToLower(c.Name)
}

// statusCodes is grpc-gateway's HTTPStatusFromCode inverted (FACTS.md 1.7, 3.4): for each HTTP
// status, the code a gRPC-based API answers it with. Statuses several codes share (400, 409,
// 500) get the code the fakes' failures stand for.
var statusCodes = map[int]GRPCCode{
	http.StatusBadRequest:          {3, "INVALID_ARGUMENT"},
	http.StatusUnauthorized:        {16, "UNAUTHENTICATED"},
	http.StatusForbidden:           {7, "PERMISSION_DENIED"},
	http.StatusNotFound:            {5, "NOT_FOUND"},
	http.StatusConflict:            {6, "ALREADY_EXISTS"},
	http.StatusTooManyRequests:     {8, "RESOURCE_EXHAUSTED"},
	499:                            {1, "CANCELLED"},
	http.StatusInternalServerError: {13, "INTERNAL"},
	http.StatusNotImplemented:      {12, "UNIMPLEMENTED"},
	http.StatusServiceUnavailable:  {14, "UNAVAILABLE"},
	http.StatusGatewayTimeout:      {4, "DEADLINE_EXCEEDED"},
}

// GRPCCodeFor is the code an injected failure of an HTTP status carries in a gRPC-based fake
// (Redpanda's, Frontier's): UNKNOWN for a status no code maps to.
func GRPCCodeFor(status int) GRPCCode {
	if c, ok := statusCodes[status]; ok {
		return c
	}
	return GRPCCode{2, "UNKNOWN"}
}
