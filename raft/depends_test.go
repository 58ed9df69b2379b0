package raft_test

import (
	"strings"
	"testing"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/raft"
)

func withDeps(cj *pb.CronJob, deps ...string) *pb.CronJob {
	for _, d := range deps {
		cj.Spec.DependsOn = append(cj.Spec.DependsOn, &pb.CronJobDependency{CronJob: d})
	}
	return cj
}

func TestApplyDependsOnUnknownAndCycles(t *testing.T) {
	h := newHarness(t)
	// Unknown upstream: refused, naming it; nothing is written.
	r := h.apply(applyRes(0, []*pb.CronJob{withDeps(cronJob("default", "report", "0 2 * * *"), "prepare")}, nil))
	wantCode(t, r, pb.CodeInvalid)
	if want := `CronJob "report" is invalid: spec.dependsOn[0].cronJob: cronjob "prepare" not found in namespace "default"`; !strings.Contains(r.GetError(), want) {
		t.Errorf("error %q, want %q", r.GetError(), want)
	}
	if h.state().CronJob("default", "report") != nil {
		t.Fatal("a refused apply wrote the CronJob")
	}
	// An upstream in the same batch, or already stored, is fine.
	h.mustApply(applyRes(0, []*pb.CronJob{
		withDeps(cronJob("default", "report", "0 2 * * *"), "prepare"),
		cronJob("default", "prepare", "0 1 * * *"),
	}, nil))
	h.mustApply(applyRes(0, []*pb.CronJob{withDeps(cronJob("default", "load", "0 3 * * *"), "report")}, nil))
	// An upstream in another namespace does not count.
	r = h.apply(applyRes(0, []*pb.CronJob{withDeps(cronJob("other", "x", "0 3 * * *"), "prepare")}, nil))
	wantCode(t, r, pb.CodeInvalid)

	// prepare → load closes the cycle prepare → load → report → prepare.
	r = h.apply(applyRes(time.Minute, []*pb.CronJob{withDeps(cronJob("default", "prepare", "0 1 * * *"), "load")}, nil))
	wantCode(t, r, pb.CodeInvalid)
	if want := "a dependency cycle in namespace \"default\": prepare → load → report → prepare"; !strings.Contains(r.GetError(), want) {
		t.Errorf("error %q, want %q", r.GetError(), want)
	}
	if len(h.state().CronJob("default", "prepare").GetSpec().GetDependsOn()) != 0 {
		t.Error("the refused change was written")
	}
	// The API's early check says the same.
	if err := h.state().CheckDependsOn([]*pb.CronJob{withDeps(cronJob("default", "prepare", "0 1 * * *"), "load")}); err == nil || !strings.Contains(err.Error(), "prepare → load → report → prepare") {
		t.Errorf("CheckDependsOn: %v", err)
	}

	// Deleting an upstream is refused, naming its downstreams; deleting
	// the downstream first works.
	r = h.apply(deleteRes(raft.KindCronJob, "default", "prepare"))
	wantCode(t, r, pb.CodeInvalid)
	if want := "cronjob default/prepare is an upstream of report (spec.dependsOn)"; !strings.Contains(r.GetError(), want) {
		t.Errorf("error %q, want %q", r.GetError(), want)
	}
	h.mustApply(deleteRes(raft.KindCronJob, "default", "load"))
	h.mustApply(deleteRes(raft.KindCronJob, "default", "report"))
	h.mustApply(deleteRes(raft.KindCronJob, "default", "prepare"))
}

func TestUpdateCronJobStatusWaiting(t *testing.T) {
	h := newHarness(t)
	h.mustApply(applyRes(0, []*pb.CronJob{cronJob("default", "report", "0 2 * * *")}, nil))
	w := &pb.WaitingTick{ScheduledTime: ts(time.Hour), Since: ts(time.Hour), Job: "report-1", Reason: "Scheduled",
		Upstreams: []*pb.UpstreamState{{CronJob: "prepare", State: "Waiting", Deadline: ts(3 * time.Hour)}}}
	h.mustApply(&pb.Command{Op: &pb.Command_UpdateCronJobStatus{UpdateCronJobStatus: &pb.UpdateCronJobStatus{
		Namespace: "default", Name: "report", Waiting: []*pb.WaitingTick{w}, SetWaiting: true}}})
	if got := h.state().CronJob("default", "report").GetStatus().GetWaiting(); len(got) != 1 || got[0].GetJob() != "report-1" {
		t.Fatalf("waiting %v", got)
	}
	// Without set_waiting the list is kept; with it and none, cleared.
	h.mustApply(updateCronStatus("default", "report", ts(time.Hour), nil))
	if len(h.state().CronJob("default", "report").GetStatus().GetWaiting()) != 1 {
		t.Fatal("an update without set_waiting dropped the waiting tick")
	}
	h.mustApply(&pb.Command{Op: &pb.Command_UpdateCronJobStatus{UpdateCronJobStatus: &pb.UpdateCronJobStatus{
		Namespace: "default", Name: "report", SetWaiting: true}}})
	if got := h.state().CronJob("default", "report").GetStatus().GetWaiting(); len(got) != 0 {
		t.Fatalf("waiting after clearing: %v", got)
	}
}

// Which CronJobs name an upstream is kept as an index: it follows a
// downstream that drops its dependsOn, and a restored replica has it too.
func TestUpstreamDeleteFollowsDependsOnChanges(t *testing.T) {
	h := newHarness(t)
	h.mustApply(applyRes(0, []*pb.CronJob{cronJob("default", "prepare", "0 1 * * *"), withDeps(cronJob("default", "report", "0 2 * * *"), "prepare")}, nil))
	restored := raft.NewFSM(quietLogger())
	if err := restored.Restore(snapshotBytes(t, h.fsm).Reader()); err != nil {
		t.Fatal(err)
	}
	other := newHarness(t)
	other.fsm = restored
	r := other.apply(deleteRes(raft.KindCronJob, "default", "prepare"))
	wantCode(t, r, pb.CodeInvalid)
	if !strings.Contains(r.GetError(), "is an upstream of report") {
		t.Errorf("restored replica: %q", r.GetError())
	}
	// report no longer depends on prepare: prepare may go.
	h.mustApply(applyRes(time.Minute, []*pb.CronJob{cronJob("default", "report", "0 2 * * *")}, nil))
	h.mustApply(deleteRes(raft.KindCronJob, "default", "prepare"))
}
