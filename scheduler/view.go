package scheduler

import pb "github.com/raftcron/raftcron/proto/raftcron/v1"

// View is the read-only state the scheduler decides from. *raft.State
// implements it. Objects returned are shared and immutable: the FSM replaces
// an object with a changed copy and never mutates one it has published, so a
// View's answers are safe to keep but must never be modified.
type View interface {
	CronJob(namespace, name string) *pb.CronJob
	// CronJobs returns every CronJob, ordered by namespace and name.
	CronJobs() []*pb.CronJob
	// CronJobsVersion changes whenever a CronJob is created or deleted or its
	// spec changes (not on status changes), so a controller can skip rescans.
	CronJobsVersion() uint64
	Job(namespace, name string) *pb.Job
	// JobsOfCronJob returns the Jobs made by a CronJob, oldest scheduled time first.
	JobsOfCronJob(namespace, cronJob string) []*pb.Job
	// JobsBeyondHistory returns what a CronJob's history limits let go:
	// its finished Jobs other than the newest keepSucceeded that completed
	// and the newest keepFailed that failed, oldest first (as
	// JobsBeyondHistoryOf computes it from JobsOfCronJob). A View that
	// counts each CronJob's finished Jobs answers without reading them
	// all: history garbage collection runs each time a Job finishes.
	JobsBeyondHistory(namespace, cronJob string, keepSucceeded, keepFailed int) []*pb.Job
	// UnfinishedJobs returns every Job without a Complete or Failed condition.
	UnfinishedJobs() []*pb.Job
	// FinishedJobs returns every Job with a Complete or Failed condition.
	FinishedJobs() []*pb.Job
	Attempt(namespace, name string) *pb.Attempt
	// Attempts returns the attempts of one Job, by index then number.
	Attempts(namespace, job string) []*pb.Attempt
	// UnfinishedAttempts returns every attempt in Pending, Assigned or Running.
	UnfinishedAttempts() []*pb.Attempt
	// AttemptsOnWorker returns the unfinished (Assigned or Running) attempts
	// assigned to a worker.
	AttemptsOnWorker(worker string) []*pb.Attempt
}

// JobsBeyondHistoryOf is View.JobsBeyondHistory computed from a CronJob's
// Jobs (JobsOfCronJob's order), for Views that keep no counts.
func JobsBeyondHistoryOf(jobs []*pb.Job, keepSucceeded, keepFailed int) []*pb.Job {
	var ok, failed []*pb.Job
	for _, j := range jobs {
		switch c := j.FinishedCondition(); {
		case c == nil:
		case c.GetType() == pb.ConditionComplete:
			ok = append(ok, j)
		default:
			failed = append(failed, j)
		}
	}
	var out []*pb.Job
	if n := len(ok) - keepSucceeded; n > 0 {
		out = append(out, ok[:n]...)
	}
	if n := len(failed) - keepFailed; n > 0 {
		out = append(out, failed[:n]...)
	}
	return out
}
