package redistest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// SentinelOptions shape a Sentinel setup.
type SentinelOptions struct {
	// DownAfter is how long the master must be unreachable before a sentinel considers it
	// down (down-after-milliseconds); default 1s, so failovers take seconds.
	DownAfter time.Duration
}

// Sentinel is a Sentinel-managed primary: a master, one replica and three sentinels (quorum
// 2), all redis-server child processes on loopback. Data nodes persist no data. Not safe for
// concurrent use.
type Sentinel struct {
	t         testing.TB
	o         SentinelOptions
	dir       string
	data      []*Node // the master and the replica as started; a failover swaps their roles
	sentinels []*Node
	killed    string // the master KillMaster killed last
}

// sentinelMaster is the name the sentinels monitor the master under.
const sentinelMaster = "invitegw"

// StartSentinel starts the master, its replica and the sentinels on free loopback ports, and
// waits until the setup is healthy (see WaitHealthy).
func StartSentinel(t testing.TB, o SentinelOptions) *Sentinel {
	t.Helper()
	bin := redisServer(t)
	if o.DownAfter <= 0 {
		o.DownAfter = time.Second
	}
	s := &Sentinel{t: t, o: o, dir: t.TempDir()}
	t.Cleanup(func() { stopAll(t, slices.Concat(s.sentinels, s.data)) })
	ps := ports{}
	master, err := startNode(t, bin, ps, false, func(port int) ([]string, string, error) { return s.dataArgs(port, "") })
	if err != nil {
		t.Fatalf("redistest: sentinel setup: master: %v", err)
	}
	s.data = append(s.data, master)
	replica, err := startNode(t, bin, ps, false, func(port int) ([]string, string, error) {
		return s.dataArgs(port, "replicaof 127.0.0.1 "+strconv.Itoa(master.port)+"\n")
	})
	if err != nil {
		t.Fatalf("redistest: sentinel setup: replica: %v", err)
	}
	s.data = append(s.data, replica)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// A sentinel learns a master's replicas from the master's INFO, which it asks for once on
	// connecting and then every 10 s: start the sentinels once the replica has synced, so that
	// the first INFO names it.
	err = poll(ctx, func(ctx context.Context) error {
		info, err := replica.rc.Info(ctx, "replication").Result()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "master_link_status:up") {
			return errors.New("replica not linked to its master yet")
		}
		return nil
	})
	if err != nil {
		t.Fatalf("redistest: sentinel setup: replica %s: %v", replica.Addr(), err)
	}
	for range 3 {
		n, err := startNode(t, bin, ps, false, func(port int) ([]string, string, error) { return s.sentinelArgs(port, master.port) })
		if err != nil {
			t.Fatalf("redistest: sentinel setup: sentinel: %v", err)
		}
		s.sentinels = append(s.sentinels, n)
	}
	if err := s.WaitHealthy(ctx); err != nil {
		t.Fatalf("redistest: sentinel setup: %v", err)
	}
	return s
}

// dataArgs writes a data node's configuration file, holding only conf, and returns its
// command line. The sentinels keep the role they give a node in that file (CONFIG REWRITE),
// so a node restarted after a failover comes back in its new role, as a deployed one would.
func (s *Sentinel) dataArgs(port int, conf string) ([]string, string, error) {
	file := filepath.Join(s.dir, fmt.Sprintf("redis-%d.conf", port))
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		return nil, "", err
	}
	args, log := dataArgs(s.dir, port)
	return append([]string{file}, args...), log, nil
}

// sentinelArgs writes a sentinel's configuration file (a sentinel rewrites it as it learns,
// so each has its own) and returns its command line.
func (s *Sentinel) sentinelArgs(port, masterPort int) ([]string, string, error) {
	conf := filepath.Join(s.dir, fmt.Sprintf("sentinel-%d.conf", port))
	log := filepath.Join(s.dir, fmt.Sprintf("sentinel-%d.log", port))
	text := fmt.Sprintf(`port %d
bind 127.0.0.1
daemonize no
dir %s
loglevel notice
logfile %s
sentinel monitor %[4]s 127.0.0.1 %[5]d 2
sentinel down-after-milliseconds %[4]s %[6]d
sentinel failover-timeout %[4]s 3000
sentinel parallel-syncs %[4]s 1
`, port, s.dir, log, sentinelMaster, masterPort, s.o.DownAfter.Milliseconds())
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return nil, "", err
	}
	return []string{conf, "--sentinel"}, log, nil
}

// WaitHealthy waits until every running sentinel names the same master, knows the other
// data node as its replica and not down, and knows the two other sentinels; and until that
// master answers ROLE as a master and the other data node, if it runs, as its replica with
// its link up. Replication is asked of the data nodes themselves: a sentinel refreshes its
// view of a replica only every 10 s. So does it notice that a restarted former master still
// claims to be master: that node is made a replica about 10 s after it restarts.
func (s *Sentinel) WaitHealthy(ctx context.Context) error {
	if err := poll(ctx, s.healthy); err != nil {
		return fmt.Errorf("redistest: sentinel setup not healthy: %w", err)
	}
	return nil
}

func (s *Sentinel) healthy(ctx context.Context) error {
	var named string
	for _, n := range s.sentinels {
		if !n.running() {
			continue
		}
		err := withSentinel(n, func(sc *redis.SentinelClient) error {
			m, err := sc.Master(ctx, sentinelMaster).Result()
			if err != nil {
				return err
			}
			a := m["ip"] + ":" + m["port"]
			switch {
			case m["flags"] != "master":
				return fmt.Errorf("master %s has flags %q", a, m["flags"])
			case m["num-other-sentinels"] != "2":
				return fmt.Errorf("knows %s other sentinels", m["num-other-sentinels"])
			case named != "" && a != named:
				return fmt.Errorf("names master %s, another sentinel %s", a, named)
			}
			named = a
			rs, err := sc.Replicas(ctx, sentinelMaster).Result()
			if err != nil {
				return err
			}
			for _, d := range s.data {
				if d.Addr() == named || !d.running() {
					continue
				}
				i := slices.IndexFunc(rs, func(r map[string]string) bool { return r["name"] == d.Addr() })
				if i < 0 || rs[i]["flags"] != "slave" {
					return fmt.Errorf("replica %s not known up (%v)", d.Addr(), rs)
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("sentinel %s: %w", n.Addr(), err)
		}
	}
	m := s.byAddr(named)
	if m == nil || !m.running() {
		return fmt.Errorf("the sentinels name %q, not a running node of this setup", named)
	}
	for _, d := range s.data {
		if !d.running() {
			continue
		}
		role, err := d.rc.Do(ctx, "ROLE").Slice()
		if err != nil {
			return fmt.Errorf("ROLE on %s: %w", d.Addr(), err)
		}
		switch {
		case d == m && (len(role) == 0 || role[0] != "master"):
			return fmt.Errorf("master %s answers ROLE %v", d.Addr(), role)
		case d != m && (len(role) < 4 || role[0] != "slave" || role[2] != int64(m.port) || role[3] != "connected"):
			return fmt.Errorf("replica %s answers ROLE %v", d.Addr(), role)
		}
	}
	return nil
}

// MasterName is the name the sentinels know the master by (FailoverOptions.MasterName,
// INVITEGW_REDIS_SENTINEL_MASTER).
func (s *Sentinel) MasterName() string { return sentinelMaster }

// SentinelAddrs are the sentinels' host:port.
func (s *Sentinel) SentinelAddrs() []string {
	out := make([]string, len(s.sentinels))
	for i, n := range s.sentinels {
		out[i] = n.Addr()
	}
	return out
}

// Master is the data node the sentinels name as master now (the first running sentinel that
// answers). Right after KillMaster that is still the dead one; see WaitForFailover.
func (s *Sentinel) Master() *Node {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	for _, n := range s.sentinels {
		if !n.running() {
			continue
		}
		a, err := masterAddr(ctx, n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if m := s.byAddr(a); m != nil {
			return m
		}
		errs = append(errs, fmt.Errorf("sentinel %s names %s, not a node of this setup", n.Addr(), a))
	}
	s.t.Fatalf("redistest: no sentinel names the master: %v", errors.Join(errs...))
	return nil
}

// Replica is the data node that is not Master.
func (s *Sentinel) Replica() *Node {
	s.t.Helper()
	if m := s.Master(); m != s.data[0] {
		return s.data[0]
	}
	return s.data[1]
}

// KillMaster kills the current master with SIGKILL, as a crash would.
func (s *Sentinel) KillMaster() {
	s.t.Helper()
	m := s.Master()
	s.killed = m.Addr()
	m.Kill()
}

// WaitForFailover waits until every running sentinel names the same master, not the one
// KillMaster killed, and that node answers ROLE as a master; it returns its host:port.
func (s *Sentinel) WaitForFailover(ctx context.Context) (string, error) {
	if s.killed == "" {
		return "", errors.New("redistest: WaitForFailover without KillMaster")
	}
	var named string
	err := poll(ctx, func(ctx context.Context) error {
		named = ""
		for _, n := range s.sentinels {
			if !n.running() {
				continue
			}
			a, err := masterAddr(ctx, n)
			switch {
			case err != nil:
				return err
			case a == s.killed:
				return fmt.Errorf("sentinel %s still names %s", n.Addr(), a)
			case named != "" && a != named:
				return fmt.Errorf("sentinel %s names %s, another %s", n.Addr(), a, named)
			}
			named = a
		}
		m := s.byAddr(named)
		if m == nil || !m.running() {
			return fmt.Errorf("the sentinels name %q, not a running node of this setup", named)
		}
		return m.isMaster(ctx)
	})
	if err != nil {
		return "", fmt.Errorf("redistest: no failover from %s: %w", s.killed, err)
	}
	return named, nil
}

func (s *Sentinel) byAddr(a string) *Node {
	for _, n := range s.data {
		if n.Addr() == a {
			return n
		}
	}
	return nil
}

// masterAddr asks sentinel n for the master's address (SENTINEL GET-MASTER-ADDR-BY-NAME).
func masterAddr(ctx context.Context, n *Node) (string, error) {
	var a string
	err := withSentinel(n, func(sc *redis.SentinelClient) error {
		hp, err := sc.GetMasterAddrByName(ctx, sentinelMaster).Result()
		if err != nil {
			return err
		}
		if len(hp) != 2 {
			return fmt.Errorf("GET-MASTER-ADDR-BY-NAME answered %v", hp)
		}
		a = hp[0] + ":" + hp[1]
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("sentinel %s: %w", n.Addr(), err)
	}
	return a, nil
}

// withSentinel runs f with a sentinel client to n, closed afterwards.
func withSentinel(n *Node, f func(*redis.SentinelClient) error) error {
	sc := redis.NewSentinelClient(&redis.Options{Addr: n.Addr(), MaxRetries: -1,
		DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second})
	defer sc.Close()
	return f(sc)
}
