package cluster_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/raftcron/raftcron/client"
	"github.com/raftcron/raftcron/cluster"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// testNode is one server of an in-process cluster, with fixed ports so that
// it can be stopped and started again from its data dir.
type testNode struct {
	id                 string
	dir                string
	raftAddr, grpcAddr string
	srv                *cluster.Server
	bootstrap          bool
	join               []string
	// worker overrides the cluster's usual worker timing flags.
	worker *cluster.WorkerConfig
	// tune, when set, changes the server's config before it starts.
	tune func(*cluster.Config)
	mu   sync.Mutex
}

type testCluster struct {
	t     *testing.T
	nodes []*testNode
	// pki, when set, runs the cluster with mutual TLS and ACLs.
	pki *testPKI
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("RAFTCRON_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newTestCluster starts n servers: the first bootstraps, the others join it.
func newTestCluster(t *testing.T, n int) *testCluster {
	t.Helper()
	return newTestClusterWith(t, n, nil)
}

// startTestCluster starts a cluster with mutual TLS and ACLs under pki.
func startTestCluster(t *testing.T, n int, pki *testPKI) *testCluster {
	t.Helper()
	return newTestClusterPKI(t, n, pki, nil)
}

// newTestClusterWith is newTestCluster with a hook that may change each
// node (the i-th, from 0) before it starts.
func newTestClusterWith(t *testing.T, n int, setup func(i int, nd *testNode)) *testCluster {
	t.Helper()
	return newTestClusterPKI(t, n, nil, setup)
}

func newTestClusterPKI(t *testing.T, n int, pki *testPKI, setup func(i int, nd *testNode)) *testCluster {
	t.Helper()
	tc := &testCluster{t: t, pki: pki}
	for i := 0; i < n; i++ {
		nd := &testNode{
			id:       fmt.Sprintf("n%d", i+1),
			dir:      filepath.Join(t.TempDir(), fmt.Sprintf("n%d", i+1)),
			raftAddr: freeAddr(t),
			grpcAddr: freeAddr(t),
		}
		if i == 0 {
			nd.bootstrap = true
		} else {
			nd.join = []string{tc.nodes[0].grpcAddr}
		}
		if setup != nil {
			setup(i, nd)
		}
		tc.nodes = append(tc.nodes, nd)
	}
	for _, nd := range tc.nodes {
		// A port picked free can be taken by another process before the
		// server binds it: retry the first start with fresh ports.
		for try := 1; ; try++ {
			if nd != tc.nodes[0] {
				nd.join = []string{tc.nodes[0].grpcAddr}
			}
			err := tc.tryStart(nd)
			if err == nil {
				break
			}
			if try == 5 || !strings.Contains(err.Error(), "address already in use") {
				t.Fatalf("start %s: %v", nd.id, err)
			}
			nd.raftAddr, nd.grpcAddr = freeAddr(t), freeAddr(t)
		}
	}
	t.Cleanup(func() {
		for _, nd := range tc.nodes {
			tc.stop(nd)
		}
	})
	tc.waitFor(20*time.Second, "all servers see 3 voters and a leader", func() bool {
		for _, nd := range tc.nodes {
			s := nd.server()
			if s == nil {
				return false
			}
			m, err := s.Node().Members()
			if err != nil || len(m) != n {
				return false
			}
			if id, _ := s.Node().Leader(); id == "" {
				return false
			}
		}
		return true
	})
	return tc
}

func (tc *testCluster) start(nd *testNode) {
	tc.t.Helper()
	if err := tc.tryStart(nd); err != nil {
		tc.t.Fatalf("start %s: %v", nd.id, err)
	}
}

func (tc *testCluster) tryStart(nd *testNode) error {
	worker := cluster.WorkerConfig{HeartbeatInterval: 100 * time.Millisecond, WorkerTTL: time.Second, LeaseTTL: 2 * time.Second}
	if nd.worker != nil {
		worker = *nd.worker
	}
	cfg := cluster.Config{
		NodeID: nd.id, DataDir: nd.dir, RaftAddr: nd.raftAddr, GRPCAddr: nd.grpcAddr,
		Bootstrap: nd.bootstrap, Join: nd.join,
		HeartbeatTimeout: 300 * time.Millisecond, ElectionTimeout: 300 * time.Millisecond,
		LeaderLeaseTimeout: 150 * time.Millisecond, CommitTimeout: 10 * time.Millisecond,
		Worker: worker,
		Logger: testLogger(tc.t).With("node", nd.id),
		TLS:    tc.pki.serverCreds(nd.id), Insecure: tc.pki == nil,
	}
	if nd.tune != nil {
		nd.tune(&cfg)
	}
	s, err := cluster.New(cfg)
	if err != nil {
		return err
	}
	s.Start()
	nd.mu.Lock()
	nd.srv = s
	nd.mu.Unlock()
	return nil
}

func (tc *testCluster) stop(nd *testNode) {
	nd.mu.Lock()
	s := nd.srv
	nd.srv = nil
	nd.mu.Unlock()
	if s != nil {
		if err := s.Stop(); err != nil {
			tc.t.Logf("stop %s: %v", nd.id, err)
		}
	}
}

func (nd *testNode) server() *cluster.Server {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	return nd.srv
}

func (tc *testCluster) leader() *testNode {
	for _, nd := range tc.nodes {
		if s := nd.server(); s != nil && s.IsLeader() {
			return nd
		}
	}
	return nil
}

func (tc *testCluster) waitLeader() *testNode {
	var l *testNode
	tc.waitFor(20*time.Second, "a leader", func() bool { l = tc.leader(); return l != nil })
	return l
}

func (tc *testCluster) follower() *testNode {
	for _, nd := range tc.nodes {
		if s := nd.server(); s != nil && !s.IsLeader() {
			return nd
		}
	}
	return nil
}

func (tc *testCluster) waitFor(timeout time.Duration, what string, cond func() bool) {
	tc.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tc.t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func dial(t *testing.T, addrs ...string) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{Servers: addrs, Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func yearlyCronJob(name string) *pb.Resource {
	restart := "Never"
	return &pb.Resource{Kind: &pb.Resource_CronJob{CronJob: &pb.CronJob{
		ApiVersion: "batch/v1", Kind: "CronJob",
		Metadata: &pb.ObjectMeta{Name: name},
		Spec: &pb.CronJobSpec{
			Schedule: "0 3 1 1 *",
			JobTemplate: &pb.JobTemplateSpec{Spec: &pb.JobSpec{Template: &pb.PodTemplateSpec{Spec: &pb.PodSpec{
				RestartPolicy: restart,
				Containers:    []*pb.Container{{Name: "main", Image: "busybox:1.28", Command: []string{"true"}}},
			}}}},
		},
	}}}
}

// TestReplicatedWritesSurviveLeaderLossAndRestarts is issue 2's acceptance
// test: 1,000 CronJobs applied through a follower survive the loss of the
// leader, a restarted server catches up, acknowledged writes are never lost,
// and a whole-cluster restart keeps everything.
func TestReplicatedWritesSurviveLeaderLossAndRestarts(t *testing.T) {
	if testing.Short() {
		t.Skip("in-process cluster test")
	}
	// 1,000 CronJobs and more while the leader dies: above the default
	// quota of CronJobs per namespace.
	tc := newTestClusterWith(t, 3, func(_ int, nd *testNode) {
		nd.tune = func(c *cluster.Config) { c.Limits.MaxCronJobsPerNamespace = 100000 }
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	fol := tc.follower()
	c := dial(t, fol.grpcAddr)
	const total = 1000
	for b := 0; b < total/100; b++ {
		var res []*pb.Resource
		for i := b * 100; i < (b+1)*100; i++ {
			res = append(res, yearlyCronJob(fmt.Sprintf("cj-%04d", i)))
		}
		out, err := c.Apply(ctx, res, false)
		if err != nil {
			t.Fatalf("apply batch %d through follower %s: %v", b, fol.id, err)
		}
		for _, r := range out {
			// "unchanged": the client retried a batch whose first try was
			// committed but not answered in time (at-least-once apply).
			if r.GetAction() != "created" && r.GetAction() != "unchanged" {
				t.Fatalf("apply %s: action %q, want created", r.GetName(), r.GetAction())
			}
		}
	}

	// Keep writing (through every server) while the leader is killed;
	// remember what was acknowledged.
	var (
		ackMu sync.Mutex
		acked []string
	)
	all := make([]string, 0, len(tc.nodes))
	for _, nd := range tc.nodes {
		all = append(all, nd.grpcAddr)
	}
	writer := dial(t, all...)
	stopWriting := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stopWriting:
				return
			default:
			}
			name := fmt.Sprintf("during-%04d", i)
			wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
			_, err := writer.Apply(wctx, []*pb.Resource{yearlyCronJob(name)}, false)
			wcancel()
			if err == nil {
				ackMu.Lock()
				acked = append(acked, name)
				ackMu.Unlock()
			}
		}
	}()

	old := tc.waitLeader()
	time.Sleep(200 * time.Millisecond) // let some writes land before the kill
	tc.stop(old)
	newLeader := tc.waitLeader()
	if newLeader == old {
		t.Fatal("the stopped server is still the leader")
	}
	tc.waitFor(60*time.Second, "writes acknowledged by the new leader", func() bool {
		ackMu.Lock()
		defer ackMu.Unlock()
		return len(acked) > 20
	})
	close(stopWriting)
	wg.Wait()

	want := total + len(acked)
	for _, nd := range tc.nodes {
		if nd == old {
			continue
		}
		nd := nd
		tc.waitFor(10*time.Second, nd.id+" holds every acknowledged CronJob", func() bool {
			return len(nd.server().Node().State().ListCronJobs("default")) >= want
		})
		assertHas(t, nd, acked)
	}

	// The old leader comes back from its data dir and catches up.
	old.bootstrap = false
	tc.start(old)
	tc.waitFor(20*time.Second, old.id+" catches up after restart", func() bool {
		return len(old.server().Node().State().ListCronJobs("default")) >= want
	})
	assertHas(t, old, acked)
	got, err := dial(t, old.grpcAddr).GetCronJob(ctx, "default", "cj-0999")
	if err != nil {
		t.Fatalf("read cj-0999 from restarted %s: %v", old.id, err)
	}
	if got.GetSpec().GetConcurrencyPolicy() != "Allow" || got.GetSpec().GetSuccessfulJobsHistoryLimit() != 3 {
		t.Fatalf("defaults not stored: %v", got.GetSpec())
	}

	// Stop the whole cluster and start it again from the data dirs.
	for _, nd := range tc.nodes {
		tc.stop(nd)
	}
	for _, nd := range tc.nodes {
		nd.bootstrap = false
		tc.start(nd)
	}
	tc.waitLeader()
	for _, nd := range tc.nodes {
		nd := nd
		tc.waitFor(20*time.Second, nd.id+" has everything after a full restart", func() bool {
			return len(nd.server().Node().State().ListCronJobs("default")) == want
		})
		assertHas(t, nd, acked)
	}
	// And it still takes writes.
	if _, err := dial(t, all...).Apply(ctx, []*pb.Resource{yearlyCronJob("after-restart")}, false); err != nil {
		t.Fatalf("apply after full restart: %v", err)
	}
}

func assertHas(t *testing.T, nd *testNode, names []string) {
	t.Helper()
	st := nd.server().Node().State()
	for _, n := range names {
		if st.CronJob("default", n) == nil {
			t.Fatalf("%s lost acknowledged CronJob %s", nd.id, n)
		}
	}
}

// TestEverySecondCronJobAcrossLeaderKills is issue 3's cluster acceptance
// test: an every-second CronJob with catchUp All produces exactly one Job per
// second across 5 leader kills, with no tick missing.
func TestEverySecondCronJobAcrossLeaderKills(t *testing.T) {
	if testing.Short() {
		t.Skip("in-process cluster test")
	}
	tc := newTestCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	all := make([]string, 0, len(tc.nodes))
	for _, nd := range tc.nodes {
		all = append(all, nd.grpcAddr)
	}
	c := dial(t, all...)
	cj := yearlyCronJob("tick")
	spec := cj.GetCronJob().Spec
	spec.Schedule = "* * * * * *"
	spec.CatchUp = "All"
	spec.StartingDeadlineSeconds = proto.Int32(60)
	if _, err := c.Apply(ctx, []*pb.Resource{cj}, false); err != nil {
		t.Fatal(err)
	}
	tc.waitFor(10*time.Second, "the first tick's Job", func() bool {
		l := tc.leader()
		return l != nil && len(l.server().Node().State().JobsOfCronJob("default", "tick")) > 0
	})
	for kill := 0; kill < 5; kill++ {
		time.Sleep(1500 * time.Millisecond)
		old := tc.waitLeader()
		tc.stop(old)
		tc.waitLeader()
		old.bootstrap = false
		tc.start(old)
	}
	time.Sleep(2 * time.Second)
	l := tc.waitLeader()
	var secs []int64
	for _, j := range l.server().Node().State().JobsOfCronJob("default", "tick") {
		name := j.GetMetadata().GetName()
		n, err := strconv.ParseInt(strings.TrimPrefix(name, "tick-"), 10, 64)
		if err != nil {
			t.Fatalf("job name %q is not tick-<unix seconds>", name)
		}
		if got := j.GetStatus().GetScheduledTime().AsTime().Unix(); got != n {
			t.Fatalf("job %s has scheduled time %d", name, got)
		}
		secs = append(secs, n)
	}
	sort.Slice(secs, func(i, j int) bool { return secs[i] < secs[j] })
	if len(secs) < 8 {
		t.Fatalf("only %d jobs", len(secs))
	}
	var missing []int64
	for i := 1; i < len(secs); i++ {
		if secs[i] == secs[i-1] {
			t.Fatalf("two Jobs for tick %d", secs[i])
		}
		for s := secs[i-1] + 1; s < secs[i]; s++ {
			missing = append(missing, s)
		}
	}
	t.Logf("ticks %d..%d: %d Jobs, %d missing, across 5 leader kills", secs[0], secs[len(secs)-1], len(secs), len(missing))
	if len(missing) > 0 {
		t.Fatalf("ticks without a Job: %v", missing)
	}
	// Every tick also has a recorded invoke decision on the CronJob (bounded history).
	got := l.server().Node().State().CronJob("default", "tick")
	for _, d := range got.GetStatus().GetDecisions() {
		if d.GetDecision() != "invoke" {
			t.Fatalf("unexpected decision %v", d)
		}
	}
}
