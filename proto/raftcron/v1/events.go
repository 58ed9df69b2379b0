package raftcronv1

import "strconv"

// Watch event types (WatchEvent.type), as Kubernetes names them.
const (
	WatchAdded    = "ADDED"
	WatchModified = "MODIFIED"
	WatchDeleted  = "DELETED"
	// WatchBookmark carries no object: every change up to its index was sent.
	WatchBookmark = "BOOKMARK"
)

// KindAttempt and KindEvent name the other kinds a Watch can follow.
const (
	KindAttempt = "Attempt"
	KindEvent   = "Event"
)

// Event types (Event.type).
const (
	EventNormal  = "Normal"
	EventWarning = "Warning"
)

// Event reasons (Event.reason).
const (
	EventCreated          = "Created"
	EventSkipped          = "Skipped"
	EventAssigned         = "Assigned"
	EventStarted          = "Started"
	EventExited           = "Exited"
	EventNeverStarted     = "NeverStarted"
	EventRetryScheduled   = "RetryScheduled"
	EventCompleted        = "Completed"
	EventFailed           = "Failed"
	EventDeadlineExceeded = "DeadlineExceeded"
	EventWorkerLost       = "WorkerLost"
	EventKilling          = "Killing"
	EventKilled           = "Killed"
	EventSuspended        = "Suspended"
	EventResumed          = "Resumed"
)

// ObjectKind, ObjectNamespace and ObjectName describe the object a watch
// event carries ("" for a bookmark).
func (x *WatchEvent) ObjectKind() string {
	switch x.GetObject().(type) {
	case *WatchEvent_CronJob:
		return KindCronJob
	case *WatchEvent_Job:
		return KindJob
	case *WatchEvent_Attempt:
		return KindAttempt
	case *WatchEvent_Event:
		return KindEvent
	}
	return ""
}

func (x *WatchEvent) ObjectNamespace() string {
	switch o := x.GetObject().(type) {
	case *WatchEvent_CronJob:
		return o.CronJob.GetMetadata().GetNamespace()
	case *WatchEvent_Job:
		return o.Job.GetMetadata().GetNamespace()
	case *WatchEvent_Attempt:
		return o.Attempt.GetNamespace()
	case *WatchEvent_Event:
		return o.Event.GetNamespace()
	}
	return ""
}

func (x *WatchEvent) ObjectName() string {
	switch o := x.GetObject().(type) {
	case *WatchEvent_CronJob:
		return o.CronJob.GetMetadata().GetName()
	case *WatchEvent_Job:
		return o.Job.GetMetadata().GetName()
	case *WatchEvent_Attempt:
		return o.Attempt.GetName()
	case *WatchEvent_Event:
		return EventName(o.Event)
	}
	return ""
}

// EventName names an event by where it was recorded: <index>.<seq>.
func EventName(e *Event) string {
	return strconv.FormatUint(e.GetIndex(), 10) + "." + strconv.FormatUint(uint64(e.GetSeq()), 10)
}

// NeverStarted reports whether the worker could not start the attempt (an
// image that cannot be pulled, a refused spec …): it failed without a start
// time and with no exit code (-1).
func (x *Attempt) NeverStarted() bool {
	return x.GetState() == AttemptFailed && x.GetStartTime() == nil && x.GetExitCode() == -1
}
