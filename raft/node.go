package raft

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	hraft "github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// Config opens a Node.
type Config struct {
	// NodeID is this server's stable Raft id. Required.
	NodeID string
	// DataDir holds raft.db (log and stable store) and snapshots/. Required.
	DataDir string
	// BindAddr is the Raft TCP listen address ("127.0.0.1:0" picks a port).
	BindAddr string
	// AdvertiseAddr is the address peers dial; "" = the bound address, which
	// must then not be unspecified (0.0.0.0).
	AdvertiseAddr string
	// Bootstrap makes a new single-voter cluster if DataDir holds no Raft state.
	Bootstrap bool
	Logger    *slog.Logger

	// Raft timing; 0 = hashicorp/raft defaults, but CommitTimeout's is
	// DefaultCommitTimeout. A LeaderLeaseTimeout left at 0 is lowered to
	// HeartbeatTimeout when that is shorter than the default.
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	CommitTimeout      time.Duration

	// Snapshots; 0 = hashicorp/raft defaults (8192 entries, 120s, 10240 trailing logs).
	SnapshotThreshold uint64
	SnapshotInterval  time.Duration
	TrailingLogs      uint64

	// TLS secures the Raft transport; nil is plaintext TCP (only with the
	// server's explicit --insecure).
	TLS *TransportTLS
}

// Member is one server in the Raft configuration.
type Member struct {
	ID      string
	Address string
	Voter   bool
	Leader  bool
}

// Node is one Raft server: hashicorp/raft over raft-boltdb, file snapshots
// and a TCP transport, driving an FSM.
type Node struct {
	cfg    Config
	logger *slog.Logger
	fsm    *FSM
	raft   *hraft.Raft
	trans  *hraft.NetworkTransport
	store  *raftboltdb.BoltStore

	notifyIn  chan bool
	notifyOut chan bool
	// heartbeats carries the leader's failed and resumed heartbeats to
	// followers; failing holds, per follower whose heartbeats fail, when
	// the leader last reached it.
	heartbeats chan hraft.Observation
	failingMu  sync.Mutex
	failing    map[string]time.Time
	stop       chan struct{}
	done       chan struct{}

	shutdownOnce sync.Once
	shutdownErr  error

	// announceMu guards announcing (a barrier is in flight) and
	// announceAgain (another was asked for meanwhile): see AnnounceCommit.
	announceMu    sync.Mutex
	announcing    bool
	announceAgain bool
}

// DefaultCommitTimeout is how long the leader, when nothing new is written,
// waits before it sends followers the commit index (hashicorp/raft's
// CommitTimeout; its default is 50ms). Those messages, with the heartbeats,
// are what an idle cluster spends its CPU on: 50ms kept an idle leader at
// 2.7 % of a core on the development machine, 250ms at 1.3 %
// (BENCHMARKS.md). A client's write is announced at once (AnnounceCommit),
// so the longer wait only delays followers seeing the scheduler's own
// last writes of a burst, by at most twice the timeout.
const DefaultCommitTimeout = 250 * time.Millisecond

const (
	snapshotsRetained = 2
	transportMaxPool  = 3
	transportTimeout  = 10 * time.Second
	// logCacheSize: how many recent log entries are kept in memory for
	// replication. An entry can hold a thousand CronJobs (an apply) or a
	// tick's Jobs, hundreds of kilobytes, so the cache is kept to what a
	// follower in step reads (hashicorp/raft sends at most 64 entries per
	// AppendEntries); a follower further behind reads from bolt.
	logCacheSize = 64
)

// Open opens (and, with cfg.Bootstrap, bootstraps) a Raft node.
func Open(cfg Config) (*Node, error) {
	switch {
	case cfg.NodeID == "":
		return nil, fmt.Errorf("open raft: NodeID is required")
	case cfg.DataDir == "":
		return nil, fmt.Errorf("open raft: DataDir is required")
	case cfg.BindAddr == "":
		return nil, fmt.Errorf("open raft: BindAddr is required")
	}
	base := cfg.Logger
	if base == nil {
		base = slog.Default()
	}
	base = base.With("node", cfg.NodeID)
	logger := base.With("component", "raft")
	hcl := newHCLogger(logger, "raft")

	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("open raft: create data dir: %w", err)
	}
	store, err := raftboltdb.New(raftboltdb.Options{
		Path:        filepath.Join(cfg.DataDir, "raft.db"),
		BoltOptions: &bbolt.Options{Timeout: 5 * time.Second},
		NoSync:      false,
	})
	if err != nil {
		return nil, fmt.Errorf("open raft: open %s: %w", filepath.Join(cfg.DataDir, "raft.db"), err)
	}
	closeAll := []func() error{store.Close}
	cleanup := func() {
		for i := len(closeAll) - 1; i >= 0; i-- {
			_ = closeAll[i]()
		}
	}
	logs, err := hraft.NewLogCache(logCacheSize, store)
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("open raft: log cache: %w", err)
	}
	snaps, err := hraft.NewFileSnapshotStoreWithLogger(cfg.DataDir, snapshotsRetained, hcl)
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("open raft: snapshot store: %w", err)
	}
	var advertise net.Addr
	if cfg.AdvertiseAddr != "" {
		advertise, err = net.ResolveTCPAddr("tcp", cfg.AdvertiseAddr)
		if err != nil {
			cleanup()
			return nil, fmt.Errorf("open raft: advertise address %q: %w", cfg.AdvertiseAddr, err)
		}
	}
	var trans *hraft.NetworkTransport
	if cfg.TLS != nil {
		var stream *tlsStreamLayer
		stream, err = newTLSStreamLayer(cfg.BindAddr, advertise, cfg.TLS)
		if err == nil {
			trans = hraft.NewNetworkTransportWithLogger(stream, transportMaxPool, transportTimeout, hcl)
		}
	} else {
		trans, err = hraft.NewTCPTransportWithLogger(cfg.BindAddr, advertise, transportMaxPool, transportTimeout, hcl)
	}
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("open raft: transport on %s: %w", cfg.BindAddr, err)
	}
	closeAll = append(closeAll, trans.Close)

	notifyIn := make(chan bool, 8)
	rc := hraft.DefaultConfig()
	rc.LocalID = hraft.ServerID(cfg.NodeID)
	rc.Logger = hcl
	rc.NotifyCh = notifyIn
	applyTimings(rc, cfg)
	if err := hraft.ValidateConfig(rc); err != nil {
		cleanup()
		return nil, fmt.Errorf("open raft: config: %w", err)
	}

	fsm := NewFSM(base)
	if cfg.Bootstrap {
		has, err := hraft.HasExistingState(logs, store, snaps)
		if err != nil {
			cleanup()
			return nil, fmt.Errorf("open raft: check existing state: %w", err)
		}
		if !has {
			// The advertise address as given (a DNS name stays a name, so a
			// container that comes back with a new IP is still reachable).
			self := trans.LocalAddr()
			if cfg.AdvertiseAddr != "" {
				self = hraft.ServerAddress(cfg.AdvertiseAddr)
			}
			conf := hraft.Configuration{Servers: []hraft.Server{{
				Suffrage: hraft.Voter, ID: rc.LocalID, Address: self,
			}}}
			if err := hraft.BootstrapCluster(rc, logs, store, snaps, trans, conf); err != nil {
				cleanup()
				return nil, fmt.Errorf("open raft: bootstrap: %w", err)
			}
			logger.Info("bootstrapped a new cluster", "address", string(trans.LocalAddr()))
		}
	}
	if err := recoverFromPeersJSON(cfg.DataDir, rc, fsm, logs, store, snaps, trans, logger); err != nil {
		cleanup()
		return nil, fmt.Errorf("open raft: %w", err)
	}
	r, err := hraft.NewRaft(rc, fsm, logs, store, snaps, trans)
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("open raft: %w", err)
	}
	n := &Node{
		cfg:        cfg,
		logger:     logger,
		fsm:        fsm,
		raft:       r,
		trans:      trans,
		store:      store,
		notifyIn:   notifyIn,
		notifyOut:  make(chan bool, 1),
		heartbeats: make(chan hraft.Observation, 16),
		failing:    map[string]time.Time{},
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
	}
	r.RegisterObserver(hraft.NewObserver(n.heartbeats, false, func(o *hraft.Observation) bool {
		switch o.Data.(type) {
		case hraft.FailedHeartbeatObservation, hraft.ResumedHeartbeatObservation:
			return true
		}
		return false
	}))
	go n.forwardLeadership()
	logger.Info("raft opened", "address", string(trans.LocalAddr()), "data_dir", cfg.DataDir)
	return n, nil
}

func applyTimings(rc *hraft.Config, cfg Config) {
	if cfg.HeartbeatTimeout > 0 {
		rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	}
	if cfg.ElectionTimeout > 0 {
		rc.ElectionTimeout = cfg.ElectionTimeout
	} else if rc.ElectionTimeout < rc.HeartbeatTimeout {
		rc.ElectionTimeout = rc.HeartbeatTimeout
	}
	if cfg.LeaderLeaseTimeout > 0 {
		rc.LeaderLeaseTimeout = cfg.LeaderLeaseTimeout
	} else if rc.LeaderLeaseTimeout > rc.HeartbeatTimeout {
		rc.LeaderLeaseTimeout = rc.HeartbeatTimeout
	}
	rc.CommitTimeout = DefaultCommitTimeout
	if cfg.CommitTimeout > 0 {
		rc.CommitTimeout = cfg.CommitTimeout
	}
	if cfg.SnapshotThreshold > 0 {
		rc.SnapshotThreshold = cfg.SnapshotThreshold
	}
	if cfg.SnapshotInterval > 0 {
		rc.SnapshotInterval = cfg.SnapshotInterval
	}
	if cfg.TrailingLogs > 0 {
		rc.TrailingLogs = cfg.TrailingLogs
	}
}

// forwardLeadership drains raft's NotifyCh (raft blocks on it) into the
// one-slot LeaderNotify channel, keeping only the latest value. It also
// records the heartbeat observations (see PeerContact).
func (n *Node) forwardLeadership() {
	defer close(n.done)
	for {
		select {
		case o := <-n.heartbeats:
			n.failingMu.Lock()
			switch d := o.Data.(type) {
			case hraft.FailedHeartbeatObservation:
				n.failing[string(d.PeerID)] = d.LastContact
			case hraft.ResumedHeartbeatObservation:
				delete(n.failing, string(d.PeerID))
			}
			n.failingMu.Unlock()
		case v := <-n.notifyIn:
			if v {
				n.logger.Info("gained leadership")
			} else {
				n.logger.Info("lost leadership")
			}
			n.failingMu.Lock()
			clear(n.failing) // a new term's leader starts from no failures
			n.failingMu.Unlock()
			select {
			case n.notifyOut <- v:
			default:
				select {
				case <-n.notifyOut:
				default:
				}
				n.notifyOut <- v
			}
		case <-n.stop:
			return
		}
	}
}

// ID returns this node's Raft id.
func (n *Node) ID() string { return n.cfg.NodeID }

// Addr returns the Raft address peers reach this node at.
func (n *Node) Addr() string { return string(n.trans.LocalAddr()) }

// State returns the replicated state (shared with the FSM).
func (n *Node) State() *State { return n.fsm.State() }

// FSM returns the node's FSM (for Subscribe).
func (n *Node) FSM() *FSM { return n.fsm }

// IsLeader reports whether this node is the Raft leader right now.
func (n *Node) IsLeader() bool { return n.raft.State() == hraft.Leader }

// Leader returns the current leader's id and Raft address ("" if unknown).
func (n *Node) Leader() (id, raftAddr string) {
	addr, lid := n.raft.LeaderWithID()
	return string(lid), string(addr)
}

// LeaderNotify delivers true when this node becomes leader and false when it
// stops being leader. It holds only the latest value; read it from one
// goroutine.
func (n *Node) LeaderNotify() <-chan bool { return n.notifyOut }

func (n *Node) notLeader(err error) error {
	id, addr := n.Leader()
	return &NotLeaderError{LeaderID: id, LeaderAddr: addr, Err: err}
}

func (n *Node) mapErr(op string, err error) error {
	switch {
	case errors.Is(err, hraft.ErrNotLeader), errors.Is(err, hraft.ErrLeadershipLost),
		errors.Is(err, hraft.ErrLeadershipTransferInProgress):
		return fmt.Errorf("%s: %w", op, n.notLeader(err))
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
}

// waitFuture waits for f or ctx. If ctx ends first the operation may still
// complete; a helper goroutine waits for the future, which raft always
// resolves (at the latest on shutdown).
func waitFuture(ctx context.Context, f hraft.Future) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func timeoutOf(ctx context.Context) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	dl, ok := ctx.Deadline()
	if !ok {
		return 0, nil
	}
	d := time.Until(dl)
	if d <= 0 {
		return 0, context.DeadlineExceeded
	}
	return d, nil
}

// Apply proposes cmds as ONE log entry (wrapped in a Batch if more than one)
// and waits until it is applied or ctx ends. It returns one result per
// command; domain errors are in the results (see pb.CommandResult.Err), not in the
// error. On a follower it returns a *NotLeaderError. If ctx ends first, the
// entry may still be committed later.
func (n *Node) Apply(ctx context.Context, cmds ...*pb.Command) ([]*pb.CommandResult, error) {
	p, err := n.Propose(ctx, cmds...)
	if err != nil {
		return nil, err
	}
	return p.Wait(ctx)
}

// Proposal is a log entry handed to Raft whose outcome is not known yet.
type Proposal struct {
	n *Node
	f hraft.ApplyFuture
}

// Propose hands cmds to Raft as ONE log entry (wrapped in a Batch if more
// than one) without waiting for it to be applied, so that a caller can keep
// several entries in flight. Entries proposed one after another from one
// goroutine are applied in that order. ctx bounds only the hand-over.
func (n *Node) Propose(ctx context.Context, cmds ...*pb.Command) (*Proposal, error) {
	if len(cmds) == 0 {
		return nil, fmt.Errorf("apply: no commands: %w", pb.ErrInvalid)
	}
	for i, c := range cmds {
		if c == nil {
			return nil, fmt.Errorf("apply: command %d is nil: %w", i, pb.ErrInvalid)
		}
	}
	cmd := cmds[0]
	if len(cmds) > 1 {
		cmd = &pb.Command{Op: &pb.Command_Batch{Batch: &pb.Batch{Commands: cmds}}}
	}
	// Never propose what would stop every replica's FSM.
	if err := checkOps(cmd, 0); err != nil {
		return nil, fmt.Errorf("apply: %v: %w", err, pb.ErrInvalid)
	}
	data, err := EncodeCommand(cmd)
	if err != nil {
		return nil, fmt.Errorf("apply: %w", err)
	}
	if !n.IsLeader() {
		return nil, fmt.Errorf("apply: %w", n.notLeader(nil))
	}
	timeout, err := timeoutOf(ctx)
	if err != nil {
		return nil, fmt.Errorf("apply: %w", err)
	}
	return &Proposal{n: n, f: n.raft.Apply(data, timeout)}, nil
}

// Wait waits until the entry is applied (or ctx ends) and returns one result
// per command. If ctx ends first, the entry may still be committed later.
func (p *Proposal) Wait(ctx context.Context) ([]*pb.CommandResult, error) {
	if err := waitFuture(ctx, p.f); err != nil {
		return nil, p.n.mapErr("apply", err)
	}
	switch r := p.f.Response().(type) {
	case *pb.CommandResult:
		return []*pb.CommandResult{r}, nil
	case *BatchResult:
		return r.Results, nil
	default:
		return nil, fmt.Errorf("apply: unexpected FSM response %T", r)
	}
}

// Barrier waits until every entry committed before it is applied here
// (leader only).
func (n *Node) Barrier(ctx context.Context) error {
	timeout, err := timeoutOf(ctx)
	if err != nil {
		return fmt.Errorf("barrier: %w", err)
	}
	if err := waitFuture(ctx, n.raft.Barrier(timeout)); err != nil {
		return n.mapErr("barrier", err)
	}
	return nil
}

// AnnounceCommit makes the followers learn the leader's commit index now
// rather than up to 2 × CommitTimeout later: it appends a barrier entry,
// whose replication carries the commit index, without waiting for it. The
// server calls it after a client's write, so that a read through a follower
// right after it finds the write. Calls while a barrier is in flight are
// coalesced into one more barrier.
func (n *Node) AnnounceCommit() {
	n.announceMu.Lock()
	if n.announcing {
		n.announceAgain = true
		n.announceMu.Unlock()
		return
	}
	n.announcing = true
	n.announceMu.Unlock()
	go func() {
		for {
			_ = n.raft.Barrier(transportTimeout).Error()
			n.announceMu.Lock()
			if !n.announceAgain {
				n.announcing = false
				n.announceMu.Unlock()
				return
			}
			n.announceAgain = false
			n.announceMu.Unlock()
		}
	}()
}

// StateIndex is the index of the last log entry whose effects State()
// shows here. After a write returns on the leader, its entry is at or
// before the leader's StateIndex.
func (n *Node) StateIndex() uint64 {
	index, restored := n.fsm.AppliedIndex()
	if restored {
		// Raft records the snapshot it restored; no entry has been
		// applied since.
		if s, err := strconv.ParseUint(n.raft.Stats()["last_snapshot_index"], 10, 64); err == nil {
			index = max(index, s)
		}
	}
	return index
}

// LastIndex is the index of the last entry in this node's log (committed
// or not).
func (n *Node) LastIndex() uint64 { return n.raft.LastIndex() }

// WaitApplied waits until State() here shows the effects of the entry at
// index, or ctx ends.
func (n *Node) WaitApplied(ctx context.Context, index uint64) error {
	changes, cancel := n.fsm.Subscribe()
	defer cancel()
	for n.StateIndex() < index {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for index %d (applied %d): %w", index, n.StateIndex(), ctx.Err())
		case <-changes:
		}
	}
	return nil
}

// VerifyLeader confirms with a quorum that this node still leads: it
// returns nil only if a majority acknowledged it as leader after the call
// began (a *NotLeaderError otherwise).
func (n *Node) VerifyLeader(ctx context.Context) error {
	if err := waitFuture(ctx, n.raft.VerifyLeader()); err != nil {
		return n.mapErr("verify leader", err)
	}
	return nil
}

// Join adds a voter (leader only). Idempotent: the same id and address is a
// no-op; the same id with a new address replaces the old entry; another id
// with the same address is removed first.
func (n *Node) Join(id, raftAddr string) error {
	if id == "" || raftAddr == "" {
		return fmt.Errorf("join: id and address are required: %w", pb.ErrInvalid)
	}
	if !n.IsLeader() {
		return fmt.Errorf("join %s: %w", id, n.notLeader(nil))
	}
	cf := n.raft.GetConfiguration()
	if err := cf.Error(); err != nil {
		return n.mapErr("join "+id+": get configuration", err)
	}
	for _, srv := range cf.Configuration().Servers {
		sameID, sameAddr := srv.ID == hraft.ServerID(id), srv.Address == hraft.ServerAddress(raftAddr)
		switch {
		case sameID && sameAddr:
			if srv.Suffrage == hraft.Voter {
				return nil
			}
		case sameID || sameAddr:
			if err := n.raft.RemoveServer(srv.ID, 0, 0).Error(); err != nil {
				return n.mapErr(fmt.Sprintf("join %s: remove old member %s at %s", id, srv.ID, srv.Address), err)
			}
			n.logger.Info("removed stale member before join", "old_id", string(srv.ID), "old_address", string(srv.Address))
		}
	}
	if err := n.raft.AddVoter(hraft.ServerID(id), hraft.ServerAddress(raftAddr), 0, 0).Error(); err != nil {
		return n.mapErr(fmt.Sprintf("join %s at %s", id, raftAddr), err)
	}
	n.logger.Info("member joined", "id", id, "address", raftAddr)
	return nil
}

// Remove takes a server out of the cluster (leader only). Removing an id
// that is not a member is a no-op.
func (n *Node) Remove(id string) error {
	if !n.IsLeader() {
		return fmt.Errorf("remove %s: %w", id, n.notLeader(nil))
	}
	cf := n.raft.GetConfiguration()
	if err := cf.Error(); err != nil {
		return n.mapErr("remove "+id+": get configuration", err)
	}
	found := false
	for _, srv := range cf.Configuration().Servers {
		if srv.ID == hraft.ServerID(id) {
			found = true
		}
	}
	if !found {
		return nil
	}
	if err := n.raft.RemoveServer(hraft.ServerID(id), 0, 0).Error(); err != nil {
		return n.mapErr("remove "+id, err)
	}
	n.logger.Info("member removed", "id", id)
	return nil
}

// Members lists the servers of the current Raft configuration.
func (n *Node) Members() ([]Member, error) {
	cf := n.raft.GetConfiguration()
	if err := cf.Error(); err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	_, leaderID := n.raft.LeaderWithID()
	var out []Member
	for _, srv := range cf.Configuration().Servers {
		out = append(out, Member{
			ID:      string(srv.ID),
			Address: string(srv.Address),
			Voter:   srv.Suffrage == hraft.Voter,
			Leader:  srv.ID == leaderID && leaderID != "",
		})
	}
	return out, nil
}

// AppliedIndex is the index of the last log entry applied to the FSM here.
func (n *Node) AppliedIndex() uint64 { return n.raft.AppliedIndex() }

// LastContact is when this node last heard from the leader (zero on the leader).
func (n *Node) LastContact() time.Time { return n.raft.LastContact() }

// PeerContact tells, on the leader, whether its heartbeats to the server id
// are failing, and if so when it last reached it (zero: not in this term).
func (n *Node) PeerContact(id string) (last time.Time, failing bool) {
	n.failingMu.Lock()
	defer n.failingMu.Unlock()
	last, failing = n.failing[id]
	return last, failing
}

// CommitIndex is the highest index this replica knows to be committed (on a
// follower, as the leader last told it).
func (n *Node) CommitIndex() uint64 {
	v, _ := strconv.ParseUint(n.raft.Stats()["commit_index"], 10, 64)
	return v
}

// Stats returns hashicorp/raft's statistics.
func (n *Node) Stats() map[string]string { return n.raft.Stats() }

// Shutdown stops Raft and closes the transport and the store. It is safe to
// call more than once.
func (n *Node) Shutdown() error {
	n.shutdownOnce.Do(func() {
		var errs []error
		if err := n.raft.Shutdown().Error(); err != nil {
			errs = append(errs, fmt.Errorf("shutdown raft: %w", err))
		}
		close(n.stop)
		<-n.done
		// Close pooled outbound connections too (Close alone leaves them, and
		// with them the peers' connection handlers, open).
		n.trans.CloseStreams()
		if err := n.trans.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close transport: %w", err))
		}
		if err := n.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close store: %w", err))
		}
		n.shutdownErr = errors.Join(errs...)
		n.logger.Info("raft shut down")
	})
	return n.shutdownErr
}

// PeersFile is the name, inside the data dir, of the manual recovery file:
// when it exists at start, Open replaces the Raft configuration with the
// servers it lists (hashicorp/raft's peers.json, format version 3: a JSON
// array of {"id", "address", "non_voter"}) and renames it to
// peers.json.applied. It is how an operator recovers after losing a majority.
const PeersFile = "peers.json"

func recoverFromPeersJSON(dataDir string, rc *hraft.Config, fsm hraft.FSM, logs hraft.LogStore, stable hraft.StableStore,
	snaps hraft.SnapshotStore, trans hraft.Transport, logger *slog.Logger) error {
	path := filepath.Join(dataDir, PeersFile)
	if _, err := os.Stat(path); err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return fmt.Errorf("recover: %w", err)
	}
	conf, err := hraft.ReadConfigJSON(path)
	if err != nil {
		return fmt.Errorf("recover: read %s: %w", path, err)
	}
	if err := hraft.RecoverCluster(rc, fsm, logs, stable, snaps, trans, conf); err != nil {
		return fmt.Errorf("recover from %s: %w", path, err)
	}
	if err := os.Rename(path, path+".applied"); err != nil {
		return fmt.Errorf("recover: %s applied but not renamed (remove it before the next start): %w", path, err)
	}
	ids := make([]string, 0, len(conf.Servers))
	for _, srv := range conf.Servers {
		ids = append(ids, string(srv.ID)+"="+string(srv.Address))
	}
	logger.Warn("recovered the Raft configuration from "+PeersFile, "servers", ids)
	return nil
}
