package cluster_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hraft "github.com/hashicorp/raft"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/raftcron/raftcron/auth"
	"github.com/raftcron/raftcron/client"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// testPKI is a CA in a temp dir and the certificates made from it.
type testPKI struct {
	t       *testing.T
	caDir   string
	certDir string
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	p := &testPKI{t: t, caDir: filepath.Join(dir, "ca"), certDir: filepath.Join(dir, "certs")}
	if err := auth.CreateCA(p.caDir, auth.CAOptions{}); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *testPKI) creds(role auth.Role, name string) *auth.Credentials {
	p.t.Helper()
	out := filepath.Join(p.certDir, string(role))
	cert, key, err := auth.CreateCert(p.caDir, out, auth.CertOptions{Role: role, Name: name})
	if err != nil {
		p.t.Fatal(err)
	}
	c, err := auth.LoadCredentials(filepath.Join(p.caDir, auth.CAFile), cert, key)
	if err != nil {
		p.t.Fatal(err)
	}
	return c
}

// serverCreds is nil on a nil PKI (an insecure cluster).
func (p *testPKI) serverCreds(id string) *auth.Credentials {
	if p == nil {
		return nil
	}
	return p.creds(auth.RoleServer, id)
}

func (p *testPKI) client(t *testing.T, token string, role auth.Role, name string, addrs ...string) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{Servers: addrs, TLS: p.creds(role, name), Token: token, DialTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// rawConn is a gRPC connection with the given certificate, for calls the
// client library does not make (join, worker sessions).
func (p *testPKI) rawConn(t *testing.T, role auth.Role, name, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(p.creds(role, name).ClientTLS())))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func shortCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestSecureClusterRefusesAttackers replays, against a 3-server cluster with
// mutual TLS and ACLs, the attacks that owned an unsecured one; each is
// refused and the state stays as it was.
func TestSecureClusterRefusesAttackers(t *testing.T) {
	if testing.Short() {
		t.Skip("in-process cluster test")
	}
	pki := newTestPKI(t)
	tc := startTestCluster(t, 3, pki)
	addrs := []string{tc.nodes[0].grpcAddr, tc.nodes[1].grpcAddr, tc.nodes[2].grpcAddr}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// Before bootstrap, a token-less call says what to do.
	anon := pki.client(t, "", auth.RoleClient, "alice", addrs...)
	if _, err := anon.ListCronJobs(ctx, "default"); !errors.Is(err, client.ErrUnauthenticated) || !strings.Contains(err.Error(), "acl bootstrap") {
		t.Fatalf("list before bootstrap: %v, want Unauthenticated naming `acl bootstrap`", err)
	}
	boot, err := anon.ACLBootstrap(ctx)
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	if _, err := anon.ACLBootstrap(ctx); err == nil {
		t.Fatal("a second bootstrap succeeded")
	}
	mgmt := pki.client(t, boot.GetSecret(), auth.RoleClient, "alice", addrs...)
	if _, err := mgmt.Apply(ctx, []*pb.Resource{yearlyCronJob("nightly")}, false); err != nil {
		t.Fatalf("apply with the management token: %v", err)
	}
	teamA, err := mgmt.ACLTokenCreate(ctx, client.ACLTokenSpec{Name: "team-a", Namespaces: []string{"team-a"}, Verbs: []string{"read", "write"}})
	if err != nil {
		t.Fatal(err)
	}
	reader, err := mgmt.ACLTokenCreate(ctx, client.ACLTokenSpec{Name: "reader", Namespaces: []string{"*"}, Verbs: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	count := func() int {
		t.Helper()
		l, err := mgmt.ListCronJobs(ctx, "default")
		if err != nil {
			t.Fatal(err)
		}
		return len(l)
	}
	if count() != 1 {
		t.Fatal("fixture: want one CronJob")
	}

	// A token of another namespace, asked through a follower (forwarding
	// carries the token, and the leader checks it too).
	fol := tc.follower()
	other := pki.client(t, teamA.GetSecret(), auth.RoleClient, "bob", fol.grpcAddr)
	if _, err := other.Apply(ctx, []*pb.Resource{yearlyCronJob("evil")}, false); !errors.Is(err, client.ErrPermissionDenied) {
		t.Fatalf("apply in default with a team-a token: %v, want PermissionDenied", err)
	}
	if err := other.Delete(ctx, "CronJob", "default", "nightly"); !errors.Is(err, client.ErrPermissionDenied) {
		t.Fatalf("delete with a team-a token: %v, want PermissionDenied", err)
	}
	teamRes := yearlyCronJob("mine")
	teamRes.GetCronJob().Metadata.Namespace = "team-a"
	if _, err := other.Apply(ctx, []*pb.Resource{teamRes}, false); err != nil {
		t.Fatalf("apply in its own namespace through a follower: %v", err)
	}
	// A dashboard's summary: of the namespaces the token may read only.
	if sum, err := other.Summary(ctx, []string{"team-a"}, time.Now()); err != nil || sum.GetCronJobs() != 1 {
		t.Fatalf("summary of team-a with a team-a token: %v, %v; want 1 CronJob", sum, err)
	}
	for _, spaces := range [][]string{nil, {"team-a", "default"}} {
		if _, err := other.Summary(ctx, spaces, time.Now()); !errors.Is(err, client.ErrPermissionDenied) {
			t.Fatalf("summary of %v with a team-a token: %v, want PermissionDenied", spaces, err)
		}
	}
	if _, err := mgmt.Summary(ctx, []string{}, time.Now()); !errors.Is(err, client.ErrInvalid) || !strings.Contains(err.Error(), "namespaces") {
		t.Fatalf("summary of no namespace: %v, want ErrInvalid naming namespaces", err)
	}
	if sum, err := mgmt.Summary(ctx, nil, time.Now()); err != nil || sum.GetCronJobs() != 2 {
		t.Fatalf("summary of every namespace with the management token: %v, %v; want 2 CronJobs", sum, err)
	}
	// A read token may read but not write, not trigger, not restore, not remove a peer.
	ro := pki.client(t, reader.GetSecret(), auth.RoleClient, "carol", addrs...)
	if _, err := ro.ListCronJobs(ctx, "default"); err != nil {
		t.Fatalf("read token list: %v", err)
	}
	if _, err := ro.Trigger(ctx, "default", "nightly", ""); !errors.Is(err, client.ErrPermissionDenied) {
		t.Fatalf("trigger with a read token: %v", err)
	}
	if err := ro.RemovePeer(ctx, tc.nodes[2].id); !errors.Is(err, client.ErrPermissionDenied) {
		t.Fatalf("remove-peer with a read token: %v", err)
	}
	if _, err := ro.ACLTokens(ctx); !errors.Is(err, client.ErrPermissionDenied) {
		t.Fatalf("acl token list with a read token: %v", err)
	}
	// No token, a made-up token, a revoked token.
	if _, err := anon.Apply(ctx, []*pb.Resource{yearlyCronJob("evil")}, false); !errors.Is(err, client.ErrUnauthenticated) {
		t.Fatalf("apply without a token: %v", err)
	}
	madeUp := pki.client(t, "rcs_not-a-real-token", auth.RoleClient, "mallory", addrs...)
	if _, err := madeUp.ListCronJobs(ctx, "default"); !errors.Is(err, client.ErrUnauthenticated) {
		t.Fatalf("made-up token: %v", err)
	}
	if err := mgmt.ACLTokenRevoke(ctx, reader.GetToken().GetAccessorId()); err != nil {
		t.Fatal(err)
	}
	tc.waitFor(5*time.Second, "the revocation on every server", func() bool {
		for _, a := range addrs {
			c := pki.client(t, reader.GetSecret(), auth.RoleClient, "carol", a)
			if _, err := c.ListCronJobs(shortCtx(t), "default"); !errors.Is(err, client.ErrUnauthenticated) {
				return false
			}
		}
		return true
	})
	// A worker certificate is not a client, whatever its token.
	asWorker := pki.client(t, boot.GetSecret(), auth.RoleWorker, "w1", addrs...)
	if _, err := asWorker.ListCronJobs(ctx, "default"); !errors.Is(err, client.ErrPermissionDenied) {
		t.Fatalf("worker certificate as a client: %v", err)
	}
	// Plaintext reaches nothing.
	plain, err := client.New(client.Config{Servers: addrs, Insecure: true, DialTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if _, err := plain.ListCronJobs(shortCtx(t), "default"); err == nil {
		t.Fatal("a plaintext client was answered")
	} else if !strings.Contains(err.Error(), "drop --insecure") {
		t.Errorf("a plaintext client refused without saying why: %v", err)
	}
	// A certificate from another CA is refused at the handshake.
	foreign := newTestPKI(t)
	if _, err := foreign.client(t, boot.GetSecret(), auth.RoleClient, "alice", addrs...).ListCronJobs(shortCtx(t), "default"); err == nil {
		t.Fatal("a certificate of another CA was accepted")
	}
	// Join is for servers, as themselves: a client certificate cannot, and
	// a server certificate cannot join as another node (which would remove it).
	join := &pb.JoinRequest{NodeId: tc.nodes[2].id, RaftAddress: "127.0.0.1:1", GrpcAddress: "127.0.0.1:2"}
	lead := tc.waitLeader()
	for _, who := range []struct {
		role auth.Role
		name string
	}{{auth.RoleClient, "alice"}, {auth.RoleServer, "intruder"}, {auth.RoleWorker, tc.nodes[2].id}} {
		_, err := pb.NewRaftCronClient(pki.rawConn(t, who.role, who.name, lead.grpcAddr)).Join(shortCtx(t), join)
		if status.Code(err) != codes.PermissionDenied {
			t.Fatalf("join as %s/%s: %v, want PermissionDenied", who.role, who.name, err)
		}
	}
	members, err := mgmt.Members(ctx)
	if err != nil || len(members) != 3 {
		t.Fatalf("members after refused joins: %d, %v", len(members), err)
	}
	// The server asked probes the others with the caller's token: in a
	// cluster with ACLs every healthy server shows alive.
	for _, m := range members {
		if m.GetStatus() != pb.MemberAlive {
			t.Errorf("member %s is %s in a healthy cluster: %s", m.GetId(), m.GetStatus(), m.GetHealth())
		}
	}
	if count() != 1 {
		t.Fatalf("refused calls changed the state: %d CronJobs in default", count())
	}
}

// TestForgedRaftPeerIsRefused sends what crashed every server of an
// unsecured cluster — an AppendEntries with a huge term and an entry that
// does not decode — over plain TCP and over TLS with a client's and a
// worker's certificate. None reaches Raft: the term does not move and every
// server keeps running with the same leader.
func TestForgedRaftPeerIsRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("in-process cluster test")
	}
	pki := newTestPKI(t)
	tc := startTestCluster(t, 3, pki)
	lead := tc.waitLeader()
	term := func(nd *testNode) string { return nd.server().Node().Stats()["term"] }
	before := map[string]string{}
	for _, nd := range tc.nodes {
		before[nd.id] = term(nd)
	}
	fol := tc.follower()
	for _, c := range []struct {
		name string
		tls  *tls.Config
	}{
		{"plain TCP", nil},
		{"client certificate", pki.creds(auth.RoleClient, "alice").ClientTLS()},
		{"worker certificate", pki.creds(auth.RoleWorker, "w1").ClientTLS()},
		{"server certificate of another CA", newTestPKI(t).creds(auth.RoleServer, "n9").ClientTLS()},
	} {
		layer := newForgedLayer(t, c.tls)
		trans := hraft.NewNetworkTransport(layer, 1, 2*time.Second, io.Discard)
		req := &hraft.AppendEntriesRequest{
			RPCHeader: hraft.RPCHeader{ID: []byte("forged"), Addr: []byte(layer.Addr().String())},
			Term:      1 << 40, PrevLogEntry: 0, PrevLogTerm: 0, LeaderCommitIndex: 1 << 20,
			Entries: []*hraft.Log{{Index: 1 << 20, Term: 1 << 40, Type: hraft.LogCommand, Data: []byte{0xff, 0xff, 0xff, 0x0f}}},
		}
		var resp hraft.AppendEntriesResponse
		err := trans.AppendEntries(hraft.ServerID(fol.id), hraft.ServerAddress(fol.raftAddr), req, &resp)
		trans.Close()
		if err == nil {
			t.Fatalf("%s: AppendEntries was answered (term %d, success %v)", c.name, resp.Term, resp.Success)
		}
	}
	for _, nd := range tc.nodes {
		if nd.server() == nil {
			t.Fatalf("%s stopped", nd.id)
		}
		if got := term(nd); got != before[nd.id] {
			t.Fatalf("%s: term moved from %s to %s", nd.id, before[nd.id], got)
		}
	}
	if now := tc.waitLeader(); now.id != lead.id {
		t.Fatalf("leader changed from %s to %s", lead.id, now.id)
	}
}

// forgedLayer is a hraft.StreamLayer that dials with the given TLS config
// (nil: plain TCP), as an attacker's Raft peer would.
type forgedLayer struct {
	net.Listener
	tls *tls.Config
}

func newForgedLayer(t *testing.T, cfg *tls.Config) *forgedLayer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return &forgedLayer{Listener: l, tls: cfg}
}

func (f *forgedLayer) Dial(addr hraft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout}
	if f.tls == nil {
		return d.Dial("tcp", string(addr))
	}
	return tls.DialWithDialer(d, "tcp", string(addr), f.tls)
}

// TestWorkerIdentity: a worker is the worker its certificate names; it
// cannot claim another's id, take over a live session, or report on
// another worker's attempt.
func TestWorkerIdentity(t *testing.T) {
	if testing.Short() {
		t.Skip("in-process cluster test")
	}
	pki := newTestPKI(t)
	tc := startTestCluster(t, 1, pki)
	addr := tc.nodes[0].grpcAddr
	boot, err := pki.client(t, "", auth.RoleClient, "alice", addr).ACLBootstrap(shortCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	mgmt := pki.client(t, boot.GetSecret(), auth.RoleClient, "alice", addr)

	session := func(certName, claim string) (pb.WorkerService_SessionClient, *pb.ServerMessage, error) {
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		st, err := pb.NewWorkerServiceClient(pki.rawConn(t, auth.RoleWorker, certName, addr)).Session(ctx)
		if err != nil {
			return nil, nil, err
		}
		if err := st.Send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Hello{Hello: &pb.Hello{WorkerId: claim, Slots: 1, Runtime: "docker"}}}); err != nil {
			return nil, nil, err
		}
		m, err := st.Recv()
		return st, m, err
	}
	if _, _, err := session("w1", "w2"); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("worker certificate w1 claiming w2: %v, want PermissionDenied", err)
	}
	// A client certificate cannot open a worker session at all.
	st, err := pb.NewWorkerServiceClient(pki.rawConn(t, auth.RoleClient, "alice", addr)).Session(shortCtx(t))
	if err == nil {
		_ = st.Send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Hello{Hello: &pb.Hello{WorkerId: "alice", Slots: 1}}})
		_, err = st.Recv()
	}
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("client certificate opening a worker session: %v, want PermissionDenied", err)
	}

	w1, welcome, err := session("w1", "w1")
	if err != nil || welcome.GetWelcome() == nil {
		t.Fatalf("w1 session: %v, %v", welcome, err)
	}
	keepAlive := func(st pb.WorkerService_SessionClient) {
		go func() {
			for seq := uint64(1); ; seq++ {
				if st.Send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Heartbeat{Heartbeat: &pb.Heartbeat{Seq: seq}}}) != nil {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}
	keepAlive(w1)
	if _, _, err := session("w1", "w1"); status.Code(err) != codes.AlreadyExists {
		t.Fatalf("a second session for live worker w1: %v, want AlreadyExists", err)
	}

	job := pb.Resource{Kind: &pb.Resource_Job{Job: &pb.Job{ApiVersion: "batch/v1", Kind: "Job", Metadata: &pb.ObjectMeta{Name: "always-fails"},
		Spec: &pb.JobSpec{Template: &pb.PodTemplateSpec{Spec: &pb.PodSpec{RestartPolicy: "Never",
			Containers: []*pb.Container{{Name: "main", Image: "busybox", Command: []string{"false"}}}}}}}}}
	if _, err := mgmt.Apply(shortCtx(t), []*pb.Resource{&job}, false); err != nil {
		t.Fatal(err)
	}
	var assigned *pb.AttemptRef
	for deadline := time.Now().Add(20 * time.Second); assigned == nil; {
		if time.Now().After(deadline) {
			t.Fatal("w1 was never assigned the Job's attempt")
		}
		m, err := recvWithin(w1, 10*time.Second)
		if err != nil {
			t.Fatalf("w1 waiting for its assignment: %v", err)
		}
		assigned = m.GetAssign().GetAttempt()
	}
	// w2, with its own valid certificate, forges a success for w1's attempt.
	w2, _, err := session("w2", "w2")
	if err != nil {
		t.Fatal(err)
	}
	if err := w2.Send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Report{Report: &pb.AttemptReport{
		ReportId: 1, Attempt: assigned, State: "Succeeded", ExitCode: 0, OutputTail: strings.Repeat("x", 3<<20),
	}}}); err != nil {
		t.Fatal(err)
	}
	keepAlive(w2) // after the report: a stream's Send is not safe from two goroutines
	for {
		m, err := recvWithin(w2, 10*time.Second)
		if err != nil {
			t.Fatalf("w2 waiting for the answer to its report: %v", err)
		}
		if m.GetAck().GetReportId() == 1 {
			break
		}
	}
	atts, err := mgmt.ListAttempts(shortCtx(t), "default", "always-fails")
	if err != nil || len(atts) != 1 {
		t.Fatalf("attempts: %v, %v", atts, err)
	}
	if a := atts[0]; a.GetState() == "Succeeded" || a.GetWorker() != "w1" || a.GetOutputTail() != "" {
		t.Fatalf("a forged report changed w1's attempt: state %s on %s, %d bytes of output", a.GetState(), a.GetWorker(), len(a.GetOutputTail()))
	}
}

// recvWithin receives the next server message, or fails after d.
func recvWithin(st pb.WorkerService_SessionClient, d time.Duration) (*pb.ServerMessage, error) {
	type res struct {
		m   *pb.ServerMessage
		err error
	}
	ch := make(chan res, 1)
	go func() { m, err := st.Recv(); ch <- res{m, err} }()
	select {
	case r := <-ch:
		return r.m, r.err
	case <-time.After(d):
		return nil, errors.New("timed out")
	}
}
