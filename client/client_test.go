package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// fakeServer is a RaftCron server whose answers a test scripts.
type fakeServer struct {
	pb.UnimplementedRaftCronServer

	mu       sync.Mutex
	calls    map[string]int
	failures map[string][]error // per method: errors to answer before succeeding
	jobs     []*pb.Job          // GetJob answers these in turn, then repeats the last
	deletes  int
	// Watch: the since_index of each call; breakAfter > 0 ends the first
	// stream Unavailable after that many events.
	watchSince []uint64
	breakAfter int
	// userAgent: the user-agent of the last Apply.
	userAgent string
}

func newFake() *fakeServer {
	return &fakeServer{calls: map[string]int{}, failures: map[string][]error{}}
}

// fail scripts the next answers of method to be errs, in order.
func (f *fakeServer) fail(method string, errs ...error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures[method] = append(f.failures[method], errs...)
}

func (f *fakeServer) count(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

// next records a call and returns the scripted error, if any.
func (f *fakeServer) next(method string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[method]++
	if errs := f.failures[method]; len(errs) > 0 {
		f.failures[method] = errs[1:]
		return errs[0]
	}
	return nil
}

func (f *fakeServer) Apply(ctx context.Context, req *pb.ApplyRequest) (*pb.ApplyResponse, error) {
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		f.mu.Lock()
		f.userAgent = strings.Join(md.Get("user-agent"), " ")
		f.mu.Unlock()
	}
	if err := f.next("Apply"); err != nil {
		return nil, err
	}
	resp := &pb.ApplyResponse{}
	for _, r := range req.GetResources() {
		resp.Results = append(resp.Results, &pb.ApplyResult{Kind: KindCronJob, Namespace: r.GetCronJob().GetMetadata().GetNamespace(), Name: r.GetCronJob().GetMetadata().GetName(), Action: "created"})
	}
	return resp, nil
}

func (f *fakeServer) Get(_ context.Context, req *pb.GetRequest) (*pb.Resource, error) {
	if err := f.next("Get"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.jobs) == 0 {
		return nil, status.Errorf(codes.NotFound, "job %q not found", req.GetName())
	}
	j := f.jobs[0]
	if len(f.jobs) > 1 {
		f.jobs = f.jobs[1:]
	}
	return &pb.Resource{Kind: &pb.Resource_Job{Job: j}}, nil
}

// Watch sends the scripted jobs: the first as ADDED at index 1 with a
// BOOKMARK, the others as MODIFIED at index 2, 3 …; a watch from index n
// starts with the job of index n+1. Then it waits for the caller to go.
func (f *fakeServer) Watch(req *pb.WatchRequest, stream grpc.ServerStreamingServer[pb.WatchEvent]) error {
	if err := f.next("Watch"); err != nil {
		return err
	}
	f.mu.Lock()
	f.watchSince = append(f.watchSince, req.GetSinceIndex())
	jobs := f.jobs
	breakAfter := f.breakAfter
	f.breakAfter = 0
	f.mu.Unlock()
	var evs []*pb.WatchEvent
	for i, j := range jobs {
		idx := uint64(i + 1)
		switch {
		case i == 0 && req.GetSinceIndex() == 0:
			evs = append(evs, &pb.WatchEvent{Type: pb.WatchAdded, Index: idx, Object: &pb.WatchEvent_Job{Job: j}},
				&pb.WatchEvent{Type: pb.WatchBookmark, Index: idx})
		case idx > req.GetSinceIndex():
			evs = append(evs, &pb.WatchEvent{Type: pb.WatchModified, Index: idx, Object: &pb.WatchEvent_Job{Job: j}})
		}
	}
	if len(jobs) == 0 && req.GetSinceIndex() == 0 {
		evs = append(evs, &pb.WatchEvent{Type: pb.WatchBookmark, Index: 1})
	}
	for i, ev := range evs {
		if breakAfter > 0 && i == breakAfter {
			return status.Error(codes.Unavailable, "server going away")
		}
		if err := stream.Send(ev); err != nil {
			return err
		}
	}
	<-stream.Context().Done()
	return nil
}

func (f *fakeServer) Delete(_ context.Context, req *pb.DeleteRequest) (*pb.DeleteResponse, error) {
	if err := f.next("Delete"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deletes++
	if f.deletes > 1 {
		return nil, status.Errorf(codes.NotFound, "cronjob %q not found", req.GetName())
	}
	return &pb.DeleteResponse{}, nil
}

func (f *fakeServer) Logs(req *pb.LogsRequest, stream grpc.ServerStreamingServer[pb.LogChunk]) error {
	if err := f.next("Logs"); err != nil {
		return err
	}
	// "world" starts in the first chunk and ends in the second.
	for _, c := range []*pb.LogChunk{
		{Data: []byte("hello\nwor"), Marks: []*pb.LineMark{{Offset: 0, UnixNano: logTime1.UnixNano()}, {Offset: 6, UnixNano: logTime2.UnixNano()}}},
		{Data: []byte("ld\n")},
	} {
		c.Attempt = req.GetJob() + "-0-1"
		if err := stream.Send(c); err != nil {
			return err
		}
	}
	return nil
}

// The times the fake's log lines were written.
var (
	logTime1 = time.Date(2026, 3, 7, 11, 0, 0, 123456789, time.UTC)
	logTime2 = time.Date(2026, 3, 7, 11, 0, 2, 0, time.UTC)
)

// serve starts f on 127.0.0.1:0 and returns its address.
func serve(t *testing.T, f *fakeServer) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer()
	pb.RegisterRaftCronServer(s, f)
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Serve(lis) }()
	t.Cleanup(func() { s.Stop(); <-done })
	return lis.Addr().String()
}

// deadAddr returns an address on which nothing listens.
func deadAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	_ = lis.Close()
	return addr
}

func dial(t *testing.T, servers ...string) *Client {
	t.Helper()
	c, err := New(Config{Servers: servers, DialTimeout: 2 * time.Second, PollInterval: time.Millisecond, Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func cronJob(name string) *pb.Resource {
	return &pb.Resource{Kind: &pb.Resource_CronJob{CronJob: &pb.CronJob{
		ApiVersion: "batch/v1", Kind: KindCronJob,
		Metadata: &pb.ObjectMeta{Name: name, Namespace: "default"},
		Spec:     &pb.CronJobSpec{Schedule: "*/5 * * * *"},
	}}}
}

func TestRetriesUnavailableUntilSuccess(t *testing.T) {
	f := newFake()
	f.fail("Apply", status.Error(codes.Unavailable, "no leader"), status.Error(codes.Unavailable, "no leader"))
	c := dial(t, serve(t, f))

	res, err := c.Apply(testCtx(t), []*pb.Resource{cronJob("hello")}, false)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if len(res) != 1 || res[0].GetName() != "hello" || res[0].GetAction() != "created" {
		t.Fatalf("Apply results = %v, want hello created", res)
	}
	if n := f.count("Apply"); n != 3 {
		t.Fatalf("server saw %d Apply calls, want 3 (two Unavailable, one success)", n)
	}
}

func TestDoesNotRetryInvalidArgument(t *testing.T) {
	f := newFake()
	msg := `cronjob "hello": spec.schedule: expected 5 fields, found 3: "* * *"`
	f.fail("Apply", status.Error(codes.InvalidArgument, msg))
	c := dial(t, serve(t, f))

	_, err := c.Apply(testCtx(t), []*pb.Resource{cronJob("hello")}, false)
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
	if err.Error() != msg {
		t.Fatalf("err text = %q, want the server's message %q", err.Error(), msg)
	}
	if n := f.count("Apply"); n != 1 {
		t.Fatalf("server saw %d Apply calls, want 1", n)
	}
	if s, ok := status.FromError(err); !ok || s.Code() != codes.InvalidArgument {
		t.Fatalf("status of err = %v, want InvalidArgument", s)
	}
}

func TestNotFoundIsNotRetried(t *testing.T) {
	f := newFake()
	c := dial(t, serve(t, f))
	_, err := c.GetJob(testCtx(t), "default", "nope")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	if err.Error() != `job "nope" not found` {
		t.Fatalf("err text = %q", err.Error())
	}
	if n := f.count("Get"); n != 1 {
		t.Fatalf("server saw %d Get calls, want 1", n)
	}
}

func TestDeadFirstServerFallsThrough(t *testing.T) {
	f := newFake()
	c := dial(t, deadAddr(t), serve(t, f))

	res, err := c.Apply(testCtx(t), []*pb.Resource{cronJob("hello")}, false)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if len(res) != 1 {
		t.Fatalf("results = %v", res)
	}
	if n := f.count("Apply"); n != 1 {
		t.Fatalf("live server saw %d calls, want 1", n)
	}
	// The client stays on the live server.
	if _, err := c.Apply(testCtx(t), []*pb.Resource{cronJob("hello")}, false); err != nil {
		t.Fatal(err)
	}
	if got := c.current(); got != 1 {
		t.Fatalf("current server = %d, want 1", got)
	}
}

func TestGivesUpWhenContextEnds(t *testing.T) {
	f := newFake()
	for range 1000 {
		f.fail("Apply", status.Error(codes.Unavailable, "no leader"))
	}
	c := dial(t, serve(t, f))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := c.Apply(ctx, []*pb.Resource{cronJob("hello")}, false)
	if err == nil {
		t.Fatal("Apply succeeded against a cluster without a leader")
	}
	if !strings.Contains(err.Error(), "no leader") || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want it to say no leader and wrap DeadlineExceeded", err)
	}
	if n := f.count("Apply"); n < 3 {
		t.Fatalf("server saw %d calls in 300ms, want retries with backoff", n)
	}
}

func TestRetriedDeleteThatFindsNothingSucceeds(t *testing.T) {
	f := newFake()
	c := dial(t, serve(t, f))
	ctx := testCtx(t)
	if err := c.Delete(ctx, "cj", "default", "hello"); err != nil {
		t.Fatal(err)
	}
	// A second, fresh delete of the same object is a real NotFound.
	if err := c.Delete(ctx, "cronjob", "default", "hello"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("fresh delete of a deleted cronjob: err = %v, want ErrNotFound", err)
	}
	// A delete whose first attempt came back Unavailable after the
	// cluster applied it (simulated by the deletes counter) succeeds.
	f.fail("Delete", status.Error(codes.Unavailable, "connection reset"))
	if err := c.Delete(ctx, "cronjob", "default", "hello"); err != nil {
		t.Fatalf("retried delete: %v", err)
	}
}

func job(conds ...*pb.JobCondition) *pb.Job {
	return &pb.Job{Metadata: &pb.ObjectMeta{Name: "j", Namespace: "default"}, Status: &pb.JobStatus{Conditions: conds}}
}

func TestWaitJob(t *testing.T) {
	complete := &pb.JobCondition{Type: "Complete", Status: "True"}
	failed := &pb.JobCondition{Type: "Failed", Status: "True", Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit"}

	t.Run("complete", func(t *testing.T) {
		f := newFake()
		f.jobs = []*pb.Job{job(), job(), job(complete)}
		c := dial(t, serve(t, f))
		j, err := c.WaitJob(testCtx(t), "default", "j", "complete")
		if err != nil {
			t.Fatal(err)
		}
		if JobStatusText(j) != "Complete" || f.count("Get") != 0 || f.count("Watch") != 1 {
			t.Fatalf("status %s after %d gets and %d watches, want Complete from one watch", JobStatusText(j), f.count("Get"), f.count("Watch"))
		}
	})
	t.Run("resumes on a broken stream from the last index", func(t *testing.T) {
		f := newFake()
		f.jobs = []*pb.Job{job(), job(), job(complete)}
		f.breakAfter = 3 // ADDED, BOOKMARK, MODIFIED@2, then Unavailable
		c := dial(t, serve(t, f))
		j, err := c.WaitJob(testCtx(t), "default", "j", "complete")
		if err != nil {
			t.Fatal(err)
		}
		f.mu.Lock()
		since := f.watchSince
		f.mu.Unlock()
		if JobStatusText(j) != "Complete" || len(since) != 2 || since[0] != 0 || since[1] != 2 {
			t.Fatalf("status %s, watches from %v; want Complete after a watch from 0 and one resumed from 2", JobStatusText(j), since)
		}
	})
	t.Run("not found", func(t *testing.T) {
		f := newFake()
		c := dial(t, serve(t, f))
		if _, err := c.WaitJob(testCtx(t), "default", "j", "complete"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("failed while waiting for complete", func(t *testing.T) {
		f := newFake()
		f.jobs = []*pb.Job{job(), job(failed)}
		c := dial(t, serve(t, f))
		_, err := c.WaitJob(testCtx(t), "default", "j", "Complete")
		if !errors.Is(err, ErrJobFailed) || !strings.Contains(err.Error(), "BackoffLimitExceeded") {
			t.Fatalf("err = %v, want ErrJobFailed naming the reason", err)
		}
	})
	t.Run("wait for failed", func(t *testing.T) {
		f := newFake()
		f.jobs = []*pb.Job{job(failed)}
		c := dial(t, serve(t, f))
		if _, err := c.WaitJob(testCtx(t), "default", "j", "Failed"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		f := newFake()
		f.jobs = []*pb.Job{job()}
		c := dial(t, serve(t, f))
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := c.WaitJob(ctx, "default", "j", "Complete")
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "Pending") {
			t.Fatalf("err = %v, want DeadlineExceeded with the last status", err)
		}
	})
	t.Run("bad condition", func(t *testing.T) {
		c := dial(t, deadAddr(t))
		if _, err := c.WaitJob(testCtx(t), "default", "j", "Done"); !errors.Is(err, ErrInvalid) {
			t.Fatalf("err = %v, want ErrInvalid", err)
		}
	})
}

func TestLogsRetriesOpeningTheStream(t *testing.T) {
	f := newFake()
	f.fail("Logs", status.Error(codes.Unavailable, "no leader"))
	c := dial(t, serve(t, f))
	if got := readLogs(t, c, LogOptions{}); got != "hello\nworld\n" {
		t.Fatalf("logs = %q", got)
	}
}

func TestLogsTail(t *testing.T) {
	c := dial(t, serve(t, newFake()))
	for _, tc := range []struct {
		opts LogOptions
		want string
	}{
		{LogOptions{Tail: 1}, "world\n"},
		{LogOptions{Tail: 2}, "hello\nworld\n"},
		{LogOptions{Tail: 5}, "hello\nworld\n"},
		// Following after the tail skips what the tail already holds.
		{LogOptions{Tail: 1, Follow: true}, "world\n"},
		// Each line with the time it was written (the marks of the stream).
		{LogOptions{Timestamps: true}, "2026-03-07T11:00:00.123456789Z hello\n2026-03-07T11:00:02Z world\n"},
		{LogOptions{Timestamps: true, Tail: 1}, "2026-03-07T11:00:02Z world\n"},
		{LogOptions{Timestamps: true, Tail: 1, Follow: true}, "2026-03-07T11:00:02Z world\n"},
	} {
		if got := readLogs(t, c, tc.opts); got != tc.want {
			t.Errorf("logs %+v = %q, want %q", tc.opts, got, tc.want)
		}
	}
	if _, err := c.Logs(testCtx(t), "j", LogOptions{Tail: -1}); !errors.Is(err, ErrInvalid) {
		t.Errorf("tail -1: err = %v, want ErrInvalid", err)
	}
}

func readLogs(t *testing.T, c *Client, opts LogOptions) string {
	t.Helper()
	r, err := c.Logs(testCtx(t), "j", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLastLines(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"", 3, ""},
		{"a\nb\nc\n", 1, "c\n"},
		{"a\nb\nc", 1, "c"},
		{"a\nb\nc", 2, "b\nc"},
		{"a\nb\n", 9, "a\nb\n"},
	} {
		if got := string(lastLines([]byte(tc.in), tc.n)); got != tc.want {
			t.Errorf("lastLines(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestNewRejectsEmptyServers(t *testing.T) {
	if _, err := New(Config{}); err == nil || !strings.Contains(err.Error(), "servers") {
		t.Fatalf("err = %v, want one naming servers", err)
	}
}

func TestCanonicalKind(t *testing.T) {
	for in, want := range map[string]string{"cj": KindCronJob, "cronjobs": KindCronJob, "CronJob": KindCronJob, "jobs": KindJob, "job": KindJob, "pods": "pods"} {
		if got := CanonicalKind(in); got != want {
			t.Errorf("CanonicalKind(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClosedClientFailsFast(t *testing.T) {
	c := dial(t, serve(t, newFake()))
	_ = c.Close()
	_, err := c.ListWorkers(testCtx(t))
	if err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("err = %v, want one saying the client is closed", err)
	}
}

func TestConnectionOptions(t *testing.T) {
	f := newFake()
	unavailable := make([]error, 1000)
	for i := range unavailable {
		unavailable[i] = status.Error(codes.Unavailable, "no leader")
	}
	f.fail("Apply", unavailable...)
	var logs bytes.Buffer
	c, err := New(Config{
		Servers: []string{serve(t, f)}, Insecure: true,
		CallTimeout: 300 * time.Millisecond, UserAgent: "tenant-scheduler/2.3",
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	// No deadline on the context: CallTimeout bounds the call, retries included.
	_, err = c.Apply(context.Background(), []*pb.Resource{cronJob("a")}, false)
	if took := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || took > 3*time.Second {
		t.Fatalf("after %s: err = %v, want DeadlineExceeded after about 300ms", took, err)
	}
	f.mu.Lock()
	ua := f.userAgent
	f.mu.Unlock()
	if !strings.HasPrefix(ua, "tenant-scheduler/2.3 ") {
		t.Errorf("user-agent %q, want it to start with the configured one", ua)
	}
	if !strings.Contains(logs.String(), "retrying on the next server") || !strings.Contains(logs.String(), "op=apply") {
		t.Errorf("the logger saw no retry:\n%s", logs.String())
	}
	if _, err := New(Config{Servers: []string{"x:1"}, Insecure: true, KeepAlive: -1}); err != nil {
		t.Errorf("keepalive off: %v", err)
	}
}

// silentAddr is an address that accepts TCP connections and never answers,
// as a blackholed or hung server looks to a client.
func silentAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lis.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	return lis.Addr().String()
}

// TestNoServerReachableFailsFastNamingEveryAddress: with every server down
// (refusing connections, or accepting them and never answering) a call
// fails within about 3s, saying so and naming each address tried.
func TestNoServerReachableFailsFastNamingEveryAddress(t *testing.T) {
	t.Run("refused", func(t *testing.T) { noServerReachable(t, deadAddr(t), deadAddr(t)) })
	t.Run("silent", func(t *testing.T) { noServerReachable(t, silentAddr(t), deadAddr(t)) })
}

func noServerReachable(t *testing.T, a, b string) {
	c, err := New(Config{Servers: []string{a, b}, Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, err = c.ListCronJobs(ctx, "default")
	took := time.Since(start)
	if !errors.Is(err, ErrNoServer) || !strings.Contains(err.Error(), a) || !strings.Contains(err.Error(), b) {
		t.Fatalf("err = %v, want ErrNoServer naming %s and %s", err, a, b)
	}
	if took > 3500*time.Millisecond {
		t.Fatalf("gave up after %s, want about 3s", took)
	}
}
