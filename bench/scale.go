package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// scaleEnv is added to every gateway of the scale table: the first query over the largest set
// walks hundreds of Redpanda pages one after the other, longer than the default request
// timeout of 15s.
var scaleEnv = []string{"INVITEGW_REQUEST_TIMEOUT=2m"}

// scaleRun is the benchmark query over one data set of the scale table: the warm hit (response
// cache on) and the executing path (response cache off), each in memory and in Redis, beside a
// baseline answering that set's answer, all measured with the scale table's shorter plan.
type scaleRun struct {
	data   dataSet
	seeded time.Duration // seeding the fakes
	// fillMemory and fillRedis are the first query of a gateway whose cache is empty: every
	// list fetched from the fakes, into memory and into Redis, with three gateways filling at
	// once (the two in memory and the first in Redis).
	fillMemory, fillRedis time.Duration
	answerBytes           int
	baseline              *measurement
	memHit, memExec       *measurement
	redisHit, redisExec   *measurement
	wrong                 []string // answers that differed between servers
}

// measurements are the run's servers in the order of the report.
func (r *scaleRun) measurements() []*measurement {
	return []*measurement{r.baseline, r.memHit, r.memExec, r.redisHit, r.redisExec}
}

// scaleTable measures every data set of -scales, each with fakes of its own (the 600 set reuses
// the main fakes) and a database of its own in the private Redis.
func (b *bench) scaleTable(ctx context.Context, bin string, rep *report) error {
	for i, d := range b.opts.scales {
		r, err := b.scaleOne(ctx, bin, d, dbScale+i)
		if err != nil {
			return err
		}
		rep.scales = append(rep.scales, r)
	}
	return nil
}

// scaleGateway is one of the four gateways of a scale run.
type scaleGateway struct {
	label string
	env   []string
	into  **measurement
	proc  *child
	url   string
}

func (b *bench) scaleOne(ctx context.Context, bin string, d dataSet, db int) (*scaleRun, error) {
	ups := b.ups
	if d.invitations != ups.data.invitations {
		b.logf("scale: seeding the fakes with %d invitations", d.invitations)
		var err error
		if ups, err = startUpstreams(time.Now(), d, b.opts.frontierProtocol, b.opts.fakeDelay); err != nil {
			return nil, err
		}
		defer ups.close()
	}
	r := &scaleRun{data: d, seeded: ups.seeded}
	redisURL, err := b.redisURL(ctx, db)
	if err != nil {
		return nil, err
	}
	env := slices.Concat(ups.env, warmEnv, scaleEnv)
	redis := "INVITEGW_REDIS_URL=" + redisURL
	const executing = "INVITEGW_CACHE_RESPONSES=off"
	gws := []*scaleGateway{
		{label: "warm hit, in memory", env: env, into: &r.memHit},
		{label: "executing, in memory", env: append(slices.Clone(env), executing), into: &r.memExec},
		{label: "warm hit, Redis", env: append(slices.Clone(env), redis), into: &r.redisHit},
		{label: "executing, Redis", env: append(slices.Clone(env), redis, executing), into: &r.redisExec},
	}
	for _, g := range gws {
		if g.proc, g.url, err = b.sup.startGateway(ctx, fmt.Sprintf("invitegw (%d, %s)", d.invitations, g.label), bin, g.env); err != nil {
			return nil, err
		}
		defer g.proc.stop()
	}

	// Fill: the gateways in memory and the first in Redis fetch everything at once; the second
	// in Redis then reads what the first stored.
	b.logf("scale: %d invitations: filling the caches", d.invitations)
	fills := make([]time.Duration, len(gws))
	answers := make([][]byte, len(gws))
	errs := make([]error, len(gws))
	var wg sync.WaitGroup
	for i, g := range gws[:3] {
		wg.Go(func() { fills[i], answers[i], errs[i] = b.first(ctx, g.url) })
	}
	wg.Wait()
	fills[3], answers[3], errs[3] = b.first(ctx, gws[3].url)
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("bench: %d invitations, %s: %w", d.invitations, gws[i].label, err)
		}
	}
	r.fillMemory, r.fillRedis = fills[0], fills[2]
	b.logf("scale: %d invitations: seeded in %s, filled in %s (memory) and %s (Redis)", d.invitations,
		r.seeded.Round(time.Millisecond), r.fillMemory.Round(time.Millisecond), r.fillRedis.Round(time.Millisecond))
	expect := answers[0]
	r.answerBytes = len(expect)
	for i, g := range gws {
		if _, err := b.answer(ctx, g.url, expect); err != nil {
			r.wrong = append(r.wrong, fmt.Sprintf("%d invitations, %s: %v", d.invitations, g.label, err))
		} else if !slices.Equal(answers[i], expect) {
			r.wrong = append(r.wrong, fmt.Sprintf("%d invitations, %s: its first answer differs", d.invitations, g.label))
		}
	}
	if d.invitations == baseInvitations && b.expect600 != nil && !slices.Equal(expect, b.expect600) {
		r.wrong = append(r.wrong, "600 invitations: the scale table's answer differs from the main table's")
	}

	answerFile := filepath.Join(b.tmp, fmt.Sprintf("answer-%d.json", d.invitations))
	if err := os.WriteFile(answerFile, expect, 0o600); err != nil {
		return nil, err
	}
	base, url, err := b.sup.startBaseline(ctx, answerFile)
	if err != nil {
		return nil, err
	}
	r.baseline, err = b.measure(ctx, ups, b.opts.scalePlan, fmt.Sprintf("%s: baseline", thousands(d.invitations)), url, base, expect)
	base.stop()
	if err != nil {
		return nil, err
	}
	for _, g := range gws {
		m, err := b.measure(ctx, ups, b.opts.scalePlan, fmt.Sprintf("%s: %s", thousands(d.invitations), g.label), g.url, g.proc, expect)
		if err != nil {
			return nil, err
		}
		*g.into = m
		g.proc.stop() // the next one measured has the CPUs and memory to itself
	}
	return r, nil
}

// first sends the benchmark query once, timed, and checks its answer.
func (b *bench) first(ctx context.Context, url string) (time.Duration, []byte, error) {
	d, status, body, err := b.timedPost(ctx, url)
	if err == nil {
		err = checkAnswer(status, body)
	}
	return d, body, err
}

// thousands writes n with commas between groups of three digits: 60,000.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
