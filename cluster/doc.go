// Package cluster is one raftcron server: it wires the Raft node, the
// scheduler's leader loop, the gRPC API and worker sessions, forwards writes
// from followers to the leader, tracks workers and their leases, and serves
// /healthz, /readyz and /metrics. It never imports worker or client.
package cluster
