package scheduler

import (
	"reflect"
	"strings"
	"testing"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestJobCompletionsNeverExceedParallelism(t *testing.T) {
	w := newWorld(t)
	w.addJob(testJob("report", func(s *pb.JobSpec) {
		s.Completions, s.Parallelism = proto.Int32(5), proto.Int32(2)
	}))
	workers := workersN(1, 10)
	now := t0
	var lastStep time.Time
	for step := 0; step < 10 && !w.job("report").Finished(); step++ {
		lastStep = now
		w.reconcile(workers, now)
		placed := w.placed()
		if len(placed) > 2 {
			t.Fatalf("step %d: %d attempts placed, parallelism 2", step, len(placed))
		}
		now = now.Add(time.Second)
		for _, name := range placed {
			w.report(name, pb.AttemptSucceeded, 0, now)
		}
		now = now.Add(time.Second)
	}
	j := w.job("report")
	c := cond(j, pb.ConditionComplete)
	if c == nil || c.Status != "True" || c.Reason != ReasonCompletionsReached {
		t.Fatalf("Complete condition = %v", c)
	}
	// The result names the last success (report-0-3, the fifth).
	if r := j.Status.GetResult(); r.GetCondition() != pb.ConditionComplete || r.GetReason() != ReasonCompletionsReached ||
		r.GetAttempt() != "report-0-3" || r.GetAttemptState() != pb.AttemptSucceeded || r.GetExitCode() != 0 ||
		!r.GetStartTime().AsTime().Equal(t0) || !r.GetFinishTime().AsTime().Equal(lastStep) || r.GetWorker() == "" {
		t.Errorf("result %v", r)
	}
	if j.Status.Succeeded != 5 || j.Status.Active != 0 || j.Status.Failed != 0 {
		t.Errorf("counts succeeded=%d active=%d failed=%d, want 5 0 0", j.Status.Succeeded, j.Status.Active, j.Status.Failed)
	}
	if !j.Status.CompletionTime.AsTime().Equal(lastStep) {
		t.Errorf("completion_time %v, want %v", j.Status.CompletionTime.AsTime(), lastStep)
	}
	if !j.Status.StartTime.AsTime().Equal(t0) {
		t.Errorf("start_time %v, want %v", j.Status.StartTime.AsTime(), t0)
	}
	if n := len(w.Attempts("default", "report")); n != 5 {
		t.Errorf("%d attempts, want 5", n)
	}
	// NonIndexed slots: two slots (0 and 1), numbered per slot.
	for _, name := range []string{"report-0-1", "report-1-1", "report-0-2", "report-1-2", "report-0-3"} {
		w.attempt(name)
	}
	// Idle: nothing to write.
	if cmds, next, _ := w.reconcile(workers, now.Add(time.Hour)); len(cmds) != 0 || !next.IsZero() {
		t.Errorf("idle reconcile: %v, next %v", kinds(cmds), next)
	}
}

func TestJobFirstStepCreatesStartsAndAssignsInOneList(t *testing.T) {
	w := newWorld(t)
	w.addJob(testJob("one"))
	cmds, next, pending := w.reconcile(workersN(1, 1), t0)
	want := []string{"create:one-0-1", "status:one", "assign:one-0-1@w1"}
	if got := kinds(cmds); !reflect.DeepEqual(got, want) {
		t.Fatalf("commands %v, want %v", got, want)
	}
	if !next.IsZero() || len(pending) != 0 {
		t.Errorf("next %v pending %v", next, pending)
	}
	j := w.job("one")
	if j.Status.Active != 1 || !j.Status.StartTime.AsTime().Equal(t0) {
		t.Errorf("status %v", j.Status)
	}
	a := w.attempt("one-0-1")
	if a.Index != 0 || a.Number != 1 || a.State != pb.AttemptAssigned || !a.CreatedTime.AsTime().Equal(t0) {
		t.Errorf("attempt %v", a)
	}
	// Nothing changed: nothing written, even though time moved.
	if cmds, _, _ := w.reconcile(workersN(1, 1), t0.Add(time.Minute)); len(cmds) != 0 {
		t.Errorf("second reconcile wrote %v", kinds(cmds))
	}
	w.report("one-0-1", pb.AttemptRunning, 0, t0.Add(2*time.Minute))
	if cmds, _, _ := w.reconcile(workersN(1, 1), t0.Add(2*time.Minute)); len(cmds) != 0 {
		t.Errorf("reconcile after Running wrote %v", kinds(cmds))
	}
}

func TestJobIndexedEachIndexOnce(t *testing.T) {
	w := newWorld(t)
	w.addJob(testJob("idx", func(s *pb.JobSpec) {
		s.Completions, s.Parallelism, s.CompletionMode = proto.Int32(4), proto.Int32(3), "Indexed"
	}))
	workers := workersN(2, 5)
	w.reconcile(workers, t0)
	if got, want := w.placed(), []string{"idx-0-1", "idx-1-1", "idx-2-1"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("placed %v, want %v", got, want)
	}
	w.report("idx-0-1", pb.AttemptSucceeded, 0, t0.Add(time.Second))
	w.report("idx-2-1", pb.AttemptSucceeded, 0, t0.Add(time.Second))
	w.report("idx-1-1", pb.AttemptFailed, 1, t0.Add(time.Second))
	now := t0.Add(2 * time.Second)
	w.reconcile(workers, now)
	j := w.job("idx")
	if j.Status.CompletedIndexes != "0,2" || j.Status.Succeeded != 2 || j.Status.Failed != 1 {
		t.Errorf("completed %q succeeded %d failed %d", j.Status.CompletedIndexes, j.Status.Succeeded, j.Status.Failed)
	}
	// Index 1 retried (number 2, after backoff), index 3 started; 0 and 2 never again.
	w.attempt("idx-1-2")
	w.attempt("idx-3-1")
	if len(w.Attempts("default", "idx")) != 5 {
		t.Fatalf("attempts %v", w.Attempts("default", "idx"))
	}
	now = now.Add(10 * time.Second)
	w.reconcile(workers, now)
	for _, name := range w.placed() {
		w.report(name, pb.AttemptSucceeded, 0, now)
	}
	w.reconcile(workers, now.Add(time.Second))
	j = w.job("idx")
	if j.Status.CompletedIndexes != "0-3" || cond(j, pb.ConditionComplete) == nil || j.Status.Succeeded != 4 {
		t.Errorf("status %v", j.Status)
	}
	for idx := int32(0); idx < 4; idx++ {
		n := 0
		for _, a := range w.Attempts("default", "idx") {
			if a.Index == idx && a.State == pb.AttemptSucceeded {
				n++
			}
		}
		if n != 1 {
			t.Errorf("index %d succeeded %d times", idx, n)
		}
	}
}

func TestJobBackoffDelaysDoubleUpToTheCap(t *testing.T) {
	w := newWorld(t)
	w.addJob(testJob("flaky", func(s *pb.JobSpec) { s.BackoffLimit = proto.Int32(20) }))
	workers := workersN(1, 1)
	now := t0
	w.reconcile(workers, now)
	want := []time.Duration{10, 20, 40, 80, 160, 320, 600, 600}
	for i, d := range want {
		placed := w.placed()
		if len(placed) != 1 {
			t.Fatalf("failure %d: placed %v", i+1, placed)
		}
		failedAt := now.Add(3 * time.Second)
		w.report(placed[0], pb.AttemptFailed, 1, failedAt)
		now = failedAt.Add(time.Second)
		_, next, pending := w.reconcile(workers, now)
		retry := w.attempt(AttemptName("flaky", 0, int32(i+2)))
		wantNB := failedAt.Add(d * time.Second)
		if !retry.NotBefore.AsTime().Equal(wantNB) {
			t.Fatalf("failure %d: not_before %v, want failure + %ds", i+1, retry.NotBefore.AsTime(), d)
		}
		if !next.Equal(wantNB) {
			t.Errorf("failure %d: next %v, want %v", i+1, next, wantNB)
		}
		if got, want := pending[PendingKey("default", retry.Name)], "backoff until "+wantNB.Format("15:04:05"); got != want {
			t.Errorf("failure %d: pending %q, want %q", i+1, got, want)
		}
		// One second early: still waiting, nothing written.
		if cmds, _, _ := w.reconcile(workers, wantNB.Add(-time.Second)); len(cmds) != 0 {
			t.Fatalf("failure %d: before backoff ends: %v", i+1, kinds(cmds))
		}
		now = wantNB
		cmds, _, _ := w.reconcile(workers, now)
		if got := kinds(cmds); !reflect.DeepEqual(got, []string{"assign:" + retry.Name + "@w1"}) {
			t.Fatalf("failure %d: when backoff ends: %v", i+1, got)
		}
	}
	if f := w.job("flaky").Status.Failed; f != int32(len(want)) {
		t.Errorf("failed = %d, want %d", f, len(want))
	}
}

func TestJobBackoffLimitExceeded(t *testing.T) {
	w := newWorld(t)
	w.addJob(testJob("limited", func(s *pb.JobSpec) { s.BackoffLimit = proto.Int32(2) }))
	workers := workersN(1, 1)
	now := t0
	for i := 0; i < 3; i++ {
		w.reconcile(workers, now)
		now = now.Add(time.Hour) // past any backoff
		w.reconcile(workers, now)
		placed := w.placed()
		if len(placed) != 1 {
			t.Fatalf("round %d: placed %v", i, placed)
		}
		w.report(placed[0], pb.AttemptFailed, 3, now)
	}
	cmds, next, _ := w.reconcile(workers, now)
	if got := kinds(cmds); !reflect.DeepEqual(got, []string{"status:limited"}) {
		t.Errorf("final commands %v", got)
	}
	j := w.job("limited")
	c := cond(j, pb.ConditionFailed)
	if c == nil || c.Status != "True" || c.Reason != ReasonBackoffLimitExceeded {
		t.Fatalf("Failed condition = %v", c)
	}
	wantMsg := "Job has reached the specified backoff limit: 3 failed attempts, backoffLimit 2; last: attempt 3 of index 0 exited with code 3"
	if c.Message != wantMsg {
		t.Errorf("message %q\nwant    %q", c.Message, wantMsg)
	}
	if r := j.Status.GetResult(); r.GetReason() != ReasonBackoffLimitExceeded || r.GetAttempt() != "limited-0-3" ||
		r.GetExitCode() != 3 || r.GetAttemptState() != pb.AttemptFailed || r.GetMessage() != wantMsg {
		t.Errorf("result %v", r)
	}
	if j.Status.Failed != 3 || j.Status.Active != 0 || j.Status.CompletionTime != nil {
		t.Errorf("status %v", j.Status)
	}
	if !next.IsZero() || len(w.Attempts("default", "limited")) != 3 {
		t.Errorf("next %v, attempts %d", next, len(w.Attempts("default", "limited")))
	}
	if cmds, _, _ := w.reconcile(workers, now.Add(time.Hour)); len(cmds) != 0 {
		t.Errorf("finished job: %v", kinds(cmds))
	}
}

func TestJobOnFailurePinsRetryToTheWorker(t *testing.T) {
	w := newWorld(t)
	w.addJob(testJob("pin", func(s *pb.JobSpec) { s.Template.Spec.RestartPolicy = "OnFailure" }))
	workers := workersN(2, 2)
	w.reconcile(workers, t0)
	// Spread picks w1 (both empty, lower id). Put load on w2 so that
	// spreading alone would choose w1 again.
	if a := w.attempt("pin-0-1"); a.Worker != "w1" {
		t.Fatalf("first attempt on %s", a.Worker)
	}
	w.addJob(testJob("other"))
	w.reconcile(workers, t0)
	if a := w.attempt("other-0-1"); a.Worker != "w2" {
		t.Fatalf("other on %s, want w2 (least loaded)", a.Worker)
	}
	w.report("pin-0-1", pb.AttemptFailed, 1, t0.Add(time.Second))
	w.reconcile(workers, t0.Add(2*time.Second))
	retry := w.attempt("pin-0-2")
	if retry.PinnedWorker != "w1" {
		t.Fatalf("retry pinned to %q, want w1", retry.PinnedWorker)
	}
	// Fill w1 so the pinned retry must wait although w2 has room.
	w.addJob(testJob("fill1"))
	w.addJob(testJob("fill2"))
	w.reconcile([]WorkerInfo{workers[0]}, t0.Add(3*time.Second)) // only w1 visible: fill1 and fill2 take both its slots
	_, _, pending := w.reconcile(workers, t0.Add(11*time.Second))
	if w.attempt("pin-0-2").State != pb.AttemptPending {
		t.Fatalf("pinned retry placed while w1 is full: %v", w.attempt("pin-0-2"))
	}
	if got := pending[PendingKey("default", "pin-0-2")]; !strings.Contains(got, "waiting for a free slot on worker w1 (2/2 used)") {
		t.Errorf("pending reason %q", got)
	}
	w.report("fill1-0-1", pb.AttemptSucceeded, 0, t0.Add(12*time.Second))
	w.reconcile(workers, t0.Add(13*time.Second))
	if a := w.attempt("pin-0-2"); a.Worker != "w1" {
		t.Errorf("pinned retry on %q, want w1", a.Worker)
	}

	// The failed attempt's worker is gone: the retry is not pinned.
	w2 := newWorld(t)
	w2.addJob(testJob("pin", func(s *pb.JobSpec) { s.Template.Spec.RestartPolicy = "OnFailure" }))
	w2.reconcile(workers, t0)
	w2.report("pin-0-1", pb.AttemptFailed, 1, t0.Add(time.Second))
	w2.reconcile(workers[1:], t0.Add(20*time.Second))
	if a := w2.attempt("pin-0-2"); a.PinnedWorker != "" || a.Worker != "w2" {
		t.Errorf("retry pinned %q on %q, want unpinned on w2", a.PinnedWorker, a.Worker)
	}
}

func TestJobRestartPolicyNeverRetriesAnywhere(t *testing.T) {
	w := newWorld(t)
	w.addJob(testJob("never"))
	workers := workersN(2, 1)
	w.reconcile(workers, t0)
	w.report("never-0-1", pb.AttemptFailed, 1, t0)
	w.reconcile(workers, t0.Add(time.Minute))
	if a := w.attempt("never-0-2"); a.PinnedWorker != "" || a.State != pb.AttemptAssigned {
		t.Errorf("retry %v", a)
	}
}

func TestJobDeadline(t *testing.T) {
	w := newWorld(t)
	w.addJob(testJob("slow", func(s *pb.JobSpec) {
		s.ActiveDeadlineSeconds = proto.Int32(60)
		s.BackoffLimit = proto.Int32(0)
	}))
	workers := workersN(1, 1)
	_, next, _ := w.reconcile(workers, t0)
	if !next.Equal(t0.Add(time.Minute)) {
		t.Errorf("next %v, want the deadline %v", next, t0.Add(time.Minute))
	}
	w.report("slow-0-1", pb.AttemptRunning, 0, t0.Add(time.Second))
	if cmds, next, _ := w.reconcile(workers, t0.Add(59*time.Second)); len(cmds) != 0 || !next.Equal(t0.Add(time.Minute)) {
		t.Errorf("before the deadline: %v next %v", kinds(cmds), next)
	}
	cmds, next, _ := w.reconcile(workers, t0.Add(time.Minute))
	if got, want := kinds(cmds), []string{"kill:slow-0-1:DeadlineExceeded", "status:slow"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("at the deadline: %v, want %v", got, want)
	}
	if !next.IsZero() {
		t.Errorf("next %v", next)
	}
	c := cond(w.job("slow"), pb.ConditionFailed)
	if c == nil || c.Reason != ReasonDeadlineExceeded || c.Message != "Job was active longer than its activeDeadlineSeconds (60s)" {
		t.Fatalf("condition %v", c)
	}
	// The worker reports the kill: nothing more happens.
	w.report("slow-0-1", pb.AttemptFailed, 137, t0.Add(61*time.Second))
	if cmds, _, _ := w.reconcile(workers, t0.Add(62*time.Second)); len(cmds) != 0 {
		t.Errorf("after the kill: %v", kinds(cmds))
	}
}

// A cron Job decided ahead of its tick (created before its scheduled time;
// its runs are held until then) starts at the tick: activeDeadlineSeconds
// counts from there, not from the early dispatch.
func TestJobDecidedAheadStartsAtItsTick(t *testing.T) {
	w := newWorld(t)
	tick := t0.Add(5 * time.Second)
	job := testJob("ahead", func(s *pb.JobSpec) { s.ActiveDeadlineSeconds = proto.Int32(3) })
	job.Metadata.CreationTimestamp = timestamppb.New(t0)
	job.Status = &pb.JobStatus{CronJob: "c", ScheduledTime: timestamppb.New(tick)}
	w.addJob(job)
	workers := workersN(1, 1)
	_, next, _ := w.reconcile(workers, t0)
	if got := w.job("ahead").GetStatus().GetStartTime().AsTime(); !got.Equal(tick) {
		t.Errorf("status.startTime %v, want the tick %v", got, tick)
	}
	if want := tick.Add(3 * time.Second); !next.Equal(want) {
		t.Errorf("next %v, want the deadline counted from the tick, %v", next, want)
	}
	if rs := RunSpecFor(w.job("ahead"), w.attempt("ahead-0-1")); !rs.GetStartAt().AsTime().Equal(tick) || !rs.GetDeadline().AsTime().Equal(tick.Add(3*time.Second)) {
		t.Errorf("run spec start_at %v deadline %v, want the tick and 3s after it", rs.GetStartAt().AsTime(), rs.GetDeadline().AsTime())
	}
	// Before tick + 3s nothing is killed.
	if cmds, _, _ := w.reconcile(workers, tick.Add(2*time.Second)); len(cmds) != 0 {
		t.Errorf("before the deadline: %v", kinds(cmds))
	}
}

func TestJobDeadlineWinsOverBackoffLimit(t *testing.T) {
	w := newWorld(t)
	w.addJob(testJob("both", func(s *pb.JobSpec) {
		s.ActiveDeadlineSeconds = proto.Int32(30)
		s.BackoffLimit = proto.Int32(0)
	}))
	workers := workersN(1, 1)
	w.reconcile(workers, t0)
	// The attempt fails (backoffLimit 0 exceeded) and the deadline passes
	// before the controller looks again.
	w.report("both-0-1", pb.AttemptFailed, 1, t0.Add(29*time.Second))
	w.reconcile(workers, t0.Add(30*time.Second))
	if c := cond(w.job("both"), pb.ConditionFailed); c == nil || c.Reason != ReasonDeadlineExceeded {
		t.Fatalf("condition %v, want DeadlineExceeded", c)
	}
}

func TestJobDeadlineEnforcedByTheWorker(t *testing.T) {
	w := newWorld(t)
	w.addJob(testJob("wd", func(s *pb.JobSpec) { s.ActiveDeadlineSeconds = proto.Int32(30) }))
	workers := workersN(1, 1)
	w.reconcile(workers, t0)
	// The worker's clock runs a little ahead: it kills at its deadline and
	// reports before the leader's clock reaches it. No retry is made.
	w.mutateAttempt("wd-0-1", func(a *pb.Attempt) {
		a.State, a.Reason, a.ExitCode, a.FinishTime = pb.AttemptFailed, ReasonDeadlineExceeded, 137, timestamppb.New(t0.Add(29*time.Second))
	})
	w.reconcile(workers, t0.Add(29*time.Second))
	if c := cond(w.job("wd"), pb.ConditionFailed); c == nil || c.Reason != ReasonDeadlineExceeded {
		t.Fatalf("condition %v", c)
	}
	if r := w.job("wd").GetStatus().GetResult(); r.GetAttempt() != "wd-0-1" || r.GetExitCode() != 137 || r.GetAttemptReason() != ReasonDeadlineExceeded {
		t.Errorf("result %v, want the attempt the worker stopped", r)
	}
	if n := len(w.Attempts("default", "wd")); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
}

func TestFormatIndexes(t *testing.T) {
	tests := []struct {
		in   []int32
		want string
	}{
		{nil, ""},
		{[]int32{0}, "0"},
		{[]int32{0, 1, 2, 5}, "0-2,5"},
		{[]int32{7, 3, 4, 1}, "1,3-4,7"},
		{[]int32{0, 2, 4}, "0,2,4"},
	}
	for _, tc := range tests {
		set := map[int32]bool{}
		for _, i := range tc.in {
			set[i] = true
		}
		if got := formatIndexes(set); got != tc.want {
			t.Errorf("formatIndexes(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDescribeAttempt(t *testing.T) {
	tests := []struct {
		a    *pb.Attempt
		want string
	}{
		{&pb.Attempt{Number: 3, Index: 2, State: pb.AttemptFailed, ExitCode: 42, Reason: "Error"}, "attempt 3 of index 2 exited with code 42"},
		{&pb.Attempt{Number: 1, State: pb.AttemptFailed, ExitCode: 137, Reason: "OOMKilled"}, "attempt 1 of index 0 exited with code 137 (OOMKilled)"},
		{&pb.Attempt{Number: 1, State: pb.AttemptFailed, Reason: "Rejected", Message: "privileged containers are not allowed"},
			"attempt 1 of index 0 failed: Rejected: privileged containers are not allowed"},
		{&pb.Attempt{Number: 2, State: pb.AttemptLost}, "attempt 2 of index 0 was lost with its worker"},
		{&pb.Attempt{Number: 1, State: pb.AttemptFailed, ExitCode: -1, Reason: "Error", Message: `pull image "nope:1": pull access denied`},
			`attempt 1 of index 0 never started: pull image "nope:1": pull access denied`},
	}
	for _, tc := range tests {
		if got := describeAttempt(tc.a); got != tc.want {
			t.Errorf("describeAttempt = %q, want %q", got, tc.want)
		}
	}
}

func TestOrphanAttemptIsKilled(t *testing.T) {
	w := newWorld(t)
	w.attempts[wkey("default", "gone-0-1")] = &pb.Attempt{Namespace: "default", Job: "gone", Name: "gone-0-1",
		State: pb.AttemptRunning, Worker: "w1", CreatedTime: timestamppb.New(t0)}
	cmds, _, _ := ReconcileJobs(w, workersN(1, 1), t0, JobOptions{})
	if got := kinds(cmds); !reflect.DeepEqual(got, []string{"kill:gone-0-1:Killed"}) {
		t.Fatalf("%v", got)
	}
	if m := cmds[0].GetRequestKill().Message; !strings.Contains(m, "no longer exists") {
		t.Errorf("message %q", m)
	}
}

func TestJobSuspendedAtCreationNeverStarts(t *testing.T) {
	w := newWorld(t)
	w.addJob(testJob("held", func(s *pb.JobSpec) { s.Suspend = proto.Bool(true) }))
	cmds, next, _ := w.reconcile(workersN(1, 1), t0)
	if got := kinds(cmds); !reflect.DeepEqual(got, []string{"status:held"}) || !next.IsZero() {
		t.Fatalf("%v next %v", got, next)
	}
	j := w.job("held")
	if c := cond(j, pb.ConditionSuspended); c == nil || c.Status != "True" || c.Reason != ReasonJobSuspended || j.Status.StartTime != nil {
		t.Errorf("status %v", j.Status)
	}
	if len(w.attempts) != 0 {
		t.Errorf("attempts %v", w.attempts)
	}
}
