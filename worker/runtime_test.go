package worker

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// runtimeCase sets up one runtime for a test.
type runtimeCase struct {
	name string
	// make returns a runtime for workerID keeping state in dataDir.
	make func(t *testing.T, workerID, dataDir string) Runtime
	spec specMaker
}

func runtimes() []runtimeCase {
	return []runtimeCase{
		{name: "docker", spec: dockerSpec, make: func(t *testing.T, workerID, dataDir string) Runtime {
			needDocker(t)
			d, err := NewDockerRuntime(context.Background(), workerID, testLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				// Remove whatever a failed test left behind.
				insts, _ := d.List(context.Background())
				for _, in := range insts {
					_ = d.Remove(context.Background(), in.ID)
				}
				d.Close()
			})
			return d
		}},
		{name: "exec", spec: execSpec, make: func(t *testing.T, workerID, dataDir string) Runtime {
			e, err := NewExecRuntime(workerID, dataDir, testLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				insts, _ := e.List(context.Background())
				for _, in := range insts {
					_ = e.Remove(context.Background(), in.ID)
				}
				e.Close()
			})
			return e
		}},
	}
}

func workerID(t *testing.T) string {
	return fmt.Sprintf("w-%s-%d", strings.NewReplacer("/", "-", "_", "-").Replace(strings.ToLower(t.Name())), time.Now().UnixNano()%1e6)
}

func TestRuntimeExitCodeAndOutput(t *testing.T) {
	for _, rc := range runtimes() {
		t.Run(rc.name, func(t *testing.T) {
			dir, id := t.TempDir(), workerID(t)
			h := newHarness(t, rc.make(t, id, dir), id, dir)
			h.assign("exit3", rc.spec("-print", "hello from the task", "-stderr", "and its stderr", "-exit", "3"))
			running := h.report("exit3", 30*time.Second, "Running")
			if running.GetContainerId() == "" || running.GetStartTime() == nil {
				t.Errorf("Running report without container id or start time: %v", running)
			}
			r := h.report("exit3", 30*time.Second, "Succeeded", "Failed")
			if r.GetState() != "Failed" || r.GetReason() != "Error" || r.GetExitCode() != 3 {
				t.Fatalf("report = %s/%s/%d, want Failed/Error/3 (%v)", r.GetState(), r.GetReason(), r.GetExitCode(), r)
			}
			for _, want := range []string{"hello from the task", "and its stderr"} {
				if !strings.Contains(r.GetOutputTail(), want) {
					t.Errorf("output tail %q lacks %q", r.GetOutputTail(), want)
				}
			}
			if r.GetFinishTime() == nil {
				t.Error("finished report has no finish time")
			}
			b, err := os.ReadFile(filepath.Join(dir, "logs", "test", "exit3.log"))
			if err != nil || !strings.Contains(string(b), "hello from the task") {
				t.Errorf("log file: %q, %v; want the output", b, err)
			}
			// Once the final report is acknowledged, the runtime forgets it.
			h.ackAll()
			waitFor(t, 10*time.Second, "the finished attempt to be removed", func() bool {
				insts, err := h.a.rt.List(context.Background())
				return err == nil && len(insts) == 0
			})
		})
	}
}

func TestRuntimeSucceeded(t *testing.T) {
	for _, rc := range runtimes() {
		t.Run(rc.name, func(t *testing.T) {
			dir, id := t.TempDir(), workerID(t)
			h := newHarness(t, rc.make(t, id, dir), id, dir)
			h.assign("ok", rc.spec("-print", "fine"))
			r := h.report("ok", 30*time.Second, "Succeeded", "Failed")
			if r.GetState() != "Succeeded" || r.GetExitCode() != 0 || r.GetReason() != "" {
				t.Fatalf("report = %v, want Succeeded with exit code 0", r)
			}
		})
	}
}

func TestRuntimeEnvPassesThrough(t *testing.T) {
	for _, rc := range runtimes() {
		t.Run(rc.name, func(t *testing.T) {
			dir, id := t.TempDir(), workerID(t)
			h := newHarness(t, rc.make(t, id, dir), id, dir)
			spec := rc.spec("-env")
			spec.Env = map[string]string{"JOB_COMPLETION_INDEX": "2", "RAFTCRON_SCHEDULED_TIME": "2026-11-23T10:00:00Z"}
			h.assign("env", spec)
			r := h.report("env", 30*time.Second, "Succeeded", "Failed")
			for _, want := range []string{"JOB_COMPLETION_INDEX=2", "RAFTCRON_SCHEDULED_TIME=2026-11-23T10:00:00Z"} {
				if !strings.Contains(r.GetOutputTail(), want) {
					t.Errorf("output %q lacks %q", r.GetOutputTail(), want)
				}
			}
		})
	}
}

func TestRuntimeDeadlineExceeded(t *testing.T) {
	for _, rc := range runtimes() {
		t.Run(rc.name, func(t *testing.T) {
			dir, id := t.TempDir(), workerID(t)
			h := newHarness(t, rc.make(t, id, dir), id, dir)
			spec := rc.spec("-sleep", "60s")
			// Far enough out that a slow container start does not pass it
			// (a run whose deadline passed before it started never starts).
			spec.Deadline = deadlineIn(4 * time.Second)
			start := time.Now()
			h.assign("deadline", spec)
			r := h.report("deadline", 30*time.Second, "Succeeded", "Failed", "Lost")
			if r.GetState() != "Failed" || r.GetReason() != "DeadlineExceeded" {
				t.Fatalf("report = %s/%s, want Failed/DeadlineExceeded (%v)", r.GetState(), r.GetReason(), r)
			}
			if el := time.Since(start); el < 4*time.Second || el > 20*time.Second {
				t.Errorf("ended after %v, want soon after the 4s deadline", el)
			}
		})
	}
}

func TestRuntimeKillIgnoringTermGetsSIGKILLAfterGrace(t *testing.T) {
	for _, rc := range runtimes() {
		t.Run(rc.name, func(t *testing.T) {
			dir, id := t.TempDir(), workerID(t)
			h := newHarness(t, rc.make(t, id, dir), id, dir)
			marker := filepath.Join(dir, "started")
			spec := rc.spec("-ignore-term", "-sleep", "60s", "-print", "waiting")
			if rc.name == "exec" {
				spec.Args = append(spec.Args, "-marker", marker)
			}
			h.assign("stubborn", spec)
			h.report("stubborn", 30*time.Second, "Running")
			if rc.name == "exec" {
				waitFor(t, 10*time.Second, "the process to start", func() bool { _, err := os.Stat(marker); return err == nil })
			} else {
				time.Sleep(300 * time.Millisecond) // let the program install its SIGTERM handler
			}
			start := time.Now()
			h.kill("stubborn", "Killed", time.Second)
			r := h.report("stubborn", 30*time.Second, "Succeeded", "Failed")
			el := time.Since(start)
			if r.GetState() != "Failed" || r.GetReason() != "Killed" {
				t.Fatalf("report = %s/%s, want Failed/Killed (%v)", r.GetState(), r.GetReason(), r)
			}
			if r.GetExitCode() != 137 {
				t.Errorf("exit code = %d, want 137 (SIGKILL)", r.GetExitCode())
			}
			if el < 900*time.Millisecond {
				t.Errorf("killed after %v: SIGTERM should have been ignored for the 1s grace", el)
			}
		})
	}
}

func TestDockerOOMKilled(t *testing.T) {
	rc := runtimes()[0]
	dir, id := t.TempDir(), workerID(t)
	h := newHarness(t, rc.make(t, id, dir), id, dir)
	spec := rc.spec("-alloc-mib", "200", "-sleep", "5s")
	spec.MemoryBytes = 32 << 20
	h.assign("oom", spec)
	r := h.report("oom", 60*time.Second, "Succeeded", "Failed")
	if r.GetState() != "Failed" || r.GetReason() != "OOMKilled" {
		t.Fatalf("report = %s/%s exit %d, want Failed/OOMKilled (%v)", r.GetState(), r.GetReason(), r.GetExitCode(), r)
	}
}

func TestDockerRejected(t *testing.T) {
	rc := runtimes()[0]
	tests := []struct {
		name string
		spec func() *pb.RunSpec
		want string
	}{
		{"missing-image-never", func() *pb.RunSpec {
			return &pb.RunSpec{Image: "raftcron/does-not-exist:1", ImagePullPolicy: "Never"}
		}, `image "raftcron/does-not-exist:1" is not present`},
		{"missing-image-pull-fails", func() *pb.RunSpec {
			return &pb.RunSpec{Image: "127.0.0.1:1/raftcron/nowhere:1", ImagePullPolicy: "IfNotPresent"}
		}, `image "127.0.0.1:1/raftcron/nowhere:1" cannot be pulled`},
		{"privileged", func() *pb.RunSpec { s := dockerSpec(); s.Privileged = true; return s }, "privileged containers are not allowed"},
		{"host-network", func() *pb.RunSpec { s := dockerSpec(); s.HostNetwork = true; return s }, "host networking is not allowed"},
		{"host-mount", func() *pb.RunSpec {
			s := dockerSpec()
			s.Mounts = []*pb.Mount{{HostPath: "/etc", ContainerPath: "/host-etc"}}
			return s
		}, `host mount "/etc" is not allowed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, id := t.TempDir(), workerID(t)
			h := newHarness(t, rc.make(t, id, dir), id, dir)
			h.assign("rej", tt.spec())
			r := h.report("rej", 30*time.Second, "Succeeded", "Failed", "Running")
			if r.GetState() != "Failed" || r.GetReason() != "Rejected" || !strings.Contains(r.GetMessage(), tt.want) {
				t.Fatalf("report = %s/%s %q, want Failed/Rejected mentioning %q", r.GetState(), r.GetReason(), r.GetMessage(), tt.want)
			}
		})
	}
}

func TestExecRejectedWithoutCommand(t *testing.T) {
	rc := runtimes()[1]
	dir, id := t.TempDir(), workerID(t)
	h := newHarness(t, rc.make(t, id, dir), id, dir)
	h.assign("nocmd", &pb.RunSpec{Image: "busybox"})
	r := h.report("nocmd", 10*time.Second, "Failed", "Succeeded", "Running")
	if r.GetReason() != "Rejected" || !strings.Contains(r.GetMessage(), "needs a command") || strings.HasSuffix(r.GetMessage(), ": rejected") {
		t.Fatalf("report = %v, want Rejected: needs a command", r)
	}
}

// A restarted worker finds its attempts: it re-adopts the running ones
// (listing them in Hello), reports the ones that ended while it was down,
// and kills and removes those the cluster no longer renews.
func TestRuntimeReconcileAfterRestart(t *testing.T) {
	for _, rc := range runtimes() {
		t.Run(rc.name, func(t *testing.T) {
			dir := t.TempDir()
			id := workerID(t)
			rt := rc.make(t, id, dir)
			before := newHarness(t, rt, id, dir)
			before.assign("long", rc.spec("-sleep", "60s", "-print", "long one"))
			before.assign("orphan", rc.spec("-sleep", "60s"))
			before.assign("short", rc.spec("-print", "short one", "-exit", "4"))
			before.report("long", 30*time.Second, "Running")
			before.report("orphan", 30*time.Second, "Running")
			before.report("short", 30*time.Second, "Failed")
			// The worker stops before it reports anything: the cluster heard nothing.
			before.cancel()
			before.a.wg.Wait()
			if err := rt.Close(); err != nil {
				t.Fatal(err)
			}

			// A new worker process with the same id and data dir.
			rt2 := rc.make(t, id, dir)
			after := newHarness(t, rt2, id, dir)
			if err := after.a.adopt(after.ctx); err != nil {
				t.Fatal(err)
			}
			held := map[string]bool{}
			for _, r := range after.a.held() {
				held[r.GetName()] = true
			}
			for _, n := range []string{"long", "orphan", "short"} {
				if !held[n] {
					t.Errorf("after restart, Hello would not list %s (held: %v)", n, held)
				}
			}
			after.report("long", 10*time.Second, "Running")
			short := after.report("short", 10*time.Second, "Failed", "Succeeded")
			if short.GetExitCode() != 4 || short.GetReason() != "Error" || !strings.Contains(short.GetOutputTail(), "short one") {
				t.Errorf("short attempt reported %v, want Failed/Error/4 with its output", short)
			}

			// The first lease renewal lists only "long": "orphan" is killed.
			s := &session{heartbeatSent: map[uint64]time.Time{1: time.Now()}}
			after.a.renew(after.ctx, s, &pb.LeaseRenewal{Seq: 1, LeaseTtl: nil, Attempts: []*pb.AttemptRef{
				{Namespace: "test", Name: "long", Incarnation: 101},
			}})
			orphan := after.report("orphan", 30*time.Second, "Failed", "Succeeded")
			if orphan.GetReason() != "Killed" {
				t.Errorf("orphan reported %v, want Failed/Killed", orphan)
			}
			after.ackAll()
			waitFor(t, 15*time.Second, "only the re-adopted attempt to remain", func() bool {
				insts, err := rt2.List(context.Background())
				if err != nil || len(insts) != 1 {
					return false
				}
				return insts[0].Attempt.GetName() == "long" && insts[0].Running
			})
			if !after.a.stillRunning(&pb.AttemptRef{Namespace: "test", Name: "long"}) {
				t.Error("the re-adopted attempt is not running any more")
			}
			// Leave nothing running: the re-adopted run's guard outlives
			// the worker by design, and removing the test's directory
			// under it made it write its record there meanwhile.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			insts, err := rt2.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, in := range insts {
				if !in.Running {
					continue
				}
				if err := rt2.Kill(ctx, in.ID, 0); err != nil {
					t.Fatalf("kill %s: %v", in.Attempt.GetName(), err)
				}
				if _, err := rt2.Wait(ctx, in.ID, filepath.Join(dir, "killed.log")); err != nil {
					t.Fatalf("wait for %s: %v", in.Attempt.GetName(), err)
				}
			}
		})
	}
}

// TestRuntimeRecordsLineTimes: the log of an attempt times each line when
// the workload wrote it (exec: the guard; docker: the daemon), as the
// worker serves it: two lines written a second apart are a second apart,
// however long after the run they are read.
func TestRuntimeRecordsLineTimes(t *testing.T) {
	for _, rc := range runtimes() {
		t.Run(rc.name, func(t *testing.T) {
			dir, id := t.TempDir(), workerID(t)
			h := newHarness(t, rc.make(t, id, dir), id, dir)
			before := time.Now()
			h.assign("times", rc.spec("-print", "one", "-sleep", "1s", "-after", "two"))
			r := h.report("times", 30*time.Second, "Succeeded", "Failed")
			after := time.Now()
			if r.GetState() != "Succeeded" {
				t.Fatalf("report = %v, want Succeeded", r)
			}
			src, err := openLogSource(logPath(dir, "test", "times"))
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			// Read as serveLogs does, in small chunks, and time each line
			// by the last mark at or before its start.
			var lines []string
			var times []time.Time
			var cur time.Time
			midLine := false
			buf := make([]byte, 3)
			for {
				n, marks, err := src.read(buf)
				for i := 0; i < n; i++ {
					for len(marks) > 0 && int(marks[0].GetOffset()) <= i {
						cur, marks = time.Unix(0, marks[0].GetUnixNano()), marks[1:]
					}
					if !midLine {
						lines, times = append(lines, ""), append(times, cur)
					}
					lines[len(lines)-1] += string(buf[i])
					midLine = buf[i] != '\n'
				}
				if n == 0 || err != nil {
					break
				}
			}
			if strings.Join(lines, "") != "one\ntwo\n" {
				t.Fatalf("log lines %q, want one and two", lines)
			}
			if times[0].Before(before.Add(-time.Second)) || times[1].After(after.Add(time.Second)) {
				t.Errorf("line times %v, %v outside the run %v .. %v", times[0], times[1], before, after)
			}
			// The guard stamps a line when it reads it from the pipe: the
			// first can be read a little after it was written, so the gap
			// may fall short of the sleep by that much.
			if d := times[1].Sub(times[0]); d < 900*time.Millisecond || d > 1800*time.Millisecond {
				t.Errorf("the second line is timed %v after the first, want about 1s (the workload's sleep)", d)
			}
		})
	}
}
