// Command raftcron-guard is the lease guard every attempt runs under (see
// package worker/guard): the parent of an exec run's process and the
// entrypoint of a Docker run's container. It is the same code as
// `raftcron guard`, in a binary of its own that imports nothing else, so that
// starting it costs about a millisecond where the whole raftcron binary
// spends tens of milliseconds of CPU in package initialisation: at hundreds
// of runs per second, that start is most of a worker's work. The worker uses
// the raftcron-guard found next to its own executable, or itself.
package main

import (
	"os"
	"runtime"

	"github.com/raftcron/raftcron/worker/guard"
)

func main() {
	// The guard waits on a timer, signals and one pipe: one processor is
	// plenty, and the runtime then spins no idle threads looking for work
	// (set here, not through GOMAXPROCS in the environment, which the
	// workload would inherit).
	runtime.GOMAXPROCS(1)
	os.Exit(guard.Main(os.Args[1:], os.Stderr))
}
