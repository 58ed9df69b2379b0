package raft

import (
	"cmp"
	"slices"

	"google.golang.org/protobuf/proto"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// aclTable holds the ACL tokens, by accessor id and by secret hash, and
// whether the cluster's ACLs were ever bootstrapped.
type aclTable struct {
	tokens       map[string]*pb.ACLToken // accessor id -> token
	byHash       map[string]string       // secret hash -> accessor id
	bootstrapped bool
}

func newACLTable() aclTable {
	return aclTable{tokens: map[string]*pb.ACLToken{}, byHash: map[string]string{}}
}

func (t *aclTable) put(tok *pb.ACLToken) {
	if old := t.tokens[tok.GetAccessorId()]; old != nil {
		delete(t.byHash, old.GetSecretHash())
	}
	t.tokens[tok.GetAccessorId()] = tok
	t.byHash[tok.GetSecretHash()] = tok.GetAccessorId()
}

func checkToken(tok *pb.ACLToken) *pb.CommandResult {
	switch {
	case tok == nil:
		return fail(pb.CodeInvalid, "acl token: missing")
	case tok.GetAccessorId() == "":
		return fail(pb.CodeInvalid, "acl token: accessorId is required")
	case len(tok.GetSecretHash()) != 64:
		return fail(pb.CodeInvalid, "acl token: secretHash must be a hex SHA-256")
	}
	return nil
}

func (a *applier) aclBootstrap(c *pb.ACLBootstrap) *pb.CommandResult {
	if r := checkToken(c.GetToken()); r != nil {
		return r
	}
	if a.t.acl.bootstrapped {
		return fail(pb.CodeConflict, "ACLs are already bootstrapped; use a management token to create more tokens")
	}
	tok := proto.Clone(c.GetToken()).(*pb.ACLToken)
	tok.Management = true
	a.t.acl.put(tok)
	a.t.acl.bootstrapped = true
	return ok()
}

func (a *applier) aclTokenUpsert(c *pb.ACLTokenUpsert) *pb.CommandResult {
	if r := checkToken(c.GetToken()); r != nil {
		return r
	}
	if _, taken := a.t.acl.byHash[c.GetToken().GetSecretHash()]; taken {
		return fail(pb.CodeConflict, "acl token: a token with this secret exists")
	}
	a.t.acl.put(proto.Clone(c.GetToken()).(*pb.ACLToken))
	return ok()
}

func (a *applier) aclTokenDelete(c *pb.ACLTokenDelete) *pb.CommandResult {
	tok := a.t.acl.tokens[c.GetAccessorId()]
	if tok == nil {
		return fail(pb.CodeNotFound, "acl token %q not found", c.GetAccessorId())
	}
	delete(a.t.acl.byHash, tok.GetSecretHash())
	delete(a.t.acl.tokens, c.GetAccessorId())
	return ok()
}

// ACLBootstrapped reports whether the cluster's ACLs were bootstrapped.
func (s *State) ACLBootstrapped() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.t.acl.bootstrapped
}

// ACLTokenBySecretHash returns the token whose secret hashes to hash, or nil.
func (s *State) ACLTokenBySecretHash(hash string) *pb.ACLToken {
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.t.acl.byHash[hash]
	if !ok {
		return nil
	}
	return s.t.acl.tokens[id]
}

// ACLToken returns a token by accessor id, or nil.
func (s *State) ACLToken(accessorID string) *pb.ACLToken {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.t.acl.tokens[accessorID]
}

// ACLTokens returns every token, ordered by name then accessor id.
func (s *State) ACLTokens() []*pb.ACLToken {
	s.mu.RLock()
	out := make([]*pb.ACLToken, 0, len(s.t.acl.tokens))
	for _, t := range s.t.acl.tokens {
		out = append(out, t)
	}
	s.mu.RUnlock()
	sortTokens(out)
	return out
}

func sortTokens(ts []*pb.ACLToken) {
	slices.SortFunc(ts, func(a, b *pb.ACLToken) int {
		return cmp.Or(cmp.Compare(a.GetName(), b.GetName()), cmp.Compare(a.GetAccessorId(), b.GetAccessorId()))
	})
}
