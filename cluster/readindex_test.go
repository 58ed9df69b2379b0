package cluster_test

import (
	"context"
	"fmt"
	"testing"
	"time"

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
