package resolvers

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"

	"github.com/invitegw/invitegw/graph"
	"github.com/invitegw/invitegw/loaders"
)

// The lookups a query's invitations need are read from its selection, however it reaches them.
func TestJoinsFollowTheSelection(t *testing.T) {
	tests := []struct {
		name  string
		query string
		paths [][]step
		want  []string
	}{
		{"connection nodes", `{ invitations { nodes { id organization { name } } } }`,
			inConnection, []string{"organization"}},
		{"connection edges", `{ invitations { edges { cursor node { status roleBindings { roleName } groups { id } } } } }`,
			inConnection, []string{"roleBindings", "groups"}},
		{"both, through fragments", `{ invitations { ...c nodes { groups { id } } } }
			fragment c on InvitationConnection { edges { node { ... on Invitation { organization { id } } } } }`,
			inConnection, []string{"organization", "groups"}},
		{"nothing joined", `{ invitations { totalCount nodes { id status user { email } } } }`,
			inConnection, nil},
		{"skipped", `{ invitations { nodes { organization @skip(if: true) { id } } } }`,
			inConnection, nil},
		{"payload", `mutation { updateInvitation(id: "redpanda:x", input: {}) { invitation { groups { id } } } }`,
			inPayload, []string{"groups"}},
		{"one invitation", `{ invitation(id: "redpanda:x") { organization { id } roleBindings { roleName } } }`,
			inField, []string{"organization", "roleBindings"}},
		{"entities", `{ _entities(representations: []) { ... on Invitation { groups { id } } ... on Organization { name } } }`,
			inField, []string{"groups"}},
	}
	schema := graph.NewExecutableSchema(graph.Config{Resolvers: &Resolver{}}).Schema()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, errs := gqlparser.LoadQuery(schema, tt.query)
			if errs != nil {
				t.Fatalf("query: %v", errs)
			}
			op := doc.Operations[0]
			opCtx := &graphql.OperationContext{RawQuery: tt.query, Doc: doc, Operation: op, Variables: map[string]any{}}
			top := graphql.CollectFields(opCtx, op.SelectionSet, nil)[0]
			ctx := graphql.WithFieldContext(graphql.WithOperationContext(context.Background(), opCtx), &graphql.FieldContext{Field: top})
			var want loaders.Joins
			for _, f := range tt.want {
				want.Select(f)
			}
			if got := joins(ctx, tt.paths); got != want {
				t.Fatalf("joins = %b, want %b (%v)", got, want, tt.want)
			}
		})
	}
}
