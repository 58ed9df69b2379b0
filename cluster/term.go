package cluster

import (
	"container/heap"
	"time"

	"github.com/google/btree"

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
	// waiting: Jobs with a Pending attempt no worker could take, oldest
	// first.
	waiting *waitQueue
	timers  jobTimers
	// pending: per Job, why each of its Pending attempts ("ns/name") waits.
	pending map[scheduler.Ref]map[string]string
}

func newTerm(cfg Config, since time.Time) *term {
	return &term{
		cfg: cfg, since: since, full: true,
		cron:    scheduler.NewCronController(cfg.Cron, cfg.Logger),
		waiting: newWaitQueue(),
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
	next = earliest(next, scheduler.NextLeaseExpiry(v, lost, now, lostAfter))

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
		t.waiting = newWaitQueue()
		t.timers = jobTimers{set: map[jobTimer]bool{}}
		t.pending = map[scheduler.Ref]map[string]string{}
		rec = scheduler.ReconcileSome(v, append(v.UnfinishedJobs(), created...), workers, now, t.cfg.Jobs)
		rec.Commands = append(rec.Commands, scheduler.KillAttemptsOfFinishedJobs(v, now)...)
		// History limits matter only to CronJobs with finished Jobs:
		// those are looked at, not every CronJob (whose specs the State
		// keeps encoded: reading 100,000 costs a second).
		finished := v.FinishedJobs()
		seen := map[scheduler.Ref]bool{}
		var crons []scheduler.Ref
		for _, j := range finished {
			if cj := j.GetStatus().GetCronJob(); cj != "" {
				r := scheduler.Ref{Namespace: j.GetMetadata().GetNamespace(), Name: cj}
				if !seen[r] {
					seen[r] = true
					crons = append(crons, r)
				}
			}
		}
		gcCmds, gcWake = scheduler.CollectGarbageOf(v, crons, finished, now)
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
		// The oldest waiting Jobs, as many as there are free slots (and a
		// few more, for Jobs at the head that wait for something else than
		// a slot): with every slot taken none of them can move, and a
		// backlog of thousands is not planned again each time a run ends.
		if free := freeSlots(v, workers); free > 0 {
			for _, r := range t.waiting.oldest(free + waitingMargin) {
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
				t.waiting.remove(r)
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
			t.waiting.remove(r)
			delete(t.pending, r)
		}
		cronRefs := make([]scheduler.Ref, 0, len(crons))
		for r := range crons {
			cronRefs = append(cronRefs, r)
		}
		gcCmds, gcWake = scheduler.CollectGarbageOf(v, cronRefs, finished, now)
	}
	for _, r := range rec.Waiting {
		t.waiting.add(r, waitingSince(v, r, now))
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

// waitingSince orders a waiting Job as placement orders attempts: by the
// creation of its oldest Pending attempt. A Job without one in the View (its
// attempts are created in this step, at now, or wait for the namespace's
// attempt budget) goes by now.
func waitingSince(v scheduler.View, r scheduler.Ref, now time.Time) time.Time {
	since := now
	for _, a := range v.Attempts(r.Namespace, r.Name) {
		if a.GetState() == pb.AttemptPending && a.GetCreatedTime().AsTime().Before(since) {
			since = a.GetCreatedTime().AsTime()
		}
	}
	return since
}

// freeSlots counts the free slots of the connected workers.
func freeSlots(v scheduler.View, workers []scheduler.WorkerInfo) int {
	free := 0
	for _, w := range workers {
		free += max(0, w.Slots-len(v.AttemptsOnWorker(w.ID)))
	}
	return free
}

// waitingMargin: how many waiting Jobs a step looks at beyond the free
// slots, for those at the head of the queue that wait for something other
// than a slot (a worker that matches, the namespace's attempt budget, their
// CronJob's previous run under Forbid).
const waitingMargin = 64

// waitQueue holds the Jobs waiting for a worker or a slot, ordered as
// placement orders their attempts (oldest Pending attempt, then namespace
// and name), so that a step takes the oldest few in time proportional to
// how many it takes.
type waitQueue struct {
	at    map[scheduler.Ref]time.Time
	order *btree.BTreeG[waitItem]
}

type waitItem struct {
	since time.Time
	ref   scheduler.Ref
}

func (a waitItem) less(b waitItem) bool {
	if !a.since.Equal(b.since) {
		return a.since.Before(b.since)
	}
	if a.ref.Namespace != b.ref.Namespace {
		return a.ref.Namespace < b.ref.Namespace
	}
	return a.ref.Name < b.ref.Name
}

func newWaitQueue() *waitQueue {
	return &waitQueue{at: map[scheduler.Ref]time.Time{}, order: btree.NewG(32, waitItem.less)}
}

func (q *waitQueue) add(r scheduler.Ref, since time.Time) {
	q.remove(r)
	q.at[r] = since
	q.order.ReplaceOrInsert(waitItem{since: since, ref: r})
}

func (q *waitQueue) remove(r scheduler.Ref) {
	if since, ok := q.at[r]; ok {
		q.order.Delete(waitItem{since: since, ref: r})
		delete(q.at, r)
	}
}

func (q *waitQueue) len() int { return len(q.at) }

// oldest returns up to n of the oldest waiting Jobs.
func (q *waitQueue) oldest(n int) []scheduler.Ref {
	out := make([]scheduler.Ref, 0, min(n, len(q.at)))
	q.order.Ascend(func(it waitItem) bool {
		out = append(out, it.ref)
		return len(out) < n
	})
	return out
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
