package scheduler

import (
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// Event retention defaults: the event table keeps at most this many events,
// none older than this (server flags --event-retention-count and
// --event-retention-age).
const (
	DefaultEventRetentionCount = 10000
	DefaultEventRetentionAge   = 72 * time.Hour
)

// EventRetention says how many events to keep and for how long (a zero
// field keeps its default; a negative count or age is not allowed).
type EventRetention struct {
	Count int
	Age   time.Duration
}

func (r EventRetention) withDefaults() EventRetention {
	if r.Count <= 0 {
		r.Count = DefaultEventRetentionCount
	}
	if r.Age <= 0 {
		r.Age = DefaultEventRetentionAge
	}
	return r
}

// EventsToPrune decides which of the events (oldest first, as the event
// table holds them) to drop at now: the oldest beyond r.Count, and those
// recorded more than r.Age ago. It returns the command dropping them, or nil.
// Events are dropped as a prefix, oldest first, so an event that carries an
// earlier time than one before it (two leaders' clocks) waits for its turn.
func EventsToPrune(events []*pb.Event, r EventRetention, now time.Time) *pb.Command {
	r = r.withDefaults()
	n := max(0, len(events)-r.Count)
	cutoff := now.Add(-r.Age)
	for n < len(events) && events[n].GetTime() != nil && events[n].GetTime().AsTime().Before(cutoff) {
		n++
	}
	if n == 0 {
		return nil
	}
	last := events[n-1]
	return &pb.Command{Op: &pb.Command_PruneEvents{PruneEvents: &pb.PruneEvents{
		ThroughIndex: last.GetIndex(), ThroughSeq: last.GetSeq()}}}
}
