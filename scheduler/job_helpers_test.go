package scheduler

import (
	"sort"
	"testing"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// world is a tiny in-memory View with just enough of the FSM to apply the
// commands the Job controller returns. Like the real state it never mutates
// an object it has handed out: changes replace the object with a copy.
type world struct {
	t           *testing.T
	cronJobs    map[string]*pb.CronJob
	jobs        map[string]*pb.Job
	attempts    map[string]*pb.Attempt
	incarnation uint64
}

func newWorld(t *testing.T) *world {
	t.Helper()
	return &world{t: t, cronJobs: map[string]*pb.CronJob{}, jobs: map[string]*pb.Job{}, attempts: map[string]*pb.Attempt{}}
}

var _ View = (*world)(nil)

func wkey(ns, name string) string { return ns + "/" + name }

func (w *world) CronJob(ns, name string) *pb.CronJob { return w.cronJobs[wkey(ns, name)] }
func (w *world) CronJobs() []*pb.CronJob {
	var out []*pb.CronJob
	for _, c := range w.cronJobs {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		return wkey(out[i].Metadata.Namespace, out[i].Metadata.Name) < wkey(out[j].Metadata.Namespace, out[j].Metadata.Name)
	})
	return out
}
func (w *world) CronJobsVersion() uint64          { return 0 }
func (w *world) Job(ns, name string) *pb.Job      { return w.jobs[wkey(ns, name)] }
func (w *world) Attempt(ns, n string) *pb.Attempt { return w.attempts[wkey(ns, n)] }

func (w *world) sortedJobs(keep func(*pb.Job) bool) []*pb.Job {
	var out []*pb.Job
	for _, j := range w.jobs {
		if keep(j) {
			out = append(out, j)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return wkey(out[i].Metadata.Namespace, out[i].Metadata.Name) < wkey(out[j].Metadata.Namespace, out[j].Metadata.Name)
	})
	return out
}

func (w *world) JobsOfCronJob(ns, cron string) []*pb.Job {
	out := w.sortedJobs(func(j *pb.Job) bool { return j.Metadata.Namespace == ns && j.GetStatus().GetCronJob() == cron })
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].GetStatus().GetScheduledTime().AsTime().Before(out[j].GetStatus().GetScheduledTime().AsTime())
	})
	return out
}
func (w *world) JobsBeyondHistory(ns, cron string, keepOK, keepFailed int) []*pb.Job {
	return JobsBeyondHistoryOf(w.JobsOfCronJob(ns, cron), keepOK, keepFailed)
}
func (w *world) UnfinishedJobs() []*pb.Job {
	return w.sortedJobs(func(j *pb.Job) bool { return !j.Finished() })
}
func (w *world) FinishedJobs() []*pb.Job { return w.sortedJobs((*pb.Job).Finished) }

func (w *world) sortedAttempts(keep func(*pb.Attempt) bool) []*pb.Attempt {
	var out []*pb.Attempt
	for _, a := range w.attempts {
		if keep(a) {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Job != b.Job {
			return a.Job < b.Job
		}
		if a.Index != b.Index {
			return a.Index < b.Index
		}
		return a.Number < b.Number
	})
	return out
}
func (w *world) Attempts(ns, job string) []*pb.Attempt {
	return w.sortedAttempts(func(a *pb.Attempt) bool { return a.Namespace == ns && a.Job == job })
}
func (w *world) UnfinishedAttempts() []*pb.Attempt { return w.sortedAttempts((*pb.Attempt).Unfinished) }
func (w *world) AttemptsOnWorker(worker string) []*pb.Attempt {
	return w.sortedAttempts(func(a *pb.Attempt) bool { return a.OnWorker() && a.GetWorker() == worker })
}

// addJob stores a Job (defaults as validation would have filled them).
func (w *world) addJob(j *pb.Job) *pb.Job {
	if j.Metadata.Namespace == "" {
		j.Metadata.Namespace = "default"
	}
	SetJobSpecDefaults(j.Spec)
	w.jobs[wkey(j.Metadata.Namespace, j.Metadata.Name)] = j
	return j
}

func (w *world) addCronJob(name, policy string) *pb.CronJob {
	c := &pb.CronJob{Metadata: &pb.ObjectMeta{Name: name, Namespace: "default"},
		Spec: &pb.CronJobSpec{Schedule: "* * * * *", ConcurrencyPolicy: policy}}
	w.cronJobs[wkey("default", name)] = c
	return c
}

// mutateAttempt replaces an attempt with a changed copy.
func (w *world) mutateAttempt(name string, f func(a *pb.Attempt)) {
	w.t.Helper()
	k := wkey("default", name)
	a, ok := w.attempts[k]
	if !ok {
		w.t.Fatalf("no attempt %s", name)
	}
	c := proto.Clone(a).(*pb.Attempt)
	f(c)
	w.attempts[k] = c
}

// apply applies commands the way the FSM does, failing the test on a command
// the FSM would reject.
func (w *world) apply(cmds []*pb.Command) {
	w.t.Helper()
	for _, c := range cmds {
		switch op := c.Op.(type) {
		case *pb.Command_Batch:
			w.apply(op.Batch.Commands)
		case *pb.Command_PutJobStatus:
			k := wkey(op.PutJobStatus.Namespace, op.PutJobStatus.Name)
			j, ok := w.jobs[k]
			if !ok {
				w.t.Fatalf("PutJobStatus for missing job %s", k)
			}
			nj := proto.Clone(j).(*pb.Job)
			st := proto.Clone(op.PutJobStatus.Status).(*pb.JobStatus)
			st.CronJob, st.ScheduledTime, st.Manual = j.GetStatus().GetCronJob(), j.GetStatus().GetScheduledTime(), j.GetStatus().GetManual()
			nj.Status = st
			w.jobs[k] = nj
		case *pb.Command_CreateAttempts:
			for _, a := range op.CreateAttempts.Attempts {
				k := wkey(a.Namespace, a.Name)
				if _, ok := w.attempts[k]; ok {
					continue
				}
				if w.jobs[wkey(a.Namespace, a.Job)] == nil {
					w.t.Fatalf("attempt %s for missing job", k)
				}
				w.attempts[k] = proto.Clone(a).(*pb.Attempt)
			}
		case *pb.Command_AssignAttempt:
			as := op.AssignAttempt
			a := w.attempts[wkey(as.Namespace, as.Name)]
			if a == nil || a.State != pb.AttemptPending || a.KillRequested {
				w.t.Fatalf("AssignAttempt %s: attempt is %v", as.Name, a)
			}
			w.incarnation++
			w.mutateAttempt(as.Name, func(a *pb.Attempt) {
				a.State, a.Worker, a.AssignedTime, a.Incarnation = pb.AttemptAssigned, as.Worker, as.Now, w.incarnation
			})
		case *pb.Command_UpdateCronJobStatus:
			u := op.UpdateCronJobStatus
			k := wkey(u.Namespace, u.Name)
			cj, ok := w.cronJobs[k]
			if !ok {
				w.t.Fatalf("UpdateCronJobStatus for missing CronJob %s", k)
			}
			n := proto.Clone(cj).(*pb.CronJob)
			if n.Status == nil {
				n.Status = &pb.CronJobStatus{}
			}
			if u.LastSuccessfulTime != nil {
				n.Status.LastSuccessfulTime = u.LastSuccessfulTime
			}
			w.cronJobs[k] = n
		case *pb.Command_RequestKill:
			rk := op.RequestKill
			a := w.attempts[wkey(rk.Namespace, rk.Name)]
			if a == nil || !a.Unfinished() {
				w.t.Fatalf("RequestKill %s: attempt is %v", rk.Name, a)
			}
			if a.KillRequested {
				w.t.Fatalf("RequestKill %s twice", rk.Name)
			}
			w.mutateAttempt(rk.Name, func(a *pb.Attempt) {
				a.KillRequested, a.KillReason = true, rk.Reason
				if a.State == pb.AttemptPending {
					a.State, a.Reason, a.Message, a.FinishTime = pb.AttemptFailed, rk.Reason, rk.Message, rk.Now
				}
			})
		case *pb.Command_MarkAttemptLost:
			ml := op.MarkAttemptLost
			w.mutateAttempt(ml.Name, func(a *pb.Attempt) {
				a.State, a.Reason, a.Message, a.FinishTime = pb.AttemptLost, ml.Reason, ml.Message, ml.Now
			})
		case *pb.Command_DeleteResource:
			d := op.DeleteResource
			if d.Kind != "Job" {
				w.t.Fatalf("DeleteResource kind %q", d.Kind)
			}
			k := wkey(d.Namespace, d.Name)
			if _, ok := w.jobs[k]; !ok {
				w.t.Fatalf("DeleteResource of missing job %s", k)
			}
			delete(w.jobs, k)
			for ak, a := range w.attempts {
				if a.Namespace == d.Namespace && a.Job == d.Name {
					delete(w.attempts, ak)
				}
			}
		default:
			w.t.Fatalf("unexpected command %T", op)
		}
	}
}

// report moves an Assigned or Running attempt on, as a worker report would.
func (w *world) report(name, state string, exitCode int32, at time.Time) {
	w.t.Helper()
	a := w.attempts[wkey("default", name)]
	if a == nil || (a.State != pb.AttemptAssigned && a.State != pb.AttemptRunning) {
		w.t.Fatalf("report %s %s: attempt is %v", name, state, a)
	}
	w.mutateAttempt(name, func(a *pb.Attempt) {
		a.State = state
		a.ExitCode = exitCode
		switch state {
		case pb.AttemptRunning:
			a.StartTime = timestamppb.New(at)
		case pb.AttemptFailed:
			a.FinishTime = timestamppb.New(at)
			a.Reason = "Error"
			if a.KillRequested {
				a.Reason = a.KillReason
			}
		default:
			a.FinishTime = timestamppb.New(at)
		}
	})
}

// reconcile runs ReconcileJobs, applies its commands and checks the
// invariants a user relies on: no Job above its parallelism, no worker above
// its slots.
func (w *world) reconcile(workers []WorkerInfo, now time.Time) ([]*pb.Command, time.Time, map[string]string) {
	w.t.Helper()
	cmds, next, pending := ReconcileJobs(w, workers, now, JobOptions{})
	w.apply(cmds)
	w.checkInvariants(workers)
	return cmds, next, pending
}

func (w *world) checkInvariants(workers []WorkerInfo) {
	w.t.Helper()
	for _, j := range w.jobs {
		live := 0
		for _, a := range w.Attempts(j.Metadata.Namespace, j.Metadata.Name) {
			if a.Unfinished() && !a.KillRequested {
				live++
			}
		}
		if par := j.Spec.GetParallelism(); int32(live) > par && !j.Finished() {
			w.t.Fatalf("job %s has %d live attempts, parallelism %d", j.Metadata.Name, live, par)
		}
	}
	used := map[string]int{}
	for _, a := range w.UnfinishedAttempts() {
		if a.State != pb.AttemptPending {
			used[a.Worker]++
		}
	}
	for _, wk := range workers {
		if used[wk.ID] > wk.Slots {
			w.t.Fatalf("worker %s runs %d attempts, slots %d", wk.ID, used[wk.ID], wk.Slots)
		}
	}
}

// runAll reports every Assigned attempt Running at now.
func (w *world) runAll(now time.Time) {
	w.t.Helper()
	for _, a := range w.UnfinishedAttempts() {
		if a.State == pb.AttemptAssigned {
			w.report(a.Name, pb.AttemptRunning, 0, now)
		}
	}
}

// placed returns the names of Assigned and Running attempts.
func (w *world) placed() []string {
	var out []string
	for _, a := range w.UnfinishedAttempts() {
		if a.State == pb.AttemptAssigned || a.State == pb.AttemptRunning {
			out = append(out, a.Name)
		}
	}
	return out
}

func (w *world) job(name string) *pb.Job {
	w.t.Helper()
	j := w.jobs[wkey("default", name)]
	if j == nil {
		w.t.Fatalf("no job %s", name)
	}
	return j
}

func (w *world) attempt(name string) *pb.Attempt {
	w.t.Helper()
	a := w.attempts[wkey("default", name)]
	if a == nil {
		w.t.Fatalf("no attempt %s", name)
	}
	return a
}

func cond(j *pb.Job, typ string) *pb.JobCondition { return findCondition(j.GetStatus(), typ) }

// testJob is a Job with one busybox container.
func testJob(name string, mutate ...func(s *pb.JobSpec)) *pb.Job {
	s := &pb.JobSpec{Template: &pb.PodTemplateSpec{Spec: &pb.PodSpec{
		RestartPolicy: "Never",
		Containers:    []*pb.Container{{Name: "main", Image: "busybox:1.36", Command: []string{"true"}}},
	}}}
	for _, f := range mutate {
		f(s)
	}
	return &pb.Job{ApiVersion: "batch/v1", Kind: "Job", Metadata: &pb.ObjectMeta{Name: name, Namespace: "default"}, Spec: s}
}

func workersN(n, slots int) []WorkerInfo {
	var ws []WorkerInfo
	for i := 1; i <= n; i++ {
		ws = append(ws, WorkerInfo{ID: "w" + string(rune('0'+i)), Slots: slots, Runtime: "docker"})
	}
	return ws
}

var t0 = time.Date(2026, 5, 19, 10, 0, 0, 0, time.UTC)

func kinds(cmds []*pb.Command) []string {
	var out []string
	for _, c := range cmds {
		switch op := c.Op.(type) {
		case *pb.Command_PutJobStatus:
			out = append(out, "status:"+op.PutJobStatus.Name)
		case *pb.Command_CreateAttempts:
			for _, a := range op.CreateAttempts.Attempts {
				out = append(out, "create:"+a.Name)
			}
		case *pb.Command_AssignAttempt:
			out = append(out, "assign:"+op.AssignAttempt.Name+"@"+op.AssignAttempt.Worker)
		case *pb.Command_RequestKill:
			out = append(out, "kill:"+op.RequestKill.Name+":"+op.RequestKill.Reason)
		case *pb.Command_MarkAttemptLost:
			out = append(out, "lost:"+op.MarkAttemptLost.Name)
		case *pb.Command_DeleteResource:
			out = append(out, "delete:"+op.DeleteResource.Name)
		default:
			out = append(out, "other")
		}
	}
	return out
}
