package cluster_test

import (
	"crypto/tls"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/raftcron/raftcron/cluster"
)

// A server with TLS serves its HTTP port over HTTPS with its server
// certificate (no client certificate needed); --http-plaintext serves
// plain HTTP instead.
func TestHTTPPortServesHTTPSWithTLS(t *testing.T) {
	pki := newTestPKI(t)
	for _, plaintext := range []bool{false, true} {
		srv, err := cluster.New(cluster.Config{
			NodeID: "n1", DataDir: filepath.Join(t.TempDir(), "n1"), RaftAddr: freeAddr(t), GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
			Bootstrap: true, Logger: testLogger(t), TLS: pki.serverCreds("n1"), HTTPPlaintext: plaintext,
		})
		if err != nil {
			t.Fatal(err)
		}
		srv.Start()
		// What a browser or Prometheus holds: the CA, no client certificate.
		hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.serverCreds("n1").Roots}}}
		want := "https://"
		if plaintext {
			want = "http://"
		}
		if u := srv.HTTPURL(); !strings.HasPrefix(u, want) {
			t.Errorf("plaintext %v: HTTPURL %s; want %s", plaintext, u, want)
		}
		resp, err := hc.Get(srv.HTTPURL() + "/healthz")
		if err != nil {
			t.Fatalf("plaintext %v: GET /healthz: %v", plaintext, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || (resp.TLS != nil) == plaintext {
			t.Errorf("plaintext %v: /healthz %s over TLS %v", plaintext, resp.Status, resp.TLS != nil)
		}
		if !plaintext {
			// Plain HTTP to the HTTPS port gets no page.
			if resp, err := hc.Get("http://" + srv.HTTPAddr() + "/healthz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					t.Error("plain HTTP to the HTTPS port answered 200")
				}
			}
		}
		_ = srv.Stop()
	}
}
