package redistest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// ClusterOptions shape a Cluster. The zero value is three masters with one replica each.
type ClusterOptions struct {
	Masters           int           // default 3
	ReplicasPerMaster int           // default 1 (none is not an option: there would be no failover)
	NodeTimeout       time.Duration // cluster-node-timeout; default 1s, so failovers take seconds
}

// Cluster is a Redis Cluster of redis-server child processes, built with CLUSTER MEET,
// ADDSLOTSRANGE and REPLICATE as redis-cli --cluster create would (without needing
// redis-cli). Its replicas are always eligible for failover (cluster-replica-validity-factor
// 0) and never migrate to another master, so a crash has one outcome. Nodes persist no data;
// each keeps its nodes.conf across restarts. Not safe for concurrent use.
type Cluster struct {
	t     testing.TB
	o     ClusterOptions
	dir   string
	nodes []*Node // masters first, then each master's replicas in turn
}

// slotRange is a range of hash slots, both ends included.
type slotRange struct{ first, last int }

const slots = 16384

// StartCluster starts the nodes on free loopback ports (each with its bus port free), forms
// the cluster and waits until every node reports cluster_state:ok, agrees with the others on
// who is whose replica, and every replica's link to its master is up.
func StartCluster(t testing.TB, o ClusterOptions) *Cluster {
	t.Helper()
	bin := redisServer(t)
	if o.Masters <= 0 {
		o.Masters = 3
	}
	if o.ReplicasPerMaster < 0 {
		t.Fatalf("redistest: ReplicasPerMaster %d", o.ReplicasPerMaster)
	}
	if o.ReplicasPerMaster == 0 {
		o.ReplicasPerMaster = 1
	}
	if o.NodeTimeout <= 0 {
		o.NodeTimeout = time.Second
	}
	c := &Cluster{t: t, o: o, dir: t.TempDir()}
	t.Cleanup(func() { stopAll(t, c.nodes) })
	ps := ports{}
	for range o.Masters * (1 + o.ReplicasPerMaster) {
		n, err := startNode(t, bin, ps, true, c.args)
		if err != nil {
			t.Fatalf("redistest: cluster node: %v", err)
		}
		n.cluster = c
		c.nodes = append(c.nodes, n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.form(ctx); err != nil {
		t.Fatalf("redistest: form cluster: %v", err)
	}
	return c
}

func (c *Cluster) args(port int) ([]string, string, error) {
	args, log := dataArgs(c.dir, port)
	return append(args,
		"--cluster-enabled", "yes",
		"--cluster-config-file", filepath.Join(c.dir, fmt.Sprintf("nodes-%d.conf", port)),
		"--cluster-node-timeout", strconv.FormatInt(c.o.NodeTimeout.Milliseconds(), 10),
		"--cluster-replica-validity-factor", "0",
		"--cluster-allow-replica-migration", "no",
	), log, nil
}

// form does what redis-cli --cluster create does: a distinct config epoch per node, one node
// meets all others, each master takes an equal share of the slots, each replica follows its
// master.
func (c *Cluster) form(ctx context.Context) error {
	for i, n := range c.nodes {
		id, err := n.rc.ClusterMyID(ctx).Result()
		if err != nil {
			return fmt.Errorf("%s: CLUSTER MYID: %w", n.Addr(), err)
		}
		n.id = id
		if err := n.rc.Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", i+1).Err(); err != nil {
			return fmt.Errorf("%s: CLUSTER SET-CONFIG-EPOCH: %w", n.Addr(), err)
		}
	}
	for _, n := range c.nodes[1:] {
		if err := c.nodes[0].rc.ClusterMeet(ctx, "127.0.0.1", strconv.Itoa(n.port)).Err(); err != nil {
			return fmt.Errorf("CLUSTER MEET %s: %w", n.Addr(), err)
		}
	}
	// REPLICATE needs the replica to know its master; wait until everyone knows everyone.
	if err := poll(ctx, c.met); err != nil {
		return fmt.Errorf("nodes did not meet: %w", err)
	}
	m := c.o.Masters
	for i, n := range c.nodes[:m] {
		if err := n.rc.ClusterAddSlotsRange(ctx, i*slots/m, (i+1)*slots/m-1).Err(); err != nil {
			return fmt.Errorf("%s: CLUSTER ADDSLOTSRANGE: %w", n.Addr(), err)
		}
	}
	for i, n := range c.nodes[m:] {
		master := c.nodes[i/c.o.ReplicasPerMaster]
		if err := n.rc.ClusterReplicate(ctx, master.id).Err(); err != nil {
			return fmt.Errorf("%s: CLUSTER REPLICATE %s: %w", n.Addr(), master.Addr(), err)
		}
	}
	return c.WaitHealthy(ctx)
}

// met reports whether every node knows every other one past the handshake.
func (c *Cluster) met(ctx context.Context) error {
	for _, n := range c.nodes {
		view, err := c.view(ctx, n)
		if err != nil {
			return err
		}
		if len(view) != len(c.nodes) {
			return fmt.Errorf("%s knows %d of %d nodes", n.Addr(), len(view), len(c.nodes))
		}
		for _, l := range view {
			if l.has("handshake") {
				return fmt.Errorf("%s is still in a handshake with %s", n.Addr(), l.id)
			}
		}
	}
	return nil
}

// Addrs are the host:port of every node, running or not.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n.Addr()
	}
	return out
}

// Nodes are every node, masters first as started (a failover changes who is master).
func (c *Cluster) Nodes() []*Node { return slices.Clone(c.nodes) }

// Client returns a new cluster client over every node, closed at the end of the test. A new
// one after a failover starts from the cluster's current slot map.
func (c *Cluster) Client() *redis.ClusterClient {
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	c.t.Cleanup(func() { _ = cc.Close() })
	return cc
}

// MasterFor is the node that serves key's slot, as a running node reports it (CLUSTER
// KEYSLOT and CLUSTER SLOTS). Right after a crash that may still be the dead node; see
// WaitForFailover.
func (c *Cluster) MasterFor(key string) *Node {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := c.live()
	if err != nil {
		c.t.Fatalf("redistest: MasterFor(%q): %v", key, err)
	}
	slot, err := n.rc.ClusterKeySlot(ctx, key).Result()
	if err != nil {
		c.t.Fatalf("redistest: MasterFor(%q): CLUSTER KEYSLOT on %s: %v", key, n.Addr(), err)
	}
	owners, err := c.owners(ctx, n)
	if err != nil {
		c.t.Fatalf("redistest: MasterFor(%q): %v", key, err)
	}
	if owners[slot] == nil {
		c.t.Fatalf("redistest: MasterFor(%q): %s reports no node for slot %d", key, n.Addr(), slot)
	}
	return owners[slot]
}

// WaitForFailover waits until every running node reports cluster_state:ok and serves the
// slots dead served when it was killed from one other running node, which answers ROLE as a
// master; it returns that node.
func (c *Cluster) WaitForFailover(ctx context.Context, dead *Node) (*Node, error) {
	if len(dead.killedSlots) == 0 {
		return nil, fmt.Errorf("redistest: %s served no slots when it was killed (or was not killed)", dead.Addr())
	}
	var promoted *Node
	err := poll(ctx, func(ctx context.Context) error {
		promoted = nil
		for _, n := range c.nodes {
			if !n.running() || n == dead {
				continue
			}
			if err := c.stateOK(ctx, n); err != nil {
				return err
			}
			owners, err := c.owners(ctx, n)
			if err != nil {
				return err
			}
			for _, r := range dead.killedSlots {
				for s := r.first; s <= r.last; s++ {
					o := owners[s]
					switch {
					case o == nil || o == dead || !o.running():
						return fmt.Errorf("%s reports slot %d on %v", n.Addr(), s, o)
					case promoted == nil:
						promoted = o
					case o != promoted:
						return fmt.Errorf("%s reports slot %d on %s, not %s", n.Addr(), s, o.Addr(), promoted.Addr())
					}
				}
			}
		}
		if promoted == nil {
			return errors.New("no other node is running")
		}
		return promoted.isMaster(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("redistest: no failover from %s: %w", dead.Addr(), err)
	}
	return promoted, nil
}

// WaitHealthy waits until every running node reports cluster_state:ok, every running node
// sees every other one connected, not failing, and in the role (and for a replica, with the
// master) that node reports for itself, and every running replica's link to its master is up.
// Use it after restarting nodes.
func (c *Cluster) WaitHealthy(ctx context.Context) error {
	if err := poll(ctx, c.healthy); err != nil {
		return fmt.Errorf("redistest: cluster not healthy: %w", err)
	}
	return nil
}

func (c *Cluster) healthy(ctx context.Context) error {
	self := map[string]nodeLine{}
	views := map[*Node]map[string]nodeLine{}
	for _, n := range c.nodes {
		if !n.running() {
			continue
		}
		if err := c.stateOK(ctx, n); err != nil {
			return err
		}
		view, err := c.view(ctx, n)
		if err != nil {
			return err
		}
		views[n] = view
		self[n.id] = view[n.id]
	}
	for n, view := range views {
		for m := range views {
			l, ok := view[m.id]
			switch {
			case !ok:
				return fmt.Errorf("%s does not know %s", n.Addr(), m.Addr())
			case l.has("fail") || l.has("fail?") || l.has("handshake") || l.has("noaddr"):
				return fmt.Errorf("%s sees %s as %s", n.Addr(), m.Addr(), l.flags)
			case n != m && l.link != "connected":
				return fmt.Errorf("%s is %s from %s", n.Addr(), l.link, m.Addr())
			case l.master != self[m.id].master:
				return fmt.Errorf("%s sees %s following %s; it follows %s", n.Addr(), m.Addr(), l.master, self[m.id].master)
			}
		}
	}
	for n := range views {
		if self[n.id].master == "-" {
			continue
		}
		info, err := n.rc.Info(ctx, "replication").Result()
		if err != nil {
			return fmt.Errorf("INFO replication on %s: %w", n.Addr(), err)
		}
		if !strings.Contains(info, "master_link_status:up") {
			return fmt.Errorf("replica %s: link to its master is not up", n.Addr())
		}
	}
	return nil
}

// stateOK reports whether n sees the cluster as able to serve (every slot covered by a
// master it does not consider failed).
func (c *Cluster) stateOK(ctx context.Context, n *Node) error {
	info, err := n.rc.ClusterInfo(ctx).Result()
	if err != nil {
		return fmt.Errorf("CLUSTER INFO on %s: %w", n.Addr(), err)
	}
	if !strings.Contains(info, "cluster_state:ok") {
		return fmt.Errorf("%s: cluster_state is not ok", n.Addr())
	}
	return nil
}

// owners is the node serving each slot, as CLUSTER SLOTS on n reports it (nil for a slot no
// node serves, or one served by a node not of this cluster).
func (c *Cluster) owners(ctx context.Context, n *Node) ([]*Node, error) {
	ranges, err := n.rc.ClusterSlots(ctx).Result()
	if err != nil {
		return nil, fmt.Errorf("CLUSTER SLOTS on %s: %w", n.Addr(), err)
	}
	owners := make([]*Node, slots)
	for _, r := range ranges {
		if len(r.Nodes) == 0 {
			continue
		}
		owner := c.byAddr(r.Nodes[0].Addr)
		for s := r.Start; s <= r.End && s < slots; s++ {
			owners[s] = owner
		}
	}
	return owners, nil
}

// servedSlots are the slots n says it serves, noted as it is killed.
func (c *Cluster) servedSlots(n *Node) []slotRange {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	view, err := c.view(ctx, n)
	if err != nil {
		c.t.Logf("redistest: slots of %s before killing it: %v", n.Addr(), err)
		return nil
	}
	return view[n.id].slots
}

func (c *Cluster) byAddr(a string) *Node {
	for _, n := range c.nodes {
		if n.Addr() == a {
			return n
		}
	}
	return nil
}

// live is a running node to ask.
func (c *Cluster) live() (*Node, error) {
	for _, n := range c.nodes {
		if n.running() {
			return n, nil
		}
	}
	return nil, errors.New("no node is running")
}

// nodeLine is one line of CLUSTER NODES:
// <id> <ip:port@cport> <flags> <master> <ping-sent> <pong-recv> <config-epoch> <link-state> <slot>...
type nodeLine struct {
	id, addr, flags, master, link string
	slots                         []slotRange
}

func (l nodeLine) has(flag string) bool { return slices.Contains(strings.Split(l.flags, ","), flag) }

// view is CLUSTER NODES on n, by node ID.
func (c *Cluster) view(ctx context.Context, n *Node) (map[string]nodeLine, error) {
	text, err := n.rc.ClusterNodes(ctx).Result()
	if err != nil {
		return nil, fmt.Errorf("CLUSTER NODES on %s: %w", n.Addr(), err)
	}
	view := map[string]nodeLine{}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			return nil, fmt.Errorf("CLUSTER NODES on %s: malformed line %q", n.Addr(), line)
		}
		l := nodeLine{id: f[0], addr: f[1], flags: f[2], master: f[3], link: f[7]}
		for _, s := range f[8:] {
			if strings.HasPrefix(s, "[") {
				continue // a slot being imported or migrated
			}
			first, last, isRange := strings.Cut(s, "-")
			if !isRange {
				last = first
			}
			a, err1 := strconv.Atoi(first)
			b, err2 := strconv.Atoi(last)
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("CLUSTER NODES on %s: malformed slots %q", n.Addr(), s)
			}
			l.slots = append(l.slots, slotRange{a, b})
		}
		view[l.id] = l
	}
	return view, nil
}
