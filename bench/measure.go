package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/redis/go-redis/v9"
)

// measurement is what measure found for one server.
type measurement struct {
	name        string
	peak        *outcome // the best closed-loop run
	peakWorkers int
	half        *outcome // the fixed-rate run at half the peak
	halfRate    int
	cpuPer1k    float64 // CPU seconds per 1,000 requests, over the half-peak run
	hwmKiB      int     // peak resident set of the process, at the end
	requests    int     // every request sent, warm-up included
	measured    int     // requests in the peak and half-peak runs
	upstream    int     // upstream calls during the peak and half-peak runs
	bad         int
	badSamples  []string
}

func (m *measurement) add(o *outcome) {
	m.requests += o.requests
	m.bad += o.bad
	for _, s := range o.badSamples {
		if len(m.badSamples) < 5 {
			m.badSamples = append(m.badSamples, s)
		}
	}
}

// plan is how long and how hard measure drives a server.
type plan struct {
	warmup, peak, half time.Duration
	concurrency        []int
}

// mainPlan is the plan of the main table, from the flags.
func (o options) mainPlan() plan {
	return plan{warmup: o.warmup, peak: o.peakDuration, half: o.halfDuration, concurrency: o.concurrency}
}

// measure drives one server: a closed-loop warm-up, closed-loop runs at each concurrency (the
// best is its peak), then a fixed-rate run at half that peak for latency and CPU. Upstream
// calls are those ups counted meanwhile.
func (b *bench) measure(ctx context.Context, ups *upstreams, p plan, name, url string, proc *child, expect []byte) (*measurement, error) {
	m := &measurement{name: name}
	s := shot{urls: []string{url}, bodyFile: b.bodyFile, expect: expect}
	warm := s
	warm.workers, warm.duration = 4, p.warmup
	o, err := attack(ctx, b.sup, b.vegeta, warm)
	if err != nil {
		return nil, err
	}
	m.add(o)
	calls := ups.calls()
	for _, w := range p.concurrency {
		run := s
		run.workers, run.duration = w, p.peak
		o, err := attack(ctx, b.sup, b.vegeta, run)
		if err != nil {
			return nil, err
		}
		m.add(o)
		m.measured += o.requests
		b.logf("%s: %d in flight: %.0f req/s, p50 %s, p99 %s, %d bad", name, w, o.rps(), ms(o.pct(50)), ms(o.pct(99)), o.bad)
		if m.peak == nil || o.rps() > m.peak.rps() {
			m.peak, m.peakWorkers = o, w
		}
	}
	m.halfRate = max(1, int(m.peak.rps()/2))
	half := s
	half.rate, half.duration = m.halfRate, p.half
	cpu0, err := cpuSeconds(proc.pid())
	if err != nil {
		return nil, err
	}
	o, err = attack(ctx, b.sup, b.vegeta, half)
	if err != nil {
		return nil, err
	}
	cpu1, err := cpuSeconds(proc.pid())
	if err != nil {
		return nil, err
	}
	m.add(o)
	m.measured += o.requests
	m.half = o
	m.cpuPer1k = (cpu1 - cpu0) / float64(o.requests) * 1000
	if m.hwmKiB, err = memKiB(proc.pid(), "VmHWM"); err != nil {
		return nil, err
	}
	m.upstream = ups.calls() - calls
	b.logf("%s: %d req/s: p50 %s, p99 %s, %.3f CPU s per 1k requests, peak RSS %.1f MiB, %d upstream calls, %d bad",
		name, m.halfRate, ms(o.pct(50)), ms(o.pct(99)), m.cpuPer1k, float64(m.hwmKiB)/1024, m.upstream, o.bad)
	return m, nil
}

// coldRun is the cold query sent one request at a time to the gateway with its cache off, so
// every request fetches everything from the fakes. Before each, Redpanda's list is read
// straight from the fake: the floor no gateway can beat.
type coldRun struct {
	n          int
	latencies  []time.Duration // sorted
	floor      []time.Duration // sorted
	fanFloor   []time.Duration // sorted: the fan-out floor (see fanOutFloor)
	fanCalls   int             // requests in the fan-out floor
	pages      int             // Redpanda pages in the floor
	calls      callCount       // upstream calls of the last request
	minCalls   int             // fewest and most upstream calls of one request
	maxCalls   int
	repeated   int       // calls beyond one per distinct resource, over all requests
	timeline   []arrival // when each upstream call of the last request arrived
	bad        int
	badSamples []string
	// paired is, with -cold-compare or -cold-compare-bin, this gateway's latency minus the
	// other's in each round, sorted.
	paired []time.Duration
}

// coldSequential sends the cold query one request at a time to each gateway of urls in turn,
// right after measuring the floors, and returns one coldRun per gateway (the floors shared).
// With two gateways (-cold-compare) the order within a round alternates, so neither always
// follows the floors, and each round is a paired sample taken under the same load.
func (b *bench) coldSequential(ctx context.Context, urls []string, expect []byte) ([]*coldRun, error) {
	runs := make([]*coldRun, len(urls))
	lat := make([][]time.Duration, len(urls))
	for k := range runs {
		runs[k] = &coldRun{n: b.opts.coldRequests, minCalls: -1}
	}
	var floor, fanFloor []time.Duration
	var replayed []recorded                     // the upstream requests of one cold query
	for i := -2; i < b.opts.coldRequests; i++ { // two unmeasured rounds first; the second records the requests
		t0 := time.Now()
		pages, err := b.ups.walkRedpanda(ctx, b.hc)
		if err != nil {
			return nil, err
		}
		f := time.Since(t0)
		var ff time.Duration
		if replayed != nil {
			if ff, err = b.ups.fanOutFloor(ctx, b.hc, replayed); err != nil {
				return nil, err
			}
		}
		for j := range urls {
			k := j
			if i%2 != 0 {
				k = len(urls) - 1 - j
			}
			r := runs[k]
			b.ups.reset()
			b.ups.timeline.begin()
			record := i == -1 && k == 0
			if record {
				b.ups.recorder.start()
			}
			t0 = time.Now()
			status, body, err := post(ctx, b.hc, urls[k], []byte(benchQuery))
			d := time.Since(t0)
			calls := b.ups.timeline.end()
			if record {
				replayed = b.ups.recorder.stop()
				for _, r := range runs {
					r.fanCalls = len(replayed)
				}
			}
			if err != nil {
				return nil, err
			}
			if status != http.StatusOK || !bytes.Equal(body, expect) {
				r.bad++
				if len(r.badSamples) < 3 {
					r.badSamples = append(r.badSamples, fmt.Sprintf("status %d: %.200s", status, body))
				}
			}
			c := b.ups.count()
			if i < 0 {
				continue
			}
			r.pages = pages
			lat[k] = append(lat[k], d)
			r.calls, r.timeline = c, calls
			r.repeated += c.calls - c.distinct
			if r.minCalls < 0 || c.calls < r.minCalls {
				r.minCalls = c.calls
			}
			r.maxCalls = max(r.maxCalls, c.calls)
		}
		if i >= 0 {
			floor, fanFloor = append(floor, f), append(fanFloor, ff)
		}
	}
	if len(urls) == 2 {
		runs[1].paired = pairedDiffs(lat[0], lat[1])
	}
	floor, fanFloor = sortedDurations(floor), sortedDurations(fanFloor)
	for k, r := range runs {
		r.latencies, r.floor, r.fanFloor = sortedDurations(lat[k]), floor, fanFloor
		b.logf("cold, one at a time: p50 %s, p99 %s; Redpanda's %d pages straight from the fake: p50 %s; the same %d requests from a plain client at once: p50 %s; %d upstream calls per request",
			ms(percentile(r.latencies, 50)), ms(percentile(r.latencies, 99)), r.pages, ms(percentile(r.floor, 50)),
			r.fanCalls, ms(percentile(r.fanFloor, 50)), r.calls.calls)
	}
	return runs, nil
}

// pairedDiffs is b[i]-a[i] for each round, sorted: the rounds share the machine's state, so
// their differences vary much less than either series does.
func pairedDiffs(a, b []time.Duration) []time.Duration {
	d := make([]time.Duration, min(len(a), len(b)))
	for i := range d {
		d[i] = b[i] - a[i]
	}
	return sortedDurations(d)
}

// entitiesRun is the federation _entities query for 100 invitations, cold (Redis emptied
// first) and then repeated warm.
type entitiesRun struct {
	reps        int
	cold        callCount // of the last cold request
	repeated    int       // calls beyond one per distinct resource, over the cold requests
	warmCalls   int       // upstream calls of the warm repeat
	coldLatency time.Duration
	bad         int
	badSamples  []string
}

func (b *bench) entities(ctx context.Context, url string, rdb *redis.Client) (*entitiesRun, error) {
	status, body, err := post(ctx, b.hc, url, []byte(idsQuery))
	if err != nil {
		return nil, err
	}
	ids, err := invitationIDs(status, body)
	if err != nil {
		return nil, err
	}
	if len(ids) != 100 {
		return nil, fmt.Errorf("bench: %d invitation IDs, want 100", len(ids))
	}
	req, err := entitiesRequest(ids)
	if err != nil {
		return nil, err
	}
	r := &entitiesRun{reps: 3}
	check := func(status int, body []byte) {
		if err := checkEntities(status, body, ids); err != nil {
			r.bad++
			if len(r.badSamples) < 3 {
				r.badSamples = append(r.badSamples, err.Error())
			}
		}
	}
	for range r.reps {
		if err := flushAll(ctx, rdb); err != nil {
			return nil, fmt.Errorf("bench: flush redis: %w", err)
		}
		b.ups.reset()
		t0 := time.Now()
		status, body, err := post(ctx, b.hc, url, req)
		if err != nil {
			return nil, err
		}
		r.coldLatency = time.Since(t0)
		check(status, body)
		r.cold = b.ups.count()
		r.repeated += r.cold.calls - r.cold.distinct
	}
	b.ups.reset()
	status, body, err = post(ctx, b.hc, url, req)
	if err != nil {
		return nil, err
	}
	check(status, body)
	r.warmCalls = b.ups.calls()
	b.logf("_entities, 100 invitations: %d upstream calls cold (%d distinct), %d warm", r.cold.calls, r.cold.distinct, r.warmCalls)
	return r, nil
}

// soakRun is a long fixed-rate run with the resident set sampled along the way.
type soakRun struct {
	duration time.Duration
	rate     int
	refAt    time.Duration // when the reference sample was taken (after warming up)
	refKiB   int
	minKiB   int // over the samples from refAt on
	maxKiB   int
	maxFDs   int // most open file descriptors of the process (mostly client connections)
	lastKiB  int
	samples  int
	flat     bool // every sample from refAt on within 10% of the reference
	requests int
	bad      int
}

func (b *bench) soak(ctx context.Context, url string, proc *child, expect []byte, rate int) (*soakRun, error) {
	r := &soakRun{duration: b.opts.soak, rate: rate, refAt: min(20*time.Second, b.opts.soak/6)}
	type sample struct {
		at  time.Duration
		kib int
		fds int
	}
	samples := make(chan []sample, 1)
	stop := make(chan struct{})
	go func() {
		var got []sample
		t0 := time.Now()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				samples <- got
				return
			case <-tick.C:
				if kib, err := memKiB(proc.pid(), "VmRSS"); err == nil {
					fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", proc.pid()))
					got = append(got, sample{time.Since(t0), kib, len(fds)})
				}
			}
		}
	}()
	b.logf("soak: %d req/s for %s", rate, b.opts.soak)
	o, err := attack(ctx, b.sup, b.vegeta, shot{urls: []string{url}, bodyFile: b.bodyFile, expect: expect, rate: rate, duration: b.opts.soak, maxWorkers: 128})
	close(stop)
	got := <-samples
	if err != nil {
		return nil, err
	}
	r.requests, r.bad = o.requests, o.bad
	r.flat = true
	for _, s := range got {
		if s.at < r.refAt {
			continue
		}
		if r.refKiB == 0 {
			r.refKiB, r.minKiB, r.maxKiB = s.kib, s.kib, s.kib
		}
		r.samples++
		r.minKiB, r.maxKiB, r.lastKiB = min(r.minKiB, s.kib), max(r.maxKiB, s.kib), s.kib
		r.maxFDs = max(r.maxFDs, s.fds)
		if float64(s.kib) > 1.1*float64(r.refKiB) || float64(s.kib) < 0.9*float64(r.refKiB) {
			r.flat = false
		}
	}
	if r.samples == 0 {
		r.flat = false
	}
	b.logf("soak: RSS %.1f MiB at %s, then %.1f..%.1f MiB, %.1f MiB at the end (at most %d open files); flat: %v; %d bad",
		mib(r.refKiB), r.refAt, mib(r.minKiB), mib(r.maxKiB), mib(r.lastKiB), r.maxFDs, r.flat, r.bad)
	return r, nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func mib(kib int) float64 { return float64(kib) / 1024 }
