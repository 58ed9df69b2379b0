package cluster

import (
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	hraft "github.com/hashicorp/raft"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/raft"
	"github.com/raftcron/raftcron/scheduler"
)

// recordingView is a scheduler.View that remembers what the leader read:
// every CronJob and Job looked up by name, and every call that lists a whole
// table.
type recordingView struct {
	scheduler.View
	mu       sync.Mutex
	cronJobs map[string]bool
	jobs     map[string]bool
	bulk     []string
}

func newRecordingView(v scheduler.View) *recordingView {
	return &recordingView{View: v, cronJobs: map[string]bool{}, jobs: map[string]bool{}}
}

func (r *recordingView) job(name string) {
	r.mu.Lock()
	r.jobs[name] = true
	r.mu.Unlock()
}

func (r *recordingView) list(what string) {
	r.mu.Lock()
	r.bulk = append(r.bulk, what)
	r.mu.Unlock()
}

func (r *recordingView) CronJob(ns, name string) *pb.CronJob {
	r.mu.Lock()
	r.cronJobs[name] = true
	r.mu.Unlock()
	return r.View.CronJob(ns, name)
}

func (r *recordingView) JobsOfCronJob(ns, cron string) []*pb.Job {
	r.mu.Lock()
	r.cronJobs[cron] = true
	r.mu.Unlock()
	return r.View.JobsOfCronJob(ns, cron)
}

func (r *recordingView) JobsBeyondHistory(ns, cron string, keepOK, keepFailed int) []*pb.Job {
	r.mu.Lock()
	r.cronJobs[cron] = true
	r.mu.Unlock()
	return r.View.JobsBeyondHistory(ns, cron, keepOK, keepFailed)
}

func (r *recordingView) Job(ns, name string) *pb.Job {
	r.job(name)
	return r.View.Job(ns, name)
}

func (r *recordingView) Attempts(ns, job string) []*pb.Attempt {
	r.job(job)
	return r.View.Attempts(ns, job)
}

func (r *recordingView) Attempt(ns, name string) *pb.Attempt {
	a := r.View.Attempt(ns, name)
	if a != nil {
		r.job(a.GetJob())
	}
	return a
}

func (r *recordingView) CronJobs() []*pb.CronJob {
	r.list("CronJobs")
	return r.View.CronJobs()
}

func (r *recordingView) UnfinishedJobs() []*pb.Job {
	r.list("UnfinishedJobs")
	return r.View.UnfinishedJobs()
}

func (r *recordingView) FinishedJobs() []*pb.Job {
	r.list("FinishedJobs")
	return r.View.FinishedJobs()
}

func (r *recordingView) UnfinishedAttempts() []*pb.Attempt {
	r.list("UnfinishedAttempts")
	return r.View.UnfinishedAttempts()
}

// fsmApplier applies commands to an FSM as Raft would, one entry per call.
type fsmApplier struct {
	t     *testing.T
	fsm   *raft.FSM
	index uint64
}

func (a *fsmApplier) apply(cmds ...*pb.Command) {
	a.t.Helper()
	if len(cmds) == 0 {
		return
	}
	cmd := cmds[0]
	if len(cmds) > 1 {
		cmd = &pb.Command{Op: &pb.Command_Batch{Batch: &pb.Batch{Commands: cmds}}}
	}
	data, err := raft.EncodeCommand(cmd)
	if err != nil {
		a.t.Fatal(err)
	}
	a.index++
	results := []*pb.CommandResult{}
	switch r := a.fsm.Apply(&hraft.Log{Index: a.index, Term: 1, Type: hraft.LogCommand, Data: data}).(type) {
	case *pb.CommandResult:
		results = append(results, r)
	case *raft.BatchResult:
		results = r.Results
	}
	for i, r := range results {
		if r.GetError() != "" && r.GetCode() != "Conflict" {
			a.t.Fatalf("command %d (%T) of entry %d: %s", i, cmds[i].GetOp(), a.index, r.GetError())
		}
	}
}

// settle runs leader steps at now and applies what they decide until a step
// decides nothing; a leader that keeps deciding on an unchanged state fails.
func (a *fsmApplier) settle(term *term, st *raft.State, workers []scheduler.WorkerInfo, now time.Time) {
	a.t.Helper()
	for i := 0; ; i++ {
		cmds, _ := term.decide(st, st.TakeChanges(), workers, nil, time.Minute, now)
		if len(cmds) == 0 {
			return
		}
		if i == 5 {
			a.t.Fatalf("the leader keeps deciding on an unchanged state: %d commands", len(cmds))
		}
		a.apply(cmds...)
	}
}

func benchCronJob(name, schedule string, created time.Time) *pb.CronJob {
	return &pb.CronJob{
		Metadata: &pb.ObjectMeta{Name: name, Namespace: "default", CreationTimestamp: timestamppb.New(created)},
		Spec: &pb.CronJobSpec{Schedule: schedule, JobTemplate: &pb.JobTemplateSpec{Spec: &pb.JobSpec{
			Template: &pb.PodTemplateSpec{Spec: &pb.PodSpec{RestartPolicy: "Never",
				Containers: []*pb.Container{{Name: "main", Image: "busybox", Command: []string{"/bin/true"}}}}},
		}}},
	}
}

// A change to one CronJob makes the leader read that CronJob and its own
// Jobs only: no other CronJob or Job, and no whole table. The commands it
// decides name nothing else either.
func TestLeaderStepTouchesOnlyWhatChanged(t *testing.T) {
	t0 := time.Date(2026, 5, 19, 10, 0, 0, 0, time.UTC)
	fsm := raft.NewFSM(slog.New(slog.NewTextHandler(io.Discard, nil)))
	st := fsm.State()
	a := &fsmApplier{t: t, fsm: fsm}

	// 100 CronJobs firing every 5 minutes, each with a finished Job and an
	// unfinished one.
	const n = 100
	var cjs []*pb.CronJob
	for i := range n {
		cjs = append(cjs, benchCronJob(fmt.Sprintf("cj-%03d", i), "*/5 * * * *", t0))
	}
	a.apply(&pb.Command{Op: &pb.Command_ApplyResources{ApplyResources: &pb.ApplyResources{CronJobs: cjs, Now: timestamppb.New(t0)}}})
	for i := range n {
		cron := fmt.Sprintf("cj-%03d", i)
		var jobs []*pb.Job
		for _, suffix := range []string{"old", "new"} {
			jobs = append(jobs, &pb.Job{
				Metadata: &pb.ObjectMeta{Name: cron + "-" + suffix, Namespace: "default", CreationTimestamp: timestamppb.New(t0)},
				Spec:     cjs[i].GetSpec().GetJobTemplate().GetSpec(),
				Status:   &pb.JobStatus{CronJob: cron, ScheduledTime: timestamppb.New(t0)},
			})
		}
		a.apply(&pb.Command{Op: &pb.Command_CreateJobs{CreateJobs: &pb.CreateJobs{Jobs: jobs}}})
		a.apply(&pb.Command{Op: &pb.Command_PutJobStatus{PutJobStatus: &pb.PutJobStatus{Namespace: "default", Name: cron + "-old",
			Status: &pb.JobStatus{Succeeded: 1, CompletionTime: timestamppb.New(t0), Conditions: []*pb.JobCondition{
				{Type: "Complete", Status: "True", LastTransitionTime: timestamppb.New(t0)}}}}}})
	}

	cfg := Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	cfg.setDefaults()
	workers := []scheduler.WorkerInfo{{ID: "w1", Slots: 1000, Runtime: "docker"}}
	st.TrackChanges(true)
	term := newTerm(cfg, t0)
	now := t0.Add(10 * time.Second)
	// The first step looks at everything; let the state settle.
	a.settle(term, st, workers, now)
	if got := len(st.AttemptsOnWorker("w1")); got != n {
		t.Fatalf("%d attempts on w1 after the first steps, want %d (one per unfinished Job)", got, n)
	}

	// cj-042 now fires every minute: its tick at 10:01 is due.
	changed := benchCronJob("cj-042", "* * * * *", t0)
	a.apply(&pb.Command{Op: &pb.Command_ApplyResources{ApplyResources: &pb.ApplyResources{CronJobs: []*pb.CronJob{changed}, Now: timestamppb.New(now)}}})
	now = t0.Add(time.Minute + time.Second)

	ownJob := func(name string) bool { return strings.HasPrefix(name, "cj-042-") }
	for step := 1; step <= 3; step++ {
		rec := newRecordingView(st)
		cmds, _ := term.decide(rec, st.TakeChanges(), workers, nil, time.Minute, now)
		if len(rec.bulk) > 0 {
			t.Errorf("step %d listed whole tables: %v", step, rec.bulk)
		}
		var others []string
		for name := range rec.cronJobs {
			if name != "cj-042" {
				others = append(others, "cronjob "+name)
			}
		}
		for name := range rec.jobs {
			if !ownJob(name) {
				others = append(others, "job "+name)
			}
		}
		sort.Strings(others)
		if len(others) > 0 {
			t.Errorf("step %d read what did not change: %v", step, others)
		}
		for _, c := range cmds {
			if name := commandSubject(c); name != "cj-042" && !ownJob(name) {
				t.Errorf("step %d decided %T for %s", step, c.GetOp(), name)
			}
		}
		if step == 1 && !hasCreateJob(cmds, "cj-042-") {
			t.Errorf("step 1 did not create the Job of cj-042's due tick: %d commands", len(cmds))
		}
		a.apply(cmds...)
	}
	if got := len(st.AttemptsOnWorker("w1")); got != n+1 {
		t.Errorf("%d attempts on w1, want %d (the new Job's attempt placed)", got, n+1)
	}

	// With every slot taken, a Job waiting for one is not planned again on
	// every step: a change to cj-044 does not read cj-043's waiting Job.
	full := []scheduler.WorkerInfo{{ID: "w1", Slots: n + 1, Runtime: "docker"}}
	a.apply(&pb.Command{Op: &pb.Command_ApplyResources{ApplyResources: &pb.ApplyResources{CronJobs: []*pb.CronJob{benchCronJob("cj-043", "* * * * *", t0)}, Now: timestamppb.New(now)}}})
	cmds, _ := term.decide(st, st.TakeChanges(), full, nil, time.Minute, now)
	if !hasCreateJob(cmds, "cj-043-") {
		t.Fatalf("cj-043's due tick made no Job")
	}
	a.apply(cmds...)
	cmds, _ = term.decide(st, st.TakeChanges(), full, nil, time.Minute, now)
	a.apply(cmds...)
	if _, ok := term.waiting.at[scheduler.Ref{Namespace: "default", Name: hasJobOf(st, "cj-043")}]; !ok {
		t.Fatalf("cj-043's Job is not waiting for a slot: %v", term.waiting)
	}
	a.apply(&pb.Command{Op: &pb.Command_SetSuspend{SetSuspend: &pb.SetSuspend{Kind: "CronJob", Namespace: "default", Name: "cj-044", Suspend: true}}})
	rec := newRecordingView(st)
	term.decide(rec, st.TakeChanges(), full, nil, time.Minute, now)
	for name := range rec.jobs {
		if strings.HasPrefix(name, "cj-043-") {
			t.Errorf("with no free slot, the step read the waiting Job %s", name)
		}
	}

	// A slot frees up (here: a second worker connects): the waiting Job is
	// placed though nothing about it changed.
	more := append(full, scheduler.WorkerInfo{ID: "w2", Slots: 1, Runtime: "docker"})
	cmds, _ = term.decide(st, st.TakeChanges(), more, nil, time.Minute, now)
	a.apply(cmds...)
	if got := len(st.AttemptsOnWorker("w2")); got != 1 {
		t.Errorf("%d attempts on w2 after it connected, want 1 (the waiting Job's)", got)
	}
	if term.waiting.len() != 0 {
		t.Errorf("Jobs still waiting: %v", term.waiting.at)
	}
}

// hasJobOf returns the name of a Job of cronJob that has not finished.
func hasJobOf(st *raft.State, cronJob string) string {
	for _, j := range st.JobsOfCronJob("default", cronJob) {
		if !j.Finished() && strings.HasPrefix(j.GetMetadata().GetName(), cronJob+"-") && !strings.HasSuffix(j.GetMetadata().GetName(), "-new") {
			return j.GetMetadata().GetName()
		}
	}
	return ""
}

// commandSubject is the CronJob or Job (or, for attempts, the Job) a
// scheduler command is about.
func commandSubject(c *pb.Command) string {
	switch op := c.GetOp().(type) {
	case *pb.Command_UpdateCronJobStatus:
		return op.UpdateCronJobStatus.GetName()
	case *pb.Command_CreateJobs:
		return op.CreateJobs.GetJobs()[0].GetMetadata().GetName()
	case *pb.Command_PutJobStatus:
		return op.PutJobStatus.GetName()
	case *pb.Command_CreateAttempts:
		return op.CreateAttempts.GetAttempts()[0].GetJob()
	case *pb.Command_AssignAttempt:
		return op.AssignAttempt.GetName()
	case *pb.Command_RequestKill:
		return op.RequestKill.GetName()
	case *pb.Command_DeleteResource:
		return op.DeleteResource.GetName()
	}
	return fmt.Sprintf("%T", c.GetOp())
}

func hasCreateJob(cmds []*pb.Command, prefix string) bool {
	for _, c := range cmds {
		for _, j := range c.GetCreateJobs().GetJobs() {
			if strings.HasPrefix(j.GetMetadata().GetName(), prefix) {
				return true
			}
		}
	}
	return false
}

// With a backlog of Jobs waiting for a slot, a run that ends makes the next
// step read only the oldest few waiting Jobs (as many as there are free
// slots, and waitingMargin more), not the whole backlog, and the oldest
// waiting Job gets the slot.
func TestBacklogStepReadsOnlyTheOldestWaitingJobs(t *testing.T) {
	t0 := time.Date(2026, 5, 19, 10, 0, 0, 0, time.UTC)
	fsm := raft.NewFSM(slog.New(slog.NewTextHandler(io.Discard, nil)))
	st := fsm.State()
	a := &fsmApplier{t: t, fsm: fsm}
	const backlog = 400
	spec := benchCronJob("x", "* * * * *", t0).GetSpec().GetJobTemplate().GetSpec()
	var jobs []*pb.Job
	for i := range backlog {
		jobs = append(jobs, &pb.Job{
			Metadata: &pb.ObjectMeta{Name: fmt.Sprintf("job-%03d", i), Namespace: "default", CreationTimestamp: timestamppb.New(t0)},
			Spec:     spec,
		})
	}
	a.apply(&pb.Command{Op: &pb.Command_CreateJobs{CreateJobs: &pb.CreateJobs{Jobs: jobs}}})

	cfg := Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	cfg.setDefaults()
	workers := []scheduler.WorkerInfo{{ID: "w1", Slots: 1, Runtime: "docker"}}
	st.TrackChanges(true)
	term := newTerm(cfg, t0)
	now := t0.Add(time.Hour)
	a.settle(term, st, workers, now)
	onW1 := func() string {
		t.Helper()
		as := st.AttemptsOnWorker("w1")
		if len(as) != 1 {
			t.Fatalf("%d attempts on w1, want 1", len(as))
		}
		return as[0].GetJob()
	}
	// Their attempts were created in one step: oldest first is by name.
	if got, want := onW1(), "job-000"; got != want {
		t.Fatalf("the slot went to %s, want %s", got, want)
	}
	if term.waiting.len() != backlog-1 {
		t.Fatalf("%d Jobs waiting, want %d", term.waiting.len(), backlog-1)
	}

	// The run ends: the next step reads its own Job and the oldest
	// waiting ones only.
	done := st.AttemptsOnWorker("w1")[0]
	a.apply(&pb.Command{Op: &pb.Command_ReportAttempt{ReportAttempt: &pb.ReportAttempt{Namespace: "default", Name: done.GetName(),
		Worker: "w1", Incarnation: done.GetIncarnation(), State: "Succeeded", StartTime: timestamppb.New(now), FinishTime: timestamppb.New(now)}}})
	rec := newRecordingView(st)
	cmds, _ := term.decide(rec, st.TakeChanges(), workers, nil, time.Minute, now)
	a.apply(cmds...)
	if read, most := len(rec.jobs), 1+1+waitingMargin; read > most {
		t.Errorf("the step read %d Jobs of a backlog of %d, want at most %d", read, backlog, most)
	}
	if got, want := onW1(), "job-001"; got != want {
		t.Errorf("the freed slot went to %s, want the oldest waiting Job %s", got, want)
	}
}

// A silent worker's attempts are marked Lost at the step due when its lost
// time has passed, not at whatever step happens next: the leader asks to
// wake then, and not earlier than lease + kill allowance.
func TestLeaderWakesWhenASilentWorkersAttemptsAreLost(t *testing.T) {
	t0 := time.Date(2026, 5, 19, 10, 0, 0, 0, time.UTC)
	fsm := raft.NewFSM(slog.New(slog.NewTextHandler(io.Discard, nil)))
	st := fsm.State()
	a := &fsmApplier{t: t, fsm: fsm}
	job := &pb.Job{
		Metadata: &pb.ObjectMeta{Name: "held", Namespace: "default", CreationTimestamp: timestamppb.New(t0)},
		Spec:     benchCronJob("x", "* * * * *", t0).GetSpec().GetJobTemplate().GetSpec(),
	}
	a.apply(&pb.Command{Op: &pb.Command_CreateJobs{CreateJobs: &pb.CreateJobs{Jobs: []*pb.Job{job}}}})
	cfg := Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	cfg.setDefaults()
	st.TrackChanges(true)
	term := newTerm(cfg, t0)
	a.settle(term, st, []scheduler.WorkerInfo{{ID: "w1", Slots: 1, Runtime: "docker"}}, t0)
	if got := len(st.AttemptsOnWorker("w1")); got != 1 {
		t.Fatalf("%d attempts on w1, want 1", got)
	}

	heard := t0.Add(time.Second)
	lost := map[string]time.Time{"w1": heard}
	lostAfter := 3*time.Second + KillAllowance
	now := heard.Add(2 * time.Second)
	cmds, next := term.decide(st, st.TakeChanges(), nil, lost, lostAfter, now)
	if len(cmds) != 0 {
		t.Fatalf("decided %d commands before the lease and the kill allowance passed", len(cmds))
	}
	if want := heard.Add(lostAfter); !next.Equal(want) {
		t.Errorf("next step at %v, want %v (last heard + lease + kill allowance)", next, want)
	}
	cmds, _ = term.decide(st, st.TakeChanges(), nil, lost, lostAfter, next.Add(-time.Millisecond))
	if len(cmds) != 0 {
		t.Errorf("decided %d commands a millisecond before the attempt is lost", len(cmds))
	}
	cmds, _ = term.decide(st, st.TakeChanges(), nil, lost, lostAfter, next)
	if len(cmds) == 0 || cmds[0].GetMarkAttemptLost() == nil {
		t.Fatalf("at the lost time the step decided %v, want the attempt marked Lost", cmds)
	}
}
