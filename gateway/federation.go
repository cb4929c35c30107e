package gateway

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/invitegw/invitegw/invite"
	"github.com/invitegw/invitegw/resolvers"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// federationSDL lets `_service { sdl }` answer whether or not introspection is on.
//
// `_service` is Apollo Federation's contract with the supergraph: composition reads the
// subgraph's SDL through it (`rover supergraph compose` with a subgraph_url), in production
// too, where introspection stays off. gqlgen's generated resolver for it refuses ("federated
// introspection disabled") whenever the operation context has DisableIntrospection set, the
// same flag that guards __schema and __type (99designs/gqlgen#2807), and the generated code is
// not ours to edit. So for a query that selects `_service` and neither __schema nor __type,
// this clears the flag before execution: nothing else in such an operation reads it. An
// operation that selects __schema or __type while introspection is off is refused whole,
// `_service` included, with INTROSPECTION_DISABLED.
type federationSDL struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = federationSDL{}

func (federationSDL) ExtensionName() string                   { return "FederationSDL" }
func (federationSDL) Validate(graphql.ExecutableSchema) error { return nil }

func (federationSDL) MutateOperationContext(_ context.Context, op *graphql.OperationContext) *gqlerror.Error {
	if !op.DisableIntrospection || op.Operation == nil || op.Operation.Operation != ast.Query || op.Doc == nil {
		return nil
	}
	set := op.Operation.SelectionSet
	if selectsAny(op.Doc, set, isIntrospection) {
		// Refused here, with a code, before gqlgen's resolvers answer a plain Go error.
		return &gqlerror.Error{Message: "introspection is disabled on this instance",
			Extensions: map[string]any{"code": CodeIntrospectionDisabled}}
	}
	if selectsAny(op.Doc, set, isService) {
		op.DisableIntrospection = false
	}
	return nil
}

// CodeIntrospectionDisabled is the code of a query for __schema or __type on an instance
// that does not serve introspection (Apollo Router's name for it).
const CodeIntrospectionDisabled = "INTROSPECTION_DISABLED"

// isService matches Federation's `_service` field, which only Query has.
func isService(sel ast.Selection) bool {
	f, ok := sel.(*ast.Field)
	return ok && f.Name == "_service"
}

// entityRepresentations refuses an `_entities` call whose representations are not all
// objects, before it runs: gqlgen's coercion of the _Any scalar answers a plain Go error
// ("string is not a map"), which the error presenter must treat as internal, and the
// federation code generator will not let _Any be bound to a reader of ours.
type entityRepresentations struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = entityRepresentations{}

func (entityRepresentations) ExtensionName() string                   { return "EntityRepresentations" }
func (entityRepresentations) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext also installs resolvers.EntityGuard for the operations that call
// _entities, and only for them: as a field middleware of every operation it cost every field
// of every query a call (9% of an executed query's allocations).
func (entityRepresentations) MutateOperationContext(_ context.Context, op *graphql.OperationContext) *gqlerror.Error {
	if op.Operation == nil || op.Doc == nil {
		return nil
	}
	var (
		bad      *gqlerror.Error
		entities bool
	)
	selectsAny(op.Doc, op.Operation.SelectionSet, func(sel ast.Selection) bool {
		f, ok := sel.(*ast.Field)
		if !ok || f.Name != "_entities" {
			return false
		}
		entities = true
		reps, _ := f.ArgumentMap(op.Variables)["representations"].([]any)
		for i, r := range reps {
			if _, ok := r.(map[string]any); !ok {
				bad = &gqlerror.Error{Message: fmt.Sprintf("representations[%d] must be an object with __typename", i),
					Extensions: map[string]any{"code": string(invite.CodeBadUserInput)}}
				return true
			}
		}
		return false
	})
	if entities && bad == nil {
		op.ResolverMiddleware = withField(op.ResolverMiddleware, resolvers.EntityGuard)
	}
	return bad
}

// withField runs m inside an operation's field middleware chain.
func withField(chain graphql.FieldMiddleware, m graphql.FieldMiddleware) graphql.FieldMiddleware {
	return func(ctx context.Context, next graphql.Resolver) (any, error) {
		return chain(ctx, func(ctx context.Context) (any, error) { return m(ctx, next) })
	}
}
