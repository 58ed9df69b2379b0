package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/raftcron/raftcron/auth"
	"github.com/raftcron/raftcron/client"
)

// localPKI is a CA and certificates made on this machine on first use, for
// the commands that start a whole cluster themselves (`raftcron dev`,
// `raftcron bench`): they run secure without any set-up.
type localPKI struct{ dir string }

func newLocalPKI(dir string) (*localPKI, error) {
	p := &localPKI{dir: dir}
	if _, err := os.Stat(p.caFile()); err != nil {
		if err := auth.CreateCA(filepath.Join(dir, "ca"), auth.CAOptions{Name: "raftcron local CA"}); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (p *localPKI) caFile() string { return filepath.Join(p.dir, "ca", auth.CAFile) }

// files returns the certificate and key of role/name, making them if missing.
func (p *localPKI) files(role auth.Role, name string) (cert, key string, err error) {
	out := filepath.Join(p.dir, string(role))
	cert, key = auth.CertFiles(out, name)
	if _, err := os.Stat(cert); err == nil {
		return cert, key, nil
	}
	return auth.CreateCert(filepath.Join(p.dir, "ca"), out, auth.CertOptions{Role: role, Name: name})
}

func (p *localPKI) creds(role auth.Role, name string) (*auth.Credentials, error) {
	cert, key, err := p.files(role, name)
	if err != nil {
		return nil, err
	}
	return auth.LoadCredentials(p.caFile(), cert, key)
}

// flags are the --tls-* flags of a server or worker process.
func (p *localPKI) flags(role auth.Role, name string) ([]string, error) {
	cert, key, err := p.files(role, name)
	if err != nil {
		return nil, err
	}
	return []string{"--tls-ca", p.caFile(), "--tls-cert", cert, "--tls-key", key}, nil
}

// bootstrapACL creates the management token through the servers at addrs,
// as client certificate clientName, and writes envFile: a file a shell can
// source with the servers, the client certificate and the token. On a
// cluster bootstrapped earlier it keeps an existing envFile.
func (p *localPKI) bootstrapACL(ctx context.Context, addrs []string, clientName, envFile string) (token string, err error) {
	creds, err := p.creds(auth.RoleClient, clientName)
	if err != nil {
		return "", err
	}
	c, err := client.New(client.Config{Servers: addrs, TLS: creds})
	if err != nil {
		return "", err
	}
	defer c.Close()
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	tok, err := c.ACLBootstrap(cctx)
	if err != nil {
		if _, statErr := os.Stat(envFile); statErr == nil {
			return "", nil // bootstrapped on an earlier start; the env file has the token
		}
		return "", fmt.Errorf("bootstrap ACLs: %w", err)
	}
	cert, key, err := p.files(auth.RoleClient, clientName)
	if err != nil {
		return "", err
	}
	addrList := addrs[0]
	for _, a := range addrs[1:] {
		addrList += "," + a
	}
	body := fmt.Sprintf("export RAFTCRON_ADDR=%s\nexport RAFTCRON_CACERT=%s\nexport RAFTCRON_CLIENT_CERT=%s\nexport RAFTCRON_CLIENT_KEY=%s\nexport RAFTCRON_TOKEN=%s\nunset RAFTCRON_INSECURE\n",
		addrList, p.caFile(), cert, key, tok.GetSecret())
	if err := writeFileAtomic(envFile, []byte(body)); err != nil {
		return "", err
	}
	return tok.GetSecret(), nil
}
