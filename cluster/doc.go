// Package cluster is one raftcron server: it wires the Raft node, the
// scheduler's leader loop, the gRPC API and worker sessions, forwards writes
// from followers to the leader, tracks workers and their leases, and serves
// /healthz, /readyz and /metrics. The worker timing (heartbeat interval,
// worker TTL, lease TTL) it uses is the cluster settings record replicated
// through Raft; its own flags only seed that record in a new cluster. It never imports worker or client.
package cluster
