package scheduler

import (
	"fmt"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// SimulateInput describes a CronJob and a moment for Simulate: "if the
// leader looked at this CronJob at Now, what would it decide?".
type SimulateInput struct {
	Schedule, TimeZone string
	// Created is the CronJob's creation time; Last its lastScheduleTime
	// (zero: never scheduled). Ticks after the later of the two are decided.
	Created, Last, Now      time.Time
	StartingDeadlineSeconds *int32
	// CatchUp (Latest | All | None) and ConcurrencyPolicy (Allow | Forbid |
	// Replace); empty takes the default.
	CatchUp, ConcurrencyPolicy string
	Suspended                  bool
	// ActiveJob pretends a Job of the CronJob is still running (it is named
	// "(active)" in the decisions).
	ActiveJob bool
	// Namespace and Name are the CronJob's: H in the schedule is resolved
	// from them (an empty Name leaves H an error), and Name is used in Job
	// names ("cronjob" if empty).
	Namespace, Name string
	// CatchUpLimit overrides the default limit of catchUp All (100).
	CatchUpLimit *int32
}

// SimulateActiveJob is the name Simulate gives the pretend running Job.
const SimulateActiveJob = "(active)"

// Simulate returns the decisions the cron controller would record for the
// ticks in (max(Created, Last), Now]. It runs the controller's own decision
// code (planTicks), not a copy, including its step-wise handling of very
// long backlogs.
func Simulate(in SimulateInput) ([]*pb.ScheduleDecision, error) {
	parse := ParseSchedule
	if in.Name != "" {
		parse = func(expr, tz string) (*Schedule, error) { return ParseCronJobSchedule(expr, tz, in.Namespace, in.Name) }
	}
	sched, err := parse(in.Schedule, in.TimeZone)
	if err != nil {
		return nil, err
	}
	if in.Now.Before(in.Created) {
		return nil, fmt.Errorf("simulate: now %s is before the creation time %s", in.Now.Format(time.RFC3339), in.Created.Format(time.RFC3339))
	}
	name := in.Name
	if name == "" {
		name = "cronjob"
	}
	cj := &pb.CronJob{
		Metadata: &pb.ObjectMeta{Namespace: in.Namespace, Name: name, CreationTimestamp: timestamppb.New(in.Created)},
		Spec: &pb.CronJobSpec{
			Schedule:                in.Schedule,
			StartingDeadlineSeconds: in.StartingDeadlineSeconds,
			ConcurrencyPolicy:       in.ConcurrencyPolicy,
			Suspend:                 proto.Bool(in.Suspended),
			CatchUp:                 in.CatchUp,
			CatchUpLimit:            in.CatchUpLimit,
		},
		Status: &pb.CronJobStatus{},
	}
	if in.TimeZone != "" {
		cj.Spec.TimeZone = proto.String(in.TimeZone)
	}
	if !in.Last.IsZero() {
		cj.Status.LastScheduleTime = timestamppb.New(in.Last)
	}
	var active []string
	if in.ActiveJob {
		active = []string{SimulateActiveJob}
	}
	opts := CronOptions{}.withDefaults()
	var out []*pb.ScheduleDecision
	for {
		plan := planTicks(planInputFor(cj, sched, active, in.Now, opts), opts)
		out = append(out, plan.decisions...)
		if !plan.more || plan.last.IsZero() {
			return out, nil
		}
		cj.Status.LastScheduleTime = timestamppb.New(plan.last)
		if len(plan.runs) > 0 && in.ConcurrencyPolicy != ConcurrencyAllow && in.ConcurrencyPolicy != "" {
			active = []string{plan.runs[len(plan.runs)-1].name}
		}
	}
}
