package scheduler

import (
	"fmt"
	"math/rand"
	"testing"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"google.golang.org/protobuf/proto"
)

// TestJobRandomLives drives many random Jobs through random worker outcomes
// and checks what must hold whatever happens: the fake FSM accepts every
// command, no Job runs more than parallelism live attempts and no worker more
// than its slots (checked by reconcile), an Indexed index succeeds at most
// once, a second reconcile with nothing changed writes nothing, and every Job
// ends.
func TestJobRandomLives(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for round := 0; round < 200; round++ {
		w := newWorld(t)
		name := fmt.Sprintf("r%d", round)
		indexed := rng.Intn(2) == 0
		w.addJob(testJob(name, func(s *pb.JobSpec) {
			s.Parallelism = proto.Int32(int32(rng.Intn(4) + 1))
			switch {
			case indexed:
				s.CompletionMode = "Indexed"
				s.Completions = proto.Int32(int32(rng.Intn(5) + 1))
			case rng.Intn(3) > 0:
				s.Completions = proto.Int32(int32(rng.Intn(6) + 1))
			}
			s.BackoffLimit = proto.Int32(int32(rng.Intn(4)))
			if rng.Intn(2) == 0 {
				s.Template.Spec.RestartPolicy = "OnFailure"
			}
			if rng.Intn(3) == 0 {
				s.ActiveDeadlineSeconds = proto.Int32(int32(rng.Intn(3000) + 60))
			}
			if rng.Intn(3) == 0 {
				s.PodFailurePolicy = &pb.PodFailurePolicy{Rules: []*pb.PodFailurePolicyRule{
					exitRule("Ignore", "In", 2), exitRule("FailJob", "In", 9), lostRule("Count", "WorkerLost"),
				}}
			}
		}))
		workers := workersN(rng.Intn(3)+1, rng.Intn(3)+1)
		now := t0
		for step := 0; step < 400 && !w.job(name).Finished(); step++ {
			w.reconcile(workers, now)
			if cmds, _, _ := ReconcileJobs(w, workers, now, JobOptions{}); len(cmds) != 0 {
				t.Fatalf("round %d step %d: second reconcile wrote %v", round, step, kinds(cmds))
			}
			for _, a := range w.UnfinishedAttempts() {
				if a = w.attempt(a.Name); a.State == pb.AttemptPending || !a.Unfinished() {
					continue // Pending, or lost with another attempt of its worker
				}
				switch r := rng.Intn(10); {
				case r < 2 && a.State == pb.AttemptAssigned:
					w.report(a.Name, pb.AttemptRunning, 0, now)
				case r < 5:
					w.report(a.Name, pb.AttemptSucceeded, 0, now)
				case r < 8:
					w.report(a.Name, pb.AttemptFailed, int32([]int{1, 2, 9}[rng.Intn(3)]), now)
				case r < 9:
					w.apply(LostAttempts(w, map[string]time.Time{a.Worker: now.Add(-time.Minute)}, now, time.Minute))
				}
			}
			now = now.Add(time.Duration(rng.Intn(120)+1) * time.Second)
		}
		// Let the attempts of a finished Job end, as their workers would.
		for _, a := range w.UnfinishedAttempts() {
			if a.State != pb.AttemptPending {
				w.report(a.Name, pb.AttemptFailed, 143, now)
			}
		}
		w.reconcile(workers, now)
		j := w.job(name)
		if !j.Finished() {
			t.Fatalf("round %d: job never finished: %v", round, j.Status)
		}
		if len(w.UnfinishedAttempts()) != 0 {
			t.Fatalf("round %d: finished job left %v", round, w.UnfinishedAttempts())
		}
		if cmds, _, _ := w.reconcile(workers, now.Add(time.Hour)); len(cmds) != 0 {
			t.Fatalf("round %d: finished job wrote %v", round, kinds(cmds))
		}
		if indexed {
			seen := map[int32]bool{}
			for _, a := range w.Attempts("default", name) {
				if a.State == pb.AttemptSucceeded {
					if seen[a.Index] {
						t.Fatalf("round %d: index %d succeeded twice", round, a.Index)
					}
					seen[a.Index] = true
				}
			}
		}
		if c := cond(j, pb.ConditionComplete); c != nil {
			want := j.Spec.GetCompletions()
			if j.Spec.Completions == nil {
				want = 1
			}
			if j.Status.Succeeded < want {
				t.Fatalf("round %d: complete with %d succeeded, want %d", round, j.Status.Succeeded, want)
			}
		}
		if c := cond(j, pb.ConditionFailed); c != nil && c.Reason == ReasonBackoffLimitExceeded && j.Status.Failed <= j.Spec.GetBackoffLimit() {
			t.Fatalf("round %d: BackoffLimitExceeded with %d failures, limit %d", round, j.Status.Failed, j.Spec.GetBackoffLimit())
		}
	}
}
