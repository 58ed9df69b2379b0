// Package guard is the per-attempt lease guard: raftcron-guard, the parent
// of every attempt's workload. It imports nothing of the cluster or the
// worker; the worker imports it for the file formats below.
//
// # What it does
//
// The guard starts the real command (in a process group of its own),
// forwards the signals it receives to that group, reaps zombies (in a
// container it is PID 1; on the host it is a child subreaper), records the
// exact start and exit (exit code, signal, times) in the attempt's directory,
// and kills the workload when its lease is not renewed in time. It exits with
// the workload's exit code (128+signal when the workload was killed by one).
//
// The guard is its own small static binary, cmd/raftcron-guard (`raftcron
// guard` runs the same code), because it starts once per run.
//
// Docker: the static guard binary is bind-mounted read-only at
// /.raftcron/guard and is the container's entrypoint; the attempt's
// directory is bind-mounted read-write at /.raftcron/run (the record) and its
// lease.d subdirectory read-only at /.raftcron/lease (so the workload cannot
// extend its own lease). Exec: the worker runs
// `raftcron-guard guard --dir <attempt dir> --lease <attempt dir>/lease.d/lease -- <command>`
// as the process it starts. Either way the workload outlives neither its lease nor its guard:
// when PID 1 of a container exits the kernel kills the rest of the
// container, and on the host the guard SIGKILLs the workload's process group
// before it exits.
// (A process of an exec workload that leaves that group, with setsid for
// instance, escapes this last kill on the host; in a container nothing
// escapes PID 1's end.)
//
// # The lease (a file, renewed by the worker)
//
// The worker writes DIR/lease.d/lease (temp file + rename, so the guard never reads
// half a file) every time the cluster renews the attempt, and again, cut
// short, when it kills the attempt. A file was chosen over a socket or a
// pipe because it needs no connection to survive a worker restart: a
// restarted worker simply writes the file again, and a dead worker simply
// stops writing it.
//
// The lease holds an absolute deadline on CLOCK_MONOTONIC. That clock is one
// per host and shared by every process on it, including containers (Docker
// puts containers in no time namespace), and unlike the wall clock it never
// jumps when NTP or an operator sets the time: a deadline written as wall
// time could be stretched or cut by a step of the clock between the write
// and the check. The guard compares the deadline with its own
// CLOCK_MONOTONIC reading. Should the clocks not be shared after all (a
// deadline renewed "in the future" by more than clockSkewLimit), the guard
// falls back to counting the lease's length (valid until − renewed at) from
// the moment it read the file, which can only make it late by one poll.
//
// One kill grace before the deadline the guard sends SIGTERM to the
// workload's group, at the deadline SIGKILL. The worker ends its own attempts
// by the same rule, so when both are alive the guard is a second fence; when
// the worker is dead it is the only one, and the workload is gone by the
// deadline (the guard wakes for the kill at its time, not at its next poll),
// that is, before the leader (which waits a whole lease and a kill allowance
// from the later time it last heard from the worker) starts a replacement.
//
// A guard that finds no lease, or an expired one, when it starts never
// starts the workload: its record says NotStarted, and it exits with
// ExitNotStarted.
//
// # The record
//
// DIR/record.json (temp file + rename) is written once the workload has
// started and again, with an fsync, when it has ended. Start and finish come from one
// clock: the finish time is the start time plus the duration measured on
// the monotonic clock, so a run never has a negative duration, whatever the
// wall clock does meanwhile.
package guard
