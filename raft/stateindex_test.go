package raft_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// StateIndex is what read-your-writes compares with a client's last write:
// it follows applied entries and survives a restart from a snapshot (the
// FSM's Restore is not told the snapshot's index).
func TestStateIndexFollowsAppliesAndSnapshotRestores(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig("solo", dir, "127.0.0.1:0", true)
	n := openAt(t, cfg)
	waitFor(t, 10*time.Second, "solo leader", n.IsLeader)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var last uint64
	for i := 0; i < 10; i++ {
		if _, err := n.Apply(ctx, applyRes(0, []*pb.CronJob{cronJob("", fmt.Sprintf("c%d", i), "@daily")}, nil)); err != nil {
			t.Fatal(err)
		}
		if got := n.StateIndex(); got <= last {
			t.Fatalf("StateIndex after write %d = %d, not above %d", i, got, last)
		}
		last = n.StateIndex()
	}
	if err := n.WaitApplied(ctx, last); err != nil {
		t.Fatalf("WaitApplied(%d) on a node that applied it: %v", last, err)
	}
	// Raft snapshots once SnapshotThreshold (4) entries have piled up since
	// the last one: if a snapshot was taken between the writes above, fewer
	// may be left. More writes get the next snapshot past every write.
	extra := 0
	waitFor(t, 60*time.Second, "a snapshot covering every write", func() bool {
		s, _ := strconv.ParseUint(n.Stats()["last_snapshot_index"], 10, 64)
		if s >= last {
			return true
		}
		if _, err := n.Apply(ctx, applyRes(0, []*pb.CronJob{cronJob("", fmt.Sprintf("extra%d", extra), "@daily")}, nil)); err != nil {
			t.Fatal(err)
		}
		extra++
		return false
	})
	addr := n.Addr()
	if err := n.Shutdown(); err != nil {
		t.Fatal(err)
	}
	cfg.BindAddr, cfg.Bootstrap = addr, false
	n = openAt(t, cfg)
	t.Cleanup(func() { _ = n.Shutdown() })
	if got := n.StateIndex(); got < last {
		t.Fatalf("StateIndex after a restart from a snapshot = %d, below the last write %d", got, last)
	}
	if n.State().CronJob("", "c9") == nil {
		t.Fatal("the snapshot did not bring c9 back")
	}
}
