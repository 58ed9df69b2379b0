package worker

import (
	"context"
	"fmt"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// ReasonWorkerDrained is the reason of attempts a draining worker stopped or
// refused: they are reported Lost, so the leader runs them again elsewhere
// without counting them against backoffLimit (a podFailurePolicy rule on
// DisruptionTarget can count them or fail the Job instead).
const ReasonWorkerDrained = pb.ReasonWorkerDrained

const (
	// drainKillGrace bounds the kill grace of attempts stopped at the end
	// of a drain: the stop must end within a bound the supervisor knows.
	drainKillGrace = 5 * time.Second
	// drainReportWait bounds the wait for the leader to acknowledge the
	// reports of the attempts a drain stopped.
	drainReportWait = 10 * time.Second
)

// drain stops the worker taking attempts, waits up to DrainTimeout for its
// running attempts, then kills those left (their lease guards too) and
// waits for the leader to acknowledge their Lost reports, so that they run
// again elsewhere and nothing is left behind. ctx is the worker's own
// context, still live: the session with the leader carries on meanwhile.
func (a *Agent) drain(ctx context.Context) {
	a.mu.Lock()
	a.draining = true
	n := len(a.unfinishedLocked())
	a.mu.Unlock()
	select {
	case a.drainNow <- struct{}{}: // tell the leader at once
	default:
	}
	a.logger.Info("draining: taking no new attempts", "running", n, "drain_timeout", a.cfg.DrainTimeout)
	if !a.waitAttempts(ctx, a.cfg.DrainTimeout) {
		left := a.unfinished()
		a.logger.Warn("drain timeout: killing the attempts still running; they are handed back to the cluster", "attempts", len(left), "drain_timeout", a.cfg.DrainTimeout)
		for _, at := range left {
			a.kill(ctx, at, ReasonWorkerDrained, fmt.Sprintf("its worker %s was stopped (drain timeout %s)", a.cfg.ID, a.cfg.DrainTimeout),
				min(a.grace(at, nil), drainKillGrace))
		}
		if !a.waitAttempts(ctx, drainKillGrace+2*killConfirm+guardReady) {
			a.logger.Warn("attempts did not end after their kill; their lease guards end them", "attempts", len(a.unfinished()))
		}
	}
	// An attempt is forgotten once the leader acknowledged its final
	// report: wait for that, not only for the reports queued so far (an
	// attempt that just ended may not have queued its report yet).
	deadline := time.Now().Add(drainReportWait)
	for a.unacknowledged() > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	if n := a.unacknowledged(); n > 0 {
		// No leader took the reports (the servers stopped first, or are
		// cut off). Leave nothing behind anyway: the leader marks these
		// attempts Lost when their leases run out, the same verdict.
		a.logger.Warn("drained with reports no leader acknowledged; removing their containers anyway (the leader marks them Lost when their leases run out)", "unacknowledged", n)
		a.removeFinished()
		return
	}
	a.logger.Info("drained: no attempt left running")
}

// removeFinished removes what the runtime keeps of every ended attempt
// (containers); their logs stay.
func (a *Agent) removeFinished() {
	a.mu.Lock()
	var ids []*attempt
	for _, at := range a.attempts {
		if at.finished && at.id != "" {
			ids = append(ids, at)
		}
	}
	a.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, at := range ids {
		if err := a.rt.Remove(ctx, at.id); err != nil {
			a.logger.Warn("remove drained attempt", "attempt", at.ref.GetName(), "id", at.id, "err", err)
		}
	}
}

// isDraining reports whether the worker drains.
func (a *Agent) isDraining() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.draining
}

// unfinishedLocked lists the attempts that have not ended. Call with a.mu held.
func (a *Agent) unfinishedLocked() []*attempt {
	var out []*attempt
	for _, at := range a.attempts {
		if !at.finished {
			out = append(out, at)
		}
	}
	return out
}

func (a *Agent) unfinished() []*attempt {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.unfinishedLocked()
}

// unacknowledged counts the reports not yet acknowledged and the attempts
// whose final report the leader has not acknowledged.
func (a *Agent) unacknowledged() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.reports) + len(a.attempts)
}

// waitAttempts waits up to d for every attempt to end; false on timeout.
func (a *Agent) waitAttempts(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for _, at := range a.unfinished() {
		select {
		case <-at.done:
		case <-t.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
	return true
}
