package client

import (
	"context"
	"errors"
	"io"
	"iter"
	"strconv"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// Kinds a Watch can follow besides CronJob and Job.
const (
	KindAttempt = pb.KindAttempt
	KindEvent   = pb.KindEvent
)

// Watch event types.
const (
	Added    = pb.WatchAdded
	Modified = pb.WatchModified
	Deleted  = pb.WatchDeleted
	// Bookmark carries no object: every change up to its Index was sent.
	// The first one after a watch from index 0 ends the initial list.
	Bookmark = pb.WatchBookmark
)

// WatchOptions says what to watch.
type WatchOptions struct {
	Namespace     string
	AllNamespaces bool
	// Name: only the object of this name.
	Name string
	// SinceIndex: 0 sends the current objects first (as Added, then a
	// Bookmark), then every change; otherwise only changes applied after
	// this Raft index (an index an earlier watch event carried).
	SinceIndex uint64
}

// errStopped ends the retry loop when the caller stops iterating.
var errStopped = errors.New("watch stopped")

// Watch streams changes of one kind (CronJob, Job, Attempt, Event; "" for
// every kind) as the servers commit them. Iterate it:
//
//	for ev, err := range c.Watch(ctx, client.KindJob, client.WatchOptions{Namespace: "default"}) {
//		if err != nil { ... }   // the last value: the watch has ended
//		fmt.Println(ev.GetType(), ev.ObjectName())
//	}
//
// The watch runs until ctx is done (then it ends without an error) or the
// caller stops. When a server goes away it resumes on another one from the
// last index it saw, so no change is missed or repeated; when no server
// holds the changes since that index any more, it starts over from the
// current objects (sent as Added again, after a Bookmark).
func (c *Client) Watch(ctx context.Context, kind string, opts WatchOptions) iter.Seq2[*pb.WatchEvent, error] {
	return func(yield func(*pb.WatchEvent, error) bool) {
		since := opts.SinceIndex
		err := c.retry(ctx, "watch", func(ctx context.Context, rpc pb.RaftCronClient, _ attemptInfo) error {
			if n := c.index.Load(); n > 0 {
				ctx = metadata.AppendToOutgoingContext(ctx, pb.MetadataMinIndex, strconv.FormatUint(n, 10))
			}
			stream, err := rpc.Watch(ctx, &pb.WatchRequest{Kind: kind, Namespace: opts.Namespace,
				AllNamespaces: opts.AllNamespaces, Name: opts.Name, SinceIndex: since})
			if err != nil {
				return err
			}
			// Events of the initial list all carry the list's index: only
			// its closing bookmark may move the resume point.
			listing := since == 0
			for {
				ev, err := stream.Recv()
				switch {
				case err == nil:
				case errors.Is(err, io.EOF), status.Code(err) == codes.Canceled && ctx.Err() == nil:
					// The server ended the stream (shutting down): resume elsewhere.
					return status.Error(codes.Unavailable, "watch stream ended by the server")
				case status.Code(err) == codes.OutOfRange:
					since = 0 // start over from the current objects
					return status.Error(codes.Unavailable, status.Convert(err).Message())
				default:
					return err
				}
				switch {
				case listing && ev.GetType() == Bookmark:
					listing = false
					since = ev.GetIndex()
				case !listing && ev.GetIndex() > since:
					since = ev.GetIndex()
				}
				if !yield(ev, nil) {
					return noRetry{errStopped}
				}
			}
		})
		if err == nil || errors.Is(err, errStopped) || ctx.Err() != nil {
			return
		}
		yield(nil, err)
	}
}

// ListEvents lists what happened in a namespace (all with allNamespaces),
// oldest first: all of it, or only about one CronJob (with its Jobs and
// attempts) or one Job (with its attempts).
func (c *Client) ListEvents(ctx context.Context, namespace string, allNamespaces bool, cronJob, job string) ([]*pb.Event, error) {
	var out []*pb.Event
	err := c.do(ctx, "list events", func(ctx context.Context, rpc pb.RaftCronClient, _ attemptInfo) error {
		resp, err := rpc.ListEvents(ctx, &pb.ListEventsRequest{Namespace: namespace, AllNamespaces: allNamespaces, CronJob: cronJob, Job: job})
		if err != nil {
			return err
		}
		out = resp.GetEvents()
		return nil
	})
	return out, err
}
