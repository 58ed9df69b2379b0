// Package worker is the worker agent: one session with the cluster (dial out,
// follow the leader, reconnect), running attempts through a Runtime (docker or
// exec), leases that kill runs the cluster no longer vouches for, reports that
// are retried until acknowledged, reconciliation after a reconnect or restart,
// and local log files. It never imports raft or cluster.
package worker
