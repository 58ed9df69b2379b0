package scheduler

import (
	"sort"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// cronFakeView is a tiny in-memory View for the cron tests. apply plays the
// FSM's part for the commands the cron controller emits.
type cronFakeView struct {
	version  uint64
	cronJobs map[string]*pb.CronJob
	jobs     map[string]*pb.Job
	byCron   map[string][]string // CronJob key -> its Job names, in creation order

	cronJobCalls  int // CronJob(namespace, name)
	cronJobsCalls int // CronJobs()
}

var _ View = (*cronFakeView)(nil)

func newCronFakeView(cjs ...*pb.CronJob) *cronFakeView {
	v := &cronFakeView{cronJobs: map[string]*pb.CronJob{}, jobs: map[string]*pb.Job{}, byCron: map[string][]string{}}
	for _, cj := range cjs {
		v.putCronJob(cj)
	}
	return v
}

func fvKey(namespace, name string) string { return namespace + "/" + name }

// putCronJob creates or replaces a CronJob (a spec change: bumps the version).
func (v *cronFakeView) putCronJob(cj *pb.CronJob) {
	v.cronJobs[fvKey(cj.GetMetadata().GetNamespace(), cj.GetMetadata().GetName())] = cj
	v.version++
}

// setSuspend changes spec.suspend as SetSuspend would.
func (v *cronFakeView) setSuspend(namespace, name string, suspend bool) {
	cj := proto.Clone(v.cronJobs[fvKey(namespace, name)]).(*pb.CronJob)
	cj.Spec.Suspend = proto.Bool(suspend)
	v.putCronJob(cj)
}

func (v *cronFakeView) CronJob(namespace, name string) *pb.CronJob {
	v.cronJobCalls++
	return v.cronJobs[fvKey(namespace, name)]
}

func (v *cronFakeView) CronJobs() []*pb.CronJob {
	v.cronJobsCalls++
	keys := make([]string, 0, len(v.cronJobs))
	for k := range v.cronJobs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*pb.CronJob, 0, len(keys))
	for _, k := range keys {
		out = append(out, v.cronJobs[k])
	}
	return out
}

func (v *cronFakeView) CronJobsVersion() uint64 { return v.version }

func (v *cronFakeView) Job(namespace, name string) *pb.Job { return v.jobs[fvKey(namespace, name)] }

func (v *cronFakeView) JobsOfCronJob(namespace, cronJob string) []*pb.Job {
	names := v.byCron[fvKey(namespace, cronJob)]
	out := make([]*pb.Job, 0, len(names))
	for _, n := range names {
		out = append(out, v.jobs[fvKey(namespace, n)])
	}
	sort.SliceStable(out, func(a, b int) bool {
		return out[a].GetStatus().GetScheduledTime().AsTime().Before(out[b].GetStatus().GetScheduledTime().AsTime())
	})
	return out
}

func (v *cronFakeView) JobsBeyondHistory(namespace, cronJob string, keepOK, keepFailed int) []*pb.Job {
	return JobsBeyondHistoryOf(v.JobsOfCronJob(namespace, cronJob), keepOK, keepFailed)
}

func (v *cronFakeView) UnfinishedJobs() []*pb.Job {
	var out []*pb.Job
	for _, j := range v.jobs {
		if !cronJobDone(j) {
			out = append(out, j)
		}
	}
	return out
}

func (v *cronFakeView) FinishedJobs() []*pb.Job {
	var out []*pb.Job
	for _, j := range v.jobs {
		if cronJobDone(j) {
			out = append(out, j)
		}
	}
	return out
}

func (v *cronFakeView) Attempt(namespace, name string) *pb.Attempt   { return nil }
func (v *cronFakeView) Attempts(namespace, job string) []*pb.Attempt { return nil }
func (v *cronFakeView) UnfinishedAttempts() []*pb.Attempt            { return nil }
func (v *cronFakeView) AttemptsOnWorker(string) []*pb.Attempt        { return nil }

// apply applies the controller's commands the way the FSM does.
func (v *cronFakeView) apply(cmds []*pb.Command) {
	for _, c := range cmds {
		switch op := c.Op.(type) {
		case *pb.Command_CreateJobs:
			for _, j := range op.CreateJobs.GetJobs() {
				k := fvKey(j.GetMetadata().GetNamespace(), j.GetMetadata().GetName())
				if v.jobs[k] == nil {
					v.jobs[k] = proto.Clone(j).(*pb.Job)
					if c := j.GetStatus().GetCronJob(); c != "" {
						ck := fvKey(j.GetMetadata().GetNamespace(), c)
						v.byCron[ck] = append(v.byCron[ck], j.GetMetadata().GetName())
					}
				}
			}
		case *pb.Command_UpdateCronJobStatus:
			u := op.UpdateCronJobStatus
			k := fvKey(u.GetNamespace(), u.GetName())
			old := v.cronJobs[k]
			if old == nil {
				continue
			}
			// A new object sharing the spec; the decision history is
			// appended in place (the controller never keeps old objects).
			n := &pb.CronJob{ApiVersion: old.ApiVersion, Kind: old.Kind, Metadata: old.Metadata, Spec: old.Spec, Status: old.Status}
			if n.Status == nil {
				n.Status = &pb.CronJobStatus{}
			}
			for _, d := range u.GetDecisions() {
				n.Status.Decisions = append(n.Status.Decisions, proto.Clone(d).(*pb.ScheduleDecision))
			}
			if l := u.GetLastScheduleTime(); l != nil && (n.Status.LastScheduleTime == nil || u.GetRewindLastScheduleTime() || l.AsTime().After(n.Status.LastScheduleTime.AsTime())) {
				n.Status.LastScheduleTime = l
			}
			if u.GetSetWaiting() {
				n.Status = proto.Clone(n.Status).(*pb.CronJobStatus)
				n.Status.Waiting = u.GetWaiting()
			}
			v.cronJobs[k] = n // status only: the version does not change
		case *pb.Command_PutJobStatus:
			p := op.PutJobStatus
			k := fvKey(p.GetNamespace(), p.GetName())
			old := v.jobs[k]
			if old == nil {
				continue
			}
			n := proto.Clone(old).(*pb.Job)
			st := proto.Clone(p.GetStatus()).(*pb.JobStatus)
			st.CronJob, st.ScheduledTime, st.Manual = old.GetStatus().GetCronJob(), old.GetStatus().GetScheduledTime(), old.GetStatus().GetManual()
			n.Status = st
			v.jobs[k] = n
		default:
			panic("unexpected command from the cron controller")
		}
	}
}

// finish marks a Job Complete.
func (v *cronFakeView) finish(namespace, name string, now time.Time) {
	k := fvKey(namespace, name)
	n := proto.Clone(v.jobs[k]).(*pb.Job)
	n.Status.Conditions = append(n.Status.Conditions, &pb.JobCondition{
		Type: "Complete", Status: "True", LastTransitionTime: timestamppb.New(now), Reason: "CompletionsReached",
	})
	n.Status.CompletionTime = timestamppb.New(now)
	v.jobs[k] = n
}

// failJob marks a Job Failed (BackoffLimitExceeded).
func (v *cronFakeView) failJob(namespace, name string, now time.Time) {
	k := fvKey(namespace, name)
	n := proto.Clone(v.jobs[k]).(*pb.Job)
	n.Status.Conditions = append(n.Status.Conditions, &pb.JobCondition{
		Type: "Failed", Status: "True", LastTransitionTime: timestamppb.New(now), Reason: "BackoffLimitExceeded",
		Message: "Job has reached the specified backoff limit",
	})
	n.Status.CompletionTime = timestamppb.New(now)
	v.jobs[k] = n
}
