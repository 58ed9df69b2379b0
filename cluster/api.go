package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/raft"
	"github.com/raftcron/raftcron/scheduler"
)

// api implements the public RaftCron service. Leader-only calls reach it on
// the leader (forwardUnary passes them on); reads are served from the local
// replica.
type api struct {
	pb.UnimplementedRaftCronServer
	s *Server
}

func (a *api) Apply(ctx context.Context, req *pb.ApplyRequest) (*pb.ApplyResponse, error) {
	if len(req.GetResources()) == 0 {
		return nil, fmt.Errorf("apply: no resources given: %w", pb.ErrInvalid)
	}
	res := make([]*pb.Resource, len(req.GetResources()))
	for i, r := range req.GetResources() {
		res[i] = proto.Clone(r).(*pb.Resource)
	}
	if err := scheduler.PrepareResources(res); err != nil {
		return nil, err
	}
	st := a.s.node.State()
	if err := scheduler.CheckLimits(res, a.s.cfg.Limits, st); err != nil {
		return nil, err
	}
	cmd := &pb.ApplyResources{Now: timestamppb.New(a.s.cfg.Clock.Now())}
	var results []*pb.ApplyResult
	for _, r := range res {
		switch {
		case r.GetCronJob() != nil:
			c := r.GetCronJob()
			c.Status = nil
			old := st.CronJob(c.GetMetadata().GetNamespace(), c.GetMetadata().GetName())
			if old == nil {
				c.Metadata.Uid = newUID()
			}
			cmd.CronJobs = append(cmd.CronJobs, c)
			results = append(results, &pb.ApplyResult{Kind: pb.KindCronJob, Namespace: c.Metadata.Namespace, Name: c.Metadata.Name,
				Action: applyAction(old.GetMetadata(), old.GetSpec(), c.Metadata, c.Spec, old == nil)})
		case r.GetJob() != nil:
			j := r.GetJob()
			j.Status = nil
			old := st.Job(j.GetMetadata().GetNamespace(), j.GetMetadata().GetName())
			if old == nil {
				j.Metadata.Uid = newUID()
			} else if !proto.Equal(old.GetSpec().GetTemplate(), j.GetSpec().GetTemplate()) {
				return nil, fmt.Errorf("Job %q is invalid: spec.template: field is immutable; delete the Job and apply it again: %w",
					j.Metadata.Name, pb.ErrInvalid)
			}
			cmd.Jobs = append(cmd.Jobs, j)
			results = append(results, &pb.ApplyResult{Kind: pb.KindJob, Namespace: j.Metadata.Namespace, Name: j.Metadata.Name,
				Action: applyAction(old.GetMetadata(), old.GetSpec(), j.Metadata, j.Spec, old == nil)})
		case r.GetSecret() != nil:
			sec := r.GetSecret()
			old := st.Secret(sec.GetMetadata().GetNamespace(), sec.GetMetadata().GetName())
			if old == nil {
				sec.Metadata.Uid = newUID()
			}
			cmd.Secrets = append(cmd.Secrets, sec)
			results = append(results, &pb.ApplyResult{Kind: pb.KindSecret, Namespace: sec.Metadata.Namespace, Name: sec.Metadata.Name,
				Action: a.secretAction(sec, old == nil)})
		default:
			return nil, fmt.Errorf("apply: a resource carries neither a CronJob, a Job nor a Secret: %w", pb.ErrInvalid)
		}
	}
	if err := checkSecretRefs(st, res); err != nil {
		return nil, err
	}
	if err := st.CheckDependsOn(cmd.CronJobs); err != nil {
		return nil, fmt.Errorf("%w: %w", err, pb.ErrInvalid)
	}
	if req.GetDryRun() {
		return &pb.ApplyResponse{Results: results}, nil
	}
	out, err := a.s.propose(ctx, &pb.Command{Op: &pb.Command_ApplyResources{ApplyResources: cmd}})
	if err != nil {
		return nil, err
	}
	if err := out[0].Err(); err != nil {
		return nil, err
	}
	for i, act := range out[0].GetActions() {
		if i < len(results) {
			results[i].Action = act
		}
	}
	return &pb.ApplyResponse{Results: results}, nil
}

// applyAction predicts what the FSM will do with an object, for dry runs.
func applyAction(oldMeta *pb.ObjectMeta, oldSpec proto.Message, meta *pb.ObjectMeta, spec proto.Message, absent bool) string {
	if absent {
		return "created"
	}
	if sameSpec, sameMeta := raft.Compare(oldMeta, oldSpec, meta, spec); sameSpec && sameMeta {
		return "unchanged"
	}
	return "configured"
}

// secretAction predicts what the FSM will do with a Secret, for dry runs.
func (a *api) secretAction(sec *pb.Secret, absent bool) string {
	if absent {
		return "created"
	}
	var same bool
	a.s.node.State().WithSecret(sec.GetMetadata().GetNamespace(), sec.GetMetadata().GetName(), func(old *pb.Secret) {
		sameData, sameMeta := raft.CompareSecret(old, sec)
		same = sameData && sameMeta
	})
	if same {
		return "unchanged"
	}
	return "configured"
}

// checkSecretRefs refuses Jobs and CronJobs whose env names a Secret (or a
// key of one) that neither exists nor is applied with them, unless the
// reference is optional.
func checkSecretRefs(st *raft.State, res []*pb.Resource) error {
	applied := map[string]*pb.Secret{}
	for _, r := range res {
		if sec := r.GetSecret(); sec != nil {
			applied[sec.GetMetadata().GetNamespace()+"/"+sec.GetMetadata().GetName()] = sec
		}
	}
	var errs []error
	check := func(kind string, md *pb.ObjectMeta, refs []scheduler.SecretRef) {
		ns := md.GetNamespace()
		for _, ref := range refs {
			if ref.Optional {
				continue
			}
			exists, hasKey := false, false
			if sec := applied[ns+"/"+ref.Name]; sec != nil {
				_, hasKey = sec.GetData()[ref.Key]
				exists = true
			} else {
				exists, hasKey = st.SecretExists(ns, ref.Name, ref.Key)
			}
			switch {
			case !exists:
				errs = append(errs, fmt.Errorf("%s %q is invalid: %s.name: Secret %q not found in namespace %q (apply it first, or set optional: true): %w",
					kind, md.GetName(), ref.Field, ref.Name, ns, pb.ErrInvalid))
			case !hasKey:
				errs = append(errs, fmt.Errorf("%s %q is invalid: %s.key: Secret %q has no key %q: %w",
					kind, md.GetName(), ref.Field, ref.Name, ref.Key, pb.ErrInvalid))
			}
		}
	}
	for _, r := range res {
		switch {
		case r.GetCronJob() != nil:
			c := r.GetCronJob()
			check(pb.KindCronJob, c.GetMetadata(), scheduler.SecretRefs("spec.jobTemplate.spec", c.GetSpec().GetJobTemplate().GetSpec()))
		case r.GetJob() != nil:
			j := r.GetJob()
			check(pb.KindJob, j.GetMetadata(), scheduler.SecretRefs("spec", j.GetSpec()))
		}
	}
	return errors.Join(errs...)
}

func newUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func namespaceOr(ns string) string {
	if ns == "" {
		return pb.DefaultNamespace
	}
	return ns
}

func notFound(kind, ns, name string) error {
	return fmt.Errorf("%s %q not found in namespace %q: %w", kind, name, ns, pb.ErrNotFound)
}

func (a *api) Get(ctx context.Context, req *pb.GetRequest) (*pb.Resource, error) {
	ns := namespaceOr(req.GetNamespace())
	st := a.s.node.State()
	switch normalKind(req.GetKind()) {
	case pb.KindCronJob:
		if c := st.CronJob(ns, req.GetName()); c != nil {
			return &pb.Resource{Kind: &pb.Resource_CronJob{CronJob: c}}, nil
		}
		return nil, notFound("cronjob", ns, req.GetName())
	case pb.KindJob:
		if j := st.Job(ns, req.GetName()); j != nil {
			return &pb.Resource{Kind: &pb.Resource_Job{Job: j}}, nil
		}
		return nil, notFound("job", ns, req.GetName())
	case pb.KindSecret:
		if sec := st.Secret(ns, req.GetName()); sec != nil {
			return &pb.Resource{Kind: &pb.Resource_Secret{Secret: sec}}, nil
		}
		return nil, notFound("secret", ns, req.GetName())
	}
	return nil, badKind(req.GetKind())
}

func (a *api) List(ctx context.Context, req *pb.ListRequest) (*pb.ListResponse, error) {
	ns := namespaceOr(req.GetNamespace())
	if req.GetAllNamespaces() {
		ns = ""
	}
	st := a.s.node.State()
	var items []*pb.Resource
	switch normalKind(req.GetKind()) {
	case pb.KindCronJob:
		// One page read in order from the State's index: a list of many
		// pages costs each page, not every CronJob, per call.
		out, next, err := metaPage(func(afterNS, afterName string, max int) []*pb.Resource {
			cjs := st.CronJobsAfter(ns, afterNS, afterName, max)
			res := make([]*pb.Resource, len(cjs))
			for i, c := range cjs {
				res[i] = &pb.Resource{Kind: &pb.Resource_CronJob{CronJob: c}}
			}
			return res
		}, resourceKey, req.GetLimit(), req.GetContinue())
		if err != nil {
			return nil, err
		}
		return &pb.ListResponse{Items: out, Continue: next}, nil
	case pb.KindJob:
		var jobs []*pb.Job
		switch cron := req.GetCronJob(); {
		case cron != "" && ns != "":
			// The CronJob's own Jobs from the index, not a scan of every Job.
			jobs = st.JobsOfCronJob(ns, cron)
			slices.SortFunc(jobs, func(a, b *pb.Job) int { return strings.Compare(a.GetMetadata().GetName(), b.GetMetadata().GetName()) })
		case cron == "":
			out, next, err := metaPage(func(afterNS, afterName string, max int) []*pb.Resource {
				js := st.JobsAfter(ns, afterNS, afterName, max)
				res := make([]*pb.Resource, len(js))
				for i, j := range js {
					res[i] = &pb.Resource{Kind: &pb.Resource_Job{Job: j}}
				}
				return res
			}, resourceKey, req.GetLimit(), req.GetContinue())
			if err != nil {
				return nil, err
			}
			return &pb.ListResponse{Items: out, Continue: next}, nil
		default:
			jobs = st.ListJobs(ns)
		}
		for _, j := range jobs {
			if req.GetCronJob() != "" && j.GetStatus().GetCronJob() != req.GetCronJob() {
				continue
			}
			items = append(items, &pb.Resource{Kind: &pb.Resource_Job{Job: j}})
		}
	case pb.KindSecret:
		for _, sec := range st.ListSecrets(ns) {
			items = append(items, &pb.Resource{Kind: &pb.Resource_Secret{Secret: sec}})
		}
	default:
		return nil, badKind(req.GetKind())
	}
	out, next, err := page(items, resourceKey, req.GetLimit(), req.GetContinue())
	if err != nil {
		return nil, err
	}
	return &pb.ListResponse{Items: out, Continue: next}, nil
}

// resourceKey is a listed resource's sort key for paging.
func resourceKey(r *pb.Resource) string {
	switch k := r.GetKind().(type) {
	case *pb.Resource_CronJob:
		return metaKey(k.CronJob.GetMetadata())
	case *pb.Resource_Job:
		return metaKey(k.Job.GetMetadata())
	case *pb.Resource_Secret:
		return metaKey(k.Secret.GetMetadata())
	}
	return ""
}

func (a *api) Delete(ctx context.Context, req *pb.DeleteRequest) (*pb.DeleteResponse, error) {
	kind := normalKind(req.GetKind())
	if kind == "" {
		return nil, badKind(req.GetKind())
	}
	out, err := a.s.propose(ctx, &pb.Command{Op: &pb.Command_DeleteResource{DeleteResource: &pb.DeleteResource{
		Kind: kind, Namespace: namespaceOr(req.GetNamespace()), Name: req.GetName()}}})
	if err != nil {
		return nil, err
	}
	return &pb.DeleteResponse{}, out[0].Err()
}

func (a *api) SetSuspend(ctx context.Context, req *pb.SetSuspendRequest) (*pb.SetSuspendResponse, error) {
	kind := normalKind(req.GetKind())
	if kind == "" {
		return nil, badKind(req.GetKind())
	}
	out, err := a.s.propose(ctx, &pb.Command{Op: &pb.Command_SetSuspend{SetSuspend: &pb.SetSuspend{
		Kind: kind, Namespace: namespaceOr(req.GetNamespace()), Name: req.GetName(), Suspend: req.GetSuspend(),
		Now: timestamppb.New(a.s.cfg.Clock.Now())}}})
	if err != nil {
		return nil, err
	}
	return &pb.SetSuspendResponse{}, out[0].Err()
}

func (a *api) Trigger(ctx context.Context, req *pb.TriggerRequest) (*pb.Job, error) {
	return a.s.leader.trigger(ctx, namespaceOr(req.GetNamespace()), req.GetCronJob(), req.GetJobName(), req.GetWithUpstreams())
}

func (a *api) ListAttempts(ctx context.Context, req *pb.ListAttemptsRequest) (*pb.ListAttemptsResponse, error) {
	ns := namespaceOr(req.GetNamespace())
	st := a.s.node.State()
	var list []*pb.Attempt
	var next string
	var err error
	switch {
	case req.GetAllNamespaces() && req.GetJob() != "":
		return nil, fmt.Errorf("list attempts: job %q names a Job of one namespace; drop all_namespaces: %w", req.GetJob(), pb.ErrInvalid)
	case req.GetJob() != "":
		if st.Job(ns, req.GetJob()) == nil {
			return nil, notFound("job", ns, req.GetJob())
		}
		list, next, err = page(st.Attempts(ns, req.GetJob()), attemptSortKey, req.GetLimit(), req.GetContinue())
	default:
		if req.GetAllNamespaces() {
			ns = ""
		}
		list, next, err = attemptsPage(st, ns, req.GetLimit(), req.GetContinue())
	}
	if err != nil {
		return nil, err
	}
	pending := a.s.leader.pendingReasons()
	out := &pb.ListAttemptsResponse{Attempts: make([]*pb.Attempt, 0, len(list)), Continue: next}
	for _, at := range list {
		if why, ok := pending[scheduler.PendingKey(at.GetNamespace(), at.GetName())]; ok && at.GetState() == pb.AttemptPending && at.GetMessage() == "" {
			at = proto.Clone(at).(*pb.Attempt)
			at.Message = why
		}
		out.Attempts = append(out.Attempts, at)
	}
	return out, nil
}

func (a *api) ListWorkers(ctx context.Context, req *pb.ListWorkersRequest) (*pb.ListWorkersResponse, error) {
	switch req.GetState() {
	case "", pb.WorkerReady, pb.WorkerDraining, pb.WorkerLost:
	default:
		return nil, fmt.Errorf("state %q: want %s, %s or %s: %w", req.GetState(), pb.WorkerReady, pb.WorkerDraining, pb.WorkerLost, pb.ErrInvalid)
	}
	return &pb.ListWorkersResponse{Workers: a.s.sessions.List(req.GetState())}, nil
}

func (a *api) DeleteWorker(ctx context.Context, req *pb.DeleteWorkerRequest) (*pb.DeleteWorkerResponse, error) {
	if req.GetId() == "" {
		return nil, fmt.Errorf("delete worker: id is required: %w", pb.ErrInvalid)
	}
	if err := a.s.sessions.forgetLost(req.GetId()); err != nil {
		return nil, err
	}
	return &pb.DeleteWorkerResponse{}, nil
}

// Logs streams an attempt's output from its worker, through the worker's own
// session; when the worker is gone it falls back to the tail stored with the attempt.
func (a *api) Logs(req *pb.LogsRequest, stream pb.RaftCron_LogsServer) error {
	ctx := stream.Context()
	if !a.s.node.IsLeader() {
		conn, err := a.s.leaderConn(ctx)
		if err != nil {
			return err
		}
		ctx = a.s.forwardContext(ctx)
		up, err := pb.NewRaftCronClient(conn).Logs(ctx, req)
		if err != nil {
			return err
		}
		// The leader's headers say the stream was accepted (see below).
		if md, err := up.Header(); err == nil && md != nil {
			if err := stream.SendHeader(md); err != nil {
				return err
			}
		}
		return relay(up.Recv, stream.Send)
	}
	ns := namespaceOr(req.GetNamespace())
	st := a.s.node.State()
	if st.Job(ns, req.GetJob()) == nil {
		return notFound("job", ns, req.GetJob())
	}
	var at *pb.Attempt
	for _, c := range st.Attempts(ns, req.GetJob()) {
		if c.GetIndex() != req.GetIndex() {
			continue
		}
		if req.GetAttempt() == 0 || c.GetNumber() == req.GetAttempt() {
			if at == nil || c.GetNumber() > at.GetNumber() {
				at = c
			}
		}
	}
	if at == nil {
		return status.Errorf(codes.NotFound, "job %q has no attempt %d of index %d yet", req.GetJob(), req.GetAttempt(), req.GetIndex())
	}
	// Headers now tell a client that the attempt exists, before any output
	// (a followed attempt may print nothing for a long time).
	if err := stream.SendHeader(metadata.MD{}); err != nil {
		return err
	}
	send := func(b []byte, marks []*pb.LineMark) error {
		return stream.Send(&pb.LogChunk{Data: b, Attempt: at.GetName(), Marks: marks})
	}
	if at.GetWorker() != "" && at.GetState() != pb.AttemptPending {
		err := a.s.sessions.StreamLogs(ctx, at, req.GetFollow(), send)
		if err == nil {
			return nil
		}
		a.s.log.Debug("logs from worker failed; using the stored tail", "attempt", at.GetName(), "err", err)
		// The worker may have finished it meanwhile: re-read the stored tail.
		if cur := st.Attempt(ns, at.GetName()); cur != nil {
			at = cur
		}
	}
	if at.GetOutputTail() == "" {
		if at.GetState() == pb.AttemptPending {
			return status.Errorf(codes.FailedPrecondition, "attempt %s has not started yet", at.GetName())
		}
		return nil
	}
	return stream.Send(&pb.LogChunk{Data: []byte(at.GetOutputTail()), Attempt: at.GetName(), FromTail: true})
}

func (a *api) Members(ctx context.Context, req *pb.MembersRequest) (*pb.MembersResponse, error) {
	members, err := a.s.node.Members()
	if err != nil {
		return nil, err
	}
	st := a.s.node.State()
	out := &pb.MembersResponse{}
	var wg sync.WaitGroup
	for _, m := range members {
		self := m.ID == a.s.cfg.NodeID
		if req.GetLocal() && !self {
			continue
		}
		pm := &pb.Member{Id: m.ID, RaftAddress: m.Address, Voter: m.Voter, Leader: m.Leader}
		out.Members = append(out.Members, pm)
		if rs := st.Server(m.ID); rs != nil {
			pm.GrpcAddress = rs.GetGrpcAddress()
		}
		switch {
		case self:
			pm.GrpcAddress = a.s.cfg.GRPCAdvertise
			pm.Status = pb.MemberAlive
			if !m.Leader {
				if lc := a.s.node.LastContact(); !lc.IsZero() {
					pm.LastContact = timestamppb.New(lc)
				}
			}
		case pm.GrpcAddress == "":
			pm.Status, pm.Health = pb.MemberUnknown, "no gRPC address recorded for it"
		default:
			wg.Add(1)
			go func() {
				defer wg.Done()
				a.probeMember(ctx, pm)
			}()
		}
	}
	wg.Wait()
	sort.Slice(out.Members, func(i, j int) bool { return out.Members[i].Id < out.Members[j].Id })
	return out, nil
}

// memberProbeTimeout bounds how long Members waits for each other server.
const memberProbeTimeout = 500 * time.Millisecond

// probeMember asks another server for its own view (MembersRequest.local):
// an answer makes it alive and tells when it last heard from the leader; no
// answer within memberProbeTimeout makes it unreachable, with the leader's
// last contact with it when this server leads.
func (a *api) probeMember(ctx context.Context, pm *pb.Member) {
	resp, err := func() (*pb.MembersResponse, error) {
		conn, err := a.s.peer(pm.GetGrpcAddress())
		if err != nil {
			return nil, err
		}
		// With the caller's token, which the other server checks again (as
		// a forwarded call): with ACLs on it answers nothing without one.
		ctx, cancel := context.WithTimeout(a.s.forwardContext(ctx), memberProbeTimeout)
		defer cancel()
		return pb.NewRaftCronClient(conn).Members(ctx, &pb.MembersRequest{Local: true})
	}()
	if err != nil {
		pm.Status = pb.MemberUnreachable
		pm.Health = fmt.Sprintf("no answer from %s within %v: %s", pm.GetGrpcAddress(), memberProbeTimeout, status.Convert(err).Message())
		if last, failing := a.s.node.PeerContact(pm.GetId()); failing && !last.IsZero() {
			pm.LastContact = timestamppb.New(last)
		}
		return
	}
	pm.Status = pb.MemberAlive
	for _, m := range resp.GetMembers() {
		if m.GetId() == pm.GetId() && !pm.GetLeader() {
			pm.LastContact = m.GetLastContact()
		}
	}
}

func (a *api) Join(ctx context.Context, req *pb.JoinRequest) (*pb.JoinResponse, error) {
	if req.GetNodeId() == "" || req.GetRaftAddress() == "" {
		return nil, fmt.Errorf("join: node_id and raft_address are required: %w", pb.ErrInvalid)
	}
	if err := a.s.node.Join(req.GetNodeId(), req.GetRaftAddress()); err != nil {
		return nil, fmt.Errorf("join %s at %s: %w", req.GetNodeId(), req.GetRaftAddress(), err)
	}
	if _, err := a.s.propose(ctx, &pb.Command{Op: &pb.Command_RegisterServer{RegisterServer: &pb.RegisterServer{
		NodeId: req.GetNodeId(), RaftAddress: req.GetRaftAddress(), GrpcAddress: req.GetGrpcAddress()}}}); err != nil {
		return nil, err
	}
	a.s.log.Info("server joined", "id", req.GetNodeId(), "raft", req.GetRaftAddress(), "grpc", req.GetGrpcAddress())
	return &pb.JoinResponse{}, nil
}

func (a *api) RemovePeer(ctx context.Context, req *pb.RemovePeerRequest) (*pb.RemovePeerResponse, error) {
	if req.GetNodeId() == "" {
		return nil, fmt.Errorf("remove-peer: a node id is required: %w", pb.ErrInvalid)
	}
	members, err := a.s.node.Members()
	if err != nil {
		return nil, err
	}
	found := false
	for _, m := range members {
		found = found || m.ID == req.GetNodeId()
	}
	if !found {
		return nil, fmt.Errorf("server %q is not a member of the cluster: %w", req.GetNodeId(), pb.ErrNotFound)
	}
	if err := a.s.node.Remove(req.GetNodeId()); err != nil {
		return nil, fmt.Errorf("remove %s: %w", req.GetNodeId(), err)
	}
	a.s.log.Info("server removed", "id", req.GetNodeId())
	return &pb.RemovePeerResponse{}, nil
}

func (a *api) GetClusterSettings(ctx context.Context, req *pb.GetClusterSettingsRequest) (*pb.ClusterSettings, error) {
	return a.s.sessions.clusterSettings(), nil
}

func (a *api) UpdateClusterSettings(ctx context.Context, req *pb.UpdateClusterSettingsRequest) (*pb.ClusterSettings, error) {
	return a.s.updateSettings(ctx, req.GetSettings())
}

// relay copies a server stream from the leader to the caller, for calls a
// follower passes on.
func relay[T any](recv func() (T, error), send func(T) error) error {
	for {
		m, err := recv()
		if errors.Is(err, io.EOF) || status.Code(err) == codes.Canceled {
			return nil
		}
		if err != nil {
			return err
		}
		if err := send(m); err != nil {
			return err
		}
	}
}

// normalKind accepts the kind names and the short forms kubectl users type.
func normalKind(k string) string {
	switch k {
	case "CronJob", "cronjob", "cronjobs", "cj":
		return pb.KindCronJob
	case "Job", "job", "jobs":
		return pb.KindJob
	case "Secret", "secret", "secrets":
		return pb.KindSecret
	}
	return ""
}

func badKind(k string) error {
	return fmt.Errorf("kind %q is not CronJob, Job or Secret: %w", k, pb.ErrInvalid)
}
