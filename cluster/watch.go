package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/raft"
)

// watchBookmarkEvery: a watch whose filter matched nothing for this long is
// sent a BOOKMARK, so that it can resume from a recent index.
const watchBookmarkEvery = 10 * time.Second

// watchKind is the kind a WatchRequest names ("" = every kind).
func watchKind(k string) (string, error) {
	switch k {
	case "":
		return "", nil
	case "Attempt", "attempt", "attempts":
		return pb.KindAttempt, nil
	case "Event", "event", "events", "ev":
		return pb.KindEvent, nil
	}
	if n := normalKind(k); n != "" {
		return n, nil
	}
	return "", fmt.Errorf("watch: kind %q is not CronJob, Job, Attempt or Event: %w", k, pb.ErrInvalid)
}

// Watch streams the changes this server's replica applies, from its watch
// log (raft/watch.go), woken by the FSM after every entry: no polling.
func (a *api) Watch(req *pb.WatchRequest, stream pb.RaftCron_WatchServer) error {
	ctx := stream.Context()
	kind, err := watchKind(req.GetKind())
	if err != nil {
		return err
	}
	if req.GetName() != "" && kind == "" {
		return fmt.Errorf("watch: name %q needs a kind: %w", req.GetName(), pb.ErrInvalid)
	}
	ns := namespaceOr(req.GetNamespace())
	if req.GetAllNamespaces() {
		ns = ""
	}
	if err := a.s.awaitReadIndex(ctx); err != nil {
		return err
	}
	match := func(ev *pb.WatchEvent) bool {
		return (kind == "" || ev.ObjectKind() == kind) &&
			(ns == "" || ev.ObjectNamespace() == ns) &&
			(req.GetName() == "" || ev.ObjectName() == req.GetName())
	}
	// Subscribe before reading, so that no entry slips between the read
	// and the wait.
	changes, unsubscribe := a.s.node.FSM().Subscribe()
	defer unsubscribe()
	st := a.s.node.State()
	since := req.GetSinceIndex()
	if since == 0 {
		list, at := st.WatchList(kind, ns)
		for _, ev := range list {
			if match(ev) {
				if err := stream.Send(ev); err != nil {
					return err
				}
			}
		}
		if err := stream.Send(&pb.WatchEvent{Type: pb.WatchBookmark, Index: at}); err != nil {
			return err
		}
		since = at
	}
	lastSent := a.s.cfg.Clock.Now()
	for {
		evs, last, err := st.WatchChanges(since)
		if errors.Is(err, raft.ErrWatchGone) {
			return status.Errorf(codes.OutOfRange, "watch: %v; watch again from index 0", err)
		}
		if err != nil {
			return err
		}
		sent := false
		for _, ev := range evs {
			if !match(ev) {
				continue
			}
			if err := stream.Send(ev); err != nil {
				return err
			}
			sent = true
		}
		if last > since {
			since = last
			now := a.s.cfg.Clock.Now()
			if sent {
				lastSent = now
			} else if now.Sub(lastSent) >= watchBookmarkEvery {
				if err := stream.Send(&pb.WatchEvent{Type: pb.WatchBookmark, Index: since}); err != nil {
					return err
				}
				lastSent = now
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changes:
		}
	}
}

// ListEvents lists the events this server's replica holds, oldest first.
func (a *api) ListEvents(ctx context.Context, req *pb.ListEventsRequest) (*pb.ListEventsResponse, error) {
	ns := namespaceOr(req.GetNamespace())
	if req.GetAllNamespaces() {
		ns = ""
	}
	return &pb.ListEventsResponse{Events: a.s.node.State().Events(ns, req.GetCronJob(), req.GetJob())}, nil
}
