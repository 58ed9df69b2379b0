package worker

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/worker/guard"
)

// fakeRuntime runs nothing: attempts end when the test says so or when killed.
type fakeRuntime struct {
	mu      sync.Mutex
	procs   map[string]*fakeProc
	starts  int
	killed  chan string
	removed chan string
}

type fakeProc struct {
	ref      *pb.AttemptRef
	done     chan struct{}
	exit     ExitStatus
	killedAt time.Time
}

var _ Runtime = (*fakeRuntime)(nil)

func newFakeRuntime() *fakeRuntime {
	return &fakeRuntime{procs: map[string]*fakeProc{}, killed: make(chan string, 16), removed: make(chan string, 16)}
}

func (f *fakeRuntime) Name() string { return "fake" }
func (f *fakeRuntime) Close() error { return nil }

func (f *fakeRuntime) Start(ctx context.Context, t *Task) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := "id-" + t.Attempt.GetName()
	f.procs[id] = &fakeProc{ref: t.Attempt, done: make(chan struct{})}
	f.starts++
	if t.Dir != "" {
		// As a guard does once it has started the workload.
		if err := guard.WriteRecord(t.Dir, guard.Record{GuardPID: 1, PID: 2, Started: time.Now()}); err != nil {
			return "", err
		}
	}
	return id, nil
}

func (f *fakeRuntime) proc(id string) *fakeProc {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.procs[id]
}

func (f *fakeRuntime) Wait(ctx context.Context, id, _ string) (ExitStatus, error) {
	p := f.proc(id)
	select {
	case <-p.done:
		return p.exit, nil
	case <-ctx.Done():
		return ExitStatus{}, ctx.Err()
	}
}

// exit ends an attempt with code.
func (f *fakeRuntime) exit(id string, code int32) {
	p := f.proc(id)
	p.exit = ExitStatus{ExitCode: code, FinishTime: time.Now(), OutputTail: "done\n"}
	close(p.done)
}

func (f *fakeRuntime) Kill(ctx context.Context, id string, grace time.Duration) error {
	p := f.proc(id)
	f.mu.Lock()
	p.killedAt = time.Now()
	f.mu.Unlock()
	p.exit = ExitStatus{ExitCode: 137, FinishTime: time.Now()}
	close(p.done)
	f.killed <- id
	return nil
}

func (f *fakeRuntime) Remove(ctx context.Context, id string) error {
	f.mu.Lock()
	delete(f.procs, id)
	f.mu.Unlock()
	f.removed <- id
	return nil
}

func (f *fakeRuntime) List(ctx context.Context) ([]Instance, error) { return nil, nil }

// fakeServer is a WorkerService whose sessions the test plays by hand.
type fakeServer struct {
	pb.UnimplementedWorkerServiceServer
	addr  string
	conns chan *fakeConn
}

type fakeConn struct {
	t      *testing.T
	stream pb.WorkerService_SessionServer
	recv   chan *pb.WorkerMessage
	close  chan struct{}
	once   sync.Once
}

func startFakeServer(t *testing.T) *fakeServer {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fs := &fakeServer{addr: lis.Addr().String(), conns: make(chan *fakeConn, 16)}
	gs := grpc.NewServer()
	pb.RegisterWorkerServiceServer(gs, fs)
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	return fs
}

func (fs *fakeServer) Session(stream pb.WorkerService_SessionServer) error {
	c := &fakeConn{stream: stream, recv: make(chan *pb.WorkerMessage, 256), close: make(chan struct{})}
	fs.conns <- c
	errc := make(chan error, 1)
	go func() {
		for {
			m, err := stream.Recv()
			if err != nil {
				errc <- err
				return
			}
			c.recv <- m
		}
	}()
	select {
	case <-c.close:
		return nil
	case <-errc:
		return nil
	case <-stream.Context().Done():
		return nil
	}
}

func (fs *fakeServer) accept(t *testing.T) *fakeConn {
	t.Helper()
	select {
	case c := <-fs.conns:
		c.t = t
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("the worker did not open a session")
		return nil
	}
}

func (c *fakeConn) send(m *pb.ServerMessage) {
	c.t.Helper()
	if err := c.stream.Send(m); err != nil {
		c.t.Fatalf("send to worker: %v", err)
	}
}

func (c *fakeConn) end() { c.once.Do(func() { close(c.close) }) }

// expect reads worker messages until match accepts one.
func (c *fakeConn) expect(what string, match func(*pb.WorkerMessage) bool) *pb.WorkerMessage {
	c.t.Helper()
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case m := <-c.recv:
			if match(m) {
				return m
			}
		case <-timeout.C:
			c.t.Fatalf("timed out waiting for %s from the worker", what)
		}
	}
}

func (c *fakeConn) expectReport(name, state string) *pb.AttemptReport {
	c.t.Helper()
	return c.expect(state+" report of "+name, func(m *pb.WorkerMessage) bool {
		r := m.GetReport()
		return r != nil && r.GetAttempt().GetName() == name && r.GetState() == state
	}).GetReport()
}

func welcome(hb, lease time.Duration) *pb.ServerMessage {
	return &pb.ServerMessage{Msg: &pb.ServerMessage_Welcome{Welcome: &pb.Welcome{HeartbeatInterval: durationpb.New(hb), LeaseTtl: durationpb.New(lease)}}}
}

func assignMsg(name string, inc uint64) *pb.ServerMessage {
	return &pb.ServerMessage{Msg: &pb.ServerMessage_Assign{Assign: &pb.Assignment{
		Attempt: &pb.AttemptRef{Namespace: "default", Name: name, Incarnation: inc}, Job: "job", Index: 0,
		Run: &pb.RunSpec{Image: "img", KillGrace: durationpb.New(time.Second)},
	}}}
}

func ackMsg(id uint64) *pb.ServerMessage {
	return &pb.ServerMessage{Msg: &pb.ServerMessage_Ack{Ack: &pb.ReportAck{ReportId: id}}}
}

// runAgent runs an agent against servers until the test ends.
func runAgent(t *testing.T, rt Runtime, servers ...string) *Agent {
	t.Helper()
	dataDir := t.TempDir()
	a := newAgent(Config{Servers: servers, ID: "w1", Slots: 3, Labels: map[string]string{"zone": "a"}, DataDir: dataDir}, rt, testLogger(t))
	a.guardBin = installGuard(t, dataDir)
	a.resendAfter = 200 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return a
}

func TestAgentHelloAssignReportAckRetry(t *testing.T) {
	srv := startFakeServer(t)
	rt := newFakeRuntime()
	runAgent(t, rt, srv.addr)

	c := srv.accept(t)
	hello := c.expect("hello", func(m *pb.WorkerMessage) bool { return m.GetHello() != nil }).GetHello()
	if hello.GetWorkerId() != "w1" || hello.GetSlots() != 3 || hello.GetRuntime() != "fake" || hello.GetLabels()["zone"] != "a" ||
		hello.GetLabels()["raftcron.io/runtime"] != "fake" || len(hello.GetRunning()) != 0 {
		t.Fatalf("hello = %v", hello)
	}
	c.send(welcome(50*time.Millisecond, time.Minute))
	c.send(assignMsg("a1", 7))
	c.send(assignMsg("a1", 7)) // a duplicate is ignored

	running := c.expectReport("a1", "Running")
	if running.GetContainerId() != "id-a1" || running.GetAttempt().GetIncarnation() != 7 || running.GetStartTime() == nil {
		t.Errorf("running report = %v", running)
	}
	// Not acknowledged: sent again with the same id.
	again := c.expectReport("a1", "Running")
	if again.GetReportId() != running.GetReportId() {
		t.Errorf("resent report id %d, want %d", again.GetReportId(), running.GetReportId())
	}
	c.send(ackMsg(running.GetReportId()))
	c.expect("heartbeat", func(m *pb.WorkerMessage) bool { return m.GetHeartbeat() != nil })
	rt.mu.Lock()
	starts := rt.starts
	rt.mu.Unlock()
	if starts != 1 {
		t.Errorf("runtime started %d times, want 1 (duplicate assignment)", starts)
	}

	rt.exit("id-a1", 0)
	done := c.expectReport("a1", "Succeeded")
	// The session breaks before the ack: the report survives the reconnect.
	c.end()

	c2 := srv.accept(t)
	hello2 := c2.expect("hello", func(m *pb.WorkerMessage) bool { return m.GetHello() != nil }).GetHello()
	if len(hello2.GetRunning()) != 1 || hello2.GetRunning()[0].GetName() != "a1" {
		t.Errorf("hello after reconnect lists %v, want a1 (its result is not acknowledged yet)", hello2.GetRunning())
	}
	c2.send(welcome(50*time.Millisecond, time.Minute))
	done2 := c2.expectReport("a1", "Succeeded")
	if done2.GetReportId() != done.GetReportId() || done2.GetOutputTail() != "done\n" {
		t.Errorf("report after reconnect = %v, want the same report %d", done2, done.GetReportId())
	}
	c2.send(ackMsg(done2.GetReportId()))
	select {
	case id := <-rt.removed:
		if id != "id-a1" {
			t.Errorf("removed %s, want id-a1", id)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the attempt was not removed after its final report was acknowledged")
	}
	hb := c2.expect("heartbeat listing nothing", func(m *pb.WorkerMessage) bool {
		return m.GetHeartbeat() != nil && len(m.GetHeartbeat().GetRunning()) == 0
	})
	_ = hb
}

func TestAgentFollowsRedirect(t *testing.T) {
	follower := startFakeServer(t)
	leader := startFakeServer(t)
	runAgent(t, newFakeRuntime(), follower.addr)

	c := follower.accept(t)
	c.expect("hello", func(m *pb.WorkerMessage) bool { return m.GetHello() != nil })
	c.send(&pb.ServerMessage{Msg: &pb.ServerMessage_Redirect{Redirect: &pb.Redirect{LeaderAddress: leader.addr}}})
	c.end()

	l := leader.accept(t)
	h := l.expect("hello at the leader", func(m *pb.WorkerMessage) bool { return m.GetHello() != nil }).GetHello()
	if h.GetWorkerId() != "w1" {
		t.Errorf("hello = %v", h)
	}
	l.send(welcome(50*time.Millisecond, time.Minute))
	l.expect("heartbeat at the leader", func(m *pb.WorkerMessage) bool { return m.GetHeartbeat() != nil })
}

// A worker the leader stops renewing kills its attempt before the lease the
// leader granted can have run out: by (receipt of the last renewed heartbeat)
// + lease_ttl at the latest.
func TestAgentLeaseExpiryKills(t *testing.T) {
	srv := startFakeServer(t)
	rt := newFakeRuntime()
	runAgent(t, rt, srv.addr)
	const ttl = 800 * time.Millisecond

	c := srv.accept(t)
	c.expect("hello", func(m *pb.WorkerMessage) bool { return m.GetHello() != nil })
	c.send(welcome(50*time.Millisecond, ttl))
	c.send(assignMsg("a1", 9))
	c.expectReport("a1", "Running")

	ref := &pb.AttemptRef{Namespace: "default", Name: "a1", Incarnation: 9}
	var lastRenewed time.Time
	for i := 0; i < 10; i++ { // renew for a while
		hb := c.expect("heartbeat", func(m *pb.WorkerMessage) bool { return m.GetHeartbeat() != nil }).GetHeartbeat()
		lastRenewed = time.Now()
		c.send(&pb.ServerMessage{Msg: &pb.ServerMessage_Lease{Lease: &pb.LeaseRenewal{Seq: hb.GetSeq(), LeaseTtl: durationpb.New(ttl), Attempts: []*pb.AttemptRef{ref}}}})
	}
	select {
	case id := <-rt.killed:
		t.Fatalf("%s killed while its lease was being renewed", id)
	default:
	}
	// The leader goes silent (a partition): no more renewals.
	var killedAt time.Time
	select {
	case <-rt.killed:
		rt.mu.Lock()
		killedAt = rt.procs["id-a1"].killedAt
		rt.mu.Unlock()
	case <-time.After(10 * time.Second):
		t.Fatal("the attempt was not killed after its lease ran out")
	}
	if latest := lastRenewed.Add(ttl); killedAt.After(latest) {
		t.Errorf("killed at %v, after the lease the leader granted ran out (%v)", killedAt, latest)
	}
	if killedAt.Sub(lastRenewed) < ttl/4 {
		t.Errorf("killed %v after the last renewal, far before the lease ran out", killedAt.Sub(lastRenewed))
	}
	c.end()
	// Reconnected, the worker reports why.
	c2 := srv.accept(t)
	c2.expect("hello", func(m *pb.WorkerMessage) bool { return m.GetHello() != nil })
	c2.send(welcome(50*time.Millisecond, ttl))
	// Reported Lost (the leader's own verdict for an attempt whose lease ran
	// out), which no backoff limit counts.
	r := c2.expectReport("a1", "Lost")
	if r.GetReason() != "WorkerLost" || !strings.Contains(r.GetMessage(), "lease expired") {
		t.Errorf("report = %v, want Lost/WorkerLost: lease expired", r)
	}
}

// A renewal that leaves out an attempt the worker runs kills it.
func TestAgentKillsAttemptTheLeaderDoesNotRenew(t *testing.T) {
	srv := startFakeServer(t)
	rt := newFakeRuntime()
	runAgent(t, rt, srv.addr)
	c := srv.accept(t)
	c.expect("hello", func(m *pb.WorkerMessage) bool { return m.GetHello() != nil })
	c.send(welcome(50*time.Millisecond, time.Minute))
	c.send(assignMsg("a1", 3))
	c.expectReport("a1", "Running")
	hb := c.expect("heartbeat", func(m *pb.WorkerMessage) bool { return m.GetHeartbeat() != nil }).GetHeartbeat()
	c.send(&pb.ServerMessage{Msg: &pb.ServerMessage_Lease{Lease: &pb.LeaseRenewal{Seq: hb.GetSeq(), LeaseTtl: durationpb.New(time.Minute)}}})
	select {
	case <-rt.killed:
	case <-time.After(10 * time.Second):
		t.Fatal("an attempt left out of the lease renewal was not killed")
	}
	r := c.expectReport("a1", "Failed")
	if r.GetReason() != "Killed" {
		t.Errorf("report = %v, want Failed/Killed", r)
	}
}

func TestAgentKillMessage(t *testing.T) {
	srv := startFakeServer(t)
	rt := newFakeRuntime()
	runAgent(t, rt, srv.addr)
	c := srv.accept(t)
	c.expect("hello", func(m *pb.WorkerMessage) bool { return m.GetHello() != nil })
	c.send(welcome(50*time.Millisecond, time.Minute))
	c.send(assignMsg("a1", 3))
	c.expectReport("a1", "Running")
	c.send(&pb.ServerMessage{Msg: &pb.ServerMessage_Kill{Kill: &pb.Kill{Attempt: &pb.AttemptRef{Namespace: "default", Name: "a1", Incarnation: 3}, Reason: "DeadlineExceeded"}}})
	r := c.expectReport("a1", "Failed")
	if r.GetReason() != "DeadlineExceeded" || r.GetExitCode() != 137 {
		t.Errorf("report = %v, want Failed/DeadlineExceeded/137", r)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no servers", Config{ID: "w", Slots: 1, DataDir: dir}, "servers"},
		{"zero slots", Config{Servers: []string{"x"}, ID: "w", DataDir: dir}, "slots"},
		{"no data dir", Config{Servers: []string{"x"}, ID: "w", Slots: 1}, "data dir"},
		{"exec not allowed", Config{Servers: []string{"x"}, ID: "w", Slots: 1, DataDir: dir, Runtime: "exec"}, "allow-exec"},
		{"unknown runtime", Config{Servers: []string{"x"}, ID: "w", Slots: 1, DataDir: dir, Runtime: "podman"}, `"podman" is not one of docker, exec`},
		{"runtime label of another runtime", Config{Servers: []string{"x"}, ID: "w", Slots: 1, DataDir: dir, Runtime: "exec", AllowExec: true,
			Labels: map[string]string{"raftcron.io/runtime": "docker"}}, "raftcron.io/runtime=docker, but this worker's runtime is exec"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want an error about %q", err, tt.want)
			}
		})
	}
}

func TestLogRequestStreamsOutput(t *testing.T) {
	srv := startFakeServer(t)
	rt := newFakeRuntime()
	a := runAgent(t, rt, srv.addr)
	c := srv.accept(t)
	c.expect("hello", func(m *pb.WorkerMessage) bool { return m.GetHello() != nil })
	c.send(welcome(50*time.Millisecond, time.Minute))
	path := logPath(a.cfg.DataDir, "default", "old")
	if err := writeLog(path, "line one\nline two\n"); err != nil {
		t.Fatal(err)
	}
	c.send(&pb.ServerMessage{Msg: &pb.ServerMessage_LogRequest{LogRequest: &pb.LogRequest{RequestId: 5, Attempt: &pb.AttemptRef{Namespace: "default", Name: "old"}, Follow: true}}})
	var got strings.Builder
	c.expect("log eof", func(m *pb.WorkerMessage) bool {
		d := m.GetLogData()
		if d == nil || d.GetRequestId() != 5 {
			return false
		}
		got.Write(d.GetData())
		return d.GetEof()
	})
	if got.String() != "line one\nline two\n" {
		t.Errorf("log data = %q", got.String())
	}
	// A log with times: its marks come with the data, offsets into it.
	path = logPath(a.cfg.DataDir, "default", "timed")
	lw, err := guard.OpenLog(path, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC)
	lw.WriteTime([]byte("first\n"), t0)
	lw.WriteTime([]byte("second\n"), t0.Add(time.Second))
	lw.Close()
	c.send(&pb.ServerMessage{Msg: &pb.ServerMessage_LogRequest{LogRequest: &pb.LogRequest{RequestId: 7, Attempt: &pb.AttemptRef{Namespace: "default", Name: "timed"}}}})
	got.Reset()
	var marks []string
	c.expect("log eof", func(m *pb.WorkerMessage) bool {
		d := m.GetLogData()
		if d == nil || d.GetRequestId() != 7 {
			return false
		}
		for _, mk := range d.GetMarks() {
			marks = append(marks, fmt.Sprintf("%d@%s", int(mk.GetOffset())+got.Len(), time.Unix(0, mk.GetUnixNano()).UTC().Format(time.RFC3339)))
		}
		got.Write(d.GetData())
		return d.GetEof()
	})
	if got.String() != "first\nsecond\n" || strings.Join(marks, " ") != "0@2026-03-07T12:00:00Z 6@2026-03-07T12:00:01Z" {
		t.Errorf("timed log data = %q, marks %v", got.String(), marks)
	}
	c.send(&pb.ServerMessage{Msg: &pb.ServerMessage_LogRequest{LogRequest: &pb.LogRequest{RequestId: 6, Attempt: &pb.AttemptRef{Namespace: "default", Name: "missing"}}}})
	e := c.expect("log error", func(m *pb.WorkerMessage) bool { return m.GetLogData().GetRequestId() == 6 }).GetLogData()
	if !e.GetEof() || !strings.Contains(e.GetError(), "no output of attempt default/missing") {
		t.Errorf("log data for a missing attempt = %v", e)
	}
}

// The same with a real container: when the leader stops renewing, the
// container is killed, and the worker reports it once it reaches a leader.
func TestAgentLeaseExpiryKillsDockerContainer(t *testing.T) {
	needDocker(t)
	const id = "w1" // runAgent's worker id: containers carry it
	rt, err := NewDockerRuntime(context.Background(), id, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // the agent closes rt when it stops
		d, err := NewDockerRuntime(context.Background(), id, slog.Default())
		if err != nil {
			return
		}
		defer d.Close()
		insts, _ := d.List(context.Background())
		for _, in := range insts {
			_ = d.Remove(context.Background(), in.ID)
		}
	})
	srv := startFakeServer(t)
	runAgent(t, rt, srv.addr)
	const ttl = 1500 * time.Millisecond

	c := srv.accept(t)
	c.expect("hello", func(m *pb.WorkerMessage) bool { return m.GetHello() != nil })
	c.send(welcome(50*time.Millisecond, ttl))
	ref := &pb.AttemptRef{Namespace: "default", Name: "leased", Incarnation: 4}
	c.send(&pb.ServerMessage{Msg: &pb.ServerMessage_Assign{Assign: &pb.Assignment{Attempt: ref, Job: "job",
		Run: dockerSpec("-sleep", "60s")}}})
	// Renew while the container is being created: a run whose lease ran
	// out before it started never starts.
	var running *pb.AttemptReport
	for running == nil {
		m := c.expect("heartbeat or Running report", func(m *pb.WorkerMessage) bool {
			return m.GetHeartbeat() != nil || m.GetReport().GetState() == "Running"
		})
		if hb := m.GetHeartbeat(); hb != nil {
			c.send(&pb.ServerMessage{Msg: &pb.ServerMessage_Lease{Lease: &pb.LeaseRenewal{Seq: hb.GetSeq(), LeaseTtl: durationpb.New(ttl), Attempts: []*pb.AttemptRef{ref}}}})
			continue
		}
		running = m.GetReport()
	}
	var lastRenewed time.Time
	for i := 0; i < 5; i++ {
		hb := c.expect("heartbeat", func(m *pb.WorkerMessage) bool { return m.GetHeartbeat() != nil }).GetHeartbeat()
		lastRenewed = time.Now()
		c.send(&pb.ServerMessage{Msg: &pb.ServerMessage_Lease{Lease: &pb.LeaseRenewal{Seq: hb.GetSeq(), LeaseTtl: durationpb.New(ttl), Attempts: []*pb.AttemptRef{ref}}}})
	}
	// Silence from here on: the container must be dead by lastRenewed + ttl
	// (allowing for the daemon's own latency to stop it).
	waitFor(t, 10*time.Second, "the container to stop", func() bool {
		insp, err := rt.cli.ContainerInspect(context.Background(), running.GetContainerId())
		return err == nil && insp.State != nil && !insp.State.Running
	})
	if late := time.Since(lastRenewed) - ttl; late > time.Second {
		t.Errorf("container stopped %v after the lease ran out", late)
	}
	c.end()
	c2 := srv.accept(t)
	c2.expect("hello", func(m *pb.WorkerMessage) bool { return m.GetHello() != nil })
	c2.send(welcome(50*time.Millisecond, time.Minute))
	r := c2.expectReport("leased", "Lost")
	if r.GetReason() != "WorkerLost" || !strings.Contains(r.GetMessage(), "lease expired") {
		t.Errorf("report = %v, want Lost/WorkerLost: lease expired", r)
	}
}

// An attempt decided ahead of its tick (Assignment.start_in) is held until
// the tick and then started; one killed while it is held never starts.
func TestAgentStartsAtStartAt(t *testing.T) {
	srv := startFakeServer(t)
	rt := newFakeRuntime()
	runAgent(t, rt, srv.addr)
	c := srv.accept(t)
	c.expect("hello", func(m *pb.WorkerMessage) bool { return m.GetHello() != nil })
	c.send(welcome(50*time.Millisecond, time.Minute))

	// start_at is the leader's clock, an hour off from the worker's here:
	// start_in, relative, is what counts.
	startAt := time.Now().Add(700 * time.Millisecond)
	early := assignMsg("a1", 3)
	early.GetAssign().Run.StartAt = timestamppb.New(startAt.Add(time.Hour))
	early.GetAssign().StartIn = durationpb.New(700 * time.Millisecond)
	c.send(early)
	held := assignMsg("a2", 4)
	held.GetAssign().Run.StartAt = timestamppb.New(startAt.Add(-time.Hour))
	held.GetAssign().StartIn = durationpb.New(time.Hour)
	c.send(held)

	r := c.expectReport("a1", "Running")
	if got := r.GetStartTime().AsTime(); got.Before(startAt) {
		t.Errorf("started at %v, %v before its start_at", got, startAt.Sub(got))
	}
	c.send(ackMsg(r.GetReportId()))
	c.send(&pb.ServerMessage{Msg: &pb.ServerMessage_Kill{Kill: &pb.Kill{Attempt: &pb.AttemptRef{Namespace: "default", Name: "a2", Incarnation: 4}, Reason: "Killed"}}})
	lost := c.expectReport("a2", "Lost")
	if lost.GetStartTime() != nil || !strings.Contains(lost.GetMessage(), "killed before it started") {
		t.Errorf("the held attempt's report after a kill = %v; want Lost, never started", lost)
	}
	rt.mu.Lock()
	starts := rt.starts
	rt.mu.Unlock()
	if starts != 1 {
		t.Errorf("runtime started %d attempts; want 1 (the killed one held until its start_at never starts)", starts)
	}
}
