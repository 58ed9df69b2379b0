// Package cluster is one raftcron server: it wires the Raft node, the
// scheduler's leader loop, the gRPC API and worker sessions, forwards writes
// from followers to the leader, tracks workers and their leases, and serves
// /healthz, /readyz, /metrics and the dashboard of ui/ under /ui/ (which reads
// through this server's own gRPC API, as a client would). The worker timing (heartbeat interval,
// worker TTL, lease TTL) it uses is the cluster settings record replicated
// through Raft; its own flags only seed that record in a new cluster.
//
// The leader loop does work proportional to what changed: the FSM records
// the CronJobs and Jobs each entry touches (raft.State.TakeChanges), and a
// step looks only at those, at the Jobs whose timers came due (deadlines,
// backoffs, TTLs, in a min-heap) and at the Jobs waiting for a worker; only
// the first step of a term (and one after a restore) looks at everything.
// Its entries are kept in flight together, and worker reports from all
// sessions are batched into one entry per 2 ms window. It never imports
// worker or client.
package cluster
