package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// session is one open stream to the leader.
type session struct {
	addr   string
	stream pb.WorkerService_SessionClient
	cancel context.CancelFunc
	sendMu sync.Mutex

	// Guarded by Agent.mu.
	heartbeatSent map[uint64]time.Time
	nextSeq       uint64
	// horizon is the latest send time of a message the leader is known to
	// have received (Hello, or a heartbeat it answered): leases count from it.
	horizon time.Time
}

func (s *session) send(m *pb.WorkerMessage) error {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	return s.stream.Send(m)
}

// connectLoop keeps a session with the leader until ctx is done.
func (a *Agent) connectLoop(ctx context.Context) {
	backoff := minBackoff
	next := 0
	redirectTo := ""
	hops := 0
	for ctx.Err() == nil {
		addr := redirectTo
		if addr == "" {
			addr = a.cfg.Servers[next%len(a.cfg.Servers)]
			next++
		}
		redirectTo = ""
		welcomed, leader, err := a.session(ctx, addr)
		if ctx.Err() != nil {
			return
		}
		if welcomed {
			backoff, hops = minBackoff, 0
		}
		if leader != "" && hops < 3 {
			a.logger.Info("redirected to the leader", "from", addr, "leader", leader)
			redirectTo = leader
			hops++
			continue
		}
		if err != nil {
			a.logger.Warn("session with server ended", "server", addr, "err", err)
		}
		hops = 0
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

// session runs one session with addr. It reports whether the server
// welcomed the worker, or the leader address it redirected to.
func (a *Agent) session(ctx context.Context, addr string) (welcomed bool, redirect string, err error) {
	opts := append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, a.cfg.DialOptions...)
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		return false, "", fmt.Errorf("dial %s: %w", addr, err)
	}
	defer conn.Close()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := pb.NewWorkerServiceClient(conn).Session(sctx)
	if err != nil {
		return false, "", fmt.Errorf("open session with %s: %w", addr, err)
	}
	s := &session{addr: addr, stream: stream, cancel: cancel, heartbeatSent: map[uint64]time.Time{}}
	hello := &pb.Hello{
		WorkerId: a.cfg.ID, Labels: a.cfg.Labels, Slots: int32(a.cfg.Slots), Runtime: a.rt.Name(),
		Running: a.held(), JoinToken: a.cfg.JoinToken, Version: Version,
	}
	helloAt := time.Now()
	if err := s.send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Hello{Hello: hello}}); err != nil {
		return false, "", fmt.Errorf("send hello to %s: %w", addr, err)
	}
	welcomeTimer := time.AfterFunc(a.welcomeTimeout, cancel)
	first, err := stream.Recv()
	welcomeTimer.Stop()
	if err != nil {
		return false, "", fmt.Errorf("wait for welcome from %s: %w", addr, err)
	}
	if r := first.GetRedirect(); r != nil {
		if r.GetLeaderAddress() == "" {
			return false, "", fmt.Errorf("server %s is not the leader and knows no leader yet", addr)
		}
		return false, r.GetLeaderAddress(), nil
	}
	w := first.GetWelcome()
	if w == nil {
		return false, "", fmt.Errorf("server %s answered hello with %T, want welcome or redirect", addr, first.GetMsg())
	}
	if err := a.joinCluster(w.GetClusterId()); err != nil {
		return false, "", err
	}
	interval := w.GetHeartbeatInterval().AsDuration()
	if interval <= 0 {
		interval = time.Second
	}
	a.mu.Lock()
	if ttl := w.GetLeaseTtl().AsDuration(); ttl > 0 {
		a.leaseTTL = ttl
	}
	s.horizon = helloAt
	a.sess = s
	a.mu.Unlock()
	a.logger.Info("connected to the leader", "server", addr, "heartbeat", interval)
	defer func() {
		a.mu.Lock()
		if a.sess == s {
			a.sess = nil
		}
		a.mu.Unlock()
	}()

	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	lastRecv := make(chan struct{}, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.heartbeatLoop(sctx, s, interval, lastRecv)
	}()
	for {
		m, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return true, "", fmt.Errorf("leader %s closed the session", addr)
			}
			return true, "", fmt.Errorf("receive from %s: %w", addr, err)
		}
		select {
		case lastRecv <- struct{}{}:
		default:
		}
		switch msg := m.GetMsg().(type) {
		case *pb.ServerMessage_Redirect:
			return true, msg.Redirect.GetLeaderAddress(), nil
		case *pb.ServerMessage_Assign:
			a.assign(ctx, msg.Assign)
		case *pb.ServerMessage_Kill:
			a.handleKill(ctx, msg.Kill)
		case *pb.ServerMessage_Lease:
			a.renew(ctx, s, msg.Lease)
		case *pb.ServerMessage_Ack:
			a.ack(msg.Ack.GetReportId())
		case *pb.ServerMessage_LogRequest:
			wg.Add(1)
			go func() {
				defer wg.Done()
				a.serveLogs(sctx, s, msg.LogRequest)
			}()
		case *pb.ServerMessage_Welcome:
		default:
			a.logger.Warn("unknown message from the leader", "type", fmt.Sprintf("%T", m.GetMsg()))
		}
	}
}

// heartbeatLoop sends heartbeats, (re)sends pending reports, and ends the
// session when the leader has been silent for a whole lease: a leader that
// answers no heartbeat for that long is gone or cut off, and the worker looks
// for the current one.
func (a *Agent) heartbeatLoop(ctx context.Context, s *session, interval time.Duration, recv <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	lastRecv := time.Now()
	a.flushReports(s, true)
	for {
		select {
		case <-ctx.Done():
			return
		case <-recv:
			lastRecv = time.Now()
		case <-a.reportsCh:
			a.flushReports(s, false)
		case <-a.drainNow:
			if !a.heartbeat(s) {
				return
			}
		case <-t.C:
			a.mu.Lock()
			silence := max(a.leaseTTL, 3*interval)
			a.mu.Unlock()
			if time.Since(lastRecv) > silence {
				a.logger.Warn("the leader has been silent for a whole lease; reconnecting", "server", s.addr, "silence", silence)
				s.cancel()
				return
			}
			if !a.heartbeat(s) {
				return
			}
			a.flushReports(s, false)
		}
	}
}

// heartbeat sends one heartbeat (saying whether the worker drains); false
// when the session failed.
func (a *Agent) heartbeat(s *session) bool {
	a.mu.Lock()
	s.nextSeq++
	seq := s.nextSeq
	s.heartbeatSent[seq] = time.Now()
	draining := a.draining
	a.mu.Unlock()
	hb := &pb.Heartbeat{Seq: seq, Running: a.held(), Draining: draining}
	if err := s.send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Heartbeat{Heartbeat: hb}}); err != nil {
		s.cancel()
		return false
	}
	return true
}

// flushReports sends every pending report not sent in the last few seconds
// on this session (all of them when all is set).
func (a *Agent) flushReports(s *session, all bool) {
	now := time.Now()
	var out []*pb.AttemptReport
	a.mu.Lock()
	for _, p := range a.reports {
		if all || p.lastSent.IsZero() || now.Sub(p.lastSent) >= a.resendAfter {
			p.lastSent = now
			out = append(out, p.r)
		}
	}
	a.mu.Unlock()
	for _, r := range out {
		if err := s.send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Report{Report: r}}); err != nil {
			s.cancel()
			return
		}
	}
}

func (a *Agent) ack(id uint64) {
	a.mu.Lock()
	var done *pendingReport
	for i, p := range a.reports {
		if p.r.GetReportId() == id {
			done = p
			a.reports = append(a.reports[:i], a.reports[i+1:]...)
			break
		}
	}
	a.mu.Unlock()
	if done != nil && done.onAck != nil {
		done.onAck()
	}
}

// renew applies a LeaseRenewal: listed attempts run until the send time of
// heartbeat seq plus lease_ttl; running attempts known before that heartbeat
// was sent and not listed are no longer the cluster's, and are killed.
func (a *Agent) renew(ctx context.Context, s *session, l *pb.LeaseRenewal) {
	ttl := l.GetLeaseTtl().AsDuration()
	a.mu.Lock()
	sentAt, ok := s.heartbeatSent[l.GetSeq()]
	if !ok {
		a.mu.Unlock()
		a.logger.Warn("lease renewal for an unknown heartbeat", "seq", l.GetSeq())
		return
	}
	for seq := range s.heartbeatSent {
		if seq <= l.GetSeq() {
			delete(s.heartbeatSent, seq)
		}
	}
	if ttl <= 0 {
		ttl = a.leaseTTL
	}
	a.leaseTTL = ttl
	if sentAt.After(s.horizon) {
		s.horizon = sentAt
	}
	listed := map[string]uint64{}
	for _, r := range l.GetAttempts() {
		listed[key(r.GetNamespace(), r.GetName())] = r.GetIncarnation()
	}
	until := sentAt.Add(ttl)
	var drop, renewed []*attempt
	for k, at := range a.attempts {
		if at.finished {
			continue
		}
		if inc, ok := listed[k]; ok && inc == at.ref.GetIncarnation() {
			if until.After(at.leaseUntil) && at.killReason == "" {
				at.leaseUntil = until
				renewed = append(renewed, at)
			}
			continue
		}
		if at.knownAt.Before(sentAt) && at.killReason == "" {
			drop = append(drop, at)
		}
	}
	a.mu.Unlock()
	a.passLeases(renewed)
	for _, at := range drop {
		a.kill(ctx, at, pb.ReasonKilled, "the cluster no longer vouches for this attempt on this worker", a.grace(at, nil))
	}
}

func (a *Agent) handleKill(ctx context.Context, k *pb.Kill) {
	ref := k.GetAttempt()
	a.mu.Lock()
	at := a.attempts[key(ref.GetNamespace(), ref.GetName())]
	a.mu.Unlock()
	if at == nil {
		return
	}
	reason := k.GetReason()
	if reason != pb.ReasonDeadlineExceeded {
		reason = pb.ReasonKilled
	}
	a.kill(ctx, at, reason, "killed at the cluster's request", a.grace(at, k.GetGrace()))
}

// serveLogs streams an attempt's log file down the session, with the
// times its lines were written.
func (a *Agent) serveLogs(ctx context.Context, s *session, req *pb.LogRequest) {
	ref := req.GetAttempt()
	send := func(d *pb.LogData) error {
		d.RequestId = req.GetRequestId()
		return s.send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_LogData{LogData: d}})
	}
	path := logPath(a.cfg.DataDir, ref.GetNamespace(), ref.GetName())
	f, err := openLogSource(path)
	if err != nil {
		_ = send(&pb.LogData{Eof: true, Error: fmt.Sprintf("no output of attempt %s/%s on worker %s: %v", ref.GetNamespace(), ref.GetName(), a.cfg.ID, err)})
		return
	}
	defer f.Close()
	buf := make([]byte, 32<<10)
	var t *time.Timer
	for {
		n, marks, err := f.read(buf)
		if n > 0 {
			if serr := send(&pb.LogData{Data: append([]byte(nil), buf[:n]...), Marks: marks}); serr != nil {
				return
			}
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			_ = send(&pb.LogData{Eof: true, Error: fmt.Sprintf("read output: %v", err)})
			return
		}
		if !req.GetFollow() || !a.stillRunning(ref) {
			// One last read: output written just before the end.
			if n, marks, _ := f.read(buf); n > 0 {
				_ = send(&pb.LogData{Data: append([]byte(nil), buf[:n]...), Marks: marks})
				continue
			}
			_ = send(&pb.LogData{Eof: true})
			return
		}
		if t == nil {
			t = time.NewTimer(200 * time.Millisecond)
			defer t.Stop()
		} else {
			t.Reset(200 * time.Millisecond)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (a *Agent) stillRunning(ref *pb.AttemptRef) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	at := a.attempts[key(ref.GetNamespace(), ref.GetName())]
	return at != nil && !at.finished
}
