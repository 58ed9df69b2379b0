package cluster

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/raftcron/raftcron/auth"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
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
	pb.RaftCron_DeleteWorker_FullMethodName: func() proto.Message { return new(pb.DeleteWorkerResponse) },
	pb.RaftCron_Join_FullMethodName:         func() proto.Message { return new(pb.JoinResponse) },
	pb.RaftCron_RemovePeer_FullMethodName:   func() proto.Message { return new(pb.RemovePeerResponse) },

	pb.RaftCron_UpdateClusterSettings_FullMethodName: func() proto.Message { return new(pb.ClusterSettings) },
	pb.RaftCron_ACLBootstrap_FullMethodName:          func() proto.Message { return new(pb.ACLTokenSecret) },
	pb.RaftCron_ACLTokenCreate_FullMethodName:        func() proto.Message { return new(pb.ACLTokenSecret) },
	pb.RaftCron_ACLTokenRevoke_FullMethodName:        func() proto.Message { return new(pb.ACLTokenRevokeResponse) },
}

// leaderOnlyReads are the leader-only calls that write nothing.
var leaderOnlyReads = map[string]bool{
	pb.RaftCron_ListAttempts_FullMethodName: true,
	pb.RaftCron_ListWorkers_FullMethodName:  true,
}

// forwardUnary sends leader-only calls that reach a follower on to the leader,
// so clients never see "not leader". Errors of every call are mapped to gRPC
// codes by toStatus.
func (s *Server) forwardUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	newReply, ok := leaderOnly[info.FullMethod]
	if !ok {
		// A read: answered here once this server has the client's last write.
		if err := s.awaitReadIndex(ctx); err != nil {
			return nil, err
		}
		resp, err := handler(ctx, req)
		return resp, toStatus(err)
	}
	if s.node.IsLeader() {
		resp, err := handler(ctx, req)
		s.sendIndex(ctx)
		if err == nil && !leaderOnlyReads[info.FullMethod] {
			// Followers learn of the write now, not at Raft's next
			// CommitTimeout: a read through one finds it.
			s.node.AnnounceCommit()
		}
		return resp, toStatus(err)
	}
	conn, err := s.leaderConn(ctx)
	if err != nil {
		return nil, err
	}
	reply := newReply()
	ctx = s.forwardContext(ctx)
	var header, trailer metadata.MD
	err = conn.Invoke(ctx, info.FullMethod, req, reply, grpc.Header(&header), grpc.Trailer(&trailer))
	relayIndex(ctx, header, trailer)
	if err != nil {
		return nil, err
	}
	return reply, nil
}

// forwardContext is the outgoing context of a call a follower passes to the
// leader: marked as forwarded, with the caller's ACL token, which the
// leader checks again.
func (s *Server) forwardContext(ctx context.Context) context.Context {
	kv := []string{forwardedKey, s.cfg.NodeID}
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		for _, v := range md.Get(auth.TokenHeader) {
			kv = append(kv, auth.TokenHeader, v)
		}
	}
	return metadata.AppendToOutgoingContext(ctx, kv...)
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
