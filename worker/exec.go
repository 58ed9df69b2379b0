package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/worker/guard"
)

var _ Runtime = (*ExecRuntime)(nil)

// ExecRuntime runs attempts as plain processes on the worker's host, each
// under its lease guard (`raftcron guard`, see worker/guard), which the worker
// starts in a process group of its own and which starts the command in
// another. The image, mounts, network and resource limits of the RunSpec do
// not apply; command and args are the program and its arguments, env is added
// to the worker's own environment. The guard appends the output to the
// attempt's log file, capped at MaxLogSize, and keeps doing so while the
// worker restarts; it kills the command when the worker stops renewing its
// lease, and records the exact exit in the attempt's directory.
//
// State for re-adoption lives in DataDir/exec/<namespace>_<attempt>.json
// (written temp+rename, see writeExecState): the guard's pid and its start time from
// /proc/<pid>/stat (so a reused pid is not mistaken for the guard) and, once
// seen, the exit status. A guard that ended while the worker was down cannot
// be waited for, but its record (guard.Record) says how the command ended;
// only when there is none is the exit unknown (the agent reports Lost).
type ExecRuntime struct {
	workerID string
	stateDir string
	logger   *slog.Logger
	// User is the unprivileged user runs run as (the worker's --exec-user,
	// DefaultExecUser); "" keeps the worker's own user (tests). The guard
	// stays the worker's user; only the command switches.
	User string

	mu     sync.Mutex
	procs  map[string]*execProc // by id (the pid as text)
	closed bool
	stop   chan struct{} // closed by Close: watchers end
	wg     sync.WaitGroup
}

type execProc struct {
	state execState
	cmd   *exec.Cmd     // nil when adopted after a restart
	done  chan struct{} // closed once the exit is known
	exit  ExitStatus
}

type execState struct {
	Namespace   string    `json:"namespace"`
	Attempt     string    `json:"attempt"`
	Incarnation uint64    `json:"incarnation"`
	Job         string    `json:"job"`
	Index       int32     `json:"index"`
	PID         int       `json:"pid"`
	StartTicks  uint64    `json:"startTicks"`
	StartTime   time.Time `json:"startTime"`
	LogPath     string    `json:"logPath"`
	Dir         string    `json:"dir,omitempty"`
	Exited      bool      `json:"exited,omitempty"`
	ExitCode    int32     `json:"exitCode,omitempty"`
	FinishTime  time.Time `json:"finishTime,omitzero"`
	Unknown     bool      `json:"unknown,omitempty"`
	Message     string    `json:"message,omitempty"`
}

// NewExecRuntime keeps its state under dataDir/exec.
func NewExecRuntime(workerID, dataDir string, logger *slog.Logger) (*ExecRuntime, error) {
	dir := filepath.Join(dataDir, "exec")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("exec state directory: %w", err)
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &ExecRuntime{workerID: workerID, stateDir: dir, logger: logger, procs: map[string]*execProc{}, stop: make(chan struct{})}, nil
}

func (e *ExecRuntime) Name() string { return "exec" }

// DefaultExecUser is the user exec runs run as on a root worker.
const DefaultExecUser = "nobody"

// execPath is the PATH of exec runs.
const execPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// credential is the user runs switch to: nil to stay the worker's own user
// (allowed only when that is not root); never root.
func (e *ExecRuntime) credential() (*syscall.Credential, error) {
	name := e.User
	if name == "" {
		return nil, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("exec user %q: %v: %w", name, err, ErrRejected)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	switch {
	case err1 != nil || err2 != nil:
		return nil, fmt.Errorf("exec user %q: uid %q gid %q are not numbers: %w", name, u.Uid, u.Gid, ErrRejected)
	case uid == 0:
		return nil, fmt.Errorf("exec user %q is root; exec runs never run as root (--exec-user): %w", name, ErrRejected)
	case int(uid) == os.Geteuid():
		return nil, nil
	case os.Geteuid() != 0:
		return nil, fmt.Errorf("exec user %q: this worker runs as uid %d and cannot switch users; run it as root or drop --exec-user: %w", name, os.Geteuid(), ErrRejected)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

// Close lets go of the processes without touching them, as a worker that
// exits does: they keep running, and an ExecRuntime on the same DataDir
// adopts them. Exits seen after Close are not recorded.
func (e *ExecRuntime) Close() error {
	e.mu.Lock()
	if !e.closed {
		e.closed = true
		close(e.stop)
	}
	e.mu.Unlock()
	e.wg.Wait()
	return nil
}

func (e *ExecRuntime) statePath(ns, attempt string) string {
	return filepath.Join(e.stateDir, ns+"_"+attempt+".json")
}

func (e *ExecRuntime) Start(ctx context.Context, t *Task) (string, error) {
	spec := t.Spec
	argv := append(append([]string(nil), spec.GetCommand()...), spec.GetArgs()...)
	if len(argv) == 0 {
		return "", fmt.Errorf("exec runtime needs a command (the image %q is not used): %w", spec.GetImage(), ErrRejected)
	}
	if t.Guard == "" || t.Dir == "" {
		return "", fmt.Errorf("exec runtime: attempt %s has no guard binary or directory", t.Attempt.GetName())
	}
	if err := os.MkdirAll(filepath.Dir(t.LogPath), 0o755); err != nil {
		return "", fmt.Errorf("log directory: %w", err)
	}
	logf, err := os.OpenFile(t.LogPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return "", fmt.Errorf("open log file: %w", err)
	}
	defer logf.Close() // the guard keeps its own descriptor
	// The guard starts the times file afresh; none of an earlier run is left
	// to time this one's lines meanwhile.
	_ = os.Remove(guard.TimesPath(t.LogPath))
	if t.MayStart != nil {
		if err := t.MayStart(); err != nil {
			return "", err
		}
	}
	cred, err := e.credential()
	if err != nil {
		return "", err
	}
	guardArgs := []string{"guard", "--dir", t.Dir, "--lease", guard.LeasePath(t.Dir),
		"--output", t.LogPath, "--output-limit", strconv.FormatInt(MaxLogSize, 10)}
	if cred != nil {
		guardArgs = append(guardArgs, "--uid", strconv.FormatUint(uint64(cred.Uid), 10), "--gid", strconv.FormatUint(uint64(cred.Gid), 10))
	}
	cmd := exec.Command(t.Guard, append(append(guardArgs, "--"), argv...)...)
	// A clean environment: the Job's variables and a PATH, nothing of the
	// worker's own (its tokens and keys stay with it).
	work := filepath.Join(t.Dir, "work")
	if err := os.MkdirAll(work, 0o700); err != nil {
		return "", fmt.Errorf("attempt work directory: %w", err)
	}
	cmd.Dir = spec.GetWorkingDir()
	if cmd.Dir == "" {
		cmd.Dir = work
	}
	cmd.Env = []string{"PATH=" + execPath, "HOME=" + work}
	for k, v := range spec.GetEnv() {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if cred != nil {
		if err := os.Chown(work, int(cred.Uid), int(cred.Gid)); err != nil {
			return "", fmt.Errorf("give the work directory to the exec user: %w", err)
		}
	}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start the guard of %q: %v: %w", argv[0], err, ErrRejected)
	}
	st := execState{
		Namespace: t.Attempt.GetNamespace(), Attempt: t.Attempt.GetName(), Incarnation: t.Attempt.GetIncarnation(),
		Job: t.Job, Index: t.Index, PID: cmd.Process.Pid, StartTicks: procStartTicks(cmd.Process.Pid),
		StartTime: time.Now(), LogPath: t.LogPath, Dir: t.Dir,
	}
	if err := writeExecState(e.statePath(st.Namespace, st.Attempt), st); err != nil {
		e.killWorkload(st)
		_ = syscall.Kill(st.PID, syscall.SIGKILL)
		_ = cmd.Wait()
		return "", fmt.Errorf("save exec state: %w", err)
	}
	p := &execProc{state: st, cmd: cmd, done: make(chan struct{})}
	id := strconv.Itoa(st.PID)
	e.mu.Lock()
	e.procs[id] = p
	e.mu.Unlock()
	go e.reap(p)
	return id, nil
}

// killWorkload SIGKILLs the command's process group (named in the guard's
// record) and reports whether there was one; the guard then records the exit.
func (e *ExecRuntime) killWorkload(st execState) bool {
	r, err := guard.ReadRecord(st.Dir)
	if err != nil || r.PID == 0 || r.Exited {
		return false
	}
	if err := syscall.Kill(-r.PID, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		e.logger.Warn("SIGKILL process group", "pgid", r.PID, "err", err)
	}
	return true
}

// reap waits for a child process and records its exit.
func (e *ExecRuntime) reap(p *execProc) {
	err := p.cmd.Wait()
	exit := ExitStatus{StartTime: p.state.StartTime, FinishTime: time.Now()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		ws, _ := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			exit.ExitCode = 128 + int32(ws.Signal())
			exit.Message = "killed by signal " + ws.Signal().String()
		} else {
			exit.ExitCode = int32(ws.ExitStatus())
		}
	default:
		exit.ExitCode = -1
		exit.Unknown = true
		exit.Message = "wait: " + err.Error()
	}
	e.finish(p, exit)
}

func (e *ExecRuntime) finish(p *execProc, exit ExitStatus) {
	e.mu.Lock()
	if e.closed || e.procs[strconv.Itoa(p.state.PID)] != p {
		// Closed (the worker is gone) or removed: nothing to record.
		e.mu.Unlock()
		return
	}
	p.exit = exit
	p.state.Exited = true
	p.state.ExitCode = exit.ExitCode
	p.state.FinishTime = exit.FinishTime
	p.state.Unknown = exit.Unknown
	p.state.Message = exit.Message
	st := p.state
	e.mu.Unlock()
	if err := writeExecState(e.statePath(st.Namespace, st.Attempt), st); err != nil {
		e.logger.Warn("save exec exit status", "attempt", st.Attempt, "err", err)
	}
	close(p.done)
}

// watch polls an adopted process (not our child) until it is gone.
func (e *ExecRuntime) watch(p *execProc) {
	defer e.wg.Done()
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
		}
		if !processAlive(p.state.PID, p.state.StartTicks) {
			e.finish(p, ExitStatus{
				ExitCode: -1, Unknown: true, StartTime: p.state.StartTime, FinishTime: time.Now(),
				Message: "the guard ended while not a child of this worker (the worker restarted while it ran)",
			})
			return
		}
	}
}

func (e *ExecRuntime) get(id string) (*execProc, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.procs[id]
	if p == nil {
		return nil, fmt.Errorf("exec attempt %s: not found", id)
	}
	return p, nil
}

func (e *ExecRuntime) Wait(ctx context.Context, id, _ string) (ExitStatus, error) {
	p, err := e.get(id)
	if err != nil {
		return ExitStatus{}, err
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		return ExitStatus{}, ctx.Err()
	}
	e.mu.Lock()
	exit := p.exit
	logPath := p.state.LogPath
	e.mu.Unlock()
	exit.OutputTail = readTail(logPath, OutputTailSize)
	return exit, nil
}

func (e *ExecRuntime) Kill(ctx context.Context, id string, grace time.Duration) error {
	p, err := e.get(id)
	if err != nil {
		return err
	}
	select {
	case <-p.done:
		return nil
	default:
	}
	st := e.stateOf(p)
	if grace <= 0 {
		e.sigkill(st)
		return nil
	}
	// The guard passes SIGTERM on to the command's process group.
	if p.cmd != nil || processAlive(st.PID, st.StartTicks) {
		if err := syscall.Kill(st.PID, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("SIGTERM guard %d: %w", st.PID, err)
		}
	}
	go func() {
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-p.done:
			return
		case <-t.C:
		}
		e.sigkill(st)
	}()
	return nil
}

func (e *ExecRuntime) stateOf(p *execProc) execState {
	e.mu.Lock()
	defer e.mu.Unlock()
	return p.state
}

// sigkill ends the command at once; the guard too when the command has not
// started (the guard would start it) or is already gone.
func (e *ExecRuntime) sigkill(st execState) {
	if !e.killWorkload(st) {
		if processAlive(st.PID, st.StartTicks) {
			_ = syscall.Kill(st.PID, syscall.SIGKILL)
		}
	}
}

func (e *ExecRuntime) Remove(ctx context.Context, id string) error {
	e.mu.Lock()
	p := e.procs[id]
	delete(e.procs, id)
	e.mu.Unlock()
	if p == nil {
		return nil
	}
	select {
	case <-p.done:
	default:
		e.sigkill(e.stateOf(p))
	}
	err := os.Remove(e.statePath(p.state.Namespace, p.state.Attempt))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove exec state: %w", err)
	}
	return nil
}

func (e *ExecRuntime) List(ctx context.Context) ([]Instance, error) {
	ents, err := os.ReadDir(e.stateDir)
	if err != nil {
		return nil, fmt.Errorf("read exec state directory: %w", err)
	}
	var out []Instance
	for _, ent := range ents {
		if !strings.HasSuffix(ent.Name(), ".json") {
			continue
		}
		path := filepath.Join(e.stateDir, ent.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read exec state %s: %w", path, err)
		}
		var st execState
		if err := json.Unmarshal(b, &st); err != nil {
			e.logger.Warn("unreadable exec state file; removing it", "file", path, "err", err)
			_ = os.Remove(path)
			continue
		}
		id := strconv.Itoa(st.PID)
		e.mu.Lock()
		p := e.procs[id]
		if p == nil {
			p = &execProc{state: st, done: make(chan struct{})}
			e.procs[id] = p
			if st.Exited {
				p.exit = ExitStatus{ExitCode: st.ExitCode, StartTime: st.StartTime, FinishTime: st.FinishTime, Unknown: st.Unknown, Message: st.Message}
				close(p.done)
			} else if !e.closed {
				e.wg.Add(1)
				go e.watch(p)
			}
		}
		inst := Instance{
			ID: id, Attempt: &pb.AttemptRef{Namespace: p.state.Namespace, Name: p.state.Attempt, Incarnation: p.state.Incarnation},
			Job: p.state.Job, Index: p.state.Index, StartTime: p.state.StartTime,
		}
		select {
		case <-p.done:
			inst.Exit = p.exit
		default:
			inst.Running = true
		}
		e.mu.Unlock()
		out = append(out, inst)
	}
	return out, nil
}

// procStartTicks reads a process's start time (field 22 of /proc/<pid>/stat),
// 0 when it cannot be read.
func procStartTicks(pid int) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces; fields resume after ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 20 {
		return 0
	}
	v, _ := strconv.ParseUint(fields[19], 10, 64) // field 22 overall
	return v
}

// processAlive says whether pid still runs and is the same process (same
// start time) and not a zombie.
func processAlive(pid int, startTicks uint64) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) && b[i+2] == 'Z' {
		return false
	}
	return startTicks == 0 || procStartTicks(pid) == startTicks
}

// writeJSONFile writes v to path through a temporary file, fsync and rename.
func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return guard.WriteFileDurably(path, b)
}

// writeExecState records an exec run's start or end through a temporary
// file and a rename, without fsyncs. The start names the guard's pid, which
// means nothing after a crash of the host: every run is gone then. The end
// is in the guard's record already, durably, and List reads it through
// withRecord when this file still says running after a crash of the host.
// What a crash can cost: a start file lost with it also loses the way to
// that record, so a run that had ended before the crash is reported Lost
// (and retried, as its Job allows) instead of with its exit code, and only
// when the host is back within a lease and the kill allowance: later than
// that the leader has marked the attempt Lost anyway. The run's start and
// its report wait for this write.
func writeExecState(path string, st execState) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return guard.WriteFile(path, b)
}
