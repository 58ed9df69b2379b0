package raft_test

import (
	"strings"
	"testing"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

func describeEvents(evs []*pb.Event) string {
	var b strings.Builder
	for _, e := range evs {
		b.WriteString(e.GetTime().AsTime().Format("15:04:05") + " " + e.GetType() + " " + e.GetReason() + " " + e.GetKind() + "/" + e.GetName() + ": " + e.GetMessage() + "\n")
	}
	return b.String()
}

// TestEventsTellARunsStory drives one CronJob tick through a failed attempt,
// a retry, a lost worker and a deadline, and reads the events a user sees.
func TestEventsTellARunsStory(t *testing.T) {
	h := newHarness(t)
	h.mustApply(applyRes(0, []*pb.CronJob{cronJob("default", "nightly", "0 3 * * *")}, nil))
	h.mustApply(updateCronStatus("default", "nightly", nil, nil, &pb.ScheduleDecision{
		ScheduledTime: ts(time.Minute), DecidedTime: ts(time.Minute + time.Second), Decision: pb.DecisionSkip,
		Reason: "ConcurrencyPolicy", Message: "job nightly-0 is still running", Job: "nightly-0"}))
	h.mustApply(createJobs(cronJobRun("default", "nightly", "nightly-1", 2*time.Minute)))
	h.mustApply(createAttempts(attempt("default", "nightly-1", 0, 1)))
	h.mustApply(assign("default", "nightly-1-0-1", "w1", 2*time.Minute+time.Second))
	inc := h.state().Attempt("default", "nightly-1-0-1").GetIncarnation()
	h.mustApply(report(&pb.ReportAttempt{Namespace: "default", Name: "nightly-1-0-1", Worker: "w1", Incarnation: inc,
		State: pb.AttemptRunning, StartTime: ts(2*time.Minute + 2*time.Second)}))
	h.mustApply(report(&pb.ReportAttempt{Namespace: "default", Name: "nightly-1-0-1", Worker: "w1", Incarnation: inc,
		State: pb.AttemptFailed, ExitCode: 3, Reason: "Error", StartTime: ts(2*time.Minute + 2*time.Second), FinishTime: ts(3 * time.Minute)}))
	retry := attempt("default", "nightly-1", 0, 2)
	retry.CreatedTime = ts(3 * time.Minute)
	retry.NotBefore = ts(3*time.Minute + 10*time.Second)
	h.mustApply(createAttempts(retry))
	h.mustApply(assign("default", "nightly-1-0-2", "w2", 4*time.Minute))
	h.mustApply(markLost("default", "nightly-1-0-2", 5*time.Minute))
	third := attempt("default", "nightly-1", 0, 3)
	third.CreatedTime = ts(5 * time.Minute)
	h.mustApply(createAttempts(third))
	h.mustApply(assign("default", "nightly-1-0-3", "w1", 5*time.Minute))
	inc = h.state().Attempt("default", "nightly-1-0-3").GetIncarnation()
	h.mustApply(report(&pb.ReportAttempt{Namespace: "default", Name: "nightly-1-0-3", Worker: "w1", Incarnation: inc,
		State: pb.AttemptFailed, ExitCode: -1, Reason: "ImagePullFailed", Message: "pull access denied for nope", FinishTime: ts(5*time.Minute + time.Second)}))
	h.mustApply(requestKill("default", "nightly-1-0-3", "DeadlineExceeded", 6*time.Minute))
	h.mustApply(putJobStatus("default", "nightly-1", &pb.JobStatus{Failed: 2, Conditions: []*pb.JobCondition{{
		Type: pb.ConditionFailed, Status: pb.ConditionTrue, Reason: "DeadlineExceeded", Message: "Job was active longer than specified deadline",
		LastTransitionTime: ts(6 * time.Minute)}}}))
	h.mustApply(setSuspend(pb.KindCronJob, "default", "nightly", true))
	h.mustApply(applyRes(7*time.Minute, nil, []*pb.Job{plainJob("other", "adhoc")}))

	got := describeEvents(h.state().Events("default", "nightly", ""))
	want := `11:01:01 Warning Skipped CronJob/nightly: Skipped the tick at 2026-05-19T11:01:00Z: ConcurrencyPolicy: job nightly-0 is still running
11:02:00 Normal Created CronJob/nightly: Created job nightly-1 for the tick at 2026-05-19T11:02:00Z
11:02:01 Normal Assigned Attempt/nightly-1-0-1: Assigned attempt nightly-1-0-1 to worker w1
11:02:02 Normal Started Attempt/nightly-1-0-1: Started attempt nightly-1-0-1 on worker w1
11:03:00 Warning Exited Attempt/nightly-1-0-1: Attempt nightly-1-0-1 exited with code 3 (Error)
11:03:00 Normal RetryScheduled Attempt/nightly-1-0-2: Retry 2 of index 0 scheduled at 2026-05-19T11:03:10Z
11:04:00 Normal Assigned Attempt/nightly-1-0-2: Assigned attempt nightly-1-0-2 to worker w2
11:05:00 Warning WorkerLost Attempt/nightly-1-0-2: Attempt nightly-1-0-2 on worker w2 was lost (WorkerLost): lease expired
11:05:00 Normal RetryScheduled Attempt/nightly-1-0-3: Retry 3 of index 0 scheduled now
11:05:00 Normal Assigned Attempt/nightly-1-0-3: Assigned attempt nightly-1-0-3 to worker w1
11:05:01 Warning NeverStarted Attempt/nightly-1-0-3: Attempt nightly-1-0-3 never started on worker w1: ImagePullFailed: pull access denied for nope
11:06:00 Warning DeadlineExceeded Job/nightly-1: Job nightly-1 failed: DeadlineExceeded (Job was active longer than specified deadline)
11:00:00 Normal Suspended CronJob/nightly: Suspended cronjob nightly
`
	if got != want {
		t.Fatalf("events for cronjob/nightly:\n%s\nwant:\n%s", got, want)
	}
	if got := describeEvents(h.state().Events("", "", "nightly-1")); strings.Contains(got, "Skipped") || !strings.Contains(got, "NeverStarted") {
		t.Fatalf("events for job/nightly-1:\n%s", got)
	}
	if got := describeEvents(h.state().Events("other", "", "")); got != "11:07:00 Normal Created Job/adhoc: Created job adhoc\n" {
		t.Fatalf("events in namespace other:\n%s", got)
	}
	// Events are watched like objects.
	evs, _, err := h.state().WatchChanges(0)
	if err != nil || len(onlyKinds(evs, pb.KindEvent)) != len(h.state().Events("", "", "")) {
		t.Fatalf("watch carries %d events, table has %d (err %v)", len(onlyKinds(evs, pb.KindEvent)), len(h.state().Events("", "", "")), err)
	}
}

func TestEventsPruneAndSurviveSnapshots(t *testing.T) {
	h := newHarness(t)
	for i := 0; i < 5; i++ {
		h.mustApply(applyRes(time.Duration(i)*time.Minute, nil, []*pb.Job{plainJob("default", "j"+itoa(int32(i)))}))
	}
	all := h.state().Events("", "", "")
	if len(all) != 5 {
		t.Fatalf("%d events, want 5", len(all))
	}
	h.mustApply(&pb.Command{Op: &pb.Command_PruneEvents{PruneEvents: &pb.PruneEvents{ThroughIndex: all[1].GetIndex(), ThroughSeq: all[1].GetSeq()}}})
	left := h.state().Events("", "", "")
	if len(left) != 3 || left[0].GetName() != "j2" {
		t.Fatalf("after pruning through the second event: %s", describeEvents(left))
	}
	snap, err := h.fsm.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	other := newHarness(t)
	if err := other.fsm.Restore(sink.Reader()); err != nil {
		t.Fatal(err)
	}
	if got, want := describeEvents(other.state().Events("", "", "")), describeEvents(left); got != want {
		t.Fatalf("restored events:\n%s\nwant:\n%s", got, want)
	}
}
