package scheduler

import (
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// CollectGarbage returns a DeleteResource (kind Job) for every finished Job
// that may go, and the next time a ttlSecondsAfterFinished runs out (zero
// when none is waiting).
//
//   - Per CronJob, finished Jobs beyond successfulJobsHistoryLimit (Complete)
//     and failedJobsHistoryLimit (Failed) are deleted, oldest first: the
//     newest ones by scheduled time are kept.
//   - A Job with ttlSecondsAfterFinished is deleted once its finish time plus
//     the TTL has come (0 = at once).
//
// A finished Job that still has unfinished attempts (being killed) is kept
// until they end: deleting it would drop the record that holds
// concurrencyPolicy Forbid and Replace back while its container still runs.
// Each Job is deleted at most once per call.
func CollectGarbage(v View, now time.Time) (cmds []*pb.Command, next time.Time) {
	deleted := map[string]bool{}
	del := func(job *pb.Job) {
		key := cronKey(job.GetMetadata().GetNamespace(), job.GetMetadata().GetName())
		if deleted[key] {
			return
		}
		deleted[key] = true
		cmds = append(cmds, &pb.Command{Op: &pb.Command_DeleteResource{DeleteResource: &pb.DeleteResource{
			Kind:      "Job",
			Namespace: job.GetMetadata().GetNamespace(),
			Name:      job.GetMetadata().GetName(),
		}}})
	}
	busy := map[string]bool{}
	for _, a := range v.UnfinishedAttempts() {
		busy[cronKey(a.GetNamespace(), a.GetJob())] = true
	}
	removable := func(job *pb.Job) bool {
		return !busy[cronKey(job.GetMetadata().GetNamespace(), job.GetMetadata().GetName())]
	}

	for _, cj := range v.CronJobs() {
		ns, name := cj.GetMetadata().GetNamespace(), cj.GetMetadata().GetName()
		keepOK, keepFailed := int32(DefaultSuccessfulJobsHistoryLimit), int32(DefaultFailedJobsHistoryLimit)
		if l := cj.GetSpec().SuccessfulJobsHistoryLimit; l != nil {
			keepOK = max(*l, 0)
		}
		if l := cj.GetSpec().FailedJobsHistoryLimit; l != nil {
			keepFailed = max(*l, 0)
		}
		var ok, failed []*pb.Job
		for _, j := range v.JobsOfCronJob(ns, name) {
			switch c := finishedCondition(j); {
			case c == nil:
			case c.GetType() == pb.ConditionComplete:
				ok = append(ok, j)
			default:
				failed = append(failed, j)
			}
		}
		for _, group := range []struct {
			jobs []*pb.Job
			keep int32
		}{{ok, keepOK}, {failed, keepFailed}} {
			extra := len(group.jobs) - int(group.keep)
			for _, j := range group.jobs {
				if extra <= 0 {
					break
				}
				if removable(j) {
					del(j)
				}
				extra--
			}
		}
	}

	for _, j := range v.FinishedJobs() {
		ttl := j.GetSpec().TtlSecondsAfterFinished
		if ttl == nil {
			continue
		}
		finished := JobFinishedTime(j)
		if finished.IsZero() {
			finished = now
		}
		at := finished.Add(time.Duration(max(*ttl, 0)) * time.Second)
		if at.After(now) {
			next = earliest(next, at)
			continue
		}
		if removable(j) {
			del(j)
		}
	}
	return cmds, next
}
