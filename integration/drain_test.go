package integration

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/worker"
	"github.com/raftcron/raftcron/worker/guard"
)

// drainJob is a Job whose one run lasts a minute, with backoffLimit 0: were
// the drained run counted as a failure, the Job would fail.
func drainJob(name, runtime, img string) string {
	if runtime == "exec" {
		return fmt.Sprintf(`
apiVersion: batch/v1
kind: Job
metadata: {name: %s}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 2
      nodeSelector: {raftcron.io/runtime: exec}
      containers:
      - name: main
        image: none
        command: [/bin/sh, -c, "echo started; sleep 60"]
`, name)
	}
	return job(name, "  backoffLimit: 0", img, `-print, "started", -sleep, 60s`)
}

// TestWorkerDrain (issue 14): a worker started with --drain-timeout gets
// SIGTERM while a long run goes on. It shows as Draining, takes nothing
// new, stops the run when the drain timeout is up and reports it; the
// leader runs it again on the other worker without counting it against
// backoffLimit, and the drained worker leaves no process or container.
func TestWorkerDrain(t *testing.T) {
	if testing.Short() {
		t.Skip("integration")
	}
	for _, runtime := range []string{"exec", "docker"} {
		t.Run(runtime, func(t *testing.T) {
			img := ""
			if runtime == "docker" {
				img = needDocker(t)
			}
			tag := runTag()
			wa, wb := "drain-a-"+tag, "drain-b-"+tag
			const drainTimeout = 5 * time.Second
			flags := []string{"--runtime", runtime, "--slots", "2", "--drain-timeout", drainTimeout.String()}
			if runtime == "exec" {
				flags = append(flags, "--allow-exec")
			} else {
				removeContainersAtEnd(t, dockerClient(t), wa, wb)
			}
			c := startCluster(t, clusterOptions{servers: 1})
			pa := c.startWorker(wa, flags...)
			c.waitWorkerReady(wa, time.Time{}, 20*time.Second)
			name := "drain-" + runtime + "-" + tag
			c.apply(manifest(t, drainJob(name, runtime, img))...)
			var first *pb.Attempt
			c.waitFor(60*time.Second, "the run Running on "+wa, func() bool {
				for _, a := range c.listAttempts(name) {
					if a.GetState() == pb.AttemptRunning && a.GetWorker() == wa && a.GetContainerId() != "" {
						first = a
						return true
					}
				}
				return false
			})
			var rec guard.Record
			c.waitFor(10*time.Second, "the guard's record of the run", func() bool {
				var err error
				rec, err = c.guardRecord(wa, first.GetName())
				return err == nil && rec.PID > 0
			})
			c.startWorker(wb, flags...)
			c.waitWorkerReady(wb, time.Time{}, 20*time.Second)

			stopped := time.Now()
			pa.signal(syscall.SIGTERM)
			c.waitFor(drainTimeout, wa+" Draining in get workers", func() bool {
				ws, err := c.client().ListWorkersInState(context.Background(), pb.WorkerDraining)
				return err == nil && len(ws) == 1 && ws[0].GetId() == wa
			})
			select {
			case <-pa.done:
			case <-time.After(30 * time.Second):
				t.Fatalf("worker %s still running 30s after SIGTERM (drain timeout %s)", wa, drainTimeout)
			}
			exited := time.Since(stopped)
			if st := pa.cmd.ProcessState; st == nil || st.ExitCode() != 0 {
				t.Fatalf("worker did not exit cleanly after its drain: %v", st)
			}
			if exited < drainTimeout {
				t.Errorf("worker exited %.1fs after SIGTERM, before its %s drain timeout", exited.Seconds(), drainTimeout)
			}

			// The drained run: reported Lost (WorkerDrained) before the worker exited.
			var drained *pb.Attempt
			for _, a := range c.listAttempts(name) {
				if a.GetName() == first.GetName() {
					drained = a
				}
			}
			if drained.GetState() != pb.AttemptLost || drained.GetReason() != pb.ReasonWorkerDrained {
				t.Fatalf("drained attempt %s: %s (%s: %s); want Lost, WorkerDrained, reported before the worker exited",
					drained.GetName(), drained.GetState(), drained.GetReason(), drained.GetMessage())
			}
			// Run again on the other worker, the Job not failed.
			c.waitFor(60*time.Second, "the run again, Running on "+wb, func() bool {
				for _, a := range c.listAttempts(name) {
					if a.GetState() == pb.AttemptRunning && a.GetWorker() == wb && a.GetNumber() == 2 {
						return true
					}
				}
				return false
			})
			if j := c.getJob(name); j.GetStatus().GetFailed() != 0 {
				t.Errorf("job %s: %d failed after the drain; want 0 (a drained run is not counted)", name, j.GetStatus().GetFailed())
			}

			// Nothing left behind by the drained worker.
			switch runtime {
			case "exec":
				for what, pid := range map[string]int{"run": rec.PID, "lease guard": rec.GuardPID} {
					if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
						t.Errorf("the drained %s (pid %d) is still there after the worker exited: %v", what, pid, err)
					}
				}
			case "docker":
				dc := dockerClient(t)
				left, err := dc.ContainerList(context.Background(), container.ListOptions{All: true,
					Filters: filters.NewArgs(filters.Arg("label", worker.LabelWorker+"="+wa))})
				if err != nil {
					t.Fatal(err)
				}
				for _, l := range left {
					t.Errorf("container %.12s %v (labels %v) left by the drained worker", l.ID, l.Names, l.Labels)
				}
				settings, err := c.client().ClusterSettings(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				mine, err := dc.ContainerList(context.Background(), container.ListOptions{All: true,
					Filters: filters.NewArgs(filters.Arg("label", worker.LabelCluster+"="+settings.GetClusterId()))})
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range mine {
					if m.Labels[worker.LabelWorker] != wb {
						t.Errorf("container %.12s of the cluster on %s after the drain", m.ID, m.Labels[worker.LabelWorker])
					}
				}
			}
			t.Logf("%s: worker exited %.1fs after SIGTERM (drain timeout %s); %s Lost (%s), run again on %s",
				runtime, exited.Seconds(), drainTimeout, drained.GetName(), drained.GetMessage(), wb)
		})
	}
}

// getJob reads a Job of namespace default.
func (c *cluster) getJob(name string) *pb.Job {
	c.t.Helper()
	j, err := c.client().GetJob(context.Background(), "default", name)
	if err != nil {
		c.t.Fatal(err)
	}
	return j
}

// TestWorkerDrainWithoutLeader: the servers are gone before the worker is
// stopped (a compose file that stops them first). No leader can take the
// drained run's report; the worker still removes the run's container, so
// nothing is left behind (the leader, when back, marks the run Lost when
// its lease has run out).
func TestWorkerDrainWithoutLeader(t *testing.T) {
	if testing.Short() {
		t.Skip("integration")
	}
	img := needDocker(t)
	dc := dockerClient(t)
	tag := runTag()
	wa := "drain-nl-" + tag
	removeContainersAtEnd(t, dc, wa)
	c := startCluster(t, clusterOptions{servers: 1})
	pa := c.startWorker(wa, "--runtime", "docker", "--slots", "2", "--drain-timeout", "2s")
	c.waitWorkerReady(wa, time.Time{}, 20*time.Second)
	name := "drain-nl-" + tag
	c.apply(manifest(t, drainJob(name, "docker", img))...)
	c.waitFor(60*time.Second, "the run Running on "+wa, func() bool {
		for _, a := range c.listAttempts(name) {
			if a.GetState() == pb.AttemptRunning && a.GetWorker() == wa && a.GetContainerId() != "" {
				return true
			}
		}
		return false
	})
	for _, s := range c.servers {
		s.stop()
	}
	stopped := time.Now()
	pa.signal(syscall.SIGTERM)
	select {
	case <-pa.done:
	case <-time.After(45 * time.Second):
		t.Fatalf("worker %s still running 45s after SIGTERM without a leader (drain timeout 2s)", wa)
	}
	left, err := dc.ContainerList(context.Background(), container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", worker.LabelWorker+"="+wa))})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range left {
		t.Errorf("container %.12s %v (%s) left by the worker drained without a leader", l.ID, l.Names, l.State)
	}
	t.Logf("worker exited %.1fs after SIGTERM without a leader; %d containers left", time.Since(stopped).Seconds(), len(left))
}
