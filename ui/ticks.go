package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/raftcron/raftcron/client"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/scheduler"
)

// Results a tick or a Job shows, as CSS classes.
const (
	resultSucceeded = "succeeded"
	resultFailed    = "failed"
	resultSkipped   = "skipped"
	resultRunning   = "running"
	// resultGone: a Job was made, but it has been removed (history limits,
	// ttlSecondsAfterFinished), so its result is no longer known.
	resultGone = "gone"
	// resultWaiting: the tick waits for its upstreams (spec.dependsOn).
	resultWaiting = "waiting"
)

// tick is one scheduling decision as the dashboard draws it.
type tick struct {
	Time time.Time
	// First is the first tick an aggregated skip covers (zero otherwise).
	First   time.Time
	Count   int
	Result  string
	Reason  string
	Message string
	Job     string
}

// Title is the tooltip of the tick.
func (t tick) Title() string {
	s := t.Time.UTC().Format("2006-01-02 15:04:05Z") + " " + t.Result
	if t.Count > 1 {
		s = fmt.Sprintf("%s – %s: %d ticks %s", t.First.UTC().Format("2006-01-02 15:04:05Z"), t.Time.UTC().Format("15:04:05Z"), t.Count, t.Result)
	}
	if t.Reason != "" {
		s += " (" + t.Reason + ")"
	}
	if t.Job != "" {
		s += " job " + t.Job
	}
	if t.Message != "" {
		s += ": " + t.Message
	}
	return s
}

// jobResult is a Job's result in the dashboard's words.
func jobResult(j *pb.Job) string {
	switch client.JobStatusText(j) {
	case client.ConditionComplete:
		return resultSucceeded
	case client.ConditionFailed:
		return resultFailed
	}
	return resultRunning
}

// ticksOf turns a CronJob's recorded decisions into ticks, oldest first,
// each invoke coloured by the result of the Job it made.
func ticksOf(cj *pb.CronJob, jobs map[string]*pb.Job) []tick {
	ds := cj.GetStatus().GetDecisions()
	out := make([]tick, 0, len(ds))
	for _, d := range ds {
		t := tick{Time: d.GetScheduledTime().AsTime(), Count: int(d.GetCount()), Reason: d.GetReason(), Message: d.GetMessage(), Job: d.GetJob()}
		if t.Count == 0 {
			t.Count = 1
		}
		if d.GetFirstScheduledTime() != nil {
			t.First = d.GetFirstScheduledTime().AsTime()
		}
		if t.First.IsZero() {
			t.First = t.Time
		}
		if d.GetDecision() == "skip" {
			t.Result = resultSkipped
		} else if j, ok := jobs[d.GetJob()]; ok {
			t.Result = jobResult(j)
		} else {
			t.Result = resultGone
		}
		out = append(out, t)
	}
	for _, w := range cj.GetStatus().GetWaiting() {
		t := tick{Time: w.GetScheduledTime().AsTime(), Count: 1, Result: resultWaiting, Reason: "Upstreams", Job: w.GetJob()}
		t.First = t.Time
		var msgs []string
		for _, u := range w.GetUpstreams() {
			if u.GetState() != scheduler.UpstreamSucceeded {
				msgs = append(msgs, u.GetCronJob()+": "+u.GetMessage()+" (until "+u.GetDeadline().AsTime().UTC().Format("2006-01-02 15:04:05Z")+")")
			}
		}
		t.Message = "waiting for upstreams since " + w.GetSince().AsTime().UTC().Format("2006-01-02 15:04:05Z")
		if len(msgs) > 0 {
			t.Message += ": " + strings.Join(msgs, "; ")
		}
		out = append(out, t)
	}
	return out
}

// lastTicks is the newest n ticks, oldest first.
func lastTicks(ts []tick, n int) []tick {
	if len(ts) > n {
		return ts[len(ts)-n:]
	}
	return ts
}

func jobsByName(jobs []*pb.Job) map[string]*pb.Job {
	m := make(map[string]*pb.Job, len(jobs))
	for _, j := range jobs {
		m[j.GetMetadata().GetName()] = j
	}
	return m
}
