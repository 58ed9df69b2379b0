package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/scheduler"
	"github.com/raftcron/raftcron/worker/guard"
)

// Version is sent in Hello.
var Version = "dev"

// Config is a worker's configuration.
type Config struct {
	// Servers are gRPC addresses of raftcron servers; any of them will do,
	// followers redirect to the leader.
	Servers []string
	// ID names this worker in the cluster; it must stay the same across
	// restarts so that the worker finds its containers again.
	ID     string
	Slots  int
	Labels map[string]string
	// DataDir holds logs (DataDir/logs) and exec runtime state (DataDir/exec).
	DataDir string
	// Runtime is "docker", "exec", "noop" (load tests) or "" (docker when a daemon answers, else
	// exec if AllowExec).
	Runtime                                      string
	AllowExec, AllowPrivileged, AllowHostNetwork bool
	// AllowHostPaths are the host path prefixes hostPath volumes may name
	// (--allow-host-path); none by default. The Docker socket is refused
	// under any prefix.
	AllowHostPaths []string
	// Docker holds the limits and defaults of docker runs.
	Docker DockerOptions
	// ExecUser is the unprivileged user exec runs run as (--exec-user,
	// DefaultExecUser); never root. "" keeps the worker's own user.
	ExecUser  string
	JoinToken string
	Logger    *slog.Logger
	// DialOptions are added to the gRPC dial (TLS credentials); without
	// transport credentials among them the connection is plaintext.
	DialOptions []grpc.DialOption
	// InitialLease is how long attempts found running at start-up without a
	// lease file (started before guards existed) may run before the cluster
	// renews them; default 10s. Attempts with a guard keep the lease their
	// guard holds.
	InitialLease time.Duration
	// Retention is how long the output and the guard's files of an attempt
	// are kept after its result was acknowledged; default 24h.
	Retention time.Duration
	// DrainTimeout, when set, makes a stop (Run's context cancelled) a
	// drain: the worker tells the leader it drains (no new attempts; the
	// worker shows as Draining), waits up to DrainTimeout for its running
	// attempts, then kills those left, lease guards included, and reports
	// them Lost (reason WorkerDrained) so they run again elsewhere. Without
	// it a stop leaves attempts running for the next start to re-adopt.
	DrainTimeout time.Duration
	// GuardBinary is the raftcron binary that runs as every attempt's lease
	// guard (default: this executable). The docker runtime mounts it into
	// containers, so there it must be statically linked (CGO_ENABLED=0).
	GuardBinary string
}

const (
	defaultGrace     = 10 * time.Second
	defaultLeaseTTL  = 10 * time.Second
	minBackoff       = 100 * time.Millisecond
	maxBackoff       = 2 * time.Second
	reportResend     = 5 * time.Second
	leaseCheckPeriod = 50 * time.Millisecond
	defaultRetention = 24 * time.Hour
	// pruneEvery: how often ended attempts' files are looked at for deletion.
	pruneEvery = time.Minute
	// guardReady: how long after its start a guard may take to write its
	// record (and so to handle signals).
	guardReady = 2 * time.Second
	// killConfirm: a kill the runtime has not confirmed (the attempt has
	// not ended) this long after its SIGKILL was due is sent again.
	killConfirm = 2 * time.Second
)

// Agent is a running worker.
type Agent struct {
	cfg    Config
	logger *slog.Logger
	rt     Runtime
	// guardBin is the installed guard binary (see guardBinary).
	guardBin string
	// clusterID is the cluster this worker belongs to (guarded by mu).
	clusterID string

	mu           sync.Mutex
	attempts     map[string]*attempt // by namespace/name
	reports      []*pendingReport
	nextReportID uint64
	sess         *session // the welcomed session, nil when disconnected
	leaseTTL     time.Duration
	runCtx       context.Context
	wg           sync.WaitGroup
	reportsCh    chan struct{} // signalled when a report is queued
	// draining: stopping with a drain (drain.go); drainNow asks for a
	// heartbeat at once, which tells the leader.
	draining bool
	drainNow chan struct{}
	// resendAfter: an unacknowledged report is sent again after this long.
	resendAfter time.Duration
	// welcomeTimeout bounds the wait for the answer to Hello.
	welcomeTimeout time.Duration
}

// attempt is what the agent knows about one attempt it runs or ran.
type attempt struct {
	ref     *pb.AttemptRef
	job     string
	index   int32
	spec    *pb.RunSpec
	logPath string
	dir     string    // the attempt's directory (the guard's lease and record)
	id      string    // runtime id, "" until started
	knownAt time.Time // when the worker learned of it
	// leaseUntil: the attempt must be dead by then unless renewed.
	leaseUntil  time.Time
	started     time.Time
	finished    bool
	killReason  string
	killMessage string
	killSent    bool
	deadline    *time.Timer
	// done is closed when the attempt has ended (finished is set).
	done chan struct{}
	// killed is closed when a kill is decided (killReason is set).
	killed chan struct{}
	// startAt: not started before (on this worker's clock; zero: at once).
	startAt time.Time
	// killUntil: once killed, the end of the lease cut short.
	killUntil time.Time
	killGrace time.Duration
	// leaseMu serializes writes of the guard's lease file (see writeGuardLease).
	leaseMu sync.Mutex
}

func (a *Agent) newAttempt(ref *pb.AttemptRef, job string, index int32, spec *pb.RunSpec, now, lease time.Time) *attempt {
	return &attempt{
		ref: ref, job: job, index: index, spec: spec,
		logPath: logPath(a.cfg.DataDir, ref.GetNamespace(), ref.GetName()),
		dir:     attemptDir(a.cfg.DataDir, ref.GetNamespace(), ref.GetName()),
		knownAt: now, leaseUntil: lease, done: make(chan struct{}), killed: make(chan struct{}),
	}
}

// markFinished sets finished and closes done; it reports false when the
// attempt had already finished. Call with a.mu held.
func (at *attempt) markFinished() bool {
	if at.finished {
		return false
	}
	at.finished = true
	close(at.done)
	return true
}

type pendingReport struct {
	r        *pb.AttemptReport
	lastSent time.Time
	onAck    func()
}

func key(ns, name string) string { return ns + "/" + name }

// New checks cfg and picks the runtime.
func New(cfg Config) (*Agent, error) {
	if len(cfg.Servers) == 0 {
		return nil, errors.New("worker config: servers: at least one server address is required")
	}
	if cfg.ID == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			return nil, errors.New("worker config: id: empty and the host name is unknown")
		}
		cfg.ID = h
	}
	if cfg.Slots < 1 {
		return nil, fmt.Errorf("worker config: slots: %d, must be at least 1", cfg.Slots)
	}
	if cfg.DataDir == "" {
		return nil, errors.New("worker config: data dir: required (logs and exec state live there)")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("worker config: data dir: %w", err)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger = logger.With("component", "worker", "worker", cfg.ID)
	var rt Runtime
	switch cfg.Runtime {
	case "docker":
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		d, err := NewDockerRuntime(ctx, cfg.ID, logger)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("worker config: runtime docker: %w", err)
		}
		d.Options = cfg.Docker
		rt = d
	case "exec":
		if !cfg.AllowExec {
			return nil, errors.New("worker config: runtime exec: the exec runtime runs plain processes on this host and must be enabled with allow-exec")
		}
		e, err := NewExecRuntime(cfg.ID, cfg.DataDir, logger)
		if err != nil {
			return nil, fmt.Errorf("worker config: runtime exec: %w", err)
		}
		e.User = cfg.ExecUser
		rt = e
	case "noop":
		logger.Warn("runtime: noop: attempts run nothing and succeed at once (load tests only)")
		rt = NewNoopRuntime()
	case "":
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		d, derr := NewDockerRuntime(ctx, cfg.ID, logger)
		cancel()
		switch {
		case derr == nil:
			logger.Info("runtime: docker (a Docker daemon answered)")
			d.Options = cfg.Docker
			rt = d
		case cfg.AllowExec:
			logger.Info("runtime: exec (no Docker daemon answered)", "docker_err", derr)
			e, err := NewExecRuntime(cfg.ID, cfg.DataDir, logger)
			if err != nil {
				return nil, fmt.Errorf("worker config: runtime exec: %w", err)
			}
			e.User = cfg.ExecUser
			rt = e
		default:
			return nil, fmt.Errorf("worker config: runtime: no Docker daemon answers (%v) and the exec runtime is not allowed", derr)
		}
	default:
		return nil, fmt.Errorf("worker config: runtime: %q is not one of docker, exec, noop", cfg.Runtime)
	}
	if l, ok := cfg.Labels[scheduler.LabelRuntime]; ok && l != rt.Name() {
		rt.Close()
		return nil, fmt.Errorf("worker config: labels: %s=%s, but this worker's runtime is %s (the label is set from the runtime)", scheduler.LabelRuntime, l, rt.Name())
	}
	bin := cfg.GuardBinary
	if bin == "" {
		exe, err := os.Executable()
		if err != nil {
			rt.Close()
			return nil, fmt.Errorf("worker config: guard binary: cannot find this executable (name one with --guard-binary): %w", err)
		}
		bin = defaultGuard(exe)
	}
	logger.Info("attempts run under the lease guard", "guard", bin)
	installed, err := guardBinary(bin, cfg.DataDir, rt.Name() == "docker")
	if err != nil {
		rt.Close()
		return nil, fmt.Errorf("worker config: %w", err)
	}
	a := newAgent(cfg, rt, logger)
	a.guardBin = installed
	return a, nil
}

func newAgent(cfg Config, rt Runtime, logger *slog.Logger) *Agent {
	if cfg.InitialLease <= 0 {
		cfg.InitialLease = defaultLeaseTTL
	}
	if cfg.Retention <= 0 {
		cfg.Retention = defaultRetention
	}
	// Workers advertise their runtime: a Job goes to an exec worker only
	// when its nodeSelector selects raftcron.io/runtime: exec.
	labels := make(map[string]string, len(cfg.Labels)+1)
	for k, v := range cfg.Labels {
		labels[k] = v
	}
	labels[scheduler.LabelRuntime] = rt.Name()
	cfg.Labels = labels
	return &Agent{
		cfg: cfg, logger: logger, rt: rt,
		attempts:       map[string]*attempt{},
		nextReportID:   uint64(time.Now().UnixNano()),
		leaseTTL:       defaultLeaseTTL,
		reportsCh:      make(chan struct{}, 1),
		drainNow:       make(chan struct{}, 1),
		resendAfter:    reportResend,
		welcomeTimeout: 10 * time.Second,
	}
}

// Runtime returns the runtime the agent uses ("docker" or "exec").
func (a *Agent) Runtime() string { return a.rt.Name() }

// Run works until ctx is cancelled, then stops cleanly and returns nil.
// On a clean stop the attempts keep running (containers and exec processes
// are left alone), so that a restarted worker re-adopts them; their leases
// are not enforced while the worker is down (see doc.go). With
// Config.DrainTimeout the stop drains the worker first (drain.go).
func (a *Agent) Run(ctx context.Context) error {
	stop := ctx
	if a.cfg.DrainTimeout > 0 {
		// The worker works on while it drains: its own context ends when
		// the drain is over.
		ctx = context.WithoutCancel(ctx)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if a.cfg.DrainTimeout > 0 {
		drained := make(chan struct{})
		defer func() { cancel(); <-drained }()
		go func() {
			defer close(drained)
			select {
			case <-stop.Done():
				a.drain(ctx)
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	a.mu.Lock()
	a.runCtx = ctx
	a.mu.Unlock()
	if err := a.loadClusterID(); err != nil {
		return err
	}
	if err := a.adopt(ctx); err != nil {
		return err
	}
	a.wg.Add(2)
	go func() {
		defer a.wg.Done()
		a.enforceLeases(ctx)
	}()
	go func() {
		defer a.wg.Done()
		a.pruneLoop(ctx)
	}()
	a.connectLoop(ctx)
	cancel()
	a.wg.Wait()
	if err := a.rt.Close(); err != nil {
		a.logger.Warn("close runtime", "err", err)
	}
	if a.isDraining() {
		a.logger.Info("worker stopped after its drain")
		return nil
	}
	a.logger.Info("worker stopped; running attempts are left running for the next start")
	return nil
}

// adopt finds the attempts this worker's runtime still holds after a restart.
func (a *Agent) adopt(ctx context.Context) error {
	insts, err := a.rt.List(ctx)
	if err != nil {
		return fmt.Errorf("list attempts left by an earlier run: %w", err)
	}
	now := time.Now()
	for _, in := range insts {
		at := a.newAttempt(in.Attempt, in.Job, in.Index, nil, now, now.Add(a.cfg.InitialLease))
		at.id, at.started = in.ID, in.StartTime
		// The guard's lease stands until the cluster renews it: a restarted
		// worker never grants more than the cluster did.
		if l, err := guard.ReadLease(guard.LeasePath(at.dir)); err == nil {
			at.leaseUntil = l.Until()
		}
		a.mu.Lock()
		a.attempts[key(in.Attempt.GetNamespace(), in.Attempt.GetName())] = at
		a.mu.Unlock()
		if in.Running {
			a.logger.Info("re-adopting running attempt", "attempt", in.Attempt.GetName(), "namespace", in.Attempt.GetNamespace(), "id", in.ID)
			a.queueReport(&pb.AttemptReport{Attempt: at.ref, State: pb.AttemptRunning, ContainerId: in.ID, StartTime: tsOrNil(in.StartTime)}, nil)
			a.wg.Add(1)
			go a.runAttempt(ctx, at, true)
			continue
		}
		a.logger.Info("attempt ended while the worker was down", "attempt", in.Attempt.GetName(), "namespace", in.Attempt.GetNamespace(), "exit_code", in.Exit.ExitCode, "never_started", in.Exit.NotStarted)
		exit := in.Exit
		exit.OutputTail = readTail(at.logPath, OutputTailSize)
		a.finish(ctx, at, exit)
	}
	return nil
}

func tsOrNil(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// queueReport adds r to the reports retried until acknowledged; onAck runs
// once the ack arrives.
func (a *Agent) queueReport(r *pb.AttemptReport, onAck func()) {
	a.mu.Lock()
	a.nextReportID++
	r.ReportId = a.nextReportID
	a.reports = append(a.reports, &pendingReport{r: r, onAck: onAck})
	a.mu.Unlock()
	select {
	case a.reportsCh <- struct{}{}:
	default:
	}
}

// allowed checks a RunSpec against this worker's config.
func (a *Agent) allowed(spec *pb.RunSpec) error {
	switch {
	case spec == nil:
		return fmt.Errorf("the assignment has no run spec: %w", ErrRejected)
	case spec.GetRefused() != "":
		return fmt.Errorf("%s: %w", spec.GetRefused(), ErrRejected)
	case spec.GetPrivileged() && !a.cfg.AllowPrivileged:
		return fmt.Errorf("privileged containers are not allowed on worker %s (allow-privileged is off): %w", a.cfg.ID, ErrRejected)
	case spec.GetHostPid() && !a.cfg.AllowPrivileged:
		return fmt.Errorf("the host PID namespace is not allowed on worker %s (needs allow-privileged): %w", a.cfg.ID, ErrRejected)
	case spec.GetHostNetwork() && !a.cfg.AllowHostNetwork:
		return fmt.Errorf("host networking is not allowed on worker %s (allow-host-network is off): %w", a.cfg.ID, ErrRejected)
	}
	for _, m := range spec.GetMounts() {
		if err := hostPathAllowed(m.GetHostPath(), a.cfg.AllowHostPaths); err != nil {
			return fmt.Errorf("host mount %q is not allowed on worker %s: %v: %w", m.GetHostPath(), a.cfg.ID, err, ErrRejected)
		}
	}
	return nil
}

// dockerSockets are never mounted into a run, whatever the allowlist says:
// the Docker socket is root on the host.
var dockerSockets = []string{"/var/run/docker.sock", "/run/docker.sock"}

// hostPathAllowed checks a hostPath against the worker's allowlist of path
// prefixes: the path, with every symbolic link resolved, must lie under
// one, and must not be (or hold) the Docker socket.
func hostPathAllowed(p string, prefixes []string) error {
	if !filepath.IsAbs(p) {
		return fmt.Errorf("not an absolute path")
	}
	clean := filepath.Clean(p)
	if real, err := filepath.EvalSymlinks(clean); err == nil {
		clean = real
	}
	for _, sock := range dockerSockets {
		if clean == sock || strings.HasPrefix(sock, clean+"/") || clean == "/" {
			return fmt.Errorf("it is or holds the Docker socket")
		}
	}
	if fi, err := os.Stat(clean); err == nil && fi.Mode()&os.ModeSocket != 0 {
		return fmt.Errorf("it is a socket")
	}
	if len(prefixes) == 0 {
		return fmt.Errorf("this worker allows no host paths (--allow-host-path PREFIX)")
	}
	for _, pre := range prefixes {
		pre = filepath.Clean(pre)
		if clean == pre || strings.HasPrefix(clean, strings.TrimSuffix(pre, "/")+"/") {
			return nil
		}
	}
	return fmt.Errorf("it is not under an allowed prefix (%s)", strings.Join(prefixes, ", "))
}

// assign starts an attempt unless it is already known (duplicates are ignored).
func (a *Agent) assign(ctx context.Context, as *pb.Assignment) {
	ref := as.GetAttempt()
	if ref.GetNamespace() == "" || ref.GetName() == "" {
		a.logger.Warn("ignoring assignment without an attempt name")
		return
	}
	k := key(ref.GetNamespace(), ref.GetName())
	a.mu.Lock()
	if old := a.attempts[k]; old != nil {
		a.mu.Unlock()
		if old.ref.GetIncarnation() != ref.GetIncarnation() {
			a.logger.Warn("assignment for an attempt already held with another incarnation; ignored", "attempt", ref.GetName(), "held", old.ref.GetIncarnation(), "assigned", ref.GetIncarnation())
		}
		return
	}
	now := time.Now()
	lease := now.Add(a.leaseTTL)
	if a.sess != nil {
		lease = a.sess.horizon.Add(a.leaseTTL)
	}
	at := a.newAttempt(ref, as.GetJob(), as.GetIndex(), as.GetRun(), now, lease)
	if d := as.GetStartIn().AsDuration(); d > 0 {
		at.startAt = now.Add(d)
	}
	a.attempts[k] = at
	a.mu.Unlock()
	a.logger.Info("assigned", "attempt", ref.GetName(), "namespace", ref.GetNamespace(), "incarnation", ref.GetIncarnation())
	a.wg.Add(1)
	go a.runAttempt(ctx, at, false)
}

// runAttempt starts (unless adopted) and waits for one attempt, and queues its reports.
func (a *Agent) runAttempt(ctx context.Context, at *attempt, adopted bool) {
	defer a.wg.Done()
	if !adopted {
		if err := a.waitStartAt(ctx, at); ctx.Err() != nil {
			return // stopping: the next start reconciles it
		} else if err != nil {
			a.finishStartError(at, "", err)
			return
		}
	}
	if !adopted && a.isDraining() {
		a.mu.Lock()
		at.killReason, at.killMessage = ReasonWorkerDrained, "its worker "+a.cfg.ID+" is draining (stopping)"
		a.mu.Unlock()
		a.finishStartError(at, "", fmt.Errorf("the worker is draining: %w", ErrNotStarted))
		return
	}
	if !adopted {
		if err := a.allowed(at.spec); err != nil {
			a.logger.Warn("rejected", "attempt", at.ref.GetName(), "err", err)
			a.finishStartError(at, "", err)
			return
		}
		if err := a.prepareDir(at); err != nil {
			a.logger.Warn("could not prepare attempt", "attempt", at.ref.GetName(), "err", err)
			a.finishStartError(at, "", err)
			return
		}
		id, err := a.rt.Start(ctx, &Task{
			WorkerID: a.cfg.ID, Attempt: at.ref, Job: at.job, Index: at.index, Spec: at.spec, LogPath: at.logPath,
			Dir: at.dir, Guard: a.guardBin, MayStart: func() error { return a.mayStart(at) },
		})
		if err != nil {
			if ctx.Err() != nil && !errors.Is(err, ErrNotStarted) {
				return
			}
			a.logger.Warn("could not start attempt", "attempt", at.ref.GetName(), "err", err)
			a.finishStartError(at, id, err)
			return
		}
		now := time.Now()
		a.mu.Lock()
		at.id, at.started = id, now
		kill := at.killReason != ""
		a.mu.Unlock()
		a.logger.Info("started", "attempt", at.ref.GetName(), "id", id)
		a.queueReport(&pb.AttemptReport{Attempt: at.ref, State: pb.AttemptRunning, ContainerId: id, StartTime: timestamppb.New(now)}, nil)
		if kill {
			a.sendKill(ctx, at)
		}
		if dl := at.spec.GetDeadline(); dl != nil {
			d := time.Until(dl.AsTime())
			a.mu.Lock()
			at.deadline = time.AfterFunc(d, func() {
				a.kill(ctx, at, pb.ReasonDeadlineExceeded, "activeDeadlineSeconds exceeded", a.grace(at, nil))
			})
			a.mu.Unlock()
		}
	}
	backoff := minBackoff
	for {
		exit, err := a.rt.Wait(ctx, at.id, at.logPath)
		if err == nil {
			a.finish(ctx, at, exit)
			return
		}
		if ctx.Err() != nil {
			return // stopping: leave it running
		}
		a.logger.Warn("wait for attempt", "attempt", at.ref.GetName(), "err", err)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// waitStartAt holds an attempt decided ahead of its tick until the tick
// (Assignment.start_in): its Job, attempt and this worker were committed
// before the tick, so that it starts on time. A kill in between ends the
// wait with the reason it may not start.
func (a *Agent) waitStartAt(ctx context.Context, at *attempt) error {
	d := time.Until(at.startAt)
	if at.startAt.IsZero() || d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-at.killed:
		return a.mayStart(at)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// guarded says whether the runtime runs attempts under guards (every
// runtime but the noop one, which runs nothing).
func (a *Agent) guarded() bool {
	_, nothing := a.rt.(interface{ runsNothing() })
	return !nothing
}

// prepareDir creates the attempt's directory with the lease its guard
// starts under, and without the record of any earlier incarnation.
func (a *Agent) prepareDir(at *attempt) error {
	if !a.guarded() {
		return nil
	}
	if err := makeAttemptDir(at.dir); err != nil {
		return fmt.Errorf("attempt directory: %w", err)
	}
	if err := os.Remove(filepath.Join(at.dir, guard.RecordFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("attempt directory: %w", err)
	}
	return a.writeGuardLease(at)
}

// writeGuardLease writes the attempt's lease as it stands for its guard:
// until leaseUntil, or, once killed, until the kill's end. Writes are
// serialized so that a renewal never overwrites a kill.
func (a *Agent) writeGuardLease(at *attempt) error {
	if !a.guarded() {
		return nil
	}
	at.leaseMu.Lock()
	defer at.leaseMu.Unlock()
	a.mu.Lock()
	until, grace, reason := at.leaseUntil, a.leaseGrace(at), ""
	if at.killReason != "" {
		until, grace, reason = at.killUntil, at.killGrace, joinMsg(at.killReason, at.killMessage)
	}
	a.mu.Unlock()
	return writeLease(at.dir, until, grace, reason)
}

// mayStart says whether an attempt may still start: not killed, and its
// lease not run out (nor within the kill grace that precedes the end).
func (a *Agent) mayStart(at *attempt) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if at.killReason != "" {
		return fmt.Errorf("killed before it started (%s): %w", joinMsg(at.killReason, at.killMessage), ErrNotStarted)
	}
	if left := time.Until(at.leaseUntil) - a.leaseGrace(at); left <= 0 {
		return fmt.Errorf("its lease ran out before it could start: %w", ErrNotStarted)
	}
	return nil
}

// finishStartError reports an attempt that could not start.
func (a *Agent) finishStartError(at *attempt, id string, err error) {
	reason, state := pb.ReasonError, pb.AttemptFailed
	switch {
	case errors.Is(err, ErrRejected):
		reason = "Rejected"
	case errors.Is(err, ErrNotStarted):
		// It never ran: Lost, which no backoff limit counts.
		state, reason = pb.AttemptLost, a.lostReason(at)
	}
	now := time.Now()
	a.mu.Lock()
	at.markFinished()
	at.id = id
	a.mu.Unlock()
	// The sentinel wrapped last names the kind of failure, which the
	// reason already says.
	msg := strings.TrimSuffix(strings.TrimSuffix(err.Error(), ": "+ErrRejected.Error()), ": "+ErrNotStarted.Error())
	a.queueReport(&pb.AttemptReport{
		Attempt: at.ref, State: state, ExitCode: -1, Reason: reason, Message: msg, ContainerId: id,
		FinishTime: timestamppb.New(now),
	}, func() { a.forget(at) })
}

// lostReason is the reason of a Lost report: the kill's, when one stopped
// the attempt from starting, else WorkerLost.
func (a *Agent) lostReason(at *attempt) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if at.killReason != "" {
		return at.killReason
	}
	return ReasonWorkerLost
}

// finish queues the finished report of an attempt.
func (a *Agent) finish(ctx context.Context, at *attempt, exit ExitStatus) {
	exit = withRecord(at.dir, exit)
	a.mu.Lock()
	at.markFinished()
	if at.deadline != nil {
		at.deadline.Stop()
	}
	killReason, killMessage := at.killReason, at.killMessage
	id := at.id
	a.mu.Unlock()
	r := &pb.AttemptReport{
		Attempt: at.ref, ExitCode: exit.ExitCode, ContainerId: id,
		StartTime: tsOrNil(exit.StartTime), FinishTime: tsOrNil(exit.FinishTime), OutputTail: exit.OutputTail,
		State: pb.AttemptFailed, Message: exit.Message,
	}
	if r.FinishTime == nil {
		r.FinishTime = timestamppb.Now()
	}
	if r.StartTime != nil && r.FinishTime.AsTime().Before(r.StartTime.AsTime()) {
		// Two clocks disagree (no guard record): never a negative run.
		r.FinishTime = r.StartTime
	}
	switch {
	case exit.NotStarted:
		// It never ran: Lost, not counted against the backoff limit.
		r.State, r.Reason, r.ExitCode = pb.AttemptLost, ReasonWorkerLost, -1
		if killReason != "" {
			r.Reason = killReason
		}
		r.Message = joinMsg(killMessage, exit.Message)
		r.StartTime = nil
	case killReason == ReasonWorkerLost || killReason == ReasonWorkerDrained:
		// Killed because the cluster stopped renewing its lease (the
		// leader's verdict for such an attempt is Lost too), or because
		// the worker drained: Lost, run again elsewhere.
		r.State, r.Reason, r.Message = pb.AttemptLost, killReason, joinMsg(killMessage, exit.Message)
	case killReason != "":
		r.Reason, r.Message = killReason, joinMsg(killMessage, exit.Message)
	case exit.OOMKilled:
		r.Reason, r.Message = pb.ReasonOOMKilled, joinMsg("the container ran out of memory and was killed", exit.Message)
	case exit.Unknown:
		// Nothing saw how it ended: Lost, never a counted failure.
		r.State, r.Reason = pb.AttemptLost, ReasonWorkerLost
	case exit.ExitCode != 0:
		r.Reason = pb.ReasonError
		if r.Message == "" {
			r.Message = fmt.Sprintf("exited with code %d", exit.ExitCode)
		}
	default:
		r.State = pb.AttemptSucceeded
	}
	a.logger.Info("finished", "attempt", at.ref.GetName(), "state", r.State, "reason", r.Reason, "exit_code", r.ExitCode)
	a.queueReport(r, func() { a.forget(at) })
}

func joinMsg(a, b string) string {
	if a == "" {
		return b
	}
	if b == "" {
		return a
	}
	return a + ": " + b
}

// forget removes an attempt whose final report was acknowledged, and what the
// runtime keeps of it. The log file stays.
func (a *Agent) forget(at *attempt) {
	a.mu.Lock()
	k := key(at.ref.GetNamespace(), at.ref.GetName())
	if a.attempts[k] == at {
		delete(a.attempts, k)
	}
	id := at.id
	a.mu.Unlock()
	if id == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.rt.Remove(ctx, id); err != nil {
		a.logger.Warn("remove finished attempt", "attempt", at.ref.GetName(), "id", id, "err", err)
	}
}

func (a *Agent) grace(at *attempt, d *durationpb.Duration) time.Duration {
	if d != nil && d.AsDuration() >= 0 && d.IsValid() {
		return d.AsDuration()
	}
	if g := at.spec.GetKillGrace(); g != nil && g.IsValid() {
		return g.AsDuration()
	}
	return defaultGrace
}

// ReasonWorkerLost is the reason of attempts killed because their lease ran
// out, or that ended unobserved: the attempt is reported Lost.
const ReasonWorkerLost = pb.ReasonWorkerLost

// leaseGrace is how long before its lease ends an attempt's kill begins:
// its kill grace, at most half a lease. Call with a.mu held.
func (a *Agent) leaseGrace(at *attempt) time.Duration {
	return min(a.grace(at, nil), a.leaseTTL/2)
}

// kill stops an attempt (the first reason given wins): it cuts the guard's
// lease short to grace from now, and has the runtime kill the attempt
// until it has ended.
func (a *Agent) kill(ctx context.Context, at *attempt, reason, message string, grace time.Duration) {
	a.mu.Lock()
	if at.finished || at.killReason != "" {
		a.mu.Unlock()
		return
	}
	at.killReason, at.killMessage = reason, message
	close(at.killed)
	started := at.id != ""
	at.killUntil, at.killGrace = time.Now().Add(grace), grace
	if at.leaseUntil.Before(at.killUntil) {
		at.killUntil = at.leaseUntil
	}
	a.mu.Unlock()
	a.logger.Info("killing attempt", "attempt", at.ref.GetName(), "reason", reason, "message", message, "grace", grace)
	if err := a.writeGuardLease(at); err != nil && !errors.Is(err, os.ErrNotExist) {
		a.logger.Warn("cut the guard's lease short", "attempt", at.ref.GetName(), "err", err)
	}
	if started {
		a.sendKillGrace(ctx, at, grace)
	}
}

func (a *Agent) sendKill(ctx context.Context, at *attempt) {
	a.sendKillGrace(ctx, at, a.grace(at, nil))
}

// sendKillGrace has the runtime kill a started attempt, again and again
// until it has ended (a failed or unconfirmed kill is retried with SIGKILL).
func (a *Agent) sendKillGrace(ctx context.Context, at *attempt, grace time.Duration) {
	a.mu.Lock()
	if at.killSent || at.finished {
		a.mu.Unlock()
		return
	}
	at.killSent = true
	a.mu.Unlock()
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.killUntilEnded(ctx, at, grace)
	}()
}

func (a *Agent) killUntilEnded(ctx context.Context, at *attempt, grace time.Duration) {
	a.mu.Lock()
	id, started := at.id, at.started
	a.mu.Unlock()
	sigkillAt := time.Now().Add(grace)
	t := time.NewTimer(0)
	defer t.Stop()
	<-t.C
	// pause waits d; false when the attempt ended or the worker stops (the
	// guard then enforces the lease, which the kill cut short).
	pause := func(d time.Duration) bool {
		t.Reset(d)
		select {
		case <-at.done:
			return false
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
	// A guard that has not yet written its record may not yet handle
	// signals (one would kill it before it can record anything); it reads
	// the lease, which the kill cut short, before it starts the workload.
	// A guard writes its record within moments of its start: an attempt
	// without one after guardReady (one from before guards) is not waited for.
	waitUntil := started.Add(guardReady)
	if sigkillAt.Before(waitUntil) {
		waitUntil = sigkillAt
	}
	for recordPath := filepath.Join(at.dir, guard.RecordFile); time.Now().Before(waitUntil); {
		if _, err := os.Stat(recordPath); err == nil {
			break
		}
		if !pause(20 * time.Millisecond) {
			return
		}
	}
	for try := 1; ; try++ {
		g := max(time.Until(sigkillAt), 0)
		err := a.rt.Kill(context.WithoutCancel(ctx), id, g)
		wait := time.Until(sigkillAt) + killConfirm
		if err != nil {
			a.logger.Warn("kill attempt; trying again", "attempt", at.ref.GetName(), "id", id, "try", try, "err", err)
			wait = min(wait, minBackoff*time.Duration(min(try, 10)))
		} else if try > 1 {
			a.logger.Warn("attempt still running after its kill; SIGKILL again", "attempt", at.ref.GetName(), "id", id, "try", try)
		}
		if !pause(max(wait, minBackoff)) {
			return
		}
	}
}

// enforceLeases kills every attempt whose lease runs out, starting the kill
// one grace period early so that the attempt is dead when the lease ends.
func (a *Agent) enforceLeases(ctx context.Context) {
	t := time.NewTicker(leaseCheckPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		var expired []*attempt
		var graces []time.Duration
		a.mu.Lock()
		for _, at := range a.attempts {
			if at.finished || at.killReason != "" {
				continue
			}
			// The kill begins one grace before the lease ends; the
			// SIGKILL is due when it ends.
			if !now.Before(at.leaseUntil.Add(-a.leaseGrace(at))) {
				expired = append(expired, at)
				graces = append(graces, max(at.leaseUntil.Sub(now), 0))
			}
		}
		a.mu.Unlock()
		for i, at := range expired {
			a.logger.Warn("lease ran out: the cluster has not renewed this attempt", "attempt", at.ref.GetName())
			a.kill(ctx, at, ReasonWorkerLost, "lease expired: the worker lost contact with the cluster", graces[i])
		}
	}
}

// passLeases writes the renewed leases of attempts to their guards. A lease
// that cannot be written leaves the guard with the older one: it kills
// early, never late.
func (a *Agent) passLeases(ats []*attempt) {
	if !a.guarded() {
		return
	}
	for _, at := range ats {
		a.mu.Lock()
		stop := at.finished
		a.mu.Unlock()
		if stop {
			continue
		}
		if err := a.writeGuardLease(at); err != nil && !errors.Is(err, os.ErrNotExist) {
			a.logger.Warn("pass the renewed lease to the guard", "attempt", at.ref.GetName(), "err", err)
		}
	}
}

// held lists the attempts to name in Hello and heartbeats: every attempt the
// worker runs or still has an unacknowledged result for.
func (a *Agent) held() []*pb.AttemptRef {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]*pb.AttemptRef, 0, len(a.attempts))
	for _, at := range a.attempts {
		out = append(out, at.ref)
	}
	sort.Slice(out, func(i, j int) bool {
		return key(out[i].GetNamespace(), out[i].GetName()) < key(out[j].GetNamespace(), out[j].GetName())
	})
	return out
}
