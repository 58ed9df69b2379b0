package main

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/raftcron/raftcron/client"
	"github.com/raftcron/raftcron/cluster"
	"github.com/raftcron/raftcron/worker"
)

// startRealCluster starts one server and one exec worker in this process
// (the worker runs its lease guard as this test binary, see TestMain) and
// returns the server's address; both stop when t ends.
func startRealCluster(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	port := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().String()
	}
	addr := port()
	s, err := cluster.New(cluster.Config{
		NodeID: "n1", DataDir: filepath.Join(dir, "n1"), RaftAddr: port(), GRPCAddr: addr, Bootstrap: true,
		HeartbeatTimeout: 300 * time.Millisecond, ElectionTimeout: 300 * time.Millisecond,
		LeaderLeaseTimeout: 150 * time.Millisecond, CommitTimeout: 10 * time.Millisecond,
		Worker:   cluster.WorkerConfig{HeartbeatInterval: 100 * time.Millisecond, WorkerTTL: 5 * time.Second, LeaseTTL: 10 * time.Second},
		Insecure: true, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { _ = s.Stop() })
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	agent, err := worker.New(worker.Config{
		Servers: []string{addr}, ID: "w1", Slots: 2, DataDir: filepath.Join(dir, "worker"),
		Runtime: "exec", AllowExec: true, GuardBinary: exe, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- agent.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	c, err := client.New(client.Config{Servers: []string{addr}, Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for deadline := time.Now().Add(20 * time.Second); ; {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		ws, err := c.Workers().List(ctx, "")
		cancel()
		if err == nil && len(ws) == 1 && ws[0].GetState() == client.WorkerReady {
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("no Ready worker within 20s (last error %v)", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLogsTimestampsAreWriteTimes: on a real cluster, a workload prints a
// line, sleeps 2s and prints another; read once the Job has finished,
// `logs --timestamps` prints each line with the time it was written (2s
// apart, both before the read), with -f, --tail and --attempt alike.
func TestLogsTimestampsAreWriteTimes(t *testing.T) {
	addr := startRealCluster(t)
	manifest := writeFile(t, "job.yaml", `apiVersion: batch/v1
kind: Job
metadata:
  name: stamped
  namespace: times
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      nodeSelector:
        raftcron.io/runtime: exec
      containers:
      - name: main
        image: busybox
        command: ["sh", "-c", "echo one; sleep 2; echo two"]
`)
	started := time.Now()
	cli(t, "", "apply", "-f", manifest, "--server", addr).ok(t)
	cli(t, "", "wait", "job/stamped", "-n", "times", "--for=condition=Complete", "--timeout", "30s", "--server", addr).ok(t)
	read := time.Now()

	out := cli(t, "", "logs", "job/stamped", "-n", "times", "--timestamps", "--server", addr).ok(t)
	t.Logf("read at %v, logs --timestamps printed:\n%s", read.UTC().Format(time.RFC3339Nano), out)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("logs --timestamps printed %q, want two lines", out)
	}
	var times [2]time.Time
	for i, want := range []string{"one", "two"} {
		stamp, text, _ := strings.Cut(lines[i], " ")
		ts, err := time.Parse(time.RFC3339Nano, stamp)
		if err != nil || text != want || !strings.HasSuffix(stamp, "Z") {
			t.Fatalf("line %d = %q, want an RFC 3339 UTC time, a space and %q (%v)", i, lines[i], want, err)
		}
		if ts.Before(started.Add(-time.Second)) || ts.After(read) {
			t.Errorf("line %q is timed %v: not between the apply (%v) and the end of the Job (%v)", want, ts, started, read)
		}
		times[i] = ts
	}
	// Lines are stamped when the guard reads them: the first may be read a
	// little late, so the gap can fall short of the sleep by that much.
	if d := times[1].Sub(times[0]); d < 1900*time.Millisecond || d > 2800*time.Millisecond {
		t.Errorf("the two lines are timed %v apart, want about 2s (the workload's sleep): %q", d, out)
	}
	for _, args := range [][]string{{"-f"}, {"--attempt", "1"}, {"-f", "--attempt", "1"}} {
		if got := cli(t, "", append([]string{"logs", "job/stamped", "-n", "times", "--timestamps", "--server", addr}, args...)...).ok(t); got != out {
			t.Errorf("logs --timestamps %v printed %q, want %q", args, got, out)
		}
	}
	for _, args := range [][]string{{"--tail", "1"}, {"--tail", "1", "-f"}} {
		if got := cli(t, "", append([]string{"logs", "job/stamped", "-n", "times", "--timestamps", "--server", addr}, args...)...).ok(t); got != lines[1]+"\n" {
			t.Errorf("logs --timestamps %v printed %q, want %q", args, got, lines[1]+"\n")
		}
	}
}
