package client

import (
	"bytes"
	"context"
	"errors"
	"io"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// snapshotChunkBytes is the size of the chunks SnapshotRestore sends.
const snapshotChunkBytes = 1 << 20

// SnapshotSave fetches a consistent snapshot of the cluster's replicated
// state (any server passes the call to the leader, which answers after a
// Raft barrier) and returns its bytes. A stream broken half way is retried
// from the start, so the result is always a whole snapshot.
func (c *Client) SnapshotSave(ctx context.Context) ([]byte, error) {
	var out []byte
	err := c.do(ctx, "snapshot save", func(ctx context.Context, rpc pb.RaftCronClient, _ attemptInfo) error {
		stream, err := rpc.SnapshotSave(ctx, &pb.SnapshotSaveRequest{})
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		for {
			chunk, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				out = buf.Bytes()
				return nil
			}
			if err != nil {
				return err
			}
			buf.Write(chunk.GetData())
		}
	})
	return out, err
}

// SnapshotRestore replaces the cluster's CronJobs, Jobs and Attempts with
// those of a snapshot written by SnapshotSave. The server validates the
// whole snapshot first; a file that is not one is refused with an error
// wrapping ErrInvalid and nothing changes. Restoring the same snapshot twice
// gives the same state, so the call is retried like any other.
func (c *Client) SnapshotRestore(ctx context.Context, snapshot []byte) (*pb.SnapshotRestoreResponse, error) {
	var out *pb.SnapshotRestoreResponse
	err := c.do(ctx, "snapshot restore", func(ctx context.Context, rpc pb.RaftCronClient, _ attemptInfo) error {
		stream, err := rpc.SnapshotRestore(ctx)
		if err != nil {
			return err
		}
		data := snapshot
		for len(data) > 0 {
			n := min(len(data), snapshotChunkBytes)
			if err := stream.Send(&pb.SnapshotChunk{Data: data[:n]}); err != nil {
				break // CloseAndRecv returns the real error
			}
			data = data[n:]
		}
		resp, err := stream.CloseAndRecv()
		if err != nil {
			return err
		}
		out = resp
		return nil
	})
	return out, err
}
