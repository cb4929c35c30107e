package redpanda

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/invitegw/invitegw/upstream"
	"github.com/invitegw/invitegw/upstream/redpanda/redpandafake"
)

var (
	ccOptions = Options{ClientID: testClientID, ClientSecret: testSecret}
	ccFake    = redpandafake.Options{ClientID: testClientID, ClientSecret: testSecret}
)

// testClock is a clock that moves only when told to; the fake and the client may share one.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var reauthExpiry = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

// reauthOps are the client's operations, each with the fake's route it calls once (one
// seeded invite is one page).
var reauthOps = []struct {
	op   string
	call func(ctx context.Context, c *Client) error
}{
	{"ListUserInvites", func(ctx context.Context, c *Client) error {
		_, err := c.ListUserInvites(ctx)
		return err
	}},
	{"UpdateUserInvite", func(ctx context.Context, c *Client) error {
		_, err := c.UpdateUserInvite(ctx, "inv-00", UserInviteUpdate{ExpiresAt: &reauthExpiry}, []string{"expiresAt"})
		return err
	}},
	{"GetCurrentOrganization", func(ctx context.Context, c *Client) error {
		_, err := c.GetCurrentOrganization(ctx)
		return err
	}},
}

func TestReauthentication(t *testing.T) {
	tests := []struct {
		name   string
		static bool // a static token instead of client credentials
		warm   bool // fetch a token before the call
		// setup runs just before the call, with the operation's route and the fake's clock.
		setup func(fake *redpandafake.Server, route string, clock *testClock)
		// wantStatus is the failed call's status (0 with wantErr: no answer from the API);
		// without wantErr the call succeeds.
		wantErr        bool
		wantStatus     int
		wantReason     string
		wantCalls      int // requests to the operation's route
		wantTokens     int // tokens issued
		wantTokenCalls int // requests to the token endpoint
	}{
		{name: "revoked token is replaced and the call repeated once", warm: true,
			setup:     func(f *redpandafake.Server, _ string, _ *testClock) { f.RevokeTokens() },
			wantCalls: 2, wantTokens: 2, wantTokenCalls: 2},
		{name: "token the api says expired early is replaced", warm: true,
			// The fake's clock runs ahead of the client's: skew, or a shortened lifetime.
			setup:     func(_ *redpandafake.Server, _ string, clock *testClock) { clock.Advance(2 * time.Hour) },
			wantCalls: 2, wantTokens: 2, wantTokenCalls: 2},
		{name: "a second 401 after the refresh is returned",
			setup: func(f *redpandafake.Server, route string, _ *testClock) {
				f.FailNext(route, 2, http.StatusUnauthorized)
			},
			wantErr: true, wantStatus: 401, wantReason: ReasonTokenInvalid,
			wantCalls: 2, wantTokens: 2, wantTokenCalls: 2},
		{name: "a failed refresh ends the call", warm: true,
			setup: func(f *redpandafake.Server, _ string, _ *testClock) {
				f.RevokeTokens()
				f.FailNext("Token", 1, http.StatusServiceUnavailable)
			},
			wantErr: true, wantStatus: 0, wantCalls: 1, wantTokens: 1, wantTokenCalls: 2},
		{name: "static token is not retried", static: true,
			setup: func(f *redpandafake.Server, route string, _ *testClock) {
				f.FailNext(route, 1, http.StatusUnauthorized)
			},
			wantErr: true, wantStatus: 401, wantReason: ReasonTokenInvalid, wantCalls: 1},
	}
	for _, tt := range tests {
		for _, op := range reauthOps {
			t.Run(tt.name+"/"+op.op, func(t *testing.T) {
				clock := &testClock{t: created}
				fo, o := ccFake, ccOptions
				if tt.static {
					fo, o = redpandafake.Options{}, Options{}
				}
				fo.Now = clock.Now
				fake, c, _ := newFake(t, fo, o)
				seedInvites(fake, 1)
				ctx := context.Background()
				if tt.warm {
					if _, _, err := c.tokens.token(ctx); err != nil {
						t.Fatal(err)
					}
				}
				tt.setup(fake, op.op, clock)

				err := op.call(ctx, c)
				if !tt.wantErr {
					if err != nil {
						t.Fatal(err)
					}
				} else {
					var ue *upstream.Error
					if !errors.Is(err, upstream.ErrUnauthenticated) || !errors.As(err, &ue) {
						t.Fatalf("err = %v, want ErrUnauthenticated", err)
					}
					var info *ErrorInfo
					reason := ""
					if errors.As(err, &info) {
						reason = info.Reason
					}
					if ue.Op != op.op || ue.Status != tt.wantStatus || reason != tt.wantReason {
						t.Errorf("error = %+v (reason %q), want status %d, reason %q", ue, reason, tt.wantStatus, tt.wantReason)
					}
				}
				if n := fake.Calls(op.op); n != tt.wantCalls {
					t.Errorf("%s calls = %d, want %d", op.op, n, tt.wantCalls)
				}
				if n := fake.TokensIssued(); n != tt.wantTokens {
					t.Errorf("tokens issued = %d, want %d", n, tt.wantTokens)
				}
				if n := fake.Calls("Token"); n != tt.wantTokenCalls {
					t.Errorf("token requests = %d, want %d", n, tt.wantTokenCalls)
				}
				if op.op == "UpdateUserInvite" {
					// Applied once on success; never by a refused PATCH.
					want := created.Add(7 * 24 * time.Hour)
					if !tt.wantErr {
						want = reauthExpiry
					}
					if inv, _ := fake.Invite("inv-00"); !inv.ExpiresAt.Equal(want) {
						t.Errorf("stored expiry = %v, want %v", inv.ExpiresAt, want)
					}
				}
			})
		}
	}
}

// callConcurrently makes n GetCurrentOrganization calls at once and fails on any error.
func callConcurrently(t *testing.T, c *Client, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := c.GetCurrentOrganization(context.Background())
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestTokenSharing(t *testing.T) {
	t.Run("concurrent calls on a cold client fetch one token", func(t *testing.T) {
		fake, c, _ := newFake(t, ccFake, ccOptions)
		callConcurrently(t, c, 50)
		if n, calls := fake.TokensIssued(), fake.Calls("Token"); n != 1 || calls != 1 {
			t.Errorf("tokens issued = %d, token requests = %d, want 1 and 1", n, calls)
		}
		if n := fake.Calls("GetCurrentOrganization"); n != 50 {
			t.Errorf("calls = %d, want 50", n)
		}
	})

	t.Run("concurrent calls with a revoked token fetch one more", func(t *testing.T) {
		fake, c, _ := newFake(t, ccFake, ccOptions)
		callConcurrently(t, c, 1)
		fake.RevokeTokens()
		callConcurrently(t, c, 50)
		if n, calls := fake.TokensIssued(), fake.Calls("Token"); n != 2 || calls != 2 {
			t.Errorf("tokens issued = %d, token requests = %d, want 2 and 2", n, calls)
		}
	})

	t.Run("a cancelled caller does not break the fetch for others", func(t *testing.T) {
		fake, c, _ := newFake(t, ccFake, ccOptions)
		arrived, release := make(chan struct{}), make(chan struct{})
		var arrivedOnce, once sync.Once
		t.Cleanup(func() { once.Do(func() { close(release) }) })
		fake.OnRequest(func(route string, _ *http.Request) {
			if route == "Token" {
				arrivedOnce.Do(func() { close(arrived) })
				<-release
			}
		})
		ctx, cancel := context.WithCancel(context.Background())
		first := make(chan error, 1)
		go func() {
			_, err := c.GetCurrentOrganization(ctx)
			first <- err
		}()
		<-arrived
		second := make(chan error, 1)
		go func() {
			_, err := c.GetCurrentOrganization(context.Background())
			second <- err
		}()
		cancel()
		if err := <-first; !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled call: err = %v, want context.Canceled", err)
		}
		once.Do(func() { close(release) })
		if err := <-second; err != nil {
			t.Fatalf("waiting call: %v", err)
		}
		if n := fake.TokensIssued(); n != 1 {
			t.Errorf("tokens issued = %d, want 1", n)
		}
		if n := fake.Calls("GetCurrentOrganization"); n != 1 {
			t.Errorf("calls = %d, want 1 (the cancelled call never sent its request)", n)
		}
	})
}

// TestEarlyRefresh checks that a token is replaced in its last minute (earlyExpiry), before it
// expires. oauth2's reuse source reads the real clock, so the token's remaining lifetime is
// set through the lifetime the fake issues it with, rather than by moving a clock.
func TestEarlyRefresh(t *testing.T) {
	tests := []struct {
		name     string
		ttl      time.Duration
		replaced bool // replaced at the next call
	}{
		{name: "one-hour token is kept", ttl: time.Hour},
		{name: "two-minute token is kept", ttl: 2 * time.Minute},
		{name: "token in its last minute is replaced", ttl: 59 * time.Second, replaced: true},
		{name: "ten-second token is replaced", ttl: 10 * time.Second, replaced: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fo := ccFake
			fo.TokenTTL = tt.ttl
			fake, c, _ := newFake(t, fo, ccOptions)
			ctx := context.Background()
			call := func() string {
				t.Helper()
				if _, err := c.GetCurrentOrganization(ctx); err != nil {
					t.Fatal(err)
				}
				return fake.LastAuthorization("GetCurrentOrganization")
			}

			first := call()
			second := call()
			wantIssued := 1
			if tt.replaced {
				wantIssued = 2
			}
			if (second != first) != tt.replaced || fake.TokensIssued() != wantIssued {
				t.Errorf("token replaced = %v, want %v (%d issued)", second != first, tt.replaced, fake.TokensIssued())
			}
			// Every call was answered at once: the old token had not expired, so none was
			// refused and repeated.
			if n := fake.Calls("GetCurrentOrganization"); n != 2 {
				t.Errorf("calls = %d, want 2", n)
			}
		})
	}

	t.Run("a failed refresh inside the margin keeps the old token", func(t *testing.T) {
		fo := ccFake
		fo.TokenTTL = 30 * time.Second // inside the margin from the start
		fake, c, _ := newFake(t, fo, ccOptions)
		ctx := context.Background()
		if _, err := c.GetCurrentOrganization(ctx); err != nil {
			t.Fatal(err)
		}
		first := fake.LastAuthorization("GetCurrentOrganization")
		fake.FailNext("Token", 1, http.StatusServiceUnavailable)
		if _, err := c.GetCurrentOrganization(ctx); err != nil {
			t.Fatalf("err = %v, want the call made with the old token", err)
		}
		if got := fake.LastAuthorization("GetCurrentOrganization"); got != first {
			t.Errorf("Authorization = %q, want the old token", got)
		}
		// The next call tries again and gets a new token.
		if _, err := c.GetCurrentOrganization(ctx); err != nil {
			t.Fatal(err)
		}
		if n, calls := fake.TokensIssued(), fake.Calls("Token"); n != 2 || calls != 3 {
			t.Errorf("tokens issued = %d, token requests = %d, want 2 and 3", n, calls)
		}
	})
}

// failingSource is a token endpoint that is down.
type failingSource struct{}

func (failingSource) Token() (*oauth2.Token, error) { return nil, errors.New("token endpoint down") }

func TestKeepUnexpired(t *testing.T) {
	tests := []struct {
		name   string
		expiry time.Time
		want   bool // the previous token is handed back
	}{
		{"unexpired token is handed back", time.Now().Add(time.Minute), true},
		{"expired token is not", time.Now().Add(-time.Second), false},
		{"token without an expiry is not", time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			last := &oauth2.Token{AccessToken: "old", Expiry: tt.expiry}
			k := &keepUnexpired{src: failingSource{}, last: last}
			got, err := k.Token()
			if tt.want && (err != nil || got != last) {
				t.Errorf("got %v, %v; want the previous token", got, err)
			}
			if !tt.want && (err == nil || got != nil) {
				t.Errorf("got %v, %v; want the endpoint's error", got, err)
			}
		})
	}
}

func TestTokenEndpointOutage(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	tests := []struct {
		name       string
		setup      func(fake *redpandafake.Server)
		tokenURL   string
		wantPrefix string
	}{
		{name: "503 from the token endpoint",
			setup:      func(f *redpandafake.Server) { f.FailNext("Token", 1, http.StatusServiceUnavailable) },
			wantPrefix: "redpanda: GetCurrentOrganization: unauthenticated: authorize: token endpoint answered HTTP 503"},
		{name: "token endpoint refusing connections", tokenURL: downURL + "/oauth/token",
			wantPrefix: "redpanda: GetCurrentOrganization: unauthenticated: authorize: token request: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ccOptions
			o.TokenURL = tt.tokenURL
			fake, c, _ := newFake(t, ccFake, o)
			if tt.setup != nil {
				tt.setup(fake)
			}
			_, err := c.GetCurrentOrganization(context.Background())
			var ue *upstream.Error
			if !errors.Is(err, upstream.ErrUnauthenticated) || !errors.As(err, &ue) {
				t.Fatalf("err = %v, want ErrUnauthenticated", err)
			}
			if ue.Status != 0 || !strings.HasPrefix(err.Error(), tt.wantPrefix) {
				t.Errorf("error = %q (status %d), want prefix %q", err, ue.Status, tt.wantPrefix)
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Error("error text contains the client secret")
			}
			if n := fake.Calls("GetCurrentOrganization"); n != 0 {
				t.Errorf("api calls = %d, want 0", n)
			}
			// The outage is not remembered: the next call asks again.
			if tt.setup != nil {
				if _, err := c.GetCurrentOrganization(context.Background()); err != nil {
					t.Fatal(err)
				}
				if n := fake.TokensIssued(); n != 1 {
					t.Errorf("tokens issued = %d, want 1", n)
				}
			}
		})
	}
}
