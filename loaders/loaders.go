// Package loaders is the per-request set of dataloaders between the resolvers and the
// providers. Every loader memoizes for one request only: a loader shared across requests would
// serve one caller's data to another.
//
// Each batch function fans its keys out to the upstreams concurrently (none of the three APIs
// has a batch endpoint), so a query touching three providers and six organizations waits for
// the slowest upstream once, not for the sum.
package loaders

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/invitegw/invitegw/cache"
	"github.com/invitegw/invitegw/invite"
	"github.com/invitegw/invitegw/providers"
	"github.com/invitegw/invitegw/upstream"
)

// Options tune the loaders.
type Options struct {
	// Wait is how long a loader collects keys before calling its batch function. The resolvers
	// of one list's items run concurrently, so a short wait already gathers them; dataloader's
	// 16 ms default would add that much to every cold request.
	Wait time.Duration
	// ObserveBatch, if set, sees the size of every batch (for metrics).
	ObserveBatch func(loader string, keys int)
	// Views, if set, keeps filters' matches across requests (see Views).
	Views *Views
}

// DefaultOptions are the tuned defaults.
var DefaultOptions = Options{Wait: time.Millisecond}

// Loaders is one request's loader set.
type Loaders struct {
	set   *providers.Set
	views *Views

	invitations   *dataloader.Loader[invite.Source, []invite.Invitation]
	organizations *dataloader.Loader[invite.Source, *invite.Organization]
	roles         *dataloader.Loader[string, []invite.Role]
	groups        *dataloader.Loader[string, []invite.Group]

	mu    sync.Mutex
	stale map[invite.Provider]time.Duration // oldest stale copy served, per provider
	// freshUntil is the earliest moment any value this request loaded stops being fresh;
	// unfresh is set once a value was stale, failed, or of unknown freshness.
	freshUntil time.Time
	unfresh    bool
	// prefetched is what prefetch has started lookups for (see Join).
	prefetched Joins
	// changesAt is the earliest moment a status this request derives changes; zero: none.
	changesAt time.Time
}

// New builds a fresh loader set for one request.
func New(set *providers.Set, o Options) *Loaders {
	l := &Loaders{set: set, views: o.Views}
	bySource := func(src invite.Source) invite.Provider { return src.Provider }
	frontier := func(string) invite.Provider { return invite.Frontier }
	// Each loader's batch is full once it holds every key it could ever be asked for, and
	// dataloader dispatches a full batch at once: a query that asks for everything at the
	// top (the usual case) does not wait for the batch window at all.
	sources, frontierOrgs := len(set.Sources()), set.FrontierOrgs()
	l.invitations = newLoader(o, "invitations", sources, l, bySource, set.Invitations)
	l.organizations = newLoader(o, "organizations", sources, l, bySource, set.Organizations)
	l.roles = newLoader(o, "roles", 1+frontierOrgs, l, frontier, set.FrontierRoles) // "" is the platform roles
	l.groups = newLoader(o, "groups", frontierOrgs, l, frontier, set.FrontierGroups)
	return l
}

// noteFreshness folds one loaded value's freshness (cache.Result.Fresh) into the request's
// (see FreshUntil).
func (l *Loaders) noteFreshness(until time.Time, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case !ok:
		l.unfresh = true
	case l.freshUntil.IsZero() || until.Before(l.freshUntil):
		l.freshUntil = until
	}
}

// FreshUntil reports until when everything this request has loaded so far stays fresh. It is
// false when the request loaded nothing, or anything stale, failed or of unknown freshness:
// an answer built from it must not be reused.
func (l *Loaders) FreshUntil() (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.freshUntil, !l.unfresh && !l.freshUntil.IsZero()
}

// noteChanges folds the first moment a status read changes (zero: none will) into the
// request's (see ChangesAt).
func (l *Loaders) noteChanges(at time.Time) {
	if at.IsZero() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.changesAt.IsZero() || at.Before(l.changesAt) {
		l.changesAt = at
	}
}

// ChangesAt is the earliest moment a status this request has derived so far changes (a pending
// invitation expiring); zero when none will. An answer showing those statuses must not be
// served from then on, whatever its data's freshness.
func (l *Loaders) ChangesAt() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.changesAt
}

// newLoader makes a loader over a batch load of the providers (cached, concurrent), noting
// every stale copy it is given. keys is how many distinct keys the loader can be asked for.
func newLoader[K comparable, V any](o Options, name string, keys int, l *Loaders, provider func(K) invite.Provider,
	load func(context.Context, []K) []cache.Result[V]) *dataloader.Loader[K, V] {
	batch := func(ctx context.Context, keys []K) []*dataloader.Result[V] {
		if o.ObserveBatch != nil {
			o.ObserveBatch(name, len(keys))
		}
		rs := load(ctx, keys)
		out := make([]*dataloader.Result[V], len(keys))
		for i := range keys {
			if i >= len(rs) { // a batch must answer every key
				out[i] = &dataloader.Result[V]{Error: fmt.Errorf("loaders: no result for %v", keys[i])}
				l.noteFreshness(time.Time{}, false)
				continue
			}
			if rs[i].Stale {
				l.noteStale(provider(keys[i]), rs[i].Age)
			}
			l.noteFreshness(rs[i].Fresh())
			out[i] = &dataloader.Result[V]{Data: rs[i].Value, Error: deadlineToTimeout(rs[i].Err, provider(keys[i]), name)}
		}
		return out
	}
	return dataloader.NewBatchedLoader(batch,
		dataloader.WithWait[K, V](o.Wait),
		dataloader.WithBatchCapacity[K, V](max(1, keys)),
	)
}

// deadlineToTimeout turns the request's deadline passing while an upstream was still being
// waited for into that upstream's timeout, so the client learns which provider was slow.
func deadlineToTimeout(err error, p invite.Provider, loader string) error {
	var ue *upstream.Error
	if err == nil || errors.As(err, &ue) || !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &upstream.Error{Provider: p.Slug(), Op: loader, Kind: upstream.ErrTimeout, Err: err}
}

func (l *Loaders) noteStale(p invite.Provider, age time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stale == nil {
		l.stale = map[invite.Provider]time.Duration{}
	}
	if age >= l.stale[p] {
		l.stale[p] = age
	}
}

// Warning is an entry of the response's extensions.warnings.
type Warning struct {
	Code       string `json:"code"`
	Provider   string `json:"provider"`
	AgeSeconds int    `json:"ageSeconds"`
}

// Warnings lists what the request served stale, one entry per provider with the oldest copy's
// age, in provider order.
func (l *Loaders) Warnings() []Warning {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Warning
	for _, p := range invite.Providers {
		if age, ok := l.stale[p]; ok {
			out = append(out, Warning{Code: "STALE_DATA", Provider: string(p), AgeSeconds: int(age / time.Second)})
		}
	}
	return out
}

type ctxKey struct{}

// With returns ctx carrying l.
func With(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// For returns the request's loaders. It panics when Middleware is missing: that is a wiring
// bug, and the GraphQL layer turns the panic into an internal error.
func For(ctx context.Context) *Loaders {
	l, ok := ctx.Value(ctxKey{}).(*Loaders)
	if !ok {
		panic("loaders: no loaders in context; wrap the handler with loaders.Middleware")
	}
	return l
}

// Middleware gives every request its own loader set.
func Middleware(set *providers.Set, o Options, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(With(r.Context(), New(set, o))))
	})
}
