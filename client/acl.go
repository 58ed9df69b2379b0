package client

import (
	"context"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// ACLBootstrap creates the cluster's first management token and returns its
// secret. It works once per cluster, without a token.
func (c *Client) ACLBootstrap(ctx context.Context) (*pb.ACLTokenSecret, error) {
	var out *pb.ACLTokenSecret
	err := c.do(ctx, "acl bootstrap", func(ctx context.Context, rpc pb.RaftCronClient, _ attemptInfo) error {
		var err error
		out, err = rpc.ACLBootstrap(ctx, &pb.ACLBootstrapRequest{})
		return err
	})
	return out, err
}

// ACLTokenSpec is what a new token may do.
type ACLTokenSpec struct {
	Name       string
	Management bool
	Namespaces []string
	// Verbs: read, write, trigger, logs.
	Verbs []string
	// TTL: the token expires this long after creation; 0 never.
	TTL time.Duration
}

// ACLTokenCreate creates a token (needs a management token) and returns it
// with its secret, which is shown only here.
func (c *Client) ACLTokenCreate(ctx context.Context, spec ACLTokenSpec) (*pb.ACLTokenSecret, error) {
	req := &pb.ACLTokenCreateRequest{Name: spec.Name, Management: spec.Management, Namespaces: spec.Namespaces,
		Verbs: spec.Verbs, TtlSeconds: int64(spec.TTL / time.Second)}
	var out *pb.ACLTokenSecret
	err := c.do(ctx, "acl token create", func(ctx context.Context, rpc pb.RaftCronClient, _ attemptInfo) error {
		var err error
		out, err = rpc.ACLTokenCreate(ctx, req)
		return err
	})
	return out, err
}

// ACLTokens lists the tokens (needs a management token); secrets are never listed.
func (c *Client) ACLTokens(ctx context.Context) ([]*pb.ACLToken, error) {
	var out []*pb.ACLToken
	err := c.do(ctx, "acl token list", func(ctx context.Context, rpc pb.RaftCronClient, _ attemptInfo) error {
		resp, err := rpc.ACLTokenList(ctx, &pb.ACLTokenListRequest{})
		out = resp.GetTokens()
		return err
	})
	return out, err
}

// ACLTokenRevoke revokes a token by its accessor id (needs a management token).
func (c *Client) ACLTokenRevoke(ctx context.Context, accessorID string) error {
	return c.do(ctx, "acl token revoke", func(ctx context.Context, rpc pb.RaftCronClient, _ attemptInfo) error {
		_, err := rpc.ACLTokenRevoke(ctx, &pb.ACLTokenRevokeRequest{AccessorId: accessorID})
		return err
	})
}

// WhoAmI describes the caller: its certificate and its token.
func (c *Client) WhoAmI(ctx context.Context) (*pb.WhoAmIResponse, error) {
	var out *pb.WhoAmIResponse
	err := c.do(ctx, "whoami", func(ctx context.Context, rpc pb.RaftCronClient, _ attemptInfo) error {
		var err error
		out, err = rpc.WhoAmI(ctx, &pb.WhoAmIRequest{})
		return err
	})
	return out, err
}
