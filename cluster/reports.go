package cluster

import (
	"context"
	"errors"
	"sync"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/raft"
)

// Report batching: worker reports from every session are coalesced into one
// Raft entry per short window, and a few entries are kept in flight, so that
// a busy second costs a handful of entries instead of two per run, and no
// session waits for another's commit.
const (
	reportWindow   = 2 * time.Millisecond
	reportMaxBatch = 512
	reportInFlight = 4
	reportQueue    = 4096
)

// errReportsStopped is returned for reports submitted after the batcher stopped.
var errReportsStopped = errors.New("report batcher stopped (leadership lost)")

// reportBatcher coalesces worker reports into Raft entries.
type reportBatcher struct {
	propose proposeFunc
	in      chan reportItem
}

// reportItem is one command and what to do once it is applied (res set) or
// could not be (err set).
type reportItem struct {
	cmd  *pb.Command
	done func(res *pb.CommandResult, err error)
}

func newReportBatcher(propose proposeFunc) *reportBatcher {
	return &reportBatcher{propose: propose, in: make(chan reportItem, reportQueue)}
}

// submit queues cmd; done is called once, from another goroutine, when the
// entry carrying it is applied or has failed. It blocks while the queue is
// full (back-pressure on the sessions) until ctx ends or cancel is closed.
func (b *reportBatcher) submit(ctx context.Context, cancel <-chan struct{}, cmd *pb.Command, done func(*pb.CommandResult, error)) error {
	select {
	case b.in <- reportItem{cmd: cmd, done: done}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-cancel:
		return errReportsStopped
	}
}

// run proposes batches until ctx ends, then waits for the entries in
// flight. Proposals are made from this goroutine only, so entries are
// applied in the order their reports arrived.
func (b *reportBatcher) run(ctx context.Context) {
	slots := make(chan struct{}, reportInFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	window := time.NewTimer(time.Hour)
	window.Stop()
	defer window.Stop()
	fail := func(batch []reportItem, err error) {
		for _, it := range batch {
			it.done(nil, err)
		}
	}
	for {
		var batch []reportItem
		select {
		case <-ctx.Done():
			return
		case it := <-b.in:
			batch = append(batch, it)
		}
		window.Reset(reportWindow)
	collect:
		for len(batch) < reportMaxBatch {
			select {
			case it := <-b.in:
				batch = append(batch, it)
			case <-window.C:
				break collect
			case <-ctx.Done():
				fail(batch, errReportsStopped)
				return
			}
		}
		if !window.Stop() {
			select {
			case <-window.C:
			default:
			}
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			fail(batch, errReportsStopped)
			return
		}
		cmds := make([]*pb.Command, len(batch))
		for i, it := range batch {
			cmds[i] = it.cmd
		}
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		wait, err := b.propose(pctx, cmds...)
		if err != nil {
			cancel()
			<-slots
			fail(batch, err)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			defer cancel()
			results, err := wait(pctx)
			if err == nil && len(results) != len(batch) {
				err = errors.New("report batch: wrong number of results")
			}
			for i, it := range batch {
				if err != nil {
					it.done(nil, err)
				} else {
					it.done(results[i], nil)
				}
			}
		}()
	}
}

// notLeader reports whether err means this server no longer leads.
func notLeader(err error) bool {
	return errors.Is(err, raft.ErrNotLeader) || errors.Is(err, errReportsStopped)
}
