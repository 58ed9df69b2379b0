package raft_test

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/raft"
)

func setSettings(initial bool, heartbeat, workerTTL, leaseTTL, at time.Duration) *pb.Command {
	return &pb.Command{Op: &pb.Command_SetClusterSettings{SetClusterSettings: &pb.SetClusterSettings{
		Initial: initial, Now: ts(at),
		Settings: &pb.ClusterSettings{HeartbeatInterval: durationpb.New(heartbeat), WorkerTtl: durationpb.New(workerTTL), LeaseTtl: durationpb.New(leaseTTL)},
	}}}
}

func TestClusterSettingsFirstLeaderRecordsThenOnlyUpdatesChange(t *testing.T) {
	h := newHarness(t)
	if h.state().Settings() != nil {
		t.Fatal("a new state has settings")
	}
	h.mustApply(setSettings(true, time.Second, 5*time.Second, 10*time.Second, 0))
	if got := h.state().Settings().GetLeaseTtl().AsDuration(); got != 10*time.Second {
		t.Fatalf("lease TTL after the first leader's flags = %v, want 10s", got)
	}
	// A later leader started with other flags does not change them.
	h.mustApply(setSettings(true, time.Second, 5*time.Second, 3*time.Second, time.Minute))
	if got := h.state().Settings().GetLeaseTtl().AsDuration(); got != 10*time.Second {
		t.Fatalf("lease TTL after a second leader's flags = %v, want 10s still", got)
	}
	// An update (raftcron cluster settings) does.
	h.mustApply(setSettings(false, time.Second, 5*time.Second, 20*time.Second, time.Minute))
	if got := h.state().Settings().GetLeaseTtl().AsDuration(); got != 20*time.Second {
		t.Fatalf("lease TTL after an update = %v, want 20s", got)
	}
}

func TestClusterSettingsShorterLeaseKeepsTheOldOneUntilItRanOut(t *testing.T) {
	h := newHarness(t)
	h.mustApply(setSettings(false, time.Second, 5*time.Second, 30*time.Second, 0))
	h.mustApply(setSettings(false, time.Second, 5*time.Second, 4*time.Second, time.Minute))
	s := h.state().Settings()
	for _, c := range []struct {
		at   time.Duration
		want time.Duration
	}{
		{time.Minute, 30 * time.Second},                  // just changed: leases of 30s may be out there
		{time.Minute + 29*time.Second, 30 * time.Second}, // still
		{time.Minute + 30*time.Second, 4 * time.Second},  // every 30s lease has run out
	} {
		if got := raft.LeaseTTLAt(s, t0.Add(c.at)); got != c.want {
			t.Errorf("LeaseTTLAt(+%v) = %v, want %v", c.at, got, c.want)
		}
	}
}

func TestClusterSettingsInvalidChangeNothing(t *testing.T) {
	h := newHarness(t)
	h.mustApply(setSettings(false, time.Second, 5*time.Second, 10*time.Second, 0))
	for _, c := range []struct {
		cmd  *pb.Command
		want string
	}{
		{setSettings(false, time.Millisecond, 5*time.Second, 10*time.Second, 0), "settings.heartbeatInterval"},
		{setSettings(false, time.Second, time.Second, 10*time.Second, 0), "settings.workerTTL"},
		{setSettings(false, time.Second, 5*time.Second, time.Second, 0), "settings.leaseTTL"},
		{&pb.Command{Op: &pb.Command_SetClusterSettings{SetClusterSettings: &pb.SetClusterSettings{}}}, "settings.heartbeatInterval is required"},
		{func() *pb.Command {
			c := setSettings(false, time.Second, 5*time.Second, 10*time.Second, 0)
			c.GetSetClusterSettings().GetSettings().LostWorkerRetention = durationpb.New(-time.Hour)
			return c
		}(), "settings.lostWorkerRetention: -1h0m0s is not a positive duration"},
	} {
		r := h.apply(c.cmd)
		wantCode(t, r, pb.CodeInvalid)
		if !strings.Contains(r.GetError(), c.want) {
			t.Errorf("error %q does not name %q", r.GetError(), c.want)
		}
	}
	if got := h.state().Settings().GetLeaseTtl().AsDuration(); got != 10*time.Second {
		t.Fatalf("lease TTL after invalid changes = %v, want 10s", got)
	}
}
