package cluster_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/raftcron/raftcron/cluster"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// Issue 10 (5): a write acknowledged through a follower is visible to the
// same client's next read on that follower, every time.
func TestReadYourWritesThroughAFollower(t *testing.T) {
	tc := newTestCluster(t, 3)
	tc.waitLeader()
	c := dial(t, tc.follower().grpcAddr)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	found := 0
	for i := 0; i < 30; i++ {
		name := fmt.Sprintf("ryw-%d", i)
		if _, err := c.Apply(ctx, []*pb.Resource{yearlyCronJob(name)}, false); err != nil {
			t.Fatalf("apply %s: %v", name, err)
		}
		if _, err := c.GetCronJob(ctx, "default", name); err == nil {
			found++
		} else {
			t.Logf("get %s right after its apply: %v", name, err)
		}
	}
	if found != 30 {
		t.Fatalf("%d of 30 writes visible to the next read on the same follower, want 30", found)
	}
}

// A read that asks for an index the cluster never wrote (a client that saw
// another history) waits at most a bounded time on a follower, then is sent
// on (Unavailable); the leader answers it at once.
func TestReadWithAnIndexBeyondTheLog(t *testing.T) {
	tc := newTestCluster(t, 3)
	leader := tc.waitLeader()
	read := func(addr string) (time.Duration, error) {
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ctx = metadata.AppendToOutgoingContext(ctx, pb.MetadataMinIndex, "1099511627776")
		start := time.Now()
		_, err = pb.NewRaftCronClient(conn).Get(ctx, &pb.GetRequest{Kind: "CronJob", Name: "nope"})
		return time.Since(start), err
	}
	if d, err := read(leader.grpcAddr); status.Code(err) != codes.NotFound || d > time.Second {
		t.Fatalf("leader: %v after %v, want NotFound at once", err, d)
	}
	if d, err := read(tc.follower().grpcAddr); status.Code(err) != codes.Unavailable || d > 5*time.Second {
		t.Fatalf("follower: %v after %v, want Unavailable within the bounded wait", err, d)
	}
}

// A client's write is announced to the followers at once (AnnounceCommit):
// another client that reads through a follower right after it (a new CLI
// process: it carries no index) finds it, though Raft's CommitTimeout here
// would keep the followers from learning of the commit for a minute.
func TestFollowersLearnOfAClientsWriteAtOnce(t *testing.T) {
	tc := newTestClusterWith(t, 3, func(i int, nd *testNode) {
		nd.tune = func(c *cluster.Config) { c.CommitTimeout = time.Minute }
	})
	tc.waitLeader()
	follower := tc.follower()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range 3 {
		name := fmt.Sprintf("announced-%d", i)
		if _, err := dial(t, follower.grpcAddr).Apply(ctx, []*pb.Resource{yearlyCronJob(name)}, false); err != nil {
			t.Fatalf("apply %s: %v", name, err)
		}
		reader := dial(t, follower.grpcAddr)
		tc.waitFor(10*time.Second, name+" read through the follower by another client", func() bool {
			_, err := reader.GetCronJob(ctx, "default", name)
			return err == nil
		})
	}
}
