package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// syncBuffer is a bytes.Buffer safe for a command writing while a test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// following is a command that follows changes (--watch, -f), run by cliFollow.
type following struct {
	t      *testing.T
	cancel context.CancelFunc
	done   chan int
	once   sync.Once
	code   int
}

// cliFollow starts a command that follows changes; stop or wait ends it.
func cliFollow(t *testing.T, args ...string) (out *syncBuffer, f *following) {
	t.Helper()
	resetCommands(rootCmd)
	ctx, cancel := context.WithCancel(context.Background())
	out = &syncBuffer{}
	errw := &syncBuffer{}
	f = &following{t: t, cancel: cancel, done: make(chan int, 1)}
	go func() { f.done <- run(ctx, append(args, "--insecure"), strings.NewReader(""), out, errw) }()
	t.Cleanup(func() {
		f.stop()
		if t.Failed() {
			t.Logf("stderr:\n%s", errw.String())
		}
	})
	return out, f
}

// stop interrupts the command (Ctrl-C) and returns its exit code.
func (f *following) stop() int {
	f.once.Do(func() {
		f.cancel()
		select {
		case f.code = <-f.done:
		case <-time.After(10 * time.Second):
			f.t.Fatal("the command did not stop within 10s of its context ending")
		}
	})
	return f.code
}

// wait waits for the command to end by itself and returns its exit code.
func (f *following) wait() int {
	f.once.Do(func() {
		select {
		case f.code = <-f.done:
		case <-time.After(10 * time.Second):
			f.cancel()
			f.t.Fatal("the command did not end by itself within 10s")
		}
		f.cancel()
	})
	return f.code
}

// waitOutput waits until out contains want.
func waitOutput(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("output lacks %q after 10s:\n%s", want, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func seedEvents(f *fakeCluster) {
	at := func(d time.Duration) *timestamppb.Timestamp { return timestamppb.New(testNow.Add(-d)) }
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = []*pb.Event{
		{Index: 10, Seq: 1, Time: at(10 * time.Minute), Namespace: "default", Type: "Normal", Reason: "Created", Kind: "CronJob", Name: "hello", CronJob: "hello", Job: "hello-29548070",
			Message: "Created job hello-29548070 for the tick at 2026-03-07T11:50:00Z"},
		{Index: 11, Seq: 1, Time: at(5 * time.Minute), Namespace: "default", Type: "Warning", Reason: "Skipped", Kind: "CronJob", Name: "hello", CronJob: "hello", Job: "hello-29548070",
			Message: "Skipped the tick at 2026-03-07T11:55:00Z: ConcurrencyPolicy: job hello-29548070 has not finished"},
		{Index: 12, Seq: 1, Time: at(3 * time.Minute), Namespace: "default", Type: "Warning", Reason: "Exited", Kind: "Attempt", Name: "hello-29548075-0-1", CronJob: "hello", Job: "hello-29548075",
			Message: "Attempt hello-29548075-0-1 exited with code 3 (Error)"},
		{Index: 13, Seq: 1, Time: at(time.Minute), Namespace: "team-a", Type: "Normal", Reason: "Created", Kind: "Job", Name: "adhoc", Job: "adhoc",
			Message: "Created job adhoc"},
	}
}

func TestEvents(t *testing.T) {
	f, addr := seed(t)
	seedEvents(f)
	out := cli(t, "", "events", "--server", addr).ok(t)
	assertTable(t, table(out), [][]string{
		{"LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"},
		{"10m", "Normal", "Created", "cronjob/hello", "Created job hello-29548070 for the tick at 2026-03-07T11:50:00Z"},
		{"5m", "Warning", "Skipped", "cronjob/hello", "Skipped the tick at 2026-03-07T11:55:00Z: ConcurrencyPolicy: job hello-29548070 has not finished"},
		{"3m", "Warning", "Exited", "attempt/hello-29548075-0-1", "Attempt hello-29548075-0-1 exited with code 3 (Error)"},
	})
	out = cli(t, "", "events", "--for", "job/hello-29548075", "--server", addr).ok(t)
	if rows := table(out); len(rows) != 2 || rows[1][2] != "Exited" {
		t.Fatalf("events --for job/hello-29548075:\n%s", out)
	}
	out = cli(t, "", "events", "-A", "--server", addr).ok(t)
	if rows := table(out); len(rows) != 5 || rows[0][0] != "NAMESPACE" || rows[4][0] != "team-a" {
		t.Fatalf("events -A:\n%s", out)
	}
	cli(t, "", "events", "--for", "pod/x", "--server", addr).fails(t, `--for "pod/x": want cronjob/NAME or job/NAME`)
	r := cli(t, "", "events", "-n", "empty", "--server", addr)
	if r.ok(t) != "" || !strings.Contains(r.stderr, "No resources found in empty namespace.") {
		t.Fatalf("events in an empty namespace: %+v", r)
	}

	// describe ends with the object's events, as kubectl does.
	out = cli(t, "", "describe", "cronjob/hello", "--server", addr).ok(t)
	_, evs, ok := strings.Cut(out, "Events:\n")
	if !ok {
		t.Fatalf("describe cronjob lacks an Events section:\n%s", out)
	}
	rows := table(evs)
	if len(rows) != 5 || rows[0][0] != "TYPE" || rows[2][1] != "Created" || rows[4][1] != "Exited" {
		t.Fatalf("describe cronjob events:\n%s", evs)
	}
	out = cli(t, "", "describe", "job/pi", "--server", addr).ok(t)
	if !strings.Contains(out, "Events:                       <none>\n") {
		t.Fatalf("describe of a Job without events should say Events: <none>:\n%s", out)
	}
}

func TestEventsWatch(t *testing.T) {
	f, addr := seed(t)
	seedEvents(f)
	out, cmd := cliFollow(t, "events", "--for", "cronjob/hello", "--watch", "--server", addr)
	waitOutput(t, out, "exited with code 3")
	f.feed <- &pb.WatchEvent{Type: "ADDED", Index: 20, Object: &pb.WatchEvent_Event{Event: &pb.Event{
		Index: 20, Seq: 1, Time: timestamppb.New(testNow), Namespace: "default", Type: "Normal", Reason: "Started", Kind: "Attempt",
		Name: "hello-29548075-0-2", CronJob: "hello", Job: "hello-29548075", Message: "Started attempt hello-29548075-0-2 on worker w1"}}}
	f.feed <- &pb.WatchEvent{Type: "ADDED", Index: 21, Object: &pb.WatchEvent_Event{Event: &pb.Event{
		Index: 21, Seq: 1, Time: timestamppb.New(testNow), Namespace: "default", Type: "Normal", Reason: "Created", Kind: "Job",
		Name: "other", Job: "other", Message: "Created job other"}}}
	f.feed <- &pb.WatchEvent{Type: "BOOKMARK", Index: 22}
	waitOutput(t, out, "Started attempt hello-29548075-0-2 on worker w1")
	if code := cmd.stop(); code != 0 {
		t.Fatalf("events --watch stopped with exit code %d", code)
	}
	got := out.String()
	if strings.Contains(got, "Created job other") || strings.Count(got, "LAST SEEN") != 1 || strings.Count(got, "\n") != 5 {
		t.Fatalf("events --watch printed:\n%s\nwant one header, the 3 events of cronjob/hello so far and the new one", got)
	}
}

func TestGetWatch(t *testing.T) {
	f, addr := seed(t)
	out, cmd := cliFollow(t, "get", "jobs", "--cronjob", "hello", "-w", "--server", addr)
	waitOutput(t, out, "hello-29548075")
	f.mu.Lock()
	done := proto.Clone(f.jobs["default/hello-29548075"]).(*pb.Job)
	f.mu.Unlock()
	done.Status.Active = 0
	done.Status.Succeeded = 1
	done.Status.CompletionTime = timestamppb.New(testNow)
	done.Status.Conditions = []*pb.JobCondition{{Type: "Complete", Status: "True"}}
	other := proto.Clone(done).(*pb.Job)
	other.Metadata.Name = "pi-2"
	other.Status.CronJob = ""
	f.feed <- &pb.WatchEvent{Type: "MODIFIED", Index: 30, Object: &pb.WatchEvent_Job{Job: other}}
	f.feed <- &pb.WatchEvent{Type: "MODIFIED", Index: 31, Object: &pb.WatchEvent_Job{Job: done}}
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(out.String(), "Complete") < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if code := cmd.stop(); code != 0 {
		t.Fatalf("get -w stopped with exit code %d", code)
	}
	rows := table(out.String())
	if len(rows) != 4 || rows[0][0] != "NAME" || rows[3][0] != "hello-29548075" || rows[3][1] != "Complete" {
		t.Fatalf("get jobs --cronjob hello -w printed:\n%s\nwant the header, the 2 jobs of hello and the completed one's new row", out.String())
	}
	cli(t, "", "get", "workers", "-w", "--server", addr).fails(t, "--watch works with cronjobs, jobs and attempts")
}

// TestLogsFollowWaitsForTheAttemptAndFollowsRetries: `logs -f` right after
// a Job is created waits for its first attempt to start, prints it, prints
// the retry, and ends when the Job has finished.
func TestLogsFollowWaitsForTheAttemptAndFollowsRetries(t *testing.T) {
	f, addr := seed(t)
	f.mu.Lock()
	job := proto.Clone(f.jobs["default/pi"]).(*pb.Job)
	job.Metadata.Name = "backup-1"
	job.Status = &pb.JobStatus{}
	f.jobs["default/backup-1"] = job
	f.logs["backup-1#1"] = "first try\n"
	f.logs["backup-1#2"] = "second try\n"
	f.mu.Unlock()
	att := func(n int32, state string) *pb.WatchEvent {
		return &pb.WatchEvent{Type: "MODIFIED", Index: uint64(40 + n), Object: &pb.WatchEvent_Attempt{Attempt: &pb.Attempt{
			Namespace: "default", Job: "backup-1", Number: n, Name: fmt.Sprintf("backup-1-0-%d", n), State: state}}}
	}
	out, cmd := cliFollow(t, "logs", "-f", "job/backup-1", "--server", addr)
	f.feed <- att(1, pb.AttemptPending)
	f.feed <- &pb.WatchEvent{Type: "BOOKMARK", Index: 41}
	f.feed <- att(1, pb.AttemptRunning)
	waitOutput(t, out, "first try\n")
	f.feed <- att(1, pb.AttemptFailed)
	f.feed <- att(2, pb.AttemptPending)
	f.feed <- att(2, pb.AttemptRunning)
	waitOutput(t, out, "second try\n")
	done := proto.Clone(job).(*pb.Job)
	done.Status = &pb.JobStatus{Succeeded: 1, Conditions: []*pb.JobCondition{{Type: "Complete", Status: "True"}}}
	f.feed <- &pb.WatchEvent{Type: "MODIFIED", Index: 50, Object: &pb.WatchEvent_Job{Job: done}}
	if code := cmd.wait(); code != 0 || out.String() != "first try\nsecond try\n" {
		t.Fatalf("logs -f: exit %d, printed %q", code, out.String())
	}
	defer func(d time.Duration) { jobAppearTimeout = d }(jobAppearTimeout)
	jobAppearTimeout = 100 * time.Millisecond // how long a Job its server does not show yet is waited for
	cli(t, "", "logs", "-f", "job/nope", "--server", addr).fails(t, `job "nope" not found`)
}

func TestHistory(t *testing.T) {
	_, addr := seed(t)
	out := cli(t, "", "history", "cronjob/hello", "--server", addr).ok(t)
	assertTable(t, table(out), [][]string{
		{"TICK", "TICKS", "DECISION", "REASON", "JOB", "RESULT", "START DELAY", "DURATION", "MESSAGE"},
		{"2026-03-07T10:00:00Z..2026-03-07T11:45:00Z", "22", "skip", "Suspended", "<none>", "<none>", "<none>", "<none>", "the CronJob is suspended"},
		{"2026-03-07T11:50:00Z", "1", "invoke", "Scheduled", "hello-29548070", "Complete", "<none>", "45s", "<none>"},
		{"2026-03-07T11:55:00Z", "1", "skip", "ConcurrencyPolicy", "hello-29548070", "<none>", "<none>", "<none>", "concurrencyPolicy Forbid: job hello-29548070 has not finished"},
		{"2026-03-07T11:55:00Z", "1", "invoke", "Scheduled", "hello-29548075", "Running", "2m", "3m", "<none>"},
	})
	rows := table(cli(t, "", "history", "cj/hello", "--since", "6m", "--server", addr).ok(t))
	if len(rows) != 3 || rows[1][3] != "ConcurrencyPolicy" {
		t.Fatalf("history --since 6m: %v", rows)
	}
	r := cli(t, "", "history", "cronjob/hello", "--since", "1s", "--server", addr)
	if r.ok(t) != "" || !strings.Contains(r.stderr, "No ticks of cronjob/hello in the last 1s.") {
		t.Fatalf("history --since 1s: %+v", r)
	}
	cli(t, "", "history", "cronjob/nope", "--server", addr).fails(t, `cronjob "nope" not found`)
	cli(t, "", "history", "job/x", "--server", addr).fails(t, "history is kept per CronJob")
}

func TestVersion(t *testing.T) {
	out := cli(t, "", "version").ok(t)
	if !regexp.MustCompile(`^raftcron \S+\nrevision: \S+.*\ngo: go1\.\S+\n$`).MatchString(out) {
		t.Fatalf("version printed %q", out)
	}
}

func TestGetAttemptsAllNamespaces(t *testing.T) {
	f, addr := seed(t)
	f.mu.Lock()
	f.attempts = append(f.attempts, &pb.Attempt{Namespace: "team-a", Job: "adhoc", Name: "adhoc-0-1", Number: 1, State: "Running", Worker: "w2"})
	f.mu.Unlock()
	rows := table(cli(t, "", "get", "attempts", "-A", "--server", addr).ok(t))
	if len(rows) != 4 || rows[0][0] != "NAMESPACE" || rows[1][0] != "default" || rows[3][0] != "team-a" || rows[3][1] != "adhoc-0-1" {
		t.Fatalf("get attempts -A: %v", rows)
	}
	if rows := table(cli(t, "", "get", "attempts", "--server", addr).ok(t)); len(rows) != 3 || rows[0][0] != "NAME" {
		t.Fatalf("get attempts (default namespace): %v", rows)
	}
	cli(t, "", "get", "attempts", "-A", "--job", "x", "--server", addr).fails(t, "--job names a Job of one namespace")
}

func TestPreciseDurationShowsMilliseconds(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 37 * time.Millisecond: "37ms", 1204 * time.Millisecond: "1.204s", 45 * time.Second: "45s", 3 * time.Minute: "3m",
	} {
		if got := preciseDuration(d); got != want {
			t.Errorf("preciseDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
