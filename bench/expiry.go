package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// expiryMargin is how long past the TTL each round waits, after the last refresh ended, before
// its first request: the copy has expired by then whatever the timer's slack.
const expiryMargin = 200 * time.Millisecond

// expiryRun is one gateway's first requests after its invitation lists expired, one a round.
type expiryRun struct {
	name string
	env  []string // the settings that set it apart
	// first are the latencies of the first request after the TTL passed, sorted.
	first []time.Duration
	// hits are warm hits once the refresh has landed and the answer was rebuilt (or a request
	// executed over the fresh data), sorted: what the first request is to be compared with.
	hits []time.Duration
	// idleHits are warm hits after an idle gap (expiryIdle), one a round: the first request
	// after expiry also comes after one, and a process woken from idling answers more slowly
	// (RESULTS.md, "Idle cost"), so this is what it must look like.
	idleHits []time.Duration
	// refreshCalls are the upstream calls each round's first request set off (in the
	// background with stale-while-revalidate, before answering without), sorted.
	refreshCalls []int
	byRoute      []string // those of the last round
	bad          int
	badSamples   []string
}

func (r *expiryRun) check(status int, body, expect []byte) {
	if status != http.StatusOK || !slices.Equal(body, expect) {
		r.bad++
		if len(r.badSamples) < 3 {
			r.badSamples = append(r.badSamples, fmt.Sprintf("status %d: %.200s", status, body))
		}
	}
}

// expiryReport is the first request after expiry, for every gateway of expiryTable.
type expiryReport struct {
	ttl    time.Duration
	rounds int
	runs   []*expiryRun
	// baseline is the baseline server's latency, one request a round, sorted: what any server
	// answering the same bytes takes from the same client at that moment.
	baseline *expiryRun
}

// hitsPerRound are the warm hits measured after each round's refresh.
const hitsPerRound = 3

// expiryIdle is the idle gap before each round's idle hit, as a fraction of the TTL: long past
// what idling costs (20ms), short enough that the lists are still fresh.
const expiryIdle = 0.5

// expiryTable runs gateways whose invitation lists live for -expiry-ttl (their directory
// lookups an hour), against the 600-invitation fakes answering after -fake-delay: with
// stale-while-revalidate (the default) in memory and in Redis, and without it in memory. Each
// round, each gateway in turn gets one request once its lists have expired; then, once the
// refresh that request set off has ended (the fakes' counters still), an untimed request (a hit
// on the rebuilt answer, or one executing over the fresh data that keeps it), hitsPerRound warm
// hits back to back, and, after idling for expiryIdle of the TTL, one more.
func (b *bench) expiryTable(ctx context.Context, bin string, rep *report) error {
	ttl := b.opts.expiryTTL
	redisURL, err := b.redisURL(ctx, dbExpiry)
	if err != nil {
		return err
	}
	x := &expiryReport{ttl: ttl, rounds: b.opts.expiryRounds, baseline: &expiryRun{name: "baseline (pre-serialized answer)"}}
	x.runs = []*expiryRun{
		{name: "invitegw, in memory, stale-while-revalidate 30s (the default)"},
		{name: "invitegw, Redis, stale-while-revalidate 30s (the default)", env: []string{"INVITEGW_REDIS_URL=" + redisURL}},
		{name: "invitegw, in memory, stale-while-revalidate off", env: []string{"INVITEGW_CACHE_STALE_WHILE_REVALIDATE=0s"}},
	}
	env := slices.Concat(b.ups.env, []string{"INVITEGW_CACHE_TTL_INVITATIONS=" + ttl.String(), "INVITEGW_CACHE_TTL_DIRECTORY=1h"})
	urls := make([]string, len(x.runs))
	for i, r := range x.runs {
		gw, url, err := b.sup.startGateway(ctx, "invitegw (expiry "+fmt.Sprint(i+1)+")", bin, slices.Concat(env, r.env))
		if err != nil {
			return err
		}
		defer gw.stop()
		urls[i] = url
	}
	expect, err := b.answer(ctx, urls[0], b.expect600)
	if err != nil {
		return err
	}
	b.expect600 = expect
	for i, url := range urls[1:] {
		if _, err := b.answer(ctx, url, expect); err != nil {
			rep.wrong = append(rep.wrong, x.runs[i+1].name+": "+err.Error())
		}
	}
	answerFile := filepath.Join(b.tmp, "answer-expiry.json")
	if err := os.WriteFile(answerFile, expect, 0o600); err != nil {
		return err
	}
	base, baseURL, err := b.sup.startBaseline(ctx, answerFile)
	if err != nil {
		return err
	}
	defer base.stop()

	quiet := max(50*time.Millisecond, 2*b.opts.fakeDelay)
	if err := b.ups.settle(ctx, quiet, 30*time.Second); err != nil {
		return err
	}
	ready := make([]time.Time, len(urls)) // when each gateway's lists were last fetched
	for i := range ready {
		ready[i] = time.Now()
	}
	b.logf("expiry: %d rounds, TTL %s", x.rounds, ttl)
	for range x.rounds {
		for i, r := range x.runs {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Until(ready[i].Add(ttl + expiryMargin))):
			}
			b.ups.reset()
			d, status, body, err := b.timedPost(ctx, urls[i])
			if err != nil {
				return err
			}
			r.first = append(r.first, d)
			r.check(status, body, expect)
			if err := b.ups.settle(ctx, quiet, 30*time.Second); err != nil {
				return err
			}
			ready[i] = time.Now()
			c := b.ups.count()
			r.refreshCalls, r.byRoute = append(r.refreshCalls, c.calls), c.byRoute
			for k := range 1 + hitsPerRound {
				d, status, body, err := b.timedPost(ctx, urls[i])
				if err != nil {
					return err
				}
				if k > 0 {
					r.hits = append(r.hits, d)
				}
				r.check(status, body, expect)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(expiryIdle * float64(ttl))):
			}
			d, status, body, err = b.timedPost(ctx, urls[i])
			if err != nil {
				return err
			}
			r.idleHits = append(r.idleHits, d)
			r.check(status, body, expect)
		}
		d, status, body, err := b.timedPost(ctx, baseURL)
		if err != nil {
			return err
		}
		x.baseline.first = append(x.baseline.first, d)
		x.baseline.check(status, body, expect)
	}
	x.baseline.first = sortedDurations(x.baseline.first)
	b.logf("expiry: baseline, one request a round: p50 %s, p99 %s; %d bad",
		ms(percentile(x.baseline.first, 50)), ms(percentile(x.baseline.first, 99)), x.baseline.bad)
	for _, r := range x.runs {
		r.first, r.hits, r.idleHits = sortedDurations(r.first), sortedDurations(r.hits), sortedDurations(r.idleHits)
		slices.Sort(r.refreshCalls)
		b.logf("expiry: %s: first request after expiry p50 %s, p99 %s; warm hit after idling p50 %s, p99 %s; back to back p50 %s, p99 %s; %v upstream calls per refresh; %d bad",
			r.name, ms(percentile(r.first, 50)), ms(percentile(r.first, 99)), ms(percentile(r.idleHits, 50)), ms(percentile(r.idleHits, 99)),
			ms(percentile(r.hits, 50)), ms(percentile(r.hits, 99)), r.refreshCalls, r.bad)
	}
	rep.expiry = x
	return nil
}
