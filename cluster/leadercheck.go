package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/raftcron/raftcron/raft"
)

// leaderCheck answers "has a quorum confirmed this server as leader since
// time t?" for many sessions with few Raft round trips: callers that arrive
// while a verification runs wait for it, or for the next one when the
// running one began before their t.
type leaderCheck struct {
	verify func(context.Context) error

	mu        sync.Mutex
	confirmed time.Time   // start of the latest successful verification
	round     *checkRound // the verification running, if any
}

type checkRound struct {
	start time.Time
	done  chan struct{}
	err   error
}

// since returns nil once a verification that began at or after t succeeded.
func (l *leaderCheck) since(ctx context.Context, t time.Time) error {
	for {
		l.mu.Lock()
		if !l.confirmed.IsZero() && !l.confirmed.Before(t) {
			l.mu.Unlock()
			return nil
		}
		r := l.round
		if r == nil {
			r = &checkRound{start: time.Now(), done: make(chan struct{})}
			l.round = r
			go l.run(r, l.verify)
		}
		l.mu.Unlock()
		select {
		case <-r.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if !r.start.Before(t) {
			return r.err
		}
		// That round began before t: it proves nothing about t; run another.
	}
}

func (l *leaderCheck) run(r *checkRound, verify func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := verify(ctx)
	l.mu.Lock()
	defer l.mu.Unlock()
	r.err = err
	if err == nil && r.start.After(l.confirmed) {
		l.confirmed = r.start
	}
	l.round = nil
	close(r.done)
}

// renewable reports whether a heartbeat received at received may renew
// leases: the session is current, the leader loop runs, and a quorum has
// confirmed this server as leader since.
func (s *workerSessions) renewable(ctx context.Context, c *workerConn, received time.Time) error {
	select {
	case <-c.done:
		return errors.New("the session is ending")
	default:
	}
	s.mu.Lock()
	leading := s.leading
	s.mu.Unlock()
	if !leading {
		return fmt.Errorf("the leader loop is not running: %w", raft.ErrNotLeader)
	}
	ctx, cancel := context.WithTimeout(ctx, s.workerTTL())
	defer cancel()
	return s.leaderCheck.since(ctx, received)
}
