package raft_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/raft"
	"github.com/raftcron/raftcron/scheduler"
)

// The State answers JobsBeyondHistory from its counts of each CronJob's
// finished Jobs; whatever Jobs are created, finished (Complete or Failed)
// and deleted, in any order, and after a snapshot restore, it gives what
// the history limits give when computed from all of the CronJob's Jobs.
func TestJobsBeyondHistoryFollowsTheJobs(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 12))
	h := newHarness(t)
	h.mustApply(applyRes(0, []*pb.CronJob{cronJob("ns", "c", "@hourly"), cronJob("ns", "other", "@hourly")}, nil))
	var jobs []string // names created and not deleted
	check := func(st *raft.State, when string) {
		t.Helper()
		for _, cron := range []string{"c", "other"} {
			for keepOK := 0; keepOK <= 3; keepOK++ {
				for keepFailed := 0; keepFailed <= 2; keepFailed++ {
					got := names(st.JobsBeyondHistory("ns", cron, keepOK, keepFailed))
					want := names(scheduler.JobsBeyondHistoryOf(st.JobsOfCronJob("ns", cron), keepOK, keepFailed))
					if !slices.Equal(got, want) {
						t.Fatalf("%s: JobsBeyondHistory(%s, %d, %d) = %v, want %v", when, cron, keepOK, keepFailed, got, want)
					}
				}
			}
		}
	}
	for step := range 300 {
		switch op := rng.IntN(4); {
		case op <= 1 || len(jobs) == 0:
			cron := []string{"c", "other"}[rng.IntN(2)]
			name := fmt.Sprintf("%s-%d", cron, step)
			j := cronJobRun("ns", cron, name, time.Duration(rng.IntN(50))*time.Hour)
			switch rng.IntN(3) {
			case 1:
				j.Status.Conditions = completeCondition().Conditions
			case 2:
				j.Status.Conditions = failedStatus(0).Conditions
			}
			h.mustApply(createJobs(j))
			jobs = append(jobs, name)
		case op == 2:
			name := jobs[rng.IntN(len(jobs))]
			st := completeCondition()
			if rng.IntN(2) == 0 {
				st = failedStatus(0)
			}
			h.mustApply(putJobStatus("ns", name, st))
		default:
			i := rng.IntN(len(jobs))
			h.mustApply(deleteRes("Job", "ns", jobs[i]))
			jobs = slices.Delete(jobs, i, i+1)
		}
		check(h.state(), fmt.Sprintf("step %d", step))
	}

	snap, err := h.fsm.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := snap.Persist(bufSink{&buf}); err != nil {
		t.Fatal(err)
	}
	restored := raft.NewFSM(quietLogger())
	if err := restored.Restore(nopCloser{bytes.NewReader(buf.Bytes())}); err != nil {
		t.Fatal(err)
	}
	check(restored.State(), "after a snapshot restore")
	if len(restored.State().JobsBeyondHistory("ns", "c", 0, 0)) == 0 {
		t.Fatal("no finished Job of c left to check against: the sequence above tests nothing")
	}
}
