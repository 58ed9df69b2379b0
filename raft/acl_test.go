package raft_test

import (
	"strings"
	"testing"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

func aclBootstrap(accessor, hash string) *pb.Command {
	return &pb.Command{Op: &pb.Command_AclBootstrap{AclBootstrap: &pb.ACLBootstrap{Token: &pb.ACLToken{
		AccessorId: accessor, Name: "bootstrap", SecretHash: hash}}}}
}

func aclUpsert(accessor, hash, ns, verb string) *pb.Command {
	return &pb.Command{Op: &pb.Command_AclTokenUpsert{AclTokenUpsert: &pb.ACLTokenUpsert{Token: &pb.ACLToken{
		AccessorId: accessor, Name: accessor, SecretHash: hash, Namespaces: []string{ns}, Verbs: []string{verb}}}}}
}

func TestACLBootstrapOnceAndRevoke(t *testing.T) {
	h := newHarness(t)
	st := h.state()
	if st.ACLBootstrapped() {
		t.Fatal("a new state says ACLs are bootstrapped")
	}
	h.mustApply(aclBootstrap("m1", strings.Repeat("1", 64)))
	if !st.ACLBootstrapped() || !st.ACLTokenBySecretHash(strings.Repeat("1", 64)).GetManagement() {
		t.Fatal("bootstrap did not store a management token")
	}
	// A second bootstrap is refused, even after the first token is revoked.
	wantCode(t, h.apply(aclBootstrap("m2", strings.Repeat("2", 64))), pb.CodeConflict)
	h.mustApply(&pb.Command{Op: &pb.Command_AclTokenDelete{AclTokenDelete: &pb.ACLTokenDelete{AccessorId: "m1"}}})
	if st.ACLTokenBySecretHash(strings.Repeat("1", 64)) != nil || st.ACLToken("m1") != nil {
		t.Fatal("a revoked token is still found")
	}
	wantCode(t, h.apply(aclBootstrap("m2", strings.Repeat("2", 64))), pb.CodeConflict)
	wantCode(t, h.apply(&pb.Command{Op: &pb.Command_AclTokenDelete{AclTokenDelete: &pb.ACLTokenDelete{AccessorId: "m1"}}}), pb.CodeNotFound)

	h.mustApply(aclUpsert("r1", strings.Repeat("3", 64), "team-a", "read"))
	if got := st.ACLTokenBySecretHash(strings.Repeat("3", 64)); got.GetName() != "r1" || got.GetManagement() {
		t.Fatalf("scoped token = %v", got)
	}
	// Two tokens never share a secret.
	wantCode(t, h.apply(aclUpsert("r2", strings.Repeat("3", 64), "team-b", "read")), pb.CodeConflict)
	wantCode(t, h.apply(aclUpsert("r3", "short", "team-b", "read")), pb.CodeInvalid)
}
