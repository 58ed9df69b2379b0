package raft_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	hraft "github.com/hashicorp/raft"
	"google.golang.org/protobuf/proto"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/raft"
)

// memSink is an in-memory hraft.SnapshotSink.
type memSink struct {
	bytes.Buffer
	failWrite bool
	closed    bool
	cancelled bool
}

func (s *memSink) Write(p []byte) (int, error) {
	if s.failWrite {
		return 0, errors.New("disk full")
	}
	return s.Buffer.Write(p)
}
func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Close() error  { s.closed = true; return nil }
func (s *memSink) Cancel() error { s.cancelled = true; return nil }
func (s *memSink) Reader() io.ReadCloser {
	return io.NopCloser(bytes.NewReader(s.Bytes()))
}

// richState fills an FSM with every record type and every index in use:
// CronJobs (with decisions, times, active jobs), finished and unfinished
// Jobs, attempts in every state, and servers.
func richState(t *testing.T) *fsmHarness {
	t.Helper()
	h := newHarness(t)
	labeled := cronJob("team-a", "report", "0 3 * * *")
	labeled.Metadata.Labels = map[string]string{"team": "a"}
	labeled.Metadata.Annotations = map[string]string{"note": "x"}
	h.mustApply(applyRes(0, []*pb.CronJob{labeled, cronJob("", "backup", "@hourly")}, []*pb.Job{plainJob("", "adhoc")}))
	h.mustApply(setSuspend("CronJob", "", "backup", true))
	h.mustApply(aclBootstrap("boot", strings.Repeat("a", 64)))
	h.mustApply(aclUpsert("reader", strings.Repeat("b", 64), "team-a", "read"))
	h.mustApply(applySecrets(0, secret("team-a", "db", "password", "s3cr3t")))
	h.mustApply(createJobs(
		cronJobRun("team-a", "report", "report-1", time.Minute),
		cronJobRun("team-a", "report", "report-2", 2*time.Minute),
		cronJobRun("", "backup", "backup-1", time.Hour),
	))
	h.mustApply(updateCronStatus("team-a", "report", ts(2*time.Minute), ts(time.Minute),
		&pb.ScheduleDecision{ScheduledTime: ts(time.Minute), Decision: "invoke", Reason: "Scheduled", Job: "report-1", DecidedTime: ts(time.Minute)},
		&pb.ScheduleDecision{ScheduledTime: ts(2 * time.Minute), Decision: "skip", Reason: "ConcurrencyPolicy", Job: "report-1"},
	))
	h.mustApply(putJobStatus("team-a", "report-1", completeCondition()))
	h.mustApply(createAttempts(
		attempt("team-a", "report-1", 0, 1),
		attempt("team-a", "report-2", 0, 1),
		attempt("team-a", "report-2", 1, 1),
		attempt("", "backup-1", 0, 1),
		attempt("", "adhoc", 0, 1),
		attempt("", "adhoc", 0, 2),
	))
	h.mustApply(assign("team-a", "report-1-0-1", "w1", time.Minute))
	inc := h.index
	h.mustApply(report(&pb.ReportAttempt{Namespace: "team-a", Name: "report-1-0-1", Worker: "w1", Incarnation: inc, State: "Succeeded", FinishTime: ts(2 * time.Minute), OutputTail: "ok"}))
	h.mustApply(assign("team-a", "report-2-0-1", "w1", 2*time.Minute))
	inc = h.index
	h.mustApply(report(&pb.ReportAttempt{Namespace: "team-a", Name: "report-2-0-1", Worker: "w1", Incarnation: inc, State: "Running", ContainerId: "c1"}))
	h.mustApply(assign("team-a", "report-2-1-1", "w2", 2*time.Minute))
	h.mustApply(requestKill("team-a", "report-2-1-1", "Killed", 3*time.Minute))
	h.mustApply(assign("", "backup-1-0-1", "w2", time.Hour))
	h.mustApply(markLost("", "backup-1-0-1", 2*time.Hour))
	h.mustApply(requestKill("", "adhoc-0-1", "DeadlineExceeded", time.Hour))
	h.mustApply(registerServer("s1", "127.0.0.1:7001", "127.0.0.1:8001"))
	h.mustApply(registerServer("s2", "127.0.0.1:7002", "127.0.0.1:8002"))
	h.mustApply(setSettings(false, time.Second, 5*time.Second, 10*time.Second, 0))
	h.mustApply(setSettings(false, time.Second, 5*time.Second, 4*time.Second, time.Hour))
	return h
}

func snapshotBytes(t *testing.T, f *raft.FSM) *memSink {
	t.Helper()
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	defer snap.Release()
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatalf("Persist: %v", err)
	}
	if !sink.closed || sink.cancelled {
		t.Fatalf("sink closed=%v cancelled=%v, want closed only", sink.closed, sink.cancelled)
	}
	return sink
}

func equalLists[T proto.Message](t *testing.T, what string, a, b []T) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d vs %d", what, len(a), len(b))
	}
	for i := range a {
		if !proto.Equal(a[i], b[i]) {
			t.Fatalf("%s[%d] differs:\n%v\nvs\n%v", what, i, a[i], b[i])
		}
	}
}

// requireSameState compares everything a reader can see of two States.
func requireSameState(t *testing.T, a, b *raft.State) {
	t.Helper()
	equalLists(t, "CronJobs", a.ListCronJobs(""), b.ListCronJobs(""))
	equalLists(t, "Jobs", a.ListJobs(""), b.ListJobs(""))
	equalLists(t, "Attempts", a.ListAttempts(""), b.ListAttempts(""))
	equalLists(t, "Servers", a.Servers(), b.Servers())
	if !proto.Equal(a.Settings(), b.Settings()) {
		t.Fatalf("Settings differ:\n%v\nvs\n%v", a.Settings(), b.Settings())
	}
	equalLists(t, "ACLTokens", a.ACLTokens(), b.ACLTokens())
	if a.ACLBootstrapped() != b.ACLBootstrapped() {
		t.Fatalf("ACLBootstrapped %v != %v", a.ACLBootstrapped(), b.ACLBootstrapped())
	}
	for _, tok := range a.ACLTokens() {
		if got := b.ACLTokenBySecretHash(tok.GetSecretHash()); got.GetAccessorId() != tok.GetAccessorId() {
			t.Fatalf("token %s not found by its secret hash after the round trip", tok.GetName())
		}
	}
	equalLists(t, "UnfinishedJobs", a.UnfinishedJobs(), b.UnfinishedJobs())
	equalLists(t, "FinishedJobs", a.FinishedJobs(), b.FinishedJobs())
	equalLists(t, "UnfinishedAttempts", a.UnfinishedAttempts(), b.UnfinishedAttempts())
	for _, cj := range a.ListCronJobs("") {
		ns, name := cj.GetMetadata().GetNamespace(), cj.GetMetadata().GetName()
		equalLists(t, "JobsOfCronJob "+name, a.JobsOfCronJob(ns, name), b.JobsOfCronJob(ns, name))
	}
	for _, j := range a.ListJobs("") {
		ns, name := j.GetMetadata().GetNamespace(), j.GetMetadata().GetName()
		equalLists(t, "Attempts of "+name, a.Attempts(ns, name), b.Attempts(ns, name))
	}
	for _, w := range []string{"w1", "w2", "w3"} {
		equalLists(t, "AttemptsOnWorker "+w, a.AttemptsOnWorker(w), b.AttemptsOnWorker(w))
	}
	if sa, sb := a.Summary(nil, time.Time{}), b.Summary(nil, time.Time{}); !proto.Equal(sa, sb) {
		t.Fatalf("Summary differs:\n%v\nvs\n%v", sa, sb)
	}
}

func TestSnapshotRestoreRoundTrip(t *testing.T) {
	src := richState(t)
	s := src.state()
	// Sanity: the fixture really holds every kind of record and index.
	if len(s.ListCronJobs("")) != 2 || len(s.ListJobs("")) != 4 || len(s.ListAttempts("")) != 6 || len(s.Servers()) != 2 || s.Settings().GetPreviousLeaseTtl() == nil ||
		len(s.ACLTokens()) != 2 || !s.ACLBootstrapped() || len(s.ListSecrets("")) != 1 ||
		len(s.FinishedJobs()) != 1 || len(s.AttemptsOnWorker("w1")) != 1 || len(s.AttemptsOnWorker("w2")) != 1 ||
		len(s.CronJob("team-a", "report").GetStatus().GetActive()) != 1 || s.Summary(nil, time.Time{}).GetRuns().GetSkipped() != 1 {
		t.Fatalf("fixture incomplete: %d cronjobs, %d jobs, %d attempts, %d servers",
			len(s.ListCronJobs("")), len(s.ListJobs("")), len(s.ListAttempts("")), len(s.Servers()))
	}
	sink := snapshotBytes(t, src.fsm)

	dst := raft.NewFSM(quietLogger())
	dst.State() // the pointer must stay valid across Restore
	held := dst.State()
	ch, cancel := dst.Subscribe()
	defer cancel()
	// Something to be replaced.
	other := newHarness(t)
	other.fsm = dst
	other.mustApply(registerServer("stale", "x", "y"))
	<-ch
	v := held.CronJobsVersion()

	if err := dst.Restore(sink.Reader()); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if dst.State() != held {
		t.Fatal("Restore replaced the *State pointer")
	}
	requireSameState(t, s, held)
	if held.Server("stale") != nil {
		t.Fatal("Restore kept records that were not in the snapshot")
	}
	if held.CronJobsVersion() == v {
		t.Fatal("CronJobsVersion did not change on Restore")
	}
	select {
	case <-ch:
	default:
		t.Fatal("no change signal after Restore")
	}

	// Deterministic: a snapshot of the restored state is byte-identical.
	again := snapshotBytes(t, dst)
	if !bytes.Equal(sink.Bytes(), again.Bytes()) {
		t.Fatal("snapshot of the restored state differs from the original snapshot")
	}

	// The restored FSM keeps working: fencing still holds with restored incarnations.
	other.index = src.index
	a := held.Attempt("team-a", "report-2-0-1")
	other.mustApply(report(&pb.ReportAttempt{Namespace: "team-a", Name: a.GetName(), Worker: "w1", Incarnation: a.GetIncarnation(), State: "Succeeded"}))
	wantCode(t, other.apply(report(&pb.ReportAttempt{Namespace: "team-a", Name: a.GetName(), Worker: "w1", Incarnation: a.GetIncarnation(), State: "Failed"})), pb.CodeConflict)
}

func TestRestoreRejectsDamagedSnapshots(t *testing.T) {
	src := richState(t)
	good := snapshotBytes(t, src.fsm).Bytes()
	cases := map[string][]byte{
		"empty":       nil,
		"bad magic":   append([]byte("NOT-A-SNAPSHOT...\n"), good[18:]...),
		"truncated":   good[:len(good)/2],
		"no trailer":  good[:len(good)-2],
		"bad version": append(append([]byte(nil), good[:18]...), append([]byte{9}, good[19:]...)...),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			dst := newHarness(t)
			dst.mustApply(registerServer("keep", "a", "b"))
			err := dst.fsm.Restore(io.NopCloser(bytes.NewReader(data)))
			if err == nil {
				t.Fatal("Restore accepted a damaged snapshot")
			}
			if !strings.Contains(err.Error(), "restore snapshot") {
				t.Fatalf("error %q lacks context", err)
			}
			if dst.state().Server("keep") == nil || len(dst.state().ListJobs("")) != 0 {
				t.Fatal("a failed Restore changed the state")
			}
		})
	}
}

func TestPersistCancelsSinkOnError(t *testing.T) {
	src := richState(t)
	snap, err := src.fsm.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{failWrite: true}
	if err := snap.Persist(sink); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Persist error = %v, want the write error", err)
	}
	if !sink.cancelled || sink.closed {
		t.Fatalf("sink cancelled=%v closed=%v, want cancelled only", sink.cancelled, sink.closed)
	}
}

// The snapshot is taken at one point: later applies do not leak into it.
func TestSnapshotIsPointInTime(t *testing.T) {
	h := richState(t)
	snap, err := h.fsm.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	h.mustApply(deleteRes("CronJob", "team-a", "report"))
	h.mustApply(registerServer("s3", "a", "b"))
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	dst := raft.NewFSM(quietLogger())
	if err := dst.Restore(sink.Reader()); err != nil {
		t.Fatal(err)
	}
	if dst.State().CronJob("team-a", "report") == nil || dst.State().Server("s3") != nil {
		t.Fatal("snapshot saw changes applied after it was taken")
	}
}

var _ hraft.SnapshotSink = (*memSink)(nil)
