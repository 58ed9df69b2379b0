package cluster

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/raftcron/raftcron/auth"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/raft"
)

// statusCodes is the one mapping from errors to gRPC codes: the domain
// errors (proto/raftcron/v1/errors.go, including those of applied commands
// through pb.CommandResult.Err) and the context's.
var statusCodes = []struct {
	err  error
	code codes.Code
}{
	{pb.ErrNotFound, codes.NotFound},
	{pb.ErrAlreadyExists, codes.AlreadyExists},
	{pb.ErrInvalid, codes.InvalidArgument},
	{pb.ErrConflict, codes.FailedPrecondition},
	{pb.ErrLimitExceeded, codes.ResourceExhausted},
	{auth.ErrUnauthenticated, codes.Unauthenticated},
	{auth.ErrPermissionDenied, codes.PermissionDenied},
	{context.DeadlineExceeded, codes.DeadlineExceeded},
	{context.Canceled, codes.Canceled},
}

// toStatus maps an error to a gRPC status error. A status passes through; a
// lost or absent leader is Unavailable (clients retry it); anything else
// unknown is Internal.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	if errors.Is(err, raft.ErrNotLeader) {
		return status.Error(codes.Unavailable, err.Error()+"; retry")
	}
	for _, m := range statusCodes {
		if errors.Is(err, m.err) {
			return status.Error(m.code, strings.TrimSuffix(err.Error(), ": "+m.err.Error()))
		}
	}
	return status.Error(codes.Internal, err.Error())
}

// statusStream maps the error a streaming call returns, as forwardUnary
// does for unary calls.
func statusStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return toStatus(handler(srv, ss))
}
