package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/invitegw/invitegw/invite"
	"github.com/invitegw/invitegw/loaders"
)

// page loads the invitations matching f and cuts one page, reporting failed providers as
// errors beside the partial data.
func (r *Resolver) page(ctx context.Context, f *invite.Filter, first *int, after *string) (*invite.Connection, error) {
	n := firstOrDefault(first)
	// Reject a bad page request before any upstream call.
	if _, err := invite.Paginate(nil, n, after); err != nil {
		return nil, err
	}
	invs, errs := loaders.For(ctx).Invitations(ctx, f, r.Now(), connectionJoins(ctx))
	addErrors(ctx, errs)
	return invite.Paginate(invs, n, after)
}

// addErrors reports partial failures beside the data.
func addErrors(ctx context.Context, errs []error) {
	for _, err := range errs {
		graphql.AddError(ctx, err)
	}
}
