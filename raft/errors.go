package raft

import (
	"errors"
	"fmt"
)

// ErrNotLeader is returned (wrapped in *NotLeaderError) by Apply, Join and
// Remove on a node that is not the leader. Domain errors of applied commands
// travel in the results (pb.CommandResult.Err, proto/raftcron/v1/errors.go).
var ErrNotLeader = errors.New("not the leader")

// NotLeaderError says which node is the leader, when it is known. It matches
// ErrNotLeader with errors.Is; Unwrap returns the underlying hashicorp/raft
// error, if any (for example hraft.ErrLeadershipLost, after which the
// command may or may not have been committed).
type NotLeaderError struct {
	LeaderID   string
	LeaderAddr string
	Err        error
}

func (e *NotLeaderError) Error() string {
	msg := "not the leader"
	if e.LeaderID != "" || e.LeaderAddr != "" {
		msg = fmt.Sprintf("not the leader (leader is %s at %s)", e.LeaderID, e.LeaderAddr)
	} else {
		msg += " (no leader known)"
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is reports whether target is ErrNotLeader.
func (e *NotLeaderError) Is(target error) bool { return target == ErrNotLeader }

// Unwrap returns the underlying raft error.
func (e *NotLeaderError) Unwrap() error { return e.Err }
