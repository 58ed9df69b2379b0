package raft_test

import (
	"strings"
	"testing"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

func secret(ns, name, key, value string) *pb.Secret {
	return &pb.Secret{Metadata: &pb.ObjectMeta{Namespace: ns, Name: name}, Type: pb.SecretTypeOpaque,
		Data: map[string][]byte{key: []byte(value)}}
}

func applySecrets(now time.Duration, secs ...*pb.Secret) *pb.Command {
	return &pb.Command{Op: &pb.Command_ApplyResources{ApplyResources: &pb.ApplyResources{Secrets: secs, Now: ts(now)}}}
}

func TestSecretApplyRedactDelete(t *testing.T) {
	h := newHarness(t)
	st := h.state()
	if got := h.mustApply(applySecrets(0, secret("team-a", "db", "password", "s3cr3t"))).GetActions(); len(got) != 1 || got[0] != "created" {
		t.Fatalf("actions = %v, want [created]", got)
	}
	got := st.Secret("team-a", "db")
	if got.GetKind() != pb.KindSecret || got.GetApiVersion() != "v1" || got.GetMetadata().GetGeneration() != 1 {
		t.Fatalf("stored secret = %v", got)
	}
	if v := string(got.GetData()["password"]); v != pb.Redacted {
		t.Fatalf("Secret() returned the value %q, want %s", v, pb.Redacted)
	}
	for _, s := range st.ListSecrets("") {
		for k, v := range s.GetData() {
			if strings.Contains(string(v), "s3cr3t") {
				t.Fatalf("ListSecrets returned the value of %s", k)
			}
		}
	}
	if v, ok, key := st.SecretValue("team-a", "db", "password"); string(v) != "s3cr3t" || !ok || !key {
		t.Fatalf("SecretValue = %q %v %v", v, ok, key)
	}
	if _, ok, key := st.SecretValue("team-a", "db", "user"); !ok || key {
		t.Fatalf("SecretValue of a missing key: secret=%v key=%v", ok, key)
	}

	// The same data again changes nothing; new data is a new generation.
	if got := h.mustApply(applySecrets(time.Second, secret("team-a", "db", "password", "s3cr3t"))).GetActions(); got[0] != "unchanged" {
		t.Fatalf("actions = %v, want [unchanged]", got)
	}
	h.mustApply(applySecrets(time.Second, secret("team-a", "db", "password", "other")))
	if v, _, _ := st.SecretValue("team-a", "db", "password"); string(v) != "other" || st.Secret("team-a", "db").GetMetadata().GetGeneration() != 2 {
		t.Fatalf("after update: value %q, generation %d", v, st.Secret("team-a", "db").GetMetadata().GetGeneration())
	}

	// Immutable Secrets refuse new data, and nothing of the entry is written.
	imm := secret("team-a", "frozen", "k", "v")
	imm.Immutable = new(bool)
	*imm.Immutable = true
	h.mustApply(applySecrets(0, imm))
	wantCode(t, h.apply(applySecrets(0, secret("team-a", "other", "k", "v"), secret("team-a", "frozen", "k", "changed"))), pb.CodeInvalid)
	if st.Secret("team-a", "other") != nil {
		t.Fatal("a refused entry wrote its first Secret")
	}

	h.mustApply(deleteRes(pb.KindSecret, "team-a", "db"))
	if st.Secret("team-a", "db") != nil {
		t.Fatal("deleted secret still found")
	}
	wantCode(t, h.apply(deleteRes(pb.KindSecret, "team-a", "db")), pb.CodeNotFound)
}
