package worker

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"
)

var _ Runtime = (*NoopRuntime)(nil)

// NoopRuntime runs nothing: every attempt it starts has exited 0 at once. It
// exists for load tests of the control plane (raftcron bench), where the cost
// of starting processes or containers would hide the cost of scheduling.
// Nothing survives a worker restart, so a restarted worker holds nothing.
type NoopRuntime struct {
	mu    sync.Mutex
	next  uint64
	insts map[string]Instance
}

// NewNoopRuntime returns an empty NoopRuntime.
func NewNoopRuntime() *NoopRuntime { return &NoopRuntime{insts: map[string]Instance{}} }

func (n *NoopRuntime) Name() string { return "noop" }

// runsNothing tells the agent that attempts need no guard, lease file or
// attempt directory here.
func (n *NoopRuntime) runsNothing() {}

func (n *NoopRuntime) Start(_ context.Context, t *Task) (string, error) {
	now := time.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	n.next++
	id := "noop-" + strconv.FormatUint(n.next, 10)
	n.insts[id] = Instance{
		ID: id, Attempt: t.Attempt, Job: t.Job, Index: t.Index, StartTime: now,
		Exit: ExitStatus{StartTime: now, FinishTime: now},
	}
	return id, nil
}

func (n *NoopRuntime) Wait(_ context.Context, id, _ string) (ExitStatus, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	inst, ok := n.insts[id]
	if !ok {
		return ExitStatus{}, fmt.Errorf("noop attempt %s: not found", id)
	}
	return inst.Exit, nil
}

func (n *NoopRuntime) Kill(context.Context, string, time.Duration) error { return nil }

func (n *NoopRuntime) Remove(_ context.Context, id string) error {
	n.mu.Lock()
	delete(n.insts, id)
	n.mu.Unlock()
	return nil
}

func (n *NoopRuntime) List(context.Context) ([]Instance, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]Instance, 0, len(n.insts))
	for _, inst := range n.insts {
		out = append(out, inst)
	}
	return out, nil
}

func (n *NoopRuntime) Close() error { return nil }
