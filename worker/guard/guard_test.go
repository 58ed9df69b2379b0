package guard

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the guard: with RAFTCRON_GUARD_TEST set it runs
// Main on its arguments, as raftcron-guard does.
func TestMain(m *testing.M) {
	if os.Getenv("RAFTCRON_GUARD_TEST") == "1" {
		os.Exit(Main(os.Args[1:], os.Stderr))
	}
	os.Exit(m.Run())
}

type running struct {
	cmd    *exec.Cmd
	dir    string
	stderr *bytes.Buffer
	done   chan struct{}
}

func startGuard(t *testing.T, dir string, argv ...string) *running {
	t.Helper()
	return startGuardFlags(t, dir, nil, argv...)
}

// startGuardFlags starts the guard with more flags (--output ...).
func startGuardFlags(t *testing.T, dir string, flags []string, argv ...string) *running {
	t.Helper()
	// The command line the worker writes.
	args := append([]string{"guard", "--dir", dir, "--lease", LeasePath(dir), "--poll", "10ms"}, flags...)
	args = append(args, "--")
	cmd := exec.Command(os.Args[0], append(args, argv...)...)
	cmd.Env = append(os.Environ(), "RAFTCRON_GUARD_TEST=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &running{cmd: cmd, dir: dir, stderr: &stderr, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(r.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-r.done
	})
	return r
}

func (r *running) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(timeout):
		t.Fatalf("the guard did not exit within %v; stderr: %s", timeout, r.stderr)
	}
	return r.cmd.ProcessState.ExitCode()
}

func lease(t *testing.T, dir string, d, grace time.Duration) {
	t.Helper()
	if err := WriteLease(dir, NewLease(time.Now().Add(d), grace, "")); err != nil {
		t.Fatal(err)
	}
}

func record(t *testing.T, dir string) Record {
	t.Helper()
	r, err := ReadRecord(dir)
	if err != nil {
		t.Fatalf("read record: %v", err)
	}
	return r
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestGuardRecordsExitCodeAndTimes(t *testing.T) {
	dir := t.TempDir()
	lease(t, dir, time.Minute, time.Second)
	before := time.Now()
	g := startGuard(t, dir, "sh", "-c", "sleep 0.2; exit 7")
	if code := g.wait(t, 10*time.Second); code != 7 {
		t.Fatalf("guard exit code %d, want the workload's 7 (stderr %s)", code, g.stderr)
	}
	r := record(t, dir)
	if !r.Exited || r.ExitCode != 7 || r.NotStarted || r.LeaseExpired || r.PID == 0 {
		t.Fatalf("record = %+v, want exited with 7", r)
	}
	if r.Started.Before(before.Add(-time.Second)) || r.Duration < 200*time.Millisecond || !r.Finished.Equal(r.Started.Add(r.Duration)) {
		t.Errorf("record times: started %v, duration %v, finished %v; want finished = started + duration >= 200ms", r.Started, r.Duration, r.Finished)
	}
}

func TestGuardDoesNotStartWithoutAValidLease(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(dir string)
		want  string
	}{
		{"no lease", func(string) {}, "no lease"},
		{"expired", func(dir string) { lease(t, dir, -time.Second, 0) }, "ran out"},
		{"within the kill grace", func(dir string) { lease(t, dir, time.Second, 2*time.Second) }, "ran out"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.setup(dir)
			marker := filepath.Join(dir, "ran")
			g := startGuard(t, dir, "sh", "-c", "touch "+marker)
			if code := g.wait(t, 10*time.Second); code != ExitNotStarted {
				t.Fatalf("exit code %d, want %d", code, ExitNotStarted)
			}
			if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the workload ran (marker: %v)", err)
			}
			r := record(t, dir)
			if !r.NotStarted || !strings.Contains(r.Message, tc.want) {
				t.Errorf("record = %+v, want NotStarted mentioning %q", r, tc.want)
			}
		})
	}
}

// A lease nobody renews: SIGTERM one grace before the deadline, SIGKILL at
// it, even for a workload that ignores SIGTERM.
func TestGuardKillsWhenTheLeaseRunsOut(t *testing.T) {
	dir := t.TempDir()
	const ttl, grace = 1500 * time.Millisecond, 500 * time.Millisecond
	lease(t, dir, ttl, grace)
	end := time.Now().Add(ttl)
	g := startGuard(t, dir, "sh", "-c", `trap "" TERM; sleep 30`)
	code := g.wait(t, 10*time.Second)
	ended := time.Now()
	if code != 128+int(syscall.SIGKILL) {
		t.Errorf("exit code %d, want %d (SIGKILL)", code, 128+int(syscall.SIGKILL))
	}
	if late := ended.Sub(end); late > 300*time.Millisecond {
		t.Errorf("workload ended %v after its lease ran out", late)
	}
	if early := end.Sub(ended); early > grace/2 {
		t.Errorf("workload ended %v before its lease ran out, while SIGTERM is ignored", early)
	}
	r := record(t, dir)
	if !r.Exited || !r.LeaseExpired || r.Signal != "SIGKILL" {
		t.Errorf("record = %+v, want exited by SIGKILL with LeaseExpired", r)
	}
	if !strings.Contains(g.stderr.String(), "lease") {
		t.Errorf("guard said nothing about the lease: %q", g.stderr)
	}
}

// Renewals keep the workload running past the first deadline; a lease cut
// short (a kill) ends it with SIGTERM.
func TestGuardRenewedLeaseAndCutShort(t *testing.T) {
	dir := t.TempDir()
	lease(t, dir, 500*time.Millisecond, 100*time.Millisecond)
	g := startGuard(t, dir, "sleep", "30")
	for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		lease(t, dir, 500*time.Millisecond, 100*time.Millisecond)
	}
	select {
	case <-g.done:
		t.Fatalf("the workload ended while its lease was renewed: %s", g.stderr)
	default:
	}
	if err := WriteLease(dir, NewLease(time.Now().Add(time.Second), time.Second, "killed at the cluster's request")); err != nil {
		t.Fatal(err)
	}
	if code := g.wait(t, 5*time.Second); code != 128+int(syscall.SIGTERM) {
		t.Errorf("exit code %d, want %d (SIGTERM)", code, 128+int(syscall.SIGTERM))
	}
	if r := record(t, dir); r.LeaseReason != "killed at the cluster's request" || r.Signal != "SIGTERM" {
		t.Errorf("record = %+v, want SIGTERM with the lease's reason", r)
	}
}

func TestGuardForwardsSignals(t *testing.T) {
	dir := t.TempDir()
	lease(t, dir, time.Minute, time.Second)
	g := startGuard(t, dir, "sh", "-c", `trap "echo got-usr1; exit 3" USR1; while :; do sleep 0.05; done`)
	waitFor(t, 5*time.Second, "the workload to start", func() bool { r, err := ReadRecord(dir); return err == nil && r.PID != 0 })
	time.Sleep(100 * time.Millisecond) // the shell installs its trap
	if err := g.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	if code := g.wait(t, 5*time.Second); code != 3 {
		t.Errorf("exit code %d, want 3 (the workload's USR1 trap)", code)
	}
}

// The guard reaps orphans (it is their subreaper) and leaves no process of
// the workload behind when the workload's main process ends.
func TestGuardLeavesNothingBehind(t *testing.T) {
	dir := t.TempDir()
	lease(t, dir, time.Minute, time.Second)
	pidFile := filepath.Join(dir, "bg.pid")
	g := startGuard(t, dir, "sh", "-c", "sleep 30 & echo $! > "+pidFile+"; exit 0")
	if code := g.wait(t, 5*time.Second); code != 0 {
		t.Fatalf("exit code %d, want 0", code)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	if _, err := fmt.Sscan(strings.TrimSpace(string(b)), &pid); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "the background process to be gone", func() bool {
		return syscall.Kill(pid, 0) != nil
	})
}

func TestGuardCommandLine(t *testing.T) {
	var stderr bytes.Buffer
	if code := Main([]string{"guard", "--dir", t.TempDir()}, &stderr); code != 2 {
		t.Fatalf("no command: exit %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "no command given") {
		t.Errorf("no command: stderr %q does not say so", stderr.String())
	}
	stderr.Reset()
	if code := Main([]string{"--polll", "1s", "--", "/bin/true"}, &stderr); code != 2 {
		t.Fatalf("unknown flag: exit %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "polll") {
		t.Errorf("unknown flag: stderr %q does not name it", stderr.String())
	}
	cfg, err := parseArgs([]string{"--dir", "/d", "--lease", "/l", "--output", "/o", "--output-limit", "7", "--uid", "5", "--gid", "6", "--", "sh", "-c", "exit 3"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Dir != "/d" || cfg.LeasePath != "/l" || cfg.Output != "/o" || cfg.OutputLimit != 7 || cfg.UID != 5 || cfg.GID != 6 ||
		strings.Join(cfg.Argv, " ") != "sh -c exit 3" || cfg.Poll != DefaultPoll {
		t.Errorf("parsed %+v", cfg)
	}
}

func TestGuardTellsItsProtocol(t *testing.T) {
	cmd := exec.Command(os.Args[0], "guard", "--protocol")
	cmd.Env = append(os.Environ(), "RAFTCRON_GUARD_TEST=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); got != ProtocolLine() || !strings.Contains(got, "protocol 2") {
		t.Errorf("--protocol printed %q, want %q", got, ProtocolLine())
	}
}

// The guard wakes for its SIGTERM and SIGKILL at their times, not at the
// next poll after them: a SIGKILL up to a poll late let a replacement start
// before the old run ended.
func TestGuardWakesAtTheKillTimes(t *testing.T) {
	ms := int64(time.Millisecond)
	poll := 50 * time.Millisecond
	for _, tc := range []struct {
		name               string
		deadline, grace    int64
		termSent, killSent bool
		killAt             int64
		want               time.Duration
	}{
		{name: "far from the deadline: a poll", deadline: 10_000 * ms, grace: 1000 * ms, want: poll},
		{name: "SIGTERM due before the next poll", deadline: 1_020 * ms, grace: 1000 * ms, want: 20 * time.Millisecond},
		{name: "SIGKILL due before the next poll", deadline: 30 * ms, grace: 0, termSent: true, killAt: 30 * ms, want: 30 * time.Millisecond},
		{name: "SIGKILL at the deadline frozen by the SIGTERM", deadline: 5_000 * ms, termSent: true, killAt: 7 * ms, want: 7 * time.Millisecond},
		{name: "overdue: at once", deadline: -5 * ms, want: 0},
		{name: "both sent: a poll", deadline: -5 * ms, termSent: true, killSent: true, killAt: -5 * ms, want: poll},
	} {
		g := &guard{cfg: Config{Poll: poll}, deadline: tc.deadline, grace: tc.grace, termSent: tc.termSent, killSent: tc.killSent, killAt: tc.killAt}
		if got := g.nextCheck(0); got != tc.want {
			t.Errorf("%s: next check in %v, want %v", tc.name, got, tc.want)
		}
	}
}
