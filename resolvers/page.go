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
	l, now, js := loaders.For(ctx), r.Now(), connectionJoins(ctx)
	invs, errs := l.Invitations(ctx, f, now, js)
	addErrors(ctx, errs)
	conn, err := invite.Paginate(invs, n, after)
	if err != nil {
		return nil, err
	}
	joined := l.Join(ctx, conn.Nodes(), js, now)
	for i := range conn.Edges {
		conn.Edges[i].Node = joined[i]
	}
	return conn, nil
}

// invitation loads one invitation and joins it for the current field's selection (see
// loaders.Join); nil when it does not exist.
func (r *Resolver) invitation(ctx context.Context, id invite.ID) (*invite.Invitation, error) {
	l := loaders.For(ctx)
	inv, err := l.Invitation(ctx, id)
	if inv == nil || err != nil {
		return inv, err
	}
	return l.Join(ctx, []*invite.Invitation{inv}, listJoins(ctx), r.Now())[0], nil
}

// addErrors reports partial failures beside the data.
func addErrors(ctx context.Context, errs []error) {
	for _, err := range errs {
		graphql.AddError(ctx, err)
	}
}
