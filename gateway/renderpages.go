package gateway

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/invitegw/invitegw/render"
)

// renderPages installs render.Field for the operations that select a page of invitations,
// and only for them (a field middleware is a call on every field of the operation).
type renderPages struct{ pages *render.Pages }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = renderPages{}

func (renderPages) ExtensionName() string                   { return "RenderPages" }
func (renderPages) Validate(graphql.ExecutableSchema) error { return nil }

func (r renderPages) MutateOperationContext(_ context.Context, op *graphql.OperationContext) *gqlerror.Error {
	if op.Operation == nil || op.Doc == nil {
		return nil
	}
	if selectsAny(op.Doc, op.Operation.SelectionSet, func(sel ast.Selection) bool {
		f, ok := sel.(*ast.Field)
		return ok && f.Definition != nil && f.Definition.Type.Name() == render.ConnectionType
	}) {
		op.ResolverMiddleware = withField(op.ResolverMiddleware, r.pages.Field)
	}
	return nil
}
