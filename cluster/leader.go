package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/raft"
	"github.com/raftcron/raftcron/scheduler"
)

// resync bounds how long the leader loop sleeps when nothing is due, so that
// time-based rules without a precise wake-up (lost workers) are looked at often.
const resync = time.Second

// leadership watches Raft leadership and runs the leader loop while this
// server leads (Nomad's monitorLeadership / establishLeadership pattern).
type leadership struct {
	s   *Server
	log *slog.Logger

	triggers chan triggerRequest

	mu      sync.Mutex
	pending map[string]string // "namespace/attempt" -> why it is still Pending

	// nextPrune: when the leader next applies the event retention.
	nextPrune time.Time
}

// eventPruneEvery is how often the leader applies the event retention.
const eventPruneEvery = time.Minute

type triggerRequest struct {
	namespace, cronJob, jobName string
	withUpstreams               bool
	reply                       chan triggerReply
}

type triggerReply struct {
	job *pb.Job
	err error
}

func newLeadership(s *Server) *leadership {
	return &leadership{
		s:        s,
		log:      s.cfg.Logger.With("component", "leader", "node", s.cfg.NodeID),
		triggers: make(chan triggerRequest),
	}
}

// monitor runs the leader loop while this server leads.
func (l *leadership) monitor(ctx context.Context) {
	watchLeadership(ctx, l.s.node.LeaderNotify(), func(ctx context.Context) {
		l.s.metrics.leaderChanges.Inc()
		l.run(ctx)
	}, l.revoke)
}

// revoke ends what the leader loop started: the dispatch loop, every worker
// session (with a redirect) and the Pending reasons.
func (l *leadership) revoke(wasRunning bool) {
	if wasRunning {
		l.s.sessions.Stop()
	}
	l.s.sessions.StepDown()
	l.setPending(nil)
	if wasRunning {
		l.log.Info("leader loop stopped")
	}
}

// watchLeadership starts run in a fresh goroutine on every true from notify
// and stops it on every false (Nomad's monitorLeadership). A true that
// arrives while a loop runs stops that loop first and starts a new one:
// notify keeps only its latest value, so leadership lost and regained
// quickly can arrive as a single true, and the old loop's barrier, caches
// and sessions belong to the term it started in. Stopping cancels the
// loop's context, waits until run has returned, then calls revoke (also on
// a false when no loop runs: sessions accepted meanwhile still end).
func watchLeadership(ctx context.Context, notify <-chan bool, run func(context.Context), revoke func(wasRunning bool)) {
	var stopLoop func() // cancels the running loop and waits for it; nil when none runs
	stop := func() {
		running := stopLoop != nil
		if running {
			stopLoop()
			stopLoop = nil
		}
		revoke(running)
	}
	defer stop()
	for {
		select {
		case <-ctx.Done():
			return
		case isLeader := <-notify:
			stop()
			if !isLeader {
				continue
			}
			lctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() {
				defer close(done)
				run(lctx)
			}()
			stopLoop = func() { cancel(); <-done }
		}
	}
}

// run is the leader loop: barrier, establish leadership, then schedule until
// ctx is cancelled.
func (l *leadership) run(ctx context.Context) {
	clock := l.s.cfg.Clock
	l.log.Info("became leader; establishing leadership")
	for {
		bctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := l.s.node.Barrier(bctx)
		cancel()
		if err == nil {
			break
		}
		l.log.Warn("barrier failed; retrying", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
	if _, err := l.s.propose(ctx, &pb.Command{Op: &pb.Command_RegisterServer{RegisterServer: &pb.RegisterServer{
		NodeId: l.s.cfg.NodeID, RaftAddress: l.s.cfg.RaftAdvertise, GrpcAddress: l.s.cfg.GRPCAdvertise}}}); err != nil {
		l.log.Warn("register own address", "err", err)
	}
	if err := l.s.recordInitialSettings(ctx); err != nil {
		l.log.Warn("record the initial cluster settings", "err", err)
	}
	st := l.s.node.State()
	st.TrackChanges(true)
	defer st.TrackChanges(false)
	t := newTerm(l.s.cfg, clock.Now())
	l.s.sessions.Start(ctx)

	changes, unsubscribe := l.s.node.FSM().Subscribe()
	defer unsubscribe()
	timer := clock.NewTimer(0)
	defer timer.Stop()
	l.log.Info("leadership established")

	for {
		next, now := l.step(ctx, t)
		if ctx.Err() != nil {
			return
		}
		wait := resync
		if !next.IsZero() {
			if d := next.Sub(now); d < wait {
				wait = d
			}
		}
		if wait < 0 {
			wait = 0
		}
		if !timer.Stop() {
			select {
			case <-timer.C():
			default:
			}
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-changes:
		case <-l.s.sessions.Changed():
		case <-timer.C():
		case req := <-l.triggers:
			job, cmds, err := l.triggerCommands(t.cron, req)
			if err == nil {
				var results []*pb.CommandResult
				results, err = l.s.propose(ctx, cmds...)
				for _, r := range results {
					if err == nil {
						err = r.Err()
					}
				}
			}
			if err != nil && ctx.Err() != nil {
				err = fmt.Errorf("trigger: leadership lost: %w", raft.ErrNotLeader)
			}
			req.reply <- triggerReply{job: job, err: err}
		}
	}
}

// step looks at what changed since the last step, and at the timers that
// came due, proposes what the controllers decided and returns when it next
// needs to run (zero: only on change) and the time it decided with.
func (l *leadership) step(ctx context.Context, t *term) (next, now time.Time) {
	now, jump := t.now(l.s.cfg.Clock.Now())
	if jump != 0 {
		direction := "forward"
		if jump < 0 {
			direction = "backward"
		}
		l.s.metrics.clockJumps.WithLabelValues(direction).Inc()
		l.log.Warn("the wall clock jumped; deciding with the monotonic time while it is ahead", "direction", direction, "by", jump, "deciding_with", now)
	}
	st := l.s.node.State()
	lost := l.s.sessions.LastHeard(t.since)
	cmds, next := t.decide(st, st.TakeChanges(), l.s.sessions.Ready(), lost, l.s.sessions.lostAfter(now), now)
	l.setPending(t.pendingReasons())
	if !now.Before(l.nextPrune) || st.EventCount() > l.s.cfg.Events.Count && l.s.cfg.Events.Count > 0 {
		l.nextPrune = now.Add(eventPruneEvery)
		if c := scheduler.EventsToPrune(st.Events("", "", ""), l.s.cfg.Events, now); c != nil {
			cmds = append(cmds, c)
		}
		if next.IsZero() || next.After(l.nextPrune) {
			next = l.nextPrune
		}
	}
	if err := l.proposeAll(ctx, cmds); err != nil {
		if ctx.Err() == nil {
			l.log.Warn("propose scheduler commands", "commands", len(cmds), "err", err)
			// What was decided may not be committed: decide again from
			// the whole state.
			t.full = true
		}
		return now.Add(100 * time.Millisecond), now
	}
	return next, now
}

// maxEntriesInFlight bounds the entries of one step handed to Raft and not
// yet applied.
const maxEntriesInFlight = 8

// proposeAll commits cmds in entries of at most MaxCommandsPerEntry, keeping
// up to maxEntriesInFlight of them in flight instead of waiting for each
// before proposing the next; Raft applies them in order.
func (l *leadership) proposeAll(ctx context.Context, cmds []*pb.Command) error {
	type inFlight struct {
		cmds []*pb.Command
		wait func(context.Context) ([]*pb.CommandResult, error)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var queue []inFlight
	settle := func() error {
		f := queue[0]
		queue = queue[1:]
		results, err := f.wait(ctx)
		if err != nil {
			return err
		}
		for i, r := range results {
			if err := r.Err(); err != nil && !errors.Is(err, pb.ErrConflict) {
				l.log.Warn("scheduler command rejected", "op", fmt.Sprintf("%T", f.cmds[i].GetOp()), "err", r.GetError())
			}
		}
		return nil
	}
	for len(cmds) > 0 {
		if len(queue) == maxEntriesInFlight {
			if err := settle(); err != nil {
				return err
			}
		}
		n := min(len(cmds), l.s.cfg.MaxCommandsPerEntry)
		wait, err := l.s.proposeAsync(ctx, cmds[:n]...)
		if err != nil {
			return err
		}
		queue = append(queue, inFlight{cmds: cmds[:n], wait: wait})
		cmds = cmds[n:]
	}
	for len(queue) > 0 {
		if err := settle(); err != nil {
			return err
		}
	}
	return nil
}

func (l *leadership) triggerCommands(cron *scheduler.CronController, req triggerRequest) (*pb.Job, []*pb.Command, error) {
	trigger := cron.Trigger
	if req.withUpstreams {
		trigger = cron.TriggerWithUpstreams
	}
	cmds, job, err := trigger(l.s.node.State(), req.namespace, req.cronJob, req.jobName, l.s.cfg.Clock.Now())
	return job, cmds, err
}

// trigger asks the leader loop to run a CronJob now.
func (l *leadership) trigger(ctx context.Context, namespace, cronJob, jobName string, withUpstreams bool) (*pb.Job, error) {
	req := triggerRequest{namespace: namespace, cronJob: cronJob, jobName: jobName, withUpstreams: withUpstreams, reply: make(chan triggerReply, 1)}
	if !l.s.node.IsLeader() {
		return nil, raft.ErrNotLeader
	}
	select {
	case l.triggers <- req:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(5 * time.Second):
		// No leader loop took it: leadership is changing hands.
		return nil, fmt.Errorf("trigger: the leader loop is not running: %w", raft.ErrNotLeader)
	}
	select {
	case r := <-req.reply:
		return r.job, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// setPending publishes why attempts are still Pending (read by the API).
func (l *leadership) setPending(p map[string]string) {
	l.mu.Lock()
	l.pending = p
	l.mu.Unlock()
}

func (l *leadership) pendingReasons() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pending
}

func earliest(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if !t.IsZero() && (out.IsZero() || t.Before(out)) {
			out = t
		}
	}
	return out
}

// proposeFunc hands commands to Raft as one entry and returns a func that
// waits for their results.
type proposeFunc func(ctx context.Context, cmds ...*pb.Command) (wait func(context.Context) ([]*pb.CommandResult, error), err error)

// proposeAsync hands commands to Raft as one entry without waiting; the
// returned wait func returns their results and records their metrics.
func (s *Server) proposeAsync(ctx context.Context, cmds ...*pb.Command) (func(context.Context) ([]*pb.CommandResult, error), error) {
	start := time.Now()
	p, err := s.node.Propose(ctx, cmds...)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) ([]*pb.CommandResult, error) {
		results, err := p.Wait(ctx)
		if err != nil {
			return nil, err
		}
		s.metrics.commitLatency.Observe(time.Since(start).Seconds())
		for i, c := range cmds {
			if i < len(results) {
				s.metrics.observe(c, results[i])
			}
		}
		return results, nil
	}, nil
}

// propose commits commands as one Raft entry and records their metrics.
func (s *Server) propose(ctx context.Context, cmds ...*pb.Command) ([]*pb.CommandResult, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	wait, err := s.proposeAsync(ctx, cmds...)
	if err != nil {
		return nil, err
	}
	return wait(ctx)
}
