// Package scheduler holds the leader's decisions as plain functions over a
// read-only View of the replicated state and a Clock: which cron ticks are due
// and what happens to each (invoke or skip, and why), concurrency policy,
// catch-up after downtime, Job progress (attempts, backoff, deadlines,
// podFailurePolicy, completion), placement on workers, lost attempts and
// garbage collection. It also validates specs and fills their defaults, checks
// the quotas and limits of user writes (Limits), and builds run specs (with
// Secret values resolved for the worker that runs an attempt).
//
// It returns Raft commands (raftcronv1.Command); it never proposes them, and it
// imports no gRPC, no Docker and no hashicorp/raft. The leader loop in
// package cluster runs it, over what changed: ReconcileSome, CollectGarbageOf
// and CronController.Update take the Jobs and CronJobs to look at, so a step
// never walks every CronJob or Job.
package scheduler
