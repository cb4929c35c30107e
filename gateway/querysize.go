package gateway

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// querySize rejects documents too large to validate cheaply, before gqlgen validates them.
// Validation is not linear: the overlapping-fields rule compares every pair of fields that
// share a response name, so 10,000 copies of one field (210 KB, well under the body limit)
// kept a core busy for many seconds. The document is parsed here with a token limit (parsing
// is linear and stops at the limit), then its fields are counted, overall and per response
// name within one selection set, with Limits.MaxTokens, MaxFields and MaxSameName.
//
// Accepted documents are remembered (by a hash: one string literal may hold most of a
// megabyte), so a repeated query is parsed once here, as gqlgen's query cache parses it once
// there.
type querySize struct {
	limits Limits
	ok     *lru.LRU[struct{}]
	seed   maphash.Seed
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = &querySize{}

func newQuerySize(l Limits) *querySize {
	return &querySize{limits: l, ok: lru.New[struct{}](1000), seed: maphash.MakeSeed()}
}

func (*querySize) ExtensionName() string                   { return "QuerySize" }
func (*querySize) Validate(graphql.ExecutableSchema) error { return nil }

func (q *querySize) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if p.Query == "" {
		return nil // gqlgen answers a missing query itself
	}
	key := strconv.FormatUint(maphash.String(q.seed, p.Query), 36)
	if _, ok := q.ok.Get(ctx, key); ok {
		return nil
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, q.limits.MaxTokens)
	if err != nil {
		if e, ok := errors.AsType[*gqlerror.Error](err); ok && isTokenLimit(e) {
			return limitError("MAX_TOKENS", fmt.Sprintf("query has more than the limit of %d tokens", q.limits.MaxTokens))
		}
		return nil // a syntax error: gqlgen's parse reports it as usual
	}
	sh := shape{doc: doc, limit: q.limits.MaxSameName, memo: map[string]map[string]int{}, visiting: map[string]bool{},
		expandLimit: expandFactor * q.limits.MaxFields, expandedMemo: map[string]int{}}
	for _, op := range doc.Operations {
		sh.visit(op.SelectionSet)
		sh.expandedMax = max(sh.expandedMax, sh.expanded(op.SelectionSet))
	}
	for _, f := range doc.Fragments {
		sh.visit(f.SelectionSet)
	}
	switch {
	case sh.fields > q.limits.MaxFields:
		return limitError("MAX_FIELDS", fmt.Sprintf("query selects %d fields, more than the limit of %d", sh.fields, q.limits.MaxFields))
	case sh.expandedMax > sh.expandLimit:
		return limitError("MAX_FIELDS", fmt.Sprintf("query selects more than %d fields once its fragments are spread", sh.expandLimit))
	case sh.sameName > q.limits.MaxSameName:
		return limitError("MAX_SAME_NAME", fmt.Sprintf("query merges more than %d fields of one response name into one selection set",
			q.limits.MaxSameName))
	case sh.spreads > q.limits.MaxSpreads:
		return limitError("MAX_SPREADS", fmt.Sprintf("query spreads %d fragments into one selection set, more than the limit of %d",
			sh.spreads, q.limits.MaxSpreads))
	}
	q.ok.Add(ctx, key, struct{}{})
	return nil
}

// isTokenLimit tells the parser's token-limit error from a syntax error.
func isTokenLimit(e *gqlerror.Error) bool {
	return strings.HasPrefix(e.Message, "exceeded token limit")
}

// shape measures what validation's cost grows with: the fields written (each fragment once),
// and per selection set the fields merged under one response name (spreads expanded) and the
// fragments spread into it, whose pairs are compared with each other.
//
// It also bounds the fields an operation selects once every spread is replaced by its
// fragment: fragments that spread each other twice per level double that count per level
// (26 levels in 3 KB), and whatever walks the operation after validation (depth, aliases,
// complexity, execution) walks it expanded.
type shape struct {
	doc                       *ast.QueryDocument
	limit                     int // counts saturate above it: only "over the limit" matters
	fields, sameName, spreads int
	memo                      map[string]map[string]int // fragment name -> merged response names
	visiting                  map[string]bool           // fragments being expanded (cycles: validation's to report)

	expandLimit, expandedMax int
	expandedMemo             map[string]int // fragment name -> its fields expanded, saturated
}

// expandFactor is how many times MaxFields an operation may select once expanded: fragments
// reused in several places are the point of fragments.
const expandFactor = 10

// expanded counts the fields of set with every spread replaced by its fragment, memoized per
// fragment and saturating just above expandLimit, so it is linear in the document.
func (s *shape) expanded(set ast.SelectionSet) int {
	n := 0
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			n += 1 + s.expanded(sel.SelectionSet)
		case *ast.InlineFragment:
			n += s.expanded(sel.SelectionSet)
		case *ast.FragmentSpread:
			m, ok := s.expandedMemo[sel.Name]
			if !ok {
				def := s.doc.Fragments.ForName(sel.Name)
				if def == nil || s.visiting[sel.Name] {
					continue // unknown or cyclic: validation refuses it
				}
				s.visiting[sel.Name] = true
				m = s.expanded(def.SelectionSet)
				s.visiting[sel.Name] = false
				s.expandedMemo[sel.Name] = m
			}
			n += m
		}
		if n > s.expandLimit {
			return s.expandLimit + 1
		}
	}
	return n
}

// visit measures set and the selection sets written inside it (not inside fragments it
// spreads: those are visited where they are defined).
func (s *shape) visit(set ast.SelectionSet) {
	s.merged(set)
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			s.fields++
			s.visit(sel.SelectionSet)
		case *ast.InlineFragment:
			s.visit(sel.SelectionSet)
		}
	}
}

// merged counts the fields of set per response name, spreads and inline fragments expanded.
func (s *shape) merged(set ast.SelectionSet) map[string]int {
	names := map[string]int{}
	spreads := 0
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			name := sel.Alias
			if name == "" {
				name = sel.Name
			}
			names[name] = min(names[name]+1, s.limit+1)
		case *ast.InlineFragment:
			s.add(names, s.merged(sel.SelectionSet))
		case *ast.FragmentSpread:
			spreads++
			s.add(names, s.fragment(sel.Name))
		}
	}
	s.spreads = max(s.spreads, spreads)
	for _, n := range names {
		s.sameName = max(s.sameName, n)
	}
	return names
}

func (s *shape) fragment(name string) map[string]int {
	if m, ok := s.memo[name]; ok {
		return m
	}
	def := s.doc.Fragments.ForName(name)
	if def == nil || s.visiting[name] {
		return nil
	}
	s.visiting[name] = true
	m := s.merged(def.SelectionSet)
	s.visiting[name] = false
	s.memo[name] = m
	return m
}

func (s *shape) add(into, from map[string]int) {
	for k, n := range from {
		into[k] = min(into[k]+n, s.limit+1)
	}
}
