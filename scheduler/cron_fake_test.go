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

	cronJobCalls  int // CronJob(namespace, name)
	cronJobsCalls int // CronJobs()
}

var _ View = (*cronFakeView)(nil)

func newCronFakeView(cjs ...*pb.CronJob) *cronFakeView {
	v := &cronFakeView{cronJobs: map[string]*pb.CronJob{}, jobs: map[string]*pb.Job{}}
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
	var out []*pb.Job
	for _, j := range v.jobs {
		if j.GetMetadata().GetNamespace() == namespace && j.GetStatus().GetCronJob() == cronJob {
			out = append(out, j)
		}
	}
	sort.Slice(out, func(a, b int) bool {
		ta, tb := out[a].GetStatus().GetScheduledTime().AsTime(), out[b].GetStatus().GetScheduledTime().AsTime()
		if !ta.Equal(tb) {
			return ta.Before(tb)
		}
		return out[a].GetMetadata().GetName() < out[b].GetMetadata().GetName()
	})
	return out
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

// apply applies the controller's commands the way the FSM does.
func (v *cronFakeView) apply(cmds []*pb.Command) {
	for _, c := range cmds {
		switch op := c.Op.(type) {
		case *pb.Command_CreateJobs:
			for _, j := range op.CreateJobs.GetJobs() {
				k := fvKey(j.GetMetadata().GetNamespace(), j.GetMetadata().GetName())
				if v.jobs[k] == nil {
					v.jobs[k] = proto.Clone(j).(*pb.Job)
				}
			}
		case *pb.Command_UpdateCronJobStatus:
			u := op.UpdateCronJobStatus
			k := fvKey(u.GetNamespace(), u.GetName())
			old := v.cronJobs[k]
			if old == nil {
				continue
			}
			n := proto.Clone(old).(*pb.CronJob)
			if n.Status == nil {
				n.Status = &pb.CronJobStatus{}
			}
			for _, d := range u.GetDecisions() {
				n.Status.Decisions = append(n.Status.Decisions, proto.Clone(d).(*pb.ScheduleDecision))
			}
			if l := u.GetLastScheduleTime(); l != nil && (n.Status.LastScheduleTime == nil || l.AsTime().After(n.Status.LastScheduleTime.AsTime())) {
				n.Status.LastScheduleTime = l
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
