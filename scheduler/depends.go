package scheduler

import (
	"fmt"
	"slices"
	"strings"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Pipelines: a CronJob with spec.dependsOn runs a tick only once each
// upstream's run for the same window succeeded (docs/pipelines.md).
//
// The window rule: for a tick T of the downstream and an upstream U, U's
// window tick t_U is U's latest scheduled tick at or before T (in U's own
// schedule and time zone). The upstream is satisfied when U's Job for t_U,
// or a manual Job of U created at or after t_U (a re-run after a fix),
// completed successfully by the deadline T + within. It has failed when
// the Job for t_U failed, or t_U was skipped, and no manual re-run is still
// running. A tick is decided as soon as it can be: any upstream failed →
// skip UpstreamFailed; every upstream satisfied → the Job is created (the
// concurrency policy applies at that moment); an upstream neither satisfied
// nor failed at its deadline → skip UpstreamNotReady. Until then the tick
// waits in status.waiting, a replicated fact a new leader resolves.
const (
	// AnnotationDependsOn is the annotation form of spec.dependsOn, for
	// manifests that must stay valid for a real Kubernetes:
	// "prepare-sales:2h, load-stock" (an upstream, optionally ":within").
	AnnotationDependsOn = "raftcron.io/depends-on"
	// AnnotationUpstreamJobs is set on a Job that waited for its upstreams:
	// "prepare-sales=prepare-sales-29400120,…", the Jobs it waited for.
	AnnotationUpstreamJobs = "raftcron.io/upstream-jobs"

	SkipUpstreamFailed   = "UpstreamFailed"
	SkipUpstreamNotReady = "UpstreamNotReady"

	// UpstreamState.state values.
	UpstreamWaiting   = "Waiting"
	UpstreamSucceeded = "Succeeded"
	UpstreamFailed    = "Failed"

	// MaxDependsOn bounds spec.dependsOn.
	MaxDependsOn = 20
	// MaxWaitingTicks bounds status.waiting: when one more tick would
	// wait, the oldest is skipped UpstreamNotReady.
	MaxWaitingTicks = 20
	// ManualUpstreamWait is how long a run made by trigger --with-upstreams
	// waits for the upstream Jobs made with it.
	ManualUpstreamWait = 24 * time.Hour
)

// ParseDependsOnAnnotation reads the raftcron.io/depends-on annotation:
// comma-separated upstream names, each optionally followed by ":within".
func ParseDependsOnAnnotation(s string) ([]*pb.CronJobDependency, error) {
	var out []*pb.CronJobDependency
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, within, _ := strings.Cut(part, ":")
		name, within = strings.TrimSpace(name), strings.TrimSpace(within)
		if name == "" {
			return nil, fmt.Errorf("%q names no CronJob; write NAME or NAME:WITHIN, comma-separated", part)
		}
		out = append(out, &pb.CronJobDependency{CronJob: name, Within: within})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("names no CronJob; write NAME or NAME:WITHIN, comma-separated (\"prepare-sales:2h\")")
	}
	return out, nil
}

// dependsOnFromAnnotation fills spec.dependsOn from the annotation when the
// spec has none (defaulting; validateDependsOn reports a bad annotation).
func dependsOnFromAnnotation(c *pb.CronJob) {
	v, ok := c.GetMetadata().GetAnnotations()[AnnotationDependsOn]
	if !ok || c.GetSpec() == nil || len(c.Spec.DependsOn) > 0 {
		return
	}
	if deps, err := ParseDependsOnAnnotation(v); err == nil {
		c.Spec.DependsOn = deps
	}
}

func validateDependsOn(errs *fieldErrors, c *pb.CronJob) {
	deps := c.GetSpec().GetDependsOn()
	if v, ok := c.GetMetadata().GetAnnotations()[AnnotationDependsOn]; ok {
		field := "metadata.annotations[" + AnnotationDependsOn + "]"
		if ann, err := ParseDependsOnAnnotation(v); err != nil {
			errs.add(field, "%v", err)
		} else if !slices.EqualFunc(ann, deps, func(a, b *pb.CronJobDependency) bool { return proto.Equal(a, b) }) {
			errs.add(field, "says %q but spec.dependsOn differs; set one of them", v)
		}
	}
	if len(deps) > MaxDependsOn {
		errs.add("spec.dependsOn", "%d upstreams; at most %d", len(deps), MaxDependsOn)
	}
	seen := map[string]bool{}
	for i, d := range deps {
		p := fmt.Sprintf("spec.dependsOn[%d]", i)
		switch name := d.GetCronJob(); {
		case name == "":
			errs.add(p+".cronJob", "required")
		case dnsLabelProblem(name, MaxCronJobNameLength) != "":
			errs.add(p+".cronJob", "%s", dnsLabelProblem(name, MaxCronJobNameLength))
		case name == c.GetMetadata().GetName():
			errs.add(p+".cronJob", "a CronJob cannot depend on itself (a dependency cycle: %s → %s)", name, name)
		case seen[name]:
			errs.add(p+".cronJob", "%q is listed twice", name)
		}
		seen[d.GetCronJob()] = true
		if w := d.GetWithin(); w != "" {
			if dur, err := time.ParseDuration(w); err != nil {
				errs.add(p+".within", "%q is not a duration (write it as 2h, 90m or 1h30m)", w)
			} else if dur <= 0 {
				errs.add(p+".within", "must be > 0, got %s", w)
			}
		}
	}
}

// windowTick is the schedule's latest tick at or before t (zero: none in
// the last 11 years).
func windowTick(s *Schedule, t time.Time) time.Time {
	for _, d := range jumpProbes {
		n := s.Next(t.Add(-d))
		if n.IsZero() || n.After(t) {
			continue
		}
		for {
			m := s.Next(n)
			if m.IsZero() || m.After(t) {
				return n
			}
			n = m
		}
	}
	return time.Time{}
}

// within is how long a tick at t waits for the upstream of d: spec's within,
// or until the downstream's next tick.
func withinDeadline(d *pb.CronJobDependency, sched *Schedule, t time.Time) time.Time {
	if dur, err := time.ParseDuration(d.GetWithin()); err == nil && dur > 0 {
		return t.Add(dur)
	}
	if n := sched.Next(t); !n.IsZero() {
		return n
	}
	return t.Add(ManualUpstreamWait)
}

func fmtTick(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// upstreamOfTick evaluates one upstream of a scheduled tick at t.
func (c *CronController) upstreamOfTick(v View, ns string, d *pb.CronJobDependency, sched *Schedule, t, now time.Time) *pb.UpstreamState {
	deadline := withinDeadline(d, sched, t)
	st := &pb.UpstreamState{CronJob: d.GetCronJob(), State: UpstreamWaiting, Deadline: timestamppb.New(deadline)}
	up := v.CronJob(ns, d.GetCronJob())
	if up == nil {
		st.Message = fmt.Sprintf("cronjob %s not found (upstream deleted)", d.GetCronJob())
		return st
	}
	usched, err := c.scheduleOf(up)
	if err != nil {
		st.Message = fmt.Sprintf("cronjob %s: %v", d.GetCronJob(), err)
		return st
	}
	tu := windowTick(usched, t)
	if tu.IsZero() {
		st.Message = fmt.Sprintf("cronjob %s has no tick at or before %s", d.GetCronJob(), fmtTick(t))
		return st
	}
	st.ScheduledTime = timestamppb.New(tu)
	name := JobName(d.GetCronJob(), tu, usched.HasSeconds())
	j := v.Job(ns, name)
	if j != nil && !j.MadeFor(d.GetCronJob(), st.ScheduledTime) {
		j = nil
	}
	// A manual re-run made at or after the window tick also counts.
	var reruns []*pb.Job
	for _, m := range v.JobsOfCronJob(ns, d.GetCronJob()) {
		if m.GetStatus().GetManual() && !m.GetMetadata().GetCreationTimestamp().AsTime().Before(tu) {
			reruns = append(reruns, m)
		}
	}
	for _, cand := range append([]*pb.Job{j}, reruns...) {
		if cand == nil || !jobSucceeded(cand) {
			continue
		}
		fin := cand.GetStatus().GetCompletionTime()
		if fin != nil && fin.AsTime().After(deadline) {
			continue
		}
		st.State, st.Job, st.FinishedTime = UpstreamSucceeded, cand.GetMetadata().GetName(), fin
		st.Message = "job " + st.Job + " succeeded"
		return st
	}
	running := ""
	for _, m := range reruns {
		if !m.Finished() {
			running = m.GetMetadata().GetName()
		}
	}
	failed := ""
	switch {
	case j != nil && j.Finished():
		st.Job, st.FinishedTime = name, j.GetStatus().GetCompletionTime()
		if jobSucceeded(j) {
			failed = fmt.Sprintf("job %s succeeded only after the deadline %s", name, fmtTick(deadline))
		} else {
			failed = fmt.Sprintf("job %s failed%s", name, jobFailureText(j))
		}
	case j != nil:
		st.Job = name
		st.Message = fmt.Sprintf("job %s for its tick at %s has not finished", name, fmtTick(tu))
	case waitingFor(up, tu):
		st.Message = fmt.Sprintf("its tick at %s waits for its own upstreams", fmtTick(tu))
	case up.GetStatus().GetLastScheduleTime() != nil && !up.GetStatus().GetLastScheduleTime().AsTime().Before(tu):
		if dec := decisionFor(up, tu); dec != nil && dec.GetDecision() == DecisionSkip {
			failed = fmt.Sprintf("its tick at %s was skipped (%s: %s)", fmtTick(tu), dec.GetReason(), dec.GetMessage())
		} else {
			failed = fmt.Sprintf("no job for its tick at %s (skipped or removed)", fmtTick(tu))
		}
	case up.GetMetadata().GetCreationTimestamp().AsTime().After(tu):
		st.Message = fmt.Sprintf("cronjob %s was created after its tick at %s; waiting for a manual run", d.GetCronJob(), fmtTick(tu))
	default:
		st.Message = fmt.Sprintf("its tick at %s has not run yet", fmtTick(tu))
	}
	if failed != "" {
		if running != "" {
			st.Job = running
			st.Message = failed + "; waiting for the re-run " + running
			return st
		}
		st.State, st.Message = UpstreamFailed, failed
	}
	return st
}

// upstreamOfManual evaluates an upstream Job made by trigger
// --with-upstreams (prev is what was recorded).
func upstreamOfManual(v View, ns string, prev *pb.UpstreamState) *pb.UpstreamState {
	st := proto.Clone(prev).(*pb.UpstreamState)
	st.State = UpstreamWaiting
	name := st.GetJob()
	j := v.Job(ns, name)
	up := v.CronJob(ns, st.GetCronJob())
	switch {
	case j != nil && jobSucceeded(j):
		st.State, st.FinishedTime, st.Message = UpstreamSucceeded, j.GetStatus().GetCompletionTime(), "job "+name+" succeeded"
	case j != nil && j.Finished():
		st.State, st.FinishedTime, st.Message = UpstreamFailed, j.GetStatus().GetCompletionTime(), fmt.Sprintf("job %s failed%s", name, jobFailureText(j))
	case j != nil:
		st.Message = "job " + name + " has not finished"
	case up != nil && slices.ContainsFunc(up.GetStatus().GetWaiting(), func(w *pb.WaitingTick) bool { return w.GetJob() == name }):
		st.Message = "job " + name + " waits for its own upstreams"
	default:
		st.State, st.Message = UpstreamFailed, "job "+name+" was not run"
		for _, d := range slices.Backward(up.GetStatus().GetDecisions()) {
			if d.GetJob() == name && d.GetDecision() == DecisionSkip {
				st.Message = fmt.Sprintf("job %s was not run (%s: %s)", name, d.GetReason(), d.GetMessage())
				break
			}
		}
	}
	return st
}

func jobSucceeded(j *pb.Job) bool {
	for _, c := range j.GetStatus().GetConditions() {
		if c.GetType() == pb.ConditionComplete && c.GetStatus() == pb.ConditionTrue {
			return true
		}
	}
	return false
}

// jobFailureText is ": reason: message" of a failed Job's Failed condition.
func jobFailureText(j *pb.Job) string {
	if r := j.GetStatus().GetResult(); r != nil && r.GetCondition() == pb.ConditionFailed {
		return ": " + r.GetReason() + colonText(r.GetMessage())
	}
	for _, c := range j.GetStatus().GetConditions() {
		if c.GetType() == pb.ConditionFailed && c.GetStatus() == pb.ConditionTrue {
			return ": " + c.GetReason() + colonText(c.GetMessage())
		}
	}
	return ""
}

func colonText(s string) string {
	if s == "" {
		return ""
	}
	return ": " + s
}

func waitingFor(cj *pb.CronJob, t time.Time) bool {
	for _, w := range cj.GetStatus().GetWaiting() {
		if w.GetReason() != InvokeManual && w.GetScheduledTime().AsTime().Equal(t) {
			return true
		}
	}
	return false
}

// decisionFor is the recorded decision covering the tick at t, or nil.
func decisionFor(cj *pb.CronJob, t time.Time) *pb.ScheduleDecision {
	for _, d := range slices.Backward(cj.GetStatus().GetDecisions()) {
		if d.GetDecision() == DecisionInvoke && d.GetReason() == InvokeManual {
			continue
		}
		last := d.GetScheduledTime().AsTime()
		first := last
		if d.GetFirstScheduledTime() != nil {
			first = d.GetFirstScheduledTime().AsTime()
		}
		if !t.Before(first) && !t.After(last) {
			return d
		}
	}
	return nil
}

// scheduleOf is a CronJob's parsed schedule, from the heap's entry when it
// has one.
func (c *CronController) scheduleOf(cj *pb.CronJob) (*Schedule, error) {
	e := c.entries[cronKey(cj.GetMetadata().GetNamespace(), cj.GetMetadata().GetName())]
	if e != nil && e.parsed != nil && *e.parsed == [2]string{cj.GetSpec().GetSchedule(), cj.GetSpec().GetTimeZone()} && (e.sched != nil || e.err != nil) {
		return e.sched, e.err
	}
	return c.parseShared(cj)
}

// waitPlan is the outcome of looking at a CronJob's waiting ticks.
type waitPlan struct {
	decisions []*pb.ScheduleDecision
	jobs      []*pb.Job
	replace   []replacedJob
	waiting   []*pb.WaitingTick
	wake      time.Time // earliest deadline among the ticks still waiting
	// active: the CronJob's unfinished Jobs once the plan is applied
	// (for the concurrency policy of ticks released after these).
	active []string
}

// resolveWaiting decides every waiting tick that can be decided (oldest
// first): run it, or skip it UpstreamFailed or UpstreamNotReady. The
// concurrency policy applies to a scheduled tick when it runs, against the
// Jobs unfinished at that moment (active).
func (c *CronController) resolveWaiting(v View, cj *pb.CronJob, sched *Schedule, waiting []*pb.WaitingTick, active []string, now time.Time) waitPlan {
	ns := cj.GetMetadata().GetNamespace()
	var wp waitPlan
	nowTS := timestamppb.New(now)
	for _, w := range waiting {
		manual := w.GetReason() == InvokeManual
		ups := make([]*pb.UpstreamState, 0, len(w.GetUpstreams()))
		if manual {
			for _, u := range w.GetUpstreams() {
				ups = append(ups, upstreamOfManual(v, ns, u))
			}
		} else {
			for _, d := range cj.GetSpec().GetDependsOn() {
				ups = append(ups, c.upstreamOfTick(v, ns, d, sched, w.GetScheduledTime().AsTime(), now))
			}
		}
		t := w.GetScheduledTime().AsTime()
		decision := &pb.ScheduleDecision{
			ScheduledTime: w.GetScheduledTime(), FirstScheduledTime: w.GetScheduledTime(),
			DecidedTime: nowTS, Count: 1, Job: w.GetJob(), WaitingSince: w.GetSince(), Upstreams: ups,
		}
		waited := now.Sub(w.GetSince().AsTime()).Round(time.Second)
		var failed, late, waitingOn []string
		var wake time.Time
		for _, u := range ups {
			switch {
			case u.GetState() == UpstreamFailed:
				failed = append(failed, u.GetCronJob()+" "+tickText(u)+": "+u.GetMessage())
			case u.GetState() == UpstreamSucceeded:
			case !now.Before(u.GetDeadline().AsTime()):
				late = append(late, fmt.Sprintf("%s %s: no successful run by %s (%s)", u.GetCronJob(), tickText(u), fmtTick(u.GetDeadline().AsTime()), u.GetMessage()))
			default:
				waitingOn = append(waitingOn, u.GetCronJob())
				wake = earliest(wake, u.GetDeadline().AsTime())
			}
		}
		switch {
		case len(failed) > 0:
			decision.Decision, decision.Reason = DecisionSkip, SkipUpstreamFailed
			decision.Message = fmt.Sprintf("upstream failed after waiting %s: %s", waited, strings.Join(failed, "; "))
		case len(late) > 0 && len(waitingOn) == 0:
			decision.Decision, decision.Reason = DecisionSkip, SkipUpstreamNotReady
			decision.Message = fmt.Sprintf("upstream not ready after waiting %s: %s", waited, strings.Join(late, "; "))
		case len(late) > 0 || len(waitingOn) > 0:
			n := proto.Clone(w).(*pb.WaitingTick)
			n.Upstreams = ups
			n.Message = "waiting for " + strings.Join(waitingOn, ", ")
			wp.waiting = append(wp.waiting, n)
			wp.wake = earliest(wp.wake, wake)
			continue
		default:
			blocker := ""
			if !manual && cj.GetSpec().GetConcurrencyPolicy() == ConcurrencyForbid {
				for _, a := range active {
					if a != w.GetJob() {
						blocker = a
						break
					}
				}
			}
			if !manual && cj.GetSpec().GetSuspend() {
				decision.Decision, decision.Reason = DecisionSkip, SkipSuspended
				decision.Message = fmt.Sprintf("the CronJob is suspended (upstreams succeeded after %s)", waited)
				break
			}
			if blocker != "" {
				decision.Decision, decision.Reason = DecisionSkip, SkipConcurrencyPolicy
				decision.Message = fmt.Sprintf("concurrencyPolicy Forbid: job %s has not finished (upstreams succeeded after %s)", blocker, waited)
				decision.Job = blocker
				break
			}
			if !manual && cj.GetSpec().GetConcurrencyPolicy() == ConcurrencyReplace {
				for _, a := range active {
					if a != w.GetJob() {
						wp.replace = append(wp.replace, replacedJob{name: a, by: w.GetJob()})
					}
				}
				active = nil
			}
			decision.Decision, decision.Reason = DecisionInvoke, w.GetReason()
			var parts []string
			for _, u := range ups {
				parts = append(parts, u.GetCronJob()+"="+u.GetJob())
			}
			decision.Message = fmt.Sprintf("waited %s for upstreams %s", waited, strings.Join(parts, ", "))
			if w.GetMessage() != "" && w.GetReason() == InvokeCatchUp {
				decision.Message += "; " + w.GetMessage()
			}
			job := jobFromTemplate(cj, w.GetJob(), t, sched.Location(), now, manual)
			if job.Metadata.Annotations == nil {
				job.Metadata.Annotations = map[string]string{}
			}
			job.Metadata.Annotations[AnnotationUpstreamJobs] = strings.Join(parts, ",")
			wp.jobs = append(wp.jobs, job)
			active = append(active, w.GetJob())
		}
		wp.decisions = append(wp.decisions, decision)
	}
	wp.active = active
	return wp
}

func tickText(u *pb.UpstreamState) string {
	if u.GetScheduledTime() == nil {
		return "(job " + u.GetJob() + ")"
	}
	return "(tick " + fmtTick(u.GetScheduledTime().AsTime()) + ")"
}

// startWaiting turns the runs of a plan into waiting ticks, appended to
// those already waiting. catchUp Latest: a tick that starts waiting
// supersedes the scheduled ticks still waiting (skip CatchUpPolicy); past
// MaxWaitingTicks the oldest is skipped UpstreamNotReady.
func startWaiting(cj *pb.CronJob, runs []plannedRun, waiting []*pb.WaitingTick, now time.Time) (out []*pb.WaitingTick, skips []*pb.ScheduleDecision) {
	out = slices.Clone(waiting)
	nowTS := timestamppb.New(now)
	for _, r := range runs {
		if cj.GetSpec().GetCatchUp() == CatchUpLatest || cj.GetSpec().GetCatchUp() == "" {
			kept := out[:0:0]
			for _, w := range out {
				if w.GetReason() != InvokeManual {
					skips = append(skips, waitingSkip(w, SkipCatchUpPolicy,
						fmt.Sprintf("catchUp Latest: superseded by the tick at %s while waiting for upstreams", fmtTick(r.scheduled)), nowTS))
					continue
				}
				kept = append(kept, w)
			}
			out = kept
		}
		var dropped []*pb.ScheduleDecision
		out, dropped = boundWaiting(append(out, &pb.WaitingTick{
			ScheduledTime: timestamppb.New(r.scheduled), Since: nowTS, Job: r.name, Reason: r.reason, Message: r.message,
		}), nowTS)
		skips = append(skips, dropped...)
	}
	return out, skips
}

// boundWaiting keeps at most MaxWaitingTicks waiting; the oldest beyond are
// skipped UpstreamNotReady.
func boundWaiting(waiting []*pb.WaitingTick, now *timestamppb.Timestamp) ([]*pb.WaitingTick, []*pb.ScheduleDecision) {
	var skips []*pb.ScheduleDecision
	for len(waiting) > MaxWaitingTicks {
		skips = append(skips, waitingSkip(waiting[0], SkipUpstreamNotReady,
			fmt.Sprintf("more than %d ticks waiting for upstreams; the oldest gives way", MaxWaitingTicks), now))
		waiting = waiting[1:]
	}
	return waiting, skips
}

// wakeDownstreams makes the CronJobs that depend on key and have ticks
// waiting due at once.
func (c *CronController) wakeDownstreams(key string) {
	for dk := range c.downstreams[key] {
		if e := c.entries[dk]; e != nil && e.waitFrom != nil && (e.next.IsZero() || e.waitFrom.Before(e.next)) {
			c.setNext(e, *e.waitFrom)
		}
	}
}

// JobsChanged wakes the CronJobs waiting for the CronJobs that own these
// Jobs (an upstream's Job finished): the reverse index keeps it from
// looking at any other CronJob.
func (c *CronController) JobsChanged(v View, jobs []Ref) {
	for _, r := range jobs {
		j := v.Job(r.Namespace, r.Name)
		if j == nil || !j.Finished() || j.GetStatus().GetCronJob() == "" {
			continue
		}
		c.wakeDownstreams(cronKey(r.Namespace, j.GetStatus().GetCronJob()))
	}
}

// setDeps records an entry's upstreams in the reverse index.
func (c *CronController) setDeps(e *cronEntry, cj *pb.CronJob) {
	key := e.key
	var deps []string
	ns, _ := e.ref()
	for _, d := range cj.GetSpec().GetDependsOn() {
		deps = append(deps, cronKey(ns, d.GetCronJob()))
	}
	if slices.Equal(deps, e.deps) {
		return
	}
	c.unsetDeps(e)
	for _, up := range deps {
		m := c.downstreams[up]
		if m == nil {
			m = map[string]bool{}
			c.downstreams[up] = m
		}
		m[key] = true
	}
	e.deps = deps
}

func (c *CronController) unsetDeps(e *cronEntry) {
	key := e.key
	for _, up := range e.deps {
		delete(c.downstreams[up], key)
		if len(c.downstreams[up]) == 0 {
			delete(c.downstreams, up)
		}
	}
	e.deps = nil
}

// TriggerWithUpstreams runs a CronJob now after its upstreams
// (spec.dependsOn, transitively): each CronJob of the chain gets a manual
// run, in topological order; those without upstreams start at once, every
// other one waits (status.waiting) for the runs of its own upstreams made
// here, and is skipped UpstreamFailed when one of them fails. The Job
// returned is the CronJob's own, not created yet when it has upstreams.
func (c *CronController) TriggerWithUpstreams(v View, namespace, cronJob, jobName string, now time.Time) ([]*pb.Command, *pb.Job, error) {
	target := v.CronJob(namespace, cronJob)
	if target == nil || len(target.GetSpec().GetDependsOn()) == 0 {
		return c.Trigger(v, namespace, cronJob, jobName, now)
	}
	// Topological order: upstreams before the CronJobs that need them.
	var order []*pb.CronJob
	state := map[string]int{}
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		switch state[name] {
		case 2:
			return nil
		case 1:
			return fmt.Errorf("trigger cronjob %s/%s: a dependency cycle: %s → %s: %w", namespace, cronJob, strings.Join(path, " → "), name, ErrInvalid)
		}
		cj := v.CronJob(namespace, name)
		if cj == nil {
			return fmt.Errorf("trigger cronjob %s/%s --with-upstreams: upstream cronjob %q not found in namespace %q: %w", namespace, cronJob, name, namespace, ErrNotFound)
		}
		state[name] = 1
		for _, d := range cj.GetSpec().GetDependsOn() {
			if err := visit(d.GetCronJob(), append(path, name)); err != nil {
				return err
			}
		}
		state[name] = 2
		order = append(order, cj)
		return nil
	}
	if err := visit(cronJob, nil); err != nil {
		return nil, nil, err
	}
	names := map[string]string{}
	for _, cj := range order {
		n := cj.GetMetadata().GetName()
		jn := ""
		if n == cronJob {
			jn = jobName
		}
		jn, err := manualJobName(v, namespace, n, jn, now)
		if err != nil {
			return nil, nil, err
		}
		names[n] = jn
	}
	var cmds []*pb.Command
	var created []*pb.Job
	var result *pb.Job
	nowTS := timestamppb.New(now)
	for _, cj := range order {
		n := cj.GetMetadata().GetName()
		sched, err := c.scheduleOf(cj)
		loc := time.UTC
		if err == nil {
			loc = sched.Location()
		}
		deps := cj.GetSpec().GetDependsOn()
		if len(deps) == 0 {
			job := jobFromTemplate(cj, names[n], now, loc, now, true)
			created = append(created, job)
			cmds = append(cmds, &pb.Command{Op: &pb.Command_UpdateCronJobStatus{UpdateCronJobStatus: &pb.UpdateCronJobStatus{
				Namespace: namespace, Name: n, Decisions: []*pb.ScheduleDecision{{
					ScheduledTime: nowTS, FirstScheduledTime: nowTS, Decision: DecisionInvoke, Reason: InvokeManual,
					Message: "trigger --with-upstreams of cronjob " + cronJob, Job: names[n], DecidedTime: nowTS, Count: 1,
				}},
			}}})
			continue
		}
		w := &pb.WaitingTick{ScheduledTime: nowTS, Since: nowTS, Job: names[n], Reason: InvokeManual,
			Message: "trigger --with-upstreams of cronjob " + cronJob}
		var parts []string
		for _, d := range deps {
			w.Upstreams = append(w.Upstreams, &pb.UpstreamState{CronJob: d.GetCronJob(), Job: names[d.GetCronJob()],
				State: UpstreamWaiting, Deadline: timestamppb.New(now.Add(ManualUpstreamWait))})
			parts = append(parts, d.GetCronJob()+"="+names[d.GetCronJob()])
		}
		waiting, skips := boundWaiting(append(slices.Clone(cj.GetStatus().GetWaiting()), w), nowTS)
		cmds = append(cmds, &pb.Command{Op: &pb.Command_UpdateCronJobStatus{UpdateCronJobStatus: &pb.UpdateCronJobStatus{
			Namespace: namespace, Name: n, Decisions: skips, Waiting: waiting, SetWaiting: true,
		}}})
		if n == cronJob {
			result = jobFromTemplate(cj, names[n], now, loc, now, true)
			if result.Metadata.Annotations == nil {
				result.Metadata.Annotations = map[string]string{}
			}
			result.Metadata.Annotations[AnnotationUpstreamJobs] = strings.Join(parts, ",")
		}
	}
	cmds = append([]*pb.Command{{Op: &pb.Command_CreateJobs{CreateJobs: &pb.CreateJobs{Jobs: created}}}}, cmds...)
	c.logger.Info("cronjob triggered with its upstreams", "namespace", namespace, "cronjob", cronJob, "job", names[cronJob], "chain", len(order))
	return cmds, result, nil
}

func waitingSkip(w *pb.WaitingTick, reason, msg string, now *timestamppb.Timestamp) *pb.ScheduleDecision {
	return &pb.ScheduleDecision{
		ScheduledTime: w.GetScheduledTime(), FirstScheduledTime: w.GetScheduledTime(), Decision: DecisionSkip,
		Reason: reason, Message: msg, Job: w.GetJob(), DecidedTime: now, Count: 1,
		WaitingSince: w.GetSince(), Upstreams: w.GetUpstreams(),
	}
}

// DependencyOrder returns CronJobs with every upstream before the CronJobs
// that depend on it (names within one level sorted), for raftcron graph.
func DependencyOrder(cjs []*pb.CronJob) []*pb.CronJob {
	byKey := map[string]*pb.CronJob{}
	for _, cj := range cjs {
		byKey[cronKey(cj.GetMetadata().GetNamespace(), cj.GetMetadata().GetName())] = cj
	}
	done := map[string]bool{}
	var out []*pb.CronJob
	var visit func(cj *pb.CronJob)
	visit = func(cj *pb.CronJob) {
		k := cronKey(cj.GetMetadata().GetNamespace(), cj.GetMetadata().GetName())
		if done[k] {
			return
		}
		done[k] = true
		for _, d := range cj.GetSpec().GetDependsOn() {
			if up := byKey[cronKey(cj.GetMetadata().GetNamespace(), d.GetCronJob())]; up != nil {
				visit(up)
			}
		}
		out = append(out, cj)
	}
	for _, cj := range cjs {
		visit(cj)
	}
	return out
}

// handleWaiting decides the due ticks of a CronJob with upstreams: the
// ticks that may run (rules 1–3 of planTicks) start waiting, then every
// waiting tick that can be decided is; one status update records the
// decisions, lastScheduleTime and the ticks still waiting.
func (c *CronController) handleWaiting(v View, e *cronEntry, cj *pb.CronJob, in planInput, now time.Time) ([]*pb.Command, time.Time) {
	ns, name := e.ref()
	in.waits = true
	plan := planTicks(in, c.opts)
	// The ticks already waiting are decided first: one whose deadline is
	// now (by default the next tick) is skipped UpstreamNotReady, or run,
	// before a newer tick could supersede it under catchUp Latest.
	before := c.resolveWaiting(v, cj, e.sched, cj.GetStatus().GetWaiting(), unfinishedJobsOf(v, ns, name), now)
	waiting, superseded := startWaiting(cj, plan.runs, before.waiting, now)
	wp := c.resolveWaiting(v, cj, e.sched, waiting, before.active, now)
	decisions := slices.Concat(before.decisions, plan.decisions, superseded, wp.decisions)
	jobs := slices.Concat(before.jobs, wp.jobs)
	var cmds []*pb.Command
	if len(jobs) > 0 {
		cmds = append(cmds, &pb.Command{Op: &pb.Command_CreateJobs{CreateJobs: &pb.CreateJobs{Jobs: jobs}}})
	}
	for _, old := range slices.Concat(before.replace, wp.replace) {
		if j := v.Job(ns, old.name); j != nil {
			cmds = append(cmds, replacedStatus(j, old.by, now))
		}
	}
	upd := &pb.UpdateCronJobStatus{Namespace: ns, Name: name, Decisions: decisions}
	if !plan.last.IsZero() {
		upd.LastScheduleTime = timestamppb.New(plan.last)
	}
	if !slices.EqualFunc(cj.GetStatus().GetWaiting(), wp.waiting, func(a, b *pb.WaitingTick) bool { return proto.Equal(a, b) }) {
		upd.Waiting, upd.SetWaiting = wp.waiting, true
	}
	if len(decisions) > 0 || upd.LastScheduleTime != nil || upd.SetWaiting {
		cmds = append(cmds, &pb.Command{Op: &pb.Command_UpdateCronJobStatus{UpdateCronJobStatus: upd}})
	}
	for _, d := range decisions {
		c.logger.Debug("cron decision", "namespace", ns, "cronjob", name,
			"scheduled", d.GetScheduledTime().AsTime(), "decision", d.GetDecision(), "reason", d.GetReason(),
			"count", d.GetCount(), "job", d.GetJob(), "message", d.GetMessage())
	}
	if plan.more {
		return cmds, now
	}
	from := cronBase(cj)
	if !plan.last.IsZero() && plan.last.After(from) {
		from = plan.last
	}
	return cmds, earliest(e.sched.Next(from), wp.wake)
}
