package cluster

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/raft"
	"github.com/raftcron/raftcron/scheduler"
)

type sessionsHarness struct {
	t        *testing.T
	node     *raft.Node
	sessions *workerSessions
	client   pb.WorkerServiceClient
}

func pollUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func newSessionsHarness(t *testing.T, cfg WorkerConfig) *sessionsHarness {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	node, err := raft.Open(raft.Config{NodeID: "n1", DataDir: t.TempDir(), BindAddr: "127.0.0.1:0", Bootstrap: true, Logger: logger,
		HeartbeatTimeout: 100 * time.Millisecond, ElectionTimeout: 100 * time.Millisecond, LeaderLeaseTimeout: 50 * time.Millisecond, CommitTimeout: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Shutdown() })
	pollUntil(t, 10*time.Second, "leadership", node.IsLeader)

	s := newWorkerSessions(node, scheduler.RealClock{}, cfg, func() string { return "leader.example:8001" }, logger)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	pb.RegisterWorkerServiceServer(gs, s)
	go gs.Serve(lis)
	ctx, cancel := context.WithCancel(context.Background())
	s.Start(ctx)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		s.Stop()
		cancel()
		gs.Stop()
	})
	return &sessionsHarness{t: t, node: node, sessions: s, client: pb.NewWorkerServiceClient(conn)}
}

func (h *sessionsHarness) apply(cmds ...*pb.Command) []*pb.CommandResult {
	h.t.Helper()
	res, err := h.node.Apply(context.Background(), cmds...)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, r := range res {
		if r.GetError() != "" {
			h.t.Fatalf("apply: %s (%s)", r.GetError(), r.GetCode())
		}
	}
	return res
}

// placeAttempt creates a Job with one attempt assigned to worker.
func (h *sessionsHarness) placeAttempt(job, worker string) *pb.Attempt {
	h.t.Helper()
	now := timestamppb.Now()
	h.apply(&pb.Command{Op: &pb.Command_ApplyResources{ApplyResources: &pb.ApplyResources{Now: now, Jobs: []*pb.Job{{
		Metadata: &pb.ObjectMeta{Name: job, Namespace: "default"},
		Spec: &pb.JobSpec{Completions: proto.Int32(1), Template: &pb.PodTemplateSpec{Spec: &pb.PodSpec{
			RestartPolicy: "Never", Containers: []*pb.Container{{Name: "main", Image: "busybox", Args: []string{"echo", job}}},
		}}},
	}}}}})
	name := job + "-0-1"
	h.apply(&pb.Command{Op: &pb.Command_CreateAttempts{CreateAttempts: &pb.CreateAttempts{Attempts: []*pb.Attempt{{
		Namespace: "default", Job: job, Index: 0, Number: 1, Name: name, CreatedTime: now,
	}}}}})
	h.apply(&pb.Command{Op: &pb.Command_AssignAttempt{AssignAttempt: &pb.AssignAttempt{Namespace: "default", Name: name, Worker: worker, Now: now}}})
	a := h.node.State().Attempt("default", name)
	if a.GetState() != "Assigned" || a.GetWorker() != worker {
		h.t.Fatalf("attempt after assignment: %v", a)
	}
	return a
}

type fakeWorker struct {
	t      *testing.T
	stream pb.WorkerService_SessionClient
	cancel context.CancelFunc
}

func (h *sessionsHarness) connect(hello *pb.Hello) *fakeWorker {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h.t.Cleanup(cancel)
	st, err := h.client.Session(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	w := &fakeWorker{t: h.t, stream: st, cancel: cancel}
	w.send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Hello{Hello: hello}})
	return w
}

func (w *fakeWorker) send(m *pb.WorkerMessage) {
	w.t.Helper()
	if err := w.stream.Send(m); err != nil {
		w.t.Fatal(err)
	}
}

// next returns the next server message that match accepts, failing on a
// stream error.
func (w *fakeWorker) next(what string, match func(*pb.ServerMessage) bool) *pb.ServerMessage {
	w.t.Helper()
	type res struct {
		m   *pb.ServerMessage
		err error
	}
	for {
		ch := make(chan res, 1)
		go func() { m, err := w.stream.Recv(); ch <- res{m, err} }()
		select {
		case r := <-ch:
			if r.err != nil {
				w.t.Fatalf("waiting for %s: %v", what, r.err)
			}
			if match(r.m) {
				return r.m
			}
		case <-time.After(10 * time.Second):
			w.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (w *fakeWorker) report(id uint64, a *pb.Attempt, state string) {
	w.send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Report{Report: &pb.AttemptReport{
		ReportId: id, Attempt: refOf(a), State: state, ContainerId: "c1", StartTime: timestamppb.Now(),
		FinishTime: func() *timestamppb.Timestamp {
			if state == "Running" {
				return nil
			}
			return timestamppb.Now()
		}(),
	}}})
}

func (w *fakeWorker) expectAck(id uint64) {
	w.t.Helper()
	w.next("ack", func(m *pb.ServerMessage) bool { return m.GetAck().GetReportId() == id })
}

func fastConfig() WorkerConfig {
	return WorkerConfig{HeartbeatInterval: 50 * time.Millisecond, WorkerTTL: time.Second, LeaseTTL: 2 * time.Second}
}

func TestWorkerSessionAssignLeaseReport(t *testing.T) {
	h := newSessionsHarness(t, fastConfig())
	a := h.placeAttempt("j1", "w1")

	w := h.connect(&pb.Hello{WorkerId: "w1", Slots: 2, Runtime: "docker", Labels: map[string]string{"zone": "a"}})
	wel := w.next("welcome", func(m *pb.ServerMessage) bool { return m.GetWelcome() != nil }).GetWelcome()
	if wel.GetHeartbeatInterval().AsDuration() != 50*time.Millisecond || wel.GetLeaseTtl().AsDuration() != 2*time.Second {
		t.Errorf("welcome = %v", wel)
	}
	as := w.next("assignment", func(m *pb.ServerMessage) bool { return m.GetAssign() != nil }).GetAssign()
	if as.GetAttempt().GetName() != a.GetName() || as.GetAttempt().GetIncarnation() != a.GetIncarnation() || as.GetAttempt().GetIncarnation() == 0 {
		t.Errorf("assignment for %v, want %s incarnation %d", as.GetAttempt(), a.GetName(), a.GetIncarnation())
	}
	if as.GetRun().GetImage() != "busybox" || as.GetJob() != "j1" {
		t.Errorf("run spec = %v", as.GetRun())
	}
	if r := h.sessions.Ready(); len(r) != 1 || r[0].ID != "w1" || r[0].Slots != 2 || r[0].Labels["zone"] != "a" {
		t.Errorf("Ready() = %+v", r)
	}

	w.send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Heartbeat{Heartbeat: &pb.Heartbeat{Seq: 1}}})
	lease := w.next("lease", func(m *pb.ServerMessage) bool { return m.GetLease() != nil }).GetLease()
	if lease.GetSeq() != 1 || len(lease.GetAttempts()) != 1 || lease.GetAttempts()[0].GetName() != a.GetName() {
		t.Errorf("lease = %v, want seq 1 listing %s", lease, a.GetName())
	}

	w.report(11, a, "Running")
	w.expectAck(11)
	if got := h.node.State().Attempt("default", a.GetName()).GetState(); got != "Running" {
		t.Errorf("attempt state after Running report = %s", got)
	}
	w.report(12, a, "Running") // a duplicate is acked too
	w.expectAck(12)
	w.report(13, a, "Succeeded")
	w.expectAck(13)
	if got := h.node.State().Attempt("default", a.GetName()).GetState(); got != "Succeeded" {
		t.Errorf("attempt state after Succeeded report = %s", got)
	}
	w.send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Heartbeat{Heartbeat: &pb.Heartbeat{Seq: 2}}})
	lease = w.next("lease 2", func(m *pb.ServerMessage) bool { return m.GetLease() != nil }).GetLease()
	if len(lease.GetAttempts()) != 0 {
		t.Errorf("lease after the attempt finished lists %v", lease.GetAttempts())
	}
	// A second attempt committed while the worker is connected is dispatched.
	b := h.placeAttempt("j2", "w1")
	as = w.next("second assignment", func(m *pb.ServerMessage) bool { return m.GetAssign() != nil }).GetAssign()
	if as.GetAttempt().GetName() != b.GetName() {
		t.Errorf("assignment for %v, want %s", as.GetAttempt(), b.GetName())
	}
	// A kill requested in the state reaches the worker.
	h.apply(&pb.Command{Op: &pb.Command_RequestKill{RequestKill: &pb.RequestKill{Namespace: "default", Name: b.GetName(), Reason: "DeadlineExceeded", Now: timestamppb.Now()}}})
	k := w.next("kill", func(m *pb.ServerMessage) bool { return m.GetKill() != nil }).GetKill()
	if k.GetAttempt().GetName() != b.GetName() || k.GetReason() != "DeadlineExceeded" {
		t.Errorf("kill = %v", k)
	}

	// Disconnected, the worker shows up in LastHeard and as Lost in List.
	w.cancel()
	pollUntil(t, 5*time.Second, "the worker to be unregistered", func() bool { return len(h.sessions.Ready()) == 0 })
	since := time.Now().Add(-time.Hour)
	lh := h.sessions.LastHeard(since)
	if heard, ok := lh["w1"]; !ok || !heard.After(since) {
		t.Errorf("LastHeard = %v, want w1 heard after %v", lh, since)
	}
	ws := h.sessions.List("")
	if len(ws) != 1 || ws[0].GetState() != "Lost" {
		t.Errorf("List() = %v, want w1 Lost", ws)
	}

	// Issue 10 (14): once the gone worker holds nothing, the leader forgets
	// when it heard from it (a cluster with churning worker ids must not
	// grow this map forever).
	h.apply(&pb.Command{Op: &pb.Command_MarkAttemptLost{MarkAttemptLost: &pb.MarkAttemptLost{Namespace: "default", Name: b.GetName(), Reason: "WorkerLost", Now: timestamppb.Now()}}})
	if lh := h.sessions.LastHeard(since); len(lh) != 0 {
		t.Errorf("LastHeard = %v once w1 holds nothing, want empty", lh)
	}
	h.sessions.mu.Lock()
	_, kept := h.sessions.lastHeard["w1"]
	h.sessions.mu.Unlock()
	if kept {
		t.Error("the leader still keeps when it heard from w1, which is gone and holds nothing")
	}
}

func TestWorkerSessionReconcileOnHello(t *testing.T) {
	h := newSessionsHarness(t, fastConfig())
	running := h.placeAttempt("run", "w1")
	assigned := h.placeAttempt("wait", "w1")
	adopted := h.placeAttempt("keep", "w1")

	w := h.connect(&pb.Hello{WorkerId: "w1", Slots: 2})
	w.next("welcome", func(m *pb.ServerMessage) bool { return m.GetWelcome() != nil })
	w.report(1, running, "Running")
	w.expectAck(1)
	w.report(2, adopted, "Running")
	w.expectAck(2)
	w.cancel()
	pollUntil(t, 5*time.Second, "the worker to be unregistered", func() bool { return len(h.sessions.Ready()) == 0 })

	// The worker restarts: it still runs "keep", and a stale container of
	// an old incarnation, and lost "run".
	stale := &pb.AttemptRef{Namespace: "default", Name: "old-0-1", Incarnation: 3}
	w2 := h.connect(&pb.Hello{WorkerId: "w1", Slots: 2, Running: []*pb.AttemptRef{refOf(adopted), stale}})
	w2.next("welcome", func(m *pb.ServerMessage) bool { return m.GetWelcome() != nil })
	k := w2.next("kill of the stale attempt", func(m *pb.ServerMessage) bool { return m.GetKill() != nil }).GetKill()
	if k.GetAttempt().GetName() != "old-0-1" {
		t.Errorf("kill = %v, want old-0-1", k)
	}
	as := w2.next("re-sent assignment", func(m *pb.ServerMessage) bool { return m.GetAssign() != nil }).GetAssign()
	if as.GetAttempt().GetName() != assigned.GetName() {
		t.Errorf("assignment = %v, want %s (assigned, never started)", as.GetAttempt(), assigned.GetName())
	}
	lost := h.node.State().Attempt("default", running.GetName())
	if lost.GetState() != "Lost" || lost.GetReason() != "WorkerLost" || !strings.Contains(lost.GetMessage(), "worker w1 restarted without it") {
		t.Errorf("attempt the worker lost = %s/%s %q", lost.GetState(), lost.GetReason(), lost.GetMessage())
	}
	if got := h.node.State().Attempt("default", adopted.GetName()).GetState(); got != "Running" {
		t.Errorf("adopted attempt state = %s, want Running", got)
	}
	// StepDown closes the session with a redirect.
	h.sessions.StepDown()
	r := w2.next("redirect", func(m *pb.ServerMessage) bool { return m.GetRedirect() != nil }).GetRedirect()
	if r.GetLeaderAddress() != "leader.example:8001" {
		t.Errorf("redirect = %v", r)
	}
}

func TestWorkerSessionJoinToken(t *testing.T) {
	cfg := fastConfig()
	cfg.JoinToken = "s3cret"
	h := newSessionsHarness(t, cfg)
	w := h.connect(&pb.Hello{WorkerId: "w1", Slots: 1, JoinToken: "wrong"})
	_, err := w.stream.Recv()
	if status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), "join_token") {
		t.Fatalf("hello with a wrong token: %v, want Unauthenticated naming join_token", err)
	}
	ok := h.connect(&pb.Hello{WorkerId: "w2", Slots: 1, JoinToken: "s3cret"})
	ok.next("welcome", func(m *pb.ServerMessage) bool { return m.GetWelcome() != nil })
}

func TestWorkerSessionLostAfterWorkerTTL(t *testing.T) {
	h := newSessionsHarness(t, fastConfig())
	w := h.connect(&pb.Hello{WorkerId: "w1", Slots: 1})
	w.next("welcome", func(m *pb.ServerMessage) bool { return m.GetWelcome() != nil })
	pollUntil(t, 5*time.Second, "the worker to be ready", func() bool { return len(h.sessions.Ready()) == 1 })
	// No heartbeats: after WorkerTTL (1s) the leader drops the worker.
	start := time.Now()
	pollUntil(t, 5*time.Second, "the silent worker to be dropped", func() bool { return len(h.sessions.Ready()) == 0 })
	if el := time.Since(start); el < 500*time.Millisecond {
		t.Errorf("dropped after %v, before WorkerTTL", el)
	}
	select {
	case <-h.sessions.Changed():
	default:
		t.Error("Changed() was not signalled")
	}
}

// Issue 10 (13): a leader that cannot confirm its leadership with a quorum
// (it was paused or cut off and does not know yet that it was deposed) must
// not renew leases from the heartbeats it finds queued: it ends the session
// with a redirect instead.
func TestWorkerSessionNoRenewalWithoutConfirmedLeadership(t *testing.T) {
	h := newSessionsHarness(t, fastConfig())
	h.placeAttempt("j1", "w1")
	w := h.connect(&pb.Hello{WorkerId: "w1", Slots: 1})
	w.next("assignment", func(m *pb.ServerMessage) bool { return m.GetAssign() != nil })
	w.send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Heartbeat{Heartbeat: &pb.Heartbeat{Seq: 1}}})
	w.next("lease while leadership is confirmed", func(m *pb.ServerMessage) bool { return m.GetLease() != nil })

	h.sessions.leaderCheck.mu.Lock()
	h.sessions.leaderCheck.verify = func(context.Context) error { return raft.ErrNotLeader }
	h.sessions.leaderCheck.mu.Unlock()
	w.send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Heartbeat{Heartbeat: &pb.Heartbeat{Seq: 2}}})
	m := w.next("the answer to a heartbeat", func(m *pb.ServerMessage) bool { return m.GetLease() != nil || m.GetRedirect() != nil })
	if m.GetLease() != nil {
		t.Fatalf("lease renewed (%v) although the leader could not confirm its leadership", m.GetLease())
	}
}

// A worker whose heartbeat says it drains is offered no new attempt (Ready
// leaves it out) and is listed Draining; its slots leave the metrics'.
func TestWorkerSessionDraining(t *testing.T) {
	h := newSessionsHarness(t, fastConfig())
	w := h.connect(&pb.Hello{WorkerId: "w1", Slots: 3, Runtime: "docker"})
	w.next("welcome", func(m *pb.ServerMessage) bool { return m.GetWelcome() != nil })
	pollUntil(t, 5*time.Second, "w1 Ready", func() bool { return len(h.sessions.Ready()) == 1 })
	if c := h.sessions.counts(); c.connected != 1 || c.draining != 0 || c.slots != 3 {
		t.Errorf("counts before the drain = %+v", c)
	}

	w.send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Heartbeat{Heartbeat: &pb.Heartbeat{Seq: 1, Draining: true}}})
	w.next("lease", func(m *pb.ServerMessage) bool { return m.GetLease() != nil })
	if r := h.sessions.Ready(); len(r) != 0 {
		t.Errorf("Ready() = %+v while w1 drains; want none", r)
	}
	if l := h.sessions.List(""); len(l) != 1 || l[0].GetState() != pb.WorkerDraining {
		t.Errorf("List() = %v; want w1 Draining", l)
	}
	if l := h.sessions.List(pb.WorkerReady); len(l) != 0 {
		t.Errorf("List(Ready) = %v; want none", l)
	}
	if l := h.sessions.List(pb.WorkerDraining); len(l) != 1 || l[0].GetId() != "w1" {
		t.Errorf("List(Draining) = %v; want w1", l)
	}
	if c := h.sessions.counts(); c.connected != 1 || c.draining != 1 || c.slots != 0 {
		t.Errorf("counts while draining = %+v; want 1 connected, 1 draining, 0 slots", c)
	}
}

// A session forgets what it sent of attempts that left the worker (it does
// not grow with every run a long session sees), and tells the worker at
// once to kill an attempt whose Job was deleted: one held for its tick must
// not start, and a running one need not wait for the next lease renewal.
func TestWorkerSessionForgetsEndedAndKillsDeleted(t *testing.T) {
	cfg := fastConfig()
	cfg.HeartbeatInterval = time.Hour // no renewal would tell the worker
	h := newSessionsHarness(t, cfg)
	w := h.connect(&pb.Hello{WorkerId: "w1", Slots: 2, Runtime: "docker"})
	w.next("welcome", func(m *pb.ServerMessage) bool { return m.GetWelcome() != nil })

	sent := func() int {
		h.sessions.mu.Lock()
		c := h.sessions.conns["w1"]
		h.sessions.mu.Unlock()
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.sentAssign) + len(c.sentKill)
	}
	a := h.placeAttempt("j1", "w1")
	w.next("assignment of j1", func(m *pb.ServerMessage) bool { return m.GetAssign().GetAttempt().GetName() == a.GetName() })
	w.report(1, a, "Succeeded")
	w.expectAck(1)
	b := h.placeAttempt("j2", "w1")
	w.next("assignment of j2", func(m *pb.ServerMessage) bool { return m.GetAssign().GetAttempt().GetName() == b.GetName() })
	if n := sent(); n != 1 {
		t.Errorf("the session keeps %d attempts it sent; want 1 (j1 ended)", n)
	}

	h.apply(&pb.Command{Op: &pb.Command_DeleteResource{DeleteResource: &pb.DeleteResource{Kind: "Job", Namespace: "default", Name: "j2"}}})
	k := w.next("kill of the deleted Job's attempt", func(m *pb.ServerMessage) bool { return m.GetKill() != nil }).GetKill()
	if k.GetAttempt().GetName() != b.GetName() || k.GetAttempt().GetIncarnation() != b.GetIncarnation() || k.GetReason() != pb.ReasonKilled {
		t.Errorf("kill = %v; want %s incarnation %d, Killed", k, b.GetName(), b.GetIncarnation())
	}
	if n := sent(); n != 0 {
		t.Errorf("the session keeps %d attempts it sent; want none", n)
	}

	// A Job deleted and made again under its name (its new attempt, with
	// the same name, on another worker) in one entry: the old attempt is
	// still told to stop.
	old := h.placeAttempt("j3", "w1")
	w.next("assignment of j3", func(m *pb.ServerMessage) bool { return m.GetAssign().GetAttempt().GetName() == old.GetName() })
	now := timestamppb.Now()
	h.apply(
		&pb.Command{Op: &pb.Command_DeleteResource{DeleteResource: &pb.DeleteResource{Kind: "Job", Namespace: "default", Name: "j3"}}},
		&pb.Command{Op: &pb.Command_ApplyResources{ApplyResources: &pb.ApplyResources{Now: now, Jobs: []*pb.Job{{
			Metadata: &pb.ObjectMeta{Name: "j3", Namespace: "default"},
			Spec: &pb.JobSpec{Completions: proto.Int32(1), Template: &pb.PodTemplateSpec{Spec: &pb.PodSpec{
				RestartPolicy: "Never", Containers: []*pb.Container{{Name: "main", Image: "busybox"}},
			}}},
		}}}}},
		&pb.Command{Op: &pb.Command_CreateAttempts{CreateAttempts: &pb.CreateAttempts{Attempts: []*pb.Attempt{{
			Namespace: "default", Job: "j3", Index: 0, Number: 1, Name: old.GetName(), CreatedTime: now,
		}}}}},
		&pb.Command{Op: &pb.Command_AssignAttempt{AssignAttempt: &pb.AssignAttempt{Namespace: "default", Name: old.GetName(), Worker: "w2", Now: now}}},
	)
	if a := h.node.State().Attempt("default", old.GetName()); a.GetWorker() != "w2" || a.GetIncarnation() == old.GetIncarnation() {
		t.Fatalf("the made-again attempt is %v; want it on w2 with a new incarnation", a)
	}
	k = w.next("kill of the deleted Job's attempt whose name was reused", func(m *pb.ServerMessage) bool { return m.GetKill() != nil }).GetKill()
	if k.GetAttempt().GetName() != old.GetName() || k.GetAttempt().GetIncarnation() != old.GetIncarnation() {
		t.Errorf("kill = %v; want %s incarnation %d", k, old.GetName(), old.GetIncarnation())
	}
}

// A cron Job decided ahead of its tick is sent with the time left until the
// tick (start_in, relative to the leader's clock) and the tick itself.
func TestWorkerSessionSendsStartIn(t *testing.T) {
	h := newSessionsHarness(t, fastConfig())
	w := h.connect(&pb.Hello{WorkerId: "w1", Slots: 2, Runtime: "docker"})
	w.next("welcome", func(m *pb.ServerMessage) bool { return m.GetWelcome() != nil })

	now := time.Now()
	tick := now.Add(2 * time.Second).Truncate(time.Second)
	h.apply(&pb.Command{Op: &pb.Command_CreateJobs{CreateJobs: &pb.CreateJobs{Jobs: []*pb.Job{{
		Metadata: &pb.ObjectMeta{Name: "c-1", Namespace: "default", CreationTimestamp: timestamppb.New(now)},
		Spec: &pb.JobSpec{Completions: proto.Int32(1), Template: &pb.PodTemplateSpec{Spec: &pb.PodSpec{
			RestartPolicy: "Never", Containers: []*pb.Container{{Name: "main", Image: "busybox"}},
		}}},
		Status: &pb.JobStatus{ScheduledTime: timestamppb.New(tick)},
	}}}}})
	h.apply(&pb.Command{Op: &pb.Command_CreateAttempts{CreateAttempts: &pb.CreateAttempts{Attempts: []*pb.Attempt{{
		Namespace: "default", Job: "c-1", Index: 0, Number: 1, Name: "c-1-0-1", CreatedTime: timestamppb.New(now),
	}}}}})
	h.apply(&pb.Command{Op: &pb.Command_AssignAttempt{AssignAttempt: &pb.AssignAttempt{Namespace: "default", Name: "c-1-0-1", Worker: "w1", Now: timestamppb.New(now)}}})
	as := w.next("assignment", func(m *pb.ServerMessage) bool { return m.GetAssign() != nil }).GetAssign()
	if !as.GetRun().GetStartAt().AsTime().Equal(tick) {
		t.Errorf("start_at %v; want the tick %v", as.GetRun().GetStartAt().AsTime(), tick)
	}
	if d := as.GetStartIn().AsDuration(); d <= 0 || d > time.Until(tick)+time.Second {
		t.Errorf("start_in %v; want the time left until the tick (about %v)", d, time.Until(tick))
	}
}
