package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/invitegw/invitegw/loaders"
)

// connectionJoins reports what the current InvitationConnection field selects of its
// invitations, through edges { node { ... } } and nodes { ... }.
func connectionJoins(ctx context.Context) loaders.Joins {
	fc, opCtx := graphql.GetFieldContext(ctx), graphql.GetOperationContext(ctx)
	var js loaders.Joins
	if fc == nil || opCtx == nil {
		return js
	}
	for _, f := range graphql.CollectFields(opCtx, fc.Field.Selections, []string{"InvitationConnection"}) {
		switch f.Name {
		case "nodes":
			addJoins(&js, opCtx, f.Selections)
		case "edges":
			for _, e := range graphql.CollectFields(opCtx, f.Selections, []string{"InvitationEdge"}) {
				if e.Name == "node" {
					addJoins(&js, opCtx, e.Selections)
				}
			}
		}
	}
	return js
}

// payloadJoins reports what the current UpdateInvitationPayload field selects of its invitation.
func payloadJoins(ctx context.Context) loaders.Joins {
	fc, opCtx := graphql.GetFieldContext(ctx), graphql.GetOperationContext(ctx)
	var js loaders.Joins
	if fc == nil || opCtx == nil {
		return js
	}
	for _, f := range graphql.CollectFields(opCtx, fc.Field.Selections, []string{"UpdateInvitationPayload"}) {
		if f.Name == "invitation" {
			addJoins(&js, opCtx, f.Selections)
		}
	}
	return js
}

// listJoins reports what the current field selects of the invitations it returns: a list of
// them, one (invitation, _entities), or any field whose selection is an Invitation's.
func listJoins(ctx context.Context) loaders.Joins {
	fc, opCtx := graphql.GetFieldContext(ctx), graphql.GetOperationContext(ctx)
	var js loaders.Joins
	if fc != nil && opCtx != nil {
		addJoins(&js, opCtx, fc.Field.Selections)
	}
	return js
}

func addJoins(js *loaders.Joins, opCtx *graphql.OperationContext, sel ast.SelectionSet) {
	for _, f := range graphql.CollectFields(opCtx, sel, []string{"Invitation"}) {
		js.Select(f.Name)
	}
}
