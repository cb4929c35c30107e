package authz

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// marker is the directive a refused field carries in the operation's copy. It cannot clash
// with a directive of a request: the validator refuses unknown directives, and the schema
// declares none by this name.
const marker = "invitegw__forbidden"

// Refuse finds the fields of op the caller may not resolve. When there are none, op is left
// as it is (the document may be shared by every request that sent the same query). Otherwise
// op's operation and fragments are replaced by copies in which those fields carry the
// marker, and their number is returned. Fields under a refused field are not looked at:
// they will not run.
func (p *Policy) Refuse(op *graphql.OperationContext, c Caller) int {
	if op == nil || op.Operation == nil || op.Doc == nil {
		return 0
	}
	w := walk{p: p, c: c, fragments: op.Doc.Fragments, seen: map[string]bool{}}
	w.visit(op.Operation.SelectionSet)
	if len(w.refused) == 0 {
		return 0
	}
	m := mark{refused: w.refused}
	o := *op.Operation
	o.SelectionSet = m.set(o.SelectionSet)
	doc := *op.Doc
	doc.Fragments = make(ast.FragmentDefinitionList, len(op.Doc.Fragments))
	for i, f := range op.Doc.Fragments {
		c := *f
		c.SelectionSet = m.set(f.SelectionSet)
		doc.Fragments[i] = &c
	}
	op.Doc, op.Operation = &doc, &o
	return len(w.refused)
}

type walk struct {
	p         *Policy
	c         Caller
	fragments ast.FragmentDefinitionList
	seen      map[string]bool
	refused   map[*ast.Field]bool
}

func (w *walk) visit(set ast.SelectionSet) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Definition == nil || strings.HasPrefix(s.Name, "__") {
				continue
			}
			if r := w.p.fields[s.Definition]; !r.SatisfiedBy(w.c.Has) {
				if w.refused == nil {
					w.refused = map[*ast.Field]bool{}
				}
				w.refused[s] = true
				continue
			}
			w.visit(s.SelectionSet)
		case *ast.InlineFragment:
			w.visit(s.SelectionSet)
		case *ast.FragmentSpread:
			if w.seen[s.Name] {
				continue
			}
			w.seen[s.Name] = true
			if f := w.fragments.ForName(s.Name); f != nil {
				w.visit(f.SelectionSet)
			}
		}
	}
}

// mark copies selection sets, adding the marker to the refused fields. Everything is copied
// down to the refused fields' parents, so the shared original is never changed.
type mark struct{ refused map[*ast.Field]bool }

func (m mark) set(set ast.SelectionSet) ast.SelectionSet {
	if len(set) == 0 {
		return set
	}
	out := make(ast.SelectionSet, len(set))
	for i, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			c := *s
			if m.refused[s] {
				c.Directives = append(append(ast.DirectiveList(nil), s.Directives...), &ast.Directive{Name: marker, Position: s.Position})
			} else {
				c.SelectionSet = m.set(s.SelectionSet)
			}
			out[i] = &c
		case *ast.InlineFragment:
			c := *s
			c.SelectionSet = m.set(s.SelectionSet)
			out[i] = &c
		default:
			out[i] = sel
		}
	}
	return out
}

// Field is the field middleware that answers a marked field with null and a FORBIDDEN error
// naming the scopes it needs, without resolving it. Unmarked fields (all of them, for a
// caller with the scopes the operation needs) cost a look at their directive list.
func (p *Policy) Field(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || len(fc.Field.Directives) == 0 || fc.Field.Directives.ForName(marker) == nil {
		return next(ctx)
	}
	r := p.fields[fc.Field.Definition]
	if p.forbidden != nil {
		p.forbidden(ctx, fc, r)
	}
	return nil, Forbidden(fc.Path(), r)
}

// Forbidden is the error of a refused field: code FORBIDDEN, and requiredScopes in the
// directive's shape (any one group, in full).
func Forbidden(path ast.Path, r Requirement) *gqlerror.Error {
	groups := make([]string, len(r))
	for i, g := range r {
		groups[i] = strings.Join(g, " and ")
	}
	return &gqlerror.Error{
		Message: "forbidden: this field needs the scope " + strings.Join(groups, ", or "),
		Path:    path,
		Extensions: map[string]any{
			"code":           "FORBIDDEN",
			"requiredScopes": [][]string(r),
		},
	}
}

// Extension checks each operation, after validation, against the caller found in its
// context by callerOf (nil: a caller with no scopes), and installs Field for that operation
// when it refuses any field.
func (p *Policy) Extension(callerOf func(context.Context) Caller) graphql.HandlerExtension {
	return extension{p: p, callerOf: callerOf}
}

type extension struct {
	p        *Policy
	callerOf func(context.Context) Caller
}

var _ graphql.OperationContextMutator = extension{}

func (extension) ExtensionName() string                   { return "Scopes" }
func (extension) Validate(graphql.ExecutableSchema) error { return nil }

func (e extension) MutateOperationContext(ctx context.Context, op *graphql.OperationContext) *gqlerror.Error {
	c := e.callerOf(ctx)
	if c == nil {
		c = noScopes{}
	}
	if e.p.Refuse(op, c) > 0 {
		// Only an operation with refused fields pays for the check of each field.
		prev := op.ResolverMiddleware
		op.ResolverMiddleware = func(ctx context.Context, next graphql.Resolver) (any, error) {
			return prev(ctx, func(ctx context.Context) (any, error) { return e.p.Field(ctx, next) })
		}
	}
	return nil
}

type noScopes struct{}

func (noScopes) Has(string) bool { return false }
