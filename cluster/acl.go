package cluster

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/raftcron/raftcron/auth"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// newToken makes a token and its secret; only the secret's hash goes into
// the command, and the secret goes back to the caller once.
func (a *api) newToken(name string, management bool, namespaces, verbs []string, ttl time.Duration) (*pb.ACLToken, string, error) {
	secret, err := auth.NewSecret()
	if err != nil {
		return nil, "", err
	}
	now := a.s.cfg.Clock.Now()
	tok := &pb.ACLToken{
		AccessorId: newUID(), Name: name, SecretHash: auth.HashSecret(secret), Management: management,
		Namespaces: namespaces, Verbs: verbs, CreateTime: timestamppb.New(now),
	}
	if ttl > 0 {
		tok.ExpirationTime = timestamppb.New(now.Add(ttl))
	}
	return tok, secret, nil
}

func (a *api) ACLBootstrap(ctx context.Context, _ *pb.ACLBootstrapRequest) (*pb.ACLTokenSecret, error) {
	if !a.s.ACLsEnabled() {
		return nil, fmt.Errorf("acl bootstrap: this server runs with --insecure, without ACLs: %w", pb.ErrConflict)
	}
	if a.s.node.State().ACLBootstrapped() {
		return nil, fmt.Errorf("acl bootstrap: ACLs are already bootstrapped; use a management token to create more tokens: %w", pb.ErrConflict)
	}
	tok, secret, err := a.newToken("bootstrap", true, nil, nil, 0)
	if err != nil {
		return nil, err
	}
	out, err := a.s.propose(ctx, &pb.Command{Op: &pb.Command_AclBootstrap{AclBootstrap: &pb.ACLBootstrap{Token: tok}}})
	if err != nil {
		return nil, err
	}
	if err := out[0].Err(); err != nil {
		return nil, err
	}
	a.s.log.Info("ACLs bootstrapped", "accessor", tok.GetAccessorId())
	return &pb.ACLTokenSecret{Token: auth.Public(tok), Secret: secret}, nil
}

func (a *api) ACLTokenCreate(ctx context.Context, req *pb.ACLTokenCreateRequest) (*pb.ACLTokenSecret, error) {
	if err := auth.ValidateTokenRequest(req); err != nil {
		return nil, fmt.Errorf("%w: %w", err, pb.ErrInvalid)
	}
	tok, secret, err := a.newToken(req.GetName(), req.GetManagement(), req.GetNamespaces(), req.GetVerbs(),
		time.Duration(req.GetTtlSeconds())*time.Second)
	if err != nil {
		return nil, err
	}
	out, err := a.s.propose(ctx, &pb.Command{Op: &pb.Command_AclTokenUpsert{AclTokenUpsert: &pb.ACLTokenUpsert{Token: tok}}})
	if err != nil {
		return nil, err
	}
	if err := out[0].Err(); err != nil {
		return nil, err
	}
	a.s.log.Info("ACL token created", "accessor", tok.GetAccessorId(), "name", tok.GetName())
	return &pb.ACLTokenSecret{Token: auth.Public(tok), Secret: secret}, nil
}

func (a *api) ACLTokenList(context.Context, *pb.ACLTokenListRequest) (*pb.ACLTokenListResponse, error) {
	var out []*pb.ACLToken
	for _, t := range a.s.node.State().ACLTokens() {
		out = append(out, auth.Public(t))
	}
	return &pb.ACLTokenListResponse{Tokens: out}, nil
}

func (a *api) ACLTokenRevoke(ctx context.Context, req *pb.ACLTokenRevokeRequest) (*pb.ACLTokenRevokeResponse, error) {
	if req.GetAccessorId() == "" {
		return nil, fmt.Errorf("acl token revoke: an accessor id is required: %w", pb.ErrInvalid)
	}
	out, err := a.s.propose(ctx, &pb.Command{Op: &pb.Command_AclTokenDelete{AclTokenDelete: &pb.ACLTokenDelete{AccessorId: req.GetAccessorId()}}})
	if err != nil {
		return nil, err
	}
	if err := out[0].Err(); err != nil {
		return nil, err
	}
	a.s.log.Info("ACL token revoked", "accessor", req.GetAccessorId())
	return &pb.ACLTokenRevokeResponse{}, nil
}

func (a *api) WhoAmI(ctx context.Context, _ *pb.WhoAmIRequest) (*pb.WhoAmIResponse, error) {
	if !a.s.ACLsEnabled() {
		return &pb.WhoAmIResponse{AclsDisabled: true}, nil
	}
	resp := &pb.WhoAmIResponse{}
	if id, err := peerIdentity(ctx); err == nil {
		resp.Identity = id.String()
	}
	if s := bearer(ctx); s != "" {
		resp.Token = auth.Public(a.s.node.State().ACLTokenBySecretHash(auth.HashSecret(s)))
	}
	return resp, nil
}
