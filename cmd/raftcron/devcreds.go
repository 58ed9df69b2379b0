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

// devCreds are the certificates `raftcron dev` makes for itself on start: a
// CA, the server's, the local worker's and a client's.
type devCreds struct {
	dir                    string
	server, worker, client *auth.Credentials
}

func makeDevCreds(dir string) (*devCreds, error) {
	caDir := filepath.Join(dir, "ca")
	if _, err := os.Stat(filepath.Join(caDir, auth.CAFile)); err != nil {
		if err := auth.CreateCA(caDir, auth.CAOptions{Name: "raftcron dev CA"}); err != nil {
			return nil, err
		}
	}
	d := &devCreds{dir: dir}
	for _, x := range []struct {
		role auth.Role
		name string
		to   **auth.Credentials
	}{{auth.RoleServer, "dev", &d.server}, {auth.RoleWorker, "dev-worker", &d.worker}, {auth.RoleClient, "dev-client", &d.client}} {
		cert, key := auth.CertFiles(dir, x.name)
		if _, err := os.Stat(cert); err != nil {
			if cert, key, err = auth.CreateCert(caDir, dir, auth.CertOptions{Role: x.role, Name: x.name}); err != nil {
				return nil, err
			}
		}
		c, err := auth.LoadCredentials(filepath.Join(caDir, auth.CAFile), cert, key)
		if err != nil {
			return nil, err
		}
		*x.to = c
	}
	return d, nil
}

// bootstrap creates the management token (on a new data dir) and writes an
// env file a shell can source: the server address, the client certificate
// and the token. It returns the file's path.
func (d *devCreds) bootstrap(ctx context.Context, addr, dataDir string) (string, error) {
	envFile := filepath.Join(dataDir, "env")
	if ctx == nil {
		ctx = context.Background()
	}
	c, err := client.New(client.Config{Servers: []string{addr}, TLS: d.client})
	if err != nil {
		return "", err
	}
	defer c.Close()
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tok, err := c.ACLBootstrap(cctx)
	if err != nil {
		if _, statErr := os.Stat(envFile); statErr == nil {
			return envFile, nil // a kept data dir: bootstrapped on an earlier start
		}
		return "", fmt.Errorf("bootstrap ACLs: %w", err)
	}
	cert, key := auth.CertFiles(d.dir, "dev-client")
	body := fmt.Sprintf("export RAFTCRON_ADDR=%s\nexport RAFTCRON_CACERT=%s\nexport RAFTCRON_CLIENT_CERT=%s\nexport RAFTCRON_CLIENT_KEY=%s\nexport RAFTCRON_TOKEN=%s\nunset RAFTCRON_INSECURE\n",
		addr, filepath.Join(d.dir, "ca", auth.CAFile), cert, key, tok.GetSecret())
	if err := writeFileAtomic(envFile, []byte(body)); err != nil {
		return "", err
	}
	return envFile, nil
}
