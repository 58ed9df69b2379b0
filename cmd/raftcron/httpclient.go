package main

import (
	"crypto/tls"
	"net/http"
	"time"

	"github.com/raftcron/raftcron/auth"
)

// httpClient reads a server's HTTP port (health, metrics). A server with
// TLS serves it over HTTPS with its server certificate: caFile, the cluster
// CA, is what the client trusts (empty: the system's roots).
func httpClient(caFile string, timeout time.Duration) (*http.Client, error) {
	hc := &http.Client{Timeout: timeout}
	if caFile == "" {
		return hc, nil
	}
	roots, err := auth.LoadRoots(caFile)
	if err != nil {
		return nil, err
	}
	hc.Transport = &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}}
	return hc, nil
}
