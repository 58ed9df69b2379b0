package raft_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/raft"
)

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testConfig(id, dir, bind string, bootstrap bool) raft.Config {
	return raft.Config{
		NodeID:             id,
		DataDir:            dir,
		BindAddr:           bind,
		Bootstrap:          bootstrap,
		Logger:             quietLogger(),
		HeartbeatTimeout:   50 * time.Millisecond,
		ElectionTimeout:    50 * time.Millisecond,
		LeaderLeaseTimeout: 50 * time.Millisecond,
		CommitTimeout:      5 * time.Millisecond,
		// Snapshot and compact often, so a node that comes back needs a
		// snapshot from the leader (the InstallSnapshot → Restore path).
		SnapshotThreshold: 4,
		SnapshotInterval:  50 * time.Millisecond,
		TrailingLogs:      4,
	}
}

// openAt opens a node, retrying for a while if its old port is not free yet.
func openAt(t *testing.T, cfg raft.Config) *raft.Node {
	t.Helper()
	var n *raft.Node
	var err error
	waitFor(t, 10*time.Second, "open "+cfg.NodeID+" on "+cfg.BindAddr, func() bool {
		n, err = raft.Open(cfg)
		if err != nil && !strings.Contains(err.Error(), "address already in use") {
			t.Fatalf("open %s: %v", cfg.NodeID, err)
		}
		return err == nil
	})
	return n
}

type testCluster struct {
	t     *testing.T
	ids   []string
	dirs  map[string]string
	addrs map[string]string
	nodes map[string]*raft.Node // nil while a node is down
}

func newTestCluster(t *testing.T, ids ...string) *testCluster {
	t.Helper()
	c := &testCluster{t: t, ids: ids, dirs: map[string]string{}, addrs: map[string]string{}, nodes: map[string]*raft.Node{}}
	for _, id := range ids {
		c.dirs[id] = t.TempDir()
	}
	// Registered after TempDir, so it runs before the directories are removed.
	t.Cleanup(c.shutdownAll)
	for i, id := range ids {
		n := openAt(t, testConfig(id, c.dirs[id], "127.0.0.1:0", i == 0))
		c.nodes[id] = n
		c.addrs[id] = n.Addr()
		if i == 0 {
			waitFor(t, 10*time.Second, "bootstrap leader", n.IsLeader)
			continue
		}
		c.eventually("join "+id, func(l *raft.Node) error { return l.Join(id, c.addrs[id]) })
	}
	return c
}

func (c *testCluster) up() []*raft.Node {
	var out []*raft.Node
	for _, id := range c.ids {
		if n := c.nodes[id]; n != nil {
			out = append(out, n)
		}
	}
	return out
}

func (c *testCluster) leader() *raft.Node {
	for _, n := range c.up() {
		if n.IsLeader() {
			return n
		}
	}
	return nil
}

func (c *testCluster) waitLeader() *raft.Node {
	c.t.Helper()
	var l *raft.Node
	waitFor(c.t, 15*time.Second, "a leader", func() bool { l = c.leader(); return l != nil })
	return l
}

// eventually runs op on the current leader, retrying while leadership moves.
func (c *testCluster) eventually(what string, op func(leader *raft.Node) error) {
	c.t.Helper()
	var lastErr error
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if l := c.leader(); l != nil {
			lastErr = op(l)
			if lastErr == nil {
				return
			}
			if !errors.Is(lastErr, raft.ErrNotLeader) && !errors.Is(lastErr, context.DeadlineExceeded) {
				c.t.Fatalf("%s: %v", what, lastErr)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.t.Fatalf("%s: no success within 20s (last error: %v)", what, lastErr)
}

// apply applies cmds on the leader, retrying while leadership moves. A retry
// may re-apply an entry whose first try was committed after all (for example
// after hraft.ErrLeadershipLost), so a NotFound on a retry is accepted.
func (c *testCluster) apply(what string, cmds ...*pb.Command) []*pb.CommandResult {
	c.t.Helper()
	var res []*pb.CommandResult
	tries := 0
	c.eventually(what, func(l *raft.Node) error {
		tries++
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var err error
		res, err = l.Apply(ctx, cmds...)
		return err
	})
	if err := pb.FirstErr(res); err != nil && !(tries > 1 && errors.Is(err, pb.ErrNotFound)) {
		c.t.Fatalf("%s: %v", what, err)
	}
	return res
}

func (c *testCluster) stop(id string) {
	c.t.Helper()
	if n := c.nodes[id]; n != nil {
		if err := n.Shutdown(); err != nil {
			c.t.Errorf("shutdown %s: %v", id, err)
		}
		c.nodes[id] = nil
	}
}

func (c *testCluster) reopen(id string) *raft.Node {
	c.t.Helper()
	n := openAt(c.t, testConfig(id, c.dirs[id], c.addrs[id], id == c.ids[0]))
	c.nodes[id] = n
	return n
}

func (c *testCluster) shutdownAll() {
	for _, id := range c.ids {
		c.stop(id)
	}
}

func manyCronJobs(from, n int) []*pb.CronJob {
	out := make([]*pb.CronJob, 0, n)
	for i := from; i < from+n; i++ {
		out = append(out, cronJob(fmt.Sprintf("ns-%d", i%7), fmt.Sprintf("cron-%04d", i), "*/5 * * * *"))
	}
	return out
}

// sameCronJobs waits until node n holds exactly the CronJobs of want.
func waitSameCronJobs(t *testing.T, what string, n *raft.Node, want []*pb.CronJob) {
	t.Helper()
	waitFor(t, 20*time.Second, what, func() bool {
		got := n.State().ListCronJobs("")
		if len(got) != len(want) {
			return false
		}
		for i := range got {
			if !proto.Equal(got[i], want[i]) {
				return false
			}
		}
		return true
	})
}

func TestClusterFailoverCatchUpAndRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node Raft cluster")
	}
	c := newTestCluster(t, "n1", "n2", "n3")
	leader := c.waitLeader()
	if ms, err := leader.Members(); err != nil || len(ms) != 3 {
		t.Fatalf("members = %v, %v; want 3", ms, err)
	}

	// 1,000 CronJobs, a few hundred per log entry.
	for i := 0; i < 1000; i += 250 {
		res := c.apply(fmt.Sprintf("apply cronjobs %d..", i), applyRes(0, manyCronJobs(i, 250), nil))
		if len(res) != 1 || len(res[0].GetActions()) != 250 {
			t.Fatalf("apply result = %v", res)
		}
	}
	want := c.waitLeader().State().ListCronJobs("")
	if len(want) != 1000 {
		t.Fatalf("leader holds %d cronjobs, want 1000", len(want))
	}
	for _, n := range c.up() {
		waitSameCronJobs(t, n.ID()+" has the 1,000 cronjobs", n, want)
	}

	// Kill the leader: a survivor takes over with everything readable.
	old := c.waitLeader().ID()
	c.stop(old)
	newLeader := c.waitLeader()
	if newLeader.ID() == old {
		t.Fatal("stopped node is still leader")
	}
	for _, n := range c.up() {
		if got := len(n.State().ListCronJobs("")); got != 1000 {
			t.Fatalf("%s holds %d cronjobs after failover, want 1000", n.ID(), got)
		}
		waitFor(t, 10*time.Second, n.ID()+" knows the new leader", func() bool {
			id, addr := n.Leader()
			return id == newLeader.ID() && addr == newLeader.Addr()
		})
	}

	// Writes continue without the old leader; then it comes back and catches up.
	c.apply("more cronjobs", applyRes(time.Hour, manyCronJobs(1000, 200), nil))
	for i := 0; i < 10; i++ {
		c.apply("delete", deleteRes("CronJob", fmt.Sprintf("ns-%d", i%7), fmt.Sprintf("cron-%04d", i)))
	}
	want = c.waitLeader().State().ListCronJobs("")
	if len(want) != 1190 {
		t.Fatalf("leader holds %d cronjobs, want 1190", len(want))
	}
	back := c.reopen(old)
	waitSameCronJobs(t, old+" caught up after restart", back, want)

	// Stop everything; reopen all three from their data dirs.
	c.shutdownAll()
	for _, id := range c.ids {
		c.reopen(id)
	}
	c.waitLeader()
	for _, n := range c.up() {
		waitSameCronJobs(t, n.ID()+" has everything after a full restart", n, want)
	}
	// And the cluster still takes writes.
	c.apply("write after restart", registerServer("n1", c.addrs["n1"], "127.0.0.1:9"))
	for _, n := range c.up() {
		waitFor(t, 10*time.Second, n.ID()+" sees the write", func() bool { return n.State().Server("n1") != nil })
	}
}

func TestJoinRemoveAndFollowerErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node Raft cluster")
	}
	c := newTestCluster(t, "n1", "n2", "n3")
	l := c.waitLeader()

	// LeaderNotify reports the leadership this node holds.
	waitFor(t, 5*time.Second, "LeaderNotify true on the leader", func() bool {
		select {
		case v := <-l.LeaderNotify():
			return v
		default:
			return false
		}
	})

	// members returns id -> address once exactly one member is flagged leader.
	members := func() map[string]string {
		t.Helper()
		var out map[string]string
		waitFor(t, 10*time.Second, "members with exactly one leader", func() bool {
			ms, err := c.waitLeader().Members()
			if err != nil {
				t.Fatalf("members: %v", err)
			}
			out = map[string]string{}
			leaders := 0
			for _, m := range ms {
				out[m.ID] = m.Address
				if !m.Voter {
					t.Fatalf("member %s is not a voter", m.ID)
				}
				if m.Leader {
					leaders++
				}
			}
			return leaders == 1
		})
		return out
	}

	// Same id and address twice: no-op.
	c.eventually("rejoin n2", func(l *raft.Node) error { return l.Join("n2", c.addrs["n2"]) })
	if ms := members(); len(ms) != 3 || ms["n2"] != c.addrs["n2"] {
		t.Fatalf("members after repeated join = %v", ms)
	}
	// A phantom member (no process behind it; 2 of 3 voters keep quorum).
	c.eventually("join ghost", func(l *raft.Node) error { return l.Join("ghost", "127.0.0.1:1") })
	// Same id, new address: replaced.
	c.eventually("move ghost", func(l *raft.Node) error { return l.Join("ghost", "127.0.0.1:2") })
	if ms := members(); len(ms) != 4 || ms["ghost"] != "127.0.0.1:2" {
		t.Fatalf("members after address change = %v", ms)
	}
	// Other id, same address: the old one is removed first.
	c.eventually("ghost2 takes the address", func(l *raft.Node) error { return l.Join("ghost2", "127.0.0.1:2") })
	if ms := members(); len(ms) != 4 || ms["ghost2"] != "127.0.0.1:2" || ms["ghost"] != "" {
		t.Fatalf("members after address takeover = %v", ms)
	}
	c.eventually("remove ghost2", func(l *raft.Node) error { return l.Remove("ghost2") })
	c.eventually("remove ghost2 again", func(l *raft.Node) error { return l.Remove("ghost2") })
	c.eventually("remove n3", func(l *raft.Node) error { return l.Remove("n3") })
	if ms := members(); len(ms) != 2 || ms["n3"] != "" || ms["ghost2"] != "" {
		t.Fatalf("members after remove = %v", ms)
	}

	// A follower refuses writes and names the leader.
	l = c.waitLeader()
	var follower *raft.Node
	for _, id := range []string{"n1", "n2"} {
		if n := c.nodes[id]; n != l {
			follower = n
		}
	}
	waitFor(t, 10*time.Second, "follower knows the leader", func() bool {
		id, _ := follower.Leader()
		return id == l.ID()
	})
	_, err := follower.Apply(context.Background(), registerServer("x", "y", "z"))
	var nle *raft.NotLeaderError
	if !errors.Is(err, raft.ErrNotLeader) || !errors.As(err, &nle) || nle.LeaderID != l.ID() || nle.LeaderAddr != l.Addr() {
		t.Fatalf("follower Apply error = %v, want NotLeaderError naming %s at %s", err, l.ID(), l.Addr())
	}
	if err := follower.Join("n9", "127.0.0.1:3"); !errors.Is(err, raft.ErrNotLeader) {
		t.Fatalf("follower Join error = %v", err)
	}
	if err := follower.Remove("n2"); !errors.Is(err, raft.ErrNotLeader) {
		t.Fatalf("follower Remove error = %v", err)
	}
	if follower.LastContact().IsZero() {
		t.Fatal("follower reports no contact with the leader")
	}
	if follower.Stats()["state"] != "Follower" {
		t.Fatalf("follower stats state = %q", follower.Stats()["state"])
	}
}

func TestSingleNodeApplyLargeBatchAndContext(t *testing.T) {
	dir := t.TempDir()
	n := openAt(t, testConfig("solo", dir, "127.0.0.1:0", true))
	t.Cleanup(func() { _ = n.Shutdown() })
	waitFor(t, 10*time.Second, "solo leader", n.IsLeader)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.Barrier(ctx); err != nil {
		t.Fatalf("barrier: %v", err)
	}
	sub, unsub := n.FSM().Subscribe()
	defer unsub()

	// A proposal over 1 MiB.
	big := cronJob("", "big", "@daily")
	big.Metadata.Annotations = map[string]string{"blob": strings.Repeat("x", 1536<<10)}
	res, err := n.Apply(ctx, applyRes(0, []*pb.CronJob{big}, nil))
	if err != nil || pb.FirstErr(res) != nil {
		t.Fatalf("apply 1.5 MiB: %v %v", err, res)
	}
	if got := n.State().CronJob("", "big").GetMetadata().GetAnnotations()["blob"]; len(got) != 1536<<10 {
		t.Fatalf("big annotation has %d bytes", len(got))
	}
	select {
	case <-sub:
	case <-time.After(5 * time.Second):
		t.Fatal("no change signal after Apply")
	}

	// Several commands: one entry, one result each.
	res, err = n.Apply(ctx,
		createJobs(cronJobRun("", "big", "big-1", time.Minute)),
		deleteRes("Job", "", "missing"),
		registerServer("solo", n.Addr(), "127.0.0.1:9"),
	)
	if err != nil || len(res) != 3 {
		t.Fatalf("batch apply: %v, %d results", err, len(res))
	}
	if !errors.Is(res[1].Err(), pb.ErrNotFound) || res[0].Err() != nil || res[2].Err() != nil {
		t.Fatalf("batch results = %v", res)
	}
	if rv := n.State().Job("", "big-1").GetMetadata().GetResourceVersion(); rv == "" || rv == "0" {
		t.Fatalf("resource version %q, want the log index", rv)
	}

	// Bad calls are refused before anything is proposed.
	if _, err := n.Apply(ctx); !errors.Is(err, pb.ErrInvalid) {
		t.Fatalf("Apply() error = %v", err)
	}
	if _, err := n.Apply(ctx, &pb.Command{}); !errors.Is(err, pb.ErrInvalid) {
		t.Fatalf("Apply(empty command) error = %v", err)
	}
	done, cancelDone := context.WithCancel(context.Background())
	cancelDone()
	if _, err := n.Apply(done, registerServer("x", "y", "z")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Apply(cancelled ctx) error = %v", err)
	}
	if n.State().Server("x") != nil {
		t.Fatal("a command with a cancelled context was applied")
	}

	// Reopen: the bootstrap flag does not re-bootstrap existing state.
	if err := n.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if err := n.Shutdown(); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	n2 := openAt(t, testConfig("solo", dir, n.Addr(), true))
	t.Cleanup(func() { _ = n2.Shutdown() })
	waitFor(t, 10*time.Second, "reopened solo has its data", func() bool {
		return n2.State().Job("", "big-1") != nil && n2.State().Server("solo") != nil
	})
}

func TestOpenValidatesConfig(t *testing.T) {
	for name, cfg := range map[string]raft.Config{
		"no id":   {DataDir: t.TempDir(), BindAddr: "127.0.0.1:0"},
		"no dir":  {NodeID: "a", BindAddr: "127.0.0.1:0"},
		"no bind": {NodeID: "a", DataDir: t.TempDir()},
	} {
		if _, err := raft.Open(cfg); err == nil {
			t.Errorf("%s: Open accepted %+v", name, cfg)
		}
	}
}
