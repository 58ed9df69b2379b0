package raft

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// TestRestoredTablesEqual compares the raw tables and every index after a
// snapshot round trip, not only what the getters show.
func TestRestoredTablesEqual(t *testing.T) {
	s := NewState()
	a := &applier{t: &s.t, index: 7, rv: "7"}
	now := &pb.CronJob{Metadata: &pb.ObjectMeta{Name: "c"}, Spec: &pb.CronJobSpec{Schedule: "* * * * *"}}
	for _, r := range []*pb.CommandResult{
		a.applyResources(&pb.ApplyResources{CronJobs: []*pb.CronJob{now}}),
		a.createJobs(&pb.CreateJobs{Jobs: []*pb.Job{
			{Metadata: &pb.ObjectMeta{Name: "c-1", Namespace: "default"}, Status: &pb.JobStatus{CronJob: "c"}},
			{Metadata: &pb.ObjectMeta{Name: "c-2", Namespace: "default"}, Status: &pb.JobStatus{CronJob: "c",
				Conditions: []*pb.JobCondition{{Type: "Complete", Status: "True"}}}},
		}}),
		a.createAttempts(&pb.CreateAttempts{Attempts: []*pb.Attempt{
			{Name: "c-1-0-1", Job: "c-1"}, {Name: "c-1-0-2", Job: "c-1"}, {Name: "c-2-0-1", Job: "c-2"},
		}}),
		a.assignAttempt(&pb.AssignAttempt{Name: "c-1-0-1", Worker: "w1"}),
		a.requestKill(&pb.RequestKill{Name: "c-2-0-1"}),
		a.registerServer(&pb.RegisterServer{NodeId: "n1"}),
	} {
		if r.GetCode() != "" {
			t.Fatalf("setup: %v", r)
		}
	}
	s.t.flushActive()

	snap := &fsmSnapshot{}
	for _, v := range s.t.cronJobs {
		snap.cronJobs = append(snap.cronJobs, v)
	}
	for _, v := range s.t.jobs {
		snap.jobs = append(snap.jobs, v)
	}
	for _, v := range s.t.attempts {
		snap.attempts = append(snap.attempts, v)
	}
	for _, v := range s.t.servers {
		snap.servers = append(snap.servers, v)
	}
	var buf bytes.Buffer
	if err := snap.write(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := readSnapshot(&buf)
	if err != nil {
		t.Fatal(err)
	}
	want := s.t
	for name, pair := range map[string][2]any{
		"jobsByCron":         {want.jobsByCron, got.jobsByCron},
		"unfinishedJobs":     {want.unfinishedJobs, got.unfinishedJobs},
		"unfinishedByCron":   {want.unfinishedByCron, got.unfinishedByCron},
		"attemptsByJob":      {want.attemptsByJob, got.attemptsByJob},
		"unfinishedAttempts": {want.unfinishedAttempts, got.unfinishedAttempts},
		"attemptsByWorker":   {want.attemptsByWorker, got.attemptsByWorker},
	} {
		if !reflect.DeepEqual(pair[0], pair[1]) {
			t.Errorf("index %s differs after restore:\n%v\nvs\n%v", name, pair[0], pair[1])
		}
	}
	if len(want.unfinishedJobs) != 1 || len(want.attemptsByWorker) != 1 || len(want.jobsByCron) != 1 {
		t.Fatalf("fixture does not exercise the indexes: %+v", want)
	}
	compareMap(t, "cronJobs", decodedCronJobs(want.cronJobs), decodedCronJobs(got.cronJobs))
	compareMap(t, "jobs", want.jobs, got.jobs)
	compareMap(t, "attempts", want.attempts, got.attempts)
	compareMap(t, "servers", want.servers, got.servers)
}

func decodedCronJobs(m map[nsName]*storedCronJob) map[nsName]*pb.CronJob {
	out := map[nsName]*pb.CronJob{}
	for k, c := range m {
		out[k] = c.cronJob()
	}
	return out
}

func compareMap[K comparable, V proto.Message](t *testing.T, what string, a, b map[K]V) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d vs %d entries", what, len(a), len(b))
	}
	for k, v := range a {
		if !proto.Equal(v, b[k]) {
			t.Fatalf("%s[%v] differs:\n%v\nvs\n%v", what, k, v, b[k])
		}
	}
}

// A CronJob's Jobs stay in sortJobsBySchedule order whatever order they are
// put and deleted in, so that JobsOfCronJob never sorts.
func TestCronJobsJobsStaySorted(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	var jobs []*pb.Job
	for i := range 300 {
		jobs = append(jobs, &pb.Job{
			Metadata: &pb.ObjectMeta{Name: fmt.Sprintf("j-%03d", i), CreationTimestamp: timestamppb.New(base.Add(time.Duration(rng.IntN(5)) * time.Second))},
			Status:   &pb.JobStatus{ScheduledTime: timestamppb.New(base.Add(time.Duration(rng.IntN(100)) * time.Second))},
		})
	}
	var js cronJobsJobs
	kept := map[string]*pb.Job{}
	for _, i := range rng.Perm(len(jobs)) {
		js = js.add(cronJobsJobKey(jobs[i]))
		kept[jobs[i].GetMetadata().GetName()] = jobs[i]
		if rng.IntN(3) == 0 {
			victim := jobs[rng.IntN(len(jobs))]
			if kept[victim.GetMetadata().GetName()] != nil {
				js = js.remove(cronJobsJobKey(victim))
				delete(kept, victim.GetMetadata().GetName())
			}
		}
	}
	want := make([]*pb.Job, 0, len(kept))
	for _, j := range kept {
		want = append(want, j)
	}
	sortJobsBySchedule(want)
	if len(js) != len(want) {
		t.Fatalf("%d Jobs kept, want %d", len(js), len(want))
	}
	for i := range want {
		if js[i].name != want[i].GetMetadata().GetName() {
			t.Fatalf("position %d holds %s, want %s", i, js[i].name, want[i].GetMetadata().GetName())
		}
	}
}

// The FSM's hand-written shallow copies copy every field: a field added to
// one of these messages and not to its copy would be dropped by every
// status change.
func TestShallowCopiesCopyEveryField(t *testing.T) {
	meta, status, job := &pb.ObjectMeta{}, &pb.CronJobStatus{}, &pb.Job{}
	for _, m := range []proto.Message{meta, status, job} {
		fillEveryField(m.ProtoReflect())
		// And a field of a newer build (a rolling upgrade), which
		// proto.Equal compares too.
		m.ProtoReflect().SetUnknown(protowire.AppendVarint(protowire.AppendTag(nil, 999, protowire.VarintType), 7))
	}
	if got := copyMeta(meta); !proto.Equal(got, meta) {
		t.Errorf("copyMeta lost a field (known or unknown):\n got %v\nwant %v", got, meta)
	}
	if got := copyCronJobStatus(status); !proto.Equal(got, status) {
		t.Errorf("copyCronJobStatus lost a field (known or unknown):\n got %v\nwant %v", got, status)
	}
	if got := copyJob(job); !proto.Equal(got, job) {
		t.Errorf("copyJob lost a field (known or unknown):\n got %v\nwant %v", got, job)
	}
}

// fillEveryField sets every field of m to a value that is not the zero
// value (one element for lists and maps; sub-messages present, empty).
func fillEveryField(m protoreflect.Message) {
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		switch {
		case fd.IsMap():
			m.Mutable(fd).Map().Set(protoreflect.ValueOfString("k").MapKey(), scalarFor(fd.MapValue(), m.Mutable(fd).Map().NewValue()))
		case fd.IsList():
			l := m.Mutable(fd).List()
			l.Append(scalarFor(fd, l.NewElement()))
		case fd.Message() != nil:
			m.Set(fd, protoreflect.ValueOfMessage(m.NewField(fd).Message()))
		default:
			m.Set(fd, scalarFor(fd, m.NewField(fd)))
		}
	}
}

// scalarFor is a non-zero value for fd (zero is the field's new value; a
// message value is returned as it is).
func scalarFor(fd protoreflect.FieldDescriptor, zero protoreflect.Value) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString("x")
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(true)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(7)
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(7)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(7)
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(7)
	case protoreflect.EnumKind:
		return protoreflect.ValueOfEnum(1)
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes([]byte("x"))
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(7)
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(7)
	}
	return zero
}

// A Job written by a newer server during a rolling upgrade keeps the
// metadata fields this build does not know through a status change, as it
// did when status changes cloned the metadata: otherwise the replicas of
// the two builds would hold different Jobs.
func TestJobStatusChangeKeepsFieldsOfANewerBuild(t *testing.T) {
	s := NewState()
	a := &applier{t: &s.t, index: 1, rv: "1"}
	if r := a.applyResources(&pb.ApplyResources{CronJobs: []*pb.CronJob{richCronJobNoDeps()}}); r.GetCode() != "" {
		t.Fatal(r)
	}
	newer := protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 7)
	md := &pb.ObjectMeta{Name: "rich-1", Namespace: "ns"}
	md.ProtoReflect().SetUnknown(newer)
	if r := a.createJobs(&pb.CreateJobs{Jobs: []*pb.Job{{Metadata: md, Status: &pb.JobStatus{CronJob: "rich"}}}}); r.GetCode() != "" {
		t.Fatal(r)
	}
	a = &applier{t: &s.t, index: 2, rv: "2"}
	if r := a.putJobStatus(&pb.PutJobStatus{Namespace: "ns", Name: "rich-1", Status: &pb.JobStatus{Active: 1}}); r.GetCode() != "" {
		t.Fatal(r)
	}
	j := s.Job("ns", "rich-1")
	if got := j.GetMetadata().ProtoReflect().GetUnknown(); !bytes.Equal(got, newer) {
		t.Errorf("after a status change the Job's metadata holds unknown fields %x, want %x", got, newer)
	}
	if j.GetStatus().GetActive() != 1 || j.GetMetadata().GetResourceVersion() != "2" {
		t.Errorf("status change not applied: %v", j)
	}
}
