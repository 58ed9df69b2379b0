package cluster

import (
	"context"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// maxReadWait bounds how long a server that has not applied a client's
// last write yet waits for it before it sends the client elsewhere.
const maxReadWait = 2 * time.Second

// sendIndex tells the client the index this server has applied, after a
// leader-only call: the call's own entry is at or before it.
func (s *Server) sendIndex(ctx context.Context) {
	md := metadata.Pairs(pb.MetadataIndex, strconv.FormatUint(s.node.StateIndex(), 10))
	_ = grpc.SetHeader(ctx, md)
	_ = grpc.SetTrailer(ctx, md)
}

// relayIndex passes the leader's index on to the client of a forwarded call.
func relayIndex(ctx context.Context, mds ...metadata.MD) {
	var best uint64
	for _, md := range mds {
		for _, v := range md.Get(pb.MetadataIndex) {
			if n, err := strconv.ParseUint(v, 10, 64); err == nil && n > best {
				best = n
			}
		}
	}
	if best > 0 {
		md := metadata.Pairs(pb.MetadataIndex, strconv.FormatUint(best, 10))
		_ = grpc.SetHeader(ctx, md)
		_ = grpc.SetTrailer(ctx, md)
	}
}

// awaitReadIndex makes a read wait until this server has applied the index
// of the client's last write (MetadataMinIndex), for at most maxReadWait;
// then it answers Unavailable, which the client retries on another server.
// The leader answers at once an index beyond its log.
func (s *Server) awaitReadIndex(ctx context.Context) error {
	md, _ := metadata.FromIncomingContext(ctx)
	var want uint64
	for _, v := range md.Get(pb.MetadataMinIndex) {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return status.Errorf(codes.InvalidArgument, "metadata %s: %q is not a log index", pb.MetadataMinIndex, v)
		}
		want = max(want, n)
	}
	if want == 0 || s.node.StateIndex() >= want {
		return nil
	}
	if s.node.IsLeader() && want > s.node.LastIndex() {
		// No entry of this cluster's log has that index: the client saw
		// another history (a cluster rebuilt from a backup). Waiting
		// would never end.
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, maxReadWait)
	defer cancel()
	if err := s.node.WaitApplied(wctx, want); err != nil {
		if ctx.Err() != nil {
			return toStatus(ctx.Err())
		}
		return status.Errorf(codes.Unavailable, "server %s has applied up to index %d, behind this client's last write at %d; retry",
			s.cfg.NodeID, s.node.StateIndex(), want)
	}
	return nil
}
