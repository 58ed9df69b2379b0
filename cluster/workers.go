package cluster

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/raft"
	"github.com/raftcron/raftcron/scheduler"
)

// WorkerConfig sets the timing of worker sessions: the initial cluster
// settings, which the first leader records in the replicated state; from
// then on the recorded settings are in force (see ClusterSettings).
//
// The leader declares a worker lost after WorkerTTL without a message from
// it, and has its attempts marked Lost (scheduler.LostAttempts) only once a
// full LeaseTTL and the KillAllowance have passed since it last heard from
// the worker (and it steps then, not at a later step). The worker
// kills each attempt when (the time it sent the heartbeat the last renewal
// answered) + LeaseTTL is reached; as it sent that heartbeat before the
// leader received it, and the leader renews only after confirming with a
// quorum that it still leads, the worker's kill always comes first.
type WorkerConfig struct {
	// HeartbeatInterval: how often workers send heartbeats (DefaultHeartbeatInterval).
	HeartbeatInterval time.Duration
	// WorkerTTL: silence after which a worker is lost (DefaultWorkerTTL).
	WorkerTTL time.Duration
	// LeaseTTL: how long a renewal lets attempts run (DefaultLeaseTTL).
	LeaseTTL time.Duration
	// LostWorkerRetention: how long the leader lists a lost worker after it
	// last heard from it (DefaultLostWorkerRetention).
	LostWorkerRetention time.Duration
	// JoinToken, when set, must be presented in Hello.
	JoinToken string
	// VerifyIdentity: a worker's session must come with a worker
	// certificate that names the worker id it claims (set with TLS).
	VerifyIdentity bool
}

// Bounds on what a worker may send.
const (
	// maxOutputTail is how much of a run's output the state keeps (the
	// tail); a longer report is cut to its last maxOutputTail bytes.
	maxOutputTail = 16 << 10
	// maxReportMessage bounds a report's message.
	maxReportMessage = 1 << 10
	// maxSlots bounds the slots a worker may claim.
	maxSlots = 1024
)

func (c WorkerConfig) withDefaults() WorkerConfig {
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if c.WorkerTTL <= 0 {
		c.WorkerTTL = DefaultWorkerTTL
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = DefaultLeaseTTL
	}
	if c.LostWorkerRetention <= 0 {
		c.LostWorkerRetention = DefaultLostWorkerRetention
	}
	return c
}

// workerSessions is the leader's side of worker sessions: it registers
// workers, reconciles what they run with the state, sends assignments and
// kills for committed attempts, renews leases and applies reports.
type workerSessions struct {
	pb.UnimplementedWorkerServiceServer

	node       *raft.Node
	clock      scheduler.Clock
	cfg        WorkerConfig
	leaderAddr func() string
	logger     *slog.Logger
	// propose commits commands; the server sets it to Server.propose so that
	// worker reports move the run metrics. Defaults to node.Apply.
	propose func(ctx context.Context, cmds ...*pb.Command) ([]*pb.CommandResult, error)
	// proposeAsync hands commands to Raft without waiting; the server sets
	// it to Server.proposeAsync. Reports go through it, batched.
	proposeAsync proposeFunc
	reports      *reportBatcher
	// leaderCheck confirms leadership with a quorum before lease renewals.
	leaderCheck *leaderCheck

	mu sync.Mutex
	// leading is set between Start (after the leader's barrier) and StepDown:
	// only then are sessions registered, so a deposed leader never keeps one.
	leading   bool
	conns     map[string]*workerConn
	lost      map[string]*pb.Worker
	lastHeard map[string]time.Time
	nextLogID uint64
	changed   chan struct{}

	loopMu sync.Mutex
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// workerConn is one connected worker.
type workerConn struct {
	id        string
	hello     *pb.Hello
	address   string
	connected time.Time
	stream    pb.WorkerService_SessionServer
	sendMu    sync.Mutex
	done      chan struct{} // closed when the session must end
	closeOnce sync.Once
	redirect  bool // end with a Redirect (leadership lost)
	// reconciled: the hello's attempts have been adopted or killed.
	reconciled bool

	// Guarded by mu (the dispatch lock of this connection).
	mu sync.Mutex
	// sentAssign and sentKill: what this session told the worker of the
	// attempts it holds (attempt key -> the attempt as sent); an entry goes
	// once its attempt is no longer on the worker.
	sentAssign  map[string]*pb.AttemptRef
	sentKill    map[string]bool
	lastMessage time.Time
	logs        map[uint64]chan *pb.LogData
	// draining: the worker's heartbeats say it is stopping with a drain; it
	// is offered no new attempt (Ready leaves it out).
	draining bool
}

func newWorkerSessions(node *raft.Node, clock scheduler.Clock, cfg WorkerConfig, leaderAddr func() string, logger *slog.Logger) *workerSessions {
	if clock == nil {
		clock = scheduler.RealClock{}
	}
	if logger == nil {
		logger = slog.Default()
	}
	s := &workerSessions{
		node: node, clock: clock, cfg: cfg.withDefaults(), leaderAddr: leaderAddr, propose: node.Apply,
		proposeAsync: func(ctx context.Context, cmds ...*pb.Command) (func(context.Context) ([]*pb.CommandResult, error), error) {
			p, err := node.Propose(ctx, cmds...)
			if err != nil {
				return nil, err
			}
			return p.Wait, nil
		},
		leaderCheck: &leaderCheck{verify: node.VerifyLeader},
		logger:      logger.With("component", "workers"),
		conns:       map[string]*workerConn{},
		lost:        map[string]*pb.Worker{},
		lastHeard:   map[string]time.Time{},
		changed:     make(chan struct{}, 1),
	}
	s.reports = newReportBatcher(func(ctx context.Context, cmds ...*pb.Command) (func(context.Context) ([]*pb.CommandResult, error), error) {
		return s.proposeAsync(ctx, cmds...)
	})
	return s
}

func attemptKey(ns, name string) string { return ns + "/" + name }

func (s *workerSessions) signal() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// Changed signals (coalescing) that a worker connected or left.
func (s *workerSessions) Changed() <-chan struct{} { return s.changed }

func (c *workerConn) send(m *pb.ServerMessage) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	return c.stream.Send(m)
}

func (c *workerConn) end(redirect bool) {
	c.closeOnce.Do(func() {
		c.redirect = redirect
		close(c.done)
	})
}

// Session serves one worker's stream.
func (s *workerSessions) Session(stream pb.WorkerService_SessionServer) error {
	if !s.node.IsLeader() {
		return stream.Send(&pb.ServerMessage{Msg: &pb.ServerMessage_Redirect{Redirect: &pb.Redirect{LeaderAddress: s.leaderAddr()}}})
	}
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	hello := first.GetHello()
	if hello == nil {
		return status.Errorf(codes.InvalidArgument, "worker session: the first message must be hello, got %T", first.GetMsg())
	}
	if hello.GetWorkerId() == "" {
		return status.Error(codes.InvalidArgument, "worker session: hello.worker_id is empty")
	}
	if hello.GetSlots() < 0 || hello.GetSlots() > maxSlots {
		return status.Errorf(codes.InvalidArgument, "worker %s: hello.slots %d is out of range 0..%d", hello.GetWorkerId(), hello.GetSlots(), maxSlots)
	}
	if s.cfg.VerifyIdentity {
		id, err := peerIdentity(stream.Context())
		if err != nil {
			return status.Errorf(codes.Unauthenticated, "worker session: %v", err)
		}
		if id.Name != hello.GetWorkerId() {
			s.logger.Warn("worker refused: its certificate names another worker", "claimed", hello.GetWorkerId(), "certificate", id.String())
			return status.Errorf(codes.PermissionDenied, "worker session: hello claims worker %q but the certificate names %q", hello.GetWorkerId(), id.Name)
		}
	}
	if s.cfg.JoinToken != "" && subtle.ConstantTimeCompare([]byte(hello.GetJoinToken()), []byte(s.cfg.JoinToken)) != 1 {
		s.logger.Warn("worker refused: wrong join token", "worker", hello.GetWorkerId())
		return status.Errorf(codes.Unauthenticated, "worker %s: hello.join_token does not match this cluster's join token", hello.GetWorkerId())
	}
	now := s.clock.Now()
	c := &workerConn{
		id: hello.GetWorkerId(), hello: hello, connected: now, stream: stream, done: make(chan struct{}),
		sentAssign: map[string]*pb.AttemptRef{}, sentKill: map[string]bool{}, lastMessage: now,
		logs: map[uint64]chan *pb.LogData{},
	}
	if p, ok := peer.FromContext(stream.Context()); ok {
		c.address = p.Addr.String()
	}
	s.mu.Lock()
	err = s.refuseSecondSession(c)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	// Welcome goes out before the worker is registered, so that no
	// dispatch can reach it first; not before the leader loop's barrier,
	// so the timing it carries is the committed one.
	s.mu.Lock()
	leading := s.leading
	s.mu.Unlock()
	if !leading {
		return c.send(&pb.ServerMessage{Msg: &pb.ServerMessage_Redirect{Redirect: &pb.Redirect{LeaderAddress: s.leaderAddr()}}})
	}
	if err := c.send(&pb.ServerMessage{Msg: &pb.ServerMessage_Welcome{Welcome: &pb.Welcome{
		HeartbeatInterval: durationpb.New(s.heartbeatInterval()), LeaseTtl: durationpb.New(s.leaseTTL()),
		ClusterId: s.clusterSettings().GetClusterId(),
	}}}); err != nil {
		return err
	}
	s.mu.Lock()
	if !s.leading {
		s.mu.Unlock()
		return c.send(&pb.ServerMessage{Msg: &pb.ServerMessage_Redirect{Redirect: &pb.Redirect{LeaderAddress: s.leaderAddr()}}})
	}
	if err := s.refuseSecondSession(c); err != nil {
		s.mu.Unlock()
		return err
	}
	if old := s.conns[c.id]; old != nil {
		s.logger.Warn("worker connected again; closing its older, silent session", "worker", c.id)
		old.end(false)
	}
	s.conns[c.id] = c
	delete(s.lost, c.id)
	s.lastHeard[c.id] = now
	s.mu.Unlock()
	s.signal()
	log := s.logger.With("worker", c.id)
	log.Info("worker connected", "address", c.address, "slots", hello.GetSlots(), "runtime", hello.GetRuntime(), "running", len(hello.GetRunning()))
	defer s.unregister(c, log)

	if err := s.reconcile(stream.Context(), c, log); err != nil {
		return err
	}
	if err := s.dispatch(c); err != nil {
		return err
	}

	msgs := make(chan *pb.WorkerMessage)
	recvErr := make(chan error, 1)
	go func() {
		for {
			m, err := stream.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			select {
			case msgs <- m:
			case <-c.done:
				return
			}
		}
	}()
	watchdog := s.clock.NewTimer(s.workerTTL())
	defer watchdog.Stop()
	for {
		select {
		case <-c.done:
			if c.redirect {
				_ = c.send(&pb.ServerMessage{Msg: &pb.ServerMessage_Redirect{Redirect: &pb.Redirect{LeaderAddress: s.leaderAddr()}}})
			}
			return nil
		case err := <-recvErr:
			return err
		case <-watchdog.C():
			c.mu.Lock()
			silent := s.clock.Now().Sub(c.lastMessage)
			c.mu.Unlock()
			ttl := s.workerTTL()
			if silent >= ttl {
				log.Warn("worker lost: no heartbeat", "silent_for", silent)
				return status.Errorf(codes.DeadlineExceeded, "worker %s sent nothing for %v", c.id, silent)
			}
			watchdog.Reset(ttl - silent)
		case m := <-msgs:
			now := s.clock.Now()
			c.mu.Lock()
			c.lastMessage = now
			c.mu.Unlock()
			s.mu.Lock()
			s.lastHeard[c.id] = now
			s.mu.Unlock()
			if err := s.handle(stream.Context(), c, m, time.Now(), log); err != nil {
				return err
			}
		}
	}
}

// refuseSecondSession refuses a session for a worker id whose current
// session is alive (heard within two heartbeat intervals): a second one is
// not allowed to take the first one's attempts over. Callers hold s.mu.
func (s *workerSessions) refuseSecondSession(c *workerConn) error {
	old := s.conns[c.id]
	if old == nil {
		return nil
	}
	old.mu.Lock()
	silent := s.clock.Now().Sub(old.lastMessage)
	old.mu.Unlock()
	if silent >= 2*s.cfg.HeartbeatInterval {
		return nil
	}
	s.logger.Warn("second session for a worker refused while the first is alive", "worker", c.id, "address", c.address, "first", old.address)
	return status.Errorf(codes.AlreadyExists, "worker %s already has a live session (from %s, heard %v ago); retry once it has ended", c.id, old.address, silent.Round(time.Millisecond))
}

func (s *workerSessions) unregister(c *workerConn, log *slog.Logger) {
	c.end(false)
	s.mu.Lock()
	if s.conns[c.id] == c {
		delete(s.conns, c.id)
		c.mu.Lock()
		last := c.lastMessage
		c.mu.Unlock()
		s.lost[c.id] = &pb.Worker{
			Id: c.id, Labels: c.hello.GetLabels(), Slots: c.hello.GetSlots(), Runtime: c.hello.GetRuntime(),
			LastHeartbeat: timestamppb.New(last), State: pb.WorkerLost, Address: c.address,
			ConnectedTime: timestamppb.New(c.connected), Version: c.hello.GetVersion(),
		}
	}
	s.mu.Unlock()
	c.mu.Lock()
	for id, ch := range c.logs {
		close(ch)
		delete(c.logs, id)
	}
	c.mu.Unlock()
	s.signal()
	log.Info("worker session ended")
}

// reconcile compares what the worker says it runs with the state (promise 6).
func (s *workerSessions) reconcile(ctx context.Context, c *workerConn, log *slog.Logger) error {
	st := s.node.State()
	held := map[string]bool{}
	c.mu.Lock()
	var kills []*pb.AttemptRef
	for _, ref := range c.hello.GetRunning() {
		k := attemptKey(ref.GetNamespace(), ref.GetName())
		held[k] = true
		a := st.Attempt(ref.GetNamespace(), ref.GetName())
		if a != nil && a.GetWorker() == c.id && a.GetIncarnation() == ref.GetIncarnation() && a.OnWorker() {
			c.sentAssign[k] = refOf(a) // adopted
			continue
		}
		if a != nil && a.GetWorker() == c.id && a.GetIncarnation() == ref.GetIncarnation() {
			continue // finished in the state: the worker's pending report will be acked
		}
		kills = append(kills, ref)
	}
	c.mu.Unlock()
	for _, ref := range kills {
		log.Info("worker runs an attempt that is not current; killing it", "attempt", ref.GetName(), "namespace", ref.GetNamespace())
		if err := c.send(&pb.ServerMessage{Msg: &pb.ServerMessage_Kill{Kill: &pb.Kill{Attempt: ref, Reason: pb.ReasonKilled}}}); err != nil {
			return err
		}
	}
	var lost []*pb.Command
	for _, a := range st.AttemptsOnWorker(c.id) {
		if held[attemptKey(a.GetNamespace(), a.GetName())] {
			continue
		}
		if a.GetState() == pb.AttemptRunning || a.GetStartTime() != nil {
			lost = append(lost, &pb.Command{Op: &pb.Command_MarkAttemptLost{MarkAttemptLost: &pb.MarkAttemptLost{
				Namespace: a.GetNamespace(), Name: a.GetName(), Reason: pb.ReasonWorkerLost,
				Message: fmt.Sprintf("worker %s restarted without it", c.id), Now: timestamppb.New(s.clock.Now()),
			}}})
		}
		if a.GetKillRequested() {
			// Killed before the worker ever started it: nothing to kill.
			lost = append(lost, killedBeforeStart(a, s.clock.Now()))
		}
		// Assigned and never started: dispatch (re)sends it.
	}
	if len(lost) > 0 {
		log.Info("worker came back without attempts it ran; marking them lost", "count", len(lost))
		if _, err := s.propose(ctx, lost...); err != nil {
			return fmt.Errorf("mark attempts of worker %s lost: %w", c.id, err)
		}
	}
	c.mu.Lock()
	c.reconciled = true
	c.mu.Unlock()
	return nil
}

// killedBeforeStart ends an attempt that was assigned and then killed before
// its worker was ever sent it (or started it): no container exists to report.
func killedBeforeStart(a *pb.Attempt, now time.Time) *pb.Command {
	return &pb.Command{Op: &pb.Command_MarkAttemptLost{MarkAttemptLost: &pb.MarkAttemptLost{
		Namespace: a.GetNamespace(), Name: a.GetName(), Reason: pb.ReasonKilled,
		Message: fmt.Sprintf("killed (%s) before worker %s started it", a.GetKillReason(), a.GetWorker()), Now: timestamppb.New(now),
	}}}
}

func refOf(a *pb.Attempt) *pb.AttemptRef {
	return &pb.AttemptRef{Namespace: a.GetNamespace(), Name: a.GetName(), Incarnation: a.GetIncarnation()}
}

// dispatch sends what the committed state asks of this worker and it has not
// been told on this session: assignments, then kills.
func (s *workerSessions) dispatch(c *workerConn) error {
	var unstarted []*pb.Command
	err := s.dispatchLocked(c, &unstarted)
	if len(unstarted) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, perr := s.propose(ctx, unstarted...); perr != nil {
			s.logger.Warn("end attempts killed before they started", "worker", c.id, "err", perr)
		}
	}
	return err
}

func (s *workerSessions) dispatchLocked(c *workerConn, unstarted *[]*pb.Command) error {
	st := s.node.State()
	now := s.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	onWorker := st.AttemptsOnWorker(c.id)
	if err := s.forgetEnded(c, st, onWorker); err != nil {
		return err
	}
	for _, a := range onWorker {
		k := attemptKey(a.GetNamespace(), a.GetName())
		if a.GetKillRequested() {
			if c.sentKill[k] {
				continue
			}
			if _, sent := c.sentAssign[k]; !sent && a.GetState() == pb.AttemptAssigned && a.GetStartTime() == nil {
				// Never sent on this session, and the worker did not
				// hold it when it said hello: nothing runs to be killed.
				if c.reconciled {
					*unstarted = append(*unstarted, killedBeforeStart(a, s.clock.Now()))
					c.sentKill[k] = true
				}
				continue
			}
			reason := a.GetKillReason()
			if reason != pb.ReasonDeadlineExceeded {
				reason = pb.ReasonKilled
			}
			if err := c.send(&pb.ServerMessage{Msg: &pb.ServerMessage_Kill{Kill: &pb.Kill{Attempt: refOf(a), Reason: reason}}}); err != nil {
				return err
			}
			c.sentKill[k] = true
			continue
		}
		if sent := c.sentAssign[k]; a.GetState() != pb.AttemptAssigned || sent != nil && sent.GetIncarnation() == a.GetIncarnation() {
			continue
		}
		job := st.Job(a.GetNamespace(), a.GetJob())
		if job == nil {
			continue
		}
		// Secret values are read only here, for the worker that runs the attempt.
		run := scheduler.RunSpecFor(job, a)
		scheduler.ResolveSecretEnv(run, job, st.SecretValue)
		as := &pb.Assignment{Attempt: refOf(a), Job: a.GetJob(), Index: a.GetIndex(), Run: run}
		if at := run.GetStartAt(); at != nil {
			// Decided ahead of its tick: start it then, counted from now
			// (the worker's clock may be off from ours).
			if d := at.AsTime().Sub(now); d > 0 {
				as.StartIn = durationpb.New(min(d, scheduler.MaxDispatchAhead))
			}
		}
		if err := c.send(&pb.ServerMessage{Msg: &pb.ServerMessage_Assign{Assign: as}}); err != nil {
			return err
		}
		c.sentAssign[k] = refOf(a)
	}
	return nil
}

// forgetEnded drops what the session sent of attempts no longer on the
// worker: ended ones (the worker reported them), and deleted ones (their Job
// was deleted, perhaps made again under its name), which the worker is told
// to kill at once: one held for its
// tick (Assignment.start_in) must not start, and a running one need not wait
// for the next lease renewal to end. Call with c.mu held.
func (s *workerSessions) forgetEnded(c *workerConn, st *raft.State, onWorker []*pb.Attempt) error {
	current := make(map[string]bool, len(onWorker))
	for _, a := range onWorker {
		current[attemptKey(a.GetNamespace(), a.GetName())] = true
	}
	for k, ref := range c.sentAssign {
		if current[k] {
			continue
		}
		delete(c.sentAssign, k)
		if a := st.Attempt(ref.GetNamespace(), ref.GetName()); a != nil && a.GetIncarnation() == ref.GetIncarnation() || c.sentKill[k] {
			continue // ended (the worker reported it), or told to stop already
		}
		if err := c.send(&pb.ServerMessage{Msg: &pb.ServerMessage_Kill{Kill: &pb.Kill{Attempt: ref, Reason: pb.ReasonKilled}}}); err != nil {
			return err
		}
	}
	for k := range c.sentKill {
		if !current[k] {
			delete(c.sentKill, k)
		}
	}
	return nil
}

// handle answers one message from a worker, received at (a monotonic
// reading of the local clock).
func (s *workerSessions) handle(ctx context.Context, c *workerConn, m *pb.WorkerMessage, received time.Time, log *slog.Logger) error {
	switch msg := m.GetMsg().(type) {
	case *pb.WorkerMessage_Heartbeat:
		// Only the leader vouches for running attempts, and only for a
		// heartbeat it received while it led: a deposed leader that
		// still believes it leads (it was paused, or cut off) must not
		// renew from heartbeats queued meanwhile. A quorum confirms the
		// leadership after the heartbeat arrived, before the renewal.
		if err := s.renewable(ctx, c, received); err != nil {
			log.Info("not renewing leases: leadership not confirmed", "err", err)
			c.end(true)
			return nil
		}
		if msg.Heartbeat.GetDraining() {
			c.mu.Lock()
			first := !c.draining
			c.draining = true
			c.mu.Unlock()
			if first {
				log.Info("worker draining: no new attempts for it")
			}
		}
		var refs []*pb.AttemptRef
		for _, a := range s.node.State().AttemptsOnWorker(c.id) {
			refs = append(refs, refOf(a))
		}
		return c.send(&pb.ServerMessage{Msg: &pb.ServerMessage_Lease{Lease: &pb.LeaseRenewal{
			Seq: msg.Heartbeat.GetSeq(), LeaseTtl: durationpb.New(s.leaseTTL()), Attempts: refs,
		}}})
	case *pb.WorkerMessage_Report:
		r := msg.Report
		tail, message := r.GetOutputTail(), r.GetMessage()
		// Cut at byte offsets; ToValidUTF8 drops a rune split by the cut.
		if len(tail) > maxOutputTail {
			tail = strings.ToValidUTF8(tail[len(tail)-maxOutputTail:], "")
		}
		if len(message) > maxReportMessage {
			message = strings.ToValidUTF8(message[:maxReportMessage], "")
		}
		cmd := &pb.Command{Op: &pb.Command_ReportAttempt{ReportAttempt: &pb.ReportAttempt{
			Namespace: r.GetAttempt().GetNamespace(), Name: r.GetAttempt().GetName(), Worker: c.id,
			Incarnation: r.GetAttempt().GetIncarnation(), State: r.GetState(), ExitCode: r.GetExitCode(),
			Reason: r.GetReason(), Message: message, ContainerId: r.GetContainerId(),
			StartTime: r.GetStartTime(), FinishTime: r.GetFinishTime(), OutputTail: tail,
		}}}
		// The report joins others in one Raft entry; the ack goes out once
		// it is applied, while this session reads on.
		name, state, id := r.GetAttempt().GetName(), r.GetState(), r.GetReportId()
		err := s.reports.submit(ctx, c.done, cmd, func(res *pb.CommandResult, err error) {
			switch {
			case err != nil && notLeader(err):
				c.end(true)
				return
			case err != nil:
				log.Warn("apply report; the worker will retry", "attempt", name, "err", err)
				return
			case res.GetError() != "":
				// Conflict: stale or duplicate. Other domain errors (the
				// attempt was deleted): retrying cannot help either.
				log.Info("report not applied", "attempt", name, "state", state, "code", res.GetCode(), "error", res.GetError())
			}
			if err := c.send(&pb.ServerMessage{Msg: &pb.ServerMessage_Ack{Ack: &pb.ReportAck{ReportId: id}}}); err != nil {
				c.end(false)
			}
		})
		if err != nil && !errors.Is(err, errReportsStopped) {
			return err
		}
		return nil
	case *pb.WorkerMessage_LogData:
		c.mu.Lock()
		ch := c.logs[msg.LogData.GetRequestId()]
		c.mu.Unlock()
		if ch != nil {
			// Never block the session on a log reader: a stalled reader
			// would stop lease renewals. A reader that falls 16 chunks
			// behind loses its request.
			select {
			case ch <- msg.LogData:
			default:
				c.mu.Lock()
				if c.logs[msg.LogData.GetRequestId()] == ch {
					delete(c.logs, msg.LogData.GetRequestId())
					close(ch)
				}
				c.mu.Unlock()
				log.Warn("log reader too slow; dropped its request", "request", msg.LogData.GetRequestId())
			}
		}
		return nil
	case *pb.WorkerMessage_Hello:
		return status.Error(codes.InvalidArgument, "worker session: hello sent twice")
	default:
		return status.Errorf(codes.InvalidArgument, "worker session: unknown message %T", m.GetMsg())
	}
}

// Start runs the dispatch loop while this server leads; Stop ends it.
func (s *workerSessions) Start(ctx context.Context) {
	s.loopMu.Lock()
	defer s.loopMu.Unlock()
	if s.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	s.cancel = cancel
	s.mu.Lock()
	s.leading = true
	s.mu.Unlock()
	changes, unsubscribe := s.node.FSM().Subscribe()
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		s.reports.run(ctx)
	}()
	go func() {
		defer s.wg.Done()
		defer unsubscribe()
		for {
			s.mu.Lock()
			conns := make([]*workerConn, 0, len(s.conns))
			for _, c := range s.conns {
				conns = append(conns, c)
			}
			s.mu.Unlock()
			for _, c := range conns {
				if err := s.dispatch(c); err != nil {
					s.logger.Warn("send to worker", "worker", c.id, "err", err)
					c.end(false)
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-changes:
			}
		}
	}()
}

// Stop cancels the dispatch loop and waits for it.
func (s *workerSessions) Stop() {
	s.loopMu.Lock()
	cancel := s.cancel
	s.cancel = nil
	s.loopMu.Unlock()
	if cancel != nil {
		cancel()
	}
	s.wg.Wait()
}

// StepDown closes every session with a Redirect to the new leader.
func (s *workerSessions) StepDown() {
	s.mu.Lock()
	s.leading = false
	s.mu.Unlock()
	s.endAll()
}

// endAll closes every session; workers reconnect (to whoever leads) and are
// reconciled again. The snapshot restore uses it while staying leader.
func (s *workerSessions) endAll() {
	s.mu.Lock()
	conns := make([]*workerConn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.end(true)
	}
}

// Ready returns the connected workers that take attempts (not draining).
func (s *workerSessions) Ready() []scheduler.WorkerInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]scheduler.WorkerInfo, 0, len(s.conns))
	for _, c := range s.conns {
		if c.isDraining() {
			continue
		}
		out = append(out, scheduler.WorkerInfo{ID: c.id, Labels: c.hello.GetLabels(), Slots: int(c.hello.GetSlots()), Runtime: c.hello.GetRuntime()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// LastHeard returns, for every worker that holds unfinished attempts in the
// state and is not connected, when this leader last heard from it
// (leaderSince if not since it became leader). It forgets when it heard from
// workers that are gone and hold nothing: they are never asked about again
// until they connect, which records a fresh time.
func (s *workerSessions) LastHeard(leaderSince time.Time) map[string]time.Time {
	out := map[string]time.Time{}
	holders := s.node.State().WorkersWithAttempts()
	s.mu.Lock()
	defer s.mu.Unlock()
	holds := make(map[string]bool, len(holders))
	for _, w := range holders {
		holds[w] = true
	}
	for w := range s.lastHeard {
		if !holds[w] && s.conns[w] == nil {
			delete(s.lastHeard, w)
		}
	}
	for _, w := range holders {
		if w == "" || s.conns[w] != nil {
			continue
		}
		t := leaderSince
		if h, ok := s.lastHeard[w]; ok && h.After(t) {
			t = h
		}
		out[w] = t
	}
	return out
}

// workerCounts are the connected workers and their slots, for metrics.
type workerCounts struct{ connected, draining, slots, used int }

func (s *workerSessions) counts() workerCounts {
	st := s.node.State()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out workerCounts
	for _, c := range s.conns {
		out.connected++
		out.used += len(st.AttemptsOnWorker(c.id))
		if c.isDraining() {
			out.draining++
		} else {
			out.slots += int(c.hello.GetSlots())
		}
	}
	return out
}

func (c *workerConn) isDraining() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.draining
}

// List returns connected workers (Ready or Draining) and lost ones (Lost) heard from
// within the lost worker retention; state, when set, keeps only one of them.
func (s *workerSessions) List(state string) []*pb.Worker {
	st := s.node.State()
	now := s.clock.Now()
	keep := s.lostWorkerRetention()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*pb.Worker
	for id, w := range s.lost {
		if now.Sub(w.GetLastHeartbeat().AsTime()) > keep {
			s.logger.Info("lost worker forgotten", "worker", id, "last_heard", w.GetLastHeartbeat().AsTime(), "retention", keep)
			delete(s.lost, id)
			continue
		}
		if state == "" || state == pb.WorkerLost {
			out = append(out, w)
		}
	}
	for _, c := range s.conns {
		c.mu.Lock()
		last, connState := c.lastMessage, pb.WorkerReady
		if c.draining {
			connState = pb.WorkerDraining
		}
		c.mu.Unlock()
		if state != "" && state != connState {
			continue
		}
		out = append(out, &pb.Worker{
			Id: c.id, Labels: c.hello.GetLabels(), Slots: c.hello.GetSlots(), Used: int32(len(st.AttemptsOnWorker(c.id))),
			Runtime: c.hello.GetRuntime(), LastHeartbeat: timestamppb.New(last), State: connState, Address: c.address,
			ConnectedTime: timestamppb.New(c.connected), Version: c.hello.GetVersion(),
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetId() < out[j].GetId() })
	return out
}

// forgetLost removes a lost worker from the list. Its attempts are not
// touched: they are in the state, and are marked Lost once their leases run
// out, as for any worker that went away. A connected worker is refused.
func (s *workerSessions) forgetLost(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.conns[id]; c != nil {
		return fmt.Errorf("worker %q is connected (Ready, from %s): stop it first; once its session ends it is Lost and can be deleted: %w",
			id, c.address, pb.ErrConflict)
	}
	if s.lost[id] == nil {
		return fmt.Errorf("worker %q not found among lost workers: %w", id, pb.ErrNotFound)
	}
	delete(s.lost, id)
	s.logger.Info("lost worker deleted", "worker", id)
	return nil
}

// StreamLogs asks the attempt's worker for its output and passes each chunk,
// with the marks timing its lines, to send until the end (follow: until the
// attempt finishes).
func (s *workerSessions) StreamLogs(ctx context.Context, a *pb.Attempt, follow bool, send func([]byte, []*pb.LineMark) error) error {
	s.mu.Lock()
	c := s.conns[a.GetWorker()]
	s.nextLogID++
	id := s.nextLogID
	s.mu.Unlock()
	if a.GetWorker() == "" {
		return fmt.Errorf("attempt %s/%s has not been placed on a worker", a.GetNamespace(), a.GetName())
	}
	if c == nil {
		return fmt.Errorf("worker %s of attempt %s/%s is not connected", a.GetWorker(), a.GetNamespace(), a.GetName())
	}
	ch := make(chan *pb.LogData, 16)
	c.mu.Lock()
	select {
	case <-c.done:
		c.mu.Unlock()
		return fmt.Errorf("worker %s disconnected", c.id)
	default:
	}
	c.logs[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		if c.logs[id] == ch {
			delete(c.logs, id)
		}
		c.mu.Unlock()
	}()
	if err := c.send(&pb.ServerMessage{Msg: &pb.ServerMessage_LogRequest{LogRequest: &pb.LogRequest{RequestId: id, Attempt: refOf(a), Follow: follow}}}); err != nil {
		return fmt.Errorf("ask worker %s for output: %w", c.id, err)
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case d, ok := <-ch:
			if !ok {
				return fmt.Errorf("output stream from worker %s ended early (worker disconnected, or this reader fell behind)", c.id)
			}
			if len(d.GetData()) > 0 {
				if err := send(d.GetData(), d.GetMarks()); err != nil {
					return err
				}
			}
			if d.GetError() != "" {
				return errors.New(d.GetError())
			}
			if d.GetEof() {
				return nil
			}
		}
	}
}
