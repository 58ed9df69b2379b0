package raft

import (
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	hraft "github.com/hashicorp/raft"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// DecisionHistoryLimit bounds CronJob.status.decisions: only the most recent
// decisions are kept.
const DecisionHistoryLimit = 50

// BatchResult is what FSM.Apply returns for a Batch command: one result per
// member, in order. Any other command returns a *pb.CommandResult.
type BatchResult struct {
	Results []*pb.CommandResult
}

// FSM is the deterministic state machine hashicorp/raft drives. Apply never
// reads a clock, random numbers or any I/O: times and ids come from commands,
// resource versions and incarnations from the log index.
type FSM struct {
	logger *slog.Logger
	state  *State

	subMu   sync.Mutex
	subs    map[int]chan struct{}
	nextSub int

	// applied is the index of the last log entry Apply finished; unlike
	// hashicorp/raft's AppliedIndex (set when an entry is handed to the
	// FSM), the State shows its effects. restored is set by Restore (which
	// is not told the snapshot's index) until the next Apply.
	applied  atomic.Uint64
	restored atomic.Bool
}

var _ hraft.FSM = (*FSM)(nil)

// NewFSM returns an FSM over an empty State.
func NewFSM(logger *slog.Logger) *FSM {
	if logger == nil {
		logger = slog.Default()
	}
	return &FSM{
		logger: logger.With("component", "fsm"),
		state:  NewState(),
		subs:   map[int]chan struct{}{},
	}
}

// AppliedIndex is the index of the last log entry Apply finished, and
// whether a snapshot was restored since (its index is then not known here).
func (f *FSM) AppliedIndex() (index uint64, restored bool) {
	return f.applied.Load(), f.restored.Load()
}

// State returns the State the FSM applies to. It stays the same pointer for
// the FSM's life; Restore replaces its contents.
func (f *FSM) State() *State { return f.state }

// Subscribe returns a channel that receives a (coalescing) signal after every
// applied log entry and after every Restore, and a cancel func that
// unsubscribes. The channel has a buffer of one: a slow reader sees one signal
// for many changes and must re-read the state.
func (f *FSM) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	f.subMu.Lock()
	id := f.nextSub
	f.nextSub++
	f.subs[id] = ch
	f.subMu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			f.subMu.Lock()
			delete(f.subs, id)
			f.subMu.Unlock()
		})
	}
}

func (f *FSM) notify() {
	f.subMu.Lock()
	defer f.subMu.Unlock()
	for _, ch := range f.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// EncodeCommand marshals one command (deterministically) for the log.
func EncodeCommand(cmd *pb.Command) ([]byte, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(cmd)
	if err != nil {
		return nil, fmt.Errorf("encode command: %w", err)
	}
	return b, nil
}

// Apply applies one log entry. It panics on data it cannot decode or on a
// command with an empty or unknown op: a replica that silently diverges is
// worse than one that stops. It returns *pb.CommandResult, or *BatchResult
// for a Batch.
func (f *FSM) Apply(l *hraft.Log) any {
	var cmd pb.Command
	if err := proto.Unmarshal(l.Data, &cmd); err != nil {
		// Every replica refuses the same bytes the same way, so refusing
		// keeps them identical; stopping would let one bad entry (which
		// only a holder of a server certificate can write) stop the whole
		// cluster for good.
		f.logger.Error("refused a log entry that does not decode", "index", l.Index, "bytes", len(l.Data), "err", err)
		return fail(pb.CodeInvalid, "log entry %d does not decode as a command: %v", l.Index, err)
	}
	if err := checkOps(&cmd, 0); err != nil {
		panic(fmt.Sprintf("raft fsm: command at log index %d: %v", l.Index, err))
	}
	s := f.state
	s.mu.Lock()
	a := &applier{t: &s.t, index: l.Index, rv: strconv.FormatUint(l.Index, 10)}
	var res any
	if b, ok := cmd.Op.(*pb.Command_Batch); ok {
		br := &BatchResult{Results: make([]*pb.CommandResult, 0, len(b.Batch.GetCommands()))}
		for _, c := range b.Batch.GetCommands() {
			br.Results = append(br.Results, a.apply(c))
		}
		res = br
	} else {
		res = a.apply(&cmd)
	}
	s.t.flushActive()
	evs, reset := s.t.rec.take()
	s.watch.commit(l.Index, evs, reset)
	s.mu.Unlock()
	f.applied.Store(l.Index)
	f.restored.Store(false)
	f.notify()
	return res
}

// checkOps rejects, before anything is applied, a command (or batch member)
// whose op is empty or of a type this build does not know. Unknown oneof
// fields decode as unknown fields, leaving Op nil.
func checkOps(cmd *pb.Command, depth int) error {
	switch op := cmd.Op.(type) {
	case nil:
		return fmt.Errorf("empty or unknown command op")
	case *pb.Command_Batch:
		if depth > 0 {
			return nil // nested batches are answered Invalid when applied
		}
		for i, c := range op.Batch.GetCommands() {
			if c == nil {
				return fmt.Errorf("batch member %d is nil", i)
			}
			if err := checkOps(c, depth+1); err != nil {
				return fmt.Errorf("batch member %d: %w", i, err)
			}
		}
	case *pb.Command_ApplyResources, *pb.Command_DeleteResource, *pb.Command_SetSuspend,
		*pb.Command_CreateJobs, *pb.Command_UpdateCronJobStatus, *pb.Command_PutJobStatus,
		*pb.Command_CreateAttempts, *pb.Command_AssignAttempt, *pb.Command_ReportAttempt,
		*pb.Command_MarkAttemptLost, *pb.Command_RequestKill, *pb.Command_RegisterServer,
		*pb.Command_RestoreState, *pb.Command_SetClusterSettings,
		*pb.Command_AclBootstrap, *pb.Command_AclTokenUpsert, *pb.Command_AclTokenDelete,
		*pb.Command_PruneEvents:
	default:
		return fmt.Errorf("unknown command op %T", op)
	}
	return nil
}

// applier applies the commands of one log entry to tables under the write lock.
type applier struct {
	t     *tables
	index uint64
	rv    string // resource_version for every object changed by this entry
	seq   int    // objects given a uid by this entry so far
	eseq  int    // events recorded by this entry so far
}

// uid gives an object that arrived without one a deterministic uid unique
// in the cluster: derived from the log index and the object's position.
func (a *applier) uid() string {
	a.seq++
	return fmt.Sprintf("%08x-0000-0000-%04x-%012x", uint32(a.seq), (a.index>>48)&0xffff, a.index&0xffffffffffff)
}

func ok() *pb.CommandResult { return &pb.CommandResult{} }

func fail(code, format string, args ...any) *pb.CommandResult {
	return &pb.CommandResult{Code: code, Error: fmt.Sprintf(format, args...)}
}

func cloneTS(ts *timestamppb.Timestamp) *timestamppb.Timestamp {
	if ts == nil {
		return nil
	}
	return &timestamppb.Timestamp{Seconds: ts.GetSeconds(), Nanos: ts.GetNanos()}
}

func (a *applier) apply(cmd *pb.Command) *pb.CommandResult {
	switch op := cmd.Op.(type) {
	case *pb.Command_Batch:
		return fail(pb.CodeInvalid, "batch: a batch cannot contain another batch")
	case *pb.Command_ApplyResources:
		return a.applyResources(op.ApplyResources)
	case *pb.Command_DeleteResource:
		return a.deleteResource(op.DeleteResource)
	case *pb.Command_SetSuspend:
		return a.setSuspend(op.SetSuspend)
	case *pb.Command_CreateJobs:
		return a.createJobs(op.CreateJobs)
	case *pb.Command_UpdateCronJobStatus:
		return a.updateCronJobStatus(op.UpdateCronJobStatus)
	case *pb.Command_PutJobStatus:
		return a.putJobStatus(op.PutJobStatus)
	case *pb.Command_CreateAttempts:
		return a.createAttempts(op.CreateAttempts)
	case *pb.Command_AssignAttempt:
		return a.assignAttempt(op.AssignAttempt)
	case *pb.Command_ReportAttempt:
		return a.reportAttempt(op.ReportAttempt)
	case *pb.Command_MarkAttemptLost:
		return a.markAttemptLost(op.MarkAttemptLost)
	case *pb.Command_RequestKill:
		return a.requestKill(op.RequestKill)
	case *pb.Command_RegisterServer:
		return a.registerServer(op.RegisterServer)
	case *pb.Command_RestoreState:
		return a.restoreState(op.RestoreState)
	case *pb.Command_SetClusterSettings:
		return a.setClusterSettings(op.SetClusterSettings)
	case *pb.Command_AclBootstrap:
		return a.aclBootstrap(op.AclBootstrap)
	case *pb.Command_AclTokenUpsert:
		return a.aclTokenUpsert(op.AclTokenUpsert)
	case *pb.Command_AclTokenDelete:
		return a.aclTokenDelete(op.AclTokenDelete)
	case *pb.Command_PruneEvents:
		return a.pruneEvents(op.PruneEvents)
	default:
		// checkOps ran first; reaching here is a programming error.
		panic(fmt.Sprintf("raft fsm: unknown command op %T", op))
	}
}

// ---------------------------------------------------------------- user writes

func (a *applier) applyResources(c *pb.ApplyResources) *pb.CommandResult {
	for i, cj := range c.GetCronJobs() {
		if cj.GetMetadata().GetName() == "" {
			return fail(pb.CodeInvalid, "applyResources.cronJobs[%d]: metadata.name is required", i)
		}
	}
	for i, j := range c.GetJobs() {
		if j.GetMetadata().GetName() == "" {
			return fail(pb.CodeInvalid, "applyResources.jobs[%d]: metadata.name is required", i)
		}
	}
	for i, sec := range c.GetSecrets() {
		if sec.GetMetadata().GetName() == "" {
			return fail(pb.CodeInvalid, "applyResources.secrets[%d]: metadata.name is required", i)
		}
		old := a.t.secrets[nsName{nsOrDefault(sec.GetMetadata().GetNamespace()), sec.GetMetadata().GetName()}]
		if sameData, _ := CompareSecret(old, sec); old.GetImmutable() && !sameData {
			return fail(pb.CodeInvalid, "Secret %q is immutable: its data and type cannot change; delete it and apply it again", sec.GetMetadata().GetName())
		}
	}
	if err := checkDependsOn(a.t.storedDeps, c.GetCronJobs()); err != nil {
		return fail(pb.CodeInvalid, "%v", err)
	}
	res := ok()
	for _, in := range c.GetCronJobs() {
		ns := nsOrDefault(in.GetMetadata().GetNamespace())
		k := nsName{ns, in.GetMetadata().GetName()}
		old := a.t.cronJobs[k]
		if old == nil {
			n := in // decoded from this entry: the FSM owns it
			n.ApiVersion, n.Kind = APIVersion, KindCronJob
			n.Status = nil
			md := n.Metadata
			md.Namespace = ns
			md.Generation = 1
			md.CreationTimestamp = cloneTS(c.GetNow())
			md.ResourceVersion = a.rv
			if md.Uid == "" {
				md.Uid = a.uid()
			}
			a.t.putCronJob(n)
			a.t.cronJobsVersion++
			res.Actions = append(res.Actions, "created")
			continue
		}
		// A user's apply: decoding the stored spec to compare it is fine here.
		sameSpec, sameMeta := Compare(old.meta, old.decodeSpec(), in.GetMetadata(), in.GetSpec())
		if sameSpec && sameMeta {
			res.Actions = append(res.Actions, "unchanged")
			continue
		}
		md := proto.Clone(old.meta).(*pb.ObjectMeta)
		md.Labels = maps.Clone(in.GetMetadata().GetLabels())
		md.Annotations = maps.Clone(in.GetMetadata().GetAnnotations())
		md.ResourceVersion = a.rv
		n := old.with(md, old.status) // an unchanged spec stays shared
		if !sameSpec {
			n = n.withSpec(in.GetSpec())
			md.Generation++
			a.t.cronJobsVersion++
		}
		a.t.putStoredCronJob(n)
		res.Actions = append(res.Actions, "configured")
	}
	for _, in := range c.GetJobs() {
		ns := nsOrDefault(in.GetMetadata().GetNamespace())
		k := nsName{ns, in.GetMetadata().GetName()}
		old := a.t.jobs[k]
		if old == nil {
			n := in // decoded from this entry: the FSM owns it
			n.ApiVersion, n.Kind = APIVersion, KindJob
			n.Status = nil
			md := n.Metadata
			md.Namespace = ns
			md.Generation = 1
			md.CreationTimestamp = cloneTS(c.GetNow())
			md.ResourceVersion = a.rv
			if md.Uid == "" {
				md.Uid = a.uid()
			}
			a.t.putJob(n)
			a.jobCreated(n, c.GetNow())
			res.Actions = append(res.Actions, "created")
			continue
		}
		sameSpec, sameMeta := Compare(old.GetMetadata(), old.GetSpec(), in.GetMetadata(), in.GetSpec())
		if sameSpec && sameMeta {
			res.Actions = append(res.Actions, "unchanged")
			continue
		}
		n := proto.Clone(old).(*pb.Job)
		n.Metadata.Labels = maps.Clone(in.GetMetadata().GetLabels())
		n.Metadata.Annotations = maps.Clone(in.GetMetadata().GetAnnotations())
		n.Metadata.ResourceVersion = a.rv
		if !sameSpec {
			n.Spec = proto.Clone(in.GetSpec()).(*pb.JobSpec)
			n.Metadata.Generation++
		}
		a.t.putJob(n)
		res.Actions = append(res.Actions, "configured")
	}
	a.applySecrets(c.GetSecrets(), res, c)
	return res
}

func (a *applier) deleteResource(c *pb.DeleteResource) *pb.CommandResult {
	if c.GetName() == "" {
		return fail(pb.CodeInvalid, "deleteResource.name is required")
	}
	ns := nsOrDefault(c.GetNamespace())
	k := nsName{ns, c.GetName()}
	switch c.GetKind() {
	case KindCronJob:
		if a.t.cronJobs[k] == nil {
			return fail(pb.CodeNotFound, "cronjob %s/%s not found", ns, c.GetName())
		}
		if down := a.t.downstreamsOf(k); len(down) > 0 {
			return fail(pb.CodeInvalid, "cronjob %s/%s is an upstream of %s (spec.dependsOn); delete those first or remove it from their dependsOn",
				ns, c.GetName(), strings.Join(down, ", "))
		}
		a.t.deleteCronJob(k)
		a.t.cronJobsVersion++
	case KindJob:
		if a.t.jobs[k] == nil {
			return fail(pb.CodeNotFound, "job %s/%s not found", ns, c.GetName())
		}
		a.t.deleteJob(k)
	case pb.KindSecret:
		if a.t.secrets[k] == nil {
			return fail(pb.CodeNotFound, "secret %s/%s not found", ns, c.GetName())
		}
		delete(a.t.secrets, k)
	default:
		return fail(pb.CodeInvalid, "deleteResource.kind: %q is not CronJob, Job or Secret", c.GetKind())
	}
	return ok()
}

func (a *applier) setSuspend(c *pb.SetSuspend) *pb.CommandResult {
	if c.GetName() == "" {
		return fail(pb.CodeInvalid, "setSuspend.name is required")
	}
	ns := nsOrDefault(c.GetNamespace())
	k := nsName{ns, c.GetName()}
	switch c.GetKind() {
	case KindCronJob:
		old := a.t.cronJobs[k]
		if old == nil {
			return fail(pb.CodeNotFound, "cronjob %s/%s not found", ns, c.GetName())
		}
		if old.suspend == c.GetSuspend() {
			return ok()
		}
		spec := old.specCopy() // changed below: not the shared decoded spec
		if spec == nil {
			spec = &pb.CronJobSpec{}
		}
		spec.Suspend = proto.Bool(c.GetSuspend())
		md := proto.Clone(old.meta).(*pb.ObjectMeta)
		md.Generation++
		md.ResourceVersion = a.rv
		a.t.putStoredCronJob(old.with(md, old.status).withSpec(spec))
		a.t.cronJobsVersion++
		a.suspendEvent(c, KindCronJob, c.GetName())
	case KindJob:
		old := a.t.jobs[k]
		if old == nil {
			return fail(pb.CodeNotFound, "job %s/%s not found", ns, c.GetName())
		}
		if old.GetSpec().GetSuspend() == c.GetSuspend() {
			return ok()
		}
		n := proto.Clone(old).(*pb.Job)
		if n.Spec == nil {
			n.Spec = &pb.JobSpec{}
		}
		n.Spec.Suspend = proto.Bool(c.GetSuspend())
		n.Metadata.Generation++
		n.Metadata.ResourceVersion = a.rv
		a.t.putJob(n)
		a.suspendEvent(c, KindJob, n.GetStatus().GetCronJob())
	default:
		return fail(pb.CodeInvalid, "setSuspend.kind: %q is not CronJob or Job", c.GetKind())
	}
	return ok()
}

// ---------------------------------------------------------------- scheduler writes

func (a *applier) createJobs(c *pb.CreateJobs) *pb.CommandResult {
	for i, j := range c.GetJobs() {
		if j.GetMetadata().GetName() == "" {
			return fail(pb.CodeInvalid, "createJobs.jobs[%d]: metadata.name is required", i)
		}
		ns := nsOrDefault(j.GetMetadata().GetNamespace())
		if a.t.jobs[nsName{ns, j.GetMetadata().GetName()}] != nil {
			continue
		}
		if cron := j.GetStatus().GetCronJob(); cron != "" && a.t.cronJobs[nsName{ns, cron}] == nil {
			return fail(pb.CodeNotFound, "createJobs.jobs[%d] (job %s/%s): cronjob %s/%s not found",
				i, ns, j.GetMetadata().GetName(), ns, cron)
		}
	}
	res := ok()
	for _, in := range c.GetJobs() {
		ns := nsOrDefault(in.GetMetadata().GetNamespace())
		if a.t.jobs[nsName{ns, in.GetMetadata().GetName()}] != nil {
			continue // idempotent: two leaders computing one tick make one Job
		}
		n := in // decoded from this entry: the FSM owns it
		n.ApiVersion, n.Kind = APIVersion, KindJob
		md := n.Metadata
		md.Namespace = ns
		md.Generation = 1
		md.ResourceVersion = a.rv
		if md.Uid == "" {
			md.Uid = a.uid()
		}
		a.t.putJob(n)
		a.jobCreated(n, md.GetCreationTimestamp())
		res.Created = append(res.Created, md.Name)
	}
	return res
}

func laterOf(cur, next *timestamppb.Timestamp) *timestamppb.Timestamp {
	if next == nil {
		return cur
	}
	if cur == nil || compareTime(next, cur) > 0 {
		return cloneTS(next)
	}
	return cur
}

func (a *applier) updateCronJobStatus(c *pb.UpdateCronJobStatus) *pb.CommandResult {
	if c.GetName() == "" {
		return fail(pb.CodeInvalid, "updateCronJobStatus.name is required")
	}
	ns := nsOrDefault(c.GetNamespace())
	k := nsName{ns, c.GetName()}
	old := a.t.cronJobs[k]
	if old == nil {
		return fail(pb.CodeNotFound, "cronjob %s/%s not found", ns, c.GetName())
	}
	// A new CronJob sharing the old one's encoded spec (neither decoded nor
	// encoded here): only metadata and status change. Only
	// resource_version changes in the metadata, and the status gets a new
	// decisions slice (the stored decisions themselves are shared).
	md := copyMeta(old.meta)
	st := &pb.CronJobStatus{}
	if old.status != nil {
		st = copyCronJobStatus(old.status)
		st.Decisions = slices.Clone(old.status.Decisions)
	}
	res := ok()
	for _, d := range c.GetDecisions() {
		// Decoded from this entry: the FSM owns it.
		a.checkTickJob(ns, c.GetName(), d)
		st.Decisions = append(st.Decisions, d)
		res.Decisions = append(res.Decisions, d)
		a.skipEvent(ns, c.GetName(), d)
	}
	if extra := len(st.Decisions) - DecisionHistoryLimit; extra > 0 {
		st.Decisions = append([]*pb.ScheduleDecision(nil), st.Decisions[extra:]...)
	}
	if c.GetRewindLastScheduleTime() && c.GetLastScheduleTime() != nil {
		st.LastScheduleTime = cloneTS(c.GetLastScheduleTime())
	} else {
		st.LastScheduleTime = laterOf(st.LastScheduleTime, c.GetLastScheduleTime())
	}
	st.LastSuccessfulTime = laterOf(st.LastSuccessfulTime, c.GetLastSuccessfulTime())
	if c.GetSetWaiting() {
		st.Waiting = c.GetWaiting() // decoded from this entry: the FSM owns it
	}
	md.ResourceVersion = a.rv
	a.t.putStoredCronJob(old.with(md, st))
	return res
}

// checkTickJob turns an invoke decision into a skip JobNameTaken when the
// Job of that name is not the one the CronJob made for the tick: CreateJobs
// leaves an existing Job alone (two leaders computing one tick make one
// Job), so a name held by another object would otherwise swallow the tick.
func (a *applier) checkTickJob(ns, cronJob string, d *pb.ScheduleDecision) {
	if d.GetDecision() != pb.DecisionInvoke || d.GetJob() == "" {
		return
	}
	j := a.t.jobs[nsName{ns, d.GetJob()}]
	if j == nil || j.MadeFor(cronJob, d.GetScheduledTime()) {
		return
	}
	owner := "applied directly"
	if o := j.GetStatus().GetCronJob(); o != "" {
		owner = fmt.Sprintf("made by cronjob %s for %s", o, j.GetStatus().GetScheduledTime().AsTime().UTC().Format(time.RFC3339))
	}
	d.Decision = pb.DecisionSkip
	d.Reason = pb.SkipJobNameTaken
	d.Message = fmt.Sprintf("job %s already exists (%s); this tick did not run", d.GetJob(), owner)
}

func (a *applier) putJobStatus(c *pb.PutJobStatus) *pb.CommandResult {
	if c.GetName() == "" {
		return fail(pb.CodeInvalid, "putJobStatus.name is required")
	}
	ns := nsOrDefault(c.GetNamespace())
	k := nsName{ns, c.GetName()}
	old := a.t.jobs[k]
	if old == nil {
		return fail(pb.CodeNotFound, "job %s/%s not found", ns, c.GetName())
	}
	// A new Job sharing the old one's spec: only metadata and status change.
	n := copyJob(old)
	n.Metadata = copyMeta(old.GetMetadata())
	st := &pb.JobStatus{}
	if c.GetStatus() != nil {
		st = c.GetStatus() // decoded from this entry: the FSM owns it
	}
	st.CronJob = old.GetStatus().GetCronJob()
	st.ScheduledTime = cloneTS(old.GetStatus().GetScheduledTime())
	st.Manual = old.GetStatus().GetManual()
	// Complete and Failed are final: a status computed from an older view (two
	// controllers writing one Job in one leader step) must not revive a Job.
	if old.Finished() && !(&pb.Job{Status: st}).Finished() {
		for _, cond := range old.GetStatus().GetConditions() {
			if (cond.GetType() == pb.ConditionComplete || cond.GetType() == pb.ConditionFailed) && cond.GetStatus() == pb.ConditionTrue {
				st.Conditions = append(st.Conditions, proto.Clone(cond).(*pb.JobCondition))
			}
		}
		if st.CompletionTime == nil {
			st.CompletionTime = cloneTS(old.GetStatus().GetCompletionTime())
		}
		st.Active = 0
	}
	n.Status = st
	n.Metadata.ResourceVersion = a.rv
	a.t.putJob(n)
	a.jobStatusChanged(old, n)
	return ok()
}

func (a *applier) createAttempts(c *pb.CreateAttempts) *pb.CommandResult {
	for i, at := range c.GetAttempts() {
		if at.GetName() == "" {
			return fail(pb.CodeInvalid, "createAttempts.attempts[%d]: name is required", i)
		}
		if at.GetJob() == "" {
			return fail(pb.CodeInvalid, "createAttempts.attempts[%d] (%s): job is required", i, at.GetName())
		}
		if st := at.GetState(); st != "" && st != pb.AttemptPending {
			return fail(pb.CodeInvalid, "createAttempts.attempts[%d] (%s): state %q, new attempts must be Pending", i, at.GetName(), st)
		}
		ns := nsOrDefault(at.GetNamespace())
		if a.t.attempts[nsName{ns, at.GetName()}] != nil {
			continue
		}
		if a.t.jobs[nsName{ns, at.GetJob()}] == nil {
			return fail(pb.CodeNotFound, "createAttempts.attempts[%d] (%s): job %s/%s not found", i, at.GetName(), ns, at.GetJob())
		}
	}
	res := ok()
	for _, in := range c.GetAttempts() {
		ns := nsOrDefault(in.GetNamespace())
		if a.t.attempts[nsName{ns, in.GetName()}] != nil {
			continue
		}
		n := in // decoded from this entry: the FSM owns it
		n.Namespace = ns
		n.State = pb.AttemptPending
		n.Worker = ""
		n.Incarnation = 0
		a.t.putAttempt(n)
		a.attemptCreated(n)
		res.Created = append(res.Created, n.Name)
	}
	return res
}

func (a *applier) assignAttempt(c *pb.AssignAttempt) *pb.CommandResult {
	if c.GetName() == "" {
		return fail(pb.CodeInvalid, "assignAttempt.name is required")
	}
	if c.GetWorker() == "" {
		return fail(pb.CodeInvalid, "assignAttempt.worker is required")
	}
	ns := nsOrDefault(c.GetNamespace())
	old := a.t.attempts[nsName{ns, c.GetName()}]
	if old == nil {
		return fail(pb.CodeNotFound, "attempt %s/%s not found", ns, c.GetName())
	}
	if old.GetState() != pb.AttemptPending {
		return fail(pb.CodeConflict, "attempt %s/%s is %s, not Pending", ns, c.GetName(), old.GetState())
	}
	n := proto.Clone(old).(*pb.Attempt)
	n.State = pb.AttemptAssigned
	n.Worker = c.GetWorker()
	n.AssignedTime = cloneTS(c.GetNow())
	n.Incarnation = a.index
	a.t.putAttempt(n)
	a.attemptEvent(n, c.GetNow(), pb.EventNormal, pb.EventAssigned, "Assigned attempt %s to worker %s", n.GetName(), n.GetWorker())
	return ok()
}

func stateRank(s string) int {
	switch s {
	case pb.AttemptAssigned:
		return 1
	case pb.AttemptRunning:
		return 2
	case pb.AttemptSucceeded, pb.AttemptFailed, pb.AttemptLost:
		return 3
	}
	return 0
}

func (a *applier) reportAttempt(c *pb.ReportAttempt) *pb.CommandResult {
	switch c.GetState() {
	case pb.AttemptRunning, pb.AttemptSucceeded, pb.AttemptFailed, pb.AttemptLost:
	default:
		return fail(pb.CodeInvalid, "reportAttempt.state: %q is not Running, Succeeded, Failed or Lost", c.GetState())
	}
	if c.GetName() == "" {
		return fail(pb.CodeInvalid, "reportAttempt.name is required")
	}
	ns := nsOrDefault(c.GetNamespace())
	old := a.t.attempts[nsName{ns, c.GetName()}]
	if old == nil {
		return fail(pb.CodeNotFound, "attempt %s/%s not found", ns, c.GetName())
	}
	id := ns + "/" + c.GetName()
	switch {
	case old.Finished():
		return fail(pb.CodeConflict, "attempt %s is already %s", id, old.GetState())
	case old.GetState() != pb.AttemptAssigned && old.GetState() != pb.AttemptRunning:
		return fail(pb.CodeConflict, "attempt %s is %s, not assigned to a worker", id, old.GetState())
	case old.GetWorker() != c.GetWorker():
		return fail(pb.CodeConflict, "attempt %s is on worker %q, report came from %q", id, old.GetWorker(), c.GetWorker())
	case old.GetIncarnation() != c.GetIncarnation():
		return fail(pb.CodeConflict, "attempt %s has incarnation %d, report carries %d", id, old.GetIncarnation(), c.GetIncarnation())
	case stateRank(c.GetState()) <= stateRank(old.GetState()):
		return fail(pb.CodeConflict, "attempt %s is %s; report of %s does not move it forward", id, old.GetState(), c.GetState())
	}
	n := proto.Clone(old).(*pb.Attempt)
	n.State = c.GetState()
	if c.GetContainerId() != "" {
		n.ContainerId = c.GetContainerId()
	}
	if c.GetStartTime() != nil {
		n.StartTime = cloneTS(c.GetStartTime())
	}
	if c.GetState() != pb.AttemptRunning {
		n.ExitCode = c.GetExitCode()
		n.Reason = c.GetReason()
		n.Message = c.GetMessage()
		n.FinishTime = cloneTS(c.GetFinishTime())
	} else if c.GetMessage() != "" {
		n.Message = c.GetMessage()
	}
	if c.GetOutputTail() != "" {
		n.OutputTail = c.GetOutputTail()
	}
	a.t.putAttempt(n)
	if n.GetState() == pb.AttemptRunning {
		a.attemptEvent(n, n.GetStartTime(), pb.EventNormal, pb.EventStarted, "Started attempt %s on worker %s", n.GetName(), n.GetWorker())
	} else {
		a.attemptFinished(n)
	}
	return ok()
}

func (a *applier) markAttemptLost(c *pb.MarkAttemptLost) *pb.CommandResult {
	if c.GetName() == "" {
		return fail(pb.CodeInvalid, "markAttemptLost.name is required")
	}
	ns := nsOrDefault(c.GetNamespace())
	old := a.t.attempts[nsName{ns, c.GetName()}]
	if old == nil {
		return fail(pb.CodeNotFound, "attempt %s/%s not found", ns, c.GetName())
	}
	if old.Finished() {
		return fail(pb.CodeConflict, "attempt %s/%s is already %s", ns, c.GetName(), old.GetState())
	}
	n := proto.Clone(old).(*pb.Attempt)
	n.State = pb.AttemptLost
	n.Reason = c.GetReason()
	if n.Reason == "" {
		n.Reason = pb.ReasonWorkerLost
	}
	n.Message = c.GetMessage()
	n.FinishTime = cloneTS(c.GetNow())
	a.t.putAttempt(n)
	a.attemptEvent(n, c.GetNow(), pb.EventWarning, pb.EventWorkerLost, "Attempt %s on worker %s was lost (%s)%s",
		n.GetName(), orDash(old.GetWorker()), n.GetReason(), colon(n.GetMessage()))
	return ok()
}

func (a *applier) requestKill(c *pb.RequestKill) *pb.CommandResult {
	if c.GetName() == "" {
		return fail(pb.CodeInvalid, "requestKill.name is required")
	}
	ns := nsOrDefault(c.GetNamespace())
	old := a.t.attempts[nsName{ns, c.GetName()}]
	if old == nil {
		return fail(pb.CodeNotFound, "attempt %s/%s not found", ns, c.GetName())
	}
	reason := c.GetReason()
	if reason == "" {
		reason = pb.ReasonKilled
	}
	switch old.GetState() {
	case pb.AttemptPending:
		n := proto.Clone(old).(*pb.Attempt)
		n.State = pb.AttemptFailed
		n.Reason = reason
		n.Message = c.GetMessage()
		n.FinishTime = cloneTS(c.GetNow())
		n.KillRequested = true
		n.KillReason = reason
		a.t.putAttempt(n)
		a.attemptEvent(n, c.GetNow(), pb.EventWarning, pb.EventKilled, "Attempt %s killed before it was assigned: %s%s", n.GetName(), reason, colon(c.GetMessage()))
	case pb.AttemptAssigned, pb.AttemptRunning:
		if old.GetKillRequested() && old.GetKillReason() == reason {
			return ok()
		}
		n := proto.Clone(old).(*pb.Attempt)
		n.KillRequested = true
		n.KillReason = reason
		a.t.putAttempt(n)
		a.attemptEvent(n, c.GetNow(), pb.EventWarning, pb.EventKilling, "Killing attempt %s on worker %s: %s%s", n.GetName(), n.GetWorker(), reason, colon(c.GetMessage()))
	}
	// Finished attempts: nothing to stop.
	return ok()
}

func (a *applier) registerServer(c *pb.RegisterServer) *pb.CommandResult {
	if c.GetNodeId() == "" {
		return fail(pb.CodeInvalid, "registerServer.nodeId is required")
	}
	if old := a.t.servers[c.GetNodeId()]; old != nil && proto.Equal(old, c) {
		return ok()
	}
	a.t.servers[c.GetNodeId()] = proto.Clone(c).(*pb.RegisterServer)
	return ok()
}

// Snapshot captures the current tables. Objects are immutable, so copying
// the pointers under the read lock is enough; Persist runs concurrently with
// later Applies.
func (f *FSM) Snapshot() (hraft.FSMSnapshot, error) {
	s := f.state
	s.mu.RLock()
	defer s.mu.RUnlock()
	snap := &fsmSnapshot{
		cronJobs: make([]*storedCronJob, 0, len(s.t.cronJobs)),
		jobs:     make([]*pb.Job, 0, len(s.t.jobs)),
		attempts: make([]*pb.Attempt, 0, len(s.t.attempts)),
		servers:  make([]*pb.RegisterServer, 0, len(s.t.servers)),
		settings: s.t.settings,
	}
	for _, cj := range s.t.cronJobs {
		snap.cronJobs = append(snap.cronJobs, cj)
	}
	for _, j := range s.t.jobs {
		snap.jobs = append(snap.jobs, j)
	}
	for _, at := range s.t.attempts {
		snap.attempts = append(snap.attempts, at)
	}
	for _, srv := range s.t.servers {
		snap.servers = append(snap.servers, srv)
	}
	for _, tok := range s.t.acl.tokens {
		snap.tokens = append(snap.tokens, tok)
	}
	snap.aclBoot = s.t.acl.bootstrapped
	for _, sec := range s.t.secrets {
		snap.secrets = append(snap.secrets, sec)
	}
	snap.events = s.t.events.list()
	snap.runs = s.t.sum.runCounts()
	return snap, nil
}

// Restore replaces the state with a snapshot written by Persist. It builds
// fresh tables and swaps them in under the write lock.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	fresh, err := readSnapshot(rc)
	if err != nil {
		return fmt.Errorf("restore snapshot: %w", err)
	}
	counts := []any{"cronjobs", len(fresh.cronJobs), "jobs", len(fresh.jobs),
		"attempts", len(fresh.attempts), "servers", len(fresh.servers)}
	s := f.state
	s.mu.Lock()
	fresh.cronJobsVersion = s.t.cronJobsVersion + 1
	if s.t.changed != nil {
		fresh.changed = newChangeSet(true) // everything may have changed
	}
	fresh.rec = s.t.rec
	s.t = fresh
	s.watch.restored()
	f.restored.Store(true)
	s.mu.Unlock()
	f.logger.Info("restored snapshot", counts...)
	f.notify()
	return nil
}

// The shallow copies below are what the FSM changes instead of a stored
// object: a new message whose fields share the old one's values (maps,
// lists and sub-messages included), so the caller replaces (never
// modifies) what it changes. Stored objects are immutable, which makes
// sharing their unchanged parts (a Job's spec) safe. They are written out
// by hand because they run for every status change (a copy through
// protoreflect cost 8 % of a server's CPU at 1,000 runs/s);
// TestShallowCopiesCopyEveryField fails when a field is added to one of
// these messages and not here.

func copyMeta(m *pb.ObjectMeta) *pb.ObjectMeta {
	if m == nil {
		return &pb.ObjectMeta{}
	}
	return withUnknown(&pb.ObjectMeta{Name: m.Name, Namespace: m.Namespace, Labels: m.Labels, Annotations: m.Annotations,
		Generation: m.Generation, Uid: m.Uid, CreationTimestamp: m.CreationTimestamp, ResourceVersion: m.ResourceVersion}, m)
}

func copyCronJobStatus(s *pb.CronJobStatus) *pb.CronJobStatus {
	if s == nil {
		return &pb.CronJobStatus{}
	}
	return withUnknown(&pb.CronJobStatus{Active: s.Active, LastScheduleTime: s.LastScheduleTime, LastSuccessfulTime: s.LastSuccessfulTime,
		Decisions: s.Decisions, Waiting: s.Waiting}, s)
}

func copyJob(j *pb.Job) *pb.Job {
	return withUnknown(&pb.Job{ApiVersion: j.ApiVersion, Kind: j.Kind, Metadata: j.Metadata, Spec: j.Spec, Status: j.Status}, j)
}

// withUnknown gives the copy dst the fields of src that this build does not
// know (written by a newer server during a rolling upgrade), so that a
// status change here keeps them as the newer servers do and the replicas
// stay the same.
func withUnknown[M proto.Message](dst, src M) M {
	if u := src.ProtoReflect().GetUnknown(); len(u) > 0 {
		dst.ProtoReflect().SetUnknown(u)
	}
	return dst
}

// Compare tells what ApplyResources will do with an object: nothing when
// both are the same, a new generation when the spec differs, and a plain
// update when only labels or annotations differ. The API's dry run uses it too.
func Compare(oldMeta *pb.ObjectMeta, oldSpec proto.Message, inMeta *pb.ObjectMeta, inSpec proto.Message) (sameSpec, sameMeta bool) {
	sameSpec = proto.Equal(oldSpec, inSpec)
	sameMeta = maps.Equal(oldMeta.GetLabels(), inMeta.GetLabels()) && maps.Equal(oldMeta.GetAnnotations(), inMeta.GetAnnotations())
	return sameSpec, sameMeta
}
