package raft

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// MinHeartbeatInterval is the shortest worker heartbeat interval the cluster
// settings accept.
const MinHeartbeatInterval = 10 * time.Millisecond

// ValidateClusterSettings checks the timing rules of cluster settings: every
// timing field set (lostWorkerRetention may be left out, for the default),
// a positive lostWorkerRetention, heartbeats at least MinHeartbeatInterval apart, and a worker TTL
// and a lease TTL of at least two heartbeat intervals each (a single late
// heartbeat must not lose a worker or end its runs).
func ValidateClusterSettings(s *pb.ClusterSettings) error {
	hb, wt, lt := s.GetHeartbeatInterval(), s.GetWorkerTtl(), s.GetLeaseTtl()
	switch {
	case hb == nil:
		return fmt.Errorf("settings.heartbeatInterval is required")
	case wt == nil:
		return fmt.Errorf("settings.workerTTL is required")
	case lt == nil:
		return fmt.Errorf("settings.leaseTTL is required")
	case hb.AsDuration() < MinHeartbeatInterval:
		return fmt.Errorf("settings.heartbeatInterval: %v is shorter than the minimum %v", hb.AsDuration(), MinHeartbeatInterval)
	case wt.AsDuration() < 2*hb.AsDuration():
		return fmt.Errorf("settings.workerTTL: %v must be at least two heartbeat intervals (%v)", wt.AsDuration(), 2*hb.AsDuration())
	case lt.AsDuration() < 2*hb.AsDuration():
		return fmt.Errorf("settings.leaseTTL: %v must be at least two heartbeat intervals (%v)", lt.AsDuration(), 2*hb.AsDuration())
	case s.GetLostWorkerRetention() != nil && s.GetLostWorkerRetention().AsDuration() <= 0:
		return fmt.Errorf("settings.lostWorkerRetention: %v is not a positive duration", s.GetLostWorkerRetention().AsDuration())
	}
	return nil
}

// LeaseTTLAt is how long a leader must wait, at now, after it last heard from
// a worker before it treats the worker's attempts as lost: the lease TTL, or
// the previous, longer one while leases granted before a shortening may still
// run.
func LeaseTTLAt(s *pb.ClusterSettings, now time.Time) time.Duration {
	ttl := s.GetLeaseTtl().AsDuration()
	prev := s.GetPreviousLeaseTtl().AsDuration()
	if prev > ttl && s.GetLeaseTtlChanged() != nil && now.Before(s.GetLeaseTtlChanged().AsTime().Add(prev)) {
		return prev
	}
	return ttl
}

func (a *applier) setClusterSettings(c *pb.SetClusterSettings) *pb.CommandResult {
	in := c.GetSettings()
	if err := ValidateClusterSettings(in); err != nil {
		return fail(pb.CodeInvalid, "setClusterSettings: %v", err)
	}
	old := a.t.settings
	if old != nil && c.GetInitial() {
		return ok() // the recorded settings win over a new leader's flags
	}
	n := &pb.ClusterSettings{
		HeartbeatInterval: proto.Clone(in.GetHeartbeatInterval()).(*durationpb.Duration),
		WorkerTtl:         proto.Clone(in.GetWorkerTtl()).(*durationpb.Duration),
		LeaseTtl:          proto.Clone(in.GetLeaseTtl()).(*durationpb.Duration),
		// nil: the default (records from before the setting existed).
		LostWorkerRetention: cloneDuration(in.GetLostWorkerRetention()),
		// The cluster id is set once: a recorded one is never replaced.
		ClusterId: in.GetClusterId(),
	}
	if old.GetClusterId() != "" {
		n.ClusterId = old.GetClusterId()
	}
	if old != nil {
		// Remember the longest lease still in force, so a shortening never
		// lets a leader replace a run whose worker holds a longer lease.
		n.PreviousLeaseTtl, n.LeaseTtlChanged = old.GetPreviousLeaseTtl(), old.GetLeaseTtlChanged()
		if c.GetNow() != nil {
			oldTTL := LeaseTTLAt(old, c.GetNow().AsTime())
			if oldTTL > n.GetLeaseTtl().AsDuration() {
				n.PreviousLeaseTtl, n.LeaseTtlChanged = durationpb.New(oldTTL), cloneTS(c.GetNow())
			}
		}
	}
	if proto.Equal(old, n) {
		return ok()
	}
	a.t.settings = n
	return ok()
}

// Settings returns the replicated cluster settings, or nil while none are
// recorded (before the first leader records its flags).
func (s *State) Settings() *pb.ClusterSettings {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.t.settings
}

func cloneDuration(d *durationpb.Duration) *durationpb.Duration {
	if d == nil {
		return nil
	}
	return proto.Clone(d).(*durationpb.Duration)
}
