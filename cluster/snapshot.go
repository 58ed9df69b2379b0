package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/raft"
)

// snapshotChunkBytes is the size of the chunks SnapshotSave sends (well under
// gRPC's 4 MiB default message limit).
const snapshotChunkBytes = 1 << 20

// SnapshotSave streams a consistent snapshot of the replicated state. The
// leader answers after a barrier, so the snapshot holds every write
// acknowledged before the call; a follower passes the call on.
func (a *api) SnapshotSave(req *pb.SnapshotSaveRequest, stream pb.RaftCron_SnapshotSaveServer) error {
	ctx := stream.Context()
	if !a.s.node.IsLeader() {
		conn, err := a.s.leaderConn(ctx)
		if err != nil {
			return err
		}
		ctx = a.s.forwardContext(ctx)
		up, err := pb.NewRaftCronClient(conn).SnapshotSave(ctx, req)
		if err != nil {
			return err
		}
		return relay(up.Recv, stream.Send)
	}
	if err := a.s.node.Barrier(ctx); err != nil {
		return toStatus(err)
	}
	var buf bytes.Buffer
	if err := a.s.node.State().WriteSnapshot(&buf); err != nil {
		return toStatus(fmt.Errorf("snapshot: %w", err))
	}
	data := buf.Bytes()
	for len(data) > 0 {
		n := min(len(data), snapshotChunkBytes)
		if err := stream.Send(&pb.SnapshotChunk{Data: data[:n]}); err != nil {
			return err
		}
		data = data[n:]
	}
	a.s.log.Info("snapshot saved for a client", "bytes", buf.Len())
	return nil
}

// SnapshotRestore receives a snapshot, validates it (header, every record,
// trailer) and replaces the CronJobs, Jobs and Attempts of every server with
// it through one Raft entry. At most raft.MaxRestoreBytes are accepted.
func (a *api) SnapshotRestore(stream pb.RaftCron_SnapshotRestoreServer) error {
	ctx := stream.Context()
	var buf bytes.Buffer
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if buf.Len()+len(chunk.GetData()) > raft.MaxRestoreBytes {
			return status.Errorf(codes.InvalidArgument, "restore: snapshot larger than %d bytes; refused", raft.MaxRestoreBytes)
		}
		buf.Write(chunk.GetData())
	}
	data := buf.Bytes()
	counts, err := raft.ValidateSnapshot(data)
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "restore: %v; nothing was changed", err)
	}
	if !a.s.node.IsLeader() {
		conn, err := a.s.leaderConn(ctx)
		if err != nil {
			return err
		}
		ctx = a.s.forwardContext(ctx)
		up, err := pb.NewRaftCronClient(conn).SnapshotRestore(ctx)
		if err != nil {
			return err
		}
		for len(data) > 0 {
			n := min(len(data), snapshotChunkBytes)
			if err := up.Send(&pb.SnapshotChunk{Data: data[:n]}); err != nil {
				break // the real error comes from CloseAndRecv
			}
			data = data[n:]
		}
		resp, err := up.CloseAndRecv()
		if err != nil {
			return err
		}
		return stream.SendAndClose(resp)
	}
	results, err := a.s.propose(ctx, raft.RestoreCommand(data))
	if err != nil {
		return toStatus(err)
	}
	if err := results[0].Err(); err != nil {
		return toStatus(err)
	}
	// The restored attempts and what the workers run now disagree: make
	// every worker reconnect, so that reconcile (promise 6) re-adopts what
	// is still current, kills what is not and marks the rest lost.
	a.s.sessions.endAll()
	a.s.log.Info("state restored from a snapshot", "bytes", len(data),
		"cronjobs", counts.CronJobs, "jobs", counts.Jobs, "attempts", counts.Attempts)
	return stream.SendAndClose(&pb.SnapshotRestoreResponse{
		CronJobs: int64(counts.CronJobs), Jobs: int64(counts.Jobs),
		Attempts: int64(counts.Attempts), Size: int64(len(buf.Bytes())),
	})
}
