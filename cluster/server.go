package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"

	"github.com/raftcron/raftcron/auth"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/raft"
	"github.com/raftcron/raftcron/scheduler"
	"github.com/raftcron/raftcron/ui"
)

// Config is one server's configuration.
type Config struct {
	NodeID  string
	DataDir string
	// RaftAddr is where Raft listens; RaftAdvertise what peers dial (default RaftAddr).
	RaftAddr, RaftAdvertise string
	// GRPCAddr serves the API and worker sessions; GRPCAdvertise is what other
	// servers and clients are told (default: the bound address).
	GRPCAddr, GRPCAdvertise string
	// HTTPAddr serves /healthz, /readyz, /metrics and the dashboard; empty
	// disables it. With TLS it serves HTTPS with the server's certificate
	// (no client certificate asked for), unless HTTPPlaintext.
	HTTPAddr string
	// HTTPPlaintext serves HTTPAddr in plain HTTP although the server has
	// TLS, for operators who terminate TLS in front of it. The dashboard
	// then takes logins only from loopback (a proxy on the same host), as a
	// token typed elsewhere would cross the network in clear.
	HTTPPlaintext bool
	// Pprof also serves net/http/pprof under /debug/pprof/ on HTTPAddr.
	Pprof bool

	// TLS is this server's certificate (role server) and the cluster CA:
	// Raft and gRPC then run over mutual TLS and every API call needs an
	// ACL token. Without it, Insecure must be set: plaintext and no ACLs.
	TLS      *auth.Credentials
	Insecure bool

	// Bootstrap a new one-server cluster when this data dir holds no state.
	Bootstrap bool
	// Join asks these servers' gRPC addresses to add this server to their cluster.
	Join []string

	// Raft timing; zero values keep hashicorp/raft's defaults (tests cut them).
	HeartbeatTimeout, ElectionTimeout, LeaderLeaseTimeout, CommitTimeout time.Duration
	SnapshotThreshold                                                    uint64
	SnapshotInterval                                                     time.Duration

	Worker WorkerConfig
	Jobs   scheduler.JobOptions
	Cron   scheduler.CronOptions
	// Limits are the quotas checked before a user write is proposed.
	Limits scheduler.Limits
	// RateLimit is how many API requests per second each ACL token may
	// make (burst RateBurst); 0 uses DefaultTokenRateLimit, negative is
	// unlimited.
	RateLimit float64
	RateBurst int
	// MaxCommandsPerEntry bounds how many scheduler commands one Raft entry carries.
	MaxCommandsPerEntry int
	// Events: how many events the leader keeps, and for how long.
	Events scheduler.EventRetention

	Clock  scheduler.Clock
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Clock == nil {
		c.Clock = scheduler.RealClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.RaftAdvertise == "" {
		c.RaftAdvertise = c.RaftAddr
	}
	c.Worker = c.Worker.withDefaults()
	if c.MaxCommandsPerEntry == 0 {
		c.MaxCommandsPerEntry = 256
	}
}

// Server is one raftcron server: a Raft member that serves the API, and
// schedules and talks to workers while it leads.
type Server struct {
	cfg     Config
	log     *slog.Logger
	node    *raft.Node
	metrics *metrics

	grpcLis  net.Listener
	grpcSrv  *grpc.Server
	httpLis  net.Listener
	httpSrv  *http.Server
	ui       *ui.Handler
	sessions *workerSessions
	leader   *leadership

	peersMu sync.Mutex
	peers   map[string]*grpc.ClientConn // gRPC address -> conn, for forwarding

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// New opens the Raft node and binds the listeners; Start begins serving.
func New(cfg Config) (*Server, error) {
	cfg.setDefaults()
	if cfg.NodeID == "" {
		return nil, errors.New("node id is required")
	}
	if cfg.DataDir == "" {
		return nil, errors.New("data dir is required")
	}
	log := cfg.Logger.With("component", "server", "node", cfg.NodeID)
	switch {
	case cfg.TLS == nil && !cfg.Insecure:
		return nil, errors.New("TLS is required: give the server a certificate (--tls-ca, --tls-cert, --tls-key; create them with `raftcron tls`), or run plaintext without ACLs with --insecure")
	case cfg.TLS != nil && cfg.Insecure:
		return nil, errors.New("--insecure and TLS credentials: choose one")
	case cfg.TLS != nil && cfg.TLS.Identity.Role != auth.RoleServer:
		return nil, fmt.Errorf("--tls-cert: a server needs a server certificate; %s is a %s certificate", cfg.TLS.Identity, cfg.TLS.Identity.Role)
	case cfg.TLS != nil && cfg.TLS.Identity.Name != cfg.NodeID:
		return nil, fmt.Errorf("--tls-cert names server %q but --node-id is %q: a server's certificate must name its node id", cfg.TLS.Identity.Name, cfg.NodeID)
	}
	if cfg.Insecure {
		log.Warn("running INSECURE: plaintext Raft and gRPC, no client certificates, no ACL tokens; anyone who reaches a port owns the cluster")
	}
	s := &Server{cfg: cfg, log: log, peers: map[string]*grpc.ClientConn{}}

	var err error
	if s.grpcLis, err = net.Listen("tcp", cfg.GRPCAddr); err != nil {
		return nil, fmt.Errorf("listen grpc %s: %w", cfg.GRPCAddr, err)
	}
	if s.cfg.GRPCAdvertise == "" {
		s.cfg.GRPCAdvertise = s.grpcLis.Addr().String()
	}
	if cfg.HTTPAddr != "" {
		if s.httpLis, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			s.grpcLis.Close()
			return nil, fmt.Errorf("listen http %s: %w", cfg.HTTPAddr, err)
		}
	}
	s.node, err = raft.Open(raft.Config{
		NodeID:             cfg.NodeID,
		DataDir:            cfg.DataDir,
		BindAddr:           cfg.RaftAddr,
		AdvertiseAddr:      cfg.RaftAdvertise,
		Bootstrap:          cfg.Bootstrap,
		Logger:             cfg.Logger,
		HeartbeatTimeout:   cfg.HeartbeatTimeout,
		ElectionTimeout:    cfg.ElectionTimeout,
		LeaderLeaseTimeout: cfg.LeaderLeaseTimeout,
		CommitTimeout:      cfg.CommitTimeout,
		SnapshotThreshold:  cfg.SnapshotThreshold,
		SnapshotInterval:   cfg.SnapshotInterval,
		TLS:                raftTLS(cfg.TLS),
	})
	if err != nil {
		s.grpcLis.Close()
		if s.httpLis != nil {
			s.httpLis.Close()
		}
		return nil, fmt.Errorf("open raft: %w", err)
	}
	s.metrics = newMetrics(s)
	cfg.Worker.VerifyIdentity = cfg.TLS != nil
	s.sessions = newWorkerSessions(s.node, cfg.Clock, cfg.Worker, s.leaderGRPCAddr, cfg.Logger)
	s.sessions.propose = s.propose
	s.sessions.proposeAsync = s.proposeAsync
	s.leader = newLeadership(s)

	opts := []grpc.ServerOption{grpc.ChainUnaryInterceptor(s.forwardUnary), grpc.ChainStreamInterceptor(statusStream)}
	if cfg.TLS != nil {
		z := &authorizer{s: s, rates: newTokenRates(cfg.RateLimit, cfg.RateBurst)}
		opts = []grpc.ServerOption{
			grpc.Creds(credentials.NewTLS(cfg.TLS.ServerTLS(auth.RoleServer, auth.RoleWorker, auth.RoleClient))),
			grpc.ChainUnaryInterceptor(z.unary, s.forwardUnary),
			grpc.ChainStreamInterceptor(z.stream, statusStream),
		}
	}
	// Clients and workers ping idle connections (client.Config.KeepAlive,
	// 30s by default); allow it rather than closing them as abusive.
	opts = append(opts, grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}))
	s.grpcSrv = grpc.NewServer(opts...)
	pb.RegisterRaftCronServer(s.grpcSrv, &api{s: s})
	pb.RegisterWorkerServiceServer(s.grpcSrv, s.sessions)
	if s.httpLis != nil {
		if s.ui, err = s.newUI(); err != nil {
			s.grpcLis.Close()
			s.httpLis.Close()
			_ = s.node.Shutdown()
			return nil, err
		}
		s.httpSrv = &http.Server{Handler: s.httpHandler(), ReadHeaderTimeout: 5 * time.Second}
		s.httpSrv.RegisterOnShutdown(s.ui.StopStreams)
		if s.HTTPS() {
			s.httpSrv.TLSConfig = cfg.TLS.HTTPSTLS()
			s.httpLis = tls.NewListener(s.httpLis, s.httpSrv.TLSConfig)
		} else if cfg.TLS != nil {
			s.log.Warn("--http-plaintext: the HTTP port (dashboard, metrics, health) serves plain HTTP although this server has TLS; terminate TLS in front of it. Dashboard logins are taken only from loopback", "http", cfg.HTTPAddr)
		}
	}
	return s, nil
}

// Start serves gRPC and HTTP, watches leadership and, with Config.Join, joins
// the cluster in the background until it succeeds.
func (s *Server) Start() {
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		if err := s.grpcSrv.Serve(s.grpcLis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			s.log.Error("grpc serve", "err", err)
		}
	}()
	go func() {
		defer s.wg.Done()
		s.leader.monitor(s.ctx)
	}()
	if s.httpSrv != nil {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := s.httpSrv.Serve(s.httpLis); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("http serve", "err", err)
			}
		}()
	}
	if len(s.cfg.Join) > 0 {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.joinLoop(s.ctx)
		}()
	}
	s.log.Info("server started", "grpc", s.cfg.GRPCAdvertise, "raft", s.cfg.RaftAdvertise, "http", s.HTTPAddr())
}

// Stop leaves leadership duties, stops serving and closes Raft. It waits for
// every goroutine it started.
func (s *Server) Stop() error {
	var err error
	s.once.Do(func() {
		if s.cancel != nil {
			s.cancel()
		}
		done := make(chan struct{})
		go func() { s.grpcSrv.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			s.grpcSrv.Stop()
			<-done
		}
		if s.httpSrv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = s.httpSrv.Shutdown(ctx)
			cancel()
			_ = s.ui.Close()
		}
		s.wg.Wait()
		s.peersMu.Lock()
		for _, c := range s.peers {
			c.Close()
		}
		s.peers = map[string]*grpc.ClientConn{}
		s.peersMu.Unlock()
		err = s.node.Shutdown()
	})
	return err
}

// Node is the server's Raft node (tests and the dev command use it).
func (s *Server) Node() *raft.Node { return s.node }

// GRPCAddr is the address clients and workers dial.
func (s *Server) GRPCAddr() string { return s.cfg.GRPCAdvertise }

// HTTPS reports whether the HTTP port serves HTTPS (TLS and not HTTPPlaintext).
func (s *Server) HTTPS() bool { return s.cfg.TLS != nil && !s.cfg.HTTPPlaintext }

// HTTPURL is the base URL of the HTTP port (https:// or http://), or "".
func (s *Server) HTTPURL() string {
	if s.httpLis == nil {
		return ""
	}
	if s.HTTPS() {
		return "https://" + s.HTTPAddr()
	}
	return "http://" + s.HTTPAddr()
}

// HTTPAddr is the bound health and metrics address, or "".
func (s *Server) HTTPAddr() string {
	if s.httpLis == nil {
		return ""
	}
	return s.httpLis.Addr().String()
}

// IsLeader reports whether this server leads the cluster.
func (s *Server) IsLeader() bool { return s.node.IsLeader() }

// leaderGRPCAddr is the gRPC address of the current leader, or "" when no
// leader is known or it has not registered its address yet.
func (s *Server) leaderGRPCAddr() string {
	id, _ := s.node.Leader()
	if id == "" {
		return ""
	}
	if id == s.cfg.NodeID {
		return s.cfg.GRPCAdvertise
	}
	if rs := s.node.State().Server(id); rs != nil {
		return rs.GetGrpcAddress()
	}
	return ""
}

// peer returns a cached connection to another server's gRPC address.
func (s *Server) peer(addr string) (*grpc.ClientConn, error) {
	s.peersMu.Lock()
	defer s.peersMu.Unlock()
	if c, ok := s.peers[addr]; ok {
		return c, nil
	}
	c, err := grpc.NewClient(addr, s.dialCreds())
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	s.peers[addr] = c
	return c, nil
}

// joinLoop asks the configured servers to add this one until one succeeds.
func (s *Server) joinLoop(ctx context.Context) {
	backoff := 200 * time.Millisecond
	req := &pb.JoinRequest{NodeId: s.cfg.NodeID, RaftAddress: s.cfg.RaftAdvertise, GrpcAddress: s.cfg.GRPCAdvertise}
	for attempt := 0; ; attempt++ {
		for _, addr := range s.cfg.Join {
			if addr == s.cfg.GRPCAdvertise {
				continue
			}
			conn, err := s.peer(addr)
			if err != nil {
				continue
			}
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, err = pb.NewRaftCronClient(conn).Join(cctx, req)
			cancel()
			if err == nil {
				s.log.Info("joined cluster", "via", addr)
				return
			}
			if attempt%10 == 0 {
				s.log.Warn("join failed; retrying", "via", addr, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		if backoff < 2*time.Second {
			backoff *= 2
		}
	}
}

// dialCreds are the transport credentials for calls to other servers.
func (s *Server) dialCreds() grpc.DialOption {
	if s.cfg.TLS == nil {
		return grpc.WithTransportCredentials(insecure.NewCredentials())
	}
	return grpc.WithTransportCredentials(credentials.NewTLS(s.cfg.TLS.ClientTLS()))
}

// raftTLS is the Raft transport's TLS: only server certificates, both ways.
func raftTLS(c *auth.Credentials) *raft.TransportTLS {
	if c == nil {
		return nil
	}
	return &raft.TransportTLS{Listen: c.ServerTLS(auth.RoleServer), Dial: c.ClientTLS()}
}

// ACLsEnabled reports whether this server enforces certificates and tokens.
func (s *Server) ACLsEnabled() bool { return s.cfg.TLS != nil }
