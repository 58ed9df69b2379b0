package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/raft"
)

// Defaults of the cluster settings, used for the flags of `raftcron server`
// and for a WorkerConfig field left zero. They are stated here only.
const (
	DefaultHeartbeatInterval = time.Second
	DefaultWorkerTTL         = 5 * time.Second
	DefaultLeaseTTL          = 10 * time.Second
	// DefaultLostWorkerRetention also applies to settings recorded before
	// the setting existed.
	DefaultLostWorkerRetention = 24 * time.Hour
)

// clusterSettings returns the replicated settings, or, while none are recorded
// yet (before the first leader's barrier), this server's configured ones.
func (s *workerSessions) clusterSettings() *pb.ClusterSettings {
	if cs := s.node.State().Settings(); cs != nil {
		return cs
	}
	return s.cfg.settings()
}

func (s *workerSessions) heartbeatInterval() time.Duration {
	return s.clusterSettings().GetHeartbeatInterval().AsDuration()
}

func (s *workerSessions) workerTTL() time.Duration {
	return s.clusterSettings().GetWorkerTtl().AsDuration()
}

// leaseTTL is the lease a renewal grants now.
func (s *workerSessions) leaseTTL() time.Duration {
	return s.clusterSettings().GetLeaseTtl().AsDuration()
}

// lostWorkerRetention is how long a lost worker stays listed.
func (s *workerSessions) lostWorkerRetention() time.Duration {
	if d := s.clusterSettings().GetLostWorkerRetention(); d != nil {
		return d.AsDuration()
	}
	return DefaultLostWorkerRetention
}

// lostAfter is how long after it last heard from a worker the leader waits
// before it treats the worker's attempts as lost: the longest lease it may
// have granted, and the kill allowance.
func (s *workerSessions) lostAfter(now time.Time) time.Duration {
	return raft.LeaseTTLAt(s.clusterSettings(), now) + KillAllowance
}

// KillAllowance is how much longer than a lease the leader waits before it
// replaces the attempts of a silent worker. The lease guard kills a workload
// at the end of its lease as the worker counts it, which is already earlier
// than the leader's count (the worker counts from sending the heartbeat, the
// leader from receiving it); the allowance covers the kill itself: the guard
// waking on a loaded host and the kernel tearing down the process group.
// Without it the replacement could start in the same few milliseconds as the
// old run ends (seen on a loaded CI host: 8 ms of overlap under Forbid).
const KillAllowance = time.Second

// settings is the configured timing as a settings record.
func (c WorkerConfig) settings() *pb.ClusterSettings {
	c = c.withDefaults()
	return &pb.ClusterSettings{
		HeartbeatInterval:   durationpb.New(c.HeartbeatInterval),
		WorkerTtl:           durationpb.New(c.WorkerTTL),
		LeaseTtl:            durationpb.New(c.LeaseTTL),
		LostWorkerRetention: durationpb.New(c.LostWorkerRetention),
	}
}

// recordInitialSettings records this server's configured timing as the
// cluster settings when none are recorded yet (the FSM keeps recorded ones).
func (s *Server) recordInitialSettings(ctx context.Context) error {
	cur := s.node.State().Settings()
	if cur.GetClusterId() != "" {
		return nil
	}
	id, err := newClusterID()
	if err != nil {
		return err
	}
	cmd := &pb.SetClusterSettings{Settings: s.cfg.Worker.settings(), Initial: true, Now: timestamppb.New(s.cfg.Clock.Now())}
	if cur != nil {
		// Recorded before clusters had ids: keep the timing, add the id.
		cmd = &pb.SetClusterSettings{Settings: proto.Clone(cur).(*pb.ClusterSettings), Now: timestamppb.New(s.cfg.Clock.Now())}
	}
	cmd.Settings.ClusterId = id
	out, err := s.propose(ctx, &pb.Command{Op: &pb.Command_SetClusterSettings{SetClusterSettings: cmd}})
	if err != nil {
		return err
	}
	return out[0].Err()
}

// newClusterID returns a random cluster id: 12 hex digits, short enough for
// container names.
func newClusterID() (string, error) {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("cluster id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// updateSettings changes the fields set in change and returns the settings
// now in force. A new heartbeat interval reaches workers when they connect,
// so their sessions are ended to make them reconnect at once.
func (s *Server) updateSettings(ctx context.Context, change *pb.ClusterSettings) (*pb.ClusterSettings, error) {
	cur := proto.Clone(s.sessions.clusterSettings()).(*pb.ClusterSettings)
	next := &pb.ClusterSettings{HeartbeatInterval: cur.GetHeartbeatInterval(), WorkerTtl: cur.GetWorkerTtl(), LeaseTtl: cur.GetLeaseTtl(),
		LostWorkerRetention: cur.GetLostWorkerRetention()}
	if change.GetHeartbeatInterval() != nil {
		next.HeartbeatInterval = change.GetHeartbeatInterval()
	}
	if change.GetWorkerTtl() != nil {
		next.WorkerTtl = change.GetWorkerTtl()
	}
	if change.GetLeaseTtl() != nil {
		next.LeaseTtl = change.GetLeaseTtl()
	}
	if change.GetLostWorkerRetention() != nil {
		next.LostWorkerRetention = change.GetLostWorkerRetention()
	}
	if err := raft.ValidateClusterSettings(next); err != nil {
		return nil, fmt.Errorf("%v: %w", err, pb.ErrInvalid)
	}
	out, err := s.propose(ctx, &pb.Command{Op: &pb.Command_SetClusterSettings{SetClusterSettings: &pb.SetClusterSettings{
		Settings: next, Now: timestamppb.New(s.cfg.Clock.Now()),
	}}})
	if err != nil {
		return nil, err
	}
	if err := out[0].Err(); err != nil {
		return nil, err
	}
	if !proto.Equal(cur.GetHeartbeatInterval(), next.GetHeartbeatInterval()) {
		s.sessions.endAll()
	}
	s.log.Info("cluster settings changed", "heartbeat_interval", next.GetHeartbeatInterval().AsDuration(),
		"worker_ttl", next.GetWorkerTtl().AsDuration(), "lease_ttl", next.GetLeaseTtl().AsDuration(),
		"lost_worker_retention", s.sessions.lostWorkerRetention())
	return s.sessions.clusterSettings(), nil
}
