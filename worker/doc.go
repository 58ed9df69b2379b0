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
// before its lease runs out, so that it is dead when the lease ends.
//
// The leader declares a worker lost after WorkerTTL without a message and
// marks its attempts Lost only once a full LeaseTTL has also passed since it
// last heard from the worker. The worker measures from the time it sent a
// heartbeat, the leader from the (later) time it received one, so with clocks
// running at the same rate the worker's kill always happens first.
//
// Attempts assigned during a session get the session's current lease
// horizon (the send time of the Hello or of the latest renewed heartbeat).
// Attempts found at start-up get Config.InitialLease (default 10s) until the
// first renewal.
//
// # Stopping and restarting
//
// A clean stop (Run's context cancelled) leaves containers and exec processes
// running, so that a restarted worker re-adopts them; nothing enforces their
// leases while the worker is down, so stopping a worker for longer than a
// lease can let a replacement run beside them until the worker is back (it
// then kills them, as the leader no longer renews them). A restarted worker
// lists its containers by the label raftcron.io/worker, reports the ones that
// ended while it was down, names every attempt it still holds (running, or
// with an unacknowledged result) in Hello, and kills and removes those the
// first renewal leaves out. A container is removed once its result is
// acknowledged; its output stays in DataDir/logs/<namespace>/<attempt>.log.
//
// An exec process that ended while the worker was down could not be waited
// for: its exit status is unknown, and it is reported Failed with reason
// WorkerLost (the verdict the leader reaches when a worker never returns).
package worker
