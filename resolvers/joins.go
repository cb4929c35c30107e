package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/invitegw/invitegw/loaders"
)

// step is one level between a field and the invitations it returns: a field of a type.
type step struct{ typ, field string }

// Where each kind of field keeps its invitations, from its own selection.
var (
	// An InvitationConnection's: edges { node { ... } } and nodes { ... }.
	inConnection = [][]step{
		{{"InvitationConnection", "nodes"}},
		{{"InvitationConnection", "edges"}, {"InvitationEdge", "node"}},
	}
	// An UpdateInvitationPayload's: invitation { ... }.
	inPayload = [][]step{{{"UpdateInvitationPayload", "invitation"}}}
	// A CreateInvitationsPayload's: results { invitation { ... } }.
	inResults = [][]step{{{"CreateInvitationsPayload", "results"}, {"InvitationResult", "invitation"}}}
	// A ResendInvitationPayload's: invitation { ... }.
	inResend = [][]step{{{"ResendInvitationPayload", "invitation"}}}
	// A list of invitations, one (invitation, _entities), or any field whose selection is an
	// Invitation's.
	inField = [][]step{nil}
)

// joins reports what the current field selects of its invitations, found along paths.
func joins(ctx context.Context, paths [][]step) loaders.Joins {
	fc, opCtx := graphql.GetFieldContext(ctx), graphql.GetOperationContext(ctx)
	var js loaders.Joins
	if fc == nil || opCtx == nil {
		return js
	}
	for _, path := range paths {
		addJoins(&js, opCtx, fc.Field.Selections, path)
	}
	return js
}

// addJoins adds the joinable Invitation fields sel selects at the end of path.
func addJoins(js *loaders.Joins, opCtx *graphql.OperationContext, sel ast.SelectionSet, path []step) {
	if len(path) == 0 {
		for _, f := range graphql.CollectFields(opCtx, sel, []string{"Invitation"}) {
			js.Select(f.Name)
		}
		return
	}
	for _, f := range graphql.CollectFields(opCtx, sel, []string{path[0].typ}) {
		if f.Name == path[0].field {
			addJoins(js, opCtx, f.Selections, path[1:])
		}
	}
}
