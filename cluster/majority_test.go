package cluster_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/raftcron/raftcron/client"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// TestMajorityDownSaysNoLeaderElectedYet: with two of three servers gone, a
// client given every address gets "no leader elected yet" for writes and
// leader-only reads (as docs/operations.md promises), not the address of a
// dead server; reads from the survivor still work; and cluster members,
// asked of the survivor, shows the two others unreachable.
func TestMajorityDownSaysNoLeaderElectedYet(t *testing.T) {
	tc := newTestCluster(t, 3)
	leader := tc.waitLeader()
	var addrs []string
	for _, nd := range tc.nodes {
		addrs = append(addrs, nd.grpcAddr)
	}
	ctx := context.Background()
	if _, err := dial(t, addrs...).Apply(ctx, []*pb.Resource{yearlyCronJob("before")}, false); err != nil {
		t.Fatal(err)
	}

	// While one follower is down, the leader still has a majority and
	// names the dead one unreachable, with when it last reached it.
	var down, survivor *testNode
	for _, nd := range tc.nodes {
		if nd != leader && down == nil {
			down = nd
		} else if nd != leader {
			survivor = nd
		}
	}
	tc.stop(down)
	var members []*pb.Member
	tc.waitFor(10*time.Second, "the leader to see "+down.id+" unreachable", func() bool {
		var err error
		members, err = dial(t, leader.grpcAddr).Members(ctx)
		return err == nil && memberStatus(members, down.id) == pb.MemberUnreachable && member(members, down.id).GetLastContact() != nil
	})
	if s := memberStatus(members, survivor.id); s != pb.MemberAlive {
		t.Errorf("%s (running) is %q, want alive", survivor.id, s)
	}
	if h := member(members, down.id).GetHealth(); !strings.Contains(h, down.grpcAddr) {
		t.Errorf("the health of %s is %q, want it to name %s", down.id, h, down.grpcAddr)
	}

	// The survivor has the CronJob before the majority goes (it learns
	// that an entry committed from the leader's next AppendEntries).
	tc.waitFor(10*time.Second, survivor.id+" to apply the CronJob", func() bool {
		return survivor.server().Node().State().CronJob("default", "before") != nil
	})
	tc.stop(leader)
	c, err := client.New(client.Config{Servers: addrs, Insecure: true, CallTimeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	calls := map[string]func() error{
		"apply": func() error {
			_, err := c.Apply(ctx, []*pb.Resource{yearlyCronJob("after")}, false)
			return err
		},
		"trigger": func() error {
			_, err := c.Trigger(ctx, "default", "before", "")
			return err
		},
		"list workers": func() error {
			_, err := c.ListWorkers(ctx)
			return err
		},
	}
	for name, call := range calls {
		err := call()
		if err == nil || !strings.Contains(err.Error(), "no leader elected yet") {
			t.Errorf("%s without a majority: %v, want \"no leader elected yet\"", name, err)
		}
		for _, dead := range []string{leader.grpcAddr, down.grpcAddr} {
			if err != nil && strings.Contains(err.Error(), dead) {
				t.Errorf("%s without a majority names the dead server %s: %v", name, dead, err)
			}
		}
	}
	if got, err := c.ListCronJobs(ctx, "default"); err != nil || len(got) != 1 {
		t.Errorf("reading from the survivor: %d CronJobs, %v; want 1", len(got), err)
	}
	members, err = c.Members(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, nd := range tc.nodes {
		want := pb.MemberUnreachable
		if nd == survivor {
			want = pb.MemberAlive
		}
		if s := memberStatus(members, nd.id); s != want {
			t.Errorf("members without a majority: %s is %q, want %s", nd.id, s, want)
		}
	}
}

func member(ms []*pb.Member, id string) *pb.Member {
	for _, m := range ms {
		if m.GetId() == id {
			return m
		}
	}
	return nil
}

func memberStatus(ms []*pb.Member, id string) string { return member(ms, id).GetStatus() }
