package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/proto"

	"github.com/raftcron/raftcron/auth"
	"github.com/raftcron/raftcron/client"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/scheduler"
)

func init() { rootCmd.AddCommand(newBenchCmd()) }

// benchNamespace holds every object the harness creates.
const benchNamespace = "bench"

// benchOptions are the flags of `raftcron bench`.
type benchOptions struct {
	mode       string
	cronJobs   int
	workers    int
	slots      int
	runtime    string
	duration   time.Duration
	warmup     time.Duration
	history    int
	applyBatch int
	pprof      bool
	dir        string
	keep       bool
	// dispatchAhead: the servers' --dispatch-ahead.
	dispatchAhead time.Duration
	// serverArgs: more flags for every server.
	serverArgs []string
}

func newBenchCmd() *cobra.Command {
	var o benchOptions
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load-test a throwaway cluster: 3 servers and W workers on loopback, N CronJobs, and the figures",
		Long: `bench starts 3 servers and --workers workers as child processes of this binary on loopback
ports, in a temporary directory, applies --cronjobs CronJobs in the namespace "bench" and prints
what the cluster did. Nothing outside the temporary directory is touched; every process it
started is stopped at the end.

Modes:
  steady  every CronJob runs every second ("* * * * * *", /bin/true, successfulJobsHistoryLimit
          --history). After --warmup, for --duration: runs asked and started, start delay
          (attempt startTime - scheduled second) p50/p99/max, Raft entries per run, CPU of the
          leader and RSS of every server.
  burst   every CronJob is due at the same second, once, a few seconds after the apply: how long
          after that second the last Job was created, its first attempt assigned and started.
  idle    the CronJobs are never due in the run (yearly): RSS per server, CPU of the idle leader
          over --duration, then how long a restarted follower takes to serve all of them.

With --runtime noop the workers run nothing and report success at once, so the figures are
the control plane's alone. Keep runs short on shared machines; figures are only as good as
the machine is quiet.`,
		Example: `  raftcron bench --cronjobs 200 --duration 60s
  raftcron bench --cronjobs 1000 --runtime noop --slots 1000 --duration 60s
  raftcron bench --mode burst --cronjobs 10000 --runtime noop --workers 10 --slots 1000
  raftcron bench --mode idle --cronjobs 100000 --duration 20s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.check(); err != nil {
				return err
			}
			ctx, stop := signalContext()
			defer stop()
			return runBench(ctx, cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.mode, "mode", "steady", "steady, burst or idle")
	f.IntVar(&o.cronJobs, "cronjobs", 200, "how many CronJobs to apply")
	f.IntVar(&o.workers, "workers", 2, "how many worker processes to start")
	f.IntVar(&o.slots, "slots", 8, "slots per worker")
	f.StringVar(&o.runtime, "runtime", "exec", "worker runtime: exec (runs /bin/true) or noop (runs nothing, succeeds at once)")
	f.DurationVar(&o.duration, "duration", 20*time.Second, "how long the measured window lasts (steady, idle)")
	f.DurationVar(&o.warmup, "warmup", 3*time.Second, "how long the cluster runs before the window starts (steady)")
	f.IntVar(&o.history, "history", 100, "successfulJobsHistoryLimit of each CronJob (steady)")
	f.IntVar(&o.applyBatch, "apply-batch", 1000, "CronJobs per apply call")
	f.DurationVar(&o.dispatchAhead, "dispatch-ahead", scheduler.DefaultDispatchAhead, "the servers' --dispatch-ahead (0: decide every tick at its time)")
	f.StringArrayVar(&o.serverArgs, "server-arg", nil, "one more flag for every server, e.g. --server-arg=--raft-commit-timeout=200ms (repeatable)")
	f.BoolVar(&o.pprof, "pprof", false, "start servers with --pprof and workers with --pprof on a free port (addresses are printed)")
	f.StringVar(&o.dir, "dir", "", "directory for data and logs (default: a new temporary directory)")
	f.BoolVar(&o.keep, "keep", false, "keep the directory (data and process logs) afterwards")
	return cmd
}

func (o benchOptions) check() error {
	switch {
	case o.mode != "steady" && o.mode != "burst" && o.mode != "idle":
		return fmt.Errorf("--mode %q: want steady, burst or idle", o.mode)
	case o.cronJobs < 1:
		return fmt.Errorf("--cronjobs %d: must be at least 1", o.cronJobs)
	case o.workers < 0:
		return fmt.Errorf("--workers %d: must not be negative", o.workers)
	case o.slots < 1 || o.slots > 1024:
		return fmt.Errorf("--slots %d: must be 1 to 1024 (what a server accepts from a worker); for more slots start more --workers", o.slots)
	case o.runtime != "exec" && o.runtime != "noop":
		return fmt.Errorf("--runtime %q: want exec or noop", o.runtime)
	case o.duration <= 0:
		return fmt.Errorf("--duration %s: must be positive", o.duration)
	case o.history < 0:
		return fmt.Errorf("--history %d: must not be negative", o.history)
	case o.applyBatch < 1:
		return fmt.Errorf("--apply-batch %d: must be at least 1", o.applyBatch)
	}
	if o.mode == "steady" && time.Duration(o.history)*time.Second < o.warmup+o.duration+15*time.Second {
		return fmt.Errorf("--history %d: the history limit must keep every Job of the window (warmup+duration+15s = %s of every-second runs)",
			o.history, o.warmup+o.duration+15*time.Second)
	}
	return nil
}

func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 1)
	notifySignals(sig)
	go func() {
		select {
		case <-sig:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// benchProc is one child process of the harness.
type benchProc struct {
	name string
	args []string
	log  string
	cmd  *exec.Cmd
	done chan struct{}

	grpcAddr, httpAddr string
}

func (p *benchProc) start(exe string) error {
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	p.cmd = exec.Command(exe, p.args...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	setChildAttrs(p.cmd)
	if err := p.cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	p.done = make(chan struct{})
	go func() {
		_ = p.cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return nil
}

// stop sends SIGTERM and, after 10s, SIGKILL.
func (p *benchProc) stop() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *benchProc) pid() int { return p.cmd.Process.Pid }

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// benchCluster is the servers and workers of one run.
type benchCluster struct {
	exe     string
	dir     string
	servers []*benchProc
	workers []*benchProc
	client  *client.Client
	// creds and token: the harness's client certificate and management token.
	creds *auth.Credentials
	token string
	// https reads the servers' HTTP ports (HTTPS with the cluster CA).
	https *http.Client
}

func (c *benchCluster) stop() {
	for _, w := range c.workers {
		w.stop()
	}
	for _, s := range c.servers {
		s.stop()
	}
	if c.client != nil {
		c.client.Close()
	}
}

func startBenchCluster(ctx context.Context, w io.Writer, o benchOptions, dir string) (*benchCluster, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find this binary: %w", err)
	}
	c := &benchCluster{exe: exe, dir: dir}
	// The cluster runs as users run it: mutual TLS and ACLs.
	pki, err := newLocalPKI(filepath.Join(dir, "tls"))
	if err != nil {
		return c, err
	}
	if c.https, err = httpClient(pki.caFile(), 10*time.Second); err != nil {
		return c, err
	}
	var grpcAddrs []string
	for i := 1; i <= 3; i++ {
		var raftAddr, grpcAddr, httpAddr string
		for _, a := range []*string{&raftAddr, &grpcAddr, &httpAddr} {
			if *a, err = freeAddr(); err != nil {
				return c, err
			}
		}
		id := fmt.Sprintf("n%d", i)
		args := []string{"server", "--node-id", id, "--data-dir", filepath.Join(dir, id),
			"--raft-addr", raftAddr, "--grpc-addr", grpcAddr, "--http-addr", httpAddr, "--log-level", "warn",
			// The bench is one namespace and one token by design: lift the quotas that bound them.
			"--max-cronjobs-per-namespace", strconv.Itoa(max(o.cronJobs, scheduler.DefaultMaxCronJobsPerNamespace)),
			"--max-unfinished-attempts-per-namespace", strconv.Itoa(max(2*o.cronJobs, scheduler.DefaultMaxUnfinishedAttemptsPerNamespace)),
			"--token-rate-limit", "-1", "--dispatch-ahead", o.dispatchAhead.String()}
		args = append(args, o.serverArgs...)
		tlsFlags, err := pki.flags(auth.RoleServer, id)
		if err != nil {
			return c, err
		}
		args = append(args, tlsFlags...)
		if i == 1 {
			args = append(args, "--bootstrap")
		} else {
			args = append(args, "--join", grpcAddrs[0])
		}
		if o.pprof {
			args = append(args, "--pprof")
		}
		p := &benchProc{name: id, args: args, log: filepath.Join(dir, id+".log"), grpcAddr: grpcAddr, httpAddr: httpAddr}
		if err := p.start(exe); err != nil {
			return c, err
		}
		c.servers = append(c.servers, p)
		grpcAddrs = append(grpcAddrs, grpcAddr)
		if o.pprof {
			fmt.Fprintf(w, "server %s: profiles at https://%s/debug/pprof/ (CA %s)\n", id, httpAddr, pki.caFile())
		}
	}
	token, err := pki.bootstrapACL(ctx, grpcAddrs, "bench", filepath.Join(dir, "env"))
	if err != nil {
		return c, err
	}
	benchCreds, err := pki.creds(auth.RoleClient, "bench")
	if err != nil {
		return c, err
	}
	c.creds, c.token = benchCreds, token
	if c.client, err = client.New(client.Config{Servers: grpcAddrs, TLS: benchCreds, Token: token}); err != nil {
		return c, err
	}
	if err := waitFor(ctx, 60*time.Second, "3 servers with a leader", func() (bool, error) {
		ms, err := c.client.Members(ctx)
		if err != nil {
			return false, nil
		}
		leader := false
		for _, m := range ms {
			leader = leader || m.GetLeader()
		}
		return len(ms) == 3 && leader, nil
	}); err != nil {
		return c, err
	}
	for i := 1; i <= o.workers; i++ {
		id := fmt.Sprintf("bench-w%d", i)
		args := []string{"worker", "--servers", strings.Join(grpcAddrs, ","), "--id", id, "--slots", strconv.Itoa(o.slots),
			"--runtime", o.runtime, "--data-dir", filepath.Join(dir, id), "--log-level", "warn"}
		if o.runtime == "exec" {
			args = append(args, "--allow-exec")
		}
		tlsFlags, err := pki.flags(auth.RoleWorker, id)
		if err != nil {
			return c, err
		}
		args = append(args, tlsFlags...)
		if o.pprof {
			addr, err := freeAddr()
			if err != nil {
				return c, err
			}
			args = append(args, "--pprof", addr)
			fmt.Fprintf(w, "worker %s: profiles at http://%s/debug/pprof/\n", id, addr)
		}
		p := &benchProc{name: id, args: args, log: filepath.Join(dir, id+".log")}
		if err := p.start(exe); err != nil {
			return c, err
		}
		c.workers = append(c.workers, p)
	}
	if err := waitFor(ctx, 60*time.Second, fmt.Sprintf("%d workers connected", o.workers), func() (bool, error) {
		ws, err := c.client.ListWorkers(ctx)
		if err != nil {
			return false, nil
		}
		ready := 0
		for _, w := range ws {
			if w.GetState() == pb.WorkerReady {
				ready++
			}
		}
		return ready == o.workers, nil
	}); err != nil {
		return c, err
	}
	return c, nil
}

func waitFor(ctx context.Context, timeout time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("bench: gave up waiting for %s after %s", what, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// leader returns the server process that leads now.
func (c *benchCluster) leader(ctx context.Context) (*benchProc, error) {
	ms, err := c.client.Members(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if !m.GetLeader() {
			continue
		}
		for _, s := range c.servers {
			if s.name == m.GetId() {
				return s, nil
			}
		}
	}
	return nil, errors.New("bench: no leader")
}

// rawClient dials one server directly, with no limit on reply size (the
// harness lists every Job and attempt at the end).
func (c *benchCluster) rawClient(addr string) (pb.RaftCronClient, func(), error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(c.creds.ClientTLS())),
		grpc.WithPerRPCCredentials(auth.BearerToken(c.token)),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<30)))
	if err != nil {
		return nil, nil, err
	}
	return pb.NewRaftCronClient(conn), func() { conn.Close() }, nil
}

// benchCronJobs builds n CronJobs on one schedule running /bin/true, for
// workers of the given runtime (exec workers take only Jobs that select them).
func benchCronJobs(n int, schedule string, history int, runtime string) ([]*pb.Resource, error) {
	selector := ""
	if runtime == "exec" {
		selector = "\n          nodeSelector:\n            raftcron.io/runtime: exec"
	}
	manifest := fmt.Sprintf(`apiVersion: batch/v1
kind: CronJob
metadata:
  name: bench
  namespace: %s
spec:
  schedule: %q
  timeZone: UTC
  successfulJobsHistoryLimit: %d
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never%s
          containers:
          - name: main
            image: busybox
            command: ["/bin/true"]
`, benchNamespace, schedule, history, selector)
	res, _, err := client.DecodeManifests(strings.NewReader(manifest), client.DecodeOptions{})
	if err != nil {
		return nil, err
	}
	out := make([]*pb.Resource, n)
	for i := range out {
		r := proto.Clone(res[0]).(*pb.Resource)
		r.GetCronJob().Metadata.Name = fmt.Sprintf("bench-%06d", i)
		out[i] = r
	}
	return out, nil
}

// applyAll applies the resources in calls of batch each; it returns the
// duration of every call.
func applyAll(ctx context.Context, c *client.Client, res []*pb.Resource, batch int) ([]time.Duration, error) {
	var took []time.Duration
	for len(res) > 0 {
		n := min(batch, len(res))
		actx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		start := time.Now()
		_, err := c.Apply(actx, res[:n], false)
		cancel()
		if err != nil {
			return took, fmt.Errorf("apply %d CronJobs: %w", n, err)
		}
		took = append(took, time.Since(start))
		res = res[n:]
	}
	return took, nil
}

// sample is what /proc and /metrics say about the servers at one moment.
type sample struct {
	at      time.Time
	cpu     map[string]float64 // server -> CPU seconds used so far
	rss     map[string]int64   // server -> resident bytes
	hwm     map[string]int64   // server -> peak resident bytes
	applied uint64             // the leader's applied index
	// CPU seconds of the workers themselves, and of the guards and runs
	// they started (children they have reaped).
	workerCPU, runCPU float64
}

// sample reads the servers' CPU and memory and the leader's applied index.
// Scraping /metrics costs the leader CPU (it lists every CronJob), so it is
// done outside the window being measured: before reading CPU when the
// window starts, after when it ends.
func (c *benchCluster) sample(leader *benchProc, windowEnds bool) sample {
	s := sample{cpu: map[string]float64{}, rss: map[string]int64{}, hwm: map[string]int64{}}
	if leader != nil && !windowEnds {
		s.applied = c.scrapeGauge(leader.httpAddr, "raftcron_raft_applied_index")
	}
	s.at = time.Now()
	for _, p := range c.servers {
		if cpu, rss, hwm, err := procStats(p.pid()); err == nil {
			s.cpu[p.name], s.rss[p.name], s.hwm[p.name] = cpu, rss, hwm
		}
	}
	for _, p := range c.workers {
		if self, children, err := procCPU(p.pid()); err == nil {
			s.workerCPU += self
			s.runCPU += children
		}
	}
	if leader != nil && windowEnds {
		s.applied = c.scrapeGauge(leader.httpAddr, "raftcron_raft_applied_index")
	}
	return s
}

// scrapeGauge reads one unlabelled gauge from a server's /metrics (0 if absent).
func (c *benchCluster) scrapeGauge(httpAddr, name string) uint64 {
	resp, err := c.https.Get("https://" + httpAddr + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return uint64(f)
		}
	}
	return 0
}

func runBench(ctx context.Context, w io.Writer, o benchOptions) (err error) {
	dir := o.dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "raftcron-bench-"); err != nil {
			return err
		}
	} else if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	defer func() {
		if o.keep || err != nil {
			fmt.Fprintf(w, "data and process logs kept in %s\n", dir)
			return
		}
		os.RemoveAll(dir)
	}()
	fmt.Fprintf(w, "bench: mode %s, %d CronJobs, 3 servers, %d %s workers x %d slots, %d CPUs\n",
		o.mode, o.cronJobs, o.workers, o.runtime, o.slots, numCPU())
	c, err := startBenchCluster(ctx, w, o, dir)
	defer c.stop()
	if err != nil {
		return err
	}
	switch o.mode {
	case "steady":
		return benchSteady(ctx, w, c, o)
	case "burst":
		return benchBurst(ctx, w, c, o)
	default:
		return benchIdle(ctx, w, c, o)
	}
}

func printApply(tw io.Writer, took []time.Duration, n, batch int) {
	var total time.Duration
	for _, d := range took {
		total += d
	}
	first := time.Duration(0)
	if len(took) > 0 {
		first = took[0]
	}
	fmt.Fprintf(tw, "apply\t%d CronJobs in %d calls of up to %d: first call %s, all %s\n",
		n, len(took), batch, first.Round(time.Millisecond), total.Round(time.Millisecond))
}

func printServers(tw io.Writer, c *benchCluster, leader *benchProc, a, b sample) {
	secs := b.at.Sub(a.at).Seconds()
	for _, p := range c.servers {
		role := "follower"
		if p == leader {
			role = "leader"
		}
		fmt.Fprintf(tw, "server %s (%s)\tCPU %.1f%% of one core, RSS %s (peak %s)\n", p.name, role,
			100*(b.cpu[p.name]-a.cpu[p.name])/secs, mib(b.rss[p.name]), mib(b.hwm[p.name]))
	}
	if len(c.workers) > 0 {
		fmt.Fprintf(tw, "workers (%d)\tCPU %.1f%% of one core, and %.1f%% in the guards and runs they started\n",
			len(c.workers), 100*(b.workerCPU-a.workerCPU)/secs, 100*(b.runCPU-a.runCPU)/secs)
	}
}

// printCPUPerRun divides the CPU the processes used in the window by the
// runs started in it: the cost of a run, which (unlike start delay) does
// not depend much on what else the machine is doing.
func printCPUPerRun(tw io.Writer, c *benchCluster, leader *benchProc, a, b sample, runs int) {
	if runs == 0 {
		return
	}
	per := func(sec float64) string {
		return (time.Duration(sec * float64(time.Second) / float64(runs))).Round(10 * time.Microsecond).String()
	}
	var followers float64
	for _, p := range c.servers {
		if p != leader {
			followers += b.cpu[p.name] - a.cpu[p.name]
		}
	}
	fmt.Fprintf(tw, "CPU per run started\tleader %s, followers %s, workers %s, guards and runs %s\n",
		per(b.cpu[leader.name]-a.cpu[leader.name]), per(followers), per(b.workerCPU-a.workerCPU), per(b.runCPU-a.runCPU))
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func benchSteady(ctx context.Context, w io.Writer, c *benchCluster, o benchOptions) error {
	res, err := benchCronJobs(o.cronJobs, "* * * * * *", o.history, o.runtime)
	if err != nil {
		return err
	}
	took, err := applyAll(ctx, c.client, res, o.applyBatch)
	if err != nil {
		return err
	}
	start := time.Now().Add(o.warmup).Truncate(time.Second).Add(time.Second)
	end := start.Add(o.duration.Truncate(time.Second))
	if err := sleepUntil(ctx, start); err != nil {
		return err
	}
	leader, err := c.leader(ctx)
	if err != nil {
		return err
	}
	a := c.sample(leader, false)
	if err := sleepUntil(ctx, end); err != nil {
		return err
	}
	b := c.sample(leader, true)
	if l, err := c.leader(ctx); err != nil || l != leader {
		fmt.Fprintln(w, "warning: the leader changed during the window; figures mix two leaders")
	}
	// Let the runs of the window's last seconds start and report.
	if err := sleepUntil(ctx, time.Now().Add(5*time.Second)); err != nil {
		return err
	}
	jobs, attempts, err := c.listRuns(ctx, leader)
	if err != nil {
		return err
	}
	// Ticks in (start, end]: window seconds for every CronJob.
	seconds := int(end.Sub(start) / time.Second)
	asked := seconds * o.cronJobs
	var delays, toAssign, toStart, running, toDone []time.Duration
	created := 0
	for name, j := range jobs {
		sched := j.GetStatus().GetScheduledTime().AsTime()
		if !sched.After(start) || sched.After(end) {
			continue
		}
		created++
		a := attempts[name]
		if a.GetAssignedTime() != nil {
			toAssign = append(toAssign, a.GetAssignedTime().AsTime().Sub(sched))
		}
		if a.GetStartTime() != nil {
			delays = append(delays, a.GetStartTime().AsTime().Sub(sched))
			if a.GetAssignedTime() != nil {
				toStart = append(toStart, a.GetStartTime().AsTime().Sub(a.GetAssignedTime().AsTime()))
			}
			if a.GetFinishTime() != nil {
				running = append(running, a.GetFinishTime().AsTime().Sub(a.GetStartTime().AsTime()))
				if c := j.GetStatus().GetCompletionTime(); c != nil {
					toDone = append(toDone, c.AsTime().Sub(a.GetFinishTime().AsTime()))
				}
			}
		}
	}
	entries := b.applied - a.applied
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	printApply(tw, took, o.cronJobs, o.applyBatch)
	fmt.Fprintf(tw, "window\t%s (%d every-second ticks of %d CronJobs)\n", end.Sub(start), seconds, o.cronJobs)
	fmt.Fprintf(tw, "runs asked\t%d (%.0f/s)\n", asked, float64(asked)/end.Sub(start).Seconds())
	fmt.Fprintf(tw, "Jobs created\t%d\n", created)
	if skips := c.skippedTicks(ctx, leader, start, end); len(skips) > 0 {
		fmt.Fprintf(tw, "ticks skipped\t%s\n", skips)
	}
	fmt.Fprintf(tw, "runs started\t%d (%.1f%%)\n", len(delays), 100*float64(len(delays))/float64(asked))
	p50, p99, mx := percentiles(delays)
	fmt.Fprintf(tw, "start delay\tp50 %s, p99 %s, max %s\n", p50, p99, mx)
	p50, p99, mx = percentiles(toAssign)
	fmt.Fprintf(tw, "  of which tick to assigned\tp50 %s, p99 %s, max %s (leader's stamp, before commit; %d assigned)\n", p50, p99, mx, len(toAssign))
	p50, p99, mx = percentiles(toStart)
	fmt.Fprintf(tw, "  and assigned to started\tp50 %s, p99 %s, max %s (commit, dispatch and the worker's start)\n", p50, p99, mx)
	// The rest of the time a run holds its slot: the run itself, then its
	// report until the leader completes the Job (and frees the slot).
	p50, p99, mx = percentiles(running)
	fmt.Fprintf(tw, "run (started to finished)\tp50 %s, p99 %s, max %s (the worker's clock)\n", p50, p99, mx)
	p50, p99, mx = percentiles(toDone)
	fmt.Fprintf(tw, "finished to Job complete\tp50 %s, p99 %s, max %s (the report, until the leader's step; clocks of worker and leader)\n", p50, p99, mx)
	if len(delays) > 0 {
		fmt.Fprintf(tw, "Raft entries\t%d in the window, %.3f per run started\n", entries, float64(entries)/float64(len(delays)))
	}
	printServers(tw, c, leader, a, b)
	printCPUPerRun(tw, c, leader, a, b, len(delays))
	return tw.Flush()
}

// listRuns returns the Jobs of the bench namespace by name and, per Job, its
// first attempt (index 0, number 1).
func (c *benchCluster) listRuns(ctx context.Context, server *benchProc) (map[string]*pb.Job, map[string]*pb.Attempt, error) {
	rpc, closeRPC, err := c.rawClient(server.grpcAddr)
	if err != nil {
		return nil, nil, err
	}
	defer closeRPC()
	lctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	items, err := listAll(lctx, rpc, client.KindJob)
	if err != nil {
		return nil, nil, fmt.Errorf("list jobs: %w", err)
	}
	jobs := map[string]*pb.Job{}
	for _, it := range items {
		if j := it.GetJob(); j != nil {
			jobs[j.GetMetadata().GetName()] = j
		}
	}
	attempts := map[string]*pb.Attempt{}
	for token := ""; ; {
		al, err := rpc.ListAttempts(lctx, &pb.ListAttemptsRequest{Namespace: benchNamespace, Continue: token})
		if err != nil {
			return nil, nil, fmt.Errorf("list attempts: %w", err)
		}
		for _, a := range al.GetAttempts() {
			if a.GetIndex() == 0 && a.GetNumber() == 1 {
				attempts[a.GetJob()] = a
			}
		}
		if token = al.GetContinue(); token == "" {
			break
		}
	}
	return jobs, attempts, nil
}

// listAll lists every object of a kind in the bench namespace, page by page.
func listAll(ctx context.Context, rpc pb.RaftCronClient, kind string) ([]*pb.Resource, error) {
	var out []*pb.Resource
	for token := ""; ; {
		l, err := rpc.List(ctx, &pb.ListRequest{Kind: kind, Namespace: benchNamespace, Continue: token})
		if err != nil {
			return nil, err
		}
		out = append(out, l.GetItems()...)
		if token = l.GetContinue(); token == "" {
			return out, nil
		}
	}
}

// skippedTicks sums the skip decisions of the bench CronJobs for ticks in
// (start, end], by reason ("CatchUpPolicy 12, ..."); empty when none.
func (c *benchCluster) skippedTicks(ctx context.Context, server *benchProc, start, end time.Time) string {
	rpc, closeRPC, err := c.rawClient(server.grpcAddr)
	if err != nil {
		return err.Error()
	}
	defer closeRPC()
	lctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	items, err := listAll(lctx, rpc, client.KindCronJob)
	if err != nil {
		return "list cronjobs: " + err.Error()
	}
	by := map[string]int{}
	for _, it := range items {
		for _, d := range it.GetCronJob().GetStatus().GetDecisions() {
			at := d.GetScheduledTime().AsTime()
			if d.GetDecision() != pb.DecisionSkip || !at.After(start) || at.After(end) {
				continue
			}
			by[d.GetReason()] += max(int(d.GetCount()), 1)
		}
	}
	var parts []string
	for _, r := range slices.Sorted(maps.Keys(by)) {
		parts = append(parts, fmt.Sprintf("%s %d", r, by[r]))
	}
	return strings.Join(parts, ", ")
}

func percentiles(ds []time.Duration) (p50, p99, worst time.Duration) {
	if len(ds) == 0 {
		return 0, 0, 0
	}
	slices.Sort(ds)
	at := func(q float64) time.Duration {
		i := int(q*float64(len(ds))+0.5) - 1
		return ds[min(max(i, 0), len(ds)-1)].Round(100 * time.Microsecond)
	}
	return at(0.50), at(0.99), ds[len(ds)-1].Round(100 * time.Microsecond)
}

func sleepUntil(ctx context.Context, t time.Time) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Until(t)):
		return nil
	}
}

func benchBurst(ctx context.Context, w io.Writer, c *benchCluster, o benchOptions) error {
	// Every CronJob is due at one second, far enough ahead for the apply.
	lead := 5*time.Second + time.Duration(o.cronJobs)*time.Millisecond
	at := time.Now().UTC().Add(lead).Truncate(time.Second)
	schedule := fmt.Sprintf("%d %d %d %d %d *", at.Second(), at.Minute(), at.Hour(), at.Day(), int(at.Month()))
	res, err := benchCronJobs(o.cronJobs, schedule, 1, o.runtime)
	if err != nil {
		return err
	}
	took, err := applyAll(ctx, c.client, res, o.applyBatch)
	if err != nil {
		return err
	}
	if !time.Now().Before(at.Add(-500 * time.Millisecond)) {
		return fmt.Errorf("bench: the apply ended %s before the burst second; run again with fewer CronJobs", time.Until(at).Round(time.Millisecond))
	}
	leader, err := c.leader(ctx)
	if err != nil {
		return err
	}
	a := c.sample(leader, false)
	if err := sleepUntil(ctx, at.Add(10*time.Second)); err != nil {
		return err
	}
	b := c.sample(leader, true)
	jobs, attempts, err := c.listRuns(ctx, leader)
	if err != nil {
		return err
	}
	var firstCreated, lastCreated, lastAssigned time.Duration
	var delays []time.Duration
	assigned, first := 0, true
	for name, j := range jobs {
		created := j.GetMetadata().GetCreationTimestamp().AsTime().Sub(at)
		if first || created < firstCreated {
			firstCreated = created
		}
		if first || created > lastCreated {
			lastCreated = created
		}
		first = false
		a := attempts[name]
		if a.GetAssignedTime() != nil {
			assigned++
			lastAssigned = max(lastAssigned, a.GetAssignedTime().AsTime().Sub(at))
		}
		if a.GetStartTime() != nil {
			delays = append(delays, a.GetStartTime().AsTime().Sub(at))
		}
	}
	p50, p99, lastStarted := percentiles(delays)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	printApply(tw, took, o.cronJobs, o.applyBatch)
	fmt.Fprintf(tw, "burst\t%d CronJobs due at %s\n", o.cronJobs, at.Format(time.RFC3339))
	fmt.Fprintf(tw, "Jobs created\t%d, stamped from %s to %s after the tick (negative: decided ahead)\n", len(jobs), firstCreated.Round(time.Millisecond), lastCreated.Round(time.Millisecond))
	fmt.Fprintf(tw, "first attempts assigned\t%d, the last stamped %s after the tick (leader's clock, before commit)\n", assigned, lastAssigned.Round(time.Millisecond))
	fmt.Fprintf(tw, "first attempts started\t%d: p50 %s, p99 %s, the last %s after the tick (worker's clock: committed and dispatched)\n", len(delays), p50, p99, lastStarted)
	fmt.Fprintf(tw, "Raft entries\t%d from the apply to tick+10s\n", b.applied-a.applied)
	printServers(tw, c, leader, a, b)
	return tw.Flush()
}

func benchIdle(ctx context.Context, w io.Writer, c *benchCluster, o benchOptions) error {
	res, err := benchCronJobs(o.cronJobs, "0 0 1 1 *", 3, o.runtime)
	if err != nil {
		return err
	}
	took, err := applyAll(ctx, c.client, res, o.applyBatch)
	if err != nil {
		return err
	}
	// Let the followers catch up and the apply's garbage be collected.
	if err := sleepUntil(ctx, time.Now().Add(3*time.Second)); err != nil {
		return err
	}
	leader, err := c.leader(ctx)
	if err != nil {
		return err
	}
	a := c.sample(leader, false)
	if err := sleepUntil(ctx, time.Now().Add(o.duration)); err != nil {
		return err
	}
	b := c.sample(leader, true)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	printApply(tw, took, o.cronJobs, o.applyBatch)
	fmt.Fprintf(tw, "idle window\t%s, Raft entries %d\n", b.at.Sub(a.at).Round(time.Second), b.applied-a.applied)
	printServers(tw, c, leader, a, b)

	// Restart a follower and time until it serves every CronJob.
	var follower *benchProc
	for _, p := range c.servers {
		if p != leader {
			follower = p
			break
		}
	}
	follower.stop()
	restarted := time.Now()
	if err := follower.start(c.exe); err != nil {
		return err
	}
	rpc, closeRPC, err := c.rawClient(follower.grpcAddr)
	if err != nil {
		return err
	}
	defer closeRPC()
	// The follower applies the CronJobs in the order they were applied:
	// it serves them all from when it serves the last one. Polling that
	// one is cheap; listing all of them, once, confirms it.
	var served time.Duration
	last := res[len(res)-1].GetCronJob().GetMetadata().GetName()
	err = waitFor(ctx, 2*time.Minute, "the restarted follower to serve every CronJob", func() (bool, error) {
		lctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if _, err := rpc.Get(lctx, &pb.GetRequest{Kind: client.KindCronJob, Namespace: benchNamespace, Name: last}); err != nil {
			return false, nil
		}
		at := time.Since(restarted)
		items, err := listAll(lctx, rpc, client.KindCronJob)
		if err != nil || len(items) < o.cronJobs {
			return false, nil
		}
		served = at
		return true, nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(tw, "follower restart\t%s serves all %d CronJobs %s after it was started again\n", follower.name, o.cronJobs, served.Round(time.Millisecond))
	if _, rss, _, err := procStats(follower.pid()); err == nil {
		fmt.Fprintf(tw, "server %s after restart\tRSS %s\n", follower.name, mib(rss))
	}
	return tw.Flush()
}

func notifySignals(c chan<- os.Signal) { signal.Notify(c, syscall.SIGINT, syscall.SIGTERM) }

func numCPU() int { return runtime.NumCPU() }
