package gateway

import "github.com/vektah/gqlparser/v2/ast"

// selectsAny reports whether match holds for any selection of set or below it: fields,
// inline fragments and fragment spreads, with each spread fragment's own selections walked
// once. It decides what an operation asks for before it runs (see cacheable and
// federationSDL).
func selectsAny(doc *ast.QueryDocument, set ast.SelectionSet, match func(ast.Selection) bool) bool {
	seen := map[string]bool{}
	var walk func(ast.SelectionSet) bool
	walk = func(set ast.SelectionSet) bool {
		for _, sel := range set {
			if match(sel) {
				return true
			}
			switch s := sel.(type) {
			case *ast.Field:
				if walk(s.SelectionSet) {
					return true
				}
			case *ast.InlineFragment:
				if walk(s.SelectionSet) {
					return true
				}
			case *ast.FragmentSpread:
				if seen[s.Name] {
					continue
				}
				seen[s.Name] = true
				if f := doc.Fragments.ForName(s.Name); f != nil && walk(f.SelectionSet) {
					return true
				}
			}
		}
		return false
	}
	return walk(set)
}

// isIntrospection matches the introspection fields, whose availability is per instance.
// (__typename is not introspection: it is always answered.)
func isIntrospection(sel ast.Selection) bool {
	f, ok := sel.(*ast.Field)
	return ok && (f.Name == "__schema" || f.Name == "__type")
}
