package client

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// HistoryEntry is one tick of a CronJob (or a manual run): what was decided
// and, for a run, its Job and how it went.
type HistoryEntry struct {
	// ScheduledTime is the tick (for an aggregate of skipped ticks, the
	// last one; FirstScheduledTime the first, Ticks how many).
	ScheduledTime      time.Time
	FirstScheduledTime time.Time
	Ticks              int
	// Decision is invoke or skip, Reason why (Scheduled, CatchUp, Manual,
	// ConcurrencyPolicy, MissedDeadline, UpstreamFailed …), Message the
	// details. A tick still waiting for its upstreams (spec.dependsOn) has
	// Decision "waiting" and Reason "Upstreams".
	Decision, Reason, Message string
	// Job is the Job created (or, for a skip, the one that blocked it).
	Job string
	// Result is the Job's status (Complete, Failed: reason, Running …),
	// "deleted" when the Job is gone (history limits), "" for a skip.
	Result string
	// StartDelay is from the tick to the first container running (0 if
	// none ran yet); Duration from the Job's start to its end (or now).
	StartDelay, Duration time.Duration
	Started              bool
}

// History lists the ticks of a CronJob scheduled at or after since, oldest
// first, from its recorded decisions (the CronJob keeps the latest 50), its
// Jobs and their attempts; manual runs are included.
func History(cj *pb.CronJob, jobs []*pb.Job, attempts []*pb.Attempt, since, now time.Time) []HistoryEntry {
	byName := map[string]*pb.Job{}
	for _, j := range jobs {
		byName[j.GetMetadata().GetName()] = j
	}
	firstStart := map[string]time.Time{}
	for _, a := range attempts {
		if a.GetStartTime() == nil {
			continue
		}
		t := a.GetStartTime().AsTime()
		if cur, ok := firstStart[a.GetJob()]; !ok || t.Before(cur) {
			firstStart[a.GetJob()] = t
		}
	}
	run := func(e *HistoryEntry, j *pb.Job) {
		if j == nil {
			e.Result = "deleted"
			return
		}
		e.Result = JobStatusText(j)
		if f := FindCondition(j, ConditionFailed); f != nil && f.GetReason() != "" {
			e.Result += ": " + f.GetReason()
		}
		if t, ok := firstStart[j.GetMetadata().GetName()]; ok {
			e.Started = true
			e.StartDelay = t.Sub(e.ScheduledTime)
		}
		if st := j.GetStatus().GetStartTime(); st != nil {
			end := now
			if ct := j.GetStatus().GetCompletionTime(); ct != nil {
				end = ct.AsTime()
			} else if ft := j.GetStatus().GetResult().GetFinishTime(); ft != nil {
				end = ft.AsTime()
			}
			e.Duration = end.Sub(st.AsTime())
		}
	}
	var out []HistoryEntry
	seen := map[string]bool{}
	for _, d := range cj.GetStatus().GetDecisions() {
		at := d.GetScheduledTime().AsTime()
		if at.Before(since) {
			continue
		}
		e := HistoryEntry{ScheduledTime: at, Ticks: max(1, int(d.GetCount())), Decision: d.GetDecision(),
			Reason: d.GetReason(), Message: d.GetMessage(), Job: d.GetJob()}
		if d.GetFirstScheduledTime() != nil {
			e.FirstScheduledTime = d.GetFirstScheduledTime().AsTime()
		}
		if d.GetDecision() == pb.DecisionInvoke {
			seen[d.GetJob()] = true
			run(&e, byName[d.GetJob()])
		}
		out = append(out, e)
	}
	for _, w := range cj.GetStatus().GetWaiting() {
		at := w.GetScheduledTime().AsTime()
		if at.Before(since) {
			continue
		}
		var ups []string
		for _, u := range w.GetUpstreams() {
			if u.GetState() != "Succeeded" {
				ups = append(ups, u.GetCronJob()+": "+u.GetMessage()+" (until "+u.GetDeadline().AsTime().UTC().Format(time.RFC3339)+")")
			}
		}
		msg := fmt.Sprintf("waiting %s for upstreams", now.Sub(w.GetSince().AsTime()).Round(time.Second))
		if len(ups) > 0 {
			msg += ": " + strings.Join(ups, "; ")
		}
		out = append(out, HistoryEntry{ScheduledTime: at, Ticks: 1, Decision: DecisionWaiting, Reason: "Upstreams", Job: w.GetJob(), Message: msg})
	}
	// Runs whose decision is no longer kept, and manual runs.
	for _, j := range jobs {
		name := j.GetMetadata().GetName()
		st := j.GetStatus()
		if seen[name] || st.GetCronJob() != cj.GetMetadata().GetName() {
			continue
		}
		at := st.GetScheduledTime().AsTime()
		reason := "Scheduled"
		if st.GetManual() || st.GetScheduledTime() == nil {
			reason = "Manual"
			at = j.GetMetadata().GetCreationTimestamp().AsTime()
		}
		if at.Before(since) {
			continue
		}
		e := HistoryEntry{ScheduledTime: at, Ticks: 1, Decision: pb.DecisionInvoke, Reason: reason, Job: name}
		run(&e, j)
		out = append(out, e)
	}
	slices.SortStableFunc(out, func(a, b HistoryEntry) int {
		return cmp.Compare(a.ScheduledTime.UnixNano(), b.ScheduledTime.UnixNano())
	})
	return out
}
