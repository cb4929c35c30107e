package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"

	"github.com/invitegw/invitegw/cache"
	"github.com/invitegw/invitegw/loaders"
)

// responseCache answers a repeated query with the response body computed for it before,
// without executing it: on a warm cache, executing the query (a goroutine per list element and
// per resolver field, a context per field) costs far more than fetching its data.
//
// Only complete answers are kept: queries (no mutations, subscriptions, @defer or @stream,
// no introspection, whose availability is per instance), without errors or extensions (a
// stale copy's warning, a partial answer), built only from fresh data, and only until the
// first piece of that data stops being fresh (an invitation list's earliest status change
// included). The key hashes the schema, the query text, the operation name and the variables;
// the scope (providers.Set.Responses) hashes every upstream tenant and configured
// organization. Callers are not part of the key: every caller of one gateway reads the same
// upstream data with the gateway's credentials, so an answer depends on nothing of theirs.
type responseCache struct {
	schemaHash string
	responses  func() *cache.Responses
}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = (*responseCache)(nil)

// maxKeptResponse bounds what one answer may take in the store; larger ones are executed
// every time rather than crowd out the data cache.
const maxKeptResponse = 1 << 20

func newResponseCache(schema *ast.Schema, responses func() *cache.Responses) *responseCache {
	var sdl strings.Builder
	formatter.NewFormatter(&sdl).FormatSchema(schema)
	sum := sha256.Sum256([]byte(sdl.String()))
	return &responseCache{schemaHash: hex.EncodeToString(sum[:8]), responses: responses}
}

func (*responseCache) ExtensionName() string                   { return "ResponseCache" }
func (*responseCache) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse answers from the cache, or executes and keeps a complete answer.
func (rc *responseCache) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	// Errors found before an operation exists (a body that is not JSON) come through here
	// too, without an operation context.
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	op := graphql.GetOperationContext(ctx)
	store := rc.responses()
	if store == nil || !cacheable(op) {
		return next(ctx)
	}
	key, ok := rc.requestKey(op)
	if !ok {
		return next(ctx)
	}
	// On a miss, gen is the generation read before computing the answer (see cache.Responses).
	data, gen, ok := store.Get(ctx, key)
	if ok {
		return &graphql.Response{Data: data}
	}
	resp := next(ctx)
	if resp == nil || len(resp.Errors) > 0 || len(resp.Extensions) > 0 || resp.HasNext != nil ||
		len(resp.Data) == 0 || len(resp.Data) > maxKeptResponse {
		return resp
	}
	if until, fresh := loaders.For(ctx).FreshUntil(); fresh {
		store.Put(ctx, key, gen, resp.Data, until)
	}
	return resp
}

// cacheable reports whether op's answer may be reused at all: a query that neither
// introspects (allowed or not per instance) nor defers or streams (several responses).
func cacheable(op *graphql.OperationContext) bool {
	if op == nil || op.Operation == nil || op.Operation.Operation != ast.Query || op.Doc == nil {
		return false
	}
	seen := map[string]bool{}
	var plain func(ast.SelectionSet) bool
	plain = func(set ast.SelectionSet) bool {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if s.Name == "__schema" || s.Name == "__type" || deferred(s.Directives) || !plain(s.SelectionSet) {
					return false
				}
			case *ast.InlineFragment:
				if deferred(s.Directives) || !plain(s.SelectionSet) {
					return false
				}
			case *ast.FragmentSpread:
				if deferred(s.Directives) {
					return false
				}
				if seen[s.Name] {
					continue
				}
				seen[s.Name] = true
				f := op.Doc.Fragments.ForName(s.Name)
				if f == nil || !plain(f.SelectionSet) {
					return false
				}
			}
		}
		return true
	}
	return plain(op.Operation.SelectionSet)
}

func deferred(ds ast.DirectiveList) bool {
	return ds.ForName("defer") != nil || ds.ForName("stream") != nil
}

// requestKey hashes what an answer depends on in the request: the schema, the query text, the
// operation name and the variables (encoding/json sorts map keys, so equal variables encode
// equally).
func (rc *responseCache) requestKey(op *graphql.OperationContext) (string, bool) {
	vars, err := json.Marshal(op.Variables)
	if err != nil {
		return "", false
	}
	h := sha256.New()
	for _, part := range [][]byte{[]byte(rc.schemaHash), []byte(op.RawQuery), []byte(op.OperationName), vars} {
		h.Write(part)
		h.Write([]byte{0})
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16]), true
}
