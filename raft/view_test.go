package raft_test

import (
	"github.com/raftcron/raftcron/raft"
	"github.com/raftcron/raftcron/scheduler"
)

// *raft.State is the scheduler's read-only view of the replicated state.
var _ scheduler.View = (*raft.State)(nil)
