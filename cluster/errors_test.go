package cluster

import (
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/raft"
	"github.com/raftcron/raftcron/scheduler"
)

// One path from an FSM result or a package error to the gRPC status.
func TestToStatusOneMapping(t *testing.T) {
	for _, c := range []struct {
		err  error
		code codes.Code
		msg  string
	}{
		{(&pb.CommandResult{Code: pb.CodeConflict, Error: "attempt a is Failed, not Pending"}).Err(), codes.FailedPrecondition, "attempt a is Failed, not Pending"},
		{(&pb.CommandResult{Code: pb.CodeNotFound, Error: "cronjob ns/x not found"}).Err(), codes.NotFound, "cronjob ns/x not found"},
		{(&pb.CommandResult{Code: pb.CodeInvalid, Error: "bad"}).Err(), codes.InvalidArgument, "bad"},
		{fmt.Errorf("job %q not found: %w", "j", scheduler.ErrNotFound), codes.NotFound, `job "j" not found`},
		{fmt.Errorf("trigger: %w", scheduler.ErrAlreadyExists), codes.AlreadyExists, "trigger"},
		{fmt.Errorf("apply: %w", &raft.NotLeaderError{}), codes.Unavailable, "apply: not the leader (no leader known); retry"},
		{errors.New("disk on fire"), codes.Internal, "disk on fire"},
	} {
		st, _ := status.FromError(toStatus(c.err))
		if st.Code() != c.code || st.Message() != c.msg {
			t.Errorf("toStatus(%v) = %v %q, want %v %q", c.err, st.Code(), st.Message(), c.code, c.msg)
		}
	}
	if toStatus(nil) != nil {
		t.Error("toStatus(nil) is not nil")
	}
}
