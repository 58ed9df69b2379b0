package cluster

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/raft"
	"github.com/raftcron/raftcron/scheduler"
)

// forwardedKey marks a request a follower passed on, so it is never passed on twice.
const forwardedKey = "raftcron-forwarded"

// leaderOnly lists the API calls only the leader answers, with a constructor
// for each reply so a follower can forward the call as it is.
var leaderOnly = map[string]func() proto.Message{
	pb.RaftCron_Apply_FullMethodName:        func() proto.Message { return new(pb.ApplyResponse) },
	pb.RaftCron_Delete_FullMethodName:       func() proto.Message { return new(pb.DeleteResponse) },
	pb.RaftCron_SetSuspend_FullMethodName:   func() proto.Message { return new(pb.SetSuspendResponse) },
	pb.RaftCron_Trigger_FullMethodName:      func() proto.Message { return new(pb.Job) },
	pb.RaftCron_ListAttempts_FullMethodName: func() proto.Message { return new(pb.ListAttemptsResponse) },
	pb.RaftCron_ListWorkers_FullMethodName:  func() proto.Message { return new(pb.ListWorkersResponse) },
	pb.RaftCron_Join_FullMethodName:         func() proto.Message { return new(pb.JoinResponse) },
	pb.RaftCron_RemovePeer_FullMethodName:   func() proto.Message { return new(pb.RemovePeerResponse) },

	pb.RaftCron_UpdateClusterSettings_FullMethodName: func() proto.Message { return new(pb.ClusterSettings) },
}

// forwardUnary sends leader-only calls that reach a follower on to the leader,
// so clients never see "not leader". Errors of every call are mapped to gRPC
// codes here, in one place.
func (s *Server) forwardUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	newReply, ok := leaderOnly[info.FullMethod]
	if !ok || s.node.IsLeader() {
		resp, err := handler(ctx, req)
		return resp, toStatus(err)
	}
	conn, err := s.leaderConn(ctx)
	if err != nil {
		return nil, err
	}
	reply := newReply()
	ctx = metadata.AppendToOutgoingContext(ctx, forwardedKey, s.cfg.NodeID)
	if err := conn.Invoke(ctx, info.FullMethod, req, reply); err != nil {
		return nil, err
	}
	return reply, nil
}

// leaderConn is a connection to the leader for a request that reached a
// follower, or codes.Unavailable (which clients retry) when there is none.
func (s *Server) leaderConn(ctx context.Context) (*grpc.ClientConn, error) {
	if md, ok := metadata.FromIncomingContext(ctx); ok && len(md.Get(forwardedKey)) > 0 {
		return nil, status.Error(codes.Unavailable, "not the leader (leadership moved while the request was forwarded); retry")
	}
	addr := s.leaderGRPCAddr()
	if addr == "" || addr == s.cfg.GRPCAdvertise {
		return nil, status.Error(codes.Unavailable, "no leader elected yet; retry")
	}
	conn, err := s.peer(addr)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "reach leader %s: %v", addr, err)
	}
	return conn, nil
}

// errResult turns a domain error returned from the FSM into a Go error.
func errResult(r *pb.CommandResult) error {
	if r == nil || r.GetError() == "" {
		return nil
	}
	switch r.GetCode() {
	case "NotFound":
		return fmt.Errorf("%s: %w", r.GetError(), scheduler.ErrNotFound)
	case "Invalid":
		return fmt.Errorf("%s: %w", r.GetError(), scheduler.ErrInvalid)
	default:
		return fmt.Errorf("%s: %w", r.GetError(), errConflict)
	}
}

var errConflict = errors.New("conflict")

// toStatus maps package errors to gRPC status codes.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, raft.ErrNotLeader):
		return status.Error(codes.Unavailable, err.Error()+"; retry")
	case errors.Is(err, scheduler.ErrNotFound), errors.Is(err, raft.ErrNotFound):
		return status.Error(codes.NotFound, trimSentinel(err, scheduler.ErrNotFound))
	case errors.Is(err, scheduler.ErrAlreadyExists):
		return status.Error(codes.AlreadyExists, trimSentinel(err, scheduler.ErrAlreadyExists))
	case errors.Is(err, scheduler.ErrInvalid), errors.Is(err, raft.ErrInvalid):
		return status.Error(codes.InvalidArgument, trimSentinel(err, scheduler.ErrInvalid))
	case errors.Is(err, errConflict):
		return status.Error(codes.FailedPrecondition, trimSentinel(err, errConflict))
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	}
	return status.Error(codes.Internal, err.Error())
}

// trimSentinel drops a trailing ": <sentinel>" so users read the message alone.
func trimSentinel(err, sentinel error) string {
	msg := err.Error()
	suffix := ": " + sentinel.Error()
	if len(msg) > len(suffix) && msg[len(msg)-len(suffix):] == suffix {
		return msg[:len(msg)-len(suffix)]
	}
	return msg
}
