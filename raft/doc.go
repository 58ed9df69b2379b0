// Package raft owns the replicated state: the Raft command encoding, the FSM
// (deterministic Apply, Snapshot, Restore), the in-memory tables of CronJobs,
// Jobs, Attempts, servers, the cluster settings, ACL tokens and Secrets (whose
// values leave the State only through SecretValue, for the leader's run specs)
// with their indexes, and opening hashicorp/raft
// (imported as hraft) over raft-boltdb and a file snapshot store, with
// bootstrap, join and remove.
//
// Apply never reads a clock, random numbers, the network or Docker: the leader
// stamps times and ids into commands. This package must never import
// scheduler, cluster, worker or client.
//
// Objects in State are immutable once published: Apply stores changed clones,
// and getters return shared pointers that callers must not modify. CronJobs
// are kept with their specs encoded (cronjob.go), so a CronJob getter returns
// a new CronJob around its decoded spec (shared through a small cache of the
// specs decoded lately) and its shared metadata and status: callers must not
// modify it either. Apply
// returns a *pb.CommandResult per command (a *BatchResult for a Batch);
// domain errors travel in the result, and pb.CommandResult.Err turns one into an error
// matching pb.ErrNotFound, pb.ErrInvalid or pb.ErrConflict.
package raft
