package scheduler

import (
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

func TestEventsToPrune(t *testing.T) {
	now := time.Date(2026, 5, 19, 12, 0, 0, 0, time.UTC)
	ev := func(index uint64, ago time.Duration) *pb.Event {
		return &pb.Event{Index: index, Seq: 1, Time: timestamppb.New(now.Add(-ago))}
	}
	five := []*pb.Event{ev(1, 5*time.Hour), ev(2, 4*time.Hour), ev(3, 3*time.Hour), ev(4, 2*time.Hour), ev(5, time.Hour)}
	for _, tc := range []struct {
		name    string
		events  []*pb.Event
		r       EventRetention
		through uint64 // 0: nothing pruned
	}{
		{"within both bounds", five, EventRetention{Count: 10, Age: 6 * time.Hour}, 0},
		{"count keeps the newest", five, EventRetention{Count: 2, Age: 6 * time.Hour}, 3},
		{"age drops the old", five, EventRetention{Count: 10, Age: 150 * time.Minute}, 3},
		{"both: the stricter wins", five, EventRetention{Count: 4, Age: 210 * time.Minute}, 2},
		{"everything too old", five, EventRetention{Count: 10, Age: 30 * time.Minute}, 5},
		{"an out-of-order time waits for its turn", []*pb.Event{ev(1, time.Minute), ev(2, 10*time.Hour)}, EventRetention{Count: 10, Age: time.Hour}, 0},
		{"defaults: 72h", []*pb.Event{ev(1, 73*time.Hour), ev(2, 71*time.Hour)}, EventRetention{}, 1},
		{"no events", nil, EventRetention{Count: 1, Age: time.Second}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := EventsToPrune(tc.events, tc.r, now)
			got := cmd.GetPruneEvents().GetThroughIndex()
			if (cmd == nil) != (tc.through == 0) || got != tc.through {
				t.Fatalf("pruned through index %d (command %v), want %d", got, cmd, tc.through)
			}
		})
	}
}
