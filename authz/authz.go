// Package authz enforces the schema's @requiresScopes directives: which caller may resolve
// which field. The schema is the only place scopes are written; this package reads them once
// and checks every operation against the caller's scopes before it runs.
//
// gqlgen does not execute federation directives (its federation plugin marks them
// skip_runtime), and a per-field check on every field of every list element would cost the
// executing path more than everything else it does. So the check is made once per
// operation, over the document: a field the caller may not resolve is marked in a copy of the
// operation, and the field middleware (Policy.Field) answers a marked field with null and a
// FORBIDDEN error without calling its resolver. Its siblings still answer; GraphQL's null
// propagation applies as usual, so a forbidden non-null field nulls its parent.
package authz

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// Requirement is what a field needs: any one of its groups, each group in full (the meaning
// of @requiresScopes(scopes: [[...]])). An empty Requirement needs nothing.
type Requirement [][]string

// SatisfiedBy reports whether a caller with the scopes has allows r.
func (r Requirement) SatisfiedBy(has func(scope string) bool) bool {
	if len(r) == 0 {
		return true
	}
	for _, group := range r {
		if all(group, has) {
			return true
		}
	}
	return false
}

func all(group []string, has func(string) bool) bool {
	for _, s := range group {
		if !has(s) {
			return false
		}
	}
	return true
}

// and is a requirement that needs both r and o: every pairing of their groups.
func (r Requirement) and(o Requirement) Requirement {
	switch {
	case len(r) == 0:
		return o
	case len(o) == 0:
		return r
	}
	var out Requirement
	for _, a := range r {
		for _, b := range o {
			g := append(slices.Clone(a), b...)
			slices.Sort(g)
			out = appendGroup(out, slices.Compact(g))
		}
	}
	return out
}

// appendGroup adds g unless an equal group is there already.
func appendGroup(r Requirement, g []string) Requirement {
	for _, have := range r {
		if slices.Equal(have, g) {
			return r
		}
	}
	return append(r, g)
}

// Caller is what the policy needs to know of whoever sent a request.
type Caller interface {
	Has(scope string) bool
}

// Policy is the schema's scopes, per field.
type Policy struct {
	fields map[*ast.FieldDefinition]Requirement
	scopes []string
	// forbidden, when set, is told of every field refused at execution (for the audit trail).
	forbidden func(ctx context.Context, fc *graphql.FieldContext, r Requirement)
}

// directive is the federation directive this package reads.
const directive = "requiresScopes"

// New reads the scopes of every field of schema. A field needs its own @requiresScopes, its
// type's, and those of the type it returns (for a union or interface, those of every possible
// type), so an entity type's scopes hold wherever it is reached, _entities included. Every
// field of Query and Mutation other than introspection and federation's _service must declare
// scopes: a new root field without them is an error here, not an open door.
func New(schema *ast.Schema) (*Policy, error) {
	p := &Policy{fields: map[*ast.FieldDefinition]Requirement{}}
	seen := map[string]bool{}
	var err error
	typeReq := func(name string) Requirement {
		def := schema.Types[name]
		if def == nil {
			return nil
		}
		r, e := read(def.Directives)
		if e != nil && err == nil {
			err = fmt.Errorf("authz: type %s: %w", name, e)
		}
		return r
	}
	returnReq := func(name string) Requirement {
		def := schema.Types[name]
		if def == nil || (def.Kind != ast.Union && def.Kind != ast.Interface) {
			return typeReq(name)
		}
		r := typeReq(name)
		for _, t := range schema.PossibleTypes[name] {
			r = r.and(typeReq(t.Name))
		}
		return r
	}
	for _, def := range schema.Types {
		if def.Kind != ast.Object && def.Kind != ast.Interface || strings.HasPrefix(def.Name, "__") {
			continue
		}
		for _, f := range def.Fields {
			own, e := read(f.Directives)
			if e != nil && err == nil {
				err = fmt.Errorf("authz: %s.%s: %w", def.Name, f.Name, e)
			}
			r := own.and(typeReq(def.Name)).and(returnReq(f.Type.Name()))
			if len(r) > 0 {
				p.fields[f] = r
			}
			for _, g := range r {
				for _, s := range g {
					if !seen[s] {
						seen[s] = true
						p.scopes = append(p.scopes, s)
					}
				}
			}
			if root(schema, def) && len(r) == 0 && !public(f.Name) {
				return nil, fmt.Errorf("authz: %s.%s declares no @requiresScopes: every root field must", def.Name, f.Name)
			}
		}
	}
	slices.Sort(p.scopes)
	return p, err
}

func root(schema *ast.Schema, def *ast.Definition) bool {
	return def == schema.Query || def == schema.Mutation || def == schema.Subscription
}

// public are the root fields anyone who may call the endpoint at all may resolve:
// introspection (switched on or off as a whole) and federation's _service, which routers read
// at composition.
func public(field string) bool {
	return strings.HasPrefix(field, "__") || field == "_service"
}

// read parses @requiresScopes(scopes: [[...]]) from a directive list.
func read(ds ast.DirectiveList) (Requirement, error) {
	d := ds.ForName(directive)
	if d == nil {
		return nil, nil
	}
	arg := d.Arguments.ForName("scopes")
	if arg == nil || arg.Value == nil || arg.Value.Kind != ast.ListValue {
		return nil, fmt.Errorf("@%s needs scopes: [[String]]", directive)
	}
	var r Requirement
	for _, g := range arg.Value.Children {
		if g.Value.Kind != ast.ListValue || len(g.Value.Children) == 0 {
			return nil, fmt.Errorf("@%s: each group must be a non-empty list of scopes", directive)
		}
		var group []string
		for _, s := range g.Value.Children {
			if s.Value.Kind != ast.StringValue || s.Value.Raw == "" {
				return nil, fmt.Errorf("@%s: a scope must be a non-empty string", directive)
			}
			group = append(group, s.Value.Raw)
		}
		slices.Sort(group)
		r = appendGroup(r, slices.Compact(group))
	}
	return r, nil
}

// Scopes are every scope the schema names, sorted: what a credential may be granted.
func (p *Policy) Scopes() []string { return slices.Clone(p.scopes) }

// Requires is the requirement of a field definition; nil when it needs nothing.
func (p *Policy) Requires(f *ast.FieldDefinition) Requirement { return p.fields[f] }

// OnForbidden sets a function told of every field refused during execution, with its
// arguments parsed (the audit trail records refused mutations). Set it before serving.
func (p *Policy) OnForbidden(f func(ctx context.Context, fc *graphql.FieldContext, r Requirement)) {
	p.forbidden = f
}
