package raft

import (
	"bytes"
	"fmt"
	"io"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// MaxRestoreBytes bounds a snapshot given to RestoreCommand: the whole
// snapshot travels as one Raft log entry.
const MaxRestoreBytes = 64 << 20

// SnapshotCounts says what a snapshot holds.
type SnapshotCounts struct {
	CronJobs, Jobs, Attempts, Servers int
}

// WriteSnapshot writes a consistent copy of the state in the snapshot format
// FSM snapshots use (see snapshot.go). Objects are immutable, so only the
// copy of the pointers happens under the read lock.
func (s *State) WriteSnapshot(w io.Writer) error {
	s.mu.RLock()
	snap := &fsmSnapshot{
		cronJobs: make([]*storedCronJob, 0, len(s.t.cronJobs)),
		jobs:     make([]*pb.Job, 0, len(s.t.jobs)),
		attempts: make([]*pb.Attempt, 0, len(s.t.attempts)),
		servers:  make([]*pb.RegisterServer, 0, len(s.t.servers)),
	}
	for _, cj := range s.t.cronJobs {
		snap.cronJobs = append(snap.cronJobs, cj)
	}
	for _, j := range s.t.jobs {
		snap.jobs = append(snap.jobs, j)
	}
	for _, at := range s.t.attempts {
		snap.attempts = append(snap.attempts, at)
	}
	for _, srv := range s.t.servers {
		snap.servers = append(snap.servers, srv)
	}
	s.mu.RUnlock()
	return snap.write(w)
}

// ValidateSnapshot parses a whole snapshot (header, every record, trailer)
// and reports what it holds, or why it is not a usable snapshot.
func ValidateSnapshot(data []byte) (SnapshotCounts, error) {
	if len(data) > MaxRestoreBytes {
		return SnapshotCounts{}, fmt.Errorf("snapshot is %d bytes; at most %d can be restored", len(data), MaxRestoreBytes)
	}
	t, err := readSnapshot(bytes.NewReader(data))
	if err != nil {
		return SnapshotCounts{}, err
	}
	return SnapshotCounts{CronJobs: len(t.cronJobs), Jobs: len(t.jobs), Attempts: len(t.attempts), Servers: len(t.servers)}, nil
}

// RestoreCommand is the command that replaces every server's CronJobs, Jobs
// and Attempts with the snapshot's. Validate the snapshot first.
func RestoreCommand(snapshot []byte) *pb.Command {
	return &pb.Command{Op: &pb.Command_RestoreState{RestoreState: &pb.RestoreState{Snapshot: snapshot}}}
}

// restoreState swaps in the snapshot's CronJobs, Jobs and Attempts, keeping
// the servers table (addresses belong to the running cluster, not to the
// backup). A snapshot that does not parse changes nothing; every replica
// reaches the same verdict from the same bytes.
func (a *applier) restoreState(c *pb.RestoreState) *pb.CommandResult {
	fresh, err := readSnapshot(bytes.NewReader(c.GetSnapshot()))
	if err != nil {
		return fail(pb.CodeInvalid, "restore: %v", err)
	}
	fresh.servers = a.t.servers
	fresh.settings = a.t.settings
	fresh.acl = a.t.acl         // a backup never brings back revoked tokens
	fresh.secrets = a.t.secrets // a backup holds no Secrets: keep the cluster's
	fresh.cronJobsVersion = a.t.cronJobsVersion + 1
	fresh.events = a.t.events // what happened stays what happened
	fresh.rec = a.t.rec
	fresh.rec.reset = true // watchers read the state again
	if a.t.changed != nil {
		fresh.changed = newChangeSet(true) // everything may have changed
	}
	*a.t = fresh
	return ok()
}
