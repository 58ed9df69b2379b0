package raft

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestStartingElectionWarnsOnlyAfterALeader: hashicorp/raft warns that the
// heartbeat timeout was reached on every fresh start; that is normal and
// logged at Info, while the same message once a leader was known (it went
// silent) stays a warning.
func TestStartingElectionWarnsOnlyAfterALeader(t *testing.T) {
	var buf bytes.Buffer
	hcl := newHCLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})), "raft")
	hcl.Warn("heartbeat timeout reached, starting election", "last-leader-addr", "", "last-leader-id", "")
	if buf.Len() != 0 {
		t.Errorf("the first election of a fresh server was logged at warn level: %s", buf.String())
	}
	hcl.Warn("heartbeat timeout reached, starting election", "last-leader-addr", "127.0.0.1:7001", "last-leader-id", "s1")
	if out := buf.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, "last-leader-id=s1") {
		t.Errorf("an election after leader s1 went silent is not a warning: %q", out)
	}
}
