package scheduler

import (
	"container/heap"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Scheduling decisions (pb.ScheduleDecision.decision and .reason).
const (
	DecisionInvoke = pb.DecisionInvoke
	DecisionSkip   = pb.DecisionSkip

	InvokeScheduled = "Scheduled" // the tick ran on time
	InvokeCatchUp   = "CatchUp"   // the tick ran late, after a gap in scheduling
	InvokeManual    = "Manual"    // raftcron trigger

	SkipSuspended         = "Suspended"
	SkipMissedDeadline    = "MissedDeadline"
	SkipConcurrencyPolicy = "ConcurrencyPolicy"
	SkipCatchUpPolicy     = "CatchUpPolicy"
	SkipError             = "Error"
	// SkipJobNameTaken is recorded by the FSM, not decided here: the
	// tick's Job name was held by another object when the tick committed.
	SkipJobNameTaken = pb.SkipJobNameTaken
	// SkipClockJump: lastScheduleTime lay ahead of the leader's clock (it
	// jumped forward and back); it is rewound and scheduling resumes.
	SkipClockJump = "ClockJump"
)

// CronJob spec values.
const (
	CatchUpLatest = "Latest"
	CatchUpAll    = "All"
	CatchUpNone   = "None"

	ConcurrencyAllow   = "Allow"
	ConcurrencyForbid  = "Forbid"
	ConcurrencyReplace = "Replace"

	// LabelCronJob is set on every Job a CronJob makes.
	LabelCronJob = "raftcron.io/cronjob"
	// ReasonReplaced is the Failed condition reason of a Job replaced under
	// concurrencyPolicy Replace.
	ReasonReplaced = "Replaced"
)

// CronOptions tunes the cron controller. Zero fields take their defaults.
type CronOptions struct {
	// CatchUpLimitDefault caps the Jobs of one catch-up under catchUp All
	// when the CronJob does not set catchUpLimit (100).
	CatchUpLimitDefault int
	// MaxTicksExamined caps the ticks of one CronJob looked at one by one in
	// one call (100000). Beyond it the controller jumps forward to the ticks
	// just before now and records the range in between as one skip decision,
	// so a CronJob that was down for a year still runs again at once.
	MaxTicksExamined int
	// LateGrace is how far behind its scheduled time a tick may be handled
	// and still count as on time (5s). Later ticks are "late": catchUp None
	// skips them and catchUp All counts them against catchUpLimit. It covers
	// the leader's own wake-up and commit delay, not a leader failover. It is
	// also the shortest effective startingDeadlineSeconds.
	LateGrace time.Duration
	// MaxScheduleAhead is how far a CronJob's lastScheduleTime may lie ahead
	// of now (1m, well above clock skew between servers). Beyond it the
	// time was decided by a clock that jumped forward and came back; the
	// controller rewinds it to now (skip ClockJump) instead of waiting for
	// the bogus time.
	MaxScheduleAhead time.Duration
	// DispatchAhead is how long before its tick a Job may be decided (0:
	// at the tick, as before). A tick decided ahead has its Job, its
	// first attempt and that attempt's worker committed before the tick
	// comes, and the worker starts the run at the tick (RunSpec.start_at),
	// so the Raft commit and the dispatch are not in the start delay.
	// Only ticks whose decision cannot change in between are decided
	// ahead: CronJobs with concurrencyPolicy Allow, or Forbid with no
	// unfinished Job at the time of deciding, not suspended and without
	// upstreams. A suspend, or a Job started by hand, that comes in the
	// last DispatchAhead before a tick does not change that tick. At
	// most MaxScheduleAhead / 2.
	DispatchAhead time.Duration
	// CrowdRate: a crowd of ticks due at the same instant (ten thousand
	// CronJobs at midnight) is decided at CrowdRate ticks a second (1000),
	// in groups every DispatchAhead, the last group DispatchAhead before
	// the tick, so that the whole crowd is committed by its tick instead
	// of being decided in one step and its last runs starting seconds
	// late. A crowd is decided at most MaxDispatchAhead (or DispatchAhead,
	// when that is longer), and at most half of MaxScheduleAhead, before
	// its tick; what lies beyond is decided with the earliest group.
	CrowdRate int
}

func (o CronOptions) withDefaults() CronOptions {
	if o.CatchUpLimitDefault <= 0 {
		o.CatchUpLimitDefault = DefaultCatchUpLimit
	}
	if o.MaxTicksExamined <= 0 {
		o.MaxTicksExamined = 100000
	}
	if o.LateGrace <= 0 {
		o.LateGrace = 5 * time.Second
	}
	if o.MaxScheduleAhead <= 0 {
		o.MaxScheduleAhead = time.Minute
	}
	o.DispatchAhead = min(max(o.DispatchAhead, 0), o.MaxScheduleAhead/2)
	if o.CrowdRate <= 0 {
		o.CrowdRate = DefaultCrowdRate
	}
	return o
}

// CronController decides, on the leader, which cron ticks are due and what
// happens to each. It keeps a min-heap of each CronJob's next fire time (as
// Nomad's periodic dispatcher does), so a Tick touches only the CronJobs that
// are due; it rescans all CronJobs only when View.CronJobsVersion changes.
//
// It is deterministic given the View and now, and it never proposes anything:
// Tick returns commands. The caller applies them (ideally as one Batch)
// before the next call; if applying fails, call Rebuild before ticking again.
// Every tick of every CronJob ends up as exactly one Job or as part of exactly
// one recorded skip decision; nothing is dropped silently.
//
// A CronController is not safe for concurrent use; the leader loop owns it.
type CronController struct {
	opts    CronOptions
	logger  *slog.Logger
	entries map[string]*cronEntry
	// schedules: parsed schedules without H, by schedule and time zone.
	schedules map[[2]string]*Schedule
	// parsed: every (schedule, time zone) pair of an entry, once.
	parsed map[[2]string]*[2]string
	queue  cronQueue
	// downstreams: upstream key -> keys of the CronJobs whose
	// spec.dependsOn names it (a reverse index: an upstream's change wakes
	// only those).
	downstreams map[string]map[string]bool
	// crowds: fire time (UnixNano) -> how many entries that may be
	// decided ahead wait for it (see CronOptions.CrowdRate).
	crowds  map[int64]int
	version uint64
	built   bool
	// now is the time of the latest Tick, for refresh.
	now time.Time
}

// cronEntry is what the controller keeps of one CronJob; there is one per
// CronJob, so it is kept small (100,000 CronJobs, 100,000 entries).
type cronEntry struct {
	// key is cronKey(namespace, name), shared with the entries map.
	key string
	// next is when Tick looks at the entry: its next fire time, or
	// DispatchAhead before it when ahead is set.
	next  time.Time
	index int32 // in queue; -1 when not queued
	// ahead: the CronJob's ticks may be decided ahead (see
	// CronOptions.DispatchAhead); Forbid's unfinished Jobs are looked at
	// when the tick is decided.
	ahead bool
	// fire: the fire time (UnixNano) whose crowd the entry is counted in
	// (0: none).
	fire int64

	// parsed: the schedule and time zone sched was parsed from (shared by
	// the entries with the same ones).
	parsed *[2]string
	sched  *Schedule
	err    error

	// deps: keys of its upstreams (spec.dependsOn).
	deps []string
	// waitFrom: the scheduled time of its oldest waiting tick (nil: none).
	waitFrom *time.Time
}

// ref returns the entry's namespace and name.
func (e *cronEntry) ref() (namespace, name string) {
	namespace, name, _ = strings.Cut(e.key, "/")
	return namespace, name
}

// waiting is the scheduled time of its oldest waiting tick (zero: none).
func (e *cronEntry) waiting() time.Time {
	if e.waitFrom == nil {
		return time.Time{}
	}
	return *e.waitFrom
}

// NewCronController returns a controller with an empty heap; call Rebuild
// (or just Tick, which builds it on first use).
func NewCronController(opts CronOptions, logger *slog.Logger) *CronController {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &CronController{
		opts:        opts.withDefaults(),
		logger:      logger.With("component", "cron"),
		entries:     map[string]*cronEntry{},
		schedules:   map[[2]string]*Schedule{},
		parsed:      map[[2]string]*[2]string{},
		downstreams: map[string]map[string]bool{},
		crowds:      map[int64]int{},
	}
}

// Rebuild throws the heap away and builds it again from the state: on
// gaining leadership, and after commands from Tick failed to apply.
func (c *CronController) Rebuild(v View) {
	c.entries = map[string]*cronEntry{}
	c.schedules = map[[2]string]*Schedule{}
	c.parsed = map[[2]string]*[2]string{}
	c.downstreams = map[string]map[string]bool{}
	c.crowds = map[int64]int{}
	c.queue = c.queue[:0]
	c.resync(v)
}

// resync brings the heap in line with the CronJobs in the View: new ones are
// added, deleted ones removed, and every next fire time recomputed from the
// CronJob's lastScheduleTime.
func (c *CronController) resync(v View) {
	c.version = v.CronJobsVersion()
	c.built = true
	seen := make(map[string]bool, len(c.entries))
	for _, cj := range v.CronJobs() {
		seen[cronKey(cj.GetMetadata().GetNamespace(), cj.GetMetadata().GetName())] = true
		c.refresh(cj)
	}
	for key, e := range c.entries {
		if !seen[key] {
			c.remove(e)
		}
	}
}

// Update brings the heap in line with the given CronJobs only (created,
// changed or deleted since the last call), so that a leader that knows what
// changed never rescans every CronJob. Call it with every CronJob that
// changed; Tick then rescans only when View.CronJobsVersion moved on since.
func (c *CronController) Update(v View, changed []Ref) {
	if !c.built {
		c.resync(v)
		return
	}
	c.version = v.CronJobsVersion()
	for _, ref := range changed {
		key := cronKey(ref.Namespace, ref.Name)
		if cj := v.CronJob(ref.Namespace, ref.Name); cj != nil {
			c.refresh(cj)
		} else if e := c.entries[key]; e != nil {
			c.remove(e)
		}
		// Its status may say what a downstream waits for (a skip).
		c.wakeDownstreams(key)
	}
}

// remove takes a deleted CronJob's entry out of the heap and the indexes.
func (c *CronController) remove(e *cronEntry) {
	c.leaveCrowd(e)
	c.setNext(e, time.Time{})
	c.unsetDeps(e)
	delete(c.entries, e.key)
}

// refresh adds or updates the entry of one CronJob: its parsed schedule and
// its next fire time from lastScheduleTime.
func (c *CronController) refresh(cj *pb.CronJob) {
	ns, name := cj.GetMetadata().GetNamespace(), cj.GetMetadata().GetName()
	key := cronKey(ns, name)
	e := c.entries[key]
	if e == nil {
		e = &cronEntry{key: key, index: -1}
		c.entries[key] = e
	}
	parsed := [2]string{cj.GetSpec().GetSchedule(), cj.GetSpec().GetTimeZone()}
	if e.sched == nil && e.err == nil || e.parsed == nil || *e.parsed != parsed {
		e.parsed = c.intern(parsed)
		e.sched, e.err = c.parseShared(cj)
	}
	c.setDeps(e, cj)
	e.waitFrom = nil
	if w := cj.GetStatus().GetWaiting(); len(w) > 0 {
		at := w[0].GetScheduledTime().AsTime()
		e.waitFrom = &at
	}
	e.ahead = c.opts.DispatchAhead > 0 && e.err == nil && len(e.deps) == 0 && e.waitFrom == nil && mayDecideAhead(cj)
	var next time.Time
	c.leaveCrowd(e)
	switch {
	case e.err != nil:
		// Due at once so that Tick records the error, unless it is the
		// last thing recorded already.
		if !lastDecisionIsError(cj, e.err.Error()) {
			next = cj.GetMetadata().GetCreationTimestamp().AsTime()
		}
	case c.scheduledAhead(cj, c.now):
		next = c.now // due at once: Tick rewinds it
	default:
		next = c.wakeFor(e, e.sched.Next(cronBase(cj)))
	}
	// Waiting ticks are looked at once now (a new leader, or a status
	// that changed), then at their deadlines or when an upstream changes.
	c.setNext(e, earliest(next, e.waiting()))
}

// intern returns the one copy of a (schedule, time zone) pair the entries
// share.
func (c *CronController) intern(p [2]string) *[2]string {
	if q := c.parsed[p]; q != nil {
		return q
	}
	q := &p
	c.parsed[p] = q
	return q
}

// parseShared parses a CronJob's schedule, sharing one parsed Schedule
// (immutable) between the CronJobs with the same schedule and zone: many
// CronJobs say "0 3 * * *". A schedule with H is the CronJob's own (its
// values come from the CronJob's name).
func (c *CronController) parseShared(cj *pb.CronJob) (*Schedule, error) {
	key := [2]string{cj.GetSpec().GetSchedule(), cj.GetSpec().GetTimeZone()}
	if s := c.schedules[key]; s != nil {
		return s, nil
	}
	s, err := ScheduleOf(cj)
	if err == nil && s.Resolved() == "" {
		c.schedules[key] = s
	}
	return s, err
}

// scheduledAhead reports whether the CronJob's lastScheduleTime lies more
// than MaxScheduleAhead ahead of now.
func (c *CronController) scheduledAhead(cj *pb.CronJob, now time.Time) bool {
	last := cj.GetStatus().GetLastScheduleTime()
	return last != nil && !now.IsZero() && last.AsTime().After(now.Add(c.opts.MaxScheduleAhead))
}

// rewind records that the CronJob's lastScheduleTime lies ahead of now and
// sets it back to now; ticks after now are scheduled as usual, without
// recreating the CronJob.
func (c *CronController) rewind(cj *pb.CronJob, now time.Time) []*pb.Command {
	ns, name := cj.GetMetadata().GetNamespace(), cj.GetMetadata().GetName()
	last := cj.GetStatus().GetLastScheduleTime().AsTime()
	c.logger.Warn("cronjob lastScheduleTime lies ahead of the leader's clock: a clock jumped forward and back; rewinding it",
		"namespace", ns, "cronjob", name, "last_schedule_time", last, "now", now)
	d := &pb.ScheduleDecision{
		ScheduledTime: timestamppb.New(now),
		Decision:      DecisionSkip,
		Reason:        SkipClockJump,
		Message: fmt.Sprintf("lastScheduleTime %s was %s ahead of the leader's clock (a clock jumped forward and back); scheduling resumes from now",
			last.UTC().Format(time.RFC3339), last.Sub(now).Round(time.Second)),
		DecidedTime: timestamppb.New(now),
		Count:       1,
	}
	return []*pb.Command{{Op: &pb.Command_UpdateCronJobStatus{UpdateCronJobStatus: &pb.UpdateCronJobStatus{
		Namespace: ns, Name: name, Decisions: []*pb.ScheduleDecision{d},
		LastScheduleTime: timestamppb.New(now), RewindLastScheduleTime: true,
	}}}}
}

// mayDecideAhead: the CronJob's spec lets its ticks be decided ahead.
func mayDecideAhead(cj *pb.CronJob) bool {
	spec := cj.GetSpec()
	switch spec.GetConcurrencyPolicy() {
	case "", ConcurrencyAllow, ConcurrencyForbid:
	default:
		return false
	}
	return !spec.GetSuspend() && len(spec.GetDependsOn()) == 0
}

// wakeFor is when to look at an entry whose next fire time is fire: at
// fire, or, for an entry whose ticks may be decided ahead, DispatchAhead
// before it, and a DispatchAhead earlier for each group of entries that
// joined the crowd of fire before it (CronOptions.CrowdRate).
func (c *CronController) wakeFor(e *cronEntry, fire time.Time) time.Time {
	c.leaveCrowd(e)
	if !e.ahead || fire.IsZero() {
		return fire
	}
	e.fire = fire.UnixNano()
	rank := c.crowds[e.fire]
	c.crowds[e.fire] = rank + 1
	group := max(1, int(float64(c.opts.CrowdRate)*c.opts.DispatchAhead.Seconds()))
	lead := time.Duration(rank/group+1) * c.opts.DispatchAhead
	// Never further ahead than half of MaxScheduleAhead: a tick decided
	// beyond it would look like a wall clock that jumped back, and be
	// rewound and decided again.
	return fire.Add(-min(lead, max(c.opts.DispatchAhead, MaxDispatchAhead), c.opts.MaxScheduleAhead/2))
}

// leaveCrowd takes e out of the crowd it is counted in.
func (c *CronController) leaveCrowd(e *cronEntry) {
	if e.fire == 0 {
		return
	}
	if n := c.crowds[e.fire] - 1; n > 0 {
		c.crowds[e.fire] = n
	} else {
		delete(c.crowds, e.fire)
	}
	e.fire = 0
}

// decideAhead decides the tick fire, which lies in (now, now +
// DispatchAhead], before it comes: its Job is created now and starts at
// fire. It reports false, deciding nothing, when the decision could still
// change by fire (Forbid with an unfinished Job).
func (c *CronController) decideAhead(v View, e *cronEntry, cj *pb.CronJob, fire, now time.Time) ([]*pb.Command, bool) {
	if !e.ahead || !mayDecideAhead(cj) {
		return nil, false
	}
	var active []string // Allow runs whatever else is unfinished
	if cj.GetSpec().GetConcurrencyPolicy() == ConcurrencyForbid {
		ns, name := e.ref()
		if active = unfinishedJobsOf(v, ns, name); len(active) > 0 {
			return nil, false
		}
	}
	// Planned as if at the tick (on time, nothing late), recorded as
	// decided now.
	plan := planTicks(planInputFor(cj, e.sched, active, fire, c.opts), c.opts)
	if len(plan.runs) != 1 || plan.more {
		return nil, false
	}
	for _, d := range plan.decisions {
		d.DecidedTime = timestamppb.New(now)
	}
	return c.commandsFor(v, cj, e.sched, plan, now), true
}

// setNext moves e in the heap; zero takes it out.
func (c *CronController) setNext(e *cronEntry, next time.Time) {
	e.next = next
	switch {
	case next.IsZero() && e.index >= 0:
		heap.Remove(&c.queue, int(e.index))
	case next.IsZero():
	case e.index >= 0:
		heap.Fix(&c.queue, int(e.index))
	default:
		heap.Push(&c.queue, e)
	}
}

// Tick handles every CronJob whose next fire time is at or before now (or,
// with DispatchAhead, within it: see CronOptions) and returns the commands
// to apply and when to call Tick next (zero: nothing is scheduled). The next
// time may equal now when a long backlog is being worked through in steps.
func (c *CronController) Tick(v View, now time.Time) (cmds []*pb.Command, next time.Time) {
	back := !c.now.IsZero() && now.Before(c.now.Add(-c.opts.MaxScheduleAhead))
	c.now = now
	if !c.built || v.CronJobsVersion() != c.version || back {
		// A clock that went back far: next fire times computed from a
		// lastScheduleTime ahead of now are recomputed (and rewound).
		c.resync(v)
	}
	var requeue []*cronEntry
	for len(c.queue) > 0 && !c.queue[0].next.After(now) {
		e := heap.Pop(&c.queue).(*cronEntry)
		cj := v.CronJob(e.ref())
		if cj == nil {
			c.remove(e)
			continue
		}
		out, wake := c.handle(v, e, cj, now)
		key := c.wakeFor(e, wake)
		if len(out) == 0 && wake.After(now) && !key.After(now) {
			// Nothing is due yet, and the next tick is within
			// DispatchAhead: decide it now, or at the tick when it
			// cannot be decided yet.
			if ahead, ok := c.decideAhead(v, e, cj, wake, now); ok {
				out, wake = ahead, e.sched.Next(wake)
				key = c.wakeFor(e, wake)
			} else {
				key = wake
			}
		}
		cmds = append(cmds, out...)
		if !wake.IsZero() {
			// A tick within DispatchAhead after ticks decided now:
			// decided ahead in the next call.
			if key.Before(now) {
				key = now
			}
			e.next = key
			requeue = append(requeue, e)
		}
	}
	for _, e := range requeue {
		heap.Push(&c.queue, e)
	}
	if len(c.queue) > 0 {
		next = c.queue[0].next
	}
	return cmds, next
}

// handle decides the due ticks of one CronJob.
func (c *CronController) handle(v View, e *cronEntry, cj *pb.CronJob, now time.Time) ([]*pb.Command, time.Time) {
	ns, name := e.ref()
	if e.err != nil {
		c.logger.Warn("cronjob schedule does not parse", "namespace", ns, "cronjob", name, "err", e.err)
		if lastDecisionIsError(cj, e.err.Error()) {
			return nil, time.Time{}
		}
		d := &pb.ScheduleDecision{
			ScheduledTime: timestamppb.New(now),
			Decision:      DecisionSkip,
			Reason:        SkipError,
			Message:       e.err.Error(),
			DecidedTime:   timestamppb.New(now),
		}
		return []*pb.Command{{Op: &pb.Command_UpdateCronJobStatus{UpdateCronJobStatus: &pb.UpdateCronJobStatus{
			Namespace: ns, Name: name, Decisions: []*pb.ScheduleDecision{d},
		}}}}, time.Time{}
	}
	if c.scheduledAhead(cj, now) {
		return c.rewind(cj, now), e.sched.Next(now)
	}
	if next := e.sched.Next(cronBase(cj)); (next.IsZero() || next.After(now)) && len(cj.GetSpec().GetDependsOn()) == 0 && len(cj.GetStatus().GetWaiting()) == 0 {
		// Nothing is due (woken early to decide ahead, or by a change):
		// what planning would conclude, without reading the CronJob's Jobs.
		return nil, next
	}
	in := planInputFor(cj, e.sched, unfinishedJobsOf(v, ns, name), now, c.opts)
	if len(cj.GetSpec().GetDependsOn()) > 0 || len(cj.GetStatus().GetWaiting()) > 0 {
		return c.handleWaiting(v, e, cj, in, now)
	}
	plan := planTicks(in, c.opts)
	cmds := c.commandsFor(v, cj, e.sched, plan, now)
	for _, d := range plan.decisions {
		c.logger.Debug("cron decision", "namespace", ns, "cronjob", name,
			"scheduled", d.GetScheduledTime().AsTime(), "decision", d.GetDecision(), "reason", d.GetReason(),
			"count", d.GetCount(), "job", d.GetJob())
	}
	if plan.more {
		return cmds, now
	}
	from := cronBase(cj)
	if !plan.last.IsZero() && plan.last.After(from) {
		from = plan.last
	}
	return cmds, e.sched.Next(from)
}

// commandsFor turns a plan into commands: the new Jobs, the replaced Jobs'
// Failed status, and the CronJob's decisions and lastScheduleTime.
func (c *CronController) commandsFor(v View, cj *pb.CronJob, sched *Schedule, plan tickPlan, now time.Time) []*pb.Command {
	ns, name := cj.GetMetadata().GetNamespace(), cj.GetMetadata().GetName()
	var cmds []*pb.Command
	if len(plan.runs) > 0 {
		jobs := make([]*pb.Job, 0, len(plan.runs))
		for _, r := range plan.runs {
			jobs = append(jobs, jobFromTemplate(cj, r.name, r.scheduled, sched.Location(), now, false))
		}
		cmds = append(cmds, &pb.Command{Op: &pb.Command_CreateJobs{CreateJobs: &pb.CreateJobs{Jobs: jobs}}})
	}
	for _, old := range plan.replace {
		if j := v.Job(ns, old.name); j != nil {
			cmds = append(cmds, replacedStatus(j, old.by, now))
		}
	}
	upd := &pb.UpdateCronJobStatus{Namespace: ns, Name: name, Decisions: plan.decisions}
	if !plan.last.IsZero() {
		upd.LastScheduleTime = timestamppb.New(plan.last)
	}
	if len(plan.decisions) > 0 || upd.LastScheduleTime != nil {
		cmds = append(cmds, &pb.Command{Op: &pb.Command_UpdateCronJobStatus{UpdateCronJobStatus: upd}})
	}
	return cmds
}

// replacedStatus marks an unfinished Job Failed (reason Replaced), keeping
// the rest of its status; the Job controller then stops its attempts.
func replacedStatus(j *pb.Job, by string, now time.Time) *pb.Command {
	st := proto.Clone(j.GetStatus()).(*pb.JobStatus)
	if st == nil {
		st = &pb.JobStatus{}
	}
	ts := timestamppb.New(now)
	msg := "replaced by job " + by
	st.Conditions = append(st.Conditions, &pb.JobCondition{
		Type:               pb.ConditionFailed,
		Status:             pb.ConditionTrue,
		LastTransitionTime: ts,
		Reason:             ReasonReplaced,
		Message:            msg,
	})
	st.CompletionTime = ts
	st.Result = jobResult(st, pb.ConditionFailed, ReasonReplaced, msg, nil, ts)
	return &pb.Command{Op: &pb.Command_PutJobStatus{PutJobStatus: &pb.PutJobStatus{
		Namespace: j.GetMetadata().GetNamespace(), Name: j.GetMetadata().GetName(), Status: st,
	}}}
}

var jobNameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// Trigger runs a CronJob now, outside its schedule (raftcron trigger;
// kubectl create job --from=cronjob/NAME). The Job is named jobName, or
// <cronjob>-manual-<unix seconds> when empty, and is recorded as an invoke
// decision with reason Manual. concurrencyPolicy does not apply to a manual
// run (as with Nomad's periodic force and kubectl create job --from), and
// lastScheduleTime does not move.
func (c *CronController) Trigger(v View, namespace, cronJob, jobName string, now time.Time) ([]*pb.Command, *pb.Job, error) {
	cj := v.CronJob(namespace, cronJob)
	if cj == nil {
		// The API strips the sentinel's text: the message says it itself.
		return nil, nil, fmt.Errorf("trigger: cronjob %q not found in namespace %q: %w", cronJob, namespace, ErrNotFound)
	}
	jobName, err := manualJobName(v, namespace, cronJob, jobName, now)
	if err != nil {
		return nil, nil, err
	}
	loc := time.UTC
	if s, err := ScheduleOf(cj); err == nil {
		loc = s.Location()
	}
	job := jobFromTemplate(cj, jobName, now, loc, now, true)
	d := &pb.ScheduleDecision{
		ScheduledTime:      timestamppb.New(now),
		Decision:           DecisionInvoke,
		Reason:             InvokeManual,
		Job:                jobName,
		DecidedTime:        timestamppb.New(now),
		Count:              1,
		FirstScheduledTime: timestamppb.New(now),
	}
	cmds := []*pb.Command{
		{Op: &pb.Command_CreateJobs{CreateJobs: &pb.CreateJobs{Jobs: []*pb.Job{job}}}},
		{Op: &pb.Command_UpdateCronJobStatus{UpdateCronJobStatus: &pb.UpdateCronJobStatus{
			Namespace: namespace, Name: cronJob, Decisions: []*pb.ScheduleDecision{d},
		}}},
	}
	c.logger.Info("cronjob triggered", "namespace", namespace, "cronjob", cronJob, "job", jobName)
	return cmds, job, nil
}

// manualJobName is the name of a manual run: jobName, or
// <cronjob>-manual-<unix seconds>; it must be a free, valid Job name.
func manualJobName(v View, namespace, cronJob, jobName string, now time.Time) (string, error) {
	if jobName == "" {
		suffix := "-manual-" + strconv.FormatInt(now.Unix(), 10)
		base := cronJob
		if len(base)+len(suffix) > 63 {
			base = strings.TrimRight(base[:63-len(suffix)], "-")
		}
		jobName = base + suffix
	}
	if len(jobName) > 63 || !jobNameRE.MatchString(jobName) {
		return "", fmt.Errorf("trigger cronjob %s/%s: job name %q: must be at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit: %w",
			namespace, cronJob, jobName, ErrInvalid)
	}
	waiting := slices.ContainsFunc(v.CronJob(namespace, cronJob).GetStatus().GetWaiting(), func(w *pb.WaitingTick) bool { return w.GetJob() == jobName })
	if v.Job(namespace, jobName) != nil || waiting {
		return "", fmt.Errorf("trigger cronjob %s/%s: job %q already exists; name the run with a different job name: %w",
			namespace, cronJob, jobName, ErrAlreadyExists)
	}
	return jobName, nil
}

// jobFromTemplate builds the Job for one run of a CronJob.
func jobFromTemplate(cj *pb.CronJob, name string, scheduled time.Time, loc *time.Location, now time.Time, manual bool) *pb.Job {
	tmpl := cj.GetSpec().GetJobTemplate()
	labels := maps.Clone(tmpl.GetMetadata().GetLabels())
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelCronJob] = cj.GetMetadata().GetName()
	annotations := maps.Clone(tmpl.GetMetadata().GetAnnotations())
	if !manual {
		if annotations == nil {
			annotations = map[string]string{}
		}
		annotations[AnnotationScheduledTimestamp] = scheduled.In(loc).Format(time.RFC3339)
	}
	var spec *pb.JobSpec
	if s := tmpl.GetSpec(); s != nil {
		spec = proto.Clone(s).(*pb.JobSpec)
	} else {
		spec = &pb.JobSpec{}
	}
	return &pb.Job{
		ApiVersion: pb.APIVersion,
		Kind:       "Job",
		Metadata: &pb.ObjectMeta{
			Name:              name,
			Namespace:         cj.GetMetadata().GetNamespace(),
			Labels:            labels,
			Annotations:       annotations,
			CreationTimestamp: timestamppb.New(now),
		},
		Spec: spec,
		Status: &pb.JobStatus{
			CronJob:       cj.GetMetadata().GetName(),
			ScheduledTime: timestamppb.New(scheduled),
			Manual:        manual,
		},
	}
}

// cronBase is the time after which a CronJob's ticks are still to be
// decided: max(status.lastScheduleTime, metadata.creationTimestamp).
func cronBase(cj *pb.CronJob) time.Time {
	base := cj.GetMetadata().GetCreationTimestamp().AsTime()
	if last := cj.GetStatus().GetLastScheduleTime(); last != nil && last.AsTime().After(base) {
		base = last.AsTime()
	}
	return base
}

func lastDecisionIsError(cj *pb.CronJob, msg string) bool {
	ds := cj.GetStatus().GetDecisions()
	if len(ds) == 0 {
		return false
	}
	d := ds[len(ds)-1]
	return d.GetReason() == SkipError && d.GetMessage() == msg
}

// unfinishedJobsOf lists the names of a CronJob's Jobs without a true
// Complete or Failed condition, oldest scheduled first.
func unfinishedJobsOf(v View, namespace, cronJob string) []string {
	var names []string
	for _, j := range v.JobsOfCronJob(namespace, cronJob) {
		if !cronJobDone(j) {
			names = append(names, j.GetMetadata().GetName())
		}
	}
	return names
}

func cronJobDone(j *pb.Job) bool {
	for _, c := range j.GetStatus().GetConditions() {
		if (c.GetType() == pb.ConditionComplete || c.GetType() == pb.ConditionFailed) && c.GetStatus() == pb.ConditionTrue {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------- the decision

// planInput is everything one decision about one CronJob depends on. The
// controller and Simulate both build one and call planTicks.
type planInput struct {
	cronJob     string
	sched       *Schedule
	base        time.Time // ticks after this are undecided
	now         time.Time
	deadline    *int32
	catchUp     string
	concurrency string
	suspended   bool
	limit       int
	active      []string // unfinished Jobs of the CronJob, oldest first
	// waits: the ticks that may run wait for upstreams (spec.dependsOn);
	// the concurrency policy applies when they run, and no invoke
	// decision is made yet.
	waits bool
}

func planInputFor(cj *pb.CronJob, sched *Schedule, active []string, now time.Time, opts CronOptions) planInput {
	spec := cj.GetSpec()
	limit := opts.CatchUpLimitDefault
	if spec.CatchUpLimit != nil {
		limit = int(spec.GetCatchUpLimit())
	}
	return planInput{
		cronJob:     cj.GetMetadata().GetName(),
		sched:       sched,
		base:        cronBase(cj),
		now:         now,
		deadline:    spec.StartingDeadlineSeconds,
		catchUp:     spec.GetCatchUp(),
		concurrency: spec.GetConcurrencyPolicy(),
		suspended:   spec.GetSuspend(),
		limit:       limit,
		active:      active,
	}
}

type plannedRun struct {
	scheduled       time.Time
	name            string
	reason, message string // the invoke decision's
}

type replacedJob struct{ name, by string }

type tickPlan struct {
	decisions []*pb.ScheduleDecision
	runs      []plannedRun
	replace   []replacedJob
	last      time.Time // new lastScheduleTime; zero = unchanged
	more      bool      // ticks at or before now remain undecided: call again
}

// tickRange is a run of ticks that were not enumerated (over MaxTicksExamined).
type tickRange struct {
	at          int // the range lies before ticks[at]
	first, upTo time.Time
	count       int // 0: not counted
}

// jumpProbes are the look-back windows tried, smallest first, when the ticks
// of one CronJob exceed MaxTicksExamined.
var jumpProbes = []time.Duration{
	time.Minute, time.Hour, 24 * time.Hour, 7 * 24 * time.Hour, 32 * 24 * time.Hour,
	366 * 24 * time.Hour, 11 * 366 * 24 * time.Hour,
}

// enumerate lists the ticks in (base, now], oldest first. Past max ticks it
// jumps: it finds the smallest look-back window before now that holds a tick
// and records the ticks between as one range. more is set when even the
// ticks after the jump exceed max.
func enumerate(s *Schedule, base, now time.Time, max int) (ticks []time.Time, gap *tickRange, more bool) {
	t := base
	jumped := false
	for {
		n := s.Next(t)
		if n.IsZero() || n.After(now) {
			return ticks, gap, false
		}
		if len(ticks) >= max && !jumped {
			jumped = true
			if d := s.every; d > 0 {
				// @every ticks lie on a grid from the previous run: keep
				// to it, and count the range exactly.
				latest := n.Add((now.Sub(n) / d) * d)
				if j := latest.Add(-d); !j.Before(n) {
					gap = &tickRange{at: len(ticks), first: n, upTo: j}
					if c := int64(j.Sub(n)/d) + 1; c <= math.MaxInt32 {
						gap.count = int(c)
					}
					n = latest
				}
			}
			for _, x := range jumpProbes {
				if gap != nil {
					break
				}
				j := now.Add(-x)
				if !j.After(n) {
					break // the window reaches back to n: no jump possible
				}
				if f := s.Next(j); !f.IsZero() && !f.After(now) {
					gap = &tickRange{at: len(ticks), first: n, upTo: j}
					n = f
					break
				}
			}
		}
		if len(ticks) >= 2*max {
			return ticks, gap, true
		}
		ticks = append(ticks, n)
		t = n
	}
}

// planTicks decides every tick in (base, now]. Rules, in order, for each tick:
//
//  1. suspended → skip Suspended (lastScheduleTime still advances, so resuming
//     does not fire the backlog);
//  2. scheduled + startingDeadlineSeconds < now → skip MissedDeadline; a
//     deadline shorter than LateGrace counts as LateGrace, so the leader's
//     own wake-up and commit delay never makes a tick miss it (0 would
//     otherwise never run);
//  3. catchUp: Latest runs only the most recent tick (older → skip
//     CatchUpPolicy); All runs every tick, oldest first, but at most
//     catchUpLimit late ones; None skips every late tick (now − scheduled >
//     LateGrace). A late tick that runs has reason CatchUp, else Scheduled;
//  4. concurrencyPolicy: Forbid skips a tick while a Job of the CronJob is
//     unfinished (including one created by an earlier tick of this call);
//     Replace runs only the newest tick of the call and fails every
//     unfinished Job (older ticks of the call → skip ConcurrencyPolicy).
//
// A skipped tick is final: it does not run later when the blocking Job ends.
// Consecutive skips with the same reason and message are one decision with a
// count.
func planTicks(in planInput, opts CronOptions) tickPlan {
	ticks, gap, more := enumerate(in.sched, in.base, in.now, opts.MaxTicksExamined)
	plan := tickPlan{more: more}
	if len(ticks) == 0 {
		return plan
	}
	plan.last = ticks[len(ticks)-1]
	tp := tickPlanner{in: in, opts: opts, ticks: ticks, verdicts: make([]tickVerdict, len(ticks))}
	candidates := tp.timing(more) // rules 1–3
	if !in.waits {
		plan.replace = tp.concurrency(candidates) // rule 4
	}
	plan.decisions, plan.runs = tp.decisions(gap) // what is recorded and run
	return plan
}

// tickVerdict is what planTicks decided for one tick.
type tickVerdict struct {
	skip    bool
	reason  string
	message string
	job     string
}

// tickPlanner holds one planTicks call: the ticks in (base, now], oldest
// first, and a verdict per tick, filled in phase by phase.
type tickPlanner struct {
	in       planInput
	opts     CronOptions
	ticks    []time.Time
	verdicts []tickVerdict
}

// late: the tick is handled more than LateGrace after its time.
func (tp *tickPlanner) late(t time.Time) bool { return tp.in.now.Sub(t) > tp.opts.LateGrace }

// missed: the tick's startingDeadlineSeconds (at least LateGrace) has passed.
func (tp *tickPlanner) missed(t time.Time) bool {
	return tp.in.deadline != nil && tp.in.now.Sub(t) > max(time.Duration(*tp.in.deadline)*time.Second, tp.opts.LateGrace)
}

func (tp *tickPlanner) name(i int) string {
	return JobName(tp.in.cronJob, tp.ticks[i], tp.in.sched.HasSeconds())
}

// timing applies rules 1–3 (suspend, startingDeadlineSeconds, catchUp) and
// returns the ticks that may still run, oldest first. more: the most recent
// tick lies beyond this call.
func (tp *tickPlanner) timing(more bool) (candidates []int) {
	in := tp.in
	latest := len(tp.ticks) - 1
	if more {
		latest = -1
	}
	lateRuns := 0
	for i, t := range tp.ticks {
		v := &tp.verdicts[i]
		switch {
		case in.suspended:
			*v = tickVerdict{true, SkipSuspended, "the CronJob is suspended", ""}
		case tp.missed(t):
			*v = tickVerdict{true, SkipMissedDeadline, fmt.Sprintf("not started within startingDeadlineSeconds (%d)", *in.deadline), ""}
		case in.catchUp == CatchUpAll:
			if tp.late(t) {
				if lateRuns >= in.limit {
					*v = tickVerdict{true, SkipCatchUpPolicy, fmt.Sprintf("catchUp All: more than catchUpLimit (%d) missed ticks", in.limit), ""}
					continue
				}
				lateRuns++
			}
		case in.catchUp == CatchUpNone:
			if tp.late(t) {
				*v = tickVerdict{true, SkipCatchUpPolicy, "catchUp None: missed while no leader was scheduling", ""}
				continue
			}
		default: // Latest
			if i != latest {
				*v = tickVerdict{true, SkipCatchUpPolicy, "catchUp Latest: a newer missed tick runs instead", ""}
				continue
			}
		}
		if !v.skip {
			candidates = append(candidates, i)
		}
	}
	return candidates
}

// concurrency applies rule 4 to the candidates and returns the unfinished
// Jobs that Replace fails.
func (tp *tickPlanner) concurrency(candidates []int) (replace []replacedJob) {
	switch tp.in.concurrency {
	case ConcurrencyForbid:
		active := tp.in.active
		for _, i := range candidates {
			n := tp.name(i)
			blocker := ""
			for _, a := range active {
				if a != n {
					blocker = a
					break
				}
			}
			if blocker != "" {
				tp.verdicts[i] = tickVerdict{true, SkipConcurrencyPolicy, "concurrencyPolicy Forbid: job " + blocker + " has not finished", blocker}
				continue
			}
			active = []string{n}
		}
	case ConcurrencyReplace:
		if len(candidates) > 0 {
			newest := candidates[len(candidates)-1]
			n := tp.name(newest)
			for _, i := range candidates[:len(candidates)-1] {
				tp.verdicts[i] = tickVerdict{true, SkipConcurrencyPolicy, "concurrencyPolicy Replace: superseded by job " + n, n}
			}
			for _, a := range tp.in.active {
				if a != n {
					replace = append(replace, replacedJob{name: a, by: n})
				}
			}
		}
	}
	return replace
}

// decisions turns the verdicts into the decisions to record (consecutive
// equal skips folded into one with a count, the range of ticks not
// examined one by one as one skip) and the runs to create.
func (tp *tickPlanner) decisions(gap *tickRange) (decisions []*pb.ScheduleDecision, runs []plannedRun) {
	in := tp.in
	now := timestamppb.New(in.now)
	appendSkip := func(first, last time.Time, count int32, reason, message, job string) {
		if k := len(decisions); k > 0 && count > 0 {
			p := decisions[k-1]
			if p.Decision == DecisionSkip && p.Count > 0 && p.Reason == reason && p.Message == message && p.Job == job {
				p.Count += count
				p.ScheduledTime = timestamppb.New(last)
				return
			}
		}
		decisions = append(decisions, &pb.ScheduleDecision{
			ScheduledTime:      timestamppb.New(last),
			FirstScheduledTime: timestamppb.New(first),
			Decision:           DecisionSkip,
			Reason:             reason,
			Message:            message,
			Job:                job,
			DecidedTime:        now,
			Count:              count,
		})
	}
	for i, t := range tp.ticks {
		if gap != nil && gap.at == i {
			reason := SkipCatchUpPolicy
			switch {
			case in.suspended:
				reason = SkipSuspended
			case tp.missed(gap.upTo):
				reason = SkipMissedDeadline
			}
			appendSkip(gap.first, gap.upTo, int32(gap.count), reason,
				fmt.Sprintf("more than %d ticks missed; ticks up to %s were not examined one by one", tp.opts.MaxTicksExamined, gap.upTo.UTC().Format(time.RFC3339)), "")
		}
		v := tp.verdicts[i]
		if v.skip {
			appendSkip(t, t, 1, v.reason, v.message, v.job)
			continue
		}
		reason, message := InvokeScheduled, ""
		if tp.late(t) {
			reason, message = InvokeCatchUp, "started "+in.now.Sub(t).Round(time.Second).String()+" after its scheduled time"
		}
		n := tp.name(i)
		runs = append(runs, plannedRun{scheduled: t, name: n, reason: reason, message: message})
		if in.waits {
			continue
		}
		decisions = append(decisions, &pb.ScheduleDecision{
			ScheduledTime:      timestamppb.New(t),
			FirstScheduledTime: timestamppb.New(t),
			Decision:           DecisionInvoke,
			Reason:             reason,
			Message:            message,
			Job:                n,
			DecidedTime:        now,
			Count:              1,
		})
	}
	return decisions, runs
}

// ---------------------------------------------------------------- heap

// cronQueue is a min-heap of CronJobs by next fire time (then namespace and
// name, so that the order of due CronJobs is deterministic).
type cronQueue []*cronEntry

func (q cronQueue) Len() int { return len(q) }
func (q cronQueue) Less(i, j int) bool {
	a, b := q[i], q[j]
	if !a.next.Equal(b.next) {
		return a.next.Before(b.next)
	}
	ans, aname := a.ref()
	bns, bname := b.ref()
	if ans != bns {
		return ans < bns
	}
	return aname < bname
}
func (q cronQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index = int32(i)
	q[j].index = int32(j)
}
func (q *cronQueue) Push(x any) {
	e := x.(*cronEntry)
	e.index = int32(len(*q))
	*q = append(*q, e)
}
func (q *cronQueue) Pop() any {
	old := *q
	n := len(old)
	e := old[n-1]
	old[n-1] = nil
	e.index = -1
	*q = old[:n-1]
	return e
}
