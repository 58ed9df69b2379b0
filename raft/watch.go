package raft

import (
	"errors"
	"fmt"
	"sort"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// DefaultWatchLogSize is how many changes a State keeps for watchers to
// resume from (State.SetWatchLogSize changes it).
const DefaultWatchLogSize = 16384

// ErrWatchGone: a watcher asked for changes older than the watch log holds
// (it fell behind, or the state was restored since). It must read the
// current objects again (watch from index 0).
var ErrWatchGone = errors.New("changes since that index are no longer kept")

// recorder collects what one log entry changes, as watch events, under the
// write lock. Several changes of one object in one entry coalesce into one
// event with the object as the entry left it. A nil *recorder records
// nothing (tables read from a snapshot).
type recorder struct {
	evs []logged
	pos map[watchKey]int
	// existed: whether the object existed before this entry.
	existed map[watchKey]bool
	// reset: the whole state was replaced (operator restore).
	reset bool
}

type watchKey struct{ kind, ns, name string }

// logged is one change in the watch log. A CronJob's change keeps the
// CronJob in its stored form (cj, with ev.Object unset) and is decoded only
// when a watcher reads it: the log holds thousands of changes (after an
// apply of many CronJobs, mostly CronJobs no longer stored as they were),
// and decoded CronJobs are several times bigger.
type logged struct {
	ev *pb.WatchEvent
	cj *storedCronJob
}

// event returns the change as a watcher gets it.
func (l logged) event() *pb.WatchEvent {
	if l.cj == nil {
		return l.ev
	}
	return &pb.WatchEvent{Type: l.ev.Type, Index: l.ev.Index, Object: &pb.WatchEvent_CronJob{CronJob: l.cj.cronJob()}}
}

func newRecorder() *recorder {
	return &recorder{pos: map[watchKey]int{}, existed: map[watchKey]bool{}}
}

// change records that the object k went from old (nil: absent) to obj (nil:
// deleted). ev carries obj, or old for a delete.
func (r *recorder) change(k watchKey, existed bool, ev logged) {
	if r == nil {
		return
	}
	i, seen := r.pos[k]
	if !seen {
		r.existed[k] = existed
		r.pos[k] = len(r.evs)
		r.evs = append(r.evs, ev)
		return
	}
	r.evs[i] = ev
}

// take returns the entry's events (in the order objects first changed) and
// starts over.
func (r *recorder) take() (evs []logged, reset bool) {
	for k, i := range r.pos {
		ev := r.evs[i].ev
		exists := ev.Type != pb.WatchDeleted
		switch {
		case r.existed[k] && exists:
			ev.Type = pb.WatchModified
		case r.existed[k]:
			ev.Type = pb.WatchDeleted
		case exists:
			ev.Type = pb.WatchAdded
		default:
			r.evs[i] = logged{} // created and deleted within the entry
		}
	}
	for _, ev := range r.evs {
		if ev.ev != nil {
			evs = append(evs, ev)
		}
	}
	reset = r.reset
	r.evs = nil
	clear(r.pos)
	clear(r.existed)
	r.reset = false
	return evs, reset
}

func (r *recorder) cronJob(old, n *storedCronJob, name nsName) {
	if r == nil {
		return
	}
	ev := logged{&pb.WatchEvent{Type: pb.WatchModified}, n}
	if n == nil {
		ev = logged{&pb.WatchEvent{Type: pb.WatchDeleted}, old}
	}
	r.change(watchKey{pb.KindCronJob, name.ns, name.name}, old != nil, ev)
}

func (r *recorder) job(old, n *pb.Job, name nsName) {
	if r == nil {
		return
	}
	ev := &pb.WatchEvent{Type: pb.WatchModified, Object: &pb.WatchEvent_Job{Job: n}}
	if n == nil {
		ev = &pb.WatchEvent{Type: pb.WatchDeleted, Object: &pb.WatchEvent_Job{Job: old}}
	}
	r.change(watchKey{pb.KindJob, name.ns, name.name}, old != nil, logged{ev: ev})
}

func (r *recorder) attempt(old, n *pb.Attempt, name nsName) {
	if r == nil {
		return
	}
	ev := &pb.WatchEvent{Type: pb.WatchModified, Object: &pb.WatchEvent_Attempt{Attempt: n}}
	if n == nil {
		ev = &pb.WatchEvent{Type: pb.WatchDeleted, Object: &pb.WatchEvent_Attempt{Attempt: old}}
	}
	r.change(watchKey{pb.KindAttempt, name.ns, name.name}, old != nil, logged{ev: ev})
}

func (r *recorder) event(e *pb.Event) {
	if r == nil {
		return
	}
	r.change(watchKey{pb.KindEvent, e.GetNamespace(), pb.EventName(e)}, false,
		logged{ev: &pb.WatchEvent{Type: pb.WatchAdded, Object: &pb.WatchEvent_Event{Event: e}}})
}

// watchLog keeps the most recent changes, oldest first, for watchers.
// Guarded by State.mu.
type watchLog struct {
	evs []logged
	// floor: every change made by an entry with index > floor is in evs.
	floor uint64
	// floorUnknown: a snapshot was restored and no entry applied since; the
	// next entry sets floor.
	floorUnknown bool
	// last: the index of the last entry applied (0: none yet or unknown).
	last uint64
	size int
}

// commit appends the changes of the entry at index.
func (w *watchLog) commit(index uint64, evs []logged, reset bool) {
	if w.floorUnknown {
		w.floorUnknown = false
		w.floor = index - 1
	}
	if reset {
		// The state was replaced wholesale: a watcher must read it again.
		w.evs = nil
		w.floor = index
	} else {
		for _, ev := range evs {
			ev.ev.Index = index
			w.evs = append(w.evs, ev)
		}
	}
	w.last = index
	size := w.size
	if size <= 0 {
		size = DefaultWatchLogSize
	}
	if len(w.evs) <= size+size/4 {
		return
	}
	// Drop the oldest, whole entries at a time, down to size.
	cut := len(w.evs) - size
	for cut < len(w.evs) && w.evs[cut].ev.Index == w.evs[cut-1].ev.Index {
		cut++
	}
	w.floor = w.evs[cut-1].ev.Index
	w.evs = append([]logged(nil), w.evs[cut:]...)
}

// restored forgets every change: the state was replaced by a snapshot whose
// index this package is not told.
func (w *watchLog) restored() {
	w.evs = nil
	w.last = 0
	w.floorUnknown = true
}

// SetWatchLogSize sets how many changes are kept for watchers to resume
// from (0: DefaultWatchLogSize).
func (s *State) SetWatchLogSize(n int) {
	s.mu.Lock()
	s.watch.size = n
	s.mu.Unlock()
}

// WatchChanges returns the changes applied after index since, oldest first,
// and the index of the last entry applied. It fails with ErrWatchGone when
// those changes are no longer all kept. The events are shared: never modify
// them. (A CronJob's event is made afresh by each call, its spec decoded
// after the lock is released.)
func (s *State) WatchChanges(since uint64) ([]*pb.WatchEvent, uint64, error) {
	s.mu.RLock()
	evs, last, err := s.watch.since(since)
	s.mu.RUnlock()
	if len(evs) == 0 {
		return nil, last, err
	}
	out := make([]*pb.WatchEvent, len(evs))
	for i, l := range evs {
		out[i] = l.event()
	}
	return out, last, err
}

// since returns the changes after index since (see WatchChanges).
func (w *watchLog) since(since uint64) ([]logged, uint64, error) {
	if w.floorUnknown {
		return nil, since, nil // nothing applied since a restore: nothing to tell yet
	}
	if since < w.floor {
		return nil, w.last, fmt.Errorf("watch from index %d: the oldest change kept is after index %d: %w", since, w.floor, ErrWatchGone)
	}
	if since >= w.last {
		return nil, w.last, nil
	}
	i := sort.Search(len(w.evs), func(i int) bool { return w.evs[i].ev.Index > since })
	return append([]logged(nil), w.evs[i:]...), w.last, nil
}

// WatchList returns the current objects of the given kinds ("" = every
// kind) in one namespace ("" = all) as ADDED events, and the index of the
// last entry applied, read together: WatchChanges(index) continues exactly
// where the list ends.
func (s *State) WatchList(kind, namespace string) ([]*pb.WatchEvent, uint64) {
	s.mu.RLock()
	var list []logged
	add := func(ev *pb.WatchEvent) {
		ev.Type = pb.WatchAdded
		ev.Index = s.watch.last
		list = append(list, logged{ev: ev})
	}
	want := func(k string) bool { return kind == "" || kind == k }
	if want(pb.KindCronJob) {
		for _, cj := range pageOf(s.t.cronOrder, s.t.cronJobs, namespace, nsName{}, 0) {
			add(&pb.WatchEvent{})
			list[len(list)-1].cj = cj // decoded below, after the lock is released
		}
	}
	if want(pb.KindJob) {
		for _, j := range pageOf(s.t.jobOrder, s.t.jobs, namespace, nsName{}, 0) {
			add(&pb.WatchEvent{Object: &pb.WatchEvent_Job{Job: j}})
		}
	}
	if want(pb.KindAttempt) {
		var as []*pb.Attempt
		for k, a := range s.t.attempts {
			if namespace == "" || k.ns == namespace {
				as = append(as, a)
			}
		}
		sortAttempts(as)
		for _, a := range as {
			add(&pb.WatchEvent{Object: &pb.WatchEvent_Attempt{Attempt: a}})
		}
	}
	if want(pb.KindEvent) {
		for _, e := range s.t.events.list() {
			if namespace == "" || e.GetNamespace() == namespace {
				add(&pb.WatchEvent{Object: &pb.WatchEvent_Event{Event: e}})
			}
		}
	}
	last := s.watch.last
	s.mu.RUnlock()
	out := make([]*pb.WatchEvent, len(list))
	for i, l := range list {
		out[i] = l.event()
	}
	return out, last
}
