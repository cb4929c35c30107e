package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/invitegw/invitegw/upstream"
	"github.com/invitegw/invitegw/upstream/redpanda"
)

// idleCost is how much slower the same CPU work runs right after the process idled for as long
// as a cold query waits on each upstream call, than in a hot loop. The cold query's own work
// runs in exactly such bursts (after each reply), so this factor bounds how close to a hot
// benchmark's numbers it can get on this machine. On a VM whose idle vCPUs halt, it is well
// above 1.
type idleCost struct {
	hot, afterIdle time.Duration // medians
	idle           time.Duration
}

func (c idleCost) factor() float64 { return float64(c.afterIdle) / float64(c.hot) }

func (c idleCost) String() string {
	return fmt.Sprintf("decoding one Redpanda page takes %.1fx as long after %s of idling as in a hot loop (%s against %s, medians)",
		c.factor(), c.idle, us(c.afterIdle), us(c.hot))
}

// measureIdleCost decodes the first page of Redpanda's list (into redpanda.UserInvite with
// upstream.Decode, as invitegw does) 200 times in a row, then 40 times each after sleeping idle.
func (u *upstreams) measureIdleCost(ctx context.Context, hc *http.Client, idle time.Duration) (idleCost, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.redpandaURL+"/v1/user-invites?page_size="+redpandaAsk, nil)
	if err != nil {
		return idleCost{}, err
	}
	req.Header.Set("Authorization", "Bearer "+redpandaToken)
	resp, err := hc.Do(req)
	if err != nil {
		return idleCost{}, fmt.Errorf("bench: idle cost: %w", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		return idleCost{}, fmt.Errorf("bench: idle cost: status %d: %v", resp.StatusCode, err)
	}
	decode := func() (time.Duration, error) {
		var page struct {
			Invites []redpanda.UserInvite `json:"user_invites"`
			Next    string                `json:"next_page_token"`
		}
		t0 := time.Now()
		err := upstream.Decode(body, &page)
		d := time.Since(t0)
		if err == nil && len(page.Invites) == 0 {
			err = fmt.Errorf("bench: idle cost: the page has no invites")
		}
		return d, err
	}
	c := idleCost{idle: idle}
	var hot, cold []time.Duration
	for range 200 {
		d, err := decode()
		if err != nil {
			return c, err
		}
		hot = append(hot, d)
	}
	for range 40 {
		select {
		case <-ctx.Done():
			return c, ctx.Err()
		case <-time.After(idle):
		}
		d, err := decode()
		if err != nil {
			return c, err
		}
		cold = append(cold, d)
	}
	c.hot, c.afterIdle = percentile(sortedDurations(hot), 50), percentile(sortedDurations(cold), 50)
	return c, nil
}

func us(d time.Duration) string { return fmt.Sprintf("%.0f us", float64(d)/float64(time.Microsecond)) }
