package raft

import (
	"errors"
	"fmt"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// Sentinel errors at the package border. Callers map them to gRPC codes.
var (
	// ErrNotLeader is returned (wrapped in *NotLeaderError) by Apply, Join and
	// Remove on a node that is not the leader.
	ErrNotLeader = errors.New("not the leader")
	// ErrNotFound, ErrInvalid and ErrConflict are the domain errors an applied
	// command can return (CommandResult.code NotFound, Invalid, Conflict).
	ErrNotFound = errors.New("not found")
	ErrInvalid  = errors.New("invalid")
	ErrConflict = errors.New("conflict")
)

// Result codes of CommandResult.code.
const (
	CodeNotFound = "NotFound"
	CodeInvalid  = "Invalid"
	CodeConflict = "Conflict"
)

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

// CommandError is a domain error returned as a value by the FSM. It matches
// ErrNotFound, ErrInvalid or ErrConflict with errors.Is, following its Code.
type CommandError struct {
	Code    string
	Message string
}

func (e *CommandError) Error() string { return e.Message }

// Is maps the code to the package's sentinel errors.
func (e *CommandError) Is(target error) bool {
	switch e.Code {
	case CodeNotFound:
		return target == ErrNotFound
	case CodeInvalid:
		return target == ErrInvalid
	case CodeConflict:
		return target == ErrConflict
	}
	return false
}

// ResultError turns a CommandResult into an error: nil on success, otherwise
// a *CommandError carrying the result's code and message.
func ResultError(r *pb.CommandResult) error {
	if r == nil || (r.GetError() == "" && r.GetCode() == "") {
		return nil
	}
	msg := r.GetError()
	if msg == "" {
		msg = r.GetCode()
	}
	return &CommandError{Code: r.GetCode(), Message: msg}
}

// FirstError returns the first error among results (see ResultError), or nil.
func FirstError(results []*pb.CommandResult) error {
	for _, r := range results {
		if err := ResultError(r); err != nil {
			return err
		}
	}
	return nil
}
