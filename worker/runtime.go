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
)

// ErrRejected marks a RunSpec this worker refuses to run (its config does not
// allow it, or its image cannot be had). The attempt is reported Failed with
// reason Rejected and the error's text as the message.
var ErrRejected = errors.New("rejected")

// Task is one attempt to start.
type Task struct {
	WorkerID string
	Attempt  *pb.AttemptRef
	Job      string
	Index    int32
	Spec     *pb.RunSpec
	// LogPath is the file the attempt's output goes to.
	LogPath string
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
	// Unknown is set when the runtime could not observe the exit (an exec
	// process that ended while the worker was down); Message says why.
	Unknown bool
	Message string
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
	// Kill sends SIGTERM, then SIGKILL once grace has passed. It returns once
	// the signals are sent; Wait observes the exit.
	Kill(ctx context.Context, id string, grace time.Duration) error
	// Remove deletes what is left of an ended attempt.
	Remove(ctx context.Context, id string) error
	// List returns every attempt this worker's runtime holds, running or ended.
	List(ctx context.Context) ([]Instance, error)
	// Close releases the runtime's resources and leaves every attempt running.
	Close() error
}
