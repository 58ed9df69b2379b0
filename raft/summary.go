package raft

import (
	"cmp"
	"slices"
	"time"

	"github.com/google/btree"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// A dashboard's summary is read from counters and indexes the tables keep
// up to date as objects change, never from a scan of every Job: its cost
// grows with CronJob namespaces, unfinished work and workers, not with the
// Jobs kept.
const (
	// runHours is how many hours of run counts the state keeps.
	runHours = 25
	// summaryPending bounds the pending attempts and waiting Jobs a summary lists.
	summaryPending = 20
	// recentPerWorker is how many finished attempts per worker the state remembers.
	recentPerWorker = 10
)

type runKey struct {
	ns   string
	hour int64
}

// summaryIndex holds the derived counters. Everything in it but runs is
// rebuilt from the objects (a snapshot restore puts every object); runs are
// replicated data, written to snapshots as recordRunCount.
type summaryIndex struct {
	cronJobs  map[string]int
	suspended map[string]int
	// unfinishedJobs: per namespace, the size of tables.unfinishedJobs.
	unfinishedJobs map[string]int
	// runs: per namespace and hour; runsLast is the latest hour counted.
	runs     map[runKey]*pb.RunCount
	runsLast int64
	// finished: per worker, every stored finished attempt it ran, newest
	// first; a summary shows the first recentPerWorker. It holds them all
	// (not only the newest few) so that deleting one leaves the same list
	// as a replica rebuilt from a snapshot has.
	finished map[string]*btree.BTreeG[finishedRun]
}

// finishedRun orders a worker's finished attempts: latest finish first, then
// by namespace and name.
type finishedRun struct {
	at  time.Time
	key nsName
}

func (a finishedRun) less(b finishedRun) bool {
	if !a.at.Equal(b.at) {
		return a.at.After(b.at)
	}
	return a.key.less(b.key)
}

func newSummaryIndex() summaryIndex {
	return summaryIndex{cronJobs: map[string]int{}, suspended: map[string]int{}, unfinishedJobs: map[string]int{},
		runs: map[runKey]*pb.RunCount{}, finished: map[string]*btree.BTreeG[finishedRun]{}}
}

func addCount(m map[string]int, k string, d int) {
	if m[k] += d; m[k] <= 0 {
		delete(m, k)
	}
}

// cronJobChanged counts a CronJob stored (n) in place of old (either may be nil).
func (x *summaryIndex) cronJobChanged(ns string, old, n *storedCronJob) {
	if old != nil {
		addCount(x.cronJobs, ns, -1)
		if old.suspend {
			addCount(x.suspended, ns, -1)
		}
	}
	if n != nil {
		addCount(x.cronJobs, ns, 1)
		if n.suspend {
			addCount(x.suspended, ns, 1)
		}
	}
}

// rememberRecent indexes a finished attempt under its worker.
func (t *tables) rememberRecent(k nsName, a *pb.Attempt) {
	w := a.GetWorker()
	if w == "" || a.Unfinished() || a.GetFinishTime() == nil {
		return
	}
	tr := t.sum.finished[w]
	if tr == nil {
		tr = btree.NewG(16, finishedRun.less)
		t.sum.finished[w] = tr
	}
	tr.ReplaceOrInsert(finishedRun{at: a.GetFinishTime().AsTime(), key: k})
}

// forgetRecent drops an attempt (as stored before a change) from its
// worker's finished runs.
func (t *tables) forgetRecent(k nsName, a *pb.Attempt) {
	w := a.GetWorker()
	tr := t.sum.finished[w]
	if tr == nil || a.GetFinishTime() == nil {
		return
	}
	tr.Delete(finishedRun{at: a.GetFinishTime().AsTime(), key: k})
	if tr.Len() == 0 {
		delete(t.sum.finished, w)
	}
}

// countRun adds to the run counts of a namespace in the hour of at. Counts
// older than runHours before the latest hour counted are dropped; the hours
// come from the commands, so every replica keeps the same counts.
func (x *summaryIndex) countRun(ns string, at *timestamppb.Timestamp, add func(*pb.RunCount)) {
	if at == nil {
		return
	}
	hour := at.GetSeconds() / 3600
	if hour <= x.runsLast-runHours {
		return
	}
	if hour > x.runsLast {
		x.runsLast = hour
		for k := range x.runs {
			if k.hour <= hour-runHours {
				delete(x.runs, k)
			}
		}
	}
	k := runKey{ns, hour}
	c := x.runs[k]
	if c == nil {
		c = &pb.RunCount{Namespace: ns, Hour: hour}
		x.runs[k] = c
	}
	add(c)
}

// putRunCount stores a count read from a snapshot.
func (x *summaryIndex) putRunCount(c *pb.RunCount) {
	x.runs[runKey{c.GetNamespace(), c.GetHour()}] = c
	x.runsLast = max(x.runsLast, c.GetHour())
}

// runCounts copies the run counts for a snapshot, ordered by namespace and hour.
func (x *summaryIndex) runCounts() []*pb.RunCount {
	out := make([]*pb.RunCount, 0, len(x.runs))
	for _, c := range x.runs {
		out = append(out, proto.Clone(c).(*pb.RunCount))
	}
	slices.SortFunc(out, func(a, b *pb.RunCount) int {
		if c := cmp.Compare(a.GetNamespace(), b.GetNamespace()); c != 0 {
			return c
		}
		return cmp.Compare(a.GetHour(), b.GetHour())
	})
	return out
}

// Summary sums the counters of some namespaces (nil: every namespace) and
// lists the oldest pending work and each worker's runs in them. Runs are
// counted from the start of since's hour.
func (s *State) Summary(namespaces []string, since time.Time) *pb.SummaryResponse {
	var in func(string) bool
	if namespaces == nil {
		in = func(string) bool { return true }
	} else {
		set := map[string]bool{}
		for _, n := range namespaces {
			set[nsOrDefault(n)] = true
		}
		in = func(n string) bool { return set[n] }
	}
	sum := func(m map[string]int) int32 {
		n := 0
		for ns, c := range m {
			if in(ns) {
				n += c
			}
		}
		return int32(n)
	}
	fromHour := since.Unix() / 3600
	out := &pb.SummaryResponse{Runs: &pb.RunCount{}}

	s.mu.RLock()
	defer s.mu.RUnlock()
	x := &s.t.sum
	out.CronJobs, out.SuspendedCronJobs, out.UnfinishedJobs = sum(x.cronJobs), sum(x.suspended), sum(x.unfinishedJobs)
	for k, c := range x.runs {
		if k.hour >= fromHour && in(k.ns) {
			out.Runs.Invoked += c.GetInvoked()
			out.Runs.Succeeded += c.GetSucceeded()
			out.Runs.Failed += c.GetFailed()
			out.Runs.Skipped += c.GetSkipped()
		}
	}
	for k := range s.t.unfinishedAttempts {
		if a := s.t.attempts[k]; a.GetState() == pb.AttemptPending && in(k.ns) {
			out.Pending = append(out.Pending, a)
		}
	}
	slices.SortFunc(out.Pending, func(a, b *pb.Attempt) int {
		if c := compareTime(a.GetCreatedTime(), b.GetCreatedTime()); c != 0 {
			return c
		}
		return cmp.Compare(a.GetNamespace()+"/"+a.GetName(), b.GetNamespace()+"/"+b.GetName())
	})
	out.Pending = out.Pending[:min(len(out.Pending), summaryPending)]
	for k := range s.t.unfinishedJobs {
		if _, has := s.t.attemptsByJob[k]; !has && in(k.ns) {
			out.WaitingJobs = append(out.WaitingJobs, s.t.jobs[k])
		}
	}
	sortJobsBySchedule(out.WaitingJobs)
	out.WaitingJobs = out.WaitingJobs[:min(len(out.WaitingJobs), summaryPending)]

	workers := map[string]*pb.WorkerRuns{}
	runs := func(w string) *pb.WorkerRuns {
		r := workers[w]
		if r == nil {
			r = &pb.WorkerRuns{Worker: w}
			workers[w] = r
			out.Workers = append(out.Workers, r)
		}
		return r
	}
	for w, keys := range s.t.attemptsByWorker {
		for k := range keys {
			if in(k.ns) {
				r := runs(w)
				r.Running = append(r.Running, s.t.attempts[k])
			}
		}
	}
	for w, tr := range x.finished {
		n := 0
		tr.Ascend(func(f finishedRun) bool {
			if in(f.key.ns) {
				r := runs(w)
				r.Recent = append(r.Recent, s.t.attempts[f.key])
			}
			n++
			return n < recentPerWorker
		})
	}
	for _, r := range out.Workers {
		sortAttempts(r.Running)
	}
	slices.SortFunc(out.Workers, func(a, b *pb.WorkerRuns) int { return cmp.Compare(a.GetWorker(), b.GetWorker()) })
	return out
}
