// Package worker is the worker agent: one session with the cluster (dial out,
// follow the leader, reconnect), running attempts through a Runtime (docker or
// exec), leases that kill runs the cluster no longer vouches for, reports that
// are retried until acknowledged, reconciliation after a reconnect or restart,
// and local log files. It never imports raft or cluster.
//
// # Leases (promise 4)
//
// Each heartbeat carries a sequence number; the LeaseRenewal answering it
// lists the attempts the leader's state has unfinished on this worker. A
// listed attempt may run until (the local monotonic time the worker SENT that
// heartbeat) + lease_ttl; a running attempt known before that heartbeat was
// sent and not listed is killed (reason Killed). A worker cut off from the
// cluster starts killing an attempt one kill grace (at most half a lease)
// before its lease runs out, so that it is dead when the lease ends, and
// reports it Lost with reason WorkerLost: the leader's own verdict for it.
//
// The leader declares a worker lost after WorkerTTL without a message and
// marks its attempts Lost only once a full LeaseTTL has also passed since it
// last heard from the worker. The worker measures from the time it sent a
// heartbeat, the leader from the (later) time it received one, so with clocks
// running at the same rate the worker's kill always happens first.
//
// # The guard: a fence that outlives the worker
//
// Every attempt runs under its lease guard, raftcron-guard (worker/guard,
// built from cmd/raftcron-guard; `raftcron guard` runs the same code):
// the container's entrypoint (the static binary bind-mounted read-only at
// /.raftcron/guard, so images FROM scratch work), or the parent process of
// an exec attempt. The worker passes each renewed lease to the guard as a
// file, DataDir/attempts/<namespace>/<attempt>/lease.d/lease, holding the
// deadline on the host's CLOCK_MONOTONIC (shared by containers, immune to
// wall-clock steps; worker/guard/doc.go says why a file and why that clock).
// A kill cuts that lease short to the kill grace. The guard SIGTERMs the
// workload one grace before the deadline and SIGKILLs it at the deadline, by
// itself: if the worker is killed -9, crashes or is stopped, the workload is
// still gone when its lease ends, before the leader starts a replacement.
// The guard also records the workload's exit code and its start and end on
// one clock in record.json next to the lease.
//
// A run whose lease ran out (or that was killed) before it started never
// starts: the worker checks before it starts the container or process, and
// the guard checks again before it starts the workload. Such a run, and a
// container found created but never started after a restart, is reported
// Lost: it never ran, and no backoff limit counts it.
//
// The worker installs a copy of its guard binary (Config.GuardBinary, by
// default the raftcron-guard next to its own executable, else that
// executable) as DataDir/bin/raftcron-guard, after checking that it speaks
// this build's guard.Protocol; the docker runtime requires it to be static. A worker that runs in a container must
// see DataDir at the same path as the host, since the Docker daemon mounts
// from there.
//
// # Stopping and restarting
//
// A clean stop (Run's context cancelled) leaves containers and exec
// processes to their guards: they run until their leases end and are killed
// then, unless the worker is back before that and the cluster renews them.
// A restarted worker lists its containers by the label raftcron.io/worker
// (and its exec attempts from DataDir/exec), takes each attempt's lease from
// its guard's lease file (never granting more than the cluster did), reports
// the attempts that ended while it was down with the exit code and times of
// the guard's record, names every attempt it still holds (running, or with an
// unacknowledged result) in Hello, and kills and removes those the first
// renewal leaves out. A container is removed once its result is
// acknowledged; its output stays in DataDir/logs/<namespace>/<attempt>.log
// (capped at MaxLogSize for both runtimes), the time each line was written
// beside it in <attempt>.log.times (see guard.LogWriter: exec, the guard
// times the lines it copies; docker, the daemon's timestamps), and its guard files in
// DataDir/attempts/<namespace>/<attempt> for Config.Retention (24h), after
// which both are deleted.
//
// An attempt whose end nobody observed (no guard record, e.g. an exec
// attempt started before guards existed) is reported Lost with reason
// WorkerLost, never a failure that counts against backoffLimit.
//
// # One Docker host, several clusters
//
// The first leader gives its cluster a random id (ClusterSettings.cluster_id,
// kept in Raft); Welcome carries it. A worker records the id of the first
// cluster it joins in DataDir/cluster-id and refuses to join another with
// the same data dir. Its containers are named
// raftcron-<cluster id>-<namespace>-<attempt> and labelled
// raftcron.io/cluster; it lists as its own only containers with its worker
// label and its cluster's (or no) cluster label, and it never removes a
// container it does not own, not even one that holds the name it wants.
//
// # Times
//
// A finished report's start and finish times are the guard's: its wall clock
// when it started the workload, and that plus the duration it measured on
// the monotonic clock, so durations are never negative. The Running report's
// start time, from which the leader measures the start delay (scheduled time
// to running), is the worker host's wall clock when the runtime has started
// the attempt.
package worker
