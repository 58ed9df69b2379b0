package raft

import (
	"crypto/tls"
	"fmt"
	"net"
	"time"

	hraft "github.com/hashicorp/raft"
)

// TransportTLS secures the Raft transport: Listen is the listener's config
// (it must require and verify a server certificate from the peer), Dial the
// config for connections this node opens to its peers.
type TransportTLS struct {
	Listen, Dial *tls.Config
}

// tlsStreamLayer is a hraft.StreamLayer over TLS: a peer that cannot
// complete a mutual TLS handshake with a server certificate never gets a
// byte to the Raft RPC decoder.
type tlsStreamLayer struct {
	net.Listener
	advertise    net.Addr
	listen, dial *tls.Config
}

var _ hraft.StreamLayer = (*tlsStreamLayer)(nil)

func newTLSStreamLayer(bind string, advertise net.Addr, cfg *TransportTLS) (*tlsStreamLayer, error) {
	if cfg.Listen == nil || cfg.Dial == nil {
		return nil, fmt.Errorf("raft TLS: both the listen and the dial config are required")
	}
	lis, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, err
	}
	if advertise == nil {
		advertise = lis.Addr()
	}
	if tcp, ok := advertise.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		lis.Close()
		return nil, fmt.Errorf("raft: advertise address %s is not a reachable address; set an advertise address", advertise)
	}
	return &tlsStreamLayer{Listener: lis, advertise: advertise, listen: cfg.Listen, dial: cfg.Dial}, nil
}

// Accept wraps the next connection in TLS. The handshake runs on the
// transport's first read, in the connection's own goroutine, so a slow or
// failing peer never stalls Accept; a failed handshake closes the connection
// before anything reaches the RPC decoder.
func (l *tlsStreamLayer) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return tls.Server(c, l.listen), nil
}

// Addr is the advertised address.
func (l *tlsStreamLayer) Addr() net.Addr { return l.advertise }

// Dial opens a TLS connection to a peer.
func (l *tlsStreamLayer) Dial(address hraft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout}
	return tls.DialWithDialer(d, "tcp", string(address), l.dial)
}
