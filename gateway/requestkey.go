package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash/maphash"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/parser"
)

// meaning is what of a GraphQL request its answer depends on, in a canonical form: the query
// as the parser reads it (whitespace, commas and comments gone), the operation name, and the
// variables re-encoded with sorted members. Two requests that differ only in formatting, JSON
// member order or variable order have the same meaning, and so one response-cache entry.
type meaning struct {
	seed       maphash.Seed
	tokenLimit int // a longer text is not parsed here: querySize refuses it anyway
	// docs maps a query text's hash to its canonical text's hash: parsing and printing cost
	// more than serving a kept answer, so each distinct text is parsed once. APQ hashes map
	// here too once their query has been seen with them.
	docs *lru.LRU[string]
}

func newMeaning(tokenLimit int) *meaning {
	return &meaning{seed: maphash.MakeSeed(), tokenLimit: tokenLimit, docs: lru.New[string](4096)}
}

// request is the part of a GraphQL-over-HTTP request an answer depends on.
type request struct {
	Query         string          `json:"query"`
	OperationName string          `json:"operationName"`
	Variables     json.RawMessage `json:"variables"`
	Extensions    struct {
		PersistedQuery *struct {
			SHA256Hash string `json:"sha256Hash"`
		} `json:"persistedQuery"`
	} `json:"extensions"`
}

// key is the canonical key of req, or false when it cannot be read (the handler then answers
// the error, which is never kept).
func (m *meaning) key(ctx context.Context, req request) (string, bool) {
	doc, ok := m.document(ctx, req)
	if !ok {
		return "", false
	}
	vars := []byte("null")
	if len(bytes.TrimSpace(req.Variables)) > 0 {
		var v any
		dec := json.NewDecoder(bytes.NewReader(req.Variables))
		dec.UseNumber() // 1 and 1.0 stay apart, as gqlgen's coercion keeps them
		if dec.Decode(&v) != nil {
			return "", false
		}
		var err error
		if vars, err = json.Marshal(v); err != nil { // maps marshal with sorted keys
			return "", false
		}
	}
	return doc + "\x00" + req.OperationName + "\x00" + string(vars), true
}

// document is the hash of the canonical query text, by way of the memo.
func (m *meaning) document(ctx context.Context, req request) (string, bool) {
	var apq string
	if pq := req.Extensions.PersistedQuery; pq != nil && pq.SHA256Hash != "" {
		apq = "apq:" + pq.SHA256Hash
	}
	if req.Query == "" {
		if apq == "" {
			return "", false
		}
		if doc, ok := m.docs.Get(ctx, apq); ok {
			return doc, true
		}
		return apq, true // not seen with its query here yet: an entry of its own
	}
	raw := "q:" + strconv.FormatUint(maphash.String(m.seed, req.Query), 36)
	doc, ok := m.docs.Get(ctx, raw)
	if !ok {
		doc = canonical(req.Query, m.tokenLimit)
		m.docs.Add(ctx, raw, doc)
	}
	if apq != "" {
		// A hash that is not the query's own is gqlgen's to refuse; mapped, it would make that
		// hash serve this query's answers.
		if req.Extensions.PersistedQuery.SHA256Hash != sha256Hex(req.Query) {
			return "", false
		}
		m.docs.Add(ctx, apq, doc)
	}
	return doc, true
}

// canonical is the hash of the query as the parser reads it; a text that does not parse is
// its own meaning (its answer is an error, never kept).
func canonical(query string, tokenLimit int) string {
	text := query
	if d, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, tokenLimit); err == nil {
		var b strings.Builder
		formatter.NewFormatter(&b, formatter.WithCompacted()).FormatQueryDocument(d)
		text = b.String()
	}
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:16])
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
