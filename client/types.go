package client

import (
	"fmt"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/scheduler"
)

// The API's objects. They are the wire types of proto/raftcron/v1, named
// here so that a program needs to import only this package. Their fields
// follow Kubernetes batch/v1 (protojson of a CronJob is its manifest);
// optional fields are pointers (see Int32, Bool, String).
type (
	// CronJob runs a Job template on a schedule.
	CronJob = pb.CronJob
	// Job runs a container to completion, retrying failed attempts.
	Job = pb.Job
	// Attempt is one execution of one index of a Job on one worker.
	Attempt = pb.Attempt
	// Worker is an agent that runs attempts.
	Worker = pb.Worker
	// Member is one server of the Raft configuration.
	Member = pb.Member
	// ClusterSettings are the replicated worker and lease timings.
	ClusterSettings = pb.ClusterSettings
	// ApplyResult says what Apply did to one object (Action: created,
	// configured or unchanged).
	ApplyResult = pb.ApplyResult
	// Resource holds a CronJob or a Job, as manifests decode to.
	Resource = pb.Resource
	// JobCondition is one condition of a Job's status.
	JobCondition = pb.JobCondition
	// ScheduleDecision is one recorded decision of a CronJob (invoke or skip).
	ScheduleDecision = pb.ScheduleDecision
	// ObjectMeta is an object's name, namespace, labels and annotations.
	ObjectMeta = pb.ObjectMeta
)

// DefaultNamespace is the namespace of objects that name none.
const DefaultNamespace = pb.DefaultNamespace

// CronJob spec.concurrencyPolicy: what a tick does while an earlier Job of
// the CronJob still runs.
const (
	// ConcurrencyAllow runs the new Job next to the old ones (the default).
	ConcurrencyAllow = scheduler.ConcurrencyAllow
	// ConcurrencyForbid skips the tick (recorded as a skip decision); never two at once.
	ConcurrencyForbid = scheduler.ConcurrencyForbid
	// ConcurrencyReplace stops the running Jobs and starts the new one.
	ConcurrencyReplace = scheduler.ConcurrencyReplace
)

// CronJob spec.catchUp: what a new leader does with ticks missed while no
// leader was scheduling.
const (
	// CatchUpLatest runs the most recent missed tick once (Kubernetes' rule; the default).
	CatchUpLatest = scheduler.CatchUpLatest
	// CatchUpAll runs one Job per missed tick, oldest first, within the
	// starting deadline and catchUpLimit.
	CatchUpAll = scheduler.CatchUpAll
	// CatchUpNone skips every missed tick and records it.
	CatchUpNone = scheduler.CatchUpNone
)

// Pod template spec.restartPolicy.
const (
	// RestartNever starts a new attempt for each failure (the builders' default).
	RestartNever = "Never"
	// RestartOnFailure retries the attempt in place.
	RestartOnFailure = "OnFailure"
)

// Job spec.completionMode.
const (
	// CompletionNonIndexed: the Job is done after `completions` successful attempts.
	CompletionNonIndexed = scheduler.DefaultCompletionMode
	// CompletionIndexed: each index 0…completions−1 must succeed once; the
	// attempt sees its index in JOB_COMPLETION_INDEX.
	CompletionIndexed = "Indexed"
)

// podFailurePolicy rule actions, operators and condition types.
const (
	// FailurePolicyFailJob fails the whole Job (reason PodFailurePolicy).
	FailurePolicyFailJob = "FailJob"
	// FailurePolicyIgnore does not count the failure against backoffLimit.
	FailurePolicyIgnore = "Ignore"
	// FailurePolicyCount counts the failure as usual.
	FailurePolicyCount = "Count"
	// ExitCodesIn matches the listed exit codes (onExitCodes.operator).
	ExitCodesIn = "In"
	// ExitCodesNotIn matches every non-zero exit code but the listed ones.
	ExitCodesNotIn = "NotIn"
	// PodConditionWorkerLost matches attempts lost with their worker
	// (onPodConditions.type; DisruptionTarget is accepted as its Kubernetes name).
	PodConditionWorkerLost = "WorkerLost"
)

// Job condition types, and the status of a condition that holds.
const (
	ConditionComplete  = pb.ConditionComplete
	ConditionFailed    = pb.ConditionFailed
	ConditionSuspended = pb.ConditionSuspended
	ConditionTrue      = pb.ConditionTrue
)

// Reasons of a Job's Complete and Failed conditions.
const (
	ReasonCompletionsReached   = scheduler.ReasonCompletionsReached
	ReasonBackoffLimitExceeded = scheduler.ReasonBackoffLimitExceeded
	ReasonDeadlineExceeded     = scheduler.ReasonDeadlineExceeded
	ReasonPodFailurePolicy     = scheduler.ReasonPodFailurePolicy
	// ReasonReplaced: a newer Job of the CronJob replaced it (ConcurrencyReplace).
	ReasonReplaced = scheduler.ReasonReplaced
)

// Attempt states: Pending → Assigned → Running → Succeeded | Failed | Lost.
const (
	AttemptPending   = pb.AttemptPending
	AttemptAssigned  = pb.AttemptAssigned
	AttemptRunning   = pb.AttemptRunning
	AttemptSucceeded = pb.AttemptSucceeded
	AttemptFailed    = pb.AttemptFailed
	AttemptLost      = pb.AttemptLost
)

// Worker states.
const (
	WorkerReady    = pb.WorkerReady
	WorkerDraining = pb.WorkerDraining
	WorkerLost     = pb.WorkerLost
)

// Scheduling decisions of a CronJob (ScheduleDecision.Decision).
const (
	DecisionInvoke = pb.DecisionInvoke
	DecisionSkip   = pb.DecisionSkip
	// DecisionWaiting is HistoryEntry.Decision for a tick still waiting
	// for its upstreams (it is no recorded decision yet).
	DecisionWaiting = "waiting"

	// Skip reasons of a CronJob with upstreams (spec.dependsOn).
	SkipUpstreamFailed   = scheduler.SkipUpstreamFailed
	SkipUpstreamNotReady = scheduler.SkipUpstreamNotReady
)

// Pipelines (docs/pipelines.md).
const (
	// AnnotationDependsOn is the annotation form of spec.dependsOn:
	// "prepare-sales:2h, load-stock".
	AnnotationDependsOn = scheduler.AnnotationDependsOn
	// AnnotationUpstreamJobs, on a Job that waited for upstreams, names the
	// Jobs it waited for: "prepare-sales=prepare-sales-29400120".
	AnnotationUpstreamJobs = scheduler.AnnotationUpstreamJobs
)

// Labels the cluster sets or understands.
const (
	// LabelCronJob is set on every Job a CronJob makes (its value is the CronJob's name).
	LabelCronJob = scheduler.LabelCronJob
	// LabelRuntime in a nodeSelector picks the runtime: RuntimeDocker (the
	// default) or RuntimeExec (plain processes, on workers that allow it).
	LabelRuntime = scheduler.LabelRuntime
	// LabelHostname in a nodeSelector picks one worker by its id.
	LabelHostname = scheduler.LabelHostname
)

// Runtimes, as LabelRuntime names them.
const (
	RuntimeDocker = scheduler.RuntimeDocker
	RuntimeExec   = scheduler.RuntimeExec
)

// Int32 returns a pointer to v, for the optional fields of a spec
// (Completions, BackoffLimit, StartingDeadlineSeconds, …).
func Int32(v int32) *int32 { return &v }

// Bool returns a pointer to v, for optional fields such as Suspend.
func Bool(v bool) *bool { return &v }

// String returns a pointer to v, for optional fields such as TimeZone.
func String(v string) *string { return &v }

// JobResult says how a finished Job ended (Job.Status.Result).
type JobResult = pb.JobResult

// ResultText is a Job's result in one line, as `raftcron describe job`
// shows it: "Failed (BackoffLimitExceeded): attempt x-0-3 Failed with exit
// code 3 (OOMKilled) on w1", or "" while the Job has not finished.
func ResultText(job *Job) string {
	r := job.GetStatus().GetResult()
	if r == nil {
		return ""
	}
	s := r.GetCondition()
	if r.GetReason() != "" {
		s += " (" + r.GetReason() + ")"
	}
	if r.GetAttempt() == "" {
		if r.GetMessage() != "" {
			s += ": " + r.GetMessage()
		}
		return s
	}
	s += fmt.Sprintf(": attempt %s %s", r.GetAttempt(), r.GetAttemptState())
	if r.GetAttemptState() != AttemptLost {
		s += fmt.Sprintf(" with exit code %d", r.GetExitCode())
	}
	if reason := r.GetAttemptReason(); reason != "" && reason != pb.ReasonError {
		s += " (" + reason + ")"
	}
	if r.GetWorker() != "" {
		s += " on " + r.GetWorker()
	}
	return s
}
