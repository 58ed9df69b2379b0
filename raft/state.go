package raft

import (
	"cmp"
	"slices"
	"sync"

	"github.com/google/btree"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// Kinds and the API version stamped on stored resources (proto/raftcron/v1/state.go).
const (
	KindCronJob = pb.KindCronJob
	KindJob     = pb.KindJob
	APIVersion  = pb.APIVersion
	// DefaultNamespace is used when an object or a command names no namespace.
	DefaultNamespace = pb.DefaultNamespace
)

// nsName identifies a namespaced object (or, in the indexes, the namespaced
// owner of a set of objects).
type nsName struct{ ns, name string }

// tables holds the replicated objects and their indexes. All of it is guarded
// by State.mu. Objects are immutable once stored: every change stores a new
// pointer.
type tables struct {
	// cronJobs keep their specs encoded (raft/cronjob.go).
	cronJobs map[nsName]*storedCronJob
	jobs     map[nsName]*pb.Job
	attempts map[nsName]*pb.Attempt
	servers  map[string]*pb.RegisterServer
	// settings: the cluster settings; nil until first recorded.
	settings *pb.ClusterSettings
	acl      aclTable
	// secrets: Secrets with their values; read through raft/secret.go.
	secrets map[nsName]*pb.Secret
	// events: what happened, oldest first (raft/events.go).
	events eventTable
	// rec collects the current entry's changes for watchers (nil in
	// tables read from a snapshot until they are swapped in).
	rec *recorder

	// jobsByCron: (namespace, cronjob name) -> its Jobs, in
	// sortJobsBySchedule order (kept sorted: no read sorts them).
	jobsByCron map[nsName]cronJobsJobs
	// unfinishedByCron: (namespace, cronjob name) -> names of its
	// unfinished Jobs (status.active).
	unfinishedByCron map[nsName]map[string]struct{}
	// finishedByCron: (namespace, cronjob name) -> how many of its Jobs
	// completed and how many failed, for JobsBeyondHistory.
	finishedByCron map[nsName][2]int
	// dependents: (namespace, cronjob name) -> names of the CronJobs whose
	// spec.dependsOn names it.
	dependents map[nsName]map[string]struct{}
	// unfinishedJobs: Jobs without a Complete or Failed condition "True".
	unfinishedJobs map[nsName]struct{}
	// attemptsByJob: (namespace, job name) -> names of its attempts.
	attemptsByJob map[nsName]map[string]struct{}
	// unfinishedAttempts: attempts that are Unfinished (Pending, Assigned or Running).
	unfinishedAttempts map[nsName]struct{}
	// unfinishedByNS: how many of them each namespace holds.
	unfinishedByNS map[string]int
	// attemptsByWorker: worker -> the attempts it holds (OnWorker: Assigned or Running).
	attemptsByWorker map[string]map[nsName]struct{}

	// sum: counters and short lists for a dashboard's summary (raft/summary.go).
	sum summaryIndex

	// dirtyCrons are CronJobs whose status.active must be recomputed before
	// the write lock is released.
	dirtyCrons map[nsName]struct{}

	cronJobsVersion uint64

	// cronOrder and jobOrder hold the keys of cronJobs and jobs in order
	// (namespace, then name), so that a list, or one page of it, is read
	// in order without sorting every object on each call.
	cronOrder, jobOrder *btree.BTreeG[nsName]

	// changed records what applied entries change, while the leader loop
	// tracks changes (nil otherwise).
	changed *changeSet
}

func newTables() tables {
	return tables{
		cronJobs:           map[nsName]*storedCronJob{},
		jobs:               map[nsName]*pb.Job{},
		attempts:           map[nsName]*pb.Attempt{},
		servers:            map[string]*pb.RegisterServer{},
		acl:                newACLTable(),
		secrets:            map[nsName]*pb.Secret{},
		jobsByCron:         map[nsName]cronJobsJobs{},
		unfinishedByCron:   map[nsName]map[string]struct{}{},
		finishedByCron:     map[nsName][2]int{},
		dependents:         map[nsName]map[string]struct{}{},
		unfinishedJobs:     map[nsName]struct{}{},
		attemptsByJob:      map[nsName]map[string]struct{}{},
		unfinishedAttempts: map[nsName]struct{}{},
		unfinishedByNS:     map[string]int{},
		attemptsByWorker:   map[string]map[nsName]struct{}{},
		dirtyCrons:         map[nsName]struct{}{},
		sum:                newSummaryIndex(),
		cronOrder:          btree.NewG(32, nsName.less),
		jobOrder:           btree.NewG(32, nsName.less),
	}
}

// less orders keys by namespace, then name.
func (k nsName) less(o nsName) bool {
	if k.ns != o.ns {
		return k.ns < o.ns
	}
	return k.name < o.name
}

// State is the in-memory replicated state: CronJobs, Jobs, Attempts and
// servers, with the indexes the scheduler and the API read. It implements
// scheduler.View.
//
// Immutability contract: an object returned by a getter is the stored
// pointer, shared with every other reader. The FSM never mutates an object it
// has published (it stores a changed clone instead), so callers may keep what
// they get, but they must never modify it. (A CronJob is the exception to
// "the stored pointer": its spec is kept encoded and decoded on read, or
// taken from a small cache of specs decoded lately, and put together with
// metadata and status that are shared as above.)
type State struct {
	mu sync.RWMutex
	t  tables
	// watch: the recent changes, for watchers (raft/watch.go).
	watch watchLog
}

// NewState returns an empty State.
func NewState() *State {
	s := &State{t: newTables()}
	s.t.rec = newRecorder()
	return s
}

func nsOrDefault(ns string) string {
	if ns == "" {
		return DefaultNamespace
	}
	return ns
}

// ---------------------------------------------------------------- mutators
// (callers hold the write lock, or own a fresh tables value)

// putCronJob stores cj (which it owns from now on) with its spec encoded.
func (t *tables) putCronJob(cj *pb.CronJob) {
	t.putStoredCronJob(newStoredCronJob(cj))
}

func (t *tables) putStoredCronJob(cj *storedCronJob) {
	k := nsName{cj.namespace(), cj.name()}
	old := t.cronJobs[k]
	t.rec.cronJob(old, cj, k)
	t.sum.cronJobChanged(k.ns, old, cj)
	t.indexDeps(k, old, cj)
	t.cronJobs[k] = cj
	if old == nil {
		t.cronOrder.ReplaceOrInsert(k)
	}
	t.dirtyCrons[k] = struct{}{}
	t.changed.cronJob(k)
}

func (t *tables) deleteCronJob(k nsName) {
	t.rec.cronJob(t.cronJobs[k], nil, k)
	t.sum.cronJobChanged(k.ns, t.cronJobs[k], nil)
	t.indexDeps(k, t.cronJobs[k], nil)
	delete(t.cronJobs, k)
	t.cronOrder.Delete(k)
	t.changed.cronJob(k)
	for _, r := range slices.Clone(t.jobsByCron[k]) {
		t.deleteJob(nsName{k.ns, r.name})
	}
	delete(t.dirtyCrons, k)
}

func addToSet[K comparable, V comparable](m map[K]map[V]struct{}, k K, v V) {
	s := m[k]
	if s == nil {
		s = map[V]struct{}{}
		m[k] = s
	}
	s[v] = struct{}{}
}

func removeFromSet[K comparable, V comparable](m map[K]map[V]struct{}, k K, v V) {
	s := m[k]
	if s == nil {
		return
	}
	delete(s, v)
	if len(s) == 0 {
		delete(m, k)
	}
}

func (t *tables) unindexJob(k nsName, j *pb.Job) {
	if cron := j.GetStatus().GetCronJob(); cron != "" {
		ck := nsName{k.ns, cron}
		r := cronJobsJobKey(j)
		if js := t.jobsByCron[ck].remove(r); len(js) > 0 {
			t.jobsByCron[ck] = js
		} else {
			delete(t.jobsByCron, ck)
		}
		t.countFinished(ck, r.fin, -1)
		removeFromSet(t.unfinishedByCron, ck, k.name)
		t.dirtyCrons[ck] = struct{}{}
	}
	if _, ok := t.unfinishedJobs[k]; ok {
		delete(t.unfinishedJobs, k)
		addCount(t.sum.unfinishedJobs, k.ns, -1)
	}
}

func (t *tables) putJob(j *pb.Job) {
	k := nsName{j.GetMetadata().GetNamespace(), j.GetMetadata().GetName()}
	old := t.jobs[k]
	if old != nil {
		t.unindexJob(k, old)
	}
	t.rec.job(old, j, k)
	t.jobs[k] = j
	if old == nil {
		t.jobOrder.ReplaceOrInsert(k)
	}
	t.changed.job(k)
	if cron := j.GetStatus().GetCronJob(); cron != "" {
		ck := nsName{k.ns, cron}
		r := cronJobsJobKey(j)
		t.jobsByCron[ck] = t.jobsByCron[ck].add(r)
		t.countFinished(ck, r.fin, 1)
		if !j.Finished() {
			addToSet(t.unfinishedByCron, ck, k.name)
		}
		t.dirtyCrons[ck] = struct{}{}
	}
	if !j.Finished() {
		t.unfinishedJobs[k] = struct{}{}
		addCount(t.sum.unfinishedJobs, k.ns, 1)
	}
}

// countFinished adds d to the count of the CronJob's Jobs finished as fin.
func (t *tables) countFinished(ck nsName, fin jobFinish, d int) {
	if fin == jobUnfinished {
		return
	}
	n := t.finishedByCron[ck]
	n[fin-1] += d
	if n == [2]int{} {
		delete(t.finishedByCron, ck)
	} else {
		t.finishedByCron[ck] = n
	}
}

func (t *tables) deleteJob(k nsName) {
	old := t.jobs[k]
	if old == nil {
		return
	}
	t.unindexJob(k, old)
	t.rec.job(old, nil, k)
	delete(t.jobs, k)
	t.jobOrder.Delete(k)
	t.changed.job(k)
	for name := range t.attemptsByJob[k] {
		t.deleteAttempt(nsName{k.ns, name})
	}
}

func (t *tables) unindexAttempt(k nsName, a *pb.Attempt) {
	removeFromSet(t.attemptsByJob, nsName{k.ns, a.GetJob()}, k.name)
	if _, ok := t.unfinishedAttempts[k]; ok {
		delete(t.unfinishedAttempts, k)
		if t.unfinishedByNS[k.ns]--; t.unfinishedByNS[k.ns] <= 0 {
			delete(t.unfinishedByNS, k.ns)
		}
	}
	if w := a.GetWorker(); w != "" {
		removeFromSet(t.attemptsByWorker, w, k)
		t.forgetRecent(k, a)
	}
}

func (t *tables) putAttempt(a *pb.Attempt) {
	k := nsName{a.GetNamespace(), a.GetName()}
	old := t.attempts[k]
	if old != nil {
		t.unindexAttempt(k, old)
	}
	t.rec.attempt(old, a, k)
	t.attempts[k] = a
	t.changed.job(nsName{k.ns, a.GetJob()})
	addToSet(t.attemptsByJob, nsName{k.ns, a.GetJob()}, k.name)
	if a.Unfinished() {
		t.unfinishedAttempts[k] = struct{}{}
		t.unfinishedByNS[k.ns]++
	}
	if w := a.GetWorker(); w != "" && a.OnWorker() {
		addToSet(t.attemptsByWorker, w, k)
	}
	t.rememberRecent(k, a)
}

func (t *tables) deleteAttempt(k nsName) {
	old := t.attempts[k]
	if old == nil {
		return
	}
	t.unindexAttempt(k, old)
	t.rec.attempt(old, nil, k)
	delete(t.attempts, k)
	t.changed.job(nsName{k.ns, old.GetJob()})
}

// flushActive recomputes status.active of every dirty CronJob from the
// unfinished Jobs that name it, storing a changed clone where it differs.
// status.active is derived data: it does not change resource_version.
func (t *tables) flushActive() {
	for k := range t.dirtyCrons {
		cj := t.cronJobs[k]
		if cj == nil {
			continue
		}
		var jobs []*pb.Job
		for name := range t.unfinishedByCron[k] {
			jobs = append(jobs, t.jobs[nsName{k.ns, name}])
		}
		sortJobsBySchedule(jobs)
		active := make([]*pb.ObjectReference, 0, len(jobs))
		for _, j := range jobs {
			active = append(active, &pb.ObjectReference{
				Kind:      KindJob,
				Namespace: k.ns,
				Name:      j.GetMetadata().GetName(),
				Uid:       j.GetMetadata().GetUid(),
			})
		}
		if refsEqual(cj.status.GetActive(), active) {
			continue
		}
		st := &pb.CronJobStatus{}
		if cj.status != nil {
			st = copyCronJobStatus(cj.status) // Active is replaced below, not modified
		}
		if len(active) == 0 {
			st.Active = nil
		} else {
			st.Active = active
		}
		n := cj.with(cj.meta, st) // shares the encoded spec; only status.active changes
		t.rec.cronJob(cj, n, k)
		t.cronJobs[k] = n
	}
	clear(t.dirtyCrons)
}

func refsEqual(a, b []*pb.ObjectReference) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !proto.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------- changes

// Key names a namespaced object.
type Key struct{ Namespace, Name string }

// Changes is what applied entries changed since changes began to be tracked
// or were last taken (State.TakeChanges).
type Changes struct {
	// All is set when everything must be looked at again: tracking has just
	// begun, or a snapshot was restored.
	All bool
	// CronJobs created, changed (spec, metadata or status) or deleted.
	CronJobs []Key
	// Jobs created, changed or deleted, or one of whose attempts was.
	Jobs []Key
}

// changeSet collects changes under the write lock. A nil *changeSet records
// nothing (followers, and leaders between loops).
type changeSet struct {
	all      bool
	cronJobs map[nsName]struct{}
	jobs     map[nsName]struct{}
}

func newChangeSet(all bool) *changeSet {
	return &changeSet{all: all, cronJobs: map[nsName]struct{}{}, jobs: map[nsName]struct{}{}}
}

func (c *changeSet) cronJob(k nsName) {
	if c != nil && !c.all {
		c.cronJobs[k] = struct{}{}
	}
}

func (c *changeSet) job(k nsName) {
	if c != nil && !c.all {
		c.jobs[k] = struct{}{}
	}
}

// TrackChanges starts (on) or stops recording what applied entries change.
// The leader loop starts it when it begins and reads the changes with
// TakeChanges; the first Changes after a start has All set.
func (s *State) TrackChanges(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on {
		s.t.changed = newChangeSet(true)
	} else {
		s.t.changed = nil
	}
}

// TakeChanges returns the changes recorded since the last call and starts a
// new record. Without TrackChanges it returns Changes{All: true}.
func (s *State) TakeChanges() Changes {
	s.mu.Lock()
	c := s.t.changed
	if c != nil {
		s.t.changed = newChangeSet(false)
	}
	s.mu.Unlock()
	if c == nil || c.all {
		return Changes{All: true}
	}
	out := Changes{CronJobs: make([]Key, 0, len(c.cronJobs)), Jobs: make([]Key, 0, len(c.jobs))}
	for k := range c.cronJobs {
		out.CronJobs = append(out.CronJobs, Key{k.ns, k.name})
	}
	for k := range c.jobs {
		out.Jobs = append(out.Jobs, Key{k.ns, k.name})
	}
	sortKeys(out.CronJobs)
	sortKeys(out.Jobs)
	return out
}

func sortKeys(ks []Key) {
	slices.SortFunc(ks, func(a, b Key) int {
		if c := cmp.Compare(a.Namespace, b.Namespace); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
}

// WorkersWithAttempts returns the workers that hold unfinished attempts.
func (s *State) WorkersWithAttempts() []string {
	s.mu.RLock()
	out := make([]string, 0, len(s.t.attemptsByWorker))
	for w := range s.t.attemptsByWorker {
		out = append(out, w)
	}
	s.mu.RUnlock()
	slices.Sort(out)
	return out
}

// ---------------------------------------------------------------- ordering

func compareTime(a, b *timestamppb.Timestamp) int {
	if c := cmp.Compare(a.GetSeconds(), b.GetSeconds()); c != 0 {
		return c
	}
	return cmp.Compare(a.GetNanos(), b.GetNanos())
}

// cronJobsJobs is one CronJob's Jobs in sortJobsBySchedule order. A Job's
// place is set when it is put (its scheduled and creation times do not
// change; a put that changed them would move it), so reads never sort.
type cronJobsJobs []cronJobsJob

type cronJobsJob struct {
	sched, created *timestamppb.Timestamp
	name           string
	// fin: how the Job finished (not part of the order).
	fin jobFinish
}

// jobFinish is how a Job finished: not yet, Complete or Failed.
type jobFinish uint8

const (
	jobUnfinished jobFinish = iota
	jobComplete
	jobFailed
)

func cronJobsJobKey(j *pb.Job) cronJobsJob {
	r := cronJobsJob{sched: j.GetStatus().GetScheduledTime(), created: j.GetMetadata().GetCreationTimestamp(), name: j.GetMetadata().GetName()}
	switch c := j.FinishedCondition(); {
	case c == nil:
	case c.GetType() == pb.ConditionComplete:
		r.fin = jobComplete
	default:
		r.fin = jobFailed
	}
	return r
}

// compare is sortJobsBySchedule's order.
func (a cronJobsJob) compare(b cronJobsJob) int {
	return cmp.Or(compareTime(a.sched, b.sched), compareTime(a.created, b.created), cmp.Compare(a.name, b.name))
}

func (js cronJobsJobs) add(r cronJobsJob) cronJobsJobs {
	// New Jobs are mostly the latest: look at the end first.
	if n := len(js); n == 0 || js[n-1].compare(r) < 0 {
		return append(js, r)
	}
	i, found := slices.BinarySearchFunc(js, r, cronJobsJob.compare)
	if found {
		js[i] = r
		return js
	}
	return slices.Insert(js, i, r)
}

func (js cronJobsJobs) remove(r cronJobsJob) cronJobsJobs {
	if i, found := slices.BinarySearchFunc(js, r, cronJobsJob.compare); found {
		return slices.Delete(js, i, i+1)
	}
	return js
}

// sortJobsBySchedule orders Jobs by scheduled time, then creation time, then name.
func sortJobsBySchedule(jobs []*pb.Job) {
	slices.SortFunc(jobs, func(a, b *pb.Job) int {
		if c := compareTime(a.GetStatus().GetScheduledTime(), b.GetStatus().GetScheduledTime()); c != 0 {
			return c
		}
		if c := compareTime(a.GetMetadata().GetCreationTimestamp(), b.GetMetadata().GetCreationTimestamp()); c != 0 {
			return c
		}
		return cmp.Compare(a.GetMetadata().GetName(), b.GetMetadata().GetName())
	})
}

func sortJobsByName(jobs []*pb.Job) {
	slices.SortFunc(jobs, func(a, b *pb.Job) int {
		if c := cmp.Compare(a.GetMetadata().GetNamespace(), b.GetMetadata().GetNamespace()); c != 0 {
			return c
		}
		return cmp.Compare(a.GetMetadata().GetName(), b.GetMetadata().GetName())
	})
}

func sortSecrets(ss []*pb.Secret) {
	slices.SortFunc(ss, func(a, b *pb.Secret) int {
		return cmp.Or(cmp.Compare(a.GetMetadata().GetNamespace(), b.GetMetadata().GetNamespace()),
			cmp.Compare(a.GetMetadata().GetName(), b.GetMetadata().GetName()))
	})
}

// sortAttempts orders attempts by namespace, job, index, number, then name.
func sortAttempts(as []*pb.Attempt) {
	slices.SortFunc(as, func(a, b *pb.Attempt) int {
		if c := cmp.Compare(a.GetNamespace(), b.GetNamespace()); c != 0 {
			return c
		}
		if c := cmp.Compare(a.GetJob(), b.GetJob()); c != 0 {
			return c
		}
		if c := cmp.Compare(a.GetIndex(), b.GetIndex()); c != 0 {
			return c
		}
		if c := cmp.Compare(a.GetNumber(), b.GetNumber()); c != 0 {
			return c
		}
		return cmp.Compare(a.GetName(), b.GetName())
	})
}

// ---------------------------------------------------------------- readers

// CronJob returns the stored CronJob, or nil. Its status.active lists the
// unfinished Jobs of the CronJob.
func (s *State) CronJob(namespace, name string) *pb.CronJob {
	s.mu.RLock()
	cj := s.t.cronJobs[nsName{nsOrDefault(namespace), name}]
	s.mu.RUnlock()
	return cj.cronJob() // decoded outside the lock: stored CronJobs are immutable
}

// CronJobs returns every CronJob, ordered by namespace and name.
func (s *State) CronJobs() []*pb.CronJob {
	return s.ListCronJobs("")
}

// ListCronJobs returns the CronJobs of one namespace ("" = all), ordered by
// namespace and name.
func (s *State) ListCronJobs(namespace string) []*pb.CronJob {
	return s.CronJobsAfter(namespace, "", "", 0)
}

// CronJobsAfter returns, in order (namespace, then name), at most max
// CronJobs (0: all) of one namespace ("" = all) that come after the
// CronJob afterNamespace/afterName (empty: from the first): one page of a
// list, read in time proportional to the page.
func (s *State) CronJobsAfter(namespace, afterNamespace, afterName string, max int) []*pb.CronJob {
	s.mu.RLock()
	page := pageOf(s.t.cronOrder, s.t.cronJobs, namespace, nsName{afterNamespace, afterName}, max)
	s.mu.RUnlock()
	return decodeCronJobs(page)
}

// CronJobBrief is what the metrics of one CronJob are read from, made
// without decoding its spec.
type CronJobBrief struct {
	Namespace, Name string
	// Suspend is spec.suspend; DependsOn is len(spec.dependsOn).
	Suspend   bool
	DependsOn int
	// Status is shared with the State: never modify it.
	Status *pb.CronJobStatus
}

// CronJobBriefs returns a brief of every CronJob, ordered by namespace and
// name: what a metrics scrape reads, at no spec decoding per CronJob.
func (s *State) CronJobBriefs() []CronJobBrief {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]CronJobBrief, 0, len(s.t.cronJobs))
	s.t.cronOrder.Ascend(func(k nsName) bool {
		c := s.t.cronJobs[k]
		out = append(out, CronJobBrief{Namespace: k.ns, Name: k.name, Suspend: c.suspend, DependsOn: len(c.deps), Status: c.status})
		return true
	})
	return out
}

// pageOf walks order from after (exclusive) within namespace ("" = all).
func pageOf[T any](order *btree.BTreeG[nsName], objects map[nsName]T, namespace string, after nsName, max int) []T {
	from := after
	if namespace != "" && from.less(nsName{namespace, ""}) {
		from = nsName{namespace, ""}
	}
	n := len(objects)
	if max > 0 {
		n = min(n, max)
	}
	out := make([]T, 0, n)
	order.AscendGreaterOrEqual(from, func(k nsName) bool {
		if namespace != "" && k.ns != namespace {
			return false
		}
		if k == after {
			return true
		}
		out = append(out, objects[k])
		return max <= 0 || len(out) < max
	})
	return out
}

// CronJobsVersion changes whenever a CronJob is created or deleted or its
// spec changes (including suspend), and after a snapshot restore; not on
// status changes.
func (s *State) CronJobsVersion() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.t.cronJobsVersion
}

// Job returns the stored Job, or nil.
func (s *State) Job(namespace, name string) *pb.Job {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.t.jobs[nsName{nsOrDefault(namespace), name}]
}

// ListJobs returns the Jobs of one namespace ("" = all), ordered by namespace
// and name.
func (s *State) ListJobs(namespace string) []*pb.Job {
	return s.JobsAfter(namespace, "", "", 0)
}

// JobsAfter is CronJobsAfter for Jobs.
func (s *State) JobsAfter(namespace, afterNamespace, afterName string, max int) []*pb.Job {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return pageOf(s.t.jobOrder, s.t.jobs, namespace, nsName{afterNamespace, afterName}, max)
}

// JobsOfCronJob returns the Jobs whose status.cronJob names this CronJob in
// the same namespace, oldest scheduled time first.
func (s *State) JobsOfCronJob(namespace, cronJob string) []*pb.Job {
	ns := nsOrDefault(namespace)
	s.mu.RLock()
	refs := s.t.jobsByCron[nsName{ns, cronJob}]
	out := make([]*pb.Job, 0, len(refs))
	for _, r := range refs {
		out = append(out, s.t.jobs[nsName{ns, r.name}])
	}
	s.mu.RUnlock()
	return out
}

// JobsBeyondHistory implements scheduler.View: from the counts of the
// CronJob's finished Jobs it knows how many go, and it reads only those, from
// the oldest end of the CronJob's Jobs.
func (s *State) JobsBeyondHistory(namespace, cronJob string, keepSucceeded, keepFailed int) []*pb.Job {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k := nsName{nsOrDefault(namespace), cronJob}
	n := s.t.finishedByCron[k]
	extraOK, extraFailed := n[jobComplete-1]-keepSucceeded, n[jobFailed-1]-keepFailed
	if extraOK <= 0 && extraFailed <= 0 {
		return nil
	}
	var ok, failed []*pb.Job
	for _, r := range s.t.jobsByCron[k] {
		switch {
		case r.fin == jobComplete && len(ok) < extraOK:
			ok = append(ok, s.t.jobs[nsName{k.ns, r.name}])
		case r.fin == jobFailed && len(failed) < extraFailed:
			failed = append(failed, s.t.jobs[nsName{k.ns, r.name}])
		}
		if len(ok) >= extraOK && len(failed) >= extraFailed {
			break
		}
	}
	return append(ok, failed...)
}

// UnfinishedJobs returns every Job without a Complete or Failed condition,
// ordered by namespace and name.
func (s *State) UnfinishedJobs() []*pb.Job {
	s.mu.RLock()
	out := make([]*pb.Job, 0, len(s.t.unfinishedJobs))
	for k := range s.t.unfinishedJobs {
		out = append(out, s.t.jobs[k])
	}
	s.mu.RUnlock()
	sortJobsByName(out)
	return out
}

// FinishedJobs returns every Job with a Complete or Failed condition,
// ordered by namespace and name.
func (s *State) FinishedJobs() []*pb.Job {
	s.mu.RLock()
	out := make([]*pb.Job, 0, len(s.t.jobs)-len(s.t.unfinishedJobs))
	for k, j := range s.t.jobs {
		if _, ok := s.t.unfinishedJobs[k]; !ok {
			out = append(out, j)
		}
	}
	s.mu.RUnlock()
	sortJobsByName(out)
	return out
}

// Attempt returns the stored attempt, or nil.
func (s *State) Attempt(namespace, name string) *pb.Attempt {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.t.attempts[nsName{nsOrDefault(namespace), name}]
}

// Attempts returns the attempts of one Job, by index then number.
func (s *State) Attempts(namespace, job string) []*pb.Attempt {
	ns := nsOrDefault(namespace)
	s.mu.RLock()
	names := s.t.attemptsByJob[nsName{ns, job}]
	out := make([]*pb.Attempt, 0, len(names))
	for name := range names {
		out = append(out, s.t.attempts[nsName{ns, name}])
	}
	s.mu.RUnlock()
	sortAttempts(out)
	return out
}

// AttemptsFrom returns attempts in ListAttempts order (namespace, job,
// index, number), Job by Job in the key index from the Job (fromNS, fromJob)
// on, of one namespace ("" = all), stopping after the Job that brings it to
// max (0: no bound). first, when set, filters the attempts of the Job
// (fromNS, fromJob) itself, where a page that ended inside it resumes. A page
// costs the Jobs it covers, not the whole namespace.
func (s *State) AttemptsFrom(namespace, fromNS, fromJob string, first func(*pb.Attempt) bool, max int) []*pb.Attempt {
	s.mu.RLock()
	defer s.mu.RUnlock()
	from := nsName{fromNS, fromJob}
	if namespace != "" && from.less(nsName{namespace, ""}) {
		from = nsName{namespace, ""}
	}
	var out, ofJob []*pb.Attempt
	s.t.jobOrder.AscendGreaterOrEqual(from, func(k nsName) bool {
		if namespace != "" && k.ns != namespace {
			return false
		}
		ofJob = ofJob[:0]
		for name := range s.t.attemptsByJob[k] {
			ofJob = append(ofJob, s.t.attempts[nsName{k.ns, name}])
		}
		sortAttempts(ofJob)
		for _, a := range ofJob {
			if k != from || first == nil || first(a) {
				out = append(out, a)
			}
		}
		return max <= 0 || len(out) < max
	})
	return out
}

// ListAttempts returns the attempts of one namespace ("" = all), ordered by
// namespace, job, index and number.
func (s *State) ListAttempts(namespace string) []*pb.Attempt {
	s.mu.RLock()
	out := make([]*pb.Attempt, 0, len(s.t.attempts))
	for k, a := range s.t.attempts {
		if namespace == "" || k.ns == namespace {
			out = append(out, a)
		}
	}
	s.mu.RUnlock()
	sortAttempts(out)
	return out
}

// UnfinishedAttemptsIn counts the unfinished attempts of a namespace.
func (s *State) UnfinishedAttemptsIn(namespace string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.t.unfinishedByNS[namespace]
}

// CountIn counts the objects of a kind (CronJob, Job or Secret) in a
// namespace.
func (s *State) CountIn(kind, namespace string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ns, n := nsOrDefault(namespace), 0
	count := func(k nsName) {
		if k.ns == ns {
			n++
		}
	}
	switch kind {
	case KindCronJob:
		for k := range s.t.cronJobs {
			count(k)
		}
	case KindJob:
		for k := range s.t.jobs {
			count(k)
		}
	case pb.KindSecret:
		for k := range s.t.secrets {
			count(k)
		}
	}
	return n
}

// Exists reports whether an object of a kind (CronJob, Job or Secret) exists.
func (s *State) Exists(kind, namespace, name string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k := nsName{nsOrDefault(namespace), name}
	var ok bool
	switch kind {
	case KindCronJob:
		_, ok = s.t.cronJobs[k]
	case KindJob:
		_, ok = s.t.jobs[k]
	case pb.KindSecret:
		_, ok = s.t.secrets[k]
	}
	return ok
}

// UnfinishedAttempts returns every attempt in Pending, Assigned or Running,
// ordered by namespace, job, index and number.
func (s *State) UnfinishedAttempts() []*pb.Attempt {
	s.mu.RLock()
	out := make([]*pb.Attempt, 0, len(s.t.unfinishedAttempts))
	for k := range s.t.unfinishedAttempts {
		out = append(out, s.t.attempts[k])
	}
	s.mu.RUnlock()
	sortAttempts(out)
	return out
}

// AttemptsOnWorker returns the attempts a worker holds (OnWorker: Assigned
// or Running), ordered by namespace, job, index and number.
func (s *State) AttemptsOnWorker(worker string) []*pb.Attempt {
	s.mu.RLock()
	keys := s.t.attemptsByWorker[worker]
	out := make([]*pb.Attempt, 0, len(keys))
	for k := range keys {
		out = append(out, s.t.attempts[k])
	}
	s.mu.RUnlock()
	sortAttempts(out)
	return out
}

// Servers returns every registered server, ordered by node id.
func (s *State) Servers() []*pb.RegisterServer {
	s.mu.RLock()
	out := make([]*pb.RegisterServer, 0, len(s.t.servers))
	for _, srv := range s.t.servers {
		out = append(out, srv)
	}
	s.mu.RUnlock()
	sortServers(out)
	return out
}

// Server returns the registration of one server, or nil.
func (s *State) Server(id string) *pb.RegisterServer {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.t.servers[id]
}
