package auth_test

import (
	"crypto/tls"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/raftcron/raftcron/auth"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

func makeCreds(t *testing.T, caDir string, role auth.Role, name string) *auth.Credentials {
	t.Helper()
	cert, key, err := auth.CreateCert(caDir, filepath.Join(t.TempDir(), name), auth.CertOptions{Role: role, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	c, err := auth.LoadCredentials(filepath.Join(caDir, auth.CAFile), cert, key)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCertificatesCarryRoleAndName(t *testing.T) {
	ca := t.TempDir()
	if err := auth.CreateCA(ca, auth.CAOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := auth.CreateCA(ca, auth.CAOptions{}); err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Fatalf("second CreateCA in the same dir: %v", err)
	}
	c := makeCreds(t, ca, auth.RoleWorker, "worker-a")
	if c.Identity != (auth.Identity{Role: auth.RoleWorker, Name: "worker-a"}) {
		t.Fatalf("identity = %v", c.Identity)
	}
	for _, bad := range []string{"", "../x", "a/b", ".hidden", "x y"} {
		if _, _, err := auth.CreateCert(ca, t.TempDir(), auth.CertOptions{Role: auth.RoleClient, Name: bad}); err == nil {
			t.Errorf("CreateCert accepted name %q", bad)
		}
	}
	// A certificate of another CA does not load against this CA.
	other := t.TempDir()
	if err := auth.CreateCA(other, auth.CAOptions{}); err != nil {
		t.Fatal(err)
	}
	cert, key, err := auth.CreateCert(other, t.TempDir(), auth.CertOptions{Role: auth.RoleServer, Name: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := auth.LoadCredentials(filepath.Join(ca, auth.CAFile), cert, key); err == nil || !strings.Contains(err.Error(), "not signed by the CA") {
		t.Fatalf("foreign certificate: %v", err)
	}
}

// handshake runs a TLS handshake between a listener accepting roles and a
// client presenting cli, and returns the server side's error.
func handshake(t *testing.T, srv *auth.Credentials, accept []auth.Role, cli *tls.Config) error {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	errc := make(chan error, 1)
	go func() {
		a, err := l.Accept()
		if err != nil {
			errc <- err
			return
		}
		s := tls.Server(a, srv.ServerTLS(accept...))
		errc <- s.Handshake()
		s.Close()
	}()
	b, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := tls.Client(b, cli)
	_ = c.Handshake()
	c.Close()
	select {
	case err := <-errc:
		return err
	case <-time.After(5 * time.Second):
		return errors.New("handshake hung")
	}
}

func TestRolesAreEnforcedAtTheHandshake(t *testing.T) {
	ca := t.TempDir()
	if err := auth.CreateCA(ca, auth.CAOptions{}); err != nil {
		t.Fatal(err)
	}
	server := makeCreds(t, ca, auth.RoleServer, "n1")
	peer := makeCreds(t, ca, auth.RoleServer, "n2")
	client := makeCreds(t, ca, auth.RoleClient, "alice")
	worker := makeCreds(t, ca, auth.RoleWorker, "w1")
	raftOnly := []auth.Role{auth.RoleServer}
	if err := handshake(t, server, raftOnly, peer.ClientTLS()); err != nil {
		t.Fatalf("server to server: %v", err)
	}
	for name, cfg := range map[string]*tls.Config{"client": client.ClientTLS(), "worker": worker.ClientTLS(), "no certificate": {InsecureSkipVerify: true}} {
		if err := handshake(t, server, raftOnly, cfg); err == nil {
			t.Errorf("a %s was accepted on a servers-only listener", name)
		}
	}
	// Everything that dials a server refuses a peer that is not a server.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		if a, err := l.Accept(); err == nil {
			_ = tls.Server(a, worker.ServerTLS(auth.RoleWorker, auth.RoleClient)).Handshake()
			a.Close()
		}
	}()
	b, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := tls.Client(b, client.ClientTLS()).Handshake(); err == nil {
		t.Fatalf("client dialing a worker posing as a server: %v", err)
	}
}

func TestAuthorize(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	scoped := &pb.ACLToken{Name: "ci", Namespaces: []string{"team-a"}, Verbs: []string{"read", "trigger"}}
	all := &pb.ACLToken{Name: "dash", Namespaces: []string{"*"}, Verbs: []string{"read"}}
	mgmt := &pb.ACLToken{Name: "root", Management: true}
	expired := &pb.ACLToken{Name: "old", Management: true, ExpirationTime: timestamppb.New(now.Add(-time.Second))}
	cases := []struct {
		tok  *pb.ACLToken
		ns   string
		verb auth.Verb
		want error
	}{
		{scoped, "team-a", auth.VerbRead, nil},
		{scoped, "team-a", auth.VerbTrigger, nil},
		{scoped, "team-a", auth.VerbWrite, auth.ErrPermissionDenied},
		{scoped, "team-b", auth.VerbRead, auth.ErrPermissionDenied},
		{scoped, auth.AllNamespaces, auth.VerbRead, auth.ErrPermissionDenied},
		{scoped, "", auth.VerbRead, nil},
		{scoped, "", "", auth.ErrPermissionDenied},
		{all, "anything", auth.VerbRead, nil},
		{all, auth.AllNamespaces, auth.VerbRead, nil},
		{all, "x", auth.VerbLogs, auth.ErrPermissionDenied},
		{mgmt, "x", "", nil},
		{expired, "x", auth.VerbRead, auth.ErrUnauthenticated},
		{nil, "x", auth.VerbRead, auth.ErrUnauthenticated},
	}
	for _, c := range cases {
		err := auth.Authorize(c.tok, now, c.ns, c.verb)
		if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("Authorize(%s, %q, %q) = %v, want %v", c.tok.GetName(), c.ns, c.verb, err, c.want)
		}
	}
}

func TestValidateTokenRequest(t *testing.T) {
	bad := map[string]*pb.ACLTokenCreateRequest{
		"name is required":       {Namespaces: []string{"a"}, Verbs: []string{"read"}},
		"at least one namespace": {Name: "x", Verbs: []string{"read"}},
		"at least one verb":      {Name: "x", Namespaces: []string{"a"}},
		`verb "admin"`:           {Name: "x", Namespaces: []string{"a"}, Verbs: []string{"admin"}},
		"DNS-1123":               {Name: "x", Namespaces: []string{"Team_A"}, Verbs: []string{"read"}},
		"may do everything":      {Name: "x", Management: true, Verbs: []string{"read"}},
		"negative":               {Name: "x", Namespaces: []string{"a"}, Verbs: []string{"read"}, TtlSeconds: -1},
	}
	for want, r := range bad {
		if err := auth.ValidateTokenRequest(r); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateTokenRequest(%v) = %v, want an error saying %q", r, err, want)
		}
	}
	if err := auth.ValidateTokenRequest(&pb.ACLTokenCreateRequest{Name: "x", Namespaces: []string{"*", "team-a"}, Verbs: []string{"read", "logs"}}); err != nil {
		t.Fatal(err)
	}
	s1, _ := auth.NewSecret()
	s2, _ := auth.NewSecret()
	if s1 == s2 || !strings.HasPrefix(s1, "rcs_") || len(auth.HashSecret(s1)) != 64 || auth.HashSecret(s1) == auth.HashSecret(s2) {
		t.Fatalf("secrets %q %q", s1, s2)
	}
}
