package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"
)

// machine is where the numbers were measured.
type machine struct {
	nproc  int
	cpu    string
	kernel string
	goVer  string
	vegeta string
	date   time.Time
	idle   idleCost
}

func describeMachine() machine {
	m := machine{nproc: runtime.NumCPU(), cpu: "unknown", goVer: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH, date: time.Now().UTC()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = strings.TrimSpace(string(b))
	}
	return m
}

// vegetaVersion names the load generator: its own -version when it was built with one, else
// the module version go install recorded in the binary.
func vegetaVersion(ctx context.Context, bin string) string {
	if out, err := exec.CommandContext(ctx, bin, "-version").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			if v, ok := strings.CutPrefix(line, "Version:"); ok && strings.TrimSpace(v) != "" {
				return "vegeta " + strings.TrimSpace(v)
			}
		}
	}
	if out, err := exec.CommandContext(ctx, "go", "version", "-m", bin).Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) >= 3 && f[0] == "mod" {
				return "vegeta " + f[2]
			}
		}
	}
	return "vegeta"
}

// report is everything one run measured.
type report struct {
	machine     machine
	opts        options
	answerBytes int
	baseline    *measurement
	memory      *measurement
	memoryExec  *measurement // memory, response cache off
	redis       *measurement
	coldLoad    *measurement
	cold        *coldRun
	entities    *entitiesRun
	soak        *soakRun
	scales      []*scaleRun
	expiry      *expiryReport
	replicas    *replicaReport
	wrong       []string // answers that differed between servers
	data        dataSet  // the main tables'
	took        []partTime
	total       time.Duration
}

// partTime is how long one part of the run took.
type partTime struct {
	name string
	d    time.Duration
}

func (r *report) badResponses() int {
	n := len(r.wrong)
	for _, m := range []*measurement{r.baseline, r.memory, r.memoryExec, r.redis, r.coldLoad} {
		if m != nil {
			n += m.bad
		}
	}
	if r.cold != nil {
		n += r.cold.bad
	}
	if r.entities != nil {
		n += r.entities.bad
	}
	if r.soak != nil {
		n += r.soak.bad
	}
	for _, s := range r.scales {
		n += len(s.wrong)
		for _, m := range s.measurements() {
			n += m.bad
		}
	}
	if x := r.expiry; x != nil {
		for _, e := range append(slices.Clone(x.runs), x.baseline) {
			n += e.bad
		}
	}
	if x := r.replicas; x != nil {
		for _, run := range x.runs {
			n += run.bad
		}
	}
	return n
}

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

func (r *report) markdown() string {
	var w strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&w, format, args...) }
	m := r.machine
	o := r.opts
	p("# invitegw benchmark results\n\n")
	p("Written by `make bench` (`go run ./bench`, see `bench/main.go`); numbers from one run, every ratio against the baseline measured in that run.\n\n")
	p("- **Machine:** nproc %d, %s, Linux %s\n", m.nproc, m.cpu, m.kernel)
	p("- **Go:** %s; **load generator:** %s, on the same machine\n", m.goVer, m.vegeta)
	p("- **Date:** %s\n", m.date.Format("2006-01-02 15:04 MST"))
	p("- **Run time:** %s (%s)\n", r.total.Round(time.Second), r.partTimes())
	p("- **Idle cost:** %s. A cold query's own work runs in such bursts, after each upstream reply.\n", m.idle)
	p("- **Data:** 3 fake upstreams in the benchmark process on loopback, Frontier speaking %s: %s. Every upstream call is answered after %s. The scale table adds larger sets.\n",
		o.frontierProtocol, r.data, o.fakeDelay)
	p("- **Query:** `%s` (answer: %d bytes, every response compared with it byte for byte)\n", benchQuery, r.answerBytes)
	p("- **Servers:** invitegw built with `go build` and run as its own process; the baseline is `bench` itself, answering the pre-serialized answer from a plain `net/http` handler, in its own process.\n\n")

	p("## Throughput, latency, CPU and memory\n\n")
	p("| server | peak req/s | × baseline | p50 at ½ peak | p99 at ½ peak | p50, p99 × baseline | CPU s per 1k req | × baseline | peak RSS | × baseline | upstream calls per request | wrong responses |\n")
	p("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	base := r.baseline
	for _, x := range []*measurement{r.baseline, r.memory, r.memoryExec, r.redis, r.coldLoad} {
		if x == nil {
			continue
		}
		p("| %s | %.0f (at %d in flight) | %s | %s | %s | %s, %s | %.3f | %s | %.1f MiB | %s | %s | %d of %d |\n",
			x.name, x.peak.rps(), x.peakWorkers, ratio(x.peak.rps(), base.peak.rps()),
			ms(x.half.pct(50)), ms(x.half.pct(99)),
			ratio(float64(x.half.pct(50)), float64(base.half.pct(50))), ratio(float64(x.half.pct(99)), float64(base.half.pct(99))),
			x.cpuPer1k, ratio(x.cpuPer1k, base.cpuPer1k), mib(x.hwmKiB), ratio(float64(x.hwmKiB), float64(base.hwmKiB)),
			perRequest(x), x.bad, x.requests)
	}
	p("\n- **Peak:** the best of closed-loop runs (vegeta `-rate 0`) of %s each at %s requests in flight, after a %s warm-up. Load generator, fakes and server share the %d CPUs, so the baseline's peak is also bounded by vegeta itself.\n",
		o.peakDuration, joinInts(o.concurrency), o.warmup, m.nproc)
	p("- **½ peak:** vegeta at a fixed rate of half the server's own peak for %s. CPU is utime+stime from `/proc/<pid>/stat` over that run, per 1,000 requests; peak RSS is the process's `VmHWM` after all its runs.\n", o.halfDuration)
	p("- **Cold** runs invitegw with `%s` (`-cold-env`): every request fetches everything from the fakes.\n\n", strings.Join(o.coldEnv, " "))

	if c := r.cold; c != nil {
		p50, floor := percentile(c.latencies, 50), percentile(c.floor, 50)
		p("## Cold: every request fetches everything\n\n")
		p("%d requests one at a time to the cold invitegw, with every upstream call answered after %s. The floor is Redpanda's list (%d pages, one after the other, as its page tokens force) read straight from the fake with a plain Go client just before each request: the slowest chain of upstream calls behind the query. Everything else the query needs is one call per resource that can run beside it.\n\n",
			c.n, o.fakeDelay, c.pages)
		fan := percentile(c.fanFloor, 50)
		p("The fan-out floor replays the %d upstream requests invitegw made for one cold query with a plain Go client: all at once, Redpanda's pages one after the other, every body read and none decoded. It is what any client fetching the same data as concurrently as possible waits on this machine, where the fakes and the client share the CPUs: the overhead over it is invitegw's own (decoding, merging, GraphQL).\n\n", c.fanCalls)
		p("| | p50 | p99 |\n|---|--:|--:|\n")
		p("| invitegw, cold | %s | %s |\n", ms(p50), ms(percentile(c.latencies, 99)))
		p("| floor: Redpanda's %d pages alone, from the fake | %s | %s |\n", c.pages, ms(floor), ms(percentile(c.floor, 99)))
		p("| fan-out floor: the same %d requests from a plain client | %s | %s |\n", c.fanCalls, ms(fan), ms(percentile(c.fanFloor, 99)))
		p("| **GraphQL overhead** over the fan-out floor | **%s** | |\n", ms(p50-fan))
		p("| overhead over Redpanda's pages alone | %s | |\n\n", ms(p50-floor))
		p("When each upstream call of the last cold request reached the fakes, in ms after the request was sent (calls that start a multiple of %s later waited for others):\n\n", o.fakeDelay)
		for _, line := range formatTimeline(c.timeline) {
			p("- %s\n", line)
		}
		p("\n")
	}

	p("## Upstream calls per GraphQL request\n\n")
	p("Counted by the fakes (their call counters per route, and a count of distinct requests: method, path, query string and, for a POST, the body).\n\n")
	p("| query | upstream calls | distinct resources | repeated calls | calls by route |\n|---|--:|--:|--:|---|\n")
	if c := r.cold; c != nil {
		calls := fmt.Sprintf("%d", c.calls.calls)
		if c.minCalls != c.maxCalls {
			calls = fmt.Sprintf("%d..%d", c.minCalls, c.maxCalls)
		}
		p("| benchmark query, cold (%d requests) | %s | %d | %d | %s |\n", c.n, calls, c.calls.distinct, c.repeated, strings.Join(c.calls.byRoute, ", "))
	}
	if e := r.entities; e != nil {
		p("| `_entities`, 100 Invitation representations, cold (%d requests) | %d | %d | %d | %s |\n", e.reps, e.cold.calls, e.cold.distinct, e.repeated, strings.Join(e.cold.byRoute, ", "))
		p("| `_entities` again, warm | %d | | | |\n", e.warmCalls)
	}
	for _, x := range []*measurement{r.memory, r.memoryExec, r.redis} {
		if x != nil {
			p("| benchmark query, %s (%d requests) | %s per request | | | |\n", strings.TrimPrefix(x.name, "invitegw, "), x.measured, perRequest(x))
		}
	}
	p("\n")

	p("## Memory over a long run\n\n")
	if s := r.soak; s != nil {
		p("invitegw (warm, in memory) at %d req/s for %s (vegeta capped at 128 requests in flight, so a stall cannot pile up connections), `VmRSS` sampled every second: %.1f MiB at %s (the reference), then between %.1f and %.1f MiB, %.1f MiB at the end (at most %d open files); within 10%% of the reference throughout: **%v** (%d requests, %d wrong).\n\n",
			s.rate, s.duration, mib(s.refKiB), s.refAt, mib(s.minKiB), mib(s.maxKiB), mib(s.lastKiB), s.maxFDs, s.flat, s.requests, s.bad)
	} else {
		p("Not run; `go run ./bench -soak 2m` (or `make bench BENCHFLAGS='-soak 2m'`) adds a 2-minute fixed-rate run that checks RSS stays within 10%%.\n\n")
	}

	r.scaleMarkdown(p)
	r.expiryMarkdown(p)
	r.replicaMarkdown(p)

	p("## Targets\n\nIssue 6's, then those of the scale table, the first request after expiry and the replicas.\n\n| target | measured | |\n|---|---|---|\n")
	if r.memory != nil && base != nil {
		rr := r.memory.peak.rps() / base.peak.rps()
		p("| warm, in memory: ≥ 40%% of the baseline's req/s | %.0f%% | %s |\n", 100*rr, verdict(rr >= 0.40))
		p99 := r.memory.half.pct(99)
		p("| warm, in memory: p99 < 5 ms at half its peak | %s | %s |\n", ms(p99), verdict(p99 < 5*time.Millisecond))
	}
	if r.redis != nil && base != nil {
		rr := r.redis.peak.rps() / base.peak.rps()
		p("| warm, Redis: ≥ 25%% of the baseline's req/s | %.0f%% | %s |\n", 100*rr, verdict(rr >= 0.25))
	}
	if x := r.memoryExec; x != nil && base != nil {
		p("| (not a target) warm, in memory, executing every query (`INVITEGW_CACHE_RESPONSES=off`) | %.0f%% of the baseline's req/s, p99 %s at half its peak | |\n",
			100*x.peak.rps()/base.peak.rps(), ms(x.half.pct(99)))
	}
	if c := r.cold; c != nil {
		over := percentile(c.latencies, 50) - percentile(c.fanFloor, 50)
		p("| cold: overhead over the slowest upstream < 2 ms at p50 (over the fan-out floor; %s over Redpanda's pages alone) | %s | %s |\n",
			ms(percentile(c.latencies, 50)-percentile(c.floor, 50)), ms(over), verdict(over < 2*time.Millisecond))
		p("| cold query: one upstream call per distinct resource | %d calls, %d distinct | %s |\n", c.calls.calls, c.calls.distinct, verdict(c.repeated == 0))
	}
	if e := r.entities; e != nil {
		p("| `_entities` (100): one upstream call per distinct resource | %d calls, %d distinct | %s |\n", e.cold.calls, e.cold.distinct, verdict(e.repeated == 0))
	}
	if r.memory != nil && r.redis != nil && r.memoryExec != nil {
		n := r.memory.upstream + r.redis.upstream + r.memoryExec.upstream
		p("| warm: 0 upstream calls | %d over %d requests | %s |\n", n, r.memory.measured+r.redis.measured+r.memoryExec.measured, verdict(n == 0))
	}
	if s := r.soak; s != nil {
		p("| RSS flat (within 10%%) over a fixed-rate run | %.1f..%.1f MiB against %.1f MiB | %s |\n", mib(s.minKiB), mib(s.maxKiB), mib(s.refKiB), verdict(s.flat))
	} else {
		p("| RSS flat (within 10%%) over a 2-minute fixed-rate run | not run (`-soak 2m`) | |\n")
	}
	r.scaleTargets(p)
	r.expiryTargets(p)
	r.replicaTargets(p)
	p("\n")

	bad := r.badResponses()
	p("## Wrong responses: %d\n\n", bad)
	if bad > 0 {
		for _, s := range r.wrong {
			p("- %s\n", s)
		}
		for _, x := range []*measurement{r.baseline, r.memory, r.memoryExec, r.redis, r.coldLoad} {
			if x != nil {
				for _, s := range x.badSamples {
					p("- %s: `%s`\n", x.name, s)
				}
			}
		}
		if r.cold != nil {
			for _, s := range r.cold.badSamples {
				p("- cold: `%s`\n", s)
			}
		}
		if r.entities != nil {
			for _, s := range r.entities.badSamples {
				p("- _entities: `%s`\n", s)
			}
		}
		r.moreWrong(p)
		p("\n")
	}
	return w.String()
}

// perRequest is a measurement's upstream calls per request over its measured runs.
func perRequest(x *measurement) string {
	if x.measured == 0 || strings.HasPrefix(x.name, "baseline") {
		return "-"
	}
	if x.upstream == 0 {
		return "0"
	}
	return fmt.Sprintf("%.4f", float64(x.upstream)/float64(x.measured))
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

// printf writes a part of the report.
type printf = func(format string, args ...any)

func (r *report) partTimes() string {
	s := make([]string, len(r.took))
	for i, t := range r.took {
		s[i] = fmt.Sprintf("%s %s", t.name, t.d.Round(time.Second))
	}
	return strings.Join(s, ", ")
}

// cpuMs is a measurement's CPU milliseconds per request (its CPU seconds per 1,000).
func cpuMs(x *measurement) float64 { return x.cpuPer1k }

func (r *report) scaleMarkdown(p printf) {
	if len(r.scales) == 0 {
		return
	}
	o := r.opts
	sizes := make([]string, len(r.scales))
	for i, s := range r.scales {
		sizes[i] = thousands(s.data.invitations)
	}
	p("## Scale: %s invitations\n\n", strings.Join(sizes, ", "))
	p("Each data set is the main one multiplied (`newDataSet` in `bench/dataset.go`): Redpanda's one organization holds more invites over more pages, and Elastic and Frontier have more organizations with more invitations each; the seed depends only on the size, so a set is the same in every run. Each gets fakes of its own (the %s set reuses the main ones), a Redis database of its own, and four gateways with a warm data cache: the **warm hit** (response cache on) and the **executing path** (`INVITEGW_CACHE_RESPONSES=off`: every request runs GraphQL over the cached lists), each in memory and in Redis, beside a baseline answering that set's answer. Every response is compared with the set's answer byte for byte.\n\n",
		thousands(baseInvitations))
	p("| invitations | organizations | Redpanda pages | seeding the fakes | first query, in memory | first query, Redis | Redpanda's pages at least | answer |\n|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, s := range r.scales {
		p("| %s | %d | %d | %s | %s | %s | %s | %d bytes |\n", thousands(s.data.invitations), s.data.organizations(), s.data.redpandaPages(),
			seconds(s.seeded), seconds(s.fillMemory), seconds(s.fillRedis), seconds(time.Duration(s.data.redpandaPages())*o.fakeDelay), s.answerBytes)
	}
	p("\nThe first query fetches every list from the fakes, Redpanda's pages one after the other, each answered after %s (so at least pages × %s), with three gateways filling at once (the two in memory and the first in Redis; the second in Redis reads what the first stored). The Redpanda fake sorts its whole list for every page it serves.\n\n", o.fakeDelay, o.fakeDelay)
	p("| invitations | server | peak req/s | × baseline | CPU ms per request | × baseline | peak RSS | upstream calls | wrong responses |\n|--:|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, s := range r.scales {
		base := s.baseline
		for _, x := range s.measurements() {
			_, label, _ := strings.Cut(x.name, ": ")
			p("| %s | %s | %.0f | %s | %.3f | %s | %.1f MiB | %d | %d of %d |\n", thousands(s.data.invitations), label,
				x.peak.rps(), ratio(x.peak.rps(), base.peak.rps()), cpuMs(x), ratio(cpuMs(x), cpuMs(base)),
				mib(x.hwmKiB), x.upstream, x.bad, x.requests)
		}
	}
	sp := o.scalePlan
	p("\n- **Peak:** one closed-loop run of %s at %s requests in flight after a %s warm-up (shorter than the main table's, so a little noisier).\n", sp.peak, joinInts(sp.concurrency), sp.warmup)
	p("- **CPU:** utime+stime from `/proc/<pid>/stat` over a %s fixed-rate run at half the server's peak, per request; peak RSS is `VmHWM` after all its runs.\n\n", sp.half)
	first, last := r.scales[0], r.scales[len(r.scales)-1]
	if len(r.scales) > 1 {
		p("Per-request CPU by data set, and the largest against the smallest:\n\n| path |")
		for _, s := range r.scales {
			p(" %s |", thousands(s.data.invitations))
		}
		p(" %s ÷ %s |\n|---|", thousands(last.data.invitations), thousands(first.data.invitations))
		for range r.scales {
			p("--:|")
		}
		p("--:|\n")
		for k, name := range []string{"baseline", "warm hit, in memory", "executing, in memory", "warm hit, Redis", "executing, Redis"} {
			p("| %s |", name)
			for _, s := range r.scales {
				p(" %.3f ms |", cpuMs(s.measurements()[k]))
			}
			p(" %s |\n", ratio(cpuMs(last.measurements()[k]), cpuMs(first.measurements()[k])))
		}
		p("\n")
	}
}

// execTargetRatio is issue 16's executing-path target (0.8 ms of CPU per 50-node query) over the
// CPU per request of the baseline it was measured beside (0.033 ms).
const execTargetRatio = 0.8 / 0.033

func (r *report) scaleTargets(p printf) {
	if len(r.scales) == 0 {
		return
	}
	for _, s := range r.scales {
		if s.data.invitations == baseInvitations {
			// Judged by the main table's run when there is one: at 8 s against the scale
			// table's 3 s, it is the steadier of the two measurements of the same path.
			c, base, where, other := cpuMs(s.memExec), cpuMs(s.measurements()[0]), "scale table", ""
			if r.memoryExec != nil && r.baseline != nil {
				c, base, where = cpuMs(r.memoryExec), cpuMs(r.baseline), "main table, its longer run"
				other = fmt.Sprintf("; the scale table's: %.3f ms", cpuMs(s.memExec))
			}
			p("| executing path at %s invitations, in memory: ≤ 0.8 ms CPU per 50-node query (%s%s; in Redis: %.3f ms) | %.3f ms (%s the baseline's %.3f ms) | %s |\n",
				thousands(baseInvitations), where, other, cpuMs(s.redisExec), c, ratio(c, base), base, verdict(c <= 0.8))
			// The same target as a ratio, which does not move with the machine's speed: issue 16
			// set 0.8 ms beside a baseline that took 0.033 ms of CPU per request.
			p("| the same, against the baseline: ≤ %.0f× its CPU per request (issue 16's 0.8 ms beside its baseline's 0.033 ms) | %s | %s |\n",
				execTargetRatio, ratio(c, base), verdict(c <= execTargetRatio*base))
		}
	}
	if len(r.scales) < 2 {
		return
	}
	first, last := r.scales[0], r.scales[len(r.scales)-1]
	for k, name := range []string{"warm hit, in memory", "executing, in memory", "warm hit, Redis", "executing, Redis"} {
		a, b := cpuMs(first.measurements()[k+1]), cpuMs(last.measurements()[k+1])
		p("| %s: CPU per request within 1.5× from %s to %s invitations | %.3f → %.3f ms: %s | %s |\n", name,
			thousands(first.data.invitations), thousands(last.data.invitations), a, b, ratio(b, a), verdict(b <= 1.5*a))
	}
	n, reqs := 0, 0
	for _, s := range r.scales {
		for _, m := range s.measurements()[1:] {
			n, reqs = n+m.upstream, reqs+m.measured
		}
	}
	p("| scale table, warm: 0 upstream calls | %d over %d requests | %s |\n", n, reqs, verdict(n == 0))
}

func (r *report) expiryMarkdown(p printf) {
	x := r.expiry
	if x == nil {
		return
	}
	p("## First request after expiry\n\n")
	p("Gateways whose invitation lists live %s (`INVITEGW_CACHE_TTL_INVITATIONS`; directory lookups an hour), over the %s-invitation fakes answering after %s. %d rounds: each gateway in turn, once %s has passed since its lists were last fetched, gets one request (the **first after expiry**, timed); then, once the fakes have gone quiet (the refresh it set off has ended), one untimed request, %d **warm hits** back to back (timed), and, after idling for %s, one more **warm hit after idling** (timed): the first request after expiry comes after idling too, which alone makes any answer slower (see *Idle cost*), so it is compared with that one. The baseline gets one request a round from the same client, after idling as well. Every response is compared with the answer byte for byte. With stale-while-revalidate the first request is answered at once with the kept answer, past its freshness, and the gateway rebuilds that answer in the background once the refresh of the lists under it has landed (the lists' own refresh starts at the rebuild's first read); the requests after it are hits on the rebuilt answer. Without it, the request waits for the refresh.\n\n",
		x.ttl, thousands(r.data.invitations), r.opts.fakeDelay, x.rounds, x.ttl+expiryMargin, hitsPerRound, time.Duration(expiryIdle*float64(x.ttl)))
	p("| server | first after expiry, p50 | p99 | warm hit after idling, p50 | p99 | first ÷ warm hit after idling (p50, p99) | warm hit back to back, p50 | p99 | first × baseline (p50, p99) | upstream calls per refresh | wrong responses |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	base := x.baseline
	for _, e := range x.runs {
		p("| %s | %s | %s | %s | %s | %s, %s | %s | %s | %s, %s | %s | %d |\n", e.name,
			ms(percentile(e.first, 50)), ms(percentile(e.first, 99)), ms(percentile(e.idleHits, 50)), ms(percentile(e.idleHits, 99)),
			ratio(float64(percentile(e.first, 50)), float64(percentile(e.idleHits, 50))), ratio(float64(percentile(e.first, 99)), float64(percentile(e.idleHits, 99))),
			ms(percentile(e.hits, 50)), ms(percentile(e.hits, 99)),
			ratio(float64(percentile(e.first, 50)), float64(percentile(base.first, 50))), ratio(float64(percentile(e.first, 99)), float64(percentile(base.first, 99))),
			intRange(e.refreshCalls), e.bad)
	}
	p("| %s, one request a round | %s | %s | | | | | | 1.00×, 1.00× | - | %d |\n\n", base.name, ms(percentile(base.first, 50)), ms(percentile(base.first, 99)), base.bad)
	if len(x.runs) > 0 {
		p("The last refresh of the first gateway, by route: %s.\n\n", strings.Join(x.runs[0].byRoute, ", "))
	}
}

func (r *report) expiryTargets(p printf) {
	x := r.expiry
	if x == nil {
		return
	}
	for _, e := range x.runs {
		if slices.Contains(e.env, "INVITEGW_CACHE_STALE_WHILE_REVALIDATE=0s") {
			continue
		}
		p99 := percentile(e.first, 99)
		p50, hit50 := percentile(e.first, 50), percentile(e.idleHits, 50)
		p("| first request after expiry looks like a warm hit, %s: p50 within 1.5× that of a warm hit after the same idling, and waits on no upstream call (p99 < %s, one upstream call) | p50 %s× the warm hit's, p99 %s | %s |\n",
			strings.TrimPrefix(e.name, "invitegw, "), r.opts.fakeDelay,
			strings.TrimSuffix(ratio(float64(p50), float64(hit50)), "×"), ms(p99), verdict(p99 < r.opts.fakeDelay && float64(p50) <= 1.5*float64(hit50)))
	}
}

func (r *report) replicaMarkdown(p printf) {
	x := r.replicas
	if x == nil {
		return
	}
	d := r.data
	lists := d.redpandaPages() + d.elasticOrgs + d.frontierOrgs
	p("## Upstream calls per TTL window, 1 and 3 replicas on one Redis\n\n")
	p("Gateways whose invitation lists live %s (directory lookups an hour) on one redis-server (a database of their own each run), over the %s-invitation fakes: first 1, then 3 replicas, each run the same steady load spread over the replicas in turn for %d TTLs and a half after the lists were filled, so that they expire %d times; the fakes count every call until the last refresh has ended. One refresh of every list is %d calls (Redpanda's %d pages, %d Elastic and %d Frontier lists).\n\n",
		x.ttl, thousands(d.invitations), x.windows, x.windows, lists, d.redpandaPages(), d.elasticOrgs, d.frontierOrgs)
	p("| replicas | load | requests | upstream calls | per TTL window | most calls of one resource | calls by route | wrong responses |\n|--:|---|--:|--:|--:|--:|---|--:|\n")
	for _, run := range x.runs {
		p("| %d | %d req/s for %s | %d | %d | %.1f | %d | %s | %d |\n", run.replicas, run.rate, run.duration, run.requests,
			run.calls.calls, x.perWindow(run), run.calls.most, strings.Join(run.calls.byRoute, ", "), run.bad)
	}
	if len(x.runs) == 2 {
		p("\n3 replicas against 1: %s the upstream calls per TTL window.\n", ratio(x.perWindow(x.runs[1]), x.perWindow(x.runs[0])))
	}
	p("\n")
}

func (r *report) replicaTargets(p printf) {
	x := r.replicas
	if x == nil || len(x.runs) != 2 {
		return
	}
	one, three := x.runs[0], x.runs[1]
	p("| upstream calls per TTL window equal with 1 and 3 replicas on one Redis | %.1f and %.1f (%s) | %s |\n",
		x.perWindow(one), x.perWindow(three), ratio(x.perWindow(three), x.perWindow(one)), verdict(one.calls.calls == three.calls.calls))
}

// moreWrong lists the wrong answers of the scale, expiry and replica parts.
func (r *report) moreWrong(p printf) {
	for _, s := range r.scales {
		for _, w := range s.wrong {
			p("- %s\n", w)
		}
		for _, m := range s.measurements() {
			for _, b := range m.badSamples {
				p("- %s: `%s`\n", m.name, b)
			}
		}
	}
	if x := r.expiry; x != nil {
		for _, e := range append(slices.Clone(x.runs), x.baseline) {
			for _, b := range e.badSamples {
				p("- first request after expiry, %s: `%s`\n", e.name, b)
			}
		}
	}
	if x := r.replicas; x != nil {
		for _, run := range x.runs {
			for _, b := range run.badSamples {
				p("- %d replicas: `%s`\n", run.replicas, b)
			}
		}
	}
}

// intRange is the smallest and largest of sorted, or the one value they share.
func intRange(sorted []int) string {
	if len(sorted) == 0 {
		return "-"
	}
	if sorted[0] == sorted[len(sorted)-1] {
		return fmt.Sprint(sorted[0])
	}
	return fmt.Sprintf("%d..%d", sorted[0], sorted[len(sorted)-1])
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
