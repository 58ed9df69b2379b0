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
	var crons []Ref
	for _, cj := range v.CronJobs() {
		crons = append(crons, Ref{cj.GetMetadata().GetNamespace(), cj.GetMetadata().GetName()})
	}
	cmds, wake := CollectGarbageOf(v, crons, v.FinishedJobs(), now)
	for _, t := range wake {
		next = earliest(next, t)
	}
	return cmds, next
}

// CollectGarbageOf is CollectGarbage limited to what changed: the history
// limits of the given CronJobs, and the ttlSecondsAfterFinished of the given
// Jobs (unfinished ones are skipped). A leader calls it for the CronJobs
// whose Jobs finished or changed and for the Jobs that finished or whose TTL
// came due. wake says when each TTL not yet due runs out.
func CollectGarbageOf(v View, cronJobs []Ref, jobs []*pb.Job, now time.Time) (cmds []*pb.Command, wake map[Ref]time.Time) {
	wake = map[Ref]time.Time{}
	deleted := map[Ref]bool{}
	del := func(job *pb.Job) {
		ref := Ref{job.GetMetadata().GetNamespace(), job.GetMetadata().GetName()}
		if deleted[ref] || hasUnfinishedAttempt(v, job) {
			return
		}
		deleted[ref] = true
		cmds = append(cmds, &pb.Command{Op: &pb.Command_DeleteResource{DeleteResource: &pb.DeleteResource{
			Kind:      "Job",
			Namespace: ref.Namespace,
			Name:      ref.Name,
		}}})
	}

	for _, ref := range cronJobs {
		cj := v.CronJob(ref.Namespace, ref.Name)
		if cj == nil {
			continue
		}
		keepOK, keepFailed := int32(DefaultSuccessfulJobsHistoryLimit), int32(DefaultFailedJobsHistoryLimit)
		if l := cj.GetSpec().SuccessfulJobsHistoryLimit; l != nil {
			keepOK = max(*l, 0)
		}
		if l := cj.GetSpec().FailedJobsHistoryLimit; l != nil {
			keepFailed = max(*l, 0)
		}
		for _, j := range v.JobsBeyondHistory(ref.Namespace, ref.Name, int(keepOK), int(keepFailed)) {
			del(j)
		}
	}

	for _, j := range jobs {
		ttl := j.GetSpec().TtlSecondsAfterFinished
		if ttl == nil || !j.Finished() {
			continue
		}
		finished := JobFinishedTime(j)
		if finished.IsZero() {
			finished = now
		}
		at := finished.Add(time.Duration(max(*ttl, 0)) * time.Second)
		if at.After(now) {
			wake[Ref{j.GetMetadata().GetNamespace(), j.GetMetadata().GetName()}] = at
			continue
		}
		del(j)
	}
	return cmds, wake
}

// hasUnfinishedAttempt reports whether a Job has an attempt that is Pending,
// Assigned or Running.
func hasUnfinishedAttempt(v View, job *pb.Job) bool {
	for _, a := range v.Attempts(job.GetMetadata().GetNamespace(), job.GetMetadata().GetName()) {
		if a.Unfinished() {
			return true
		}
	}
	return false
}
