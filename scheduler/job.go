package scheduler

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The reasons the Job controller sets (condition types and attempt states
// are in proto/raftcron/v1/state.go).
const (
	ReasonCompletionsReached     = "CompletionsReached"
	ReasonBackoffLimitExceeded   = "BackoffLimitExceeded"
	ReasonDeadlineExceeded       = pb.ReasonDeadlineExceeded
	ReasonPodFailurePolicy       = "PodFailurePolicy"
	ReasonJobSuspended           = "JobSuspended"
	ReasonJobResumed             = "JobResumed"
	ReasonWorkerLost             = pb.ReasonWorkerLost
	ReasonKilled                 = pb.ReasonKilled
	ReasonSuspended              = "Suspended"
	AnnotationScheduledTimestamp = "batch.kubernetes.io/cronjob-scheduled-timestamp"
)

// JobOptions tunes the Job controller. Zero fields take their defaults.
type JobOptions struct {
	// BackoffBase is the delay after a Job's first counted failure
	// (DefaultBackoffBase); the n-th failure waits BackoffBase·2^(n−1).
	BackoffBase time.Duration
	// BackoffCap bounds that delay (DefaultBackoffCap).
	BackoffCap time.Duration
	// MaxPendingAttemptsPerJob: a Job gets new attempts only while it has
	// fewer Pending ones, so a huge parallelism creates attempts as slots
	// take them (DefaultMaxPendingAttemptsPerJob).
	MaxPendingAttemptsPerJob int32
	// MaxUnfinishedAttemptsPerNamespace: no attempt is created in a
	// namespace holding this many unfinished attempts
	// (DefaultMaxUnfinishedAttemptsPerNamespace). Enforced when the View
	// counts them (UnfinishedAttemptsIn).
	MaxUnfinishedAttemptsPerNamespace int
}

func (o JobOptions) withDefaults() JobOptions {
	if o.BackoffBase <= 0 {
		o.BackoffBase = DefaultBackoffBase
	}
	if o.BackoffCap <= 0 {
		o.BackoffCap = DefaultBackoffCap
	}
	if o.MaxPendingAttemptsPerJob <= 0 {
		o.MaxPendingAttemptsPerJob = DefaultMaxPendingAttemptsPerJob
	}
	if o.MaxUnfinishedAttemptsPerNamespace <= 0 {
		o.MaxUnfinishedAttemptsPerNamespace = DefaultMaxUnfinishedAttemptsPerNamespace
	}
	return o
}

// backoff is the delay before the next attempt after the n-th counted failure.
func (o JobOptions) backoff(n int32) time.Duration {
	if n <= 0 {
		return 0
	}
	d := o.BackoffBase
	for i := int32(1); i < n; i++ {
		d *= 2
		if d >= o.BackoffCap {
			return o.BackoffCap
		}
	}
	return min(d, o.BackoffCap)
}

// WorkerInfo describes one connected, ready worker.
type WorkerInfo struct {
	ID     string
	Labels map[string]string
	// Slots is how many attempts the worker runs at once; 0 or less means none.
	Slots int
	// Runtime is docker or exec.
	Runtime string
}

// ReconcileJobs looks at every unfinished Job and returns the commands that
// move it on, the earliest time it needs to be called again (backoff ends,
// deadlines; zero = only when the state or the workers change), and, per
// Pending attempt that could not be placed (keyed by PendingKey), a sentence
// saying why.
//
// It is deterministic given the View, the workers and now, and writes
// nothing for a Job whose status and attempts need no change, so calling it
// on an idle cluster returns no commands.
//
// Bookkeeping of NonIndexed Jobs: an attempt's index is its parallelism slot
// (0 … parallelism−1). A slot holds at most one unfinished attempt; when it
// ends, the next attempt in that slot gets the next number. Indexed Jobs use
// the completion index, 0 … completions−1.
//
// Attempts whose kill was requested by the leader (suspend, deadline,
// Replace, a finished Job) are never counted as failures, and keep their slot
// (and their worker's slot) until the worker reports them ended.
//
// Commands are returned in an order the FSM can apply one after another:
// CreateAttempts before the AssignAttempt of the same attempt.
func ReconcileJobs(v View, workers []WorkerInfo, now time.Time, opts JobOptions) (cmds []*pb.Command, next time.Time, pending map[string]string) {
	r := ReconcileSome(v, v.UnfinishedJobs(), workers, now, opts)
	cmds = append(r.Commands, KillAttemptsOfFinishedJobs(v, now)...)
	for _, t := range r.Wake {
		next = earliest(next, t)
	}
	pending = map[string]string{}
	for _, m := range r.Pending {
		for k, why := range m {
			pending[k] = why
		}
	}
	return cmds, next, pending
}

// Ref names a namespaced object: a Job or a CronJob.
type Ref struct{ Namespace, Name string }

// Reconciliation is what ReconcileSome decided about the Jobs it looked at.
type Reconciliation struct {
	Commands []*pb.Command
	// Pending says, per Job, why each of its Pending attempts (keyed by
	// PendingKey) could not be placed.
	Pending map[Ref]map[string]string
	// Waiting lists the Jobs that keep a Pending attempt not placed for want
	// of a worker or a slot: look at them again when workers or slots change.
	Waiting []Ref
	// Wake says when a Job must be looked at again though nothing about it
	// changes: its activeDeadlineSeconds runs out, or a backoff ends.
	Wake map[Ref]time.Time
}

// ReconcileSome is ReconcileJobs over the given Jobs only, so that a leader
// can look at what changed (and at what its timers say is due) instead of at
// every unfinished Job. A finished Job among them has the attempts still
// running asked to stop. Attempts are placed oldest first among the Jobs
// given; a Job not given keeps its attempts where they are. The Jobs may
// include ones not yet in the View (created by commands applied before these).
func ReconcileSome(v View, jobs []*pb.Job, workers []WorkerInfo, now time.Time, opts JobOptions) Reconciliation {
	opts = opts.withDefaults()
	connected := make(map[string]bool, len(workers))
	for _, w := range workers {
		connected[w.ID] = true
	}
	out := Reconciliation{Wake: map[Ref]time.Time{}}
	var toPlace []placeRequest
	counter, counts := v.(unfinishedCounter)
	budgets := map[string]*int{} // namespace -> attempts it may still get
	var capped []Ref
	for _, job := range jobs {
		ns, name := job.GetMetadata().GetNamespace(), job.GetMetadata().GetName()
		if job.Finished() {
			out.Commands = append(out.Commands, killAttemptsOfFinishedJob(v, job, now)...)
			continue
		}
		var budget *int
		if counts {
			if budget = budgets[ns]; budget == nil {
				b := opts.MaxUnfinishedAttemptsPerNamespace - counter.UnfinishedAttemptsIn(ns)
				budget = &b
				budgets[ns] = budget
			}
		}
		p := planJob(job, v.Attempts(ns, name), connected, now, opts, budget)
		out.Commands = append(out.Commands, p.cmds...)
		toPlace = append(toPlace, p.place...)
		if !p.next.IsZero() {
			out.Wake[Ref{ns, name}] = p.next
		}
		if p.capped {
			capped = append(capped, Ref{ns, name})
		}
	}
	assigns, pending, wake := placeAttempts(v, workers, toPlace, now)
	out.Commands = append(out.Commands, assigns...)
	out.Pending = pending
	for ref, t := range wake {
		out.Wake[ref] = earliest(out.Wake[ref], t)
	}
	for ref := range pending {
		out.Waiting = append(out.Waiting, ref)
	}
	for _, ref := range capped {
		if _, ok := pending[ref]; !ok {
			out.Waiting = append(out.Waiting, ref)
		}
	}
	sort.Slice(out.Waiting, func(i, j int) bool {
		if out.Waiting[i].Namespace != out.Waiting[j].Namespace {
			return out.Waiting[i].Namespace < out.Waiting[j].Namespace
		}
		return out.Waiting[i].Name < out.Waiting[j].Name
	})
	return out
}

// earliest returns the earlier of two times, treating zero as "none".
func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero():
		return a
	case b.Before(a):
		return b
	}
	return a
}

// AttemptName is the name of attempt number of index of a Job.
func AttemptName(job string, index, number int32) string {
	return fmt.Sprintf("%s-%d-%d", job, index, number)
}

// outcome is how an ended attempt weighs on its Job.
type outcome int

const (
	outcomeActive    outcome = iota // still Pending, Assigned or Running
	outcomeSucceeded                // exited 0
	outcomeCounted                  // a failure counted against backoffLimit
	outcomeIgnored                  // a failure a podFailurePolicy rule ignores
	outcomeKilled                   // ended after the leader asked for its kill
	outcomeLost                     // lost with its worker, not counted
	outcomeFailJob                  // a podFailurePolicy FailJob rule matched
	outcomeDeadline                 // the worker enforced activeDeadlineSeconds
)

// classify decides what an attempt means for its Job. rule is the index of
// the podFailurePolicy rule that matched, or -1.
func classify(job *pb.Job, a *pb.Attempt) (o outcome, rule int) {
	switch a.GetState() {
	case pb.AttemptSucceeded:
		return outcomeSucceeded, -1
	case pb.AttemptFailed:
		if a.GetKillRequested() {
			return outcomeKilled, -1
		}
		if a.GetReason() == ReasonDeadlineExceeded && job.GetSpec().ActiveDeadlineSeconds != nil {
			return outcomeDeadline, -1
		}
		if i, action := matchFailurePolicy(job, a); i >= 0 {
			switch action {
			case "FailJob":
				return outcomeFailJob, i
			case "Ignore":
				return outcomeIgnored, i
			}
			return outcomeCounted, i
		}
		return outcomeCounted, -1
	case pb.AttemptLost:
		if a.GetKillRequested() {
			return outcomeKilled, -1
		}
		if i, action := matchFailurePolicy(job, a); i >= 0 {
			switch action {
			case "FailJob":
				return outcomeFailJob, i
			case "Count":
				return outcomeCounted, i
			}
			return outcomeLost, i
		}
		return outcomeLost, -1
	}
	return outcomeActive, -1
}

// matchFailurePolicy returns the first podFailurePolicy rule matching an
// ended attempt, and its action, or -1. onExitCodes looks at non-zero exit
// codes of Failed attempts; onPodConditions WorkerLost (or its Kubernetes
// name DisruptionTarget) matches Lost attempts.
func matchFailurePolicy(job *pb.Job, a *pb.Attempt) (int, string) {
	for i, r := range job.GetSpec().GetPodFailurePolicy().GetRules() {
		if ec := r.GetOnExitCodes(); ec != nil {
			if a.GetState() != pb.AttemptFailed || a.GetExitCode() == 0 {
				continue
			}
			in := false
			for _, v := range ec.GetValues() {
				if v == a.GetExitCode() {
					in = true
					break
				}
			}
			if (ec.GetOperator() == "In" && in) || (ec.GetOperator() == "NotIn" && !in) {
				return i, r.GetAction()
			}
			continue
		}
		if a.GetState() != pb.AttemptLost {
			continue
		}
		for _, pc := range r.GetOnPodConditions() {
			if (pc.GetType() == pb.ReasonWorkerLost || pc.GetType() == "DisruptionTarget") &&
				(pc.GetStatus() == "" || pc.GetStatus() == pb.ConditionTrue) {
				return i, r.GetAction()
			}
		}
	}
	return -1, ""
}

// describeAttempt says what happened to an ended attempt, for messages.
func describeAttempt(a *pb.Attempt) string {
	who := fmt.Sprintf("attempt %d of index %d", a.GetNumber(), a.GetIndex())
	switch {
	case a.GetState() == pb.AttemptLost:
		if a.GetWorker() != "" {
			return fmt.Sprintf("%s was lost with worker %s", who, a.GetWorker())
		}
		return who + " was lost with its worker"
	case a.NeverStarted():
		why := a.GetMessage()
		if why == "" {
			why = a.GetReason()
		}
		return who + " never started: " + why
	case a.GetExitCode() != 0:
		s := fmt.Sprintf("%s exited with code %d", who, a.GetExitCode())
		if a.GetReason() != "" && a.GetReason() != pb.ReasonError {
			s += " (" + a.GetReason() + ")"
		}
		return s
	default:
		s := who + " failed"
		if a.GetReason() != "" {
			s += ": " + a.GetReason()
		}
		if a.GetMessage() != "" {
			s += ": " + a.GetMessage()
		}
		return s
	}
}

// jobPlan is what planJob decided for one Job.
type jobPlan struct {
	cmds  []*pb.Command
	place []placeRequest
	next  time.Time
	// capped: the namespace's unfinished-attempt quota held back attempts
	// the Job wants; look again when slots free up.
	capped bool
}

// unfinishedCounter is a View that counts a namespace's unfinished attempts.
type unfinishedCounter interface {
	UnfinishedAttemptsIn(namespace string) int
}

// placeRequest is a Pending attempt the placement step should try to assign.
type placeRequest struct {
	job     *pb.Job
	attempt *pb.Attempt
}

// progress is a Job's attempts summed up.
type progress struct {
	unfinished []*pb.Attempt // Pending, Assigned, Running (including kill requested)
	live       []*pb.Attempt // unfinished and no kill requested
	succeeded  int32
	doneIndex  map[int32]bool
	failed     int32 // counted against backoffLimit
	lost       int32
	lastCount  *pb.Attempt // the latest counted failure
	failJob    string      // set when a FailJob rule matched
	deadline   bool        // a worker enforced activeDeadlineSeconds
	// The attempts a JobResult may name: the one a FailJob rule matched,
	// the one a worker stopped at the deadline, the latest success and the
	// latest to end.
	failJobAttempt, deadlineAttempt, lastSucceeded, lastEnded *pb.Attempt
	latest                                                    map[int32]*pb.Attempt
	outcomes                                                  map[*pb.Attempt]outcome
}

func summarize(job *pb.Job, atts []*pb.Attempt) *progress {
	p := &progress{
		doneIndex: map[int32]bool{},
		latest:    map[int32]*pb.Attempt{},
		outcomes:  map[*pb.Attempt]outcome{},
	}
	for _, a := range atts {
		if l := p.latest[a.GetIndex()]; l == nil || a.GetNumber() > l.GetNumber() {
			p.latest[a.GetIndex()] = a
		}
		o, rule := classify(job, a)
		p.outcomes[a] = o
		if a.Finished() && later(a, p.lastEnded) {
			p.lastEnded = a
		}
		switch o {
		case outcomeActive:
			p.unfinished = append(p.unfinished, a)
			if !a.GetKillRequested() {
				p.live = append(p.live, a)
			}
		case outcomeSucceeded:
			p.succeeded++
			if later(a, p.lastSucceeded) {
				p.lastSucceeded = a
			}
			p.doneIndex[a.GetIndex()] = true
		case outcomeCounted:
			p.failed++
			if p.lastCount == nil || finishTime(a).After(finishTime(p.lastCount)) {
				p.lastCount = a
			}
		case outcomeLost:
			p.lost++
		case outcomeFailJob:
			if p.failJob == "" {
				p.failJob = fmt.Sprintf("%s, matching FailJob rule %d", describeAttempt(a), rule)
				p.failJobAttempt = a
			}
		case outcomeDeadline:
			p.deadline = true
			if later(a, p.deadlineAttempt) {
				p.deadlineAttempt = a
			}
		}
	}
	return p
}

// later reports whether ended attempt a finished after b (b may be nil);
// equal times are ordered by index and number, so the choice never depends
// on the order attempts are listed in.
func later(a, b *pb.Attempt) bool {
	if b == nil {
		return true
	}
	fa, fb := finishTime(a), finishTime(b)
	if !fa.Equal(fb) {
		return fa.After(fb)
	}
	if a.GetIndex() != b.GetIndex() {
		return a.GetIndex() > b.GetIndex()
	}
	return a.GetNumber() > b.GetNumber()
}

// decidingAttempt is the attempt a Job's end with reason is owed to (see
// pb.JobResult), or nil.
func (p *progress) decidingAttempt(reason string) *pb.Attempt {
	switch reason {
	case ReasonCompletionsReached:
		return p.lastSucceeded
	case ReasonBackoffLimitExceeded:
		return p.lastCount
	case ReasonPodFailurePolicy:
		return p.failJobAttempt
	case ReasonDeadlineExceeded:
		if p.deadlineAttempt != nil {
			return p.deadlineAttempt
		}
		return p.lastEnded
	}
	return nil
}

// jobResult is the result of a Job that ends now (ts) with condition typ,
// decided by attempt a (nil when none decided it).
func jobResult(st *pb.JobStatus, typ, reason, message string, a *pb.Attempt, ts *timestamppb.Timestamp) *pb.JobResult {
	r := &pb.JobResult{
		Condition: typ, Reason: reason, Message: message,
		StartTime: st.GetStartTime(), FinishTime: ts,
	}
	if a != nil {
		r.Attempt, r.Index, r.Worker = a.GetName(), a.GetIndex(), a.GetWorker()
		r.ExitCode, r.AttemptState, r.AttemptReason, r.AttemptMessage = a.GetExitCode(), a.GetState(), a.GetReason(), a.GetMessage()
		r.AttemptStartTime, r.AttemptFinishTime = a.GetStartTime(), a.GetFinishTime()
	}
	return r
}

func finishTime(a *pb.Attempt) time.Time {
	if a.GetFinishTime() == nil {
		return time.Time{}
	}
	return a.GetFinishTime().AsTime()
}

// jobShape is a Job's defaulted counts.
type jobShape struct {
	indexed      bool
	completions  int32 // -1: unset (work queue)
	parallelism  int32
	backoffLimit int32
}

func shapeOf(job *pb.Job) jobShape {
	s := job.GetSpec()
	sh := jobShape{indexed: s.GetCompletionMode() == "Indexed", completions: -1, parallelism: 1, backoffLimit: DefaultBackoffLimit}
	if s.Completions != nil {
		sh.completions = max(s.GetCompletions(), 0)
	}
	if s.Parallelism != nil {
		sh.parallelism = max(s.GetParallelism(), 0)
	} else if s.Completions == nil {
		sh.completions = 1
	}
	if s.BackoffLimit != nil {
		sh.backoffLimit = max(s.GetBackoffLimit(), 0)
	}
	if sh.indexed && sh.completions < 0 {
		// Validation requires completions for Indexed; without it the Job
		// runs as a work queue.
		sh.indexed = false
	}
	return sh
}

// planJob decides the next step of one unfinished Job, in phases:
//
//  1. observe: count the attempts into the status (newJobPlanner);
//  2. suspend: a suspended Job stops its attempts and goes no further;
//  3. finish: the first end that applies, in order: activeDeadlineSeconds,
//     a FailJob rule, backoffLimit, completions;
//  4. scale: how many attempts should be active; stop the excess, start
//     attempts in free slots;
//  5. record the status and when to look again, and ask placement for the
//     Pending attempts.
func planJob(job *pb.Job, atts []*pb.Attempt, connected map[string]bool, now time.Time, opts JobOptions, budget *int) jobPlan {
	j := newJobPlanner(job, atts, now)
	if j.suspend() {
		return j.plan
	}
	if j.finished() {
		return j.plan
	}
	want := j.wantActive()
	stopping, killedPending := j.stopExcess(want)
	created := j.startMissing(want, connected, opts, budget)
	j.record(created, killedPending)
	j.queuePlacement(stopping, created)
	return j.plan
}

// jobPlanner is one planJob call: the Job, what its attempts add up to, and
// the status and commands being built.
type jobPlanner struct {
	job      *pb.Job
	name     string
	sh       jobShape
	p        *progress
	old, st  *pb.JobStatus
	now      time.Time
	ts       *timestamppb.Timestamp
	deadline time.Time // activeDeadlineSeconds runs out; zero: none
	plan     jobPlan
}

// newJobPlanner observes the attempts: counts, completed indexes.
func newJobPlanner(job *pb.Job, atts []*pb.Attempt, now time.Time) *jobPlanner {
	j := &jobPlanner{job: job, name: job.GetMetadata().GetName(), sh: shapeOf(job), p: summarize(job, atts),
		old: job.GetStatus(), now: now, ts: timestamppb.New(now)}
	if j.old == nil {
		j.old = &pb.JobStatus{}
	}
	st := proto.Clone(j.old).(*pb.JobStatus)
	st.Succeeded, st.Failed, st.Lost = j.p.succeeded, j.p.failed, j.p.lost
	if j.sh.indexed {
		// Indexes at or above completions (completions lowered) no longer count.
		for i := range j.p.doneIndex {
			if i < 0 || i >= j.sh.completions {
				delete(j.p.doneIndex, i)
			}
		}
		st.Succeeded = int32(len(j.p.doneIndex))
		st.CompletedIndexes = formatIndexes(j.p.doneIndex)
	}
	j.st = st
	if ads := job.GetSpec().ActiveDeadlineSeconds; ads != nil && st.GetStartTime() != nil {
		j.deadline = st.GetStartTime().AsTime().Add(time.Duration(*ads) * time.Second)
	}
	return j
}

// kill asks to stop every live attempt and returns how many stay active
// until their workers report them ended.
func (j *jobPlanner) kill(reason, message string) int32 {
	var stillActive int32
	for _, a := range j.p.live {
		j.plan.cmds = append(j.plan.cmds, killCommand(a, reason, message, j.now))
		if a.GetState() != pb.AttemptPending {
			stillActive++ // ends when its worker reports
		}
	}
	for _, a := range j.p.unfinished {
		if a.GetKillRequested() {
			stillActive++
		}
	}
	return stillActive
}

// finish ends the Job with a Complete or Failed condition.
func (j *jobPlanner) finish(typ, reason, message string) {
	j.kill(killReasonFor(reason), fmt.Sprintf("Job %s %s: %s", j.name, strings.ToLower(typ), message))
	j.st.Active = 0
	setCondition(j.st, typ, pb.ConditionTrue, reason, message, j.ts)
	if typ == pb.ConditionComplete {
		j.st.CompletionTime = j.ts
	}
	j.st.Result = jobResult(j.st, typ, reason, message, j.p.decidingAttempt(reason), j.ts)
	j.plan.cmds = append(j.plan.cmds, statusCommand(j.job, j.st, j.old)...)
	if cj := j.job.GetStatus().GetCronJob(); typ == pb.ConditionComplete && cj != "" {
		// The CronJob's lastSuccessfulTime answers "when did it last succeed".
		j.plan.cmds = append(j.plan.cmds, &pb.Command{Op: &pb.Command_UpdateCronJobStatus{UpdateCronJobStatus: &pb.UpdateCronJobStatus{
			Namespace: j.job.GetMetadata().GetNamespace(), Name: cj, LastSuccessfulTime: j.ts,
		}}})
	}
}

// suspend handles spec.suspend: true when the Job is suspended (its
// attempts are stopped and nothing else happens); a resumed Job gets its
// Suspended condition set False.
func (j *jobPlanner) suspend() bool {
	if j.job.GetSpec().GetSuspend() {
		j.st.Active = j.kill(ReasonSuspended, fmt.Sprintf("Job %s is suspended", j.name))
		j.st.StartTime = nil
		setCondition(j.st, pb.ConditionSuspended, pb.ConditionTrue, ReasonJobSuspended, "Job suspended", j.ts)
		j.plan.cmds = append(j.plan.cmds, statusCommand(j.job, j.st, j.old)...)
		return true
	}
	if c := findCondition(j.st, pb.ConditionSuspended); c != nil && c.GetStatus() == pb.ConditionTrue {
		setCondition(j.st, pb.ConditionSuspended, "False", ReasonJobResumed, "Job resumed", j.ts)
	}
	return false
}

// finished ends the Job by the first rule that applies; activeDeadlineSeconds
// wins over every other way to end.
func (j *jobPlanner) finished() bool {
	p, sh := j.p, j.sh
	switch {
	case (!j.deadline.IsZero() && !j.now.Before(j.deadline)) || p.deadline:
		j.finish(pb.ConditionFailed, ReasonDeadlineExceeded,
			fmt.Sprintf("Job was active longer than its activeDeadlineSeconds (%ds)", j.job.GetSpec().GetActiveDeadlineSeconds()))
	case p.failJob != "":
		j.finish(pb.ConditionFailed, ReasonPodFailurePolicy, p.failJob)
	case p.failed > sh.backoffLimit:
		msg := fmt.Sprintf("Job has reached the specified backoff limit: %d failed attempts, backoffLimit %d", p.failed, sh.backoffLimit)
		if p.lastCount != nil {
			msg += "; last: " + describeAttempt(p.lastCount)
		}
		j.finish(pb.ConditionFailed, ReasonBackoffLimitExceeded, msg)
	default:
		complete, msg := isComplete(sh, p)
		if !complete {
			return false
		}
		j.finish(pb.ConditionComplete, ReasonCompletionsReached, msg)
	}
	return true
}

// wantActive is how many attempts should be active now.
func (j *jobPlanner) wantActive() int32 {
	p, sh := j.p, j.sh
	var want int32
	switch {
	case sh.indexed:
		want = min(sh.parallelism, sh.completions-int32(len(p.doneIndex)))
	case sh.completions >= 0:
		want = min(sh.parallelism, sh.completions-p.succeeded)
	case p.succeeded > 0:
		// Work queue: once one attempt succeeded no new ones start, and the
		// running ones finish their work.
		want = int32(len(p.live))
	default:
		want = sh.parallelism
	}
	return max(want, 0)
}

// stopExcess stops live attempts beyond want (parallelism lowered), the
// newest first, Pending before placed ones. It returns those it stops and
// how many of them were Pending (RequestKill ends those at once).
func (j *jobPlanner) stopExcess(want int32) (stopping map[*pb.Attempt]bool, killedPending int) {
	stopping = map[*pb.Attempt]bool{}
	excess := int32(len(j.p.live)) - want
	if excess <= 0 {
		return stopping, 0
	}
	victims := append([]*pb.Attempt(nil), j.p.live...)
	sort.SliceStable(victims, func(a, b int) bool {
		pendingA, pendingB := victims[a].GetState() == pb.AttemptPending, victims[b].GetState() == pb.AttemptPending
		if pendingA != pendingB {
			return pendingA
		}
		return lessCreated(victims[b], victims[a])
	})
	for _, a := range victims[:excess] {
		stopping[a] = true
		if a.GetState() == pb.AttemptPending {
			killedPending++
		}
		j.plan.cmds = append(j.plan.cmds, killCommand(a, ReasonKilled,
			fmt.Sprintf("Job %s has more active attempts than parallelism %d", j.name, j.sh.parallelism), j.now))
	}
	return stopping, killedPending
}

// startMissing creates attempts in free slots, lowest slot first, until
// want are unfinished; the first ones start the Job's clock.
func (j *jobPlanner) startMissing(want int32, connected map[string]bool, opts JobOptions, budget *int) []*pb.Attempt {
	p, sh := j.p, j.sh
	var created []*pb.Attempt
	n := want - int32(len(p.unfinished))
	if n > 0 {
		// Pending attempts are created as they are placed, not all at once.
		pending := int32(0)
		for _, a := range p.unfinished {
			if a.GetState() == pb.AttemptPending {
				pending++
			}
		}
		n = min(n, max(opts.MaxPendingAttemptsPerJob-pending, 0))
		if budget != nil && int(n) > *budget {
			n = int32(max(*budget, 0))
			j.plan.capped = true
		}
	}
	if n > 0 {
		busy := map[int32]bool{}
		for _, a := range p.unfinished {
			busy[a.GetIndex()] = true
		}
		limit := sh.parallelism
		if sh.indexed {
			limit = sh.completions
		}
		for slot := int32(0); slot < limit && int32(len(created)) < n; slot++ {
			if busy[slot] || (sh.indexed && p.doneIndex[slot]) {
				continue
			}
			created = append(created, newAttempt(j.job, slot, p, connected, j.now, opts))
		}
		if budget != nil {
			*budget -= len(created)
		}
	}
	if len(created) > 0 {
		j.plan.cmds = append(j.plan.cmds, &pb.Command{Op: &pb.Command_CreateAttempts{
			CreateAttempts: &pb.CreateAttempts{Attempts: created}}})
		if j.st.StartTime == nil {
			// A Job decided ahead of its tick (its runs are held until
			// then) starts at the tick: activeDeadlineSeconds counts
			// from there, not from the early dispatch.
			start, ts := j.now, j.ts
			if at := heldUntil(j.job); at.After(start) {
				start, ts = at, timestamppb.New(at)
			}
			j.st.StartTime = ts
			if ads := j.job.GetSpec().ActiveDeadlineSeconds; ads != nil {
				j.deadline = start.Add(time.Duration(*ads) * time.Second)
			}
		}
	}
	return created
}

// record writes the status (active count included) and when to look again.
func (j *jobPlanner) record(created []*pb.Attempt, killedPending int) {
	j.st.Active = int32(len(j.p.unfinished) + len(created) - killedPending)
	j.plan.cmds = append(j.plan.cmds, statusCommand(j.job, j.st, j.old)...)
	j.plan.next = j.deadline
}

// queuePlacement asks placement for every Pending attempt that stays.
func (j *jobPlanner) queuePlacement(stopping map[*pb.Attempt]bool, created []*pb.Attempt) {
	for _, a := range j.p.live {
		if a.GetState() == pb.AttemptPending && !stopping[a] {
			j.plan.place = append(j.plan.place, placeRequest{job: j.job, attempt: a})
		}
	}
	for _, a := range created {
		j.plan.place = append(j.plan.place, placeRequest{job: j.job, attempt: a})
	}
}

// isComplete reports whether the Job has succeeded, with the message of its
// Complete condition.
func isComplete(sh jobShape, p *progress) (bool, string) {
	switch {
	case sh.indexed:
		if int32(len(p.doneIndex)) >= sh.completions {
			return true, fmt.Sprintf("all %d indexes succeeded", sh.completions)
		}
	case sh.completions >= 0:
		if p.succeeded >= sh.completions {
			return true, fmt.Sprintf("%d of %d completions succeeded", p.succeeded, sh.completions)
		}
	default:
		if p.succeeded > 0 && len(p.unfinished) == 0 {
			return true, fmt.Sprintf("%d attempts succeeded and no attempt is active", p.succeeded)
		}
	}
	return false, ""
}

// newAttempt builds the next attempt of a slot: numbered after the slot's
// latest, delayed after a counted failure, and pinned to the failed
// attempt's worker under restartPolicy OnFailure when that worker is connected.
func newAttempt(job *pb.Job, slot int32, p *progress, connected map[string]bool, now time.Time, opts JobOptions) *pb.Attempt {
	ns, name := job.GetMetadata().GetNamespace(), job.GetMetadata().GetName()
	number := int32(1)
	prev := p.latest[slot]
	if prev != nil {
		number = prev.GetNumber() + 1
	}
	a := &pb.Attempt{
		Namespace:   ns,
		Job:         name,
		Index:       slot,
		Number:      number,
		Name:        AttemptName(name, slot, number),
		State:       pb.AttemptPending,
		CreatedTime: timestamppb.New(now),
	}
	if prev == nil {
		return a
	}
	if p.outcomes[prev] == outcomeCounted {
		from := finishTime(prev)
		if from.IsZero() {
			from = now
		}
		a.NotBefore = timestamppb.New(from.Add(opts.backoff(p.failed)))
	}
	if prev.GetState() == pb.AttemptFailed && job.GetSpec().GetTemplate().GetSpec().GetRestartPolicy() == "OnFailure" &&
		prev.GetWorker() != "" && connected[prev.GetWorker()] {
		a.PinnedWorker = prev.GetWorker()
	}
	return a
}

// KillAttemptsOfFinishedJobs asks to stop every unfinished attempt whose Job
// has finished (or is gone) and whose kill was not requested yet. It walks
// every unfinished attempt: a new leader calls it once.
func KillAttemptsOfFinishedJobs(v View, now time.Time) []*pb.Command {
	var cmds []*pb.Command
	for _, a := range v.UnfinishedAttempts() {
		if a.GetKillRequested() {
			continue
		}
		job := v.Job(a.GetNamespace(), a.GetJob())
		switch {
		case job == nil:
			cmds = append(cmds, killCommand(a, ReasonKilled, fmt.Sprintf("Job %s no longer exists", a.GetJob()), now))
		case job.Finished():
			cmds = append(cmds, killCommand(a, ReasonKilled, finishedMessage(job), now))
		}
	}
	return cmds
}

// killAttemptsOfFinishedJob asks to stop the unfinished attempts of one
// finished Job whose kill was not requested yet.
func killAttemptsOfFinishedJob(v View, job *pb.Job, now time.Time) []*pb.Command {
	var cmds []*pb.Command
	for _, a := range v.Attempts(job.GetMetadata().GetNamespace(), job.GetMetadata().GetName()) {
		if a.Unfinished() && !a.GetKillRequested() {
			cmds = append(cmds, killCommand(a, ReasonKilled, finishedMessage(job), now))
		}
	}
	return cmds
}

// finishedMessage says why the attempts of a finished Job are stopped.
func finishedMessage(job *pb.Job) string {
	name := job.GetMetadata().GetName()
	c := job.FinishedCondition()
	if c == nil {
		return fmt.Sprintf("Job %s has finished", name)
	}
	msg := fmt.Sprintf("Job %s %s (%s)", name, strings.ToLower(c.GetType()), c.GetReason())
	if c.GetMessage() != "" {
		msg += ": " + c.GetMessage()
	}
	return msg
}

// JobFinishedTime is when the Job finished: its completion time, else the
// transition time of its Complete or Failed condition; zero if unfinished.
func JobFinishedTime(job *pb.Job) time.Time {
	if t := job.GetStatus().GetCompletionTime(); t != nil {
		return t.AsTime()
	}
	if c := job.FinishedCondition(); c != nil && c.GetLastTransitionTime() != nil {
		return c.GetLastTransitionTime().AsTime()
	}
	return time.Time{}
}

func killReasonFor(conditionReason string) string {
	if conditionReason == ReasonDeadlineExceeded {
		return ReasonDeadlineExceeded
	}
	return ReasonKilled
}

func findCondition(st *pb.JobStatus, typ string) *pb.JobCondition {
	for _, c := range st.GetConditions() {
		if c.GetType() == typ {
			return c
		}
	}
	return nil
}

// setCondition sets a condition; its transition time moves only when its
// status changes.
func setCondition(st *pb.JobStatus, typ, status, reason, message string, now *timestamppb.Timestamp) {
	c := findCondition(st, typ)
	if c == nil {
		st.Conditions = append(st.Conditions, &pb.JobCondition{
			Type: typ, Status: status, Reason: reason, Message: message, LastTransitionTime: now,
		})
		return
	}
	if c.Status != status {
		c.LastTransitionTime = now
	}
	c.Status, c.Reason, c.Message = status, reason, message
}

// formatIndexes writes a set of indexes as "0-2,5".
func formatIndexes(set map[int32]bool) string {
	if len(set) == 0 {
		return ""
	}
	idx := make([]int32, 0, len(set))
	for i := range set {
		idx = append(idx, i)
	}
	sort.Slice(idx, func(i, j int) bool { return idx[i] < idx[j] })
	var b strings.Builder
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(int(idx[i])))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(int(idx[j])))
		}
		i = j + 1
	}
	return b.String()
}

func lessCreated(a, b *pb.Attempt) bool {
	ta, tb := a.GetCreatedTime().AsTime(), b.GetCreatedTime().AsTime()
	if !ta.Equal(tb) {
		return ta.Before(tb)
	}
	if a.GetNamespace() != b.GetNamespace() {
		return a.GetNamespace() < b.GetNamespace()
	}
	if a.GetJob() != b.GetJob() {
		return a.GetJob() < b.GetJob()
	}
	if a.GetIndex() != b.GetIndex() {
		return a.GetIndex() < b.GetIndex()
	}
	return a.GetNumber() < b.GetNumber()
}

// statusCommand returns a PutJobStatus when st differs from old, else nothing.
func statusCommand(job *pb.Job, st, old *pb.JobStatus) []*pb.Command {
	if proto.Equal(st, old) {
		return nil
	}
	return []*pb.Command{{Op: &pb.Command_PutJobStatus{PutJobStatus: &pb.PutJobStatus{
		Namespace: job.GetMetadata().GetNamespace(),
		Name:      job.GetMetadata().GetName(),
		Status:    st,
	}}}}
}

func killCommand(a *pb.Attempt, reason, message string, now time.Time) *pb.Command {
	return &pb.Command{Op: &pb.Command_RequestKill{RequestKill: &pb.RequestKill{
		Namespace: a.GetNamespace(),
		Name:      a.GetName(),
		Reason:    reason,
		Message:   message,
		Now:       timestamppb.New(now),
	}}}
}
