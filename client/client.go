package client

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// Config says how to reach a raftcron cluster.
type Config struct {
	// Servers are the gRPC addresses (host:port) of any servers of the cluster.
	Servers []string
	// DialTimeout bounds how long one connection attempt may take.
	DialTimeout time.Duration
}

// Client talks to a raftcron cluster.
type Client struct {
	servers []string
	conns   []*grpc.ClientConn
	rpcs    []pb.RaftCronClient
}

// New prepares connections to every server. It does not block.
func New(cfg Config) (*Client, error) {
	if len(cfg.Servers) == 0 {
		return nil, errors.New("client config: servers: at least one address is required")
	}
	c := &Client{}
	for _, addr := range cfg.Servers {
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("dial %s: %w", addr, err)
		}
		c.servers = append(c.servers, addr)
		c.conns = append(c.conns, conn)
		c.rpcs = append(c.rpcs, pb.NewRaftCronClient(conn))
	}
	return c, nil
}

// Close closes every connection.
func (c *Client) Close() error {
	var errs []error
	for _, conn := range c.conns {
		errs = append(errs, conn.Close())
	}
	return errors.Join(errs...)
}
