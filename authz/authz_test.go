package authz_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"

	"github.com/invitegw/invitegw/authz"
	"github.com/invitegw/invitegw/graph"
)

func schema(t *testing.T) *ast.Schema {
	t.Helper()
	return graph.NewExecutableSchema(graph.Config{}).Schema()
}

func policy(t *testing.T) *authz.Policy {
	t.Helper()
	p, err := authz.New(schema(t))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type scopes []string

func (s scopes) Has(x string) bool { return slices.Contains(s, x) }

const (
	read  = "invitations:read"
	write = "invitations:write"
	audit = "invitations:audit"
)

func TestSchemaScopes(t *testing.T) {
	s := schema(t)
	p := policy(t)
	if got, want := p.Scopes(), []string{audit, read, write}; !slices.Equal(got, want) {
		t.Fatalf("Scopes() = %v, want %v", got, want)
	}
	one := func(scope string) authz.Requirement { return authz.Requirement{{scope}} }
	for _, tc := range []struct {
		typ, field string
		want       authz.Requirement
	}{
		{"Query", "invitations", one(read)},
		{"Query", "invitation", one(read)},
		{"Query", "organizations", one(read)},
		{"Query", "organization", one(read)},
		{"Query", "auditEvents", one(audit)},
		// Federation's own: _entities returns entities that need read; _service is public.
		{"Query", "_entities", one(read)},
		{"Query", "_service", nil},
		// Every mutation needs write; its payload's invitation needs read besides.
		{"Mutation", "updateInvitation", one(write)},
		{"UpdateInvitationPayload", "invitation", one(read)},
		// Type-level: every field of an entity type, and every field returning one.
		{"Invitation", "id", one(read)},
		{"Invitation", "organization", one(read)},
		{"InvitationConnection", "nodes", one(read)},
		{"InvitationEdge", "node", one(read)},
		{"InvitationConnection", "totalCount", nil},
		// User belongs to another subgraph: only what invitegw adds to it needs a scope.
		{"User", "email", nil},
		{"User", "invitations", one(read)},
		{"AuditEvent", "actor", nil},
	} {
		def := s.Types[tc.typ].Fields.ForName(tc.field)
		if def == nil {
			t.Fatalf("%s.%s: not in the schema", tc.typ, tc.field)
		}
		if got := p.Requires(def); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s.%s requires %v, want %v", tc.typ, tc.field, got, tc.want)
		}
	}
}

func TestEveryRootFieldDeclaresScopes(t *testing.T) {
	const sdl = `
directive @requiresScopes(scopes: [[String!]!]!) on FIELD_DEFINITION | OBJECT
type Query { a: Int @requiresScopes(scopes: [["x"]]) b: Int }`
	s := gqlparser.MustLoadSchema(&ast.Source{Input: sdl})
	_, err := authz.New(s)
	if err == nil || !strings.Contains(err.Error(), "Query.b declares no @requiresScopes") {
		t.Fatalf("New = %v, want an error naming Query.b", err)
	}
}

func TestRequirementGroups(t *testing.T) {
	const sdl = `
directive @requiresScopes(scopes: [[String!]!]!) on FIELD_DEFINITION | OBJECT
type Query { t: T @requiresScopes(scopes: [["a"], ["b", "c"]]) }
type T @requiresScopes(scopes: [["d"]]) { x: Int }`
	s := gqlparser.MustLoadSchema(&ast.Source{Input: sdl})
	p, err := authz.New(s)
	if err != nil {
		t.Fatal(err)
	}
	r := p.Requires(s.Query.Fields.ForName("t"))
	if want := (authz.Requirement{{"a", "d"}, {"b", "c", "d"}}); !reflect.DeepEqual(r, want) {
		t.Fatalf("Requires(t) = %v, want %v", r, want)
	}
	for _, tc := range []struct {
		has  scopes
		want bool
	}{
		{nil, false},
		{scopes{"a"}, false},
		{scopes{"a", "d"}, true},
		{scopes{"b", "d"}, false},
		{scopes{"b", "c", "d"}, true},
	} {
		if got := r.SatisfiedBy(tc.has.Has); got != tc.want {
			t.Errorf("SatisfiedBy(%v) = %v, want %v", tc.has, got, tc.want)
		}
	}
}

func TestRefuseMarksACopy(t *testing.T) {
	s := schema(t)
	p := policy(t)
	const query = `
query Q($id: ID!) {
  invitation(id: $id) { id }
  auditEvents { nodes { id operation } }
  organizations { ...org }
  __typename
}
fragment org on Organization { id invitations { totalCount } }`
	for _, tc := range []struct {
		name    string
		caller  scopes
		refused int
		marked  []string // fields carrying the marker in the executed copy
	}{
		{"every scope", scopes{read, write, audit}, 0, nil},
		{"reader", scopes{read}, 1, []string{"auditEvents"}},
		{"auditor", scopes{audit}, 2, []string{"invitation", "organizations"}},
		{"no scopes", nil, 3, []string{"invitation", "auditEvents", "organizations"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, errs := gqlparser.LoadQuery(s, query)
			if errs != nil {
				t.Fatal(errs)
			}
			before := format(doc)
			op := &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0]}
			if got := p.Refuse(op, tc.caller); got != tc.refused {
				t.Fatalf("Refuse = %d, want %d", got, tc.refused)
			}
			if format(doc) != before {
				t.Fatal("Refuse changed the shared document")
			}
			if tc.refused == 0 && (op.Doc != doc || op.Operation != doc.Operations[0]) {
				t.Fatal("Refuse copied the document with nothing to refuse")
			}
			var marked []string
			for _, sel := range op.Operation.SelectionSet {
				if f := sel.(*ast.Field); f.Directives.ForName("invitegw__forbidden") != nil {
					marked = append(marked, f.Name)
				}
			}
			if !slices.Equal(marked, tc.marked) {
				t.Fatalf("marked %v, want %v", marked, tc.marked)
			}
		})
	}
}

// A field refused inside a fragment is marked in the fragment's copy, which the executor
// reads through the operation context's document.
func TestRefuseInFragments(t *testing.T) {
	s := schema(t)
	p := policy(t)
	doc, errs := gqlparser.LoadQuery(s, `
{ _entities(representations: [{__typename: "User", email: "a@b.c"}]) { ... on User { email ...inv } } }
fragment inv on User { invitations { id } }`)
	if errs != nil {
		t.Fatal(errs)
	}
	op := &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0]}
	// _entities itself needs read: refused at the root, nothing under it is looked at.
	if got := p.Refuse(op, scopes{audit}); got != 1 {
		t.Fatalf("Refuse = %d, want 1", got)
	}
	if f := op.Operation.SelectionSet[0].(*ast.Field); f.Directives.ForName("invitegw__forbidden") == nil {
		t.Fatal("_entities is not marked")
	}
}

func TestForbiddenAnswer(t *testing.T) {
	err := authz.Forbidden(ast.Path{ast.PathName("auditEvents")}, authz.Requirement{{audit}})
	if err.Extensions["code"] != "FORBIDDEN" || !reflect.DeepEqual(err.Extensions["requiredScopes"], [][]string{{audit}}) {
		t.Fatalf("extensions = %v", err.Extensions)
	}
	if err.Message != "forbidden: this field needs the scope invitations:audit" {
		t.Fatalf("message = %q", err.Message)
	}
}

func format(doc *ast.QueryDocument) string {
	var b strings.Builder
	formatter.NewFormatter(&b).FormatQueryDocument(doc)
	return b.String()
}
