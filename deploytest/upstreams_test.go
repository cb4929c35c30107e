package deploytest

import (
	"strings"
	"testing"
	"time"

	"github.com/invitegw/invitegw/demo"
	"github.com/invitegw/invitegw/upstream/fakeserver"
)

// demoInvitations is how many invitations demo.Start seeds (README: 151).
const demoInvitations = 151

// upstreams are the three fake upstreams with the demo's sample data, served by the test
// process on loopback ports for gateway processes to call.
type upstreams struct {
	u *demo.Upstreams
}

// startUpstreams starts the fakes (Frontier over REST) until the end of the test.
func startUpstreams(t testing.TB) *upstreams {
	t.Helper()
	u, err := demo.Start(time.Now(), "rest")
	if err != nil {
		t.Fatalf("deploytest: start upstreams: %v", err)
	}
	t.Cleanup(func() { _ = u.Close() })
	return &upstreams{u: u}
}

// env is the gateway environment that points at the fakes with their credentials: a new map
// each time, for the caller to add to.
func (u *upstreams) env() map[string]string {
	c := u.u.Config
	return map[string]string{
		"INVITEGW_REDPANDA_URL":           c.Redpanda.URL,
		"INVITEGW_REDPANDA_TOKEN":         c.Redpanda.Token,
		"INVITEGW_ELASTIC_URL":            c.Elastic.URL,
		"INVITEGW_ELASTIC_API_KEY":        c.Elastic.APIKey,
		"INVITEGW_ELASTIC_ORGANIZATIONS":  strings.Join(c.Elastic.Organizations, ","),
		"INVITEGW_FRONTIER_PROTOCOL":      c.Frontier.Protocol,
		"INVITEGW_FRONTIER_URL":           c.Frontier.URL,
		"INVITEGW_FRONTIER_TOKEN":         c.Frontier.Token,
		"INVITEGW_FRONTIER_ORGANIZATIONS": strings.Join(c.Frontier.Organizations, ","),
	}
}

func (u *upstreams) recorders() []*fakeserver.Recorder {
	return []*fakeserver.Recorder{u.u.Redpanda.Recorder, u.u.Elastic.Recorder, u.u.Frontier.Recorder}
}

// calls is how many requests the three fakes have received since the last reset.
func (u *upstreams) calls() int {
	n := 0
	for _, r := range u.recorders() {
		n += r.TotalCalls()
	}
	return n
}

// reset zeroes the call counters (and drops pending injected faults).
func (u *upstreams) reset() {
	for _, r := range u.recorders() {
		r.Reset()
	}
}
