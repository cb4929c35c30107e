package idempotency

import (
	"context"
	"encoding/json"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// MaxKeyLength is the longest Idempotency-Key accepted. The IETF draft leaves the length to
// the server; 255 fits every UUID, ULID and hash a client would send.
const MaxKeyLength = 255

// validKey reports whether key is 1 to MaxKeyLength printable ASCII characters (space to
// tilde). The value is taken as sent: a client that quotes it as the draft's Structured
// Header string does so on every retry, and the quotes are then part of its key.
func validKey(key string) bool {
	if key == "" || len(key) > MaxKeyLength {
		return false
	}
	for _, c := range []byte(key) {
		if c < ' ' || c > '~' {
			return false
		}
	}
	return true
}

// params are the GraphQL-over-HTTP parameters that say which operation a POST body runs.
type params struct {
	Query         string `json:"query"`
	OperationName string `json:"operationName"`
	Extensions    struct {
		PersistedQuery *struct {
			SHA256Hash string `json:"sha256Hash"`
		} `json:"persistedQuery"`
	} `json:"extensions"`
}

// isMutation reports whether body runs a mutation, as the GraphQL server will read it: the
// operation named by operationName, or the document's only one. The document is parsed, not
// validated: whatever does not parse, names no operation or names one ambiguously is refused
// by the server before anything runs, so it needs no protection.
func (g *Guard) isMutation(ctx context.Context, body []byte) bool {
	var p params
	if json.Unmarshal(body, &p) != nil {
		return false
	}
	query := p.Query
	if pq := p.Extensions.PersistedQuery; query == "" && pq != nil && g.persistedQuery != nil {
		query, _ = g.persistedQuery(ctx, pq.SHA256Hash)
	}
	if query == "" {
		return false
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, g.tokenLimit)
	if err != nil {
		return false
	}
	var op *ast.OperationDefinition
	switch {
	case p.OperationName != "":
		op = doc.Operations.ForName(p.OperationName)
	case len(doc.Operations) == 1:
		op = doc.Operations[0]
	}
	return op != nil && op.Operation == ast.Mutation
}
