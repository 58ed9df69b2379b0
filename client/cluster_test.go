package client_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/raftcron/raftcron/client"
	"github.com/raftcron/raftcron/cluster"
	"github.com/raftcron/raftcron/worker"
	"github.com/raftcron/raftcron/worker/guard"
)

// The examples and the cluster tests of this package run against one
// in-process cluster: three servers on loopback ports and one exec worker,
// started by TestMain. servers are their gRPC addresses.
var (
	servers []string
	testbed *inProcessCluster
)

func TestMain(m *testing.M) {
	// The exec worker starts every attempt under its lease guard, which is
	// this test binary called as `<binary> guard …` (as `raftcron guard`).
	if len(os.Args) > 1 && os.Args[1] == "guard" {
		os.Exit(guard.Main(os.Args[1:], os.Stderr))
	}
	dir, err := os.MkdirTemp("", "raftcron-client-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testbed, err = startInProcessCluster(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "start the test cluster:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	servers = testbed.addrs()
	code := m.Run()
	testbed.stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

type testServer struct {
	id, dir, raftAddr, grpcAddr string
	bootstrap                   bool
	join                        []string
	srv                         *cluster.Server
}

type inProcessCluster struct {
	mu      sync.Mutex
	nodes   []*testServer
	cancel  context.CancelFunc
	workerC chan error
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func quietLogger() *slog.Logger {
	if os.Getenv("RAFTCRON_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func startInProcessCluster(dir string) (*inProcessCluster, error) {
	tc := &inProcessCluster{}
	for i := 1; i <= 3; i++ {
		n := &testServer{id: fmt.Sprintf("n%d", i), dir: filepath.Join(dir, fmt.Sprintf("n%d", i)), bootstrap: i == 1}
		var err error
		if n.raftAddr, err = freePort(); err != nil {
			return nil, err
		}
		if n.grpcAddr, err = freePort(); err != nil {
			return nil, err
		}
		if i > 1 {
			n.join = []string{tc.nodes[0].grpcAddr}
		}
		tc.nodes = append(tc.nodes, n)
		if err := tc.start(n); err != nil {
			tc.stop()
			return nil, err
		}
	}
	if err := tc.waitFor(20*time.Second, func() bool { return tc.leaderAll(3) }); err != nil {
		tc.stop()
		return nil, fmt.Errorf("three voters and a leader: %w", err)
	}
	exe, err := os.Executable()
	if err != nil {
		tc.stop()
		return nil, err
	}
	agent, err := worker.New(worker.Config{
		Servers: tc.addrs(), ID: "w1", Slots: 4, DataDir: filepath.Join(dir, "worker"),
		Runtime: "exec", AllowExec: true, GuardBinary: exe, Logger: quietLogger(),
	})
	if err != nil {
		tc.stop()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	tc.cancel, tc.workerC = cancel, make(chan error, 1)
	go func() { tc.workerC <- agent.Run(ctx) }()
	c, err := client.New(client.Config{Servers: tc.addrs(), Insecure: true})
	if err != nil {
		tc.stop()
		return nil, err
	}
	defer c.Close()
	if err := tc.waitFor(20*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		ws, err := c.Workers().List(ctx, client.LabelRuntime+"="+client.RuntimeExec)
		return err == nil && len(ws) == 1 && ws[0].GetState() == client.WorkerReady
	}); err != nil {
		tc.stop()
		return nil, fmt.Errorf("the exec worker is ready: %w", err)
	}
	return tc, nil
}

func (tc *inProcessCluster) start(n *testServer) error {
	s, err := cluster.New(cluster.Config{
		NodeID: n.id, DataDir: n.dir, RaftAddr: n.raftAddr, GRPCAddr: n.grpcAddr,
		Bootstrap: n.bootstrap, Join: n.join,
		HeartbeatTimeout: 300 * time.Millisecond, ElectionTimeout: 300 * time.Millisecond,
		LeaderLeaseTimeout: 150 * time.Millisecond, CommitTimeout: 10 * time.Millisecond,
		Worker: cluster.WorkerConfig{HeartbeatInterval: 100 * time.Millisecond, WorkerTTL: 5 * time.Second, LeaseTTL: 10 * time.Second},
		Logger: quietLogger().With("node", n.id), Insecure: true,
	})
	if err != nil {
		return fmt.Errorf("start %s: %w", n.id, err)
	}
	s.Start()
	tc.mu.Lock()
	n.srv = s
	tc.mu.Unlock()
	return nil
}

// stopNode stops one server (its data stays for a restart with start).
func (tc *inProcessCluster) stopNode(n *testServer) {
	tc.mu.Lock()
	s := n.srv
	n.srv = nil
	tc.mu.Unlock()
	if s != nil {
		_ = s.Stop()
	}
}

func (tc *inProcessCluster) stop() {
	if tc.cancel != nil {
		tc.cancel()
		<-tc.workerC
	}
	for _, n := range tc.nodes {
		tc.stopNode(n)
	}
}

func (tc *inProcessCluster) addrs() []string {
	var out []string
	for _, n := range tc.nodes {
		out = append(out, n.grpcAddr)
	}
	return out
}

// leader is the server that leads now, or nil.
func (tc *inProcessCluster) leader() *testServer {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	for _, n := range tc.nodes {
		if n.srv != nil && n.srv.IsLeader() {
			return n
		}
	}
	return nil
}

// leaderAll reports whether every running server sees n members and a leader.
func (tc *inProcessCluster) leaderAll(n int) bool {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	for _, nd := range tc.nodes {
		if nd.srv == nil {
			return false
		}
		m, err := nd.srv.Node().Members()
		if err != nil || len(m) != n {
			return false
		}
		if id, _ := nd.srv.Node().Leader(); id == "" {
			return false
		}
	}
	return true
}

func (tc *inProcessCluster) waitFor(timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s", timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// dial is a client of the test cluster, closed when t ends.
func dial(t *testing.T) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{Servers: servers, Insecure: true, DialTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func readAll(t *testing.T, r io.ReadCloser) string {
	t.Helper()
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var namespaces atomic.Int32

// namespace is a namespace no earlier test of this process used, so that a
// test can run again (-count) on the same cluster.
func namespace(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, namespaces.Add(1))
}
