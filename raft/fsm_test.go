package raft_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	hraft "github.com/hashicorp/raft"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/raft"
)

func TestApplyResourcesCreatesWithDefaults(t *testing.T) {
	h := newHarness(t)
	v0 := h.state().CronJobsVersion()
	cj := cronJob("", "nightly", "0 3 * * *")
	cj.Status = &pb.CronJobStatus{LastScheduleTime: ts(-time.Hour)} // ignored on create
	r := h.mustApply(applyRes(0, []*pb.CronJob{cj}, []*pb.Job{plainJob("team-a", "once")}))
	if want := []string{"created", "created"}; !slices.Equal(r.GetActions(), want) {
		t.Fatalf("actions = %v, want %v", r.GetActions(), want)
	}
	got := h.state().CronJob("default", "nightly")
	if got == nil {
		t.Fatal("cronjob default/nightly not stored")
	}
	md := got.GetMetadata()
	if got.GetApiVersion() != "batch/v1" || got.GetKind() != "CronJob" || md.GetNamespace() != "default" ||
		md.GetGeneration() != 1 || md.GetResourceVersion() != "1" || md.GetUid() == "" ||
		!md.GetCreationTimestamp().AsTime().Equal(t0) {
		t.Fatalf("stored cronjob metadata wrong: apiVersion=%q kind=%q meta=%v", got.GetApiVersion(), got.GetKind(), md)
	}
	if got.GetStatus().GetLastScheduleTime() != nil {
		t.Fatalf("status from the manifest was kept on create: %v", got.GetStatus())
	}
	if !proto.Equal(got.GetSpec(), cj.GetSpec()) {
		t.Fatalf("spec changed on store")
	}
	job := h.state().Job("team-a", "once")
	if job.GetKind() != "Job" || job.GetApiVersion() != "batch/v1" || job.GetMetadata().GetGeneration() != 1 {
		t.Fatalf("stored job wrong: %v", job)
	}
	if job.GetMetadata().GetUid() == md.GetUid() {
		t.Fatalf("two objects created in one entry got the same uid %q", md.GetUid())
	}
	if h.state().CronJobsVersion() == v0 {
		t.Fatal("CronJobsVersion did not change when a CronJob was created")
	}
	if cj.GetMetadata().GetNamespace() != "" || cj.GetMetadata().GetGeneration() != 0 {
		t.Fatal("Apply mutated the command's object")
	}
}

func TestApplyResourcesUnchangedConfiguredAndGeneration(t *testing.T) {
	h := newHarness(t)
	h.mustApply(applyRes(0, []*pb.CronJob{cronJob("ns", "c", "* * * * *")}, []*pb.Job{plainJob("ns", "j")}))
	h.mustApply(updateCronStatus("ns", "c", ts(time.Minute), nil))
	created := h.state().CronJob("ns", "c")
	v := h.state().CronJobsVersion()

	// Same spec again: unchanged, nothing written.
	r := h.mustApply(applyRes(time.Hour, []*pb.CronJob{cronJob("ns", "c", "* * * * *")}, []*pb.Job{plainJob("ns", "j")}))
	if want := []string{"unchanged", "unchanged"}; !slices.Equal(r.GetActions(), want) {
		t.Fatalf("actions = %v, want %v", r.GetActions(), want)
	}
	if !proto.Equal(h.state().CronJob("ns", "c"), created) { // reads decode afresh: compare contents
		t.Fatal("an unchanged apply replaced the stored object")
	}

	// Labels only: configured, generation kept, version kept.
	labeled := cronJob("ns", "c", "* * * * *")
	labeled.Metadata.Labels = map[string]string{"team": "data"}
	r = h.mustApply(applyRes(time.Hour, []*pb.CronJob{labeled}, nil))
	if !slices.Equal(r.GetActions(), []string{"configured"}) {
		t.Fatalf("labels change: actions = %v, want [configured]", r.GetActions())
	}
	got := h.state().CronJob("ns", "c")
	if got.GetMetadata().GetGeneration() != 1 || got.GetMetadata().GetLabels()["team"] != "data" {
		t.Fatalf("labels change: meta = %v, want generation 1 and label team=data", got.GetMetadata())
	}
	if got.GetMetadata().GetResourceVersion() != fmt.Sprint(h.index) {
		t.Fatalf("resource_version = %q, want %d", got.GetMetadata().GetResourceVersion(), h.index)
	}
	if h.state().CronJobsVersion() != v {
		t.Fatal("CronJobsVersion changed on a labels-only change")
	}

	// Spec change: configured, generation bumped, status/uid/creation kept.
	changed := cronJob("ns", "c", "*/5 * * * *")
	changed.Metadata.Labels = map[string]string{"team": "data"}
	r = h.mustApply(applyRes(2*time.Hour, []*pb.CronJob{changed}, nil))
	if !slices.Equal(r.GetActions(), []string{"configured"}) {
		t.Fatalf("spec change: actions = %v", r.GetActions())
	}
	got = h.state().CronJob("ns", "c")
	if got.GetSpec().GetSchedule() != "*/5 * * * *" || got.GetMetadata().GetGeneration() != 2 {
		t.Fatalf("spec change not stored: schedule %q generation %d", got.GetSpec().GetSchedule(), got.GetMetadata().GetGeneration())
	}
	if got.GetMetadata().GetUid() != created.GetMetadata().GetUid() ||
		!proto.Equal(got.GetMetadata().GetCreationTimestamp(), created.GetMetadata().GetCreationTimestamp()) ||
		!got.GetStatus().GetLastScheduleTime().AsTime().Equal(t0.Add(time.Minute)) {
		t.Fatalf("spec change lost uid/creation/status: %v", got)
	}
	if h.state().CronJobsVersion() == v {
		t.Fatal("CronJobsVersion did not change on a spec change")
	}
	// The old object was not mutated (immutability contract).
	if created.GetSpec().GetSchedule() != "* * * * *" || created.GetMetadata().GetGeneration() != 1 || len(created.GetMetadata().GetLabels()) != 0 {
		t.Fatalf("a published object was mutated: %v", created)
	}

	// Job spec change bumps its generation.
	j := plainJob("ns", "j")
	j.Spec.Completions = proto.Int32(3)
	r = h.mustApply(applyRes(3*time.Hour, nil, []*pb.Job{j}))
	if !slices.Equal(r.GetActions(), []string{"configured"}) || h.state().Job("ns", "j").GetMetadata().GetGeneration() != 2 {
		t.Fatalf("job spec change: actions %v, generation %d", r.GetActions(), h.state().Job("ns", "j").GetMetadata().GetGeneration())
	}
}

func TestApplyResourcesInvalidChangesNothing(t *testing.T) {
	h := newHarness(t)
	r := h.apply(applyRes(0, []*pb.CronJob{cronJob("", "ok", "* * * * *"), {Metadata: &pb.ObjectMeta{}}}, nil))
	wantCode(t, r, pb.CodeInvalid)
	if !strings.Contains(r.GetError(), "cronJobs[1]") || !strings.Contains(r.GetError(), "metadata.name") {
		t.Fatalf("error %q does not name the field", r.GetError())
	}
	if !errors.Is(r.Err(), pb.ErrInvalid) {
		t.Fatalf("Err of %v is not ErrInvalid", r)
	}
	if n := len(h.state().CronJobs()); n != 0 {
		t.Fatalf("%d cronjobs stored after an invalid apply, want 0", n)
	}
}

func TestDeleteCronJobCascades(t *testing.T) {
	h := newHarness(t)
	h.mustApply(applyRes(0, []*pb.CronJob{cronJob("ns", "c", "* * * * *"), cronJob("ns", "other", "* * * * *")}, []*pb.Job{plainJob("ns", "standalone")}))
	h.mustApply(createJobs(cronJobRun("ns", "c", "c-1", time.Minute), cronJobRun("ns", "c", "c-2", 2*time.Minute), cronJobRun("ns", "other", "other-1", time.Minute)))
	h.mustApply(createAttempts(attempt("ns", "c-1", 0, 1), attempt("ns", "c-2", 0, 1), attempt("ns", "other-1", 0, 1), attempt("ns", "standalone", 0, 1)))
	h.mustApply(assign("ns", "c-1-0-1", "w1", time.Minute))
	v := h.state().CronJobsVersion()

	h.mustApply(deleteRes("CronJob", "ns", "c"))
	s := h.state()
	if s.CronJob("ns", "c") != nil || s.Job("ns", "c-1") != nil || s.Job("ns", "c-2") != nil ||
		s.Attempt("ns", "c-1-0-1") != nil || s.Attempt("ns", "c-2-0-1") != nil {
		t.Fatal("deleting a CronJob left its Jobs or Attempts behind")
	}
	if got := names(s.ListJobs("")); !slices.Equal(got, []string{"ns/other-1", "ns/standalone"}) {
		t.Fatalf("jobs after delete = %v", got)
	}
	if got := attemptNames(s.UnfinishedAttempts()); !slices.Equal(got, []string{"other-1-0-1", "standalone-0-1"}) {
		t.Fatalf("unfinished attempts after delete = %v", got)
	}
	if got := s.AttemptsOnWorker("w1"); len(got) != 0 {
		t.Fatalf("worker index still lists %v", attemptNames(got))
	}
	if got := s.JobsOfCronJob("ns", "c"); len(got) != 0 {
		t.Fatalf("JobsOfCronJob of a deleted cronjob = %v", names(got))
	}
	if s.CronJobsVersion() == v {
		t.Fatal("CronJobsVersion did not change on delete")
	}

	// Job delete cascades to its attempts only.
	h.mustApply(deleteRes("Job", "ns", "standalone"))
	if s.Attempt("ns", "standalone-0-1") != nil || s.Attempt("ns", "other-1-0-1") == nil {
		t.Fatal("deleting a Job did not remove exactly its attempts")
	}
	// The remaining cronjob loses the deleted job from status.active.
	h.mustApply(deleteRes("Job", "ns", "other-1"))
	if act := s.CronJob("ns", "other").GetStatus().GetActive(); len(act) != 0 {
		t.Fatalf("active after deleting its only job = %v", act)
	}

	wantCode(t, h.apply(deleteRes("CronJob", "ns", "c")), pb.CodeNotFound)
	wantCode(t, h.apply(deleteRes("Job", "ns", "nope")), pb.CodeNotFound)
	wantCode(t, h.apply(deleteRes("Pod", "ns", "other")), pb.CodeInvalid)
	if s.CronJob("ns", "other") == nil {
		t.Fatal("an invalid delete removed something")
	}
}

func TestSetSuspend(t *testing.T) {
	h := newHarness(t)
	h.mustApply(applyRes(0, []*pb.CronJob{cronJob("", "c", "* * * * *")}, []*pb.Job{plainJob("", "j")}))
	v := h.state().CronJobsVersion()

	h.mustApply(setSuspend("CronJob", "", "c", true))
	cj := h.state().CronJob("default", "c")
	if !cj.GetSpec().GetSuspend() || cj.GetMetadata().GetGeneration() != 2 || cj.GetMetadata().GetResourceVersion() != fmt.Sprint(h.index) {
		t.Fatalf("suspend: %v", cj)
	}
	if h.state().CronJobsVersion() == v {
		t.Fatal("CronJobsVersion did not change on suspend")
	}
	v = h.state().CronJobsVersion()
	h.mustApply(setSuspend("CronJob", "", "c", true))
	if !proto.Equal(h.state().CronJob("default", "c"), cj) || h.state().CronJobsVersion() != v {
		t.Fatal("suspending a suspended cronjob changed it")
	}
	h.mustApply(setSuspend("CronJob", "", "c", false))
	if cj := h.state().CronJob("default", "c"); cj.GetSpec().GetSuspend() || cj.GetMetadata().GetGeneration() != 3 {
		t.Fatalf("resume: %v", cj)
	}

	h.mustApply(setSuspend("Job", "default", "j", true))
	if j := h.state().Job("default", "j"); !j.GetSpec().GetSuspend() || j.GetMetadata().GetGeneration() != 2 {
		t.Fatalf("job suspend: %v", j)
	}
	wantCode(t, h.apply(setSuspend("CronJob", "", "nope", true)), pb.CodeNotFound)
	wantCode(t, h.apply(setSuspend("Job", "", "nope", true)), pb.CodeNotFound)
	wantCode(t, h.apply(setSuspend("Deployment", "", "c", true)), pb.CodeInvalid)
}

func TestCreateJobsIdempotentAndActive(t *testing.T) {
	h := newHarness(t)
	h.mustApply(applyRes(0, []*pb.CronJob{cronJob("ns", "c", "* * * * *")}, nil))
	v := h.state().CronJobsVersion()

	first := cronJobRun("ns", "c", "c-2", 2*time.Minute)
	r := h.mustApply(createJobs(first, cronJobRun("ns", "c", "c-1", time.Minute)))
	if !slices.Equal(r.GetCreated(), []string{"c-2", "c-1"}) {
		t.Fatalf("created = %v", r.GetCreated())
	}
	stored := h.state().Job("ns", "c-2")
	if !stored.GetMetadata().GetCreationTimestamp().AsTime().Equal(t0.Add(2*time.Minute)) || stored.GetKind() != "Job" {
		t.Fatalf("stored job lost the leader's creation timestamp: %v", stored.GetMetadata())
	}

	// A second leader computing the same tick: skipped, not an error, not overwritten.
	dup := cronJobRun("ns", "c", "c-2", 2*time.Minute)
	dup.Spec.Completions = proto.Int32(9)
	r = h.mustApply(createJobs(dup, cronJobRun("ns", "c", "c-3", 3*time.Minute)))
	if !slices.Equal(r.GetCreated(), []string{"c-3"}) {
		t.Fatalf("created on retry = %v, want [c-3]", r.GetCreated())
	}
	if h.state().Job("ns", "c-2") != stored {
		t.Fatal("CreateJobs replaced an existing Job")
	}

	if got := names(h.state().JobsOfCronJob("ns", "c")); !slices.Equal(got, []string{"ns/c-1", "ns/c-2", "ns/c-3"}) {
		t.Fatalf("JobsOfCronJob = %v, want oldest scheduled first", got)
	}
	act := h.state().CronJob("ns", "c").GetStatus().GetActive()
	var actNames []string
	for _, a := range act {
		if a.GetKind() != "Job" || a.GetNamespace() != "ns" || a.GetUid() == "" {
			t.Fatalf("bad active reference %v", a)
		}
		actNames = append(actNames, a.GetName())
	}
	if !slices.Equal(actNames, []string{"c-1", "c-2", "c-3"}) {
		t.Fatalf("status.active = %v", actNames)
	}
	if h.state().CronJobsVersion() != v {
		t.Fatal("CronJobsVersion changed when jobs (status) changed")
	}

	// A Job for a CronJob that does not exist: NotFound, nothing created.
	r = h.apply(createJobs(cronJobRun("ns", "c", "c-4", 4*time.Minute), cronJobRun("ns", "ghost", "ghost-1", time.Minute)))
	wantCode(t, r, pb.CodeNotFound)
	if h.state().Job("ns", "c-4") != nil {
		t.Fatal("a failed CreateJobs created a job")
	}
	wantCode(t, h.apply(createJobs(&pb.Job{Metadata: &pb.ObjectMeta{}})), pb.CodeInvalid)
}

func TestPutJobStatusKeepsOwnerAndFinishes(t *testing.T) {
	h := newHarness(t)
	h.mustApply(applyRes(0, []*pb.CronJob{cronJob("ns", "c", "* * * * *")}, nil))
	run := cronJobRun("ns", "c", "c-1", time.Minute)
	run.Status.Manual = true
	h.mustApply(createJobs(run, cronJobRun("ns", "c", "c-2", 2*time.Minute)))

	st := completeCondition()
	st.CronJob = "someone-else" // must be ignored
	st.CompletionTime = ts(90 * time.Second)
	h.mustApply(putJobStatus("ns", "c-1", st))
	j := h.state().Job("ns", "c-1")
	if j.GetStatus().GetCronJob() != "c" || !j.GetStatus().GetManual() ||
		!j.GetStatus().GetScheduledTime().AsTime().Equal(t0.Add(time.Minute)) {
		t.Fatalf("owner fields not kept: %v", j.GetStatus())
	}
	if j.GetStatus().GetSucceeded() != 1 || !j.Finished() {
		t.Fatalf("status not replaced: %v", j.GetStatus())
	}
	if got := names(h.state().UnfinishedJobs()); !slices.Equal(got, []string{"ns/c-2"}) {
		t.Fatalf("UnfinishedJobs = %v", got)
	}
	if got := names(h.state().FinishedJobs()); !slices.Equal(got, []string{"ns/c-1"}) {
		t.Fatalf("FinishedJobs = %v", got)
	}
	act := h.state().CronJob("ns", "c").GetStatus().GetActive()
	if len(act) != 1 || act[0].GetName() != "c-2" {
		t.Fatalf("active = %v, want only c-2", act)
	}
	// A Failed condition with status False does not finish a Job.
	h.mustApply(putJobStatus("ns", "c-2", &pb.JobStatus{Conditions: []*pb.JobCondition{{Type: "Failed", Status: "False"}}}))
	if h.state().Job("ns", "c-2").Finished() {
		t.Fatal("Failed=False counted as finished")
	}
	// Finishing the last one empties status.active (no empty non-nil leftovers).
	h.mustApply(putJobStatus("ns", "c-2", &pb.JobStatus{Conditions: []*pb.JobCondition{{Type: "Failed", Status: "True", Reason: "BackoffLimitExceeded"}}}))
	if act := h.state().CronJob("ns", "c").GetStatus().GetActive(); act != nil {
		t.Fatalf("active = %v, want nil", act)
	}
	wantCode(t, h.apply(putJobStatus("ns", "nope", &pb.JobStatus{})), pb.CodeNotFound)

	// Finished is final: a later status computed from an older view (the Job
	// controller racing the cron controller's Replace) keeps the condition.
	h.mustApply(putJobStatus("ns", "c-2", &pb.JobStatus{Active: 1, Failed: 1}))
	j = h.state().Job("ns", "c-2")
	if !j.Finished() || j.GetStatus().GetFailed() != 1 || j.GetStatus().GetActive() != 0 {
		t.Fatalf("a finished Job was revived: %v", j.GetStatus())
	}
	if got := names(h.state().UnfinishedJobs()); len(got) != 0 {
		t.Fatalf("UnfinishedJobs = %v after a stale status", got)
	}
}

func TestUpdateCronJobStatusBoundsHistoryAndTimesOnlyForward(t *testing.T) {
	h := newHarness(t)
	h.mustApply(applyRes(0, []*pb.CronJob{cronJob("", "c", "* * * * *")}, nil))
	v := h.state().CronJobsVersion()

	decisions := func(from, n int) []*pb.ScheduleDecision {
		var ds []*pb.ScheduleDecision
		for i := from; i < from+n; i++ {
			ds = append(ds, &pb.ScheduleDecision{ScheduledTime: ts(time.Duration(i) * time.Minute), Decision: "invoke", Reason: "Scheduled", Job: fmt.Sprintf("c-%d", i)})
		}
		return ds
	}
	h.mustApply(updateCronStatus("", "c", ts(10*time.Minute), ts(9*time.Minute), decisions(0, 40)...))
	h.mustApply(updateCronStatus("", "c", ts(5*time.Minute), ts(20*time.Minute), decisions(40, 25)...))
	st := h.state().CronJob("", "c").GetStatus()
	if len(st.GetDecisions()) != raft.DecisionHistoryLimit || raft.DecisionHistoryLimit != 50 {
		t.Fatalf("kept %d decisions, want %d", len(st.GetDecisions()), raft.DecisionHistoryLimit)
	}
	if first, last := st.GetDecisions()[0].GetJob(), st.GetDecisions()[49].GetJob(); first != "c-15" || last != "c-64" {
		t.Fatalf("kept decisions %s … %s, want the newest c-15 … c-64", first, last)
	}
	if !st.GetLastScheduleTime().AsTime().Equal(t0.Add(10 * time.Minute)) {
		t.Fatalf("lastScheduleTime moved backwards to %v", st.GetLastScheduleTime().AsTime())
	}
	if !st.GetLastSuccessfulTime().AsTime().Equal(t0.Add(20 * time.Minute)) {
		t.Fatalf("lastSuccessfulTime = %v, want it moved forward", st.GetLastSuccessfulTime().AsTime())
	}
	// Nil times leave the stored ones alone.
	h.mustApply(updateCronStatus("", "c", nil, nil))
	if st := h.state().CronJob("", "c").GetStatus(); st.GetLastScheduleTime() == nil || st.GetLastSuccessfulTime() == nil {
		t.Fatal("nil times cleared the stored ones")
	}
	if h.state().CronJobsVersion() != v {
		t.Fatal("CronJobsVersion changed on a status update")
	}
	wantCode(t, h.apply(updateCronStatus("", "gone", ts(0), nil)), pb.CodeNotFound)
}

func TestCreateAttemptsIdempotentAndOrdered(t *testing.T) {
	h := newHarness(t)
	h.mustApply(applyRes(0, nil, []*pb.Job{plainJob("ns", "j")}))
	r := h.mustApply(createAttempts(attempt("ns", "j", 10, 1), attempt("ns", "j", 2, 2), attempt("ns", "j", 2, 1)))
	if !slices.Equal(r.GetCreated(), []string{"j-10-1", "j-2-2", "j-2-1"}) {
		t.Fatalf("created = %v", r.GetCreated())
	}
	r = h.mustApply(createAttempts(attempt("ns", "j", 2, 1), attempt("ns", "j", 2, 3)))
	if !slices.Equal(r.GetCreated(), []string{"j-2-3"}) {
		t.Fatalf("created on retry = %v, want [j-2-3]", r.GetCreated())
	}
	if got := attemptNames(h.state().Attempts("ns", "j")); !slices.Equal(got, []string{"j-2-1", "j-2-2", "j-2-3", "j-10-1"}) {
		t.Fatalf("Attempts = %v, want by index then number", got)
	}
	a := h.state().Attempt("ns", "j-2-1")
	if a.GetState() != "Pending" || a.GetIncarnation() != 0 {
		t.Fatalf("new attempt = %v, want Pending with incarnation 0", a)
	}
	if got := len(h.state().UnfinishedAttempts()); got != 4 {
		t.Fatalf("%d unfinished attempts, want 4", got)
	}
	wantCode(t, h.apply(createAttempts(attempt("ns", "missing", 0, 1))), pb.CodeNotFound)
	bad := attempt("ns", "j", 5, 1)
	bad.State = "Running"
	wantCode(t, h.apply(createAttempts(bad)), pb.CodeInvalid)
	wantCode(t, h.apply(createAttempts(&pb.Attempt{Job: "j"})), pb.CodeInvalid)
	if h.state().Attempt("ns", "j-5-1") != nil {
		t.Fatal("an invalid CreateAttempts created something")
	}
}

// setupAssigned creates job j with attempt j-0-1 assigned to w1 and returns
// the attempt's incarnation.
func setupAssigned(t *testing.T, h *fsmHarness) uint64 {
	t.Helper()
	h.mustApply(applyRes(0, nil, []*pb.Job{plainJob("ns", "j")}))
	h.mustApply(createAttempts(attempt("ns", "j", 0, 1)))
	h.mustApply(assign("ns", "j-0-1", "w1", time.Second))
	return h.index
}

func TestAssignAttempt(t *testing.T) {
	h := newHarness(t)
	inc := setupAssigned(t, h)
	a := h.state().Attempt("ns", "j-0-1")
	if a.GetState() != "Assigned" || a.GetWorker() != "w1" || a.GetIncarnation() != inc ||
		!a.GetAssignedTime().AsTime().Equal(t0.Add(time.Second)) {
		t.Fatalf("assigned attempt = %v (want incarnation %d)", a, inc)
	}
	if got := attemptNames(h.state().AttemptsOnWorker("w1")); !slices.Equal(got, []string{"j-0-1"}) {
		t.Fatalf("AttemptsOnWorker(w1) = %v", got)
	}
	wantCode(t, h.apply(assign("ns", "j-0-1", "w2", 2*time.Second)), pb.CodeConflict)
	if h.state().Attempt("ns", "j-0-1").GetWorker() != "w1" {
		t.Fatal("a conflicting assign moved the attempt")
	}
	wantCode(t, h.apply(assign("ns", "nope", "w2", 0)), pb.CodeNotFound)
	wantCode(t, h.apply(assign("ns", "j-0-1", "", 0)), pb.CodeInvalid)
}

func TestReportAttemptFencing(t *testing.T) {
	h := newHarness(t)
	inc := setupAssigned(t, h)
	base := func(state string) *pb.ReportAttempt {
		return &pb.ReportAttempt{Namespace: "ns", Name: "j-0-1", Worker: "w1", Incarnation: inc, State: state}
	}

	wrongWorker := base("Running")
	wrongWorker.Worker = "w2"
	wantCode(t, h.apply(report(wrongWorker)), pb.CodeConflict)
	stale := base("Running")
	stale.Incarnation = inc - 1
	wantCode(t, h.apply(report(stale)), pb.CodeConflict)
	if h.state().Attempt("ns", "j-0-1").GetState() != "Assigned" {
		t.Fatal("a fenced report changed the attempt")
	}
	wantCode(t, h.apply(report(base("Pending"))), pb.CodeInvalid)

	running := base("Running")
	running.ContainerId = "abc123"
	running.StartTime = ts(3 * time.Second)
	h.mustApply(report(running))
	a := h.state().Attempt("ns", "j-0-1")
	if a.GetState() != "Running" || a.GetContainerId() != "abc123" || !a.GetStartTime().AsTime().Equal(t0.Add(3*time.Second)) {
		t.Fatalf("running report not applied: %v", a)
	}
	// Duplicate: Conflict (acknowledged, ignored).
	wantCode(t, h.apply(report(running)), pb.CodeConflict)

	done := base("Failed")
	done.ExitCode = 42
	done.Reason = "Error"
	done.Message = "exit 42"
	done.FinishTime = ts(time.Minute)
	done.OutputTail = "boom\n"
	h.mustApply(report(done))
	a = h.state().Attempt("ns", "j-0-1")
	if a.GetState() != "Failed" || a.GetExitCode() != 42 || a.GetReason() != "Error" || a.GetOutputTail() != "boom\n" ||
		!a.GetFinishTime().AsTime().Equal(t0.Add(time.Minute)) || a.GetContainerId() != "abc123" {
		t.Fatalf("terminal report not applied: %v", a)
	}
	if len(h.state().AttemptsOnWorker("w1")) != 0 || len(h.state().UnfinishedAttempts()) != 0 {
		t.Fatal("a finished attempt is still indexed as unfinished")
	}
	// Terminal attempts take no more reports, even a "forward-looking" one.
	late := base("Succeeded")
	wantCode(t, h.apply(report(late)), pb.CodeConflict)
	if h.state().Attempt("ns", "j-0-1").GetState() != "Failed" {
		t.Fatal("a terminal attempt changed state")
	}

	// Assigned -> Succeeded directly is allowed.
	h.mustApply(createAttempts(attempt("ns", "j", 0, 2)))
	h.mustApply(assign("ns", "j-0-2", "w1", 0))
	inc2 := h.index
	h.mustApply(report(&pb.ReportAttempt{Namespace: "ns", Name: "j-0-2", Worker: "w1", Incarnation: inc2, State: "Succeeded", FinishTime: ts(time.Second)}))
	if h.state().Attempt("ns", "j-0-2").GetState() != "Succeeded" {
		t.Fatal("Assigned -> Succeeded rejected")
	}
	// A report for a Pending attempt (nobody holds it) is refused.
	h.mustApply(createAttempts(attempt("ns", "j", 0, 3)))
	wantCode(t, h.apply(report(&pb.ReportAttempt{Namespace: "ns", Name: "j-0-3", State: "Running"})), pb.CodeConflict)
	wantCode(t, h.apply(report(&pb.ReportAttempt{Namespace: "ns", Name: "nope", Worker: "w1", State: "Running"})), pb.CodeNotFound)
	if !errors.Is(h.apply(report(late)).Err(), pb.ErrConflict) {
		t.Fatal("Err of a Conflict result is not ErrConflict")
	}
}

func TestMarkAttemptLost(t *testing.T) {
	h := newHarness(t)
	inc := setupAssigned(t, h)
	h.mustApply(report(&pb.ReportAttempt{Namespace: "ns", Name: "j-0-1", Worker: "w1", Incarnation: inc, State: "Running"}))
	h.mustApply(markLost("ns", "j-0-1", time.Hour))
	a := h.state().Attempt("ns", "j-0-1")
	if a.GetState() != "Lost" || a.GetReason() != "WorkerLost" || a.GetMessage() != "lease expired" ||
		!a.GetFinishTime().AsTime().Equal(t0.Add(time.Hour)) {
		t.Fatalf("lost attempt = %v", a)
	}
	if len(h.state().AttemptsOnWorker("w1")) != 0 {
		t.Fatal("a lost attempt is still on its worker")
	}
	wantCode(t, h.apply(markLost("ns", "j-0-1", 2*time.Hour)), pb.CodeConflict)
	// The worker coming back with its old report is fenced off.
	wantCode(t, h.apply(report(&pb.ReportAttempt{Namespace: "ns", Name: "j-0-1", Worker: "w1", Incarnation: inc, State: "Succeeded"})), pb.CodeConflict)
	if h.state().Attempt("ns", "j-0-1").GetState() != "Lost" {
		t.Fatal("a report overwrote a lost attempt")
	}
	wantCode(t, h.apply(markLost("ns", "nope", 0)), pb.CodeNotFound)
}

func TestRequestKill(t *testing.T) {
	h := newHarness(t)
	setupAssigned(t, h)
	h.mustApply(createAttempts(attempt("ns", "j", 1, 1)))

	// Pending: fails at once.
	h.mustApply(requestKill("ns", "j-1-1", "DeadlineExceeded", time.Minute))
	p := h.state().Attempt("ns", "j-1-1")
	if p.GetState() != "Failed" || p.GetReason() != "DeadlineExceeded" || !p.GetFinishTime().AsTime().Equal(t0.Add(time.Minute)) {
		t.Fatalf("killed pending attempt = %v", p)
	}
	// Assigned: marked for the worker to kill, still unfinished.
	h.mustApply(requestKill("ns", "j-0-1", "Killed", time.Minute))
	a := h.state().Attempt("ns", "j-0-1")
	if a.GetState() != "Assigned" || !a.GetKillRequested() || a.GetKillReason() != "Killed" {
		t.Fatalf("kill of an assigned attempt = %v", a)
	}
	// Again: no change.
	h.mustApply(requestKill("ns", "j-0-1", "Killed", 2*time.Minute))
	if h.state().Attempt("ns", "j-0-1") != a {
		t.Fatal("a repeated kill request rewrote the attempt")
	}
	// Terminal: no-op, no error.
	h.mustApply(requestKill("ns", "j-1-1", "Killed", 3*time.Minute))
	if h.state().Attempt("ns", "j-1-1") != p {
		t.Fatal("killing a finished attempt changed it")
	}
	wantCode(t, h.apply(requestKill("ns", "nope", "Killed", 0)), pb.CodeNotFound)
}

func TestRegisterServer(t *testing.T) {
	h := newHarness(t)
	h.mustApply(registerServer("s2", "127.0.0.1:2", "127.0.0.1:12"))
	h.mustApply(registerServer("s1", "127.0.0.1:1", "127.0.0.1:11"))
	h.mustApply(registerServer("s2", "127.0.0.1:2", "127.0.0.1:22"))
	var got []string
	for _, s := range h.state().Servers() {
		got = append(got, s.GetNodeId()+"="+s.GetGrpcAddress())
	}
	if !slices.Equal(got, []string{"s1=127.0.0.1:11", "s2=127.0.0.1:22"}) {
		t.Fatalf("servers = %v", got)
	}
	if h.state().Server("s2").GetGrpcAddress() != "127.0.0.1:22" || h.state().Server("s9") != nil {
		t.Fatal("Server lookup wrong")
	}
	wantCode(t, h.apply(registerServer("", "x", "y")), pb.CodeInvalid)
}

func TestBatchAppliesInOrderWithOneResultEach(t *testing.T) {
	h := newHarness(t)
	res := h.raw(batch(
		applyRes(0, []*pb.CronJob{cronJob("", "c", "* * * * *")}, nil),
		createJobs(cronJobRun("", "c", "c-1", time.Minute)),
		createAttempts(attempt("default", "c-1", 0, 1)),
		assign("", "c-1-0-1", "w1", time.Minute),
		deleteRes("Job", "", "missing"),
		batch(registerServer("s1", "a", "b")),
	))
	br, ok := res.(*raft.BatchResult)
	if !ok {
		t.Fatalf("Apply(batch) returned %T, want *raft.BatchResult", res)
	}
	if len(br.Results) != 6 {
		t.Fatalf("%d results, want 6", len(br.Results))
	}
	for i := 0; i < 4; i++ {
		if err := br.Results[i].Err(); err != nil {
			t.Fatalf("member %d: %v", i, err)
		}
	}
	wantCode(t, br.Results[4], pb.CodeNotFound)
	wantCode(t, br.Results[5], pb.CodeInvalid) // nested batch
	if h.state().Server("s1") != nil {
		t.Fatal("a nested batch was applied")
	}
	a := h.state().Attempt("default", "c-1-0-1")
	if a.GetState() != "Assigned" || a.GetIncarnation() != h.index {
		t.Fatalf("attempt in batch = %v", a)
	}
	rv := fmt.Sprint(h.index)
	if h.state().CronJob("", "c").GetMetadata().GetResourceVersion() != rv || h.state().Job("", "c-1").GetMetadata().GetResourceVersion() != rv {
		t.Fatal("objects of one entry do not share its resource_version")
	}
	if act := h.state().CronJob("", "c").GetStatus().GetActive(); len(act) != 1 || act[0].GetName() != "c-1" {
		t.Fatalf("active after batch = %v", act)
	}
}

// An entry that does not decode is refused the same way on every replica
// (a result, no panic), so one bad entry cannot stop the cluster for good.
func TestApplyRefusesUndecodable(t *testing.T) {
	cases := map[string][]byte{
		"garbage":          {0xff, 0xff, 0xff, 0xff, 0x0f, 0x01},
		"truncated length": {0x0a, 0x10, 0x01},
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			f := raft.NewFSM(quietLogger())
			res, ok := f.Apply(&hraft.Log{Index: 1, Type: hraft.LogCommand, Data: data}).(*pb.CommandResult)
			if !ok || res.GetCode() != pb.CodeInvalid || !strings.Contains(res.GetError(), "does not decode") {
				t.Fatalf("Apply(%x) = %v, want an Invalid result saying it does not decode", data, res)
			}
			if len(f.State().Servers()) != 0 || len(f.State().CronJobs()) != 0 {
				t.Fatal("a refused entry changed the state")
			}
		})
	}
}

// A command this build does not know (a newer version's) still stops the
// replica: applying around it would make it diverge.
func TestApplyPanicsOnUnknownOp(t *testing.T) {
	unknownOp := protowire.AppendTag(nil, 99, protowire.BytesType)
	unknownOp = protowire.AppendBytes(unknownOp, []byte{0x08, 0x01})
	emptyMember, _ := proto.Marshal(&pb.Command{Op: &pb.Command_Batch{Batch: &pb.Batch{Commands: []*pb.Command{
		registerServer("s1", "a", "b"), {},
	}}}})
	cases := map[string][]byte{
		"empty":                nil,
		"unknown op":           unknownOp,
		"batch with empty cmd": emptyMember,
		// Field 2 with another wire type decodes as an unknown field.
		"wrong wire type for op": {0x15, 0x00, 0x00, 0x00, 0x00},
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			f := raft.NewFSM(quietLogger())
			defer func() {
				if recover() == nil {
					t.Fatalf("Apply(%x) did not panic", data)
				}
				if len(f.State().Servers()) != 0 {
					t.Fatal("a panicking Apply changed the state")
				}
			}()
			f.Apply(&hraft.Log{Index: 1, Type: hraft.LogCommand, Data: data})
		})
	}
}

func TestSubscribeCoalescesAndCancels(t *testing.T) {
	h := newHarness(t)
	ch, cancel := h.fsm.Subscribe()
	select {
	case <-ch:
		t.Fatal("signal before any apply")
	default:
	}
	h.mustApply(registerServer("s1", "a", "b"))
	h.mustApply(registerServer("s2", "a", "b"))
	select {
	case <-ch:
	default:
		t.Fatal("no signal after apply")
	}
	select {
	case <-ch:
		t.Fatal("two signals for two applies; want them coalesced into one")
	default:
	}
	cancel()
	cancel() // idempotent
	h.mustApply(registerServer("s3", "a", "b"))
	select {
	case <-ch:
		t.Fatal("signal after cancel")
	default:
	}
}

func TestCommandsWithoutANameAreInvalid(t *testing.T) {
	h := newHarness(t)
	h.mustApply(applyRes(0, []*pb.CronJob{cronJob("", "c", "* * * * *")}, []*pb.Job{plainJob("", "j")}))
	before := h.state().CronJob("", "c")
	for field, cmd := range map[string]*pb.Command{
		"deleteResource.name":      deleteRes("CronJob", "", ""),
		"setSuspend.name":          setSuspend("CronJob", "", "", true),
		"updateCronJobStatus.name": updateCronStatus("", "", ts(0), nil),
		"putJobStatus.name":        putJobStatus("", "", &pb.JobStatus{}),
		"assignAttempt.name":       assign("", "", "w1", 0),
		"reportAttempt.name":       report(&pb.ReportAttempt{State: "Running", Worker: "w1"}),
		"markAttemptLost.name":     markLost("", "", 0),
		"requestKill.name":         requestKill("", "", "Killed", 0),
	} {
		r := h.apply(cmd)
		wantCode(t, r, pb.CodeInvalid)
		if !strings.Contains(r.GetError(), field) {
			t.Errorf("error %q does not name %s", r.GetError(), field)
		}
	}
	if !proto.Equal(h.state().CronJob("", "c"), before) {
		t.Fatal("an invalid command changed the cronjob")
	}
}

func TestCreateAttemptsIgnoresWorkerFields(t *testing.T) {
	h := newHarness(t)
	h.mustApply(applyRes(0, nil, []*pb.Job{plainJob("", "j")}))
	a := attempt("", "j", 0, 1)
	a.Worker = "w1"
	a.Incarnation = 77
	a.PinnedWorker = "w1"
	h.mustApply(createAttempts(a))
	got := h.state().Attempt("", "j-0-1")
	if got.GetWorker() != "" || got.GetIncarnation() != 0 || got.GetPinnedWorker() != "w1" {
		t.Fatalf("new attempt = %v, want no worker, incarnation 0, pinned worker kept", got)
	}
	if len(h.state().AttemptsOnWorker("w1")) != 0 {
		t.Fatal("a Pending attempt is indexed on a worker")
	}
}

// A page of a list is read in (namespace, name) order from where the last
// one ended, within a namespace or across all, also after the last item of a
// page was deleted.
func TestCronJobsAndJobsAfter(t *testing.T) {
	h := newHarness(t)
	var cjs []*pb.CronJob
	var jobs []*pb.Job
	for _, ns := range []string{"c", "a", "b"} {
		for _, n := range []string{"z", "m", "a"} {
			cjs = append(cjs, cronJob(ns, n, "@daily"))
			jobs = append(jobs, plainJob(ns, "j"+n))
		}
	}
	h.mustApply(applyRes(0, cjs, jobs))
	st := h.state()
	check := func(what string, got, want []string) {
		t.Helper()
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: %v, want %v", what, got, want)
		}
	}
	check("all", names(st.CronJobsAfter("", "", "", 0)), []string{"a/a", "a/m", "a/z", "b/a", "b/m", "b/z", "c/a", "c/m", "c/z"})
	check("first page of 4", names(st.CronJobsAfter("", "", "", 4)), []string{"a/a", "a/m", "a/z", "b/a"})
	check("next page", names(st.CronJobsAfter("", "b", "a", 4)), []string{"b/m", "b/z", "c/a", "c/m"})
	check("namespace b", names(st.CronJobsAfter("b", "", "", 0)), []string{"b/a", "b/m", "b/z"})
	check("namespace b after b/a", names(st.CronJobsAfter("b", "b", "a", 0)), []string{"b/m", "b/z"})
	check("namespace b after a key of another namespace", names(st.CronJobsAfter("b", "a", "z", 0)), []string{"b/a", "b/m", "b/z"})
	check("after the last", names(st.CronJobsAfter("", "c", "z", 0)), []string{})
	h.mustApply(deleteRes(raft.KindCronJob, "b", "m"))
	check("after a deleted key", names(st.CronJobsAfter("", "b", "m", 2)), []string{"b/z", "c/a"})
	check("ListCronJobs after delete", names(st.ListCronJobs("b")), []string{"b/a", "b/z"})
	check("jobs of c", names(st.JobsAfter("c", "", "", 0)), []string{"c/ja", "c/jm", "c/jz"})
	h.mustApply(deleteRes(raft.KindJob, "c", "jm"))
	check("jobs of c after delete", names(st.ListJobs("c")), []string{"c/ja", "c/jz"})
}
