package cluster

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/raft"
)

func reportCmd(name string) *pb.Command {
	return &pb.Command{Op: &pb.Command_ReportAttempt{ReportAttempt: &pb.ReportAttempt{Namespace: "default", Name: name, State: "Running"}}}
}

// Reports submitted together from several sessions travel in a few entries,
// in the order they were submitted, and each is answered once.
func TestReportBatcherCoalescesInOrder(t *testing.T) {
	var mu sync.Mutex
	var entries [][]string
	propose := func(ctx context.Context, cmds ...*pb.Command) (func(context.Context) ([]*pb.CommandResult, error), error) {
		names := make([]string, len(cmds))
		res := make([]*pb.CommandResult, len(cmds))
		for i, c := range cmds {
			names[i] = c.GetReportAttempt().GetName()
			res[i] = &pb.CommandResult{Actions: []string{names[i]}}
		}
		mu.Lock()
		entries = append(entries, names)
		mu.Unlock()
		return func(context.Context) ([]*pb.CommandResult, error) { return res, nil }, nil
	}
	b := newReportBatcher(propose)
	const n = 1000
	answered := make(chan string, n)
	// Queue every report before the batcher runs, as a burst does.
	for i := range n {
		name := string(rune('a'+i%26)) + "-" + time.Duration(i).String()
		if err := b.submit(context.Background(), nil, reportCmd(name), func(res *pb.CommandResult, err error) {
			if err != nil || res.GetActions()[0] != name {
				t.Errorf("report %s answered with %v, %v", name, res, err)
			}
			answered <- name
		}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); b.run(ctx) }()
	for range n {
		select {
		case <-answered:
		case <-time.After(10 * time.Second):
			t.Fatal("not every report was answered")
		}
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	// At most 512 per entry; a window may close early on a slow machine,
	// but never one entry per report.
	if len(entries) < (n+reportMaxBatch-1)/reportMaxBatch || len(entries) > n/20 {
		t.Errorf("%d reports took %d entries, want between %d and %d", n, len(entries), (n+reportMaxBatch-1)/reportMaxBatch, n/20)
	}
	i := 0
	for _, e := range entries {
		for _, name := range e {
			want := string(rune('a'+i%26)) + "-" + time.Duration(i).String()
			if name != want {
				t.Fatalf("report %d in the entries is %s, want %s (order lost)", i, name, want)
			}
			i++
		}
	}
}

// A proposal that fails answers every report in it with the error, so the
// session can redirect its worker when leadership is gone.
func TestReportBatcherFailsBatchOnProposeError(t *testing.T) {
	propose := func(ctx context.Context, cmds ...*pb.Command) (func(context.Context) ([]*pb.CommandResult, error), error) {
		return nil, raft.ErrNotLeader
	}
	b := newReportBatcher(propose)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go b.run(ctx)
	got := make(chan error, 1)
	if err := b.submit(ctx, nil, reportCmd("x"), func(_ *pb.CommandResult, err error) { got <- err }); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-got:
		if !errors.Is(err, raft.ErrNotLeader) || !notLeader(err) {
			t.Errorf("error %v, want one that means not leader", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the report was never answered")
	}
}
