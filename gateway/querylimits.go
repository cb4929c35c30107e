package gateway

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/invitegw/invitegw/graph"
	"github.com/invitegw/invitegw/graph/model"
	"github.com/invitegw/invitegw/invite"
)

// Limits bound what one operation may ask for. Each is checked after validation and before
// anything runs, so a rejected query costs no upstream call.
type Limits struct {
	// MaxDepth bounds selection nesting (fragments included). Default 10.
	MaxDepth int
	// MaxAliases bounds aliased fields per operation, the usual way to multiply one field.
	// Default 30.
	MaxAliases int
	// MaxComplexity bounds the operation's cost: one per field, list fields multiplied by the
	// page size they ask for (first). Default 10000: a full 100-item page with every field,
	// plus headroom.
	MaxComplexity int
	// MaxTokens bounds a document's lexical tokens; MaxFields the fields it writes (each
	// fragment once; ten times as many once its fragments are spread); MaxSameName the
	// fields merged under one response name into a selection set (spreads expanded);
	// MaxSpreads the fragments spread into one selection set. These are checked before
	// validation, whose cost grows with their squares (see querySize). Defaults 5000, 1000,
	// 100 and 100; gqlgen's full introspection query has 180 tokens and 69 fields.
	MaxTokens, MaxFields, MaxSameName, MaxSpreads int
}

// DefaultLimits are the production defaults.
var DefaultLimits = Limits{MaxDepth: 10, MaxAliases: 30, MaxComplexity: 10_000,
	MaxTokens: 5000, MaxFields: 1000, MaxSameName: 100, MaxSpreads: 100}

// withDefaults is l with DefaultLimits' value for each field that is not positive.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	for _, f := range []struct{ v, def *int }{
		{&l.MaxDepth, &d.MaxDepth}, {&l.MaxAliases, &d.MaxAliases}, {&l.MaxComplexity, &d.MaxComplexity},
		{&l.MaxTokens, &d.MaxTokens}, {&l.MaxFields, &d.MaxFields}, {&l.MaxSameName, &d.MaxSameName}, {&l.MaxSpreads, &d.MaxSpreads},
	} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	return l
}

// Costs of lists whose size is not chosen by the caller.
const (
	costOrganizations = 20 // configured organizations: a handful
	costUserInvites   = 20 // invitations of one person
)

// gqlgen does not expose _entities' complexity hook; resolvers.EntityGuard bounds the number of
// representations instead.

// complexityRoot prices list fields by the number of items they can return; organizations by
// the number configured.
func complexityRoot(organizations int) graph.ComplexityRoot {
	var c graph.ComplexityRoot
	page := func(child int, first *int) int {
		n := invite.DefaultFirst
		if first != nil && *first > 0 {
			n = min(*first, invite.MaxFirst)
		}
		// A connection's edges and nodes both hold the page; child already sums them.
		return 1 + n*child
	}
	c.Query.Invitations = func(child int, _ *model.InvitationFilter, first *int, _ *string) int { return page(child, first) }
	c.Organization.Invitations = func(child int, _ []invite.Status, first *int, _ *string) int { return page(child, first) }
	c.Query.Organizations = func(child int, _ *invite.Provider) int { return 1 + max(organizations, 1)*child }
	c.User.Invitations = func(child int, _ []invite.Status) int { return 1 + costUserInvites*child }
	return c
}

// queryLimits is the gqlgen extension that enforces Limits.
type queryLimits struct {
	limits Limits
	schema graphql.ExecutableSchema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = &queryLimits{}

func (*queryLimits) ExtensionName() string { return "QueryLimits" }

func (q *queryLimits) Validate(schema graphql.ExecutableSchema) error {
	q.schema = schema
	return nil
}

func (q *queryLimits) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	op := opCtx.Operation
	if op == nil {
		return nil
	}
	if d := depth(op.SelectionSet, 0); d > q.limits.MaxDepth {
		return limitError("MAX_DEPTH", fmt.Sprintf("query depth %d exceeds the limit of %d", d, q.limits.MaxDepth))
	}
	if n := aliases(op.SelectionSet); n > q.limits.MaxAliases {
		return limitError("MAX_ALIASES", fmt.Sprintf("query uses %d aliases, more than the limit of %d", n, q.limits.MaxAliases))
	}
	if c := complexity.Calculate(ctx, q.schema, op, opCtx.Variables); c > q.limits.MaxComplexity {
		return limitError("MAX_COMPLEXITY", fmt.Sprintf("query complexity %d exceeds the limit of %d", c, q.limits.MaxComplexity))
	}
	return nil
}

func limitError(reason, msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": string(invite.CodeBadUserInput), "reason": reason}}
}

// depth is the deepest field nesting under set. Fragment cycles are impossible here: the
// validator has rejected them already.
func depth(set ast.SelectionSet, d int) int {
	deepest := d
	for _, sel := range set {
		var sub int
		switch s := sel.(type) {
		case *ast.Field:
			sub = depth(s.SelectionSet, d+1)
		case *ast.InlineFragment:
			sub = depth(s.SelectionSet, d)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				sub = depth(s.Definition.SelectionSet, d)
			}
		}
		deepest = max(deepest, sub)
	}
	return deepest
}

// aliases counts aliased fields, each fragment once per use.
func aliases(set ast.SelectionSet) int {
	n := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Alias != "" && s.Alias != s.Name {
				n++
			}
			n += aliases(s.SelectionSet)
		case *ast.InlineFragment:
			n += aliases(s.SelectionSet)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				n += aliases(s.Definition.SelectionSet)
			}
		}
	}
	return n
}
