package raft_test

import (
	"bytes"
	"strings"
	"testing"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/raft"
)

func backupBytes(t *testing.T, s *raft.State) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := s.WriteSnapshot(&buf); err != nil {
		t.Fatalf("WriteSnapshot: %v", err)
	}
	return buf.Bytes()
}

func TestBackupRoundTrip(t *testing.T) {
	h := richState(t)
	saved := backupBytes(t, h.state())
	counts, err := raft.ValidateSnapshot(saved)
	if err != nil {
		t.Fatalf("ValidateSnapshot: %v", err)
	}
	if counts.CronJobs != len(h.state().CronJobs()) || counts.Jobs == 0 || counts.Attempts == 0 {
		t.Fatalf("counts %+v do not describe the state", counts)
	}

	// Change the state: delete a CronJob (and its Jobs) and a Job.
	h.mustApply(deleteRes("CronJob", "team-a", "report"))
	h.mustApply(deleteRes("Job", "", "adhoc"))
	if bytes.Equal(backupBytes(t, h.state()), saved) {
		t.Fatal("deleting objects did not change the snapshot; the test proves nothing")
	}

	h.mustApply(raft.RestoreCommand(saved))
	if got := backupBytes(t, h.state()); !bytes.Equal(got, saved) {
		t.Fatalf("state after restore differs from the saved snapshot (%d vs %d bytes)", len(got), len(saved))
	}
	if h.state().CronJob("team-a", "report") == nil || h.state().Job("", "adhoc") == nil {
		t.Fatal("deleted objects are not back after restore")
	}
	if len(h.state().JobsOfCronJob("team-a", "report")) == 0 {
		t.Fatal("restore did not rebuild the jobs-by-cronjob index")
	}
}

func TestBackupRestoreKeepsServers(t *testing.T) {
	h := richState(t)
	saved := backupBytes(t, h.state())
	h.mustApply(registerServer("s-new", "10.0.0.9:7000", "10.0.0.9:8000"))
	h.mustApply(raft.RestoreCommand(saved))
	if h.state().Server("s-new") == nil {
		t.Fatal("restore dropped a server registered after the backup")
	}
}

func TestBackupRefusesGarbage(t *testing.T) {
	h := richState(t)
	before := backupBytes(t, h.state())
	for name, data := range map[string][]byte{
		"empty":     nil,
		"text":      []byte("0 3 * * * /usr/local/bin/backup.sh\n"),
		"truncated": before[:len(before)-3],
	} {
		if _, err := raft.ValidateSnapshot(data); err == nil {
			t.Errorf("%s: ValidateSnapshot accepted it", name)
		}
		r := h.apply(raft.RestoreCommand(data))
		wantCode(t, r, pb.CodeInvalid)
		if !strings.Contains(r.GetError(), "restore") {
			t.Errorf("%s: error %q does not say restore", name, r.GetError())
		}
	}
	if !bytes.Equal(backupBytes(t, h.state()), before) {
		t.Fatal("a refused restore changed the state")
	}
}

// A backup holds no Secrets (a backup file is not a credential), so a
// restore keeps the cluster's Secrets as they are: the CronJobs it brings
// back still find the Secrets they read.
func TestBackupRestoreKeepsSecrets(t *testing.T) {
	h := richState(t)
	h.mustApply(applySecrets(0, secret("team-a", "db", "password", "s3cr3t")))
	saved := backupBytes(t, h.state())
	if bytes.Contains(saved, []byte("s3cr3t")) {
		t.Fatal("the backup holds a Secret's value")
	}
	h.mustApply(raft.RestoreCommand(saved))
	if v, ok, _ := h.state().SecretValue("team-a", "db", "password"); !ok || string(v) != "s3cr3t" {
		t.Fatalf("after a restore the Secret team-a/db reads %q (found %v); want it kept", v, ok)
	}
}
