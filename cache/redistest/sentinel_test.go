package redistest_test

import (
	"context"
	"testing"
	"time"

	"github.com/invitegw/invitegw/cache/redistest"
	"github.com/redis/go-redis/v9"
)

// TestSentinelFailover writes through a Sentinel-aware client (acknowledged by the replica),
// crashes the master, and expects the sentinels to promote the replica, which the same client
// then reads the value from and writes to.
func TestSentinelFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts five redis-servers and waits for a failover")
	}
	start := time.Now()
	s := redistest.StartSentinel(t, redistest.SentinelOptions{})
	t.Logf("master, replica and 3 sentinels ready in %v", time.Since(start).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	fc := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: s.MasterName(), SentinelAddrs: s.SentinelAddrs()})
	defer fc.Close()
	// WAIT counts the writes of its own connection: one pipeline, one connection.
	cmds, err := fc.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "k", "before", 0)
		p.Do(ctx, "WAIT", 1, 0)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if acked, err := cmds[1].(*redis.Cmd).Int(); err != nil || acked != 1 {
		t.Fatalf("WAIT 1 0 = %d, %v; want 1 replica", acked, err)
	}

	old, replica := s.Master(), s.Replica()
	s.KillMaster()
	killed := time.Now()
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	addr, err := s.WaitForFailover(wctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("failover from %s to %s took %v", old.Addr(), addr, time.Since(killed).Round(time.Millisecond))
	if addr != replica.Addr() || s.Master() != replica {
		t.Fatalf("new master %s (Master() %s), want the replica %s", addr, s.Master().Addr(), replica.Addr())
	}

	if v, err := fc.Get(ctx, "k").Result(); err != nil || v != "before" {
		t.Fatalf("GET k through the failover client = %q, %v", v, err)
	}
	if err := fc.Set(ctx, "k", "after", 0).Err(); err != nil {
		t.Fatalf("SET after the failover: %v", err)
	}
	direct := redis.NewClient(&redis.Options{Addr: addr})
	defer direct.Close()
	if v, err := direct.Get(ctx, "k").Result(); err != nil || v != "after" {
		t.Fatalf("GET k on the new master = %q, %v", v, err)
	}

	restarted := time.Now()
	old.Restart()
	rctx, rcancel := context.WithTimeout(ctx, 30*time.Second) // a sentinel takes ~10 s to notice
	defer rcancel()
	if err := s.WaitHealthy(rctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s restarted and rejoined as a replica in %v", old.Addr(), time.Since(restarted).Round(time.Millisecond))
	if s.Master() != replica || s.Replica() != old {
		t.Fatalf("after the restart the master is %s, the replica %s", s.Master().Addr(), s.Replica().Addr())
	}
}
