package cluster_test

import (
	"testing"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// Issue 10 (9): the first leader gives the cluster an id, kept in Raft; every
// leader tells workers the same id in Welcome (they scope container names and
// labels by it).
func TestClusterIDInWelcomeSurvivesFailover(t *testing.T) {
	tc := newTestClusterWith(t, 3, nil)
	leader := tc.waitLeader()
	var w *pb.Welcome
	tc.waitFor(10*time.Second, "a welcome with a cluster id", func() bool {
		w = welcomeFrom(t, leader.grpcAddr)
		return w != nil && w.GetClusterId() != ""
	})
	id := w.GetClusterId()
	if len(id) != 12 {
		t.Errorf("cluster id %q, want 12 hex digits", id)
	}
	tc.stop(leader)
	next := tc.waitLeader()
	tc.waitFor(10*time.Second, "a welcome from the new leader", func() bool {
		w = welcomeFrom(t, next.grpcAddr)
		return w != nil
	})
	if w.GetClusterId() != id {
		t.Fatalf("the new leader says cluster id %q, the first said %q", w.GetClusterId(), id)
	}
}
