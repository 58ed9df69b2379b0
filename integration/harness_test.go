package integration

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/raftcron/raftcron/auth"
	"github.com/raftcron/raftcron/client"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// binary is the raftcron binary built once for the whole package by TestMain.
var binary string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "raftcron-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "raftcron")
	// raftcron-guard next to raftcron: the lease guard workers run attempts under.
	for _, b := range []struct{ out, pkg string }{{binary, "../cmd/raftcron"}, {filepath.Join(dir, "raftcron-guard"), "../cmd/raftcron-guard"}} {
		build := exec.Command("go", "build", "-o", b.out, b.pkg)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", b.pkg, err, out)
			return 1
		}
	}
	return m.Run()
}

// proc is one raftcron process of a test cluster.
type proc struct {
	name string
	args []string
	log  string
	// wrap, when set, is a command line the binary runs under, e.g.
	// ip netns exec NS (which execs, so the pid stays the binary's).
	wrap []string
	cmd  *exec.Cmd
	done chan struct{}
}

func (p *proc) start(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.wrap) > 0 {
		p.cmd = exec.Command(p.wrap[0], append(append(append([]string{}, p.wrap[1:]...), binary), p.args...)...)
	} else {
		p.cmd = exec.Command(binary, p.args...)
	}
	p.cmd.Stdout, p.cmd.Stderr = f, f
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", p.name, err)
	}
	p.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		_ = cmd.Wait()
		f.Close()
		close(done)
	}(p.cmd, p.done)
}

func (p *proc) running() bool {
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (p *proc) signal(sig syscall.Signal) {
	if p.running() {
		_ = p.cmd.Process.Signal(sig)
	}
}

// kill9 kills the process at once, as a crash would.
func (p *proc) kill9() {
	if p.running() {
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// stop asks the process to stop (SIGTERM) and waits, killing it after 10 s.
func (p *proc) stop() {
	if !p.running() {
		return
	}
	p.signal(syscall.SIGCONT)
	p.signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.kill9()
	}
}

// cluster is a set of raftcron server and worker processes on loopback.
type cluster struct {
	t       *testing.T
	dir     string
	servers []*proc
	grpc    []string
	http    []string
	workers map[string]*proc
	extra   []string
	mu      sync.Mutex
	// pki holds the cluster CA and every process's certificate; token is
	// the management token (bootstrapped at start).
	pki   *testPKI
	token string
}

type clusterOptions struct {
	servers int
	// extra server flags, e.g. --backoff-base
	serverFlags []string
	// host the servers listen on; default 127.0.0.1
	host string
}

func freePort(t *testing.T, host string) string {
	t.Helper()
	if host == "" {
		host = "127.0.0.1"
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// serverTiming makes failover fast enough for tests and leases short.
var serverTiming = []string{
	"--raft-heartbeat-timeout", "500ms", "--raft-election-timeout", "500ms", "--raft-leader-lease-timeout", "250ms",
	"--worker-heartbeat", "200ms", "--worker-ttl", "2s", "--lease-ttl", "3s",
	"--backoff-base", "300ms", "--backoff-cap", "2s",
}

func startCluster(t *testing.T, o clusterOptions) *cluster {
	t.Helper()
	if o.servers == 0 {
		o.servers = 3
	}
	c := &cluster{t: t, dir: t.TempDir(), workers: map[string]*proc{}, extra: o.serverFlags}
	c.pki = newTestPKI(t, filepath.Join(c.dir, "tls"))
	for i := 1; i <= o.servers; i++ {
		// A port picked free can be taken by another process (an outgoing
		// connection's ephemeral port) before the server binds it: retry
		// with fresh ports when that happens.
		for try := 1; ; try++ {
			raftAddr, grpcAddr, httpAddr := freePort(t, o.host), freePort(t, o.host), freePort(t, o.host)
			args := []string{"server", "--node-id", fmt.Sprintf("s%d", i), "--data-dir", filepath.Join(c.dir, fmt.Sprintf("s%d", i)),
				"--raft-addr", raftAddr, "--grpc-addr", grpcAddr, "--http-addr", httpAddr, "--log-level", "debug"}
			args = append(args, serverTiming...)
			args = append(args, c.pki.flags(auth.RoleServer, fmt.Sprintf("s%d", i))...)
			args = append(args, o.serverFlags...)
			if i == 1 {
				args = append(args, "--bootstrap")
			} else {
				args = append(args, "--join", c.grpc[0])
			}
			p := &proc{name: fmt.Sprintf("s%d", i), args: args, log: filepath.Join(c.dir, fmt.Sprintf("s%d-%d.log", i, try))}
			p.start(t)
			if started(p) || try == 5 {
				c.servers = append(c.servers, p)
				c.grpc = append(c.grpc, grpcAddr)
				c.http = append(c.http, httpAddr)
				break
			}
			t.Logf("%s did not start (try %d); retrying with other ports", p.name, try)
		}
	}
	t.Cleanup(c.shutdown)
	c.bootstrapACL()
	c.waitFor(30*time.Second, fmt.Sprintf("%d voters and a leader", o.servers), func() bool {
		m, err := c.client().Members(context.Background())
		if err != nil || len(m) != o.servers {
			return false
		}
		for _, x := range m {
			if x.GetLeader() {
				return true
			}
		}
		return false
	})
	return c
}

// started waits until a server process logs that it serves, or exits.
func started(p *proc) bool {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(p.log); err == nil && strings.Contains(string(b), "server started") {
			return true
		}
		if !p.running() {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return p.running()
}

// restartServer starts a stopped server again from its data dir, without --bootstrap.
func (c *cluster) restartServer(i int) {
	p := c.servers[i]
	args := make([]string, 0, len(p.args))
	for _, a := range p.args {
		if a != "--bootstrap" {
			args = append(args, a)
		}
	}
	p.args = args
	p.start(c.t)
}

func (c *cluster) shutdown() {
	for _, w := range c.workers {
		w.stop()
	}
	for _, s := range c.servers {
		s.stop()
	}
	if c.t.Failed() {
		for _, p := range append(append([]*proc{}, c.servers...), c.workerList()...) {
			if b, err := os.ReadFile(p.log); err == nil {
				lines := strings.Split(string(b), "\n")
				if len(lines) > 60 {
					lines = lines[len(lines)-60:]
				}
				c.t.Logf("---- last lines of %s ----\n%s", p.name, strings.Join(lines, "\n"))
			}
		}
	}
}

func (c *cluster) workerList() []*proc {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*proc, 0, len(c.workers))
	for _, w := range c.workers {
		out = append(out, w)
	}
	return out
}

// startWorker starts a worker process connected to every server.
func (c *cluster) startWorker(id string, flags ...string) *proc {
	c.t.Helper()
	return c.startWorkerWrapped(nil, id, flags...)
}

// startWorkerWrapped starts a worker under a wrapping command line (see proc.wrap).
func (c *cluster) startWorkerWrapped(wrap []string, id string, flags ...string) *proc {
	c.t.Helper()
	args := []string{"worker", "--servers", strings.Join(c.grpc, ","), "--id", id,
		"--data-dir", filepath.Join(c.dir, "worker-"+id), "--log-level", "debug"}
	args = append(args, c.pki.flags(auth.RoleWorker, id)...)
	args = append(args, flags...)
	p := &proc{name: "worker-" + id, args: args, wrap: wrap, log: filepath.Join(c.dir, "worker-"+id+".log")}
	p.start(c.t)
	c.mu.Lock()
	c.workers[id] = p
	c.mu.Unlock()
	c.waitFor(20*time.Second, "worker "+id+" connected", func() bool {
		ws, err := c.client().ListWorkers(context.Background())
		if err != nil {
			return false
		}
		for _, w := range ws {
			if w.GetId() == id && w.GetState() == "Ready" {
				return true
			}
		}
		return false
	})
	return p
}

func (c *cluster) client() *client.Client {
	return c.clientOf(c.grpc...)
}

// clientOf is a management client of the given servers.
func (c *cluster) clientOf(addrs ...string) *client.Client {
	cl, err := client.New(client.Config{Servers: addrs, TLS: c.pki.creds(auth.RoleClient, "tester"), Token: c.token})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { cl.Close() })
	return cl
}

// leader returns the index of the current leader, waiting for one.
func (c *cluster) leader() int {
	c.t.Helper()
	idx := -1
	c.waitFor(30*time.Second, "a leader", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		m, err := c.client().Members(ctx)
		if err != nil {
			return false
		}
		for _, x := range m {
			if x.GetLeader() {
				for i, s := range c.servers {
					if s.name == x.GetId() && s.running() {
						idx = i
						return true
					}
				}
			}
		}
		return false
	})
	return idx
}

func (c *cluster) waitFor(timeout time.Duration, what string, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			c.t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// apply applies resources and fails the test on error.
func (c *cluster) apply(res ...*pb.Resource) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.client().Apply(ctx, res, false); err != nil {
		c.t.Fatalf("apply: %v", err)
	}
}

// waitJob waits until a Job has a Complete or Failed condition and returns it.
func (c *cluster) waitJob(name string, timeout time.Duration) *pb.Job {
	c.t.Helper()
	var job *pb.Job
	c.waitFor(timeout, "job "+name+" to finish", func() bool {
		j, err := c.client().GetJob(context.Background(), "default", name)
		if err != nil {
			return false
		}
		for _, cond := range j.GetStatus().GetConditions() {
			if (cond.GetType() == "Complete" || cond.GetType() == "Failed") && cond.GetStatus() == "True" {
				job = j
				return true
			}
		}
		return false
	})
	return job
}

func (c *cluster) attempts(job string) []*pb.Attempt {
	c.t.Helper()
	a, err := c.client().ListAttempts(context.Background(), "default", job)
	if err != nil {
		c.t.Fatalf("attempts of %s: %v", job, err)
	}
	return a
}

// cli runs the raftcron binary against the cluster and returns its stdout.
func (c *cluster) cli(args ...string) (string, error) {
	cmd := exec.Command(binary, append([]string{"--server", strings.Join(c.grpc, ",")}, args...)...)
	cmd.Env = c.cliEnv()
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), fmt.Errorf("%v: %s", err, ee.Stderr)
	}
	return string(out), err
}

// condition returns the reason of a Job's condition of the given type, if True.
func condition(j *pb.Job, typ string) (string, bool) {
	for _, c := range j.GetStatus().GetConditions() {
		if c.GetType() == typ && c.GetStatus() == "True" {
			return c.GetReason(), true
		}
	}
	return "", false
}
