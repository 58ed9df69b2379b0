package raft_test

import (
	"fmt"
	"testing"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/raft"
)

func failedStatus(at time.Duration) *pb.JobStatus {
	return &pb.JobStatus{Conditions: []*pb.JobCondition{{Type: "Failed", Status: "True", Reason: "BackoffLimitExceeded", LastTransitionTime: ts(at)}}, Failed: 1}
}

func TestSummaryCountsRunsAndListsPendingWork(t *testing.T) {
	h := newHarness(t)
	h.mustApply(applyRes(0, []*pb.CronJob{cronJob("a", "report", "@hourly"), cronJob("a", "paused", "@hourly"), cronJob("b", "backup", "@hourly")}, nil))
	h.mustApply(setSuspend("CronJob", "a", "paused", true))
	h.mustApply(createJobs(
		cronJobRun("a", "report", "report-1", time.Minute),
		cronJobRun("a", "report", "report-2", 2*time.Minute),
		cronJobRun("b", "backup", "backup-1", 3*time.Minute),
		cronJobRun("b", "backup", "backup-2", 4*time.Minute),
	))
	h.mustApply(putJobStatus("a", "report-1", completeCondition()))
	h.mustApply(putJobStatus("b", "backup-1", failedStatus(5*time.Minute)))
	h.mustApply(updateCronStatus("a", "report", ts(2*time.Minute), ts(time.Minute),
		&pb.ScheduleDecision{ScheduledTime: ts(3 * time.Minute), FirstScheduledTime: ts(time.Minute), Count: 3, Decision: "skip", Reason: "ConcurrencyPolicy", DecidedTime: ts(3 * time.Minute)}))
	h.mustApply(createAttempts(attempt("a", "report-1", 0, 1), attempt("a", "report-2", 0, 1), attempt("b", "backup-1", 0, 1)))
	h.mustApply(assign("a", "report-1-0-1", "w1", time.Minute))
	h.mustApply(report(&pb.ReportAttempt{Namespace: "a", Name: "report-1-0-1", Worker: "w1", Incarnation: h.index, State: "Succeeded", FinishTime: ts(2 * time.Minute)}))
	h.mustApply(assign("b", "backup-1-0-1", "w1", 3*time.Minute))

	all := h.state().Summary(nil, t0)
	if all.GetCronJobs() != 3 || all.GetSuspendedCronJobs() != 1 || all.GetUnfinishedJobs() != 2 {
		t.Errorf("cronjobs %d, suspended %d, unfinished jobs %d; want 3, 1, 2", all.GetCronJobs(), all.GetSuspendedCronJobs(), all.GetUnfinishedJobs())
	}
	if r := all.GetRuns(); r.GetInvoked() != 4 || r.GetSucceeded() != 1 || r.GetFailed() != 1 || r.GetSkipped() != 3 {
		t.Errorf("runs %v; want 4 invoked, 1 succeeded, 1 failed, 3 skipped", r)
	}
	if len(all.GetPending()) != 1 || all.GetPending()[0].GetName() != "report-2-0-1" {
		t.Errorf("pending %v; want report-2-0-1", all.GetPending())
	}
	if len(all.GetWaitingJobs()) != 1 || all.GetWaitingJobs()[0].GetMetadata().GetName() != "backup-2" {
		t.Errorf("waiting jobs %v; want backup-2 (no attempt yet)", names(all.GetWaitingJobs()))
	}
	if ws := all.GetWorkers(); len(ws) != 1 || ws[0].GetWorker() != "w1" ||
		len(ws[0].GetRunning()) != 1 || ws[0].GetRunning()[0].GetName() != "backup-1-0-1" ||
		len(ws[0].GetRecent()) != 1 || ws[0].GetRecent()[0].GetName() != "report-1-0-1" {
		t.Errorf("workers %v; want w1 running backup-1-0-1, recently report-1-0-1", ws)
	}

	a := h.state().Summary([]string{"a"}, t0)
	if a.GetCronJobs() != 2 || a.GetUnfinishedJobs() != 1 || a.GetRuns().GetInvoked() != 2 || a.GetRuns().GetFailed() != 0 || a.GetRuns().GetSkipped() != 3 {
		t.Errorf("namespace a: %v", a)
	}
	if ws := a.GetWorkers(); len(ws) != 1 || len(ws[0].GetRunning()) != 0 || len(ws[0].GetRecent()) != 1 {
		t.Errorf("namespace a sees w1's runs %v; want only report-1-0-1", ws)
	}
	if later := h.state().Summary(nil, t0.Add(2*time.Hour)); later.GetRuns().GetInvoked() != 0 {
		t.Errorf("runs since two hours later %v; want none", later.GetRuns())
	}

	// Counts older than 25 hours before the latest are dropped.
	h.mustApply(createJobs(cronJobRun("a", "report", "report-3", 30*time.Hour)))
	if got := h.state().Summary(nil, t0).GetRuns().GetInvoked(); got != 1 {
		t.Errorf("after a run 30h later, %d invoked counted since t0; want 1 (the old hours dropped)", got)
	}
	// Deleting a CronJob takes its count and its Jobs' with it.
	h.mustApply(deleteRes("CronJob", "a", "paused"))
	if s := h.state().Summary(nil, t0); s.GetCronJobs() != 2 || s.GetSuspendedCronJobs() != 0 {
		t.Errorf("after delete: %d cronjobs, %d suspended; want 2, 0", s.GetCronJobs(), s.GetSuspendedCronJobs())
	}
}

// A summary's cost does not grow with the Jobs kept: its allocations are the
// same with 100 finished Jobs and with 20,000.
func TestSummaryCostDoesNotGrowWithJobs(t *testing.T) {
	build := func(finished int) *fsmHarness {
		h := newHarness(t)
		h.mustApply(applyRes(0, []*pb.CronJob{cronJob("a", "report", "@hourly")}, nil))
		jobs := make([]*pb.Job, 0, finished)
		for i := range finished {
			j := cronJobRun("a", "report", fmt.Sprintf("done-%05d", i), time.Duration(i)*time.Second)
			j.Status.Conditions = completeCondition().Conditions
			jobs = append(jobs, j)
		}
		h.mustApply(createJobs(jobs...))
		h.mustApply(createJobs(cronJobRun("a", "report", "now", time.Hour)))
		h.mustApply(createAttempts(attempt("a", "now", 0, 1)))
		return h
	}
	allocs := func(h *fsmHarness) float64 {
		s := h.state()
		if got := s.Summary(nil, t0).GetRuns().GetInvoked(); got < 1 {
			t.Fatalf("fixture: %d runs invoked", got)
		}
		return testing.AllocsPerRun(20, func() { s.Summary([]string{"a"}, t0) })
	}
	small, large := allocs(build(100)), allocs(build(20000))
	if large > small {
		t.Fatalf("Summary allocates %.0f times with 20,000 Jobs, %.0f with 100: its cost grows with the Jobs kept", large, small)
	}
}

// A worker's recent runs are its newest finished attempts still stored:
// after one of them is deleted, the next older one shows, as on a replica
// restored from a snapshot (which rebuilds the list from the attempts).
func TestSummaryRecentRunsAfterADelete(t *testing.T) {
	h := newHarness(t)
	const n = 12
	for i := range n {
		job := fmt.Sprintf("j%02d", i)
		h.mustApply(createJobs(plainJob("a", job)))
		h.mustApply(createAttempts(attempt("a", job, 0, 1)))
		h.mustApply(assign("a", job+"-0-1", "w1", time.Duration(i)*time.Minute))
		h.mustApply(report(&pb.ReportAttempt{Namespace: "a", Name: job + "-0-1", Worker: "w1", Incarnation: h.index,
			State: "Succeeded", FinishTime: ts(time.Duration(i)*time.Minute + time.Second)}))
	}
	recent := func(s *raft.State) []string {
		ws := s.Summary(nil, t0).GetWorkers()
		if len(ws) != 1 {
			t.Fatalf("workers %v", ws)
		}
		var out []string
		for _, a := range ws[0].GetRecent() {
			out = append(out, a.GetJob())
		}
		return out
	}
	want := []string{"j11", "j10", "j09", "j08", "j07", "j06", "j05", "j04", "j03", "j02"}
	if got := recent(h.state()); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("recent runs %v, want %v", got, want)
	}
	h.mustApply(deleteRes("Job", "a", "j10"))
	want = []string{"j11", "j09", "j08", "j07", "j06", "j05", "j04", "j03", "j02", "j01"}
	if got := recent(h.state()); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after deleting j10: recent runs %v, want %v", got, want)
	}
	restored := raft.NewFSM(quietLogger())
	if err := restored.Restore(snapshotBytes(t, h.fsm).Reader()); err != nil {
		t.Fatal(err)
	}
	if got, live := recent(restored.State()), recent(h.state()); fmt.Sprint(got) != fmt.Sprint(live) {
		t.Errorf("a restored replica lists %v, the live one %v", got, live)
	}
}
