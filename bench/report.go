package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
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
	wrong       []string // answers that differed between servers
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
	p("- **Idle cost:** %s. A cold query's own work runs in such bursts, after each upstream reply.\n", m.idle)
	p("- **Data:** 3 fake upstreams in the benchmark process on loopback: Redpanda (1 organization, %d invites over 6 pages), Elastic (%d organizations, %d invitations), Frontier %s (%d organizations, %d invitations): 12 organizations, 600 invitations. Every upstream call is answered after %s.\n",
		redpandaInvites, elasticOrgs, elasticOrgs*elasticPerOrg, o.frontierProtocol, frontierOrgs, frontierOrgs*frontierPerOrg, o.fakeDelay)
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

	p("## Targets (issue 6)\n\n| target | measured | |\n|---|---|---|\n")
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
