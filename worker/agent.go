package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
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
	Runtime                                                       string
	AllowExec, AllowPrivileged, AllowHostNetwork, AllowHostMounts bool
	JoinToken                                                     string
	Logger                                                        *slog.Logger
	// DialOptions are added to the gRPC dial (TLS credentials); without
	// transport credentials among them the connection is plaintext.
	DialOptions []grpc.DialOption
	// InitialLease is how long attempts found running at start-up may run
	// before the cluster renews them; default 10s.
	InitialLease time.Duration
}

const (
	defaultGrace     = 10 * time.Second
	defaultLeaseTTL  = 10 * time.Second
	minBackoff       = 100 * time.Millisecond
	maxBackoff       = 2 * time.Second
	reportResend     = 5 * time.Second
	leaseCheckPeriod = 50 * time.Millisecond
)

// Agent is a running worker.
type Agent struct {
	cfg    Config
	logger *slog.Logger
	rt     Runtime

	mu           sync.Mutex
	attempts     map[string]*attempt // by namespace/name
	reports      []*pendingReport
	nextReportID uint64
	sess         *session // the welcomed session, nil when disconnected
	leaseTTL     time.Duration
	runCtx       context.Context
	wg           sync.WaitGroup
	reportsCh    chan struct{} // signalled when a report is queued
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
		rt = d
	case "exec":
		if !cfg.AllowExec {
			return nil, errors.New("worker config: runtime exec: the exec runtime runs plain processes on this host and must be enabled with allow-exec")
		}
		e, err := NewExecRuntime(cfg.ID, cfg.DataDir, logger)
		if err != nil {
			return nil, fmt.Errorf("worker config: runtime exec: %w", err)
		}
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
			rt = d
		case cfg.AllowExec:
			logger.Info("runtime: exec (no Docker daemon answered)", "docker_err", derr)
			e, err := NewExecRuntime(cfg.ID, cfg.DataDir, logger)
			if err != nil {
				return nil, fmt.Errorf("worker config: runtime exec: %w", err)
			}
			rt = e
		default:
			return nil, fmt.Errorf("worker config: runtime: no Docker daemon answers (%v) and the exec runtime is not allowed", derr)
		}
	default:
		return nil, fmt.Errorf("worker config: runtime: %q is not one of docker, exec, noop", cfg.Runtime)
	}
	return newAgent(cfg, rt, logger), nil
}

func newAgent(cfg Config, rt Runtime, logger *slog.Logger) *Agent {
	if cfg.InitialLease <= 0 {
		cfg.InitialLease = defaultLeaseTTL
	}
	return &Agent{
		cfg: cfg, logger: logger, rt: rt,
		attempts:       map[string]*attempt{},
		nextReportID:   uint64(time.Now().UnixNano()),
		leaseTTL:       defaultLeaseTTL,
		reportsCh:      make(chan struct{}, 1),
		resendAfter:    reportResend,
		welcomeTimeout: 10 * time.Second,
	}
}

// Runtime returns the runtime the agent uses ("docker" or "exec").
func (a *Agent) Runtime() string { return a.rt.Name() }

// Run works until ctx is cancelled, then stops cleanly and returns nil.
// On a clean stop the attempts keep running (containers and exec processes
// are left alone), so that a restarted worker re-adopts them; their leases
// are not enforced while the worker is down (see doc.go).
func (a *Agent) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a.mu.Lock()
	a.runCtx = ctx
	a.mu.Unlock()
	if err := a.adopt(ctx); err != nil {
		return err
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.enforceLeases(ctx)
	}()
	a.connectLoop(ctx)
	cancel()
	a.wg.Wait()
	if err := a.rt.Close(); err != nil {
		a.logger.Warn("close runtime", "err", err)
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
		at := &attempt{
			ref: in.Attempt, job: in.Job, index: in.Index, id: in.ID,
			logPath: logPath(a.cfg.DataDir, in.Attempt.GetNamespace(), in.Attempt.GetName()),
			knownAt: now, leaseUntil: now.Add(a.cfg.InitialLease), started: in.StartTime,
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
		a.logger.Info("attempt finished while the worker was down", "attempt", in.Attempt.GetName(), "namespace", in.Attempt.GetNamespace(), "exit_code", in.Exit.ExitCode)
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
	case spec.GetPrivileged() && !a.cfg.AllowPrivileged:
		return fmt.Errorf("privileged containers are not allowed on worker %s (allow-privileged is off): %w", a.cfg.ID, ErrRejected)
	case spec.GetHostPid() && !a.cfg.AllowPrivileged:
		return fmt.Errorf("the host PID namespace is not allowed on worker %s (needs allow-privileged): %w", a.cfg.ID, ErrRejected)
	case spec.GetHostNetwork() && !a.cfg.AllowHostNetwork:
		return fmt.Errorf("host networking is not allowed on worker %s (allow-host-network is off): %w", a.cfg.ID, ErrRejected)
	case len(spec.GetMounts()) > 0 && !a.cfg.AllowHostMounts:
		return fmt.Errorf("host mount %q is not allowed on worker %s (allow-host-mounts is off): %w", spec.GetMounts()[0].GetHostPath(), a.cfg.ID, ErrRejected)
	}
	return nil
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
	at := &attempt{
		ref: ref, job: as.GetJob(), index: as.GetIndex(), spec: as.GetRun(),
		logPath: logPath(a.cfg.DataDir, ref.GetNamespace(), ref.GetName()),
		knownAt: now, leaseUntil: lease,
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
		if err := a.allowed(at.spec); err != nil {
			a.logger.Warn("rejected", "attempt", at.ref.GetName(), "err", err)
			a.finishStartError(at, "", err)
			return
		}
		id, err := a.rt.Start(ctx, &Task{WorkerID: a.cfg.ID, Attempt: at.ref, Job: at.job, Index: at.index, Spec: at.spec, LogPath: at.logPath})
		if err != nil {
			if ctx.Err() != nil {
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
				a.kill(ctx, at, "DeadlineExceeded", "activeDeadlineSeconds exceeded", a.grace(at, nil))
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

// finishStartError reports an attempt that could not start.
func (a *Agent) finishStartError(at *attempt, id string, err error) {
	reason := "Error"
	if errors.Is(err, ErrRejected) {
		reason = "Rejected"
	}
	now := time.Now()
	a.mu.Lock()
	at.finished = true
	at.id = id
	a.mu.Unlock()
	a.queueReport(&pb.AttemptReport{
		Attempt: at.ref, State: pb.AttemptFailed, ExitCode: -1, Reason: reason, Message: err.Error(), ContainerId: id,
		FinishTime: timestamppb.New(now),
	}, func() { a.forget(at) })
}

// finish queues the finished report of an attempt.
func (a *Agent) finish(ctx context.Context, at *attempt, exit ExitStatus) {
	a.mu.Lock()
	at.finished = true
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
	switch {
	case killReason != "":
		r.Reason, r.Message = killReason, joinMsg(killMessage, exit.Message)
	case exit.OOMKilled:
		r.Reason, r.Message = "OOMKilled", joinMsg("the container ran out of memory and was killed", exit.Message)
	case exit.Unknown:
		r.Reason = "WorkerLost"
	case exit.ExitCode != 0:
		r.Reason = "Error"
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

// kill stops an attempt (the first reason given wins).
func (a *Agent) kill(ctx context.Context, at *attempt, reason, message string, grace time.Duration) {
	a.mu.Lock()
	if at.finished || at.killReason != "" {
		a.mu.Unlock()
		return
	}
	at.killReason, at.killMessage = reason, message
	started := at.id != ""
	a.mu.Unlock()
	a.logger.Info("killing attempt", "attempt", at.ref.GetName(), "reason", reason, "message", message, "grace", grace)
	if started {
		a.sendKillGrace(ctx, at, grace)
	}
}

func (a *Agent) sendKill(ctx context.Context, at *attempt) {
	a.sendKillGrace(ctx, at, a.grace(at, nil))
}

func (a *Agent) sendKillGrace(ctx context.Context, at *attempt, grace time.Duration) {
	a.mu.Lock()
	if at.killSent {
		a.mu.Unlock()
		return
	}
	at.killSent = true
	id := at.id
	a.mu.Unlock()
	if err := a.rt.Kill(context.WithoutCancel(ctx), id, grace); err != nil {
		a.logger.Warn("kill attempt", "attempt", at.ref.GetName(), "id", id, "err", err)
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
			g := a.grace(at, nil)
			if half := a.leaseTTL / 2; g > half {
				g = half
			}
			if !now.Before(at.leaseUntil.Add(-g)) {
				expired = append(expired, at)
				graces = append(graces, g)
			}
		}
		a.mu.Unlock()
		for i, at := range expired {
			a.logger.Warn("lease ran out: the cluster has not renewed this attempt", "attempt", at.ref.GetName())
			a.kill(ctx, at, "Killed", "lease expired: the worker lost contact with the cluster", graces[i])
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
