package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/invitegw/invitegw/invite"
	"github.com/invitegw/invitegw/loaders"
)

// page loads the invitations matching f and cuts one page, reporting failed providers as
// errors beside the partial data.
func (r *Resolver) page(ctx context.Context, f *invite.Filter, first *int, after *string) (*loaders.Connection, error) {
	conn, errs, err := loaders.For(ctx).Page(ctx, f, firstOrDefault(first), after, joins(ctx, inConnection), r.Now())
	addErrors(ctx, errs)
	return conn, err
}

// invitation loads one invitation for the current field's selection; nil when it does not exist.
func (r *Resolver) invitation(ctx context.Context, id invite.ID) (*loaders.Invitation, error) {
	return loaders.For(ctx).Find(ctx, id, joins(ctx, inField), r.Now())
}

// addErrors reports partial failures beside the data.
func addErrors(ctx context.Context, errs []error) {
	for _, err := range errs {
		graphql.AddError(ctx, err)
	}
}
