package main

import (
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// healthcheck reads a server's HTTPS port trusting the CA given with
// --tls-ca; without it the certificate is unknown and the error says what
// to give.
func TestHealthcheckOverHTTPS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.Error(w, "not ready: no leader known", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok: leader s1")
	}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}

	out := cli(t, "", "healthcheck", "--tls-ca", ca, srv.URL+"/readyz").ok(t)
	if !strings.Contains(out, "ok: leader s1") {
		t.Errorf("healthcheck printed %q; want the server's answer", out)
	}
	r := cli(t, "", "healthcheck", "--tls-ca", ca, srv.URL+"/healthz")
	if r.code == 0 || !strings.Contains(r.stderr, "503") || !strings.Contains(r.stderr, "no leader known") {
		t.Errorf("unhealthy: exit %d, stderr %q; want a failure with the status and the reason", r.code, r.stderr)
	}
	r = cli(t, "", "healthcheck", srv.URL+"/readyz")
	if r.code == 0 || !strings.Contains(r.stderr, "--tls-ca") {
		t.Errorf("without the CA: exit %d, stderr %q; want a failure naming --tls-ca", r.code, r.stderr)
	}
}
