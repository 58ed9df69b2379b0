package scheduler

import (
	"reflect"
	"testing"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"google.golang.org/protobuf/proto"
)

func exitRule(action, op string, codes ...int32) *pb.PodFailurePolicyRule {
	return &pb.PodFailurePolicyRule{Action: action, OnExitCodes: &pb.PodFailurePolicyOnExitCodesRequirement{Operator: op, Values: codes}}
}

func lostRule(action, typ string) *pb.PodFailurePolicyRule {
	return &pb.PodFailurePolicyRule{Action: action, OnPodConditions: []*pb.PodFailurePolicyOnPodConditionsPattern{{Type: typ, Status: "True"}}}
}

func TestJobPodFailurePolicy(t *testing.T) {
	type end struct {
		state string
		code  int32
	}
	tests := []struct {
		name  string
		rules []*pb.PodFailurePolicyRule
		limit int32
		ends  []end // what happens to attempt 1, 2, … in turn
		// after the last end:
		wantReason  string // Failed condition reason, "" = still running
		wantMessage string
		wantFailed  int32
		wantLost    int32
		wantBackoff bool // the replacement waits
	}{
		{
			name:  "FailJob on exit code",
			rules: []*pb.PodFailurePolicyRule{exitRule("Ignore", "In", 7), exitRule("FailJob", "In", 42)},
			limit: 6,
			ends:  []end{{pb.AttemptFailed, 1}, {pb.AttemptFailed, 42}},
			// the first failure counts (no rule matches exit 1)
			wantReason:  ReasonPodFailurePolicy,
			wantMessage: "attempt 2 of index 0 exited with code 42, matching FailJob rule 1",
			wantFailed:  1,
		},
		{
			name:       "Ignore is not counted and retries at once",
			rules:      []*pb.PodFailurePolicyRule{exitRule("Ignore", "In", 7)},
			limit:      0,
			ends:       []end{{pb.AttemptFailed, 7}, {pb.AttemptFailed, 7}},
			wantFailed: 0,
		},
		{
			name:        "Count is counted with backoff",
			rules:       []*pb.PodFailurePolicyRule{exitRule("Count", "In", 7)},
			limit:       1,
			ends:        []end{{pb.AttemptFailed, 7}},
			wantFailed:  1,
			wantBackoff: true,
		},
		{
			name:        "NotIn",
			rules:       []*pb.PodFailurePolicyRule{exitRule("FailJob", "NotIn", 1, 2)},
			limit:       6,
			ends:        []end{{pb.AttemptFailed, 2}, {pb.AttemptFailed, 3}},
			wantReason:  ReasonPodFailurePolicy,
			wantMessage: "attempt 2 of index 0 exited with code 3, matching FailJob rule 0",
			wantFailed:  1,
		},
		{
			name:       "lost attempts are replaced and not counted",
			limit:      0,
			ends:       []end{{pb.AttemptLost, 0}, {pb.AttemptLost, 0}},
			wantFailed: 0,
			wantLost:   2,
		},
		{
			name:        "WorkerLost Count",
			rules:       []*pb.PodFailurePolicyRule{lostRule("Count", "WorkerLost")},
			limit:       0,
			ends:        []end{{pb.AttemptLost, 0}},
			wantReason:  ReasonBackoffLimitExceeded,
			wantMessage: "Job has reached the specified backoff limit: 1 failed attempts, backoffLimit 0; last: attempt 1 of index 0 was lost with worker w1",
			wantFailed:  1,
		},
		{
			name:        "DisruptionTarget FailJob",
			rules:       []*pb.PodFailurePolicyRule{exitRule("Ignore", "In", 1), lostRule("FailJob", "DisruptionTarget")},
			limit:       6,
			ends:        []end{{pb.AttemptLost, 0}},
			wantReason:  ReasonPodFailurePolicy,
			wantMessage: "attempt 1 of index 0 was lost with worker w1, matching FailJob rule 1",
		},
		{
			name:     "WorkerLost Ignore keeps it a lost attempt",
			rules:    []*pb.PodFailurePolicyRule{lostRule("Ignore", "WorkerLost")},
			limit:    0,
			ends:     []end{{pb.AttemptLost, 0}},
			wantLost: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.addJob(testJob("pfp", func(s *pb.JobSpec) {
				s.BackoffLimit = proto.Int32(tc.limit)
				if tc.rules != nil {
					s.PodFailurePolicy = &pb.PodFailurePolicy{Rules: tc.rules}
				}
			}))
			workers := workersN(1, 1)
			now := t0
			w.reconcile(workers, now)
			var lastReplacement *pb.Attempt
			for i, e := range tc.ends {
				name := AttemptName("pfp", 0, int32(i+1))
				if e.state == pb.AttemptLost {
					w.apply(LostAttempts(w, map[string]time.Time{"w1": now}, now.Add(time.Minute), time.Minute))
					if a := w.attempt(name); a.State != pb.AttemptLost {
						t.Fatalf("%s not lost: %v", name, a)
					}
				} else {
					w.report(name, e.state, e.code, now)
				}
				now = now.Add(time.Minute)
				w.reconcile(workers, now)
				if w.job("pfp").Finished() {
					break
				}
				lastReplacement = w.attempt(AttemptName("pfp", 0, int32(i+2)))
				now = now.Add(time.Hour) // past any backoff
				w.reconcile(workers, now)
			}
			j := w.job("pfp")
			c := cond(j, pb.ConditionFailed)
			switch {
			case tc.wantReason == "" && c != nil:
				t.Fatalf("job failed: %v", c)
			case tc.wantReason != "" && (c == nil || c.Reason != tc.wantReason || c.Message != tc.wantMessage):
				t.Fatalf("condition %v\nwant reason %s message %q", c, tc.wantReason, tc.wantMessage)
			}
			if tc.wantReason != "" {
				// The result names the attempt the message names: the last one.
				last := w.attempt(AttemptName("pfp", 0, int32(len(tc.ends))))
				r := j.GetStatus().GetResult()
				if r.GetCondition() != pb.ConditionFailed || r.GetReason() != tc.wantReason || r.GetMessage() != tc.wantMessage ||
					r.GetAttempt() != last.GetName() || r.GetExitCode() != tc.ends[len(tc.ends)-1].code ||
					r.GetAttemptState() != tc.ends[len(tc.ends)-1].state || !proto.Equal(r.GetFinishTime(), c.GetLastTransitionTime()) {
					t.Errorf("result %v\nwant Failed %s by %s (exit %d)", r, tc.wantReason, last.GetName(), tc.ends[len(tc.ends)-1].code)
				}
			} else if j.GetStatus().GetResult() != nil {
				t.Errorf("an unfinished Job has a result: %v", j.GetStatus().GetResult())
			}
			if j.Status.Failed != tc.wantFailed || j.Status.Lost != tc.wantLost {
				t.Errorf("failed %d lost %d, want %d %d", j.Status.Failed, j.Status.Lost, tc.wantFailed, tc.wantLost)
			}
			if tc.wantReason == "" {
				if lastReplacement == nil {
					t.Fatal("no replacement attempt")
				}
				if got := lastReplacement.NotBefore != nil; got != tc.wantBackoff {
					t.Errorf("replacement backoff %v, want %v", lastReplacement.NotBefore, tc.wantBackoff)
				}
			}
		})
	}
}

func TestJobSuspendAndResume(t *testing.T) {
	w := newWorld(t)
	w.addJob(testJob("sus", func(s *pb.JobSpec) {
		s.Parallelism, s.Completions = proto.Int32(2), proto.Int32(2)
		s.ActiveDeadlineSeconds = proto.Int32(600)
		s.BackoffLimit = proto.Int32(0)
	}))
	workers := workersN(1, 1)
	_, _, pending := w.reconcile(workers, t0)
	// sus-0-1 runs, sus-1-1 waits for a slot.
	if pending[PendingKey("default", "sus-1-1")] != "the only matching worker w1 is full (1/1 slots used)" {
		t.Errorf("pending %v", pending)
	}
	w.report("sus-0-1", pb.AttemptRunning, 0, t0)

	setSuspend := func(b bool) {
		j := proto.Clone(w.job("sus")).(*pb.Job)
		j.Spec.Suspend = proto.Bool(b)
		w.jobs[wkey("default", "sus")] = j
	}
	setSuspend(true)
	at := t0.Add(time.Minute)
	cmds, next, _ := w.reconcile(workers, at)
	if got, want := kinds(cmds), []string{"kill:sus-0-1:Suspended", "kill:sus-1-1:Suspended", "status:sus"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("suspend: %v, want %v", got, want)
	}
	if !next.IsZero() {
		t.Errorf("suspended job wants a call at %v", next)
	}
	j := w.job("sus")
	c := cond(j, pb.ConditionSuspended)
	if c == nil || c.Status != "True" || !c.LastTransitionTime.AsTime().Equal(at) || j.Status.StartTime != nil || j.Status.Active != 1 {
		t.Fatalf("suspended status %v", j.Status)
	}
	// The worker stops it; being killed is not a failure, and no new attempt starts.
	w.report("sus-0-1", pb.AttemptFailed, 143, at.Add(time.Second))
	w.reconcile(workers, at.Add(2*time.Second))
	j = w.job("sus")
	if j.Status.Failed != 0 || j.Status.Active != 0 || j.Finished() {
		t.Fatalf("after the kill %v", j.Status)
	}
	if cmds, _, _ := w.reconcile(workers, at.Add(time.Hour)); len(cmds) != 0 {
		t.Errorf("idle suspended job: %v", kinds(cmds))
	}

	setSuspend(false)
	resumed := at.Add(2 * time.Hour) // long past the original deadline
	_, next, _ = w.reconcile(workers, resumed)
	j = w.job("sus")
	c = cond(j, pb.ConditionSuspended)
	if c == nil || c.Status != "False" || c.Reason != ReasonJobResumed || !c.LastTransitionTime.AsTime().Equal(resumed) {
		t.Errorf("resumed condition %v", c)
	}
	if j.Finished() || !j.Status.StartTime.AsTime().Equal(resumed) || !next.Equal(resumed.Add(10*time.Minute)) {
		t.Errorf("resumed status %v, next %v", j.Status, next)
	}
	if got := w.placed(); !reflect.DeepEqual(got, []string{"sus-0-2"}) {
		t.Errorf("placed after resume %v", got)
	}
	w.attempt("sus-1-2")
}

func TestJobWorkQueue(t *testing.T) {
	w := newWorld(t)
	w.addJob(testJob("queue", func(s *pb.JobSpec) { s.Parallelism = proto.Int32(3) }))
	workers := workersN(1, 5)
	w.reconcile(workers, t0)
	if got := w.placed(); len(got) != 3 {
		t.Fatalf("placed %v", got)
	}
	w.report("queue-1-1", pb.AttemptSucceeded, 0, t0.Add(time.Second))
	w.report("queue-2-1", pb.AttemptFailed, 1, t0.Add(time.Second))
	cmds, _, _ := w.reconcile(workers, t0.Add(time.Hour))
	// One succeeded: no new attempt, the others may finish their work.
	if got := kinds(cmds); !reflect.DeepEqual(got, []string{"status:queue"}) {
		t.Fatalf("after one success: %v", got)
	}
	if w.job("queue").Finished() {
		t.Fatal("finished while an attempt runs")
	}
	w.report("queue-0-1", pb.AttemptSucceeded, 0, t0.Add(2*time.Hour))
	w.reconcile(workers, t0.Add(2*time.Hour))
	j := w.job("queue")
	if c := cond(j, pb.ConditionComplete); c == nil || j.Status.Succeeded != 2 || j.Status.Failed != 1 {
		t.Errorf("status %v", j.Status)
	}
}

func TestJobParallelismChanges(t *testing.T) {
	w := newWorld(t)
	w.addJob(testJob("par", func(s *pb.JobSpec) { s.Parallelism, s.Completions = proto.Int32(3), proto.Int32(10) }))
	workers := workersN(1, 2)
	w.reconcile(workers, t0)
	w.runAll(t0)
	// par-0-1 and par-1-1 run, par-2-1 is Pending. Lower parallelism to 1:
	// the Pending one goes first, then the newest running one.
	j := proto.Clone(w.job("par")).(*pb.Job)
	j.Spec.Parallelism = proto.Int32(1)
	w.jobs[wkey("default", "par")] = j
	cmds, _, _ := w.reconcile(workers, t0.Add(time.Second))
	if got, want := kinds(cmds), []string{"kill:par-2-1:Killed", "kill:par-1-1:Killed", "status:par"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("scale down: %v, want %v", got, want)
	}
	if a := w.job("par").Status.Active; a != 2 {
		t.Errorf("active %d, want 2 (one still stopping)", a)
	}
	// Parallelism 0 pauses: the last one stops, nothing new starts.
	j = proto.Clone(w.job("par")).(*pb.Job)
	j.Spec.Parallelism = proto.Int32(0)
	w.jobs[wkey("default", "par")] = j
	w.reconcile(workers, t0.Add(2*time.Second))
	w.report("par-0-1", pb.AttemptFailed, 143, t0.Add(3*time.Second))
	w.report("par-1-1", pb.AttemptFailed, 143, t0.Add(3*time.Second))
	w.reconcile(workers, t0.Add(4*time.Second))
	if got := w.UnfinishedAttempts(); len(got) != 0 {
		t.Errorf("paused job still has %v", got)
	}
	if f := w.job("par").Status.Failed; f != 0 {
		t.Errorf("killed attempts counted as failures: %d", f)
	}
}

func TestFinishedJobKillsLeftoverAttempts(t *testing.T) {
	w := newWorld(t)
	w.addJob(testJob("done"))
	w.reconcile(workersN(1, 1), t0)
	// The cron controller replaces the Job (Failed, Replaced).
	j := proto.Clone(w.job("done")).(*pb.Job)
	setCondition(j.Status, pb.ConditionFailed, "True", "Replaced", "replaced by done2", nil)
	w.jobs[wkey("default", "done")] = j
	cmds, _, _ := w.reconcile(workersN(1, 1), t0.Add(time.Second))
	if got := kinds(cmds); !reflect.DeepEqual(got, []string{"kill:done-0-1:Killed"}) {
		t.Fatalf("%v", got)
	}
	rk := cmds[0].GetRequestKill()
	if rk.Message != "Job done failed (Replaced): replaced by done2" {
		t.Errorf("message %q", rk.Message)
	}
	if cmds, _, _ := w.reconcile(workersN(1, 1), t0.Add(2*time.Second)); len(cmds) != 0 {
		t.Errorf("killed twice: %v", kinds(cmds))
	}
}
