// Command bench is invitegw's performance benchmark (issue 6), run by `make bench`.
//
// In one run on this machine it starts the three fake upstreams with a fixed data set (3
// providers, 12 organizations, 600 invitations, Redpanda's list over 6 pages, every upstream
// call answered after a fixed delay), builds invitegw and runs it as a separate process
// against them (warm in-memory cache, warm Redis cache on a private redis-server, and cold),
// and runs a baseline: this program again, answering the pre-serialized bytes of the same
// answer, the fastest any GraphQL server could answer on this machine. vegeta drives each
// with the same load; every response is compared byte for byte with the right answer. Then:
//
//   - scale (scale.go): the warm hit and the executing path, in memory and in Redis, over data
//     sets of 600, 6,000 and 60,000 invitations, each beside a baseline of its own;
//   - expiry (expiry.go): the first request after the invitation lists expire, with and
//     without stale-while-revalidate, next to warm hits, and the upstream calls of each refresh;
//   - replicas (replicas.go): upstream calls per TTL window under steady load, 1 and 3
//     replicas on one Redis.
//
// It writes bench/RESULTS.md and exits 1 if any response was wrong.
//
//	go run ./bench                  # what `make bench` runs; about 5 minutes
//	go run ./bench -soak 2m         # also check that RSS stays flat over a 2-minute fixed-rate run
//	go run ./bench -only expiry     # one part (main, scale, expiry, replicas); prints the report
//	go run ./bench -h               # durations, concurrency, data sets, the cold variant's config
//
// Everything listens on 127.0.0.1 and every process it starts is stopped when it ends, fails
// or is interrupted.
package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// options are the command-line flags.
type options struct {
	out              string
	warmup           time.Duration
	peakDuration     time.Duration
	halfDuration     time.Duration
	concurrency      []int
	fakeDelay        time.Duration
	coldRequests     int
	coldEnv          []string
	coldCompare      []string
	coldCompareBin   string
	soak             time.Duration
	timeout          time.Duration
	vegeta           string
	frontierProtocol string
	coldOnly         bool
	parts            parts

	scales         []dataSet // the scale table's data sets
	scalePlan      plan
	expiryRounds   int
	expiryTTL      time.Duration
	replicaTTL     time.Duration
	replicaWindows int
	replicaRate    int
}

// partNames are the parts of a full run, in the order they run.
var partNames = []string{"main", "scale", "expiry", "replicas"}

// parts are the parts of the run to do, by name.
type parts map[string]bool

func (p parts) all() bool { return len(p) == len(partNames) }

// warmEnv keeps everything cached for the whole run, so a warm run makes no upstream call.
var warmEnv = []string{"INVITEGW_CACHE_TTL_INVITATIONS=1h", "INVITEGW_CACHE_TTL_DIRECTORY=1h"}

// defaultColdEnv turns the cache off: every request goes to the fakes.
const defaultColdEnv = "INVITEGW_CACHE=off"

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-serve-baseline" {
		if err := serveBaseline(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "bench: baseline:", err)
			os.Exit(1)
		}
		return
	}
	opts, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, opts.timeout+opts.soak)
	defer cancel()
	if err := run(ctx, opts); err != nil {
		fmt.Fprintln(os.Stderr, err)
		stop()
		cancel()
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.StringVar(&o.out, "out", "", "where to write the results (default bench/RESULTS.md in the module)")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "closed-loop warm-up per server, not measured")
	fs.DurationVar(&o.peakDuration, "peak", 4*time.Second, "each closed-loop run that looks for the peak rate")
	fs.DurationVar(&o.halfDuration, "half", 8*time.Second, "the fixed-rate run at half the peak (latency, CPU)")
	conc := fs.String("concurrency", "4,16,64", "requests in flight in the closed-loop runs; the peak is the best of them")
	fs.DurationVar(&o.fakeDelay, "fake-delay", 20*time.Millisecond, "fixed latency of every fake upstream call")
	fs.IntVar(&o.coldRequests, "cold-requests", 40, "cold requests, one at a time")
	coldEnv := fs.String("cold-env", defaultColdEnv, "comma-separated INVITEGW_* (or Go runtime GO*) settings of the cold gateway")
	coldCompare := fs.String("cold-compare", "", "with -cold-only: settings added to -cold-env for a second cold gateway, measured in the same rounds (A/B)")
	fs.StringVar(&o.coldCompareBin, "cold-compare-bin", "", "with -cold-only: run the second cold gateway from this invitegw binary (an older build, say) instead of this tree's")
	fs.DurationVar(&o.soak, "soak", 0, "also run the in-memory gateway at half its peak this long and check RSS stays within 10% (e.g. 2m)")
	fs.DurationVar(&o.timeout, "timeout", 20*time.Minute, "give up after this long (plus -soak)")
	fs.StringVar(&o.vegeta, "vegeta", "", "vegeta binary (default: on PATH, else installed with go install)")
	fs.StringVar(&o.frontierProtocol, "frontier-protocol", "rest", "the API the Frontier fake speaks: rest or connect")
	fs.BoolVar(&o.coldOnly, "cold-only", false, "only the cold requests one at a time, against the floors; prints a summary and writes no results (seconds, not minutes)")
	only := fs.String("only", strings.Join(partNames, ","), "the parts to run: main (the tables at 600 invitations), scale, expiry, replicas; with fewer than all, the report is printed and written only with -out")
	scales := fs.String("scales", "600,6000,60000", "the scale table's data sets, in invitations (multiples of 600); empty for none")
	fs.DurationVar(&o.scalePlan.warmup, "scale-warmup", time.Second, "scale table: closed-loop warm-up per server, not measured")
	fs.DurationVar(&o.scalePlan.peak, "scale-peak", 3*time.Second, "scale table: the closed-loop run for the peak rate")
	fs.DurationVar(&o.scalePlan.half, "scale-half", 3*time.Second, "scale table: the fixed-rate run at half the peak (CPU)")
	// 4 in flight: at 16, the executing path over 60,000 invitations in Redis, which reads
	// whole lists on every request, ran into the 10s request timeout.
	scaleConc := fs.Int("scale-concurrency", 4, "scale table: requests in flight in the closed-loop run")
	fs.IntVar(&o.expiryRounds, "expiry-rounds", 20, "first request after expiry: rounds of waiting past the TTL and sending one request")
	fs.DurationVar(&o.expiryTTL, "expiry-ttl", time.Second, "first request after expiry: the gateways' INVITEGW_CACHE_TTL_INVITATIONS")
	fs.DurationVar(&o.replicaTTL, "replica-ttl", 3*time.Second, "replicas: the gateways' INVITEGW_CACHE_TTL_INVITATIONS")
	fs.IntVar(&o.replicaWindows, "replica-windows", 3, "replicas: how many times the data expires during each run (it lasts this many TTLs and a half)")
	fs.IntVar(&o.replicaRate, "replica-rate", 150, "replicas: requests per second over all replicas")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.parts = parts{}
	for _, s := range strings.Split(*only, ",") {
		s = strings.TrimSpace(s)
		if !slices.Contains(partNames, s) {
			return o, fmt.Errorf("bench: -only wants some of %s, got %q", strings.Join(partNames, ","), *only)
		}
		o.parts[s] = true
	}
	for _, s := range strings.Split(*scales, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return o, fmt.Errorf("bench: -scales wants numbers like 600,6000,60000, got %q", *scales)
		}
		d, err := newDataSet(n)
		if err != nil {
			return o, err
		}
		o.scales = append(o.scales, d)
	}
	if len(o.scales) > maxScales {
		return o, fmt.Errorf("bench: at most %d data sets in -scales", maxScales)
	}
	o.scalePlan.concurrency = []int{*scaleConc}
	if *scaleConc < 1 || o.scalePlan.warmup <= 0 || o.scalePlan.peak <= 0 || o.scalePlan.half <= 0 {
		return o, errors.New("bench: -scale-concurrency, -scale-warmup, -scale-peak and -scale-half must be positive")
	}
	if o.expiryRounds < 1 || o.expiryTTL < time.Second || o.replicaTTL < time.Second || o.replicaWindows < 1 || o.replicaRate < 1 {
		return o, errors.New("bench: -expiry-rounds, -replica-windows and -replica-rate must be positive, and -expiry-ttl and -replica-ttl at least 1s (invitegw's least TTL)")
	}
	for _, s := range strings.Split(*conc, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return o, fmt.Errorf("bench: -concurrency wants numbers like 4,16,64, got %q", *conc)
		}
		o.concurrency = append(o.concurrency, n)
	}
	var err error
	if o.coldEnv, err = envList("-cold-env", *coldEnv); err != nil {
		return o, err
	}
	if o.coldCompare, err = envList("-cold-compare", *coldCompare); err != nil {
		return o, err
	}
	if (len(o.coldCompare) > 0 || o.coldCompareBin != "") && !o.coldOnly {
		return o, errors.New("bench: -cold-compare and -cold-compare-bin need -cold-only")
	}
	if o.coldRequests < 1 || o.warmup <= 0 || o.peakDuration <= 0 || o.halfDuration <= 0 {
		return o, errors.New("bench: -cold-requests, -warmup, -peak and -half must be positive")
	}
	return o, nil
}

// bench is one run: its options and what it started.
type bench struct {
	opts      options
	sup       *supervisor
	ups       *upstreams
	vegeta    string
	tmp       string
	bodyFile  string // benchQuery, for vegeta
	hc        *http.Client
	startedAt time.Time
	redisAddr string        // the private redis-server, once started
	rdb       *redis.Client // its database 0
	// expect600 is the answer over the 600-invitation set, once a part has it: the other parts'
	// answers over that set must be the same bytes.
	expect600 []byte
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench %5.1fs: %s\n", time.Since(b.startedAt).Seconds(), fmt.Sprintf(format, args...))
}

func run(ctx context.Context, opts options) (err error) {
	b := &bench{opts: opts, sup: &supervisor{}, hc: newHTTPClient(), startedAt: time.Now()}
	defer b.sup.stopAll()
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	if opts.out == "" && opts.parts.all() {
		opts.out = filepath.Join(root, "bench", "RESULTS.md")
		b.opts.out = opts.out
	}
	b.tmp, err = os.MkdirTemp("", "invitegw-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(b.tmp)
	b.bodyFile = filepath.Join(b.tmp, "query.json")
	if err := os.WriteFile(b.bodyFile, []byte(benchQuery), 0o600); err != nil {
		return err
	}
	defer func() {
		if b.rdb != nil {
			b.rdb.Close()
		}
	}()

	rep := &report{machine: describeMachine(), opts: opts}
	if b.vegeta, err = findVegeta(ctx, opts.vegeta, b.logf); err != nil {
		return err
	}
	rep.machine.vegeta = vegetaVersion(ctx, b.vegeta)
	b.logf("building invitegw")
	bin, err := buildGateway(ctx, root, b.tmp)
	if err != nil {
		return err
	}
	data, _ := newDataSet(baseInvitations)
	b.ups, err = startUpstreams(time.Now(), data, opts.frontierProtocol, opts.fakeDelay)
	if err != nil {
		return err
	}
	defer b.ups.close()
	rep.data = data
	if rep.machine.idle, err = b.ups.measureIdleCost(ctx, b.hc, opts.fakeDelay); err != nil {
		return err
	}
	b.logf("idle cost: %s", rep.machine.idle)
	if opts.coldOnly {
		return b.coldOnly(ctx, bin)
	}

	parts := []struct {
		name string
		run  func(context.Context, string, *report) error
	}{
		{"main", b.mainTables}, {"scale", b.scaleTable}, {"expiry", b.expiryTable}, {"replicas", b.replicaTable},
	}
	for _, part := range parts {
		if !opts.parts[part.name] {
			continue
		}
		t0 := time.Now()
		if err := part.run(ctx, bin, rep); err != nil {
			return err
		}
		rep.took = append(rep.took, partTime{part.name, time.Since(t0)})
	}
	rep.total = time.Since(b.startedAt)

	md := rep.markdown()
	fmt.Print(md)
	if opts.out != "" {
		if err := os.WriteFile(opts.out, []byte(md), 0o644); err != nil {
			return err
		}
		b.logf("wrote %s", opts.out)
	}
	if bad := rep.badResponses(); bad > 0 {
		return fmt.Errorf("bench: %d wrong responses (see the report)", bad)
	}
	return nil
}

// mainTables measures the 600-invitation set's query on every server: the warm gateways (in
// memory, with and without the response cache, and in Redis), the baseline, the _entities
// query, and the cold gateway, one request at a time and under load.
func (b *bench) mainTables(ctx context.Context, bin string, rep *report) error {
	opts, p := b.opts, b.opts.mainPlan()
	// Warm, in memory. Its answer is the one every server must give.
	gw, url, err := b.sup.startGateway(ctx, "invitegw (memory)", bin, slices.Concat(b.ups.env, warmEnv))
	if err != nil {
		return err
	}
	expect, err := b.answer(ctx, url, nil)
	if err != nil {
		return err
	}
	b.expect600 = expect
	rep.answerBytes = len(expect)
	answerFile := filepath.Join(b.tmp, "answer.json")
	if err := os.WriteFile(answerFile, expect, 0o600); err != nil {
		return err
	}
	m, err := b.measure(ctx, b.ups, p, "invitegw, warm cache, in memory", url, gw, expect)
	if err != nil {
		return err
	}
	rep.memory = m
	if opts.soak > 0 {
		if rep.soak, err = b.soak(ctx, url, gw, expect, m.halfRate); err != nil {
			return err
		}
	}
	gw.stop()

	// Warm, in memory, executing every query (no response cache): what execution costs.
	gw, url, err = b.sup.startGateway(ctx, "invitegw (memory, executing)", bin, slices.Concat(b.ups.env, warmEnv, []string{"INVITEGW_CACHE_RESPONSES=off"}))
	if err != nil {
		return err
	}
	if _, err := b.answer(ctx, url, expect); err != nil {
		rep.wrong = append(rep.wrong, "memory, executing: "+err.Error())
	}
	if rep.memoryExec, err = b.measure(ctx, b.ups, p, "invitegw, warm cache, in memory, response cache off", url, gw, expect); err != nil {
		return err
	}
	gw.stop()

	// The baseline.
	base, url, err := b.sup.startBaseline(ctx, answerFile)
	if err != nil {
		return err
	}
	if rep.baseline, err = b.measure(ctx, b.ups, p, "baseline (pre-serialized answer)", url, base, expect); err != nil {
		return err
	}
	base.stop()

	// Warm, in Redis; then the _entities query, cold (Redis emptied) and warm.
	redisURL, err := b.redisURL(ctx, dbMain)
	if err != nil {
		return err
	}
	gw, url, err = b.sup.startGateway(ctx, "invitegw (redis)", bin, slices.Concat(b.ups.env, warmEnv, []string{"INVITEGW_REDIS_URL=" + redisURL}))
	if err != nil {
		return err
	}
	if _, err := b.answer(ctx, url, expect); err != nil {
		rep.wrong = append(rep.wrong, "redis: "+err.Error())
	}
	if rep.redis, err = b.measure(ctx, b.ups, p, "invitegw, warm cache, Redis", url, gw, expect); err != nil {
		return err
	}
	if rep.entities, err = b.entities(ctx, url, b.rdb); err != nil {
		return err
	}
	gw.stop()

	// Cold: requests one at a time, then under load.
	gw, url, err = b.sup.startGateway(ctx, "invitegw (cold)", bin, slices.Concat(b.ups.env, opts.coldEnv))
	if err != nil {
		return err
	}
	if _, err := b.answer(ctx, url, expect); err != nil {
		rep.wrong = append(rep.wrong, "cold: "+err.Error())
	}
	colds, err := b.coldSequential(ctx, []string{url}, expect)
	if err != nil {
		return err
	}
	rep.cold = colds[0]
	if rep.coldLoad, err = b.measure(ctx, b.ups, p, "invitegw, cold ("+strings.Join(opts.coldEnv, " ")+")", url, gw, expect); err != nil {
		return err
	}
	gw.stop()
	return nil
}

// coldOnly measures the cold query one request at a time against its floors, and prints the
// summary: the quick loop for work on the cold path. With -cold-compare (extra settings) or
// -cold-compare-bin (another build) it runs a second gateway in the same rounds and prints
// both, and their paired difference.
func (b *bench) coldOnly(ctx context.Context, bin string) error {
	envs, bins := [][]string{b.opts.coldEnv}, []string{bin}
	if len(b.opts.coldCompare) > 0 || b.opts.coldCompareBin != "" {
		envs = append(envs, slices.Concat(b.opts.coldEnv, b.opts.coldCompare))
		bins = append(bins, cmp.Or(b.opts.coldCompareBin, bin))
	}
	var urls []string
	for i, env := range envs {
		gw, url, err := b.sup.startGateway(ctx, fmt.Sprintf("invitegw (cold %c)", 'A'+i), bins[i], slices.Concat(b.ups.env, env))
		if err != nil {
			return err
		}
		defer gw.stop()
		urls = append(urls, url)
	}
	expect, err := b.answer(ctx, urls[0], nil)
	if err != nil {
		return err
	}
	for _, url := range urls[1:] {
		if _, err := b.answer(ctx, url, expect); err != nil {
			return err
		}
	}
	runs, err := b.coldSequential(ctx, urls, expect)
	if err != nil {
		return err
	}
	bad := 0
	for i, c := range runs {
		p50 := percentile(c.latencies, 50)
		fmt.Printf("%c %s %s: cold p50 %s (p99 %s); overhead over the fan-out floor %s, over Redpanda's pages alone %s\n",
			'A'+i, filepath.Base(bins[i]), strings.Join(envs[i], " "), ms(p50), ms(percentile(c.latencies, 99)),
			ms(p50-percentile(c.fanFloor, 50)), ms(p50-percentile(c.floor, 50)))
		for _, line := range formatTimeline(c.timeline) {
			fmt.Println("  " + line)
		}
		if c.paired != nil {
			faster := 0
			for _, d := range c.paired {
				if d < 0 {
					faster++
				}
			}
			fmt.Printf("B - A, paired by round: p25 %s, p50 %s, p75 %s; B faster in %d of %d rounds\n",
				ms(percentile(c.paired, 25)), ms(percentile(c.paired, 50)), ms(percentile(c.paired, 75)), faster, len(c.paired))
		}
		bad += c.bad
		if c.bad > 0 {
			fmt.Printf("%c: %d wrong responses: %s\n", 'A'+i, c.bad, strings.Join(c.badSamples, "; "))
		}
	}
	if bad > 0 {
		return fmt.Errorf("bench: %d wrong cold responses", bad)
	}
	return nil
}

// envList parses a flag of comma-separated NAME=value settings for a gateway: INVITEGW_*
// variables, or the Go runtime's own (GOGC, GOMEMLIMIT, GODEBUG, GOMAXPROCS).
func envList(flagName, raw string) ([]string, error) {
	var out []string
	for _, kv := range strings.Split(raw, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		name, _, ok := strings.Cut(kv, "=")
		runtimeVar := slices.Contains([]string{"GOGC", "GOMEMLIMIT", "GODEBUG", "GOMAXPROCS"}, name)
		if !ok || !(strings.HasPrefix(name, "INVITEGW_") || runtimeVar) {
			return nil, fmt.Errorf("bench: %s wants INVITEGW_NAME=value (or GOGC, GOMEMLIMIT, GODEBUG, GOMAXPROCS) pairs, got %q", flagName, kv)
		}
		out = append(out, kv)
	}
	return out, nil
}

// answer fetches benchQuery's answer twice (the first fills the cache), checks it, and when
// want is given compares it with want.
func (b *bench) answer(ctx context.Context, url string, want []byte) ([]byte, error) {
	var first []byte
	for i := range 2 {
		status, body, err := post(ctx, b.hc, url, []byte(benchQuery))
		if err != nil {
			return nil, fmt.Errorf("bench: query %s: %w", url, err)
		}
		if err := checkAnswer(status, body); err != nil {
			return nil, fmt.Errorf("bench: wrong answer from %s: %w", url, err)
		}
		if i == 0 {
			first = body
		} else if !bytes.Equal(first, body) {
			return nil, fmt.Errorf("bench: %s answers differently from a warm cache than from a cold one", url)
		}
	}
	if want != nil && !bytes.Equal(first, want) {
		return nil, fmt.Errorf("bench: %s answers differently from the in-memory gateway:\n%.300s", url, first)
	}
	return first, nil
}

func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	mod := strings.TrimSpace(string(out))
	if err != nil || mod == "" || mod == os.DevNull {
		return "", errors.New("bench: run from inside the invitegw module (make bench)")
	}
	return filepath.Dir(mod), nil
}

// Databases of the private redis-server: one for each part of the run that uses it, so that the
// gateways of different parts never share entries.
const (
	dbMain = iota
	dbExpiry
	dbOneReplica
	dbThreeReplicas
	dbScale // and up: one for each data set of the scale table
)

// maxScales keeps the scale table's databases within Redis's default 16.
const maxScales = 16 - dbScale

// redisURL is the URL of database db on the benchmark's private redis-server, started on first
// use.
func (b *bench) redisURL(ctx context.Context, db int) (string, error) {
	if b.redisAddr == "" {
		_, rdb, addr, err := b.sup.startRedis(ctx, b.tmp)
		if err != nil {
			return "", err
		}
		b.rdb, b.redisAddr = rdb, addr
	}
	return fmt.Sprintf("redis://%s/%d", b.redisAddr, db), nil
}

// flushAll empties database 0 of the benchmark's own Redis, the main tables'.
func flushAll(ctx context.Context, rdb *redis.Client) error {
	return rdb.FlushDB(ctx).Err()
}
