package integration

import (
	"context"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/raftcron/raftcron/worker/testimage"
)

// needDocker builds the test image, or skips loudly when no daemon answers.
func needDocker(t *testing.T) string {
	t.Helper()
	if err := exec.Command("docker", "info").Run(); err != nil {
		t.Skip("SKIPPED: no Docker Engine answers (`docker info` failed); the Docker integration tests need one")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	img, err := testimage.Build(ctx)
	if err != nil {
		t.Fatalf("build test image: %v", err)
	}
	return img
}

// job is a Job manifest running the test image with args; restartPolicy Never.
func job(name, spec, image, args string) string {
	return fmt.Sprintf(`
apiVersion: batch/v1
kind: Job
metadata: {name: %s}
spec:
%s
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 2
      containers:
      - name: main
        image: %s
        imagePullPolicy: Never
        args: [%s]
        resources: {limits: {memory: 32Mi}}
`, name, spec, image, args)
}

// TestDockerJobs is issue 4's acceptance list, run on a 3-server cluster with
// two Docker workers: exit codes, output, backoff, OOM, deadlines,
// parallelism, podFailurePolicy and indexed completions.
func TestDockerJobs(t *testing.T) {
	if testing.Short() {
		t.Skip("integration")
	}
	img := needDocker(t)
	// These runs test Job outcomes, not fencing: a lease longer than the
	// suite's 3s keeps a slow Docker create (5-7s seen on a loaded
	// machine) from turning into a lost, retried attempt.
	c := startCluster(t, clusterOptions{serverFlags: []string{"--worker-ttl", "5s", "--lease-ttl", "15s"}})
	c.startWorker("wa", "--runtime", "docker", "--slots", "4")
	c.startWorker("wb", "--runtime", "docker", "--slots", "4")

	c.apply(manifest(t,
		job("exit3", "  backoffLimit: 2", img, `-print, "boom from exit3", -exit, "3"`)+"---"+
			job("oom", "  backoffLimit: 0", img, `-alloc-mib, "200"`)+"---"+
			job("deadline", "  activeDeadlineSeconds: 3\n  backoffLimit: 0", img, `-sleep, 60s`)+"---"+
			job("pi", "  completions: 5\n  parallelism: 2\n  backoffLimit: 4", img, `-print, "3.14159", -sleep, 1500ms`)+"---"+
			job("fail42", "  completions: 8\n  parallelism: 2\n  backoffLimit: 6\n  podFailurePolicy:\n    rules:\n    - action: FailJob\n      onExitCodes: {containerName: main, operator: In, values: [42]}",
				img, `-print, "going to exit 42", -sleep, 1s, -exit, "42"`)+"---"+
			job("indexed", "  completions: 4\n  parallelism: 4\n  completionMode: Indexed", img, `-env`),
	)...)
	t.Run("exit code 3 with backoffLimit 2", func(t *testing.T) {
		j := c.waitJob("exit3", 90*time.Second)
		if r, ok := condition(j, "Failed"); !ok || r != "BackoffLimitExceeded" {
			t.Fatalf("exit3: conditions %v, want Failed/BackoffLimitExceeded", j.GetStatus().GetConditions())
		}
		at := c.attempts("exit3")
		if len(at) != 3 {
			t.Fatalf("exit3: %d attempts, want 3", len(at))
		}
		for _, a := range at {
			if a.GetState() != "Failed" || a.GetExitCode() != 3 || a.GetReason() != "Error" {
				t.Fatalf("attempt %s: %s exit %d reason %s, want Failed 3 Error", a.GetName(), a.GetState(), a.GetExitCode(), a.GetReason())
			}
		}
		out, err := c.cli("logs", "job/exit3")
		if err != nil || !strings.Contains(out, "boom from exit3") {
			t.Fatalf("raftcron logs job/exit3: %q, %v", out, err)
		}
	})
	t.Run("32 MiB limit, 200 MiB allocated: OOMKilled", func(t *testing.T) {
		j := c.waitJob("oom", 90*time.Second)
		at := c.attempts("oom")
		if len(at) == 0 || at[0].GetReason() != "OOMKilled" {
			t.Fatalf("oom: attempts %v, job %v", at, j.GetStatus())
		}
	})
	t.Run("activeDeadlineSeconds 3", func(t *testing.T) {
		j := c.waitJob("deadline", 60*time.Second)
		if r, ok := condition(j, "Failed"); !ok || r != "DeadlineExceeded" {
			t.Fatalf("deadline: conditions %v", j.GetStatus().GetConditions())
		}
		d := j.GetStatus().GetCompletionTime().AsTime().Sub(j.GetStatus().GetStartTime().AsTime())
		if d > 15*time.Second {
			t.Fatalf("deadline: the Job took %v to fail, want about 3s", d)
		}
	})
	t.Run("completions 5 parallelism 2", func(t *testing.T) {
		j := c.waitJob("pi", 120*time.Second)
		if _, ok := condition(j, "Complete"); !ok || j.GetStatus().GetSucceeded() != 5 {
			t.Fatalf("pi: status %v", j.GetStatus())
		}
		type edge struct {
			at    time.Time
			delta int
		}
		var edges []edge
		for _, a := range c.attempts("pi") {
			if a.GetStartTime() == nil || a.GetFinishTime() == nil {
				continue
			}
			edges = append(edges, edge{a.GetStartTime().AsTime(), +1}, edge{a.GetFinishTime().AsTime(), -1})
		}
		sort.Slice(edges, func(i, k int) bool {
			if edges[i].at.Equal(edges[k].at) {
				return edges[i].delta < edges[k].delta
			}
			return edges[i].at.Before(edges[k].at)
		})
		running, most := 0, 0
		for _, e := range edges {
			running += e.delta
			most = max(most, running)
		}
		t.Logf("pi: at most %d containers at once", most)
		if most > 2 {
			t.Fatalf("pi: %d containers ran at once, parallelism is 2", most)
		}
	})
	t.Run("podFailurePolicy FailJob on exit 42", func(t *testing.T) {
		j := c.waitJob("fail42", 60*time.Second)
		if r, ok := condition(j, "Failed"); !ok || r != "PodFailurePolicy" {
			t.Fatalf("fail42: conditions %v", j.GetStatus().GetConditions())
		}
		if n := len(c.attempts("fail42")); n > 2 {
			t.Fatalf("fail42: %d attempts; the Job must fail at the first exit 42, without retries", n)
		}
	})
	t.Run("Indexed completions 4", func(t *testing.T) {
		j := c.waitJob("indexed", 90*time.Second)
		if _, ok := condition(j, "Complete"); !ok {
			t.Fatalf("indexed: status %v", j.GetStatus())
		}
		for _, a := range c.attempts("indexed") {
			want := fmt.Sprintf("JOB_COMPLETION_INDEX=%d", a.GetIndex())
			if !strings.Contains(a.GetOutputTail(), want) {
				t.Fatalf("attempt %s (index %d) did not see %s; output:\n%s", a.GetName(), a.GetIndex(), want, a.GetOutputTail())
			}
		}
	})
}
