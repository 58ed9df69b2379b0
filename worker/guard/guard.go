package guard

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Config is one run of the guard.
type Config struct {
	// Dir receives the record.
	Dir string
	// LeasePath is the lease file the worker renews.
	LeasePath string
	// Poll is how often the lease is read (default DefaultPoll).
	Poll time.Duration
	// Argv is the workload's command line.
	Argv []string
	// Stderr receives the guard's own messages (the workload's output
	// goes to the guard's stdout and stderr, inherited, unless Output is set).
	Stderr io.Writer
	// Output, when set, is a file the workload's stdout and stderr are
	// appended to through a pipe, keeping at most OutputLimit bytes, and
	// the time each line was written to its times file (TimesPath) (the
	// exec runtime: the guard keeps copying while the worker restarts).
	Output      string
	OutputLimit int64
	// UID and GID, when UID > 0, are the user the workload runs as (the
	// exec runtime's --exec-user); the guard keeps its own.
	UID, GID int
}

// DefaultPoll is how often the guard reads its lease (a renewal is noticed
// at most this late; the kill itself is timed to the deadline).
const DefaultPoll = 50 * time.Millisecond

// clockSkewLimit: a lease renewed further than this in the guard's future
// was not written on the guard's monotonic clock (see doc.go).
const clockSkewLimit = int64(2 * time.Second)

// forwarded are the signals the guard passes on to the workload's group.
var forwarded = []os.Signal{
	syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH, syscall.SIGALRM,
}

type guard struct {
	cfg Config
	rec Record
	// The lease as last read: its renewal (to notice a new one) and the
	// deadline and grace it sets, on this process's CLOCK_MONOTONIC.
	renewed  int64
	deadline int64
	grace    int64
	reason   string
	termSent bool
	killSent bool
	// killAt is the deadline frozen when SIGTERM went out: a renewal that
	// arrives after the kill began does not postpone the SIGKILL.
	killAt int64
}

func (g *guard) logf(format string, args ...any) {
	fmt.Fprintf(g.cfg.Stderr, "[raftcron guard] "+format+"\n", args...)
}

// readLease updates the deadline from the lease file. It reports false when
// no lease could be read (the deadline is then unchanged).
func (g *guard) readLease() bool {
	l, err := ReadLease(g.cfg.LeasePath)
	if err != nil {
		return false
	}
	if l.RenewedMono == g.renewed && g.deadline != 0 {
		return true
	}
	now := Mono()
	g.renewed = l.RenewedMono
	if l.RenewedMono > now+clockSkewLimit {
		// Not our clock: count the lease's length from now.
		g.deadline = now + (l.ValidUntilMono - l.RenewedMono)
	} else {
		g.deadline = l.ValidUntilMono
	}
	g.grace = max(int64(l.KillGrace), 0)
	g.reason = l.Reason
	return true
}

func (g *guard) write() {
	if err := WriteRecord(g.cfg.Dir, g.rec); err != nil {
		g.logf("cannot write the record in %s: %v", g.cfg.Dir, err)
	}
}

// Run runs the guard and returns its exit code.
func Run(cfg Config) int {
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.Stderr == nil {
		cfg.Stderr = os.Stderr
	}
	g := &guard{cfg: cfg, rec: Record{GuardPID: os.Getpid()}}
	if len(cfg.Argv) == 0 {
		g.logf("no command given")
		return ExitCannotRun
	}
	if os.Getpid() != 1 {
		// Orphans of the workload become our children, so that we reap them.
		_ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	}
	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs, append([]os.Signal{syscall.SIGCHLD}, forwarded...)...)
	defer signal.Stop(sigs)

	// A run whose lease has run out (or whose kill would already have begun)
	// never starts.
	if !g.readLease() {
		g.rec.NotStarted = true
		g.rec.Message = "not started: no lease at " + cfg.LeasePath
		g.logf("%s", g.rec.Message)
		g.write()
		return ExitNotStarted
	}
	if left := g.deadline - g.grace - Mono(); left <= 0 {
		g.rec.NotStarted = true
		g.rec.Message = fmt.Sprintf("not started: its lease ran out %v ago", time.Duration(-left).Round(time.Millisecond))
		if g.reason != "" {
			g.rec.Message += " (" + g.reason + ")"
		}
		g.logf("%s", g.rec.Message)
		g.write()
		return ExitNotStarted
	}

	cmd := exec.Command(cfg.Argv[0], cfg.Argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if cfg.UID > 0 {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(cfg.UID), Gid: uint32(cfg.GID), NoSetGroups: true}
	}
	var copied chan struct{}
	if cfg.Output != "" {
		out, err := OpenLog(cfg.Output, cfg.OutputLimit, false)
		if err != nil {
			g.rec.NotStarted = true
			g.rec.Message = "not started: output file: " + err.Error()
			g.logf("%s", g.rec.Message)
			g.write()
			return ExitNotStarted
		}
		defer out.Close()
		pr, pw, err := os.Pipe()
		if err != nil {
			g.rec.NotStarted = true
			g.rec.Message = "not started: pipe: " + err.Error()
			g.write()
			return ExitNotStarted
		}
		cmd.Stdout, cmd.Stderr = pw, pw
		g.cfg.Stderr = out.Notes()
		copied = make(chan struct{})
		go func() {
			defer close(copied)
			// out takes every write (dropping what is over its limit), so
			// the pipe is drained to the end.
			_, _ = io.Copy(out, pr)
			pr.Close()
		}()
		defer func() {
			// The write end closes in the child only when all of the
			// workload is gone; it is, once Run returns.
			t := time.NewTimer(2 * time.Second)
			defer t.Stop()
			select {
			case <-copied:
			case <-t.C:
			}
		}()
		defer pw.Close()
	}
	startMono := Mono()
	g.rec.Started = time.Now().Round(0)
	if err := cmd.Start(); err != nil {
		g.rec.Exited, g.rec.ExitCode, g.rec.Finished = true, ExitCannotRun, g.rec.Started
		g.rec.Message = "cannot start the command: " + err.Error()
		g.logf("%s", g.rec.Message)
		g.write()
		return ExitCannotRun
	}
	pid := cmd.Process.Pid
	g.rec.PID = pid
	g.write()

	t := time.NewTimer(g.nextCheck(Mono()))
	defer t.Stop()
	var status unix.WaitStatus
	exited := false
	for !exited {
		select {
		case s := <-sigs:
			if s != syscall.SIGCHLD {
				if err := unix.Kill(-pid, s.(syscall.Signal)); err != nil && !errors.Is(err, unix.ESRCH) {
					g.logf("forward %v: %v", s, err)
				}
			}
		case <-t.C:
			g.readLease()
			g.enforce(pid)
			t.Reset(g.nextCheck(Mono()))
		}
		exited = reap(pid, &status)
	}
	dur := time.Duration(Mono() - startMono)
	// Nothing of the workload outlives it (in a container the kernel does
	// this when PID 1 exits).
	_ = unix.Kill(-pid, unix.SIGKILL)
	g.rec.Exited, g.rec.Duration = true, dur
	g.rec.Finished = g.rec.Started.Add(dur)
	switch {
	case status.Signaled():
		g.rec.ExitCode = 128 + int32(status.Signal())
		g.rec.Signal = unix.SignalName(status.Signal())
	default:
		g.rec.ExitCode = int32(status.ExitStatus())
	}
	g.write()
	// Reap what is left for a moment (orphans we adopted).
	for end := time.Now().Add(100 * time.Millisecond); time.Now().Before(end); {
		if wpid, _ := unix.Wait4(-1, nil, unix.WNOHANG, nil); wpid <= 0 {
			break
		}
	}
	return int(g.rec.ExitCode)
}

// nextCheck is how long from now the lease is next read and enforced: one
// poll, or less when the SIGTERM or the SIGKILL falls due sooner, so that
// the kill goes out at the deadline and not up to a poll after it.
func (g *guard) nextCheck(now int64) time.Duration {
	next := now + int64(g.cfg.Poll)
	if !g.termSent {
		next = min(next, g.deadline-g.grace)
	}
	if !g.killSent {
		at := g.deadline
		if g.termSent {
			at = g.killAt
		}
		next = min(next, at)
	}
	return max(time.Duration(next-now), 0)
}

// enforce sends SIGTERM one grace before the deadline and SIGKILL at it.
func (g *guard) enforce(pid int) {
	now := Mono()
	if !g.termSent && now >= g.deadline-g.grace {
		g.termSent, g.killAt = true, g.deadline
		g.rec.LeaseExpired, g.rec.LeaseReason = true, g.reason
		g.logf("lease not renewed (ends in %v%s): SIGTERM to the workload", time.Duration(g.deadline-now).Round(time.Millisecond), reasonSuffix(g.reason))
		_ = unix.Kill(-pid, unix.SIGTERM)
	}
	if !g.killSent && (now >= g.deadline || g.termSent && now >= g.killAt) {
		g.killSent = true
		g.logf("lease ran out: SIGKILL to the workload")
		_ = unix.Kill(-pid, unix.SIGKILL)
	}
}

func reasonSuffix(r string) string {
	if r == "" {
		return ""
	}
	return "; " + r
}

// reap collects every child that has ended and reports whether pid was one
// of them (its status is then in st).
func reap(pid int, st *unix.WaitStatus) bool {
	found := false
	for {
		var ws unix.WaitStatus
		wpid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err != nil || wpid <= 0 {
			return found
		}
		if wpid == pid {
			*st, found = ws, true
		}
	}
}
