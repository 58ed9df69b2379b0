package worker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/worker/guard"
)

// Defect 1: a container created by a worker that stopped before starting it
// never ran; it must not be reported Succeeded with exit code 0.
func TestDockerCreatedButNeverStartedIsLost(t *testing.T) {
	rc := runtimes()[0]
	dir, id := t.TempDir(), workerID(t)
	rt := rc.make(t, id, dir)
	d := rt.(*DockerRuntime)
	ref := &pb.AttemptRef{Namespace: "test", Name: "never", Incarnation: 7}
	created, err := d.cli.ContainerCreate(context.Background(), &container.Config{
		Image: testImage, Cmd: []string{"-print", "ran"},
		Labels: taskLabels(&Task{WorkerID: id, Attempt: ref, Job: "job", Index: 0}),
	}, nil, nil, nil, ContainerName("", ref.GetNamespace(), ref.GetName()))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, rt, id, dir)
	if err := h.a.adopt(h.ctx); err != nil {
		t.Fatal(err)
	}
	r := h.report("never", 10*time.Second, "Succeeded", "Failed", "Lost", "Running")
	if r.GetState() != "Lost" || r.GetReason() != "WorkerLost" || !strings.Contains(r.GetMessage(), "never started") {
		t.Fatalf("report = %s/%s exit %d %q, want Lost/WorkerLost: never started", r.GetState(), r.GetReason(), r.GetExitCode(), r.GetMessage())
	}
	insp, err := d.cli.ContainerInspect(context.Background(), created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if insp.State.Status != container.StateCreated {
		t.Errorf("the container was %s; a run reported as never started must not be started", insp.State.Status)
	}
}

// slowStart delays Start, as a slow image pull or create does. With
// skipCheck it also hides Task.MayStart, as if the worker's own check had
// passed just before the lease ran out, to show the guard's check.
type slowStart struct {
	Runtime
	delay     time.Duration
	skipCheck bool
}

func (s slowStart) Start(ctx context.Context, t *Task) (string, error) {
	time.Sleep(s.delay)
	if s.skipCheck {
		c := *t
		c.MayStart = nil
		t = &c
	}
	return s.Runtime.Start(ctx, t)
}

// Defect 2: an attempt whose lease runs out while it is being started never
// starts: the worker checks before starting it, and the guard checks again.
func TestLeaseExpiredDuringStartNeverStarts(t *testing.T) {
	for _, rc := range runtimes() {
		for _, check := range []string{"worker", "guard"} {
			t.Run(rc.name+"/"+check, func(t *testing.T) {
				dir, id := t.TempDir(), workerID(t)
				inner := rc.make(t, id, dir)
				h := newHarness(t, slowStart{Runtime: inner, delay: 1500 * time.Millisecond, skipCheck: check == "guard"}, id, dir)
				h.a.leaseTTL = time.Second
				h.a.wg.Add(1)
				go func() { defer h.a.wg.Done(); h.a.enforceLeases(h.ctx) }()
				marker := filepath.Join(dir, "ran")
				spec := rc.spec("-print", "WORKLOAD-RAN")
				if rc.name == "exec" {
					spec.Args = append(spec.Args, "-marker", marker)
				}
				h.assign("late", spec)
				r := h.report("late", 30*time.Second, "Succeeded", "Failed", "Lost")
				if r.GetState() != "Lost" || r.GetReason() != "WorkerLost" {
					t.Fatalf("report = %s/%s %q, want Lost/WorkerLost (never started)", r.GetState(), r.GetReason(), r.GetMessage())
				}
				if strings.Contains(r.GetOutputTail(), "WORKLOAD-RAN") {
					t.Errorf("the workload ran: output %q", r.GetOutputTail())
				}
				if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("the workload ran (marker %v)", err)
				}
				if check == "guard" {
					rec, err := guard.ReadRecord(attemptDir(dir, "test", "late"))
					if err != nil || !rec.NotStarted {
						t.Errorf("guard record = %+v, %v; want NotStarted", rec, err)
					}
				}
			})
		}
	}
}

// flakyKill fails the first kills, as a Docker daemon that does not answer.
type flakyKill struct {
	*fakeRuntime
	mu    sync.Mutex
	fails int
	calls int
}

func (f *flakyKill) Kill(ctx context.Context, id string, grace time.Duration) error {
	f.mu.Lock()
	f.calls++
	fail := f.calls <= f.fails
	f.mu.Unlock()
	if fail {
		return errors.New("daemon does not answer")
	}
	return f.fakeRuntime.Kill(ctx, id, grace)
}

// Defect 3: a kill that fails is tried again until the attempt has ended.
func TestFailedKillIsRetried(t *testing.T) {
	dir := t.TempDir()
	rt := &flakyKill{fakeRuntime: newFakeRuntime(), fails: 2}
	h := newHarness(t, rt, "w1", dir)
	h.assign("stuck", &pb.RunSpec{Image: "img"})
	h.report("stuck", 10*time.Second, "Running")
	h.kill("stuck", "Killed", 0)
	r := h.report("stuck", 10*time.Second, "Failed", "Succeeded", "Lost")
	if r.GetReason() != "Killed" {
		t.Errorf("report = %v, want Failed/Killed", r)
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.calls != 3 {
		t.Errorf("%d kill calls, want 3 (two failures, then one that worked)", rt.calls)
	}
}

func TestDockerKillReturnsErrors(t *testing.T) {
	rc := runtimes()[0]
	dir, id := t.TempDir(), workerID(t)
	rt := rc.make(t, id, dir)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := rt.Kill(ctx, "some-container", 0); err == nil {
		t.Error("Kill with a dead connection to the daemon returned nil")
	}
	if err := rt.Kill(context.Background(), "raftcron-no-such-container", 0); err != nil {
		t.Errorf("Kill of a container that is gone: %v, want nil", err)
	}
}

// Defect 4: an exec attempt that ends while the worker is down is reported
// with its true exit code and times (the guard's record); with no record at
// all it is Lost, never a failure counted against backoffLimit.
func TestExecEndedWhileWorkerDown(t *testing.T) {
	rc := runtimes()[1]
	for _, tc := range []struct {
		name     string
		noRecord bool
	}{{"with the guard's record", false}, {"nothing known", true}} {
		t.Run(tc.name, func(t *testing.T) {
			dir, id := t.TempDir(), workerID(t)
			rt := rc.make(t, id, dir)
			before := newHarness(t, rt, id, dir)
			before.assign("brief", rc.spec("-print", "brief one", "-sleep", "700ms", "-exit", "4"))
			before.report("brief", 10*time.Second, "Running")
			before.cancel()
			before.a.wg.Wait()
			if err := rt.Close(); err != nil {
				t.Fatal(err)
			}
			adir := attemptDir(dir, "test", "brief")
			waitFor(t, 10*time.Second, "the attempt to end while the worker is down", func() bool {
				r, err := guard.ReadRecord(adir)
				return err == nil && r.Exited
			})
			if tc.noRecord {
				if err := os.Remove(filepath.Join(adir, guard.RecordFile)); err != nil {
					t.Fatal(err)
				}
			}
			after := newHarness(t, rc.make(t, id, dir), id, dir)
			if err := after.a.adopt(after.ctx); err != nil {
				t.Fatal(err)
			}
			r := after.report("brief", 10*time.Second, "Succeeded", "Failed", "Lost")
			if tc.noRecord {
				if r.GetState() != "Lost" || r.GetReason() != "WorkerLost" {
					t.Fatalf("report = %s/%s, want Lost/WorkerLost", r.GetState(), r.GetReason())
				}
				return
			}
			if r.GetState() != "Failed" || r.GetReason() != "Error" || r.GetExitCode() != 4 || !strings.Contains(r.GetOutputTail(), "brief one") {
				t.Fatalf("report = %s/%s exit %d output %q, want Failed/Error/4 with the output", r.GetState(), r.GetReason(), r.GetExitCode(), r.GetOutputTail())
			}
			if d := r.GetFinishTime().AsTime().Sub(r.GetStartTime().AsTime()); d < 700*time.Millisecond || d > 5*time.Second {
				t.Errorf("run took %v by the report's times, want about 700ms (the guard's start and finish)", d)
			}
		})
	}
}

// twoClocks ends attempts with a finish time before the start time, as two
// clocks that disagree would.
type twoClocks struct{ *fakeRuntime }

func (f twoClocks) Wait(ctx context.Context, id, logPath string) (ExitStatus, error) {
	exit, err := f.fakeRuntime.Wait(ctx, id, logPath)
	exit.StartTime = time.Now()
	exit.FinishTime = exit.StartTime.Add(-time.Second)
	return exit, err
}

// Defect 12: a report never has a finish time before its start time.
func TestReportNeverNegativeDuration(t *testing.T) {
	rt := twoClocks{newFakeRuntime()}
	h := newHarness(t, rt, "w1", t.TempDir())
	h.assign("skew", &pb.RunSpec{Image: "img"})
	h.report("skew", 10*time.Second, "Running")
	rt.exit("id-skew", 0)
	r := h.report("skew", 10*time.Second, "Succeeded", "Failed")
	if r.GetFinishTime().AsTime().Before(r.GetStartTime().AsTime()) {
		t.Errorf("report runs from %v to %v: a negative duration", r.GetStartTime().AsTime(), r.GetFinishTime().AsTime())
	}
}

// Issue 10 (14): the files of an ended attempt are deleted once its result
// was acknowledged and the retention has passed; a held attempt's are kept.
func TestPruneDeletesEndedAttemptFiles(t *testing.T) {
	dir := t.TempDir()
	rt := newFakeRuntime()
	h := newHarness(t, rt, "w1", dir)
	h.a.cfg.Retention = time.Hour
	old := time.Now().Add(-2 * time.Hour)
	mk := func(ns, name string, mtime time.Time) {
		t.Helper()
		if err := writeLog(logPath(dir, ns, name), "output\n"); err != nil {
			t.Fatal(err)
		}
		adir := attemptDir(dir, ns, name)
		if err := makeAttemptDir(adir); err != nil {
			t.Fatal(err)
		}
		if err := guard.WriteRecord(adir, guard.Record{Exited: true}); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(guard.TimesPath(logPath(dir, ns, name)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{logPath(dir, ns, name), guard.TimesPath(logPath(dir, ns, name)), adir, filepath.Join(adir, guard.RecordFile)} {
			if err := os.Chtimes(p, mtime, mtime); err != nil {
				t.Fatal(err)
			}
		}
	}
	mk("test", "ended-long-ago", old)
	mk("other", "ended-recently", time.Now().Add(-time.Minute))
	h.assign("running", &pb.RunSpec{Image: "img"})
	h.report("running", 10*time.Second, "Running")
	mk("test", "running", old) // held: kept however old
	// A times file left without its log is deleted too.
	orphan := guard.TimesPath(logPath(dir, "test", "orphan"))
	if err := os.WriteFile(orphan, nil, 0o644); err != nil || os.Chtimes(orphan, old, old) != nil {
		t.Fatal(err)
	}

	if err := h.a.prune(time.Now()); err != nil {
		t.Fatal(err)
	}
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }
	if exists(logPath(dir, "test", "ended-long-ago")) || exists(guard.TimesPath(logPath(dir, "test", "ended-long-ago"))) ||
		exists(attemptDir(dir, "test", "ended-long-ago")) || exists(orphan) {
		t.Error("the files of an attempt that ended past the retention are still there")
	}
	for _, n := range [][2]string{{"other", "ended-recently"}, {"test", "running"}} {
		if !exists(logPath(dir, n[0], n[1])) || !exists(guard.TimesPath(logPath(dir, n[0], n[1]))) || !exists(attemptDir(dir, n[0], n[1])) {
			t.Errorf("the files of %s/%s were deleted", n[0], n[1])
		}
	}
}

// Issue 10 (14): an exec attempt's log file is capped (the guard copies the
// output and drops what is past MaxLogSize).
func TestExecLogCapped(t *testing.T) {
	rc := runtimes()[1]
	dir, id := t.TempDir(), workerID(t)
	h := newHarness(t, rc.make(t, id, dir), id, dir)
	h.assign("chatty", &pb.RunSpec{Command: []string{"/bin/sh", "-c", fmt.Sprintf("head -c %d /dev/zero | tr '\\\\0' x; echo; echo the end", MaxLogSize+(1<<20))}})
	r := h.report("chatty", 30*time.Second, "Succeeded", "Failed", "Lost")
	if r.GetState() != "Succeeded" {
		t.Fatalf("report = %v", r)
	}
	st, err := os.Stat(logPath(dir, "test", "chatty"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() > MaxLogSize+200 {
		t.Errorf("log file is %d bytes, want at most about MaxLogSize (%d)", st.Size(), MaxLogSize)
	}
	if b := readTail(logPath(dir, "test", "chatty"), 200); !strings.Contains(b, "output truncated") {
		t.Errorf("log file ends with %q, want a note that the output was truncated", b)
	}
}

// Issue 10 (9): two clusters whose workers share a worker id and a Docker
// host run the same attempt name side by side; neither lists, replaces or
// removes the other's container.
func TestDockerClustersOnOneHost(t *testing.T) {
	rc := runtimes()[0]
	id := workerID(t)
	dirA, dirB := t.TempDir(), t.TempDir()
	rtA, rtB := rc.make(t, id, dirA).(*DockerRuntime), rc.make(t, id, dirB).(*DockerRuntime)
	rtA.SetClusterID("aaaaaaaaaaaa")
	rtB.SetClusterID("bbbbbbbbbbbb")
	a, b := newHarness(t, rtA, id, dirA), newHarness(t, rtB, id, dirB)
	a.assign("same", rc.spec("-sleep", "30s"))
	ra := a.report("same", 30*time.Second, "Running", "Failed")
	b.assign("same", rc.spec("-sleep", "30s"))
	rb := b.report("same", 30*time.Second, "Running", "Failed")
	if ra.GetState() != "Running" || rb.GetState() != "Running" || ra.GetContainerId() == rb.GetContainerId() {
		t.Fatalf("reports %v and %v, want both Running in two containers", ra, rb)
	}
	for _, c := range []struct {
		rt   *DockerRuntime
		want string
	}{{rtA, ra.GetContainerId()}, {rtB, rb.GetContainerId()}} {
		insts, err := c.rt.List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(insts) != 1 || insts[0].ID != c.want || !insts[0].Running {
			t.Errorf("cluster %s lists %+v, want only its own running container %.12s", c.rt.cluster(), insts, c.want)
		}
	}

	// A name clash with a container this worker does not own fails the
	// start and leaves that container alone.
	ref := &pb.AttemptRef{Namespace: "test", Name: "clash", Incarnation: 1}
	other, err := rtB.cli.ContainerCreate(context.Background(), &container.Config{
		Image: testImage, Cmd: []string{"-sleep", "30s"},
		Labels: map[string]string{LabelWorker: "someone-else", LabelCluster: "bbbbbbbbbbbb"},
	}, nil, nil, nil, ContainerName("bbbbbbbbbbbb", ref.GetNamespace(), ref.GetName()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rtB.Remove(context.Background(), other.ID) })
	b.assign("clash", rc.spec("-sleep", "30s"))
	r := b.report("clash", 30*time.Second, "Failed", "Running", "Lost")
	if r.GetState() != "Failed" || !strings.Contains(r.GetMessage(), "not this worker's") {
		t.Errorf("report = %s/%s %q, want Failed: the name is held by a container not this worker's", r.GetState(), r.GetReason(), r.GetMessage())
	}
	if _, err := rtB.cli.ContainerInspect(context.Background(), other.ID); err != nil {
		t.Errorf("the other worker's container is gone: %v", err)
	}
}

// A worker's data dir belongs to the first cluster it joins.
func TestWorkerJoinsOneCluster(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, newFakeRuntime(), "w1", dir)
	if err := h.a.joinCluster("aaaaaaaaaaaa"); err != nil {
		t.Fatal(err)
	}
	if err := h.a.joinCluster("aaaaaaaaaaaa"); err != nil {
		t.Errorf("joining the same cluster again: %v", err)
	}
	if err := h.a.joinCluster("bbbbbbbbbbbb"); err == nil || !strings.Contains(err.Error(), "belongs to cluster aaaaaaaaaaaa") {
		t.Errorf("joining another cluster: %v, want refused", err)
	}
	again := newHarness(t, newFakeRuntime(), "w1", dir)
	if err := again.a.loadClusterID(); err != nil {
		t.Fatal(err)
	}
	if again.a.clusterID != "aaaaaaaaaaaa" {
		t.Errorf("after a restart the worker belongs to cluster %q, want aaaaaaaaaaaa", again.a.clusterID)
	}
}

// A restarted worker re-adopts a running attempt with the lease its guard
// holds, not a fresh one: if the cluster does not renew it, it ends when
// that lease ends (Lost, WorkerLost), however long Config.InitialLease is.
func TestRestartKeepsTheGuardsLease(t *testing.T) {
	rc := runtimes()[1]
	dir, id := t.TempDir(), workerID(t)
	rt := rc.make(t, id, dir)
	before := newHarness(t, rt, id, dir)
	before.assign("held", rc.spec("-sleep", "60s"))
	before.report("held", 10*time.Second, "Running")
	before.cancel()
	before.a.wg.Wait()
	if err := rt.Close(); err != nil {
		t.Fatal(err)
	}
	// What the cluster granted last: 1.5s from now.
	end := time.Now().Add(1500 * time.Millisecond)
	if err := writeLease(attemptDir(dir, "test", "held"), end, 300*time.Millisecond, ""); err != nil {
		t.Fatal(err)
	}
	after := newHarness(t, rc.make(t, id, dir), id, dir) // InitialLease: an hour
	after.a.leaseTTL = time.Second
	if err := after.a.adopt(after.ctx); err != nil {
		t.Fatal(err)
	}
	after.a.wg.Add(1)
	go func() { defer after.a.wg.Done(); after.a.enforceLeases(after.ctx) }()
	r := after.report("held", 10*time.Second, "Succeeded", "Failed", "Lost")
	if r.GetState() != "Lost" || r.GetReason() != "WorkerLost" {
		t.Errorf("report = %s/%s %q, want Lost/WorkerLost (its lease ran out)", r.GetState(), r.GetReason(), r.GetMessage())
	}
	if late := r.GetFinishTime().AsTime().Sub(end); late > 500*time.Millisecond {
		t.Errorf("the attempt ended %v after the lease the cluster granted", late)
	}
}

// The noop runtime (load tests) runs nothing, so it gets no guard files.
func TestNoopRuntimeNeedsNoGuardFiles(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, NewNoopRuntime(), "w1", dir)
	h.assign("nothing", &pb.RunSpec{Image: "img"})
	if r := h.report("nothing", 10*time.Second, "Succeeded", "Failed", "Lost"); r.GetState() != "Succeeded" {
		t.Fatalf("report = %v, want Succeeded", r)
	}
	if _, err := os.Stat(filepath.Join(dir, "attempts")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the noop runtime got attempt directories (%v)", err)
	}
}

func TestDefaultGuardIsTheSmallBinaryNextToTheWorker(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "raftcron")
	if got := defaultGuard(exe); got != exe {
		t.Fatalf("no raftcron-guard next to it: guard %s, want the worker's own binary %s", got, exe)
	}
	small := filepath.Join(dir, GuardName)
	if err := os.WriteFile(small, []byte("not executable"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := defaultGuard(exe); got != exe {
		t.Fatalf("a raftcron-guard that is not executable: guard %s, want %s", got, exe)
	}
	if err := os.Chmod(small, 0o755); err != nil {
		t.Fatal(err)
	}
	if got := defaultGuard(exe); got != small {
		t.Fatalf("guard %s, want %s", got, small)
	}
}

func TestWorkerRefusesAGuardOfAnotherProtocol(t *testing.T) {
	dir := t.TempDir()
	// A static binary that is no guard of this version: it prints another
	// protocol (the worker's test task would not answer at all).
	fake := filepath.Join(dir, "raftcron-guard")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho raftcron-guard protocol 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := checkGuardProtocol(fake)
	if err == nil || !strings.Contains(err.Error(), `it answered "raftcron-guard protocol 0"`) || !strings.Contains(err.Error(), "--guard-binary") {
		t.Fatalf("a guard of protocol 0: %v", err)
	}
	if err := checkGuardProtocol(guardBin); err != nil {
		t.Fatalf("the raftcron-guard of this build: %v", err)
	}
}
