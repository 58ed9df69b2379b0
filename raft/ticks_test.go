package raft_test

import (
	"strings"
	"testing"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// Issue 10 (8): a tick whose Job name is held by another object is recorded
// as a skip JobNameTaken, not as an invoke that never ran.
func TestTickWhoseJobNameIsTakenIsASkip(t *testing.T) {
	h := newHarness(t)
	h.mustApply(applyRes(0, []*pb.CronJob{cronJob("ns", "c", "* * * * *"), cronJob("ns", "other", "* * * * *")}, []*pb.Job{plainJob("ns", "c-1")}))
	h.mustApply(createJobs(cronJobRun("ns", "other", "c-2", 2*time.Minute), cronJobRun("ns", "c", "c-3", 3*time.Minute)))

	invoke := func(job string, at time.Duration) *pb.ScheduleDecision {
		return &pb.ScheduleDecision{ScheduledTime: ts(at), Decision: pb.DecisionInvoke, Reason: "Scheduled", Job: job, Count: 1}
	}
	for _, c := range []struct {
		job     string
		at      time.Duration
		want    string
		message string
	}{
		{"c-1", time.Minute, pb.DecisionSkip, "job c-1 already exists (applied directly)"},
		{"c-2", 2 * time.Minute, pb.DecisionSkip, "job c-2 already exists (made by cronjob other for 2026-05-19T11:02:00Z)"},
		{"c-3", 4 * time.Minute, pb.DecisionSkip, "made by cronjob c for 2026-05-19T11:03:00Z"}, // same owner, another tick
		{"c-3", 3 * time.Minute, pb.DecisionInvoke, ""},                                         // the tick's own Job
	} {
		r := h.mustApply(updateCronStatus("ns", "c", ts(c.at), nil, invoke(c.job, c.at)))
		got := h.state().CronJob("ns", "c").GetStatus().GetDecisions()
		d := got[len(got)-1]
		if d.GetDecision() != c.want || !strings.Contains(d.GetMessage(), c.message) {
			t.Errorf("tick %s at +%v recorded as %s/%s %q, want %s %q", c.job, c.at, d.GetDecision(), d.GetReason(), d.GetMessage(), c.want, c.message)
		}
		if c.want == pb.DecisionSkip && d.GetReason() != pb.SkipJobNameTaken {
			t.Errorf("tick %s: reason %q, want %s", c.job, d.GetReason(), pb.SkipJobNameTaken)
		}
		if len(r.GetDecisions()) != 1 || r.GetDecisions()[0].GetDecision() != c.want {
			t.Errorf("result decisions = %v, want the recorded one (metrics count from it)", r.GetDecisions())
		}
	}
}

// lastScheduleTime only moves forward, unless the leader rewinds a time that
// a jumping clock put ahead of it.
func TestLastScheduleTimeRewindsOnlyWhenAsked(t *testing.T) {
	h := newHarness(t)
	h.mustApply(applyRes(0, []*pb.CronJob{cronJob("ns", "c", "* * * * *")}, nil))
	h.mustApply(updateCronStatus("ns", "c", ts(365*24*time.Hour), nil))
	h.mustApply(updateCronStatus("ns", "c", ts(time.Minute), nil))
	if got := h.state().CronJob("ns", "c").GetStatus().GetLastScheduleTime().AsTime(); !got.Equal(t0.Add(365 * 24 * time.Hour)) {
		t.Fatalf("lastScheduleTime moved back without a rewind: %v", got)
	}
	rewind := updateCronStatus("ns", "c", ts(time.Minute), nil)
	rewind.GetUpdateCronJobStatus().RewindLastScheduleTime = true
	h.mustApply(rewind)
	if got := h.state().CronJob("ns", "c").GetStatus().GetLastScheduleTime().AsTime(); !got.Equal(t0.Add(time.Minute)) {
		t.Fatalf("lastScheduleTime after a rewind = %v, want %v", got, t0.Add(time.Minute))
	}
}
