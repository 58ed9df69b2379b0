package scheduler

import (
	"reflect"
	"testing"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// finishedJob adds a finished Job of a CronJob (cron "" for none) whose
// tick was at minute m and which ended at end.
func (w *world) finishedJob(name, cron string, m int, typ string, end time.Time, ttl *int32) {
	j := w.addJob(testJob(name, func(s *pb.JobSpec) { s.TtlSecondsAfterFinished = ttl }))
	j.Status = &pb.JobStatus{CronJob: cron, ScheduledTime: timestamppb.New(t0.Add(time.Duration(m) * time.Minute))}
	setCondition(j.Status, typ, "True", "x", "", timestamppb.New(end))
	if typ == pb.ConditionComplete {
		j.Status.CompletionTime = timestamppb.New(end)
	}
}

func TestCollectGarbageHistoryLimits(t *testing.T) {
	w := newWorld(t)
	cj := w.addCronJob("c", "Allow")
	cj.Spec.SuccessfulJobsHistoryLimit, cj.Spec.FailedJobsHistoryLimit = proto.Int32(2), proto.Int32(1)
	end := t0.Add(time.Hour)
	// Oldest first by scheduled time: ok1 ok2 bad1 ok3 bad2 ok4 bad3 run.
	w.finishedJob("c-5", "c", 5, pb.ConditionComplete, end, nil)
	w.finishedJob("c-1", "c", 1, pb.ConditionComplete, end, nil)
	w.finishedJob("c-2", "c", 2, pb.ConditionComplete, end, nil)
	w.finishedJob("c-3", "c", 3, pb.ConditionFailed, end, nil)
	w.finishedJob("c-4", "c", 4, pb.ConditionFailed, end, nil)
	w.finishedJob("c-6", "c", 6, pb.ConditionFailed, end, nil)
	running := w.addJob(testJob("c-7"))
	running.Status = &pb.JobStatus{CronJob: "c", ScheduledTime: timestamppb.New(t0.Add(7 * time.Minute))}
	// Another CronJob with the Kubernetes defaults (3 and 1): nothing to delete.
	w.addCronJob("d", "Allow")
	w.finishedJob("d-1", "d", 1, pb.ConditionComplete, end, nil)
	w.finishedJob("d-2", "d", 2, pb.ConditionFailed, end, nil)
	// A plain Job without TTL is kept forever.
	w.finishedJob("plain", "", 0, pb.ConditionComplete, end, nil)

	cmds, next := CollectGarbage(w, end.Add(time.Minute))
	want := []string{"delete:c-1", "delete:c-3", "delete:c-4"}
	if got := kinds(cmds); !reflect.DeepEqual(got, want) {
		t.Fatalf("deleted %v, want %v", got, want)
	}
	if !next.IsZero() {
		t.Errorf("next %v", next)
	}
	w.apply(cmds)
	if cmds, _ := CollectGarbage(w, end.Add(time.Hour)); len(cmds) != 0 {
		t.Errorf("second pass: %v", kinds(cmds))
	}
}

func TestCollectGarbageTTL(t *testing.T) {
	w := newWorld(t)
	end := t0.Add(time.Hour)
	w.finishedJob("now", "", 0, pb.ConditionComplete, end, proto.Int32(0))
	w.finishedJob("ten", "", 0, pb.ConditionFailed, end, proto.Int32(10))
	w.finishedJob("hundred", "", 0, pb.ConditionComplete, end, proto.Int32(100))
	w.finishedJob("keep", "", 0, pb.ConditionComplete, end, nil)
	tests := []struct {
		at   time.Duration
		want []string
		next time.Duration
	}{
		{0, []string{"delete:now"}, 10 * time.Second},
		{9 * time.Second, nil, 10 * time.Second},
		{10 * time.Second, []string{"delete:ten"}, 100 * time.Second},
		{100 * time.Second, []string{"delete:hundred"}, 0},
	}
	for _, tc := range tests {
		cmds, next := CollectGarbage(w, end.Add(tc.at))
		if got := kinds(cmds); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("at +%s: %v, want %v", tc.at, got, tc.want)
		}
		wantNext := time.Time{}
		if tc.next != 0 {
			wantNext = end.Add(tc.next)
		}
		if !next.Equal(wantNext) {
			t.Errorf("at +%s: next %v, want %v", tc.at, next, wantNext)
		}
		w.apply(cmds)
	}
	if w.Job("default", "keep") == nil {
		t.Error("Job without ttl deleted")
	}
}

func TestCollectGarbageWaitsForAttemptsToEnd(t *testing.T) {
	w := newWorld(t)
	cj := w.addCronJob("c", "Replace")
	cj.Spec.FailedJobsHistoryLimit = proto.Int32(0)
	w.finishedJob("c-1", "c", 1, pb.ConditionFailed, t0, proto.Int32(0))
	w.attempts[wkey("default", "c-1-0-1")] = &pb.Attempt{Namespace: "default", Job: "c-1", Name: "c-1-0-1",
		State: pb.AttemptRunning, Worker: "w1", KillRequested: true}
	if cmds, _ := CollectGarbage(w, t0.Add(time.Hour)); len(cmds) != 0 {
		t.Fatalf("deleted a Job whose attempt still runs: %v", kinds(cmds))
	}
	w.report("c-1-0-1", pb.AttemptFailed, 143, t0.Add(time.Hour))
	if got := kinds(mustGC(w, t0.Add(time.Hour))); !reflect.DeepEqual(got, []string{"delete:c-1"}) {
		t.Errorf("after the attempt ended: %v", got)
	}
}

func mustGC(w *world, now time.Time) []*pb.Command {
	cmds, _ := CollectGarbage(w, now)
	return cmds
}
