package integration

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/raftcron/raftcron/auth"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// fakeServer is a WorkerService that records every hello it receives, as
// an attacker who took over a server's address would.
type fakeServer struct {
	pb.UnimplementedWorkerServiceServer
	hellos atomic.Int32
	tokens atomic.Value
}

func (f *fakeServer) Session(st pb.WorkerService_SessionServer) error {
	m, err := st.Recv()
	if err != nil {
		return err
	}
	if h := m.GetHello(); h != nil {
		f.hellos.Add(1)
		f.tokens.Store(h.GetJoinToken())
	}
	return nil
}

// TestWorkerRefusesFakeServer: a real worker process pointed at an address
// that answers with a certificate that is not a server certificate of its
// cluster (a client certificate of the same CA, or a server certificate of
// another CA) never sends its hello (and with it its join token) there.
func TestWorkerRefusesFakeServer(t *testing.T) {
	dir := t.TempDir()
	pki := newTestPKI(t, filepath.Join(dir, "tls"))
	other := newTestPKI(t, filepath.Join(dir, "other"))
	for _, c := range []struct {
		name  string
		creds *auth.Credentials
	}{
		{"client certificate of the cluster CA", pki.creds(auth.RoleClient, "mallory")},
		{"server certificate of another CA", other.creds(auth.RoleServer, "s1")},
	} {
		t.Run(c.name, func(t *testing.T) {
			lis, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			fake := &fakeServer{}
			// The fake accepts anyone: it wants the worker's hello.
			cfg := c.creds.ServerTLS(auth.RoleWorker)
			cfg.VerifyConnection = nil
			gs := grpc.NewServer(grpc.Creds(credentials.NewTLS(cfg)))
			pb.RegisterWorkerServiceServer(gs, fake)
			go gs.Serve(lis)
			defer gs.Stop()

			args := []string{"worker", "--servers", lis.Addr().String(), "--id", "w1", "--join-token", "the-join-token",
				"--data-dir", filepath.Join(dir, "worker-"+strings.ReplaceAll(c.name, " ", "-")), "--runtime", "exec", "--allow-exec"}
			args = append(args, pki.flags(auth.RoleWorker, "w1")...)
			p := &proc{name: "worker", args: args, log: filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".log")}
			p.start(t)
			defer p.stop()
			deadline := time.Now().Add(4 * time.Second)
			for time.Now().Before(deadline) && fake.hellos.Load() == 0 {
				time.Sleep(50 * time.Millisecond)
			}
			if n := fake.hellos.Load(); n != 0 {
				t.Fatalf("the worker sent %d hellos to a fake server (join token %q)", n, fake.tokens.Load())
			}
			b, _ := os.ReadFile(p.log)
			if !strings.Contains(string(b), "certificate") {
				t.Fatalf("the worker's log does not say why it refused the server:\n%s", b)
			}
		})
	}
}

// TestWorkerCertificateNamesItsID: a worker cannot run under an id its
// certificate does not name.
func TestWorkerCertificateNamesItsID(t *testing.T) {
	dir := t.TempDir()
	pki := newTestPKI(t, filepath.Join(dir, "tls"))
	args := append([]string{"worker", "--servers", "127.0.0.1:1", "--id", "w2", "--data-dir", filepath.Join(dir, "w")},
		pki.flags(auth.RoleWorker, "w1")...)
	p := &proc{name: "worker", args: args, log: filepath.Join(dir, "w.log")}
	p.start(t)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.kill9()
		t.Fatal("a worker with another id than its certificate's kept running")
	}
	b, _ := os.ReadFile(p.log)
	if !strings.Contains(string(b), `certificate names worker "w1"`) {
		t.Fatalf("log: %s", b)
	}
}
