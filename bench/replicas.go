package main

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// replicaRun is a steady load spread over replicas of the gateway sharing one Redis while
// their invitation lists expire, counted by the fakes.
type replicaRun struct {
	replicas   int
	rate       int           // requests per second over all replicas
	duration   time.Duration // of the load
	requests   int
	calls      callCount // upstream calls during the load and the refreshes it set off
	bad        int
	badSamples []string
}

// replicaReport is the same load on 1 and on 3 replicas.
type replicaReport struct {
	ttl     time.Duration
	windows int // TTL windows that end during each run: the times the lists expire
	runs    []*replicaRun
}

// perWindow is a run's upstream calls per TTL window.
func (x *replicaReport) perWindow(r *replicaRun) float64 {
	return float64(r.calls.calls) / float64(x.windows)
}

// replicaTable runs 1 gateway, then 3 sharing one Redis (a database of their own each time),
// with invitation lists that live -replica-ttl and directory lookups an hour, and sends them
// -replica-rate requests a second, in turn, for -replica-windows TTLs and a half after the
// lists were filled: the lists expire -replica-windows times, and each expiry's refresh (at
// the first request after it, and one fetch later) ends well before the next. With the refresh
// lock in Redis the fakes see one refresh per list per window, however many replicas there are.
func (b *bench) replicaTable(ctx context.Context, bin string, rep *report) error {
	x := &replicaReport{ttl: b.opts.replicaTTL, windows: b.opts.replicaWindows}
	duration := time.Duration(x.windows)*x.ttl + x.ttl/2
	quiet := max(50*time.Millisecond, 2*b.opts.fakeDelay)
	for _, n := range []int{1, 3} {
		db := dbOneReplica
		if n > 1 {
			db = dbThreeReplicas
		}
		redisURL, err := b.redisURL(ctx, db)
		if err != nil {
			return err
		}
		env := slices.Concat(b.ups.env, []string{"INVITEGW_REDIS_URL=" + redisURL,
			"INVITEGW_CACHE_TTL_INVITATIONS=" + x.ttl.String(), "INVITEGW_CACHE_TTL_DIRECTORY=1h"})
		var urls []string
		var procs []*child
		for k := range n {
			gw, url, err := b.sup.startGateway(ctx, fmt.Sprintf("invitegw (replica %d of %d)", k+1, n), bin, env)
			if err != nil {
				return err
			}
			defer gw.stop()
			urls, procs = append(urls, url), append(procs, gw)
		}
		// The first replica fills Redis; the others read it.
		for _, url := range urls {
			expect, err := b.answer(ctx, url, b.expect600)
			if err != nil {
				return err
			}
			b.expect600 = expect
		}
		if err := b.ups.settle(ctx, quiet, 30*time.Second); err != nil {
			return err
		}
		b.ups.reset()
		b.logf("replicas: %d on one Redis, %d req/s for %s, TTL %s", n, b.opts.replicaRate, duration, x.ttl)
		o, err := attack(ctx, b.sup, b.vegeta, shot{urls: urls, bodyFile: b.bodyFile, expect: b.expect600,
			rate: b.opts.replicaRate, duration: duration, maxWorkers: 64})
		if err != nil {
			return err
		}
		if err := b.ups.settle(ctx, quiet, 30*time.Second); err != nil {
			return err
		}
		r := &replicaRun{replicas: n, rate: b.opts.replicaRate, duration: duration, requests: o.requests,
			calls: b.ups.count(), bad: o.bad, badSamples: o.badSamples}
		x.runs = append(x.runs, r)
		b.logf("replicas: %d: %d upstream calls (%.1f per TTL window, at most %d of one resource), %d bad",
			n, r.calls.calls, x.perWindow(r), r.calls.most, r.bad)
		for _, p := range procs {
			p.stop()
		}
	}
	rep.replicas = x
	return nil
}
