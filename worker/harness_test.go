package worker

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/worker/testimage"
)

// testImage is set by TestMain when a Docker daemon answers.
var (
	testImage  string
	dockerErr  error
	testBinary string // the testtask binary for the exec runtime
	guardBin   string // a static raftcron-guard binary: the lease guard
)

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	if d, err := NewDockerRuntime(ctx, "probe", slog.Default()); err != nil {
		dockerErr = err
	} else {
		d.Close()
		testImage, dockerErr = testimage.Build(ctx)
	}
	dir, err := os.MkdirTemp("", "raftcron-worker-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testBinary, err = testimage.BinaryPath(ctx, dir)
	if err == nil {
		guardBin, err = testimage.GuardBinary(ctx, dir)
	}
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if code == 0 {
		// Every Run has returned and every runtime is closed: nothing of
		// the agent may be left running.
		if err := goleak.Find(goleak.IgnoreTopFunction("github.com/raftcron/raftcron/worker.(*ExecRuntime).reap")); err != nil {
			fmt.Fprintln(os.Stderr, "goroutines left behind:", err)
			code = 1
		}
	}
	os.Exit(code)
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// needDocker skips, loudly, when no Docker daemon answers.
func needDocker(t *testing.T) {
	t.Helper()
	if dockerErr != nil {
		t.Skipf("SKIPPING DOCKER TEST: no usable Docker daemon (%v) — the docker runtime is NOT tested", dockerErr)
	}
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// harness drives an Agent without a session: assignments are handed to it
// directly and its queued reports are read from its queue.
type harness struct {
	t      *testing.T
	a      *Agent
	ctx    context.Context
	cancel context.CancelFunc
	seq    uint64
}

func newHarness(t *testing.T, rt Runtime, workerID string, dataDir string) *harness {
	t.Helper()
	cfg := Config{Servers: []string{"unused"}, ID: workerID, Slots: 4, DataDir: dataDir}
	a := newAgent(cfg, rt, testLogger(t))
	a.guardBin = installGuard(t, dataDir)
	a.leaseTTL = time.Hour // leases are not under test here
	a.cfg.InitialLease = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	a.runCtx = ctx
	h := &harness{t: t, a: a, ctx: ctx, cancel: cancel}
	t.Cleanup(func() {
		cancel()
		a.wg.Wait()
	})
	return h
}

// installGuard installs the test's static raftcron binary as the guard of
// the worker with dataDir, as New does.
func installGuard(t *testing.T, dataDir string) string {
	t.Helper()
	bin, err := guardBinary(guardBin, dataDir, true)
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func (h *harness) assign(name string, spec *pb.RunSpec) *pb.AttemptRef {
	h.seq++
	ref := &pb.AttemptRef{Namespace: "test", Name: name, Incarnation: 100 + h.seq}
	h.a.assign(h.ctx, &pb.Assignment{Attempt: ref, Job: "job", Index: 2, Run: spec})
	return ref
}

// report waits for a queued report of the attempt in one of the given states.
func (h *harness) report(name string, timeout time.Duration, states ...string) *pb.AttemptReport {
	h.t.Helper()
	var got *pb.AttemptReport
	waitFor(h.t, timeout, fmt.Sprintf("a %v report of %s", states, name), func() bool {
		h.a.mu.Lock()
		defer h.a.mu.Unlock()
		for _, p := range h.a.reports {
			if p.r.GetAttempt().GetName() != name {
				continue
			}
			for _, s := range states {
				if p.r.GetState() == s {
					got = p.r
					return true
				}
			}
		}
		return false
	})
	return got
}

// ackAll acknowledges every queued report.
func (h *harness) ackAll() {
	h.a.mu.Lock()
	var ids []uint64
	for _, p := range h.a.reports {
		ids = append(ids, p.r.GetReportId())
	}
	h.a.mu.Unlock()
	for _, id := range ids {
		h.a.ack(id)
	}
}

func (h *harness) kill(name, reason string, grace time.Duration) {
	h.a.handleKill(h.ctx, &pb.Kill{Attempt: &pb.AttemptRef{Namespace: "test", Name: name}, Reason: reason, Grace: durationpb.New(grace)})
}

// specs for the two runtimes: docker runs the image, exec runs the binary.
type specMaker func(args ...string) *pb.RunSpec

func dockerSpec(args ...string) *pb.RunSpec {
	return &pb.RunSpec{Image: testImage, ImagePullPolicy: "Never", Args: args, KillGrace: durationpb.New(time.Second)}
}

func execSpec(args ...string) *pb.RunSpec {
	return &pb.RunSpec{Command: []string{testBinary}, Args: args, KillGrace: durationpb.New(time.Second)}
}

func deadlineIn(d time.Duration) *timestamppb.Timestamp { return timestamppb.New(time.Now().Add(d)) }

func writeLog(path, text string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(text), 0o644)
}
