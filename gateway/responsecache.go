package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"

	"github.com/invitegw/invitegw/auth"
	"github.com/invitegw/invitegw/cache"
	"github.com/invitegw/invitegw/loaders"
	"github.com/invitegw/invitegw/metrics"
)

// responseCache answers a repeated request with the response body computed for it before,
// without running GraphQL at all: on a warm cache, executing the benchmark query (a goroutine
// per list element and per resolver field, a context per field) and re-encoding its answer
// cost 50 times what serving its bytes does.
//
// It has two halves. The HTTP half (middleware) keys a request by its meaning (method, Accept
// header, and the query, operation and variables in canonical form: formatting, comments and
// JSON member order do not matter; an APQ hash maps to its query) and serves a kept answer;
// on a miss it
// runs the request and keeps the answer when the GraphQL half (InterceptResponse, inside
// gqlgen) has said it may: a query (no mutation, subscription, @defer or @stream, no
// introspection, whose availability is per instance), answered with 200 and without errors or
// extensions (a stale copy's warning, a partial answer), built only from fresh data. It is kept
// only until the first piece of that data stops being fresh (an invitation list's earliest
// status change included), under a scope (providers.Set.Responses) that hashes every upstream
// tenant and configured organization, and a key that also hashes the schema. Writes invalidate
// by generation (see cache.Responses).
//
// Callers are part of the key only by what they may do (auth.Identity.ScopeKey): every caller
// reads the same upstream data with the gateway's credentials, so an answer depends on nothing
// else of theirs, but an answer kept for a reader must never reach a caller who may not read
// (and an answer with a FORBIDDEN field is never kept, having an error). Authentication, CORS
// and body limits run before this layer; hits are counted in the GraphQL metrics but not
// traced as operations.
type responseCache struct {
	schemaHash string
	meaning    *meaning
	responses  func() *cache.Responses
	metrics    *metrics.Metrics // nil: not counted
	// timeout bounds a rebuild (see rebuild), as it bounds a request; log gets what goes
	// wrong in one, which no client sees.
	timeout time.Duration
	log     *slog.Logger

	mu         sync.Mutex
	rebuilding map[string]*rebuildState
	running    int // rebuilds running
}

// rebuildState is one key's rebuild while it runs; once it has ended without keeping an
// answer, the time before which no other is tried.
type rebuildState struct {
	running bool
	retryAt time.Time
}

// Bounds of rebuilds. At most maxRebuilds run at once: when many kept answers go stale
// together (the data under them expired), the first hits start rebuilds and the others are
// served stale without one until a slot is free, instead of executing every query at once.
// At most maxRebuildKeys keys are tracked (running, or waiting rebuildRetry after a rebuild
// that kept nothing).
const (
	maxRebuilds    = 8
	maxRebuildKeys = 10_000
	rebuildRetry   = time.Second
)

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = (*responseCache)(nil)

// maxKeptResponse bounds what one answer may take in the store; larger ones are executed
// every time rather than crowd out the data cache.
const maxKeptResponse = 1 << 20

func newResponseCache(schema *ast.Schema, responses func() *cache.Responses, m *metrics.Metrics, tokenLimit int, timeout time.Duration, log *slog.Logger) *responseCache {
	var sdl strings.Builder
	formatter.NewFormatter(&sdl).FormatSchema(schema)
	sum := sha256.Sum256([]byte(sdl.String()))
	return &responseCache{schemaHash: hex.EncodeToString(sum[:8]), meaning: newMeaning(tokenLimit), responses: responses, metrics: m,
		timeout: timeout, log: log, rebuilding: map[string]*rebuildState{}}
}

// verdict is what the GraphQL half found out about one request, for the HTTP half.
type verdict struct {
	mu        sync.Mutex
	keep      bool
	until     time.Time // fresh until
	changes   time.Time // a status in the answer changes (zero: none does)
	operation string
}

type verdictKey struct{}

func (*responseCache) ExtensionName() string                   { return "ResponseCache" }
func (*responseCache) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse says whether the answer may be kept, and until when.
func (rc *responseCache) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	v, _ := ctx.Value(verdictKey{}).(*verdict)
	// Errors found before an operation exists (a body that is not JSON) come through here
	// too, without an operation context.
	if v == nil || !graphql.HasOperationContext(ctx) || resp == nil {
		return resp
	}
	op := graphql.GetOperationContext(ctx)
	if !cacheable(op) || len(resp.Errors) > 0 || len(resp.Extensions) > 0 || resp.HasNext != nil || len(resp.Data) == 0 {
		return resp
	}
	l := loaders.For(ctx)
	if until, fresh := l.FreshUntil(); fresh {
		v.mu.Lock()
		v.keep, v.until, v.changes, v.operation = true, until, l.ChangesAt(), op.Operation.Name
		v.mu.Unlock()
	}
	return resp
}

// cacheable reports whether op's answer may be reused at all: a query that neither
// introspects (allowed or not per instance) nor defers or streams (several responses).
func cacheable(op *graphql.OperationContext) bool {
	if op == nil || op.Operation == nil || op.Operation.Operation != ast.Query || op.Doc == nil {
		return false
	}
	return !selectsAny(op.Doc, op.Operation.SelectionSet, func(sel ast.Selection) bool {
		switch s := sel.(type) {
		case *ast.Field:
			return isIntrospection(s) || deferred(s.Directives)
		case *ast.InlineFragment:
			return deferred(s.Directives)
		case *ast.FragmentSpread:
			return deferred(s.Directives)
		}
		return false
	})
}

func deferred(ds ast.DirectiveList) bool {
	return ds.ForName("defer") != nil || ds.ForName("stream") != nil
}

// middleware is the HTTP half: serve a kept answer, or run the request and keep its answer.
// A kept answer past its freshness (within its stale limit, see cache.Responses.Put) is served
// as well, and rebuilt in the background: the first request after the data expires is answered
// as fast as any hit, and the ones after it get the rebuilt answer.
func (rc *responseCache) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		store := rc.responses()
		if store == nil {
			next.ServeHTTP(w, r)
			return
		}
		key, body, ok := rc.requestKey(r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		start := time.Now()
		// On a miss, gen is the generation read before running the request.
		k, gen, hit := store.Get(ctx, key)
		if hit {
			if e, ok := decodeKept(k.Data); ok {
				w.Header().Set("Content-Type", e.contentType)
				setLength(w, len(e.body))
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write(e.body)
				if rc.metrics != nil {
					rc.metrics.ObserveOperation(e.operation, "ok", time.Since(start))
				}
				if k.Stale {
					rc.rebuild(next, r, body, store, key, gen)
				}
				return
			}
		}
		rc.run(next, w, r, store, key, gen)
	})
}

// run answers r with next through w and keeps the answer when it may be (see verdict); it
// reports whether it did.
func (rc *responseCache) run(next http.Handler, w http.ResponseWriter, r *http.Request, store *cache.Responses, key, gen string) bool {
	v := &verdict{}
	a := &heldAnswer{w: w}
	next.ServeHTTP(a, r.WithContext(context.WithValue(r.Context(), verdictKey{}, v)))
	// Only what the client got whole is kept.
	if err := a.send(); err != nil || a.status != http.StatusOK || a.body.Len() > maxKeptResponse {
		return false
	}
	v.mu.Lock()
	keep, until, changes, op := v.keep, v.until, v.changes, v.operation
	v.mu.Unlock()
	if keep {
		store.Put(r.Context(), key, gen, encodeKept(kept{contentType: w.Header().Get("Content-Type"), operation: op, body: a.body.Bytes()}), until, changes)
	}
	return keep
}

// rebuild runs r again in the background, detached from its client (whose answer, a stale one,
// is already sent), and keeps the new answer. Its reads wait for the refreshes of the data
// under it that this instance runs (cache.WaitForRefresh), so that the answer is built from
// fresh data; when another instance is refreshing that data, nothing fresh can be kept yet, and
// the next rebuild of the key waits rebuildRetry. One rebuild per key at a time, and at most
// maxRebuilds in all.
func (rc *responseCache) rebuild(next http.Handler, r *http.Request, body []byte, store *cache.Responses, key, gen string) {
	if !rc.startRebuild(key) {
		return
	}
	ctx, cancel := context.WithTimeout(cache.WaitForRefresh(context.WithoutCancel(r.Context())), rc.timeout)
	again := r.Clone(ctx)
	if body != nil {
		again.Body, again.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	}
	done := store.Track()
	go func() {
		defer done()
		defer cancel()
		kept := false
		defer func() {
			// net/http recovers a handler's panic; nothing would recover this goroutine's.
			if p := recover(); p != nil {
				rc.log.ErrorContext(ctx, "response rebuild panicked", "request_id", RequestID(ctx),
					"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			}
			rc.ended(key, kept)
		}()
		kept = rc.run(next, &discarded{header: http.Header{}}, again, store, key, gen)
	}()
}

// ended gives back key's rebuild slot; unless it kept an answer, the key's next rebuild waits.
func (rc *responseCache) ended(key string, kept bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.running--
	if kept {
		delete(rc.rebuilding, key)
	} else {
		rc.rebuilding[key] = &rebuildState{retryAt: time.Now().Add(rebuildRetry)}
	}
}

// startRebuild takes a rebuild slot for key, unless key's rebuild is running or was tried
// lately, or the bounds are reached.
func (rc *responseCache) startRebuild(key string) bool {
	now := time.Now()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if st, ok := rc.rebuilding[key]; rc.running >= maxRebuilds || (ok && (st.running || now.Before(st.retryAt))) {
		return false
	}
	if len(rc.rebuilding) >= maxRebuildKeys {
		for k, st := range rc.rebuilding {
			if !st.running && !now.Before(st.retryAt) {
				delete(rc.rebuilding, k)
			}
		}
		if len(rc.rebuilding) >= maxRebuildKeys {
			return false
		}
	}
	rc.rebuilding[key] = &rebuildState{running: true}
	rc.running++
	return true
}

// discarded is the ResponseWriter of a rebuild: nobody reads its answer but the cache.
type discarded struct{ header http.Header }

func (d *discarded) Header() http.Header         { return d.header }
func (d *discarded) WriteHeader(int)             {}
func (d *discarded) Write(b []byte) (int, error) { return len(b), nil }

// requestKey hashes everything of the request its answer can depend on: the schema, the
// caller's scopes, the method, the Accept header (content negotiation), and the request's
// meaning (query,
// operation name and variables in canonical form, see meaning), read from the query string
// (GET) or the body (POST, restored for the handler, and returned). Other requests, and
// requests that cannot be read, are not cached.
func (rc *responseCache) requestKey(r *http.Request) (key string, body []byte, ok bool) {
	var req request
	switch r.Method {
	case http.MethodGet:
		q := r.URL.Query()
		req.Query, req.OperationName = q.Get("query"), q.Get("operationName")
		req.Variables = json.RawMessage(q.Get("variables"))
		if ext := q.Get("extensions"); ext != "" && json.Unmarshal([]byte(ext), &req.Extensions) != nil {
			return "", nil, false
		}
	case http.MethodPost:
		mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mediaType != "application/json" {
			return "", nil, false
		}
		body, err = io.ReadAll(r.Body)
		// The handler reads the body again, errors included (a 413 past the size limit).
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
		if err != nil || json.Unmarshal(body, &req) != nil {
			return "", nil, false
		}
	default:
		return "", nil, false
	}
	id, authenticated := auth.FromContext(r.Context())
	if !authenticated {
		return "", nil, false
	}
	m, meant := rc.meaning.key(r.Context(), req)
	if !meant {
		return "", nil, false
	}
	h := sha256.New()
	for _, p := range []string{rc.schemaHash, id.ScopeKey(), r.Method, r.Header.Get("Accept"), m} {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16]), body, true
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err == nil {
		return 0, io.EOF
	}
	return 0, e.err
}

// kept is a stored answer: what the client gets back, and the operation name for metrics.
type kept struct {
	contentType, operation string
	body                   []byte
}

// encodeKept stores k as "<content type>\n<operation>\n<body>"; neither a media type nor a
// GraphQL name contains a newline.
func encodeKept(k kept) []byte {
	b := make([]byte, 0, len(k.contentType)+len(k.operation)+2+len(k.body))
	b = append(b, k.contentType...)
	b = append(b, '\n')
	b = append(b, k.operation...)
	b = append(b, '\n')
	return append(b, k.body...)
}

func decodeKept(b []byte) (kept, bool) {
	ct, rest, ok1 := bytes.Cut(b, []byte{'\n'})
	op, body, ok2 := bytes.Cut(rest, []byte{'\n'})
	if !ok1 || !ok2 || len(ct) == 0 || len(body) == 0 {
		return kept{}, false
	}
	return kept{contentType: string(ct), operation: string(op), body: body}, true
}
