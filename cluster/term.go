package cluster

import (
	"container/heap"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/raft"
	"github.com/raftcron/raftcron/scheduler"
)

// term is what the leader loop keeps between steps during one term of
// leadership, so that each step looks only at what changed: the cron heap,
// the Jobs waiting for a worker or a slot, the timers of the Jobs (deadlines,
// backoffs, TTLs) and why Pending attempts are waiting.
type term struct {
	cfg   Config
	since time.Time // when this term began
	cron  *scheduler.CronController
	// clock keeps decisions from following a wall clock that jumps; the
	// monotonic time is measured from since.
	clock scheduler.ClockGuard

	// full: the next step looks at every Job and CronJob (first step,
	// after a restore, after a proposal failed).
	full bool
	// waiting: Jobs with a Pending attempt no worker could take.
	waiting map[scheduler.Ref]bool
	timers  jobTimers
	// pending: per Job, why each of its Pending attempts ("ns/name") waits.
	pending map[scheduler.Ref]map[string]string
}

func newTerm(cfg Config, since time.Time) *term {
	return &term{
		cfg: cfg, since: since, full: true,
		cron:    scheduler.NewCronController(cfg.Cron, cfg.Logger),
		waiting: map[scheduler.Ref]bool{},
		timers:  jobTimers{set: map[jobTimer]bool{}},
		pending: map[scheduler.Ref]map[string]string{},
	}
}

// now is the time this step decides with (see scheduler.ClockGuard) and the
// size of a clock jump first seen in this reading (0: none).
func (t *term) now(wall time.Time) (time.Time, time.Duration) {
	// Sub uses the monotonic readings of both times when they have them
	// (the real clock); Round(0) drops it, leaving the wall clock.
	return t.clock.Now(wall.Round(0), wall.Sub(t.since))
}

// decide returns the commands of one step, in the order they may be applied
// one after another, and when the next step is due (zero: only on change).
//
// It reads the View only for what changed (ch), the Jobs whose timers are
// due, the Jobs waiting for a worker and the CronJobs whose ticks are due;
// nothing in it walks every CronJob or every Job, except a full step.
func (t *term) decide(v scheduler.View, ch raft.Changes, workers []scheduler.WorkerInfo, lost map[string]time.Time, lostAfter time.Duration, now time.Time) ([]*pb.Command, time.Time) {
	full := t.full || ch.All
	t.full = false

	var cronCmds []*pb.Command
	var next time.Time
	if full {
		t.cron.Rebuild(v)
	} else {
		t.cron.Update(v, refs(ch.CronJobs))
		// A finished upstream Job wakes the ticks waiting for it.
		t.cron.JobsChanged(v, refs(ch.Jobs))
	}
	cronCmds, next = t.cron.Tick(v, now)
	lostCmds := scheduler.LostAttempts(v, lost, now, lostAfter)

	// Jobs the cron controller creates in this step are reconciled at once:
	// their first attempts are created and placed in the same entry.
	var created []*pb.Job
	for _, c := range cronCmds {
		for _, j := range c.GetCreateJobs().GetJobs() {
			if v.Job(j.GetMetadata().GetNamespace(), j.GetMetadata().GetName()) == nil {
				created = append(created, j)
			}
		}
	}

	var rec scheduler.Reconciliation
	var gcCmds []*pb.Command
	var gcWake map[scheduler.Ref]time.Time
	if full {
		t.waiting = map[scheduler.Ref]bool{}
		t.timers = jobTimers{set: map[jobTimer]bool{}}
		t.pending = map[scheduler.Ref]map[string]string{}
		rec = scheduler.ReconcileSome(v, append(v.UnfinishedJobs(), created...), workers, now, t.cfg.Jobs)
		rec.Commands = append(rec.Commands, scheduler.KillAttemptsOfFinishedJobs(v, now)...)
		var crons []scheduler.Ref
		for _, cj := range v.CronJobs() {
			crons = append(crons, scheduler.Ref{Namespace: cj.GetMetadata().GetNamespace(), Name: cj.GetMetadata().GetName()})
		}
		gcCmds, gcWake = scheduler.CollectGarbageOf(v, crons, v.FinishedJobs(), now)
	} else {
		// The Jobs to look at: changed ones, those whose timers are due,
		// and those waiting for a worker or a slot.
		look := map[scheduler.Ref]bool{}
		for _, k := range ch.Jobs {
			look[scheduler.Ref{Namespace: k.Namespace, Name: k.Name}] = true
		}
		for _, r := range t.timers.due(now) {
			look[r] = true
		}
		// The waiting Jobs only when a worker has a free slot: with every
		// slot taken none of them can move, and a backlog is not planned
		// again on every step.
		if freeSlot(v, workers) {
			for r := range t.waiting {
				look[r] = true
			}
		}
		jobs := make([]*pb.Job, 0, len(look)+len(created))
		var finished []*pb.Job
		crons := map[scheduler.Ref]bool{}
		for _, k := range ch.CronJobs {
			crons[scheduler.Ref{Namespace: k.Namespace, Name: k.Name}] = true
		}
		for r := range look {
			j := v.Job(r.Namespace, r.Name)
			if j == nil {
				delete(t.waiting, r)
				delete(t.pending, r)
				continue
			}
			jobs = append(jobs, j)
			if j.Finished() {
				finished = append(finished, j)
				if cj := j.GetStatus().GetCronJob(); cj != "" {
					crons[scheduler.Ref{Namespace: r.Namespace, Name: cj}] = true
				}
			}
		}
		jobs = append(jobs, created...)
		rec = scheduler.ReconcileSome(v, jobs, workers, now, t.cfg.Jobs)
		for r := range look {
			delete(t.waiting, r)
			delete(t.pending, r)
		}
		cronRefs := make([]scheduler.Ref, 0, len(crons))
		for r := range crons {
			cronRefs = append(cronRefs, r)
		}
		gcCmds, gcWake = scheduler.CollectGarbageOf(v, cronRefs, finished, now)
	}
	for _, r := range rec.Waiting {
		t.waiting[r] = true
	}
	for r, m := range rec.Pending {
		t.pending[r] = m
	}
	for r, at := range rec.Wake {
		t.timers.add(r, at)
	}
	for r, at := range gcWake {
		t.timers.add(r, at)
	}
	next = earliest(next, t.timers.next())

	cmds := make([]*pb.Command, 0, len(cronCmds)+len(lostCmds)+len(rec.Commands)+len(gcCmds))
	cmds = append(cmds, cronCmds...)
	cmds = append(cmds, lostCmds...)
	cmds = append(cmds, rec.Commands...)
	cmds = append(cmds, gcCmds...)
	return cmds, next
}

// freeSlot reports whether a connected worker has a slot free.
func freeSlot(v scheduler.View, workers []scheduler.WorkerInfo) bool {
	for _, w := range workers {
		if len(v.AttemptsOnWorker(w.ID)) < w.Slots {
			return true
		}
	}
	return false
}

// pendingReasons flattens the Pending reasons for the API.
func (t *term) pendingReasons() map[string]string {
	out := map[string]string{}
	for _, m := range t.pending {
		for k, why := range m {
			out[k] = why
		}
	}
	return out
}

func refs(keys []raft.Key) []scheduler.Ref {
	out := make([]scheduler.Ref, len(keys))
	for i, k := range keys {
		out[i] = scheduler.Ref{Namespace: k.Namespace, Name: k.Name}
	}
	return out
}

// jobTimers is a min-heap of (time, Job): when a Job must be looked at again
// though nothing about it changes. A (Job, time) pair is held once.
type jobTimers struct {
	h   timerHeap
	set map[jobTimer]bool
}

type jobTimer struct {
	at  time.Time
	job scheduler.Ref
}

func (j *jobTimers) add(r scheduler.Ref, at time.Time) {
	k := jobTimer{at: at, job: r}
	if j.set[k] {
		return
	}
	j.set[k] = true
	heap.Push(&j.h, k)
}

// due pops every timer at or before now and returns their Jobs.
func (j *jobTimers) due(now time.Time) []scheduler.Ref {
	var out []scheduler.Ref
	for len(j.h) > 0 && !j.h[0].at.After(now) {
		k := heap.Pop(&j.h).(jobTimer)
		delete(j.set, k)
		out = append(out, k.job)
	}
	return out
}

func (j *jobTimers) next() time.Time {
	if len(j.h) == 0 {
		return time.Time{}
	}
	return j.h[0].at
}

type timerHeap []jobTimer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, k int) bool { return h[i].at.Before(h[k].at) }
func (h timerHeap) Swap(i, k int)      { h[i], h[k] = h[k], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(jobTimer)) }
func (h *timerHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
