package integration

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/raftcron/raftcron/auth"
	"github.com/raftcron/raftcron/client"
)

// testPKI is a test cluster's CA and the certificates of its processes,
// made on first use.
type testPKI struct {
	t   *testing.T
	dir string
	mu  sync.Mutex
}

func newTestPKI(t *testing.T, dir string) *testPKI {
	t.Helper()
	if err := auth.CreateCA(filepath.Join(dir, "ca"), auth.CAOptions{}); err != nil {
		t.Fatal(err)
	}
	return &testPKI{t: t, dir: dir}
}

func (p *testPKI) caFile() string { return filepath.Join(p.dir, "ca", auth.CAFile) }

// files returns (making it when missing) the certificate of role/name.
func (p *testPKI) files(role auth.Role, name string) (cert, key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := filepath.Join(p.dir, string(role))
	cert, key = auth.CertFiles(out, name)
	if _, err := os.Stat(cert); err == nil {
		return cert, key
	}
	cert, key, err := auth.CreateCert(filepath.Join(p.dir, "ca"), out, auth.CertOptions{Role: role, Name: name})
	if err != nil {
		p.t.Fatal(err)
	}
	return cert, key
}

// flags are a server's or worker's --tls-* flags.
func (p *testPKI) flags(role auth.Role, name string) []string {
	cert, key := p.files(role, name)
	return []string{"--tls-ca", p.caFile(), "--tls-cert", cert, "--tls-key", key}
}

func (p *testPKI) creds(role auth.Role, name string) *auth.Credentials {
	cert, key := p.files(role, name)
	c, err := auth.LoadCredentials(p.caFile(), cert, key)
	if err != nil {
		p.t.Fatal(err)
	}
	return c
}

// bootstrapACL makes the management token once a leader is elected.
func (c *cluster) bootstrapACL() {
	c.t.Helper()
	cl, err := client.New(client.Config{Servers: c.grpc, TLS: c.pki.creds(auth.RoleClient, "tester")})
	if err != nil {
		c.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := cl.ACLBootstrap(ctx)
	if err != nil {
		c.t.Fatalf("acl bootstrap: %v", err)
	}
	c.token = tok.GetSecret()
}

// cliEnv is the environment of a CLI run as the management client.
func (c *cluster) cliEnv() []string {
	cert, key := c.pki.files(auth.RoleClient, "tester")
	return append(os.Environ(), "RAFTCRON_CACERT="+c.pki.caFile(), "RAFTCRON_CLIENT_CERT="+cert,
		"RAFTCRON_CLIENT_KEY="+key, "RAFTCRON_TOKEN="+c.token, "RAFTCRON_INSECURE=")
}
