package redistest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/invitegw/invitegw/cache/redistest"
	"github.com/redis/go-redis/v9"
)

// TestClusterFailover writes keys to every master through a cluster client, each write
// acknowledged by the master's replica (WAIT 1 0), crashes the master of one key, and expects
// its replica to take over its slots with every key it was sent; the crashed node then
// restarts and rejoins as a replica.
func TestClusterFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts six redis-servers and waits for a failover")
	}
	start := time.Now()
	c := redistest.StartCluster(t, redistest.ClusterOptions{})
	t.Logf("cluster of %d nodes formed in %v", len(c.Addrs()), time.Since(start).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	cc := c.Client()
	keysOf := map[*redistest.Node][]string{} // by the master MasterFor names
	for i := range 300 {
		key := fmt.Sprintf("key:%d", i)
		m := c.MasterFor(key)
		keysOf[m] = append(keysOf[m], key)
	}
	if len(keysOf) != 3 {
		t.Fatalf("300 keys landed on %d masters, want 3", len(keysOf))
	}
	for m, keys := range keysOf {
		// WAIT counts the writes of its own connection: one pipeline, one connection.
		node, err := cc.MasterForKey(ctx, keys[0])
		if err != nil {
			t.Fatal(err)
		}
		if node.Options().Addr != m.Addr() {
			t.Fatalf("the cluster client sends %s to %s; MasterFor says %s", keys[0], node.Options().Addr, m.Addr())
		}
		cmds, err := node.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range keys {
				p.Set(ctx, k, "v-"+k, 0)
			}
			p.Do(ctx, "WAIT", 1, 0)
			return nil
		})
		if err != nil {
			t.Fatalf("writes to %s: %v", m.Addr(), err)
		}
		if acked, err := cmds[len(cmds)-1].(*redis.Cmd).Int(); err != nil || acked != 1 {
			t.Fatalf("WAIT 1 0 on %s = %d, %v; want 1 replica", m.Addr(), acked, err)
		}
	}

	victim := c.MasterFor("key:0")
	victim.Kill()
	killed := time.Now()
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	promoted, err := c.WaitForFailover(wctx, victim)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("failover from %s to %s took %v", victim.Addr(), promoted.Addr(), time.Since(killed).Round(time.Millisecond))
	if promoted == victim {
		t.Fatal("WaitForFailover returned the dead node")
	}
	if got := c.MasterFor("key:0"); got != promoted {
		t.Fatalf("MasterFor(key:0) = %s after the failover, want %s", got.Addr(), promoted.Addr())
	}

	// The promoted node itself holds what the dead master acknowledged...
	direct := redis.NewClient(&redis.Options{Addr: promoted.Addr()})
	defer direct.Close()
	for _, k := range keysOf[victim] {
		if v, err := direct.Get(ctx, k).Result(); err != nil || v != "v-"+k {
			t.Fatalf("GET %s on the promoted node = %q, %v", k, v, err)
		}
	}
	// ...and a cluster client finds every key.
	fresh := c.Client()
	for _, keys := range keysOf {
		for _, k := range keys {
			if v, err := fresh.Get(ctx, k).Result(); err != nil || v != "v-"+k {
				t.Fatalf("GET %s through the cluster = %q, %v", k, v, err)
			}
		}
	}

	restarted := time.Now()
	victim.Restart()
	if err := c.WaitHealthy(wctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s restarted and rejoined in %v", victim.Addr(), time.Since(restarted).Round(time.Millisecond))
	vc := redis.NewClient(&redis.Options{Addr: victim.Addr()})
	defer vc.Close()
	role, err := vc.Do(ctx, "ROLE").Slice()
	if err != nil || len(role) < 2 || role[0] != "slave" {
		t.Fatalf("ROLE on the restarted node = %v, %v; want a replica", role, err)
	}
	if got := c.MasterFor("key:0"); got != promoted {
		t.Fatalf("MasterFor(key:0) = %s after the restart, want %s", got.Addr(), promoted.Addr())
	}
}
