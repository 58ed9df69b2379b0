package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	dockerclient "github.com/docker/docker/client"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/worker"
	"github.com/raftcron/raftcron/worker/guard"
)

// The worker timing of serverTiming.
const (
	testWorkerTTL = 2 * time.Second
	testLeaseTTL  = 3 * time.Second
	testHeartbeat = 200 * time.Millisecond
)

var runTagCounter atomic.Int32

// runTag makes worker ids and Job names unique to one test run, so that the
// containers of this run (named after attempts, labelled with worker ids)
// never meet those of another test or of another run on the same daemon.
func runTag() string {
	return fmt.Sprintf("%d%c", os.Getpid()%100000, 'a'+rune(runTagCounter.Add(1)%26))
}

func dockerClient(t *testing.T) *dockerclient.Client {
	t.Helper()
	cli, err := dockerclient.NewClientWithOpts(dockerclient.FromEnv, dockerclient.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatalf("docker client: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// removeContainersAtEnd removes, when the test ends, every container labelled
// with one of the worker ids: a worker killed with -9 or cut off leaves its
// containers behind. Register it before startCluster, so that it runs after
// the cluster's processes are stopped.
func removeContainersAtEnd(t *testing.T, cli *dockerclient.Client, workers ...string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, w := range workers {
			cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", worker.LabelWorker+"="+w))})
			if err != nil {
				t.Logf("cleanup: list containers of %s: %v", w, err)
				continue
			}
			for _, ct := range cs {
				if err := cli.ContainerRemove(ctx, ct.ID, container.RemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
					t.Logf("cleanup: remove container %s: %v", ct.ID, err)
				}
			}
		}
	})
}

// span is when a container ran, from Docker's own record.
type span struct {
	id, worker, attempt string
	start, finish       time.Time // finish is zero while it runs
	running             bool
}

func inspectSpan(ctx context.Context, cli *dockerclient.Client, id string) (span, error) {
	in, err := cli.ContainerInspect(ctx, id)
	if err != nil {
		return span{}, err
	}
	s := span{id: id, worker: in.Config.Labels[worker.LabelWorker], attempt: in.Config.Labels[worker.LabelAttempt]}
	if in.State == nil {
		return s, fmt.Errorf("container %s has no state", id)
	}
	s.running = in.State.Running
	s.start, _ = time.Parse(time.RFC3339Nano, in.State.StartedAt)
	if !s.running {
		s.finish, _ = time.Parse(time.RFC3339Nano, in.State.FinishedAt)
	}
	return s, nil
}

// workerSpans returns the spans of every container of the given workers.
func workerSpans(t *testing.T, cli *dockerclient.Client, workers ...string) []span {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []span
	for _, w := range workers {
		cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", worker.LabelWorker+"="+w))})
		if err != nil {
			t.Fatalf("list containers of %s: %v", w, err)
		}
		for _, ct := range cs {
			s, err := inspectSpan(ctx, cli, ct.ID)
			if err != nil {
				if cerrdefs.IsNotFound(err) {
					continue // removed since the list
				}
				t.Fatalf("inspect %s: %v", ct.ID, err)
			}
			out = append(out, s)
		}
	}
	return out
}

// overlaps returns the pairs of spans that ran at the same time.
func overlaps(spans []span) []string {
	now := time.Now()
	end := func(s span) time.Time {
		if s.running || s.finish.IsZero() {
			return now
		}
		return s.finish
	}
	var out []string
	for i := range spans {
		for k := i + 1; k < len(spans); k++ {
			a, b := spans[i], spans[k]
			if a.start.Before(end(b)) && b.start.Before(end(a)) {
				out = append(out, fmt.Sprintf("%s on %s [%s, %s] and %s on %s [%s, %s]",
					a.attempt, a.worker, a.start.Format("15:04:05.000"), end(a).Format("15:04:05.000"),
					b.attempt, b.worker, b.start.Format("15:04:05.000"), end(b).Format("15:04:05.000")))
			}
		}
	}
	return out
}

// listAttempts lists the attempts of a Job ("" for all), nil on error (for polling).
func (c *cluster) listAttempts(job string) []*pb.Attempt {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	a, err := c.client().ListAttempts(ctx, "default", job)
	if err != nil {
		return nil
	}
	return a
}

// waitWorkerReady waits until the cluster lists the worker as Ready on a
// session that connected after since, and returns when that session began.
func (c *cluster) waitWorkerReady(id string, since time.Time, timeout time.Duration) time.Time {
	c.t.Helper()
	var connected time.Time
	c.waitFor(timeout, "worker "+id+" Ready on a new session", func() bool {
		ws, err := c.client().ListWorkers(context.Background())
		if err != nil {
			return false
		}
		for _, w := range ws {
			if w.GetId() == id && w.GetState() == "Ready" && w.GetConnectedTime().AsTime().After(since) {
				connected = w.GetConnectedTime().AsTime()
				return true
			}
		}
		return false
	})
	return connected
}

// waitGone waits until Docker no longer knows the container.
func waitGone(t *testing.T, c *cluster, cli *dockerclient.Client, id string, timeout time.Duration, what string) {
	t.Helper()
	c.waitFor(timeout, what, func() bool {
		_, err := cli.ContainerInspect(context.Background(), id)
		return cerrdefs.IsNotFound(err)
	})
}

func otherWorker(x, a, b string) string {
	if x == a {
		return b
	}
	return a
}

// guardRecord reads the lease guard's record of an attempt on a worker of c.
func (c *cluster) guardRecord(workerID, attempt string) (guard.Record, error) {
	return guard.ReadRecord(filepath.Join(c.dir, "worker-"+workerID, "attempts", "default", attempt))
}

// attemptsOfCronJob lists the attempts of a CronJob's Jobs (nil on error, for polling).
func (c *cluster) attemptsOfCronJob(cj string) []*pb.Attempt {
	var out []*pb.Attempt
	for _, a := range c.listAttempts("") {
		if strings.HasPrefix(a.GetJob(), cj+"-") {
			out = append(out, a)
		}
	}
	return out
}

// waitCronJobRunning waits for an attempt of the CronJob Running in a
// container on workerID ("": any worker) and returns it.
func (c *cluster) waitCronJobRunning(cj, workerID string, timeout time.Duration) *pb.Attempt {
	c.t.Helper()
	var found *pb.Attempt
	c.waitFor(timeout, "an attempt of "+cj+" Running on "+orDefault(workerID, "any worker"), func() bool {
		for _, a := range c.attemptsOfCronJob(cj) {
			if (workerID == "" || a.GetWorker() == workerID) && a.GetState() == "Running" && a.GetContainerId() != "" {
				found = a
				return true
			}
		}
		return false
	})
	return found
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// forbidCronJob is a Forbid CronJob every 5 seconds whose run lasts a minute
// and ignores SIGTERM (only the SIGKILL at the end of a lease stops it): on
// docker the test image, on exec a shell.
func forbidCronJob(name, runtime, img string) string {
	run := fmt.Sprintf(`image: %s
            imagePullPolicy: Never
            args: [-print, "started", -ignore-term, -sleep, 60s]`, img)
	selector := ""
	if runtime == "exec" {
		run = `image: none
            command: [/bin/sh, -c, "trap '' TERM; echo started; sleep 60"]`
		selector = "\n          nodeSelector: {raftcron.io/runtime: exec}"
	}
	return fmt.Sprintf(`
apiVersion: batch/v1
kind: CronJob
metadata: {name: %s}
spec:
  schedule: "*/5 * * * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      backoffLimit: 0
      template:
        spec:
          restartPolicy: Never
          terminationGracePeriodSeconds: 2%s
          containers:
          - name: main
            %s
`, name, selector, run)
}

// TestWorkerGoneForbid: the worker running a Forbid CronJob's long run dies
// (kill -9) or is stopped cleanly and not restarted. Its lease guard kills
// the run when the lease runs out, so by the guard's record (and, for
// containers, Docker's own timestamps) the old run ended before the
// replacement the leader starts on the other worker began (promise 4). A
// killed worker that comes back removes its dead container and changes
// nothing.
func TestWorkerGoneForbid(t *testing.T) {
	if testing.Short() {
		t.Skip("integration")
	}
	for _, tc := range []struct{ runtime, how string }{
		{"docker", "kill-9"}, {"docker", "stop"}, {"exec", "kill-9"},
	} {
		t.Run(tc.runtime+"/"+tc.how, func(t *testing.T) {
			img, flags := "", []string{"--runtime", "exec", "--allow-exec", "--slots", "2"}
			var dc *dockerclient.Client
			tag := runTag()
			wa, wb := "wg-a-"+tag, "wg-b-"+tag
			if tc.runtime == "docker" {
				img = needDocker(t)
				dc = dockerClient(t)
				removeContainersAtEnd(t, dc, wa, wb)
				flags = []string{"--runtime", "docker", "--slots", "2"}
			}
			c := startCluster(t, clusterOptions{})
			procs := map[string]*proc{wa: c.startWorker(wa, flags...), wb: c.startWorker(wb, flags...)}
			cj := "gone-" + tag
			c.apply(manifest(t, forbidCronJob(cj, tc.runtime, img))...)
			first := c.waitCronJobRunning(cj, "", 30*time.Second)
			x := first.GetWorker()
			y := otherWorker(x, wa, wb)
			gone := time.Now()
			if tc.how == "kill-9" {
				procs[x].kill9()
			} else {
				procs[x].stop()
				if st := procs[x].cmd.ProcessState; st == nil || st.ExitCode() != 0 {
					t.Fatalf("worker did not stop cleanly on SIGTERM: %v", st)
				}
			}

			// The guard ends the old run by the end of its lease.
			var old guard.Record
			c.waitFor(testLeaseTTL+10*time.Second, "the guard to end the old run", func() bool {
				r, err := c.guardRecord(x, first.GetName())
				old = r
				return err == nil && r.Exited
			})
			if !old.LeaseExpired || old.Signal != "SIGKILL" {
				t.Errorf("guard record of %s: %+v; want killed (SIGKILL) because its lease ran out", first.GetName(), old)
			}
			if late := old.Finished.Sub(gone); late > testLeaseTTL+500*time.Millisecond {
				t.Errorf("the old run ended %.2fs after its worker went away, later than a lease (%v)", late.Seconds(), testLeaseTTL)
			}
			repl := c.waitCronJobRunning(cj, y, testLeaseTTL+testWorkerTTL+20*time.Second)
			nu := c.waitGuardStarted(y, repl.GetName())
			gap := nu.Sub(old.Finished)
			t.Logf("%s %s: old run %s ended %.2fs after (%s, %s); replacement %s on %s started %.2fs after; gap %.3fs (lease %v, worker TTL %v)",
				tc.how, x, first.GetName(), old.Finished.Sub(gone).Seconds(), old.Signal, old.LeaseReason, repl.GetName(), y, nu.Sub(gone).Seconds(), gap.Seconds(), testLeaseTTL, testWorkerTTL)
			if gap <= 0 {
				t.Errorf("the replacement started %.3fs BEFORE the old run ended: two runs of a Forbid CronJob at once", -gap.Seconds())
			}
			if dc != nil {
				// Docker's own record says the same.
				o, err := inspectSpan(context.Background(), dc, first.GetContainerId())
				if err != nil {
					t.Fatalf("inspect the old container: %v", err)
				}
				n, err := inspectSpan(context.Background(), dc, repl.GetContainerId())
				if err != nil {
					t.Fatalf("inspect the replacement's container: %v", err)
				}
				if o.running || !n.start.After(o.finish) {
					t.Errorf("by Docker: old container [%s, %s] running=%v, replacement started %s: they overlap",
						o.start.Format("15:04:05.000"), o.finish.Format("15:04:05.000"), o.running, n.start.Format("15:04:05.000"))
				}
				if ov := overlaps(workerSpans(t, dc, wa, wb)); len(ov) > 0 {
					t.Errorf("containers of the Forbid CronJob ran at the same time:\n%s", strings.Join(ov, "\n"))
				}
			}
			for _, a := range c.attemptsOfCronJob(cj) {
				if a.GetName() == first.GetName() && (a.GetState() != "Lost" || a.GetReason() != "WorkerLost") {
					t.Errorf("the old attempt is %s (%s), want Lost (WorkerLost)", a.GetState(), a.GetReason())
				}
			}
			if tc.how != "kill-9" || dc == nil {
				return
			}
			// The worker comes back: it removes its dead container, and its
			// report (Lost: the lease ran out) changes nothing.
			back := time.Now()
			procs[x].start(t)
			c.waitWorkerReady(x, back, 20*time.Second)
			waitGone(t, c, dc, first.GetContainerId(), 20*time.Second, "the restarted worker to remove its dead container")
			for _, a := range c.attemptsOfCronJob(cj) {
				if a.GetName() == first.GetName() && a.GetState() != "Lost" {
					t.Errorf("after the restart the old attempt is %s (%s); want it still Lost", a.GetState(), a.GetReason())
				}
			}
		})
	}
}

// waitGuardStarted waits for the guard of an attempt to record its start.
func (c *cluster) waitGuardStarted(workerID, attempt string) time.Time {
	c.t.Helper()
	var r guard.Record
	c.waitFor(10*time.Second, "the guard of "+attempt+" to start it", func() bool {
		var err error
		r, err = c.guardRecord(workerID, attempt)
		return err == nil && !r.Started.IsZero()
	})
	return r.Started
}

// netLab puts workers in network namespaces of their own, each joined to the
// host by a veth pair, with the servers on an address of the host's loopback
// device that the namespaces reach through their veth. Taking a veth's host
// end down cuts that worker off from every server while it keeps running and
// keeps talking to the Docker daemon over its unix socket.
type netLab struct {
	t        *testing.T
	base     int
	serverIP string
}

func mustRun(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func newNetLab(t *testing.T) *netLab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("SKIPPED: cutting a worker off needs network namespaces, which need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("SKIPPED: cutting a worker off needs the ip command (iproute2)")
	}
	l := &netLab{t: t, base: 20 + os.Getpid()%200}
	l.serverIP = fmt.Sprintf("10.%d.0.1", l.base)
	mustRun(t, "ip", "addr", "add", l.serverIP+"/32", "dev", "lo")
	t.Cleanup(func() { _ = exec.Command("ip", "addr", "del", l.serverIP+"/32", "dev", "lo").Run() })
	return l
}

// add creates namespace n and returns the command line that runs a program
// in it and the name of the host end of its veth.
func (l *netLab) add(n int) (wrap []string, hostEnd string) {
	t := l.t
	t.Helper()
	ns := fmt.Sprintf("raftcron-%d-%d", os.Getpid(), n)
	hostEnd = fmt.Sprintf("rc%dh%d", os.Getpid()%100000, n)
	nsEnd := fmt.Sprintf("rc%dn%d", os.Getpid()%100000, n)
	mustRun(t, "ip", "netns", "add", ns)
	t.Cleanup(func() {
		_ = exec.Command("ip", "link", "del", hostEnd).Run()
		_ = exec.Command("ip", "netns", "del", ns).Run()
	})
	mustRun(t, "ip", "link", "add", hostEnd, "type", "veth", "peer", "name", nsEnd, "netns", ns)
	mustRun(t, "ip", "addr", "add", fmt.Sprintf("10.%d.%d.1/24", l.base, n), "dev", hostEnd)
	mustRun(t, "ip", "link", "set", hostEnd, "up")
	mustRun(t, "ip", "-n", ns, "link", "set", "lo", "up")
	mustRun(t, "ip", "-n", ns, "addr", "add", fmt.Sprintf("10.%d.%d.2/24", l.base, n), "dev", nsEnd)
	mustRun(t, "ip", "-n", ns, "link", "set", nsEnd, "up")
	mustRun(t, "ip", "-n", ns, "route", "add", "default", "via", fmt.Sprintf("10.%d.%d.1", l.base, n))
	return []string{"ip", "netns", "exec", ns}, hostEnd
}

// TestWorkerCutOffForbid: the worker running a Forbid CronJob's long
// container loses the network (its process and Docker keep running). It
// must kill the container when its lease runs out, and the leader must start
// the replacement elsewhere only after that: by Docker's own start and finish
// times, the two containers never overlap (promise 4).
func TestWorkerCutOffForbid(t *testing.T) {
	if testing.Short() {
		t.Skip("integration")
	}
	img := needDocker(t)
	dc := dockerClient(t)
	lab := newNetLab(t)
	tag := runTag()
	wa, wb := "wc-a-"+tag, "wc-b-"+tag
	removeContainersAtEnd(t, dc, wa, wb)
	wrapA, hostA := lab.add(1)
	wrapB, hostB := lab.add(2)
	c := startCluster(t, clusterOptions{host: lab.serverIP})
	c.startWorkerWrapped(wrapA, wa, "--runtime", "docker", "--slots", "2")
	c.startWorkerWrapped(wrapB, wb, "--runtime", "docker", "--slots", "2")
	hostEnd := map[string]string{wa: hostA, wb: hostB}

	cj := "forbid-" + tag
	// The container ignores SIGTERM: only the SIGKILL at the end of the
	// kill grace stops it, so the grace must end within the lease.
	c.apply(manifest(t, forbidCronJob(cj, "docker", img))...)
	ofCronJob := func() []*pb.Attempt { return c.attemptsOfCronJob(cj) }
	first := c.waitCronJobRunning(cj, "", 30*time.Second)
	x := first.GetWorker()
	y := otherWorker(x, wa, wb)
	mustRun(t, "ip", "link", "set", hostEnd[x], "down")
	cut := time.Now()

	// The cut-off worker kills its container when the lease runs out.
	var old span
	c.waitFor(testLeaseTTL+15*time.Second, "the cut-off worker's container to stop", func() bool {
		s, err := inspectSpan(context.Background(), dc, first.GetContainerId())
		if err != nil {
			t.Fatalf("inspect the cut-off worker's container: %v", err)
		}
		old = s
		return !s.running
	})
	if !c.workers[x].running() {
		t.Fatalf("worker %s exited after the cut; it should keep running", x)
	}
	// The replacement runs on the other worker.
	repl := c.waitCronJobRunning(cj, y, testLeaseTTL+testWorkerTTL+15*time.Second)
	nu, err := inspectSpan(context.Background(), dc, repl.GetContainerId())
	if err != nil {
		t.Fatalf("inspect the replacement's container: %v", err)
	}
	gap := nu.start.Sub(old.finish)
	t.Logf("cut %s off: its container %s stopped %.2fs after the cut; replacement %s on %s started %.2fs after the cut; gap %.3fs (lease %v, worker TTL %v)",
		x, first.GetName(), old.finish.Sub(cut).Seconds(), repl.GetName(), y, nu.start.Sub(cut).Seconds(), gap.Seconds(), testLeaseTTL, testWorkerTTL)
	if gap <= 0 {
		t.Errorf("the replacement started %.3fs BEFORE the cut-off worker's container ended: two runs of a Forbid CronJob at once", -gap.Seconds())
	}
	if ov := overlaps(workerSpans(t, dc, wa, wb)); len(ov) > 0 {
		t.Errorf("containers of the Forbid CronJob ran at the same time:\n%s", strings.Join(ov, "\n"))
	}
	var lost *pb.Attempt
	for _, a := range ofCronJob() {
		if a.GetName() == first.GetName() {
			lost = a
		}
	}
	if lost == nil || lost.GetState() != "Lost" || lost.GetReason() != "WorkerLost" {
		t.Errorf("the cut-off attempt: %v, want Lost with reason WorkerLost", lost)
	}

	// Reconnect: the worker's report (Killed) is stale and changes nothing;
	// once acknowledged, the worker removes the container.
	mustRun(t, "ip", "link", "set", hostEnd[x], "up")
	healed := time.Now()
	c.waitWorkerReady(x, healed, 30*time.Second)
	waitGone(t, c, dc, first.GetContainerId(), 20*time.Second, "the reconnected worker to remove its killed container")
	t.Logf("%s reconnected and removed its container %.2fs after the network came back", x, time.Since(healed).Seconds())
	for _, a := range ofCronJob() {
		if a.GetName() == first.GetName() && a.GetState() != "Lost" {
			t.Errorf("after the reconnect the cut-off attempt is %s (%s); the stale report must not change it", a.GetState(), a.GetReason())
		}
	}
	running := 0
	for _, a := range ofCronJob() {
		if a.GetState() == "Running" || a.GetState() == "Assigned" {
			running++
		}
	}
	if running != 1 {
		t.Errorf("%d attempts of the Forbid CronJob active after the reconnect, want 1", running)
	}
}

// TestWorkerRestartedWhileRunning: stop a worker (SIGTERM: its containers
// keep running) and start it again with the same id and data dir. It
// re-adopts its containers, so no attempt starts twice, and it kills and
// removes a container that carries its labels but belongs to no attempt.
func TestWorkerRestartedWhileRunning(t *testing.T) {
	if testing.Short() {
		t.Skip("integration")
	}
	img := needDocker(t)
	dc := dockerClient(t)
	tag := runTag()
	wid := "wr-" + tag
	removeContainersAtEnd(t, dc, wid)
	c := startCluster(t, clusterOptions{})
	p := c.startWorker(wid, "--runtime", "docker", "--slots", "4")
	name := "restart-" + tag
	c.apply(manifest(t, job(name, "  completions: 2\n  parallelism: 2\n  backoffLimit: 0", img, `-print, "once", -sleep, 8s`))...)

	before := map[string]*pb.Attempt{}
	c.waitFor(30*time.Second, "both attempts to run", func() bool {
		for _, a := range c.listAttempts(name) {
			if a.GetState() == "Running" && a.GetContainerId() != "" {
				before[a.GetName()] = a
			}
		}
		return len(before) == 2
	})

	// A container with this worker's labels that no attempt owns.
	ctx := context.Background()
	bogus := "bogus-" + tag + "-0-1"
	created, err := dc.ContainerCreate(ctx, &container.Config{
		Image: img, Cmd: []string{"-sleep", "60s"},
		Labels: map[string]string{
			worker.LabelWorker: wid, worker.LabelNamespace: "default", worker.LabelJob: "bogus-" + tag,
			worker.LabelIndex: "0", worker.LabelAttempt: bogus, worker.LabelIncarnation: "1",
		},
	}, nil, nil, nil, "raftcron-default-"+bogus)
	if err != nil {
		t.Fatalf("create the ownerless container: %v", err)
	}
	if err := dc.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		t.Fatalf("start the ownerless container: %v", err)
	}

	stopped := time.Now()
	p.stop()
	exited := time.Now()
	if st := p.cmd.ProcessState; st == nil || st.ExitCode() != 0 {
		t.Fatalf("worker did not stop cleanly on SIGTERM: %v", st)
	}
	for n, a := range before {
		if s, err := inspectSpan(ctx, dc, a.GetContainerId()); err != nil || !s.running {
			t.Fatalf("container of %s after the worker stopped: running %v, err %v; a clean stop leaves it running", n, s.running, err)
		}
	}
	p.start(t)
	connected := c.waitWorkerReady(wid, stopped, 20*time.Second)
	t.Logf("worker %s away for %.3fs (SIGTERM; exited after %.3fs; new session at %.3fs); lease %v", wid, connected.Sub(stopped).Seconds(),
		exited.Sub(stopped).Seconds(), connected.Sub(stopped).Seconds(), testLeaseTTL)
	waitGone(t, c, dc, created.ID, 20*time.Second, "the restarted worker to remove the ownerless container")
	t.Logf("ownerless container removed %.2fs after the worker was stopped", time.Since(stopped).Seconds())

	j := c.waitJob(name, 45*time.Second)
	if _, ok := condition(j, "Complete"); !ok || j.GetStatus().GetSucceeded() != 2 {
		t.Fatalf("job %s: status %v, want Complete with 2 succeeded", name, j.GetStatus())
	}
	perIndex := map[int32]int{}
	at := c.attempts(name)
	sort.Slice(at, func(i, k int) bool { return at[i].GetName() < at[k].GetName() })
	for _, a := range at {
		perIndex[a.GetIndex()]++
		b := before[a.GetName()]
		switch {
		case b == nil:
			t.Errorf("attempt %s (index %d, %s) was started after the restart", a.GetName(), a.GetIndex(), a.GetState())
		case a.GetState() != "Succeeded":
			t.Errorf("attempt %s: %s (%s), want Succeeded", a.GetName(), a.GetState(), a.GetReason())
		case a.GetContainerId() != b.GetContainerId():
			t.Errorf("attempt %s: container %s, before the restart %s", a.GetName(), a.GetContainerId(), b.GetContainerId())
		case strings.Count(a.GetOutputTail(), "once") != 1:
			t.Errorf("attempt %s: output %q, want \"once\" exactly once", a.GetName(), a.GetOutputTail())
		}
		t.Logf("attempt %s: %s on %s, container %.12s, ran %.2fs", a.GetName(), a.GetState(), a.GetWorker(), a.GetContainerId(),
			a.GetFinishTime().AsTime().Sub(a.GetStartTime().AsTime()).Seconds())
	}
	for idx, n := range perIndex {
		if n != 1 {
			t.Errorf("index %d has %d attempts, want 1", idx, n)
		}
	}
	if len(perIndex) != 2 {
		t.Errorf("attempts cover indexes %v, want 0 and 1", perIndex)
	}
}
