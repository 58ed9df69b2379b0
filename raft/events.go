package raft

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// MaxEvents bounds the event table whatever the leader's retention says:
// past it the FSM drops the oldest events itself. The leader prunes by the
// operator's count and age (scheduler.EventsToPrune) long before.
const MaxEvents = 100000

// eventTable holds events oldest first: by (index, seq), the order the FSM
// recorded them. Events are immutable once stored.
type eventTable struct {
	evs []*pb.Event
}

func (t *eventTable) list() []*pb.Event {
	return append([]*pb.Event(nil), t.evs...)
}

func (t *eventTable) add(e *pb.Event) {
	t.evs = append(t.evs, e)
	if len(t.evs) > MaxEvents+MaxEvents/8 {
		t.evs = append([]*pb.Event(nil), t.evs[len(t.evs)-MaxEvents:]...)
	}
}

func compareEvent(index uint64, seq uint32, e *pb.Event) int {
	if c := cmp.Compare(index, e.GetIndex()); c != 0 {
		return c
	}
	return cmp.Compare(seq, e.GetSeq())
}

// prune drops every event up to and including (index, seq) and says how many.
func (t *eventTable) prune(index uint64, seq uint32) int {
	n := 0
	for n < len(t.evs) && compareEvent(index, seq, t.evs[n]) >= 0 {
		n++
	}
	if n > 0 {
		t.evs = append([]*pb.Event(nil), t.evs[n:]...)
	}
	return n
}

// EventCount is how many events the table holds.
func (s *State) EventCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.t.events.evs)
}

// Events returns the events of one namespace ("" = all), oldest first,
// optionally only those about one CronJob (its Jobs and attempts included)
// or one Job (its attempts included).
func (s *State) Events(namespace, cronJob, job string) []*pb.Event {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*pb.Event
	for _, e := range s.t.events.evs {
		switch {
		case namespace != "" && e.GetNamespace() != namespace,
			cronJob != "" && e.GetCronJob() != cronJob,
			job != "" && e.GetJob() != job:
			continue
		}
		out = append(out, e)
	}
	return out
}

// ---------------------------------------------------------------- recording

// event records what a command did. Its time comes from the command (the FSM
// never reads a clock); index and seq from the entry.
func (a *applier) event(at *timestamppb.Timestamp, typ, reason, kind, ns, name, cronJob, job, format string, args ...any) {
	a.eseq++
	e := &pb.Event{
		Index: a.index, Seq: uint32(a.eseq), Time: cloneTS(at), Namespace: ns,
		Type: typ, Reason: reason, Kind: kind, Name: name,
		Message: fmt.Sprintf(format, args...), CronJob: cronJob, Job: job,
	}
	a.t.events.add(e)
	a.t.rec.event(e)
}

// jobCreated: a Job made by a tick, a manual trigger or an apply.
func (a *applier) jobCreated(j *pb.Job, at *timestamppb.Timestamp) {
	md := j.GetMetadata()
	cron := j.GetStatus().GetCronJob()
	switch {
	case cron != "" && j.GetStatus().GetManual():
		a.event(at, pb.EventNormal, pb.EventCreated, pb.KindCronJob, md.GetNamespace(), cron, cron, md.GetName(),
			"Created job %s (manual trigger)", md.GetName())
	case cron != "":
		a.t.sum.countRun(md.GetNamespace(), at, func(c *pb.RunCount) { c.Invoked++ })
		a.event(at, pb.EventNormal, pb.EventCreated, pb.KindCronJob, md.GetNamespace(), cron, cron, md.GetName(),
			"Created job %s for the tick at %s", md.GetName(), fmtTS(j.GetStatus().GetScheduledTime()))
	default:
		a.event(at, pb.EventNormal, pb.EventCreated, pb.KindJob, md.GetNamespace(), md.GetName(), "", md.GetName(),
			"Created job %s", md.GetName())
	}
}

// cronOf is the CronJob that made a Job ("" for none).
func (a *applier) cronOf(ns, job string) string {
	return a.t.jobs[nsName{ns, job}].GetStatus().GetCronJob()
}

func (a *applier) attemptEvent(at *pb.Attempt, when *timestamppb.Timestamp, typ, reason, format string, args ...any) {
	a.event(when, typ, reason, pb.KindAttempt, at.GetNamespace(), at.GetName(), a.cronOf(at.GetNamespace(), at.GetJob()), at.GetJob(), format, args...)
}

// attemptFinished tells how an attempt ended, from what its worker reported.
func (a *applier) attemptFinished(n *pb.Attempt) {
	why := n.GetReason()
	if m := n.GetMessage(); m != "" {
		if why != "" {
			why += ": "
		}
		why += m
	}
	switch {
	case n.GetState() == pb.AttemptLost:
		a.attemptEvent(n, n.GetFinishTime(), pb.EventWarning, pb.EventWorkerLost, "Attempt %s on worker %s was lost: %s", n.GetName(), n.GetWorker(), orDash(why))
	case n.NeverStarted():
		a.attemptEvent(n, n.GetFinishTime(), pb.EventWarning, pb.EventNeverStarted, "Attempt %s never started on worker %s: %s", n.GetName(), n.GetWorker(), orDash(why))
	case n.GetKillRequested() && n.GetState() == pb.AttemptFailed:
		a.attemptEvent(n, n.GetFinishTime(), pb.EventWarning, pb.EventKilled, "Attempt %s was killed (%s), exit code %d", n.GetName(), orDash(n.GetKillReason()), n.GetExitCode())
	case n.GetState() == pb.AttemptSucceeded:
		a.attemptEvent(n, n.GetFinishTime(), pb.EventNormal, pb.EventExited, "Attempt %s exited with code 0", n.GetName())
	default:
		a.attemptEvent(n, n.GetFinishTime(), pb.EventWarning, pb.EventExited, "Attempt %s exited with code %d%s", n.GetName(), n.GetExitCode(), paren(why))
	}
}

// jobStatusChanged records a Job that has just completed or failed.
func (a *applier) jobStatusChanged(old, n *pb.Job) {
	if old.Finished() || !n.Finished() {
		return
	}
	md := n.GetMetadata()
	cron := n.GetStatus().GetCronJob()
	for _, c := range n.GetStatus().GetConditions() {
		if c.GetStatus() != pb.ConditionTrue {
			continue
		}
		when := c.GetLastTransitionTime()
		if when == nil {
			when = n.GetStatus().GetCompletionTime()
		}
		switch c.GetType() {
		case pb.ConditionComplete:
			a.t.sum.countRun(md.GetNamespace(), when, func(c *pb.RunCount) { c.Succeeded++ })
			a.event(when, pb.EventNormal, pb.EventCompleted, pb.KindJob, md.GetNamespace(), md.GetName(), cron, md.GetName(),
				"Job %s completed%s", md.GetName(), paren(c.GetMessage()))
		case pb.ConditionFailed:
			reason := pb.EventFailed
			if c.GetReason() == "DeadlineExceeded" {
				reason = pb.EventDeadlineExceeded
			}
			a.t.sum.countRun(md.GetNamespace(), when, func(c *pb.RunCount) { c.Failed++ })
			a.event(when, pb.EventWarning, reason, pb.KindJob, md.GetNamespace(), md.GetName(), cron, md.GetName(),
				"Job %s failed: %s%s", md.GetName(), orDash(c.GetReason()), paren(c.GetMessage()))
		}
	}
}

func (a *applier) pruneEvents(c *pb.PruneEvents) *pb.CommandResult {
	a.t.events.prune(c.GetThroughIndex(), c.GetThroughSeq())
	return ok()
}

func fmtTS(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return "-"
	}
	return ts.AsTime().UTC().Format(time.RFC3339)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

func colon(s string) string {
	if s == "" {
		return ""
	}
	return ": " + s
}

func (a *applier) suspendEvent(c *pb.SetSuspend, kind, cronJob string) {
	reason, verb := pb.EventResumed, "Resumed"
	if c.GetSuspend() {
		reason, verb = pb.EventSuspended, "Suspended"
	}
	ns := nsOrDefault(c.GetNamespace())
	job := ""
	if kind == KindJob {
		job = c.GetName()
	} else {
		cronJob = c.GetName()
	}
	a.event(c.GetNow(), pb.EventNormal, reason, kind, ns, c.GetName(), cronJob, job, "%s %s %s", verb, strings.ToLower(kind), c.GetName())
}

// skipEvent records a skipped tick (or a run of skipped ticks).
func (a *applier) skipEvent(ns, cronJob string, d *pb.ScheduleDecision) {
	if d.GetDecision() != pb.DecisionSkip {
		return
	}
	when := d.GetDecidedTime()
	if when == nil {
		when = d.GetScheduledTime()
	}
	a.t.sum.countRun(ns, when, func(c *pb.RunCount) { c.Skipped += max(int64(d.GetCount()), 1) })
	ticks := "the tick at " + fmtTS(d.GetScheduledTime())
	switch {
	case d.GetFirstScheduledTime() != nil && d.GetCount() == 0:
		ticks = fmt.Sprintf("every tick from %s to %s", fmtTS(d.GetFirstScheduledTime()), fmtTS(d.GetScheduledTime()))
	case d.GetCount() > 1:
		ticks = fmt.Sprintf("%d ticks from %s to %s", d.GetCount(), fmtTS(d.GetFirstScheduledTime()), fmtTS(d.GetScheduledTime()))
	}
	a.event(when, pb.EventWarning, pb.EventSkipped, KindCronJob, ns, cronJob, cronJob, d.GetJob(),
		"Skipped %s: %s%s", ticks, orDash(d.GetReason()), colon(d.GetMessage()))
}

// attemptCreated records a retry (an attempt numbered past 1).
func (a *applier) attemptCreated(n *pb.Attempt) {
	if n.GetNumber() <= 1 {
		return
	}
	when := n.GetCreatedTime()
	if nb := n.GetNotBefore(); nb != nil {
		a.attemptEvent(n, when, pb.EventNormal, pb.EventRetryScheduled, "Retry %d of index %d scheduled at %s", n.GetNumber(), n.GetIndex(), fmtTS(nb))
		return
	}
	a.attemptEvent(n, when, pb.EventNormal, pb.EventRetryScheduled, "Retry %d of index %d scheduled now", n.GetNumber(), n.GetIndex())
}
