package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/lestrrat-go/httprc/v3"
	"github.com/lestrrat-go/httprc/v3/errsink"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// How the signing keys are kept fresh.
const (
	// RefreshMin is the shortest interval of the background refresh of the key set, which
	// follows the JWKS response's Cache-Control max-age (or Expires); it is the interval when
	// the response says nothing, and the wait before a failed fetch is tried again.
	RefreshMin = 5 * time.Minute
	// RefreshMax is the longest interval of the background refresh: it bounds how long a key
	// the IdP has withdrawn is still accepted.
	RefreshMax = time.Hour
	// ForcedRefreshEvery is how often at most a request may make the key set be fetched at
	// once: when its token names a key id the set does not hold (a rotation), or while no set
	// has been loaded at all (the IdP was down at start). Tokens with made-up key ids cannot
	// make the gateway hammer the IdP.
	ForcedRefreshEvery = 10 * time.Second
	// startWait bounds how long New waits for the first fetch before serving without keys.
	startWait = 15 * time.Second
	// maxJWKSBody bounds a JWKS response; real ones are a few KiB.
	maxJWKSBody = 1 << 20
)

// errRefreshLimited means a forced refresh was refused because one ran less than
// ForcedRefreshEvery ago.
var errRefreshLimited = errors.New("auth: key set refreshed too recently")

// keySource is the JWKS: fetched once at start, refreshed in the background by jwk.Cache,
// and refreshed on demand at most every ForcedRefreshEvery. Concurrent demands share one
// fetch.
type keySource struct {
	url   string
	cache *jwk.Cache
	res   *httprc.ResourceBase[jwk.Set]
	now   func() time.Time
	ctx   context.Context // lives until close
	wg    sync.WaitGroup  // forced refreshes in flight

	mu       sync.Mutex
	lastRun  time.Time // of the last forced refresh; zero before the first
	inflight *flight
}

// flight is one forced refresh; done is closed when err is set.
type flight struct {
	done chan struct{}
	err  error
}

// newKeySource starts the cache and waits, within ctx and startWait, for the first fetch to
// succeed or fail. A failure is logged, not returned: the cache keeps retrying.
func newKeySource(ctx, life context.Context, url string, client *http.Client, now func() time.Time, log *slog.Logger) (*keySource, error) {
	firstErr := make(chan struct{})
	var once sync.Once
	sink := errsink.NewFunc(func(_ context.Context, err error) {
		// httprc's errors name the URL and the cause (status, network or parse error); the
		// URL is configuration, not a secret.
		log.Warn("auth: cannot fetch the JWT signing keys", "error", err.Error())
		once.Do(func() { close(firstErr) })
	})
	cache, err := jwk.NewCache(life, httprc.NewClient(httprc.WithErrorSink(sink), httprc.WithWorkers(2)))
	if err != nil {
		return nil, err
	}
	k := &keySource{url: url, cache: cache, now: now, ctx: life}
	if err := cache.Register(life, url,
		jwk.WithHTTPClient(client),
		jwk.WithWaitReady(false),
		jwk.WithMinInterval(RefreshMin),
		jwk.WithMaxInterval(RefreshMax),
		jwk.WithMaxFetchBodySize(maxJWKSBody),
	); err != nil {
		_ = cache.Shutdown(context.Background())
		return nil, err
	}
	if k.res, err = cache.LookupResource(life, url); err != nil {
		_ = cache.Shutdown(context.Background())
		return nil, err
	}
	wait, cancel := context.WithTimeout(ctx, startWait)
	defer cancel()
	ready := make(chan struct{})
	go func() {
		if k.res.Ready(wait) == nil {
			close(ready)
		}
	}()
	select {
	case <-ready:
		log.Info("auth: loaded the JWT signing keys", "keys", k.set().Len())
	case <-firstErr:
		log.Warn("auth: starting without JWT signing keys; JWTs are answered 503 until they load")
	case <-wait.Done():
		log.Warn("auth: starting without JWT signing keys; JWTs are answered 503 until they load")
	}
	return k, nil
}

// set is the key set last fetched, or nil when none has been.
func (k *keySource) set() jwk.Set { return k.res.Resource() }

// refresh fetches the key set now, unless another forced refresh ran less than
// ForcedRefreshEvery ago (errRefreshLimited). A caller that arrives while one is running waits
// for it (within ctx) and shares its result. The fetch itself is not bound to ctx: a request
// that gives up does not cancel it for the others.
func (k *keySource) refresh(ctx context.Context) error {
	k.mu.Lock()
	f := k.inflight
	if f == nil {
		now := k.now()
		if !k.lastRun.IsZero() && now.Sub(k.lastRun) < ForcedRefreshEvery {
			k.mu.Unlock()
			return errRefreshLimited
		}
		k.lastRun = now
		f = &flight{done: make(chan struct{})}
		k.inflight = f
		k.wg.Add(1)
		go func() {
			defer k.wg.Done()
			_, f.err = k.cache.Refresh(k.ctx, k.url)
			k.mu.Lock()
			k.inflight = nil
			k.mu.Unlock()
			close(f.done)
		}()
	}
	k.mu.Unlock()
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close stops the background refresh; the caller cancels k.ctx first.
func (k *keySource) close() error {
	k.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return k.cache.Shutdown(ctx)
}
