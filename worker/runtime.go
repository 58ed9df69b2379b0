package worker

import (
	"context"
	"errors"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// Labels every container (and exec state file) carries, so that a restarted
// worker can find what it was running and to which attempt it belongs.
const (
	LabelWorker      = "raftcron.io/worker"
	LabelNamespace   = "raftcron.io/namespace"
	LabelJob         = "raftcron.io/job"
	LabelIndex       = "raftcron.io/index"
	LabelAttempt     = "raftcron.io/attempt"
	LabelIncarnation = "raftcron.io/incarnation"
	// LabelCluster is the cluster's id (Welcome.cluster_id).
	LabelCluster = "raftcron.io/cluster"
)

// ErrRejected marks a RunSpec this worker refuses to run (its config does not
// allow it, or its image cannot be had). The attempt is reported Failed with
// reason Rejected and the error's text as the message.
var ErrRejected = errors.New("rejected")

// ErrNotStarted marks an attempt a runtime did not start because Task.MayStart
// said no (its lease ran out, or it was killed, while it was being prepared).
// The attempt never ran: it is reported Lost, never counted as a failure.
var ErrNotStarted = errors.New("not started")

// Task is one attempt to start.
type Task struct {
	WorkerID string
	Attempt  *pb.AttemptRef
	Job      string
	Index    int32
	Spec     *pb.RunSpec
	// LogPath is the file the attempt's output goes to.
	LogPath string
	// Dir is the attempt's directory (the guard's lease and record) and
	// Guard the static raftcron binary that runs as its guard.
	Dir, Guard string
	// MayStart is asked right before the workload is started; an error
	// (wrapping ErrNotStarted) means it must not start.
	MayStart func() error
}

// Instance is an attempt a runtime knows about on this host, found by List.
type Instance struct {
	ID      string
	Attempt *pb.AttemptRef
	Job     string
	Index   int32
	// Running is false once the attempt has exited; Exit then holds how.
	Running   bool
	StartTime time.Time
	Exit      ExitStatus
}

// ExitStatus is how an attempt ended.
type ExitStatus struct {
	ExitCode   int32
	OOMKilled  bool
	StartTime  time.Time
	FinishTime time.Time
	// Unknown is set when nothing observed the exit (an exec guard that
	// ended while the worker was down and left no record); Message says why.
	Unknown bool
	// NotStarted: the workload never ran (a container created but never
	// started, a guard that found its lease expired).
	NotStarted bool
	Message    string
	// OutputTail is the last OutputTailSize bytes of output.
	OutputTail string
}

// OutputTailSize is how much output a finished report carries.
const OutputTailSize = 16 << 10

// MaxLogSize caps each attempt's local log file.
const MaxLogSize = 10 << 20

// Runtime runs attempts on this host. Implementations: DockerRuntime and
// ExecRuntime. Every method is safe for concurrent use.
type Runtime interface {
	// Name is "docker" or "exec".
	Name() string
	// Start launches the task and returns its id without waiting for it to
	// end. A spec the runtime cannot run returns an error wrapping ErrRejected.
	Start(ctx context.Context, t *Task) (id string, err error)
	// Wait blocks until the attempt ends (or ctx is done), copying its output
	// to logPath when the runtime does not write there directly.
	Wait(ctx context.Context, id, logPath string) (ExitStatus, error)
	// Kill sends SIGTERM, then SIGKILL once grace has passed (at once when
	// grace is 0). It returns once the first signal is sent, with an error
	// when it could not be; Wait observes the exit. The agent calls it again
	// until Wait has seen the attempt end.
	Kill(ctx context.Context, id string, grace time.Duration) error
	// Remove deletes what is left of an ended attempt.
	Remove(ctx context.Context, id string) error
	// List returns every attempt this worker's runtime holds, running or ended.
	List(ctx context.Context) ([]Instance, error)
	// Close releases the runtime's resources and leaves every attempt running.
	Close() error
}
