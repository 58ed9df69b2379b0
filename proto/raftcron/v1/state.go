package raftcronv1

import "google.golang.org/protobuf/types/known/timestamppb"

// The state vocabulary shared by every package (raft, scheduler, cluster,
// worker, client, the CLI), and the hand-written helpers on the generated
// types, so that every package decides "finished" by one rule.

// Attempt states (Attempt.state): Pending → Assigned → Running → Succeeded |
// Failed | Lost.
const (
	AttemptPending   = "Pending"
	AttemptAssigned  = "Assigned"
	AttemptRunning   = "Running"
	AttemptSucceeded = "Succeeded"
	AttemptFailed    = "Failed"
	AttemptLost      = "Lost"
)

// Job condition types, and the status of a condition that holds.
const (
	ConditionComplete  = "Complete"
	ConditionFailed    = "Failed"
	ConditionSuspended = "Suspended"
	ConditionTrue      = "True"
)

// Worker states (Worker.state).
const (
	WorkerReady = "Ready"
	// WorkerDraining: connected, stopping (SIGTERM with --drain-timeout):
	// it takes no new attempts and hands back those it cannot finish.
	WorkerDraining = "Draining"
	WorkerLost     = "Lost"
)

// Server statuses (Member.status): whether the server answering
// `cluster members` reached the member just now.
const (
	MemberAlive       = "alive"
	MemberUnreachable = "unreachable"
	MemberUnknown     = "unknown"
)

// Finished reports whether the Job has a Complete or Failed condition that is True.
func (x *Job) Finished() bool { return x.FinishedCondition() != nil }

// FinishedCondition is the Job's Complete or Failed condition that is True,
// or nil while it is unfinished.
func (x *Job) FinishedCondition() *JobCondition {
	for _, c := range x.GetStatus().GetConditions() {
		if (c.GetType() == ConditionComplete || c.GetType() == ConditionFailed) && c.GetStatus() == ConditionTrue {
			return c
		}
	}
	return nil
}

// Finished reports whether the attempt ended: Succeeded, Failed or Lost.
func (x *Attempt) Finished() bool {
	switch x.GetState() {
	case AttemptSucceeded, AttemptFailed, AttemptLost:
		return true
	}
	return false
}

// Unfinished reports whether the attempt has not ended yet: Pending, Assigned
// or Running (with or without a kill requested). It is the one meaning of
// "unfinished" for attempts.
func (x *Attempt) Unfinished() bool {
	switch x.GetState() {
	case AttemptPending, AttemptAssigned, AttemptRunning:
		return true
	}
	return false
}

// OnWorker reports whether a worker holds the attempt: Assigned or Running.
func (x *Attempt) OnWorker() bool {
	switch x.GetState() {
	case AttemptAssigned, AttemptRunning:
		return true
	}
	return false
}

// Scheduling decisions (ScheduleDecision.decision), and the skip reason the
// FSM itself records.
const (
	DecisionInvoke = "invoke"
	DecisionSkip   = "skip"
	// SkipJobNameTaken: the tick's Job name is held by another object, so the
	// tick did not run.
	SkipJobNameTaken = "JobNameTaken"
)

// MadeFor reports whether the Job is the run a CronJob made for the tick at
// scheduled (owner and scheduled time both match): the same tick always
// yields the same Job name, and only that Job may stand for the tick.
func (x *Job) MadeFor(cronJob string, scheduled *timestamppb.Timestamp) bool {
	st := x.GetStatus()
	return st.GetCronJob() == cronJob && st.GetScheduledTime() != nil && scheduled != nil &&
		st.GetScheduledTime().GetSeconds() == scheduled.GetSeconds() && st.GetScheduledTime().GetNanos() == scheduled.GetNanos()
}

// Kinds, the API version stamped on stored resources and the namespace of
// objects that name none.
const (
	KindCronJob = "CronJob"
	KindJob     = "Job"
	KindSecret  = "Secret"
	APIVersion  = "batch/v1"
	// SecretAPIVersion is the API version of Secrets (Kubernetes core v1).
	SecretAPIVersion = "v1"
	// SecretTypeOpaque is a Secret's type when none is given.
	SecretTypeOpaque = "Opaque"
	// Redacted replaces every Secret value an API answer would carry.
	Redacted         = "REDACTED"
	DefaultNamespace = "default"
)

// Attempt reasons (Attempt.reason), and the kill reasons the leader and the
// workers use.
const (
	ReasonError            = "Error"            // the container exited non-zero
	ReasonOOMKilled        = "OOMKilled"        // the container ran out of memory
	ReasonDeadlineExceeded = "DeadlineExceeded" // activeDeadlineSeconds
	ReasonWorkerLost       = "WorkerLost"       // its worker or lease was lost
	// ReasonWorkerDrained: its worker was stopped with a drain and ended it
	// (or never started it). The attempt is Lost: like a lost worker's it is
	// not counted against backoffLimit and runs again on another worker.
	ReasonWorkerDrained = "WorkerDrained"
	ReasonKilled        = "Killed" // stopped on purpose (suspend, Replace, delete, not current)
)
