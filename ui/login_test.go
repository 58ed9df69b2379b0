package ui

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/raftcron/raftcron/auth"
)

// A dashboard served in plain HTTP although ACLs are on (--http-plaintext)
// takes logins only from loopback: a token typed elsewhere would cross the
// network in clear.
func TestPlaintextLoginOnlyFromLoopback(t *testing.T) {
	for _, tc := range []struct {
		plaintext bool
		remote    string
		refused   bool
	}{
		{true, "10.1.2.3:40000", true},
		{true, "[2001:db8::1]:40000", true},
		{true, "127.0.0.1:40000", false},
		{true, "[::1]:40000", false},
		{false, "10.1.2.3:40000", false},
	} {
		h, err := New(Config{Addr: "127.0.0.1:1", TLS: &auth.Credentials{}, Plaintext: tc.plaintext})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "/ui/login", strings.NewReader(url.Values{"token": {"secret"}, "csrf": {"forged"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = tc.remote
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		body := rec.Body.String()
		refused := strings.Contains(body, "plain HTTP (--http-plaintext)")
		if refused != tc.refused || rec.Code != http.StatusForbidden {
			t.Errorf("plaintext %v, login from %s: %d, refused for plain HTTP %v; want 403, refused %v (the others fail the CSRF check instead)",
				tc.plaintext, tc.remote, rec.Code, refused, tc.refused)
		}
		if !tc.refused && !strings.Contains(body, "CSRF") {
			t.Errorf("login from %s: %q; want the CSRF check's refusal", tc.remote, body)
		}
		_ = h.Close()
	}
}
