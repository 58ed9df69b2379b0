package raft

import (
	"fmt"
	"sync"
	"testing"
	"time"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

func richCronJob() *pb.CronJob {
	return &pb.CronJob{
		ApiVersion: APIVersion, Kind: KindCronJob,
		Metadata: &pb.ObjectMeta{
			Name: "rich", Namespace: "ns", Uid: "u-1", ResourceVersion: "9", Generation: 2,
			CreationTimestamp: timestamppb.New(time.Date(2026, 5, 19, 11, 0, 0, 0, time.UTC)),
			Labels:            map[string]string{"team": "a", "tier": "batch"},
			Annotations:       map[string]string{"note": "x"},
		},
		Spec: &pb.CronJobSpec{
			Schedule:          "*/5 * * * *",
			TimeZone:          proto.String("Europe/Paris"),
			ConcurrencyPolicy: "Forbid",
			Suspend:           proto.Bool(true),
			DependsOn:         []*pb.CronJobDependency{{CronJob: "up1", Within: "2h"}, {CronJob: "up2"}},
			JobTemplate: &pb.JobTemplateSpec{Spec: &pb.JobSpec{
				Template: &pb.PodTemplateSpec{Spec: &pb.PodSpec{
					RestartPolicy: "Never",
					NodeSelector:  map[string]string{"raftcron.io/runtime": "exec", "zone": "b"},
					Containers: []*pb.Container{{
						Name: "main", Image: "busybox", Command: []string{"sh", "-c", "echo $A"},
						Env: []*pb.EnvVar{{Name: "A", Value: "1"}, {Name: "B", Value: "2"}},
					}},
				}},
			}},
		},
		Status: &pb.CronJobStatus{LastScheduleTime: timestamppb.New(time.Date(2026, 5, 19, 12, 0, 0, 0, time.UTC))},
	}
}

// A CronJob comes out of the tables as it went in, and is written to a
// snapshot byte for byte as a marshal of the whole object would write it.
func TestStoredCronJobRoundTrip(t *testing.T) {
	withUnknown := richCronJob()
	withUnknown.ProtoReflect().SetUnknown(protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 7))
	for name, in := range map[string]*pb.CronJob{
		"rich":          richCronJob(),
		"no spec":       {Metadata: &pb.ObjectMeta{Name: "a", Namespace: "ns"}},
		"empty spec":    {Metadata: &pb.ObjectMeta{Name: "a", Namespace: "ns"}, Spec: &pb.CronJobSpec{}},
		"unknown field": withUnknown,
	} {
		t.Run(name, func(t *testing.T) {
			want := proto.Clone(in).(*pb.CronJob)
			tb := newTables()
			tb.putCronJob(in)
			got := (&State{t: tb}).CronJob("ns", in.GetMetadata().GetName())
			if !proto.Equal(got, want) {
				t.Fatalf("got\n%v\nwant\n%v", got, want)
			}
			c := tb.cronJobs[nsName{"ns", in.GetMetadata().GetName()}]
			if c.suspend != want.GetSpec().GetSuspend() || len(c.deps) != len(want.GetSpec().GetDependsOn()) {
				t.Fatalf("spec facts: suspend %v, deps %v", c.suspend, c.deps)
			}
			wantBytes, err := proto.MarshalOptions{Deterministic: true}.Marshal(want)
			if err != nil {
				t.Fatal(err)
			}
			gotBytes, err := c.appendMarshal(nil)
			if err != nil {
				t.Fatal(err)
			}
			if string(gotBytes) != string(wantBytes) {
				t.Fatalf("snapshot encoding differs from a marshal of the object:\n%x\n%x", gotBytes, wantBytes)
			}
		})
	}
}

// Status changes (the scheduler's per-tick update and the derived
// status.active) store a new CronJob that shares the encoded spec: they
// never decode and encode it again.
func TestCronJobStatusUpdateSharesSpecBytes(t *testing.T) {
	s := NewState()
	a := &applier{t: &s.t, index: 1, rv: "1"}
	if r := a.applyResources(&pb.ApplyResources{CronJobs: []*pb.CronJob{richCronJobNoDeps()}}); r.GetCode() != "" {
		t.Fatal(r)
	}
	s.t.flushActive()
	k := nsName{"ns", "rich"}
	spec := unsafe.SliceData(s.t.cronJobs[k].spec)

	a = &applier{t: &s.t, index: 2, rv: "2"}
	if r := a.updateCronJobStatus(&pb.UpdateCronJobStatus{Namespace: "ns", Name: "rich", LastScheduleTime: timestamppb.New(time.Date(2026, 5, 19, 12, 0, 0, 0, time.UTC))}); r.GetCode() != "" {
		t.Fatal(r)
	}
	if r := a.createJobs(&pb.CreateJobs{Jobs: []*pb.Job{{Metadata: &pb.ObjectMeta{Name: "rich-1", Namespace: "ns"}, Status: &pb.JobStatus{CronJob: "rich"}}}}); r.GetCode() != "" {
		t.Fatal(r)
	}
	s.t.flushActive()
	c := s.t.cronJobs[k]
	if c.status.GetLastScheduleTime() == nil || len(c.status.GetActive()) != 1 || c.meta.GetResourceVersion() != "2" {
		t.Fatalf("status not updated: %v %v", c.status, c.meta)
	}
	if unsafe.SliceData(c.spec) != spec {
		t.Fatal("a status update encoded the spec again instead of sharing it")
	}

	// A labels-only apply shares it too; a spec change does not.
	a = &applier{t: &s.t, index: 3, rv: "3"}
	in := richCronJobNoDeps()
	in.Metadata.Labels = map[string]string{"new": "label"}
	a.applyResources(&pb.ApplyResources{CronJobs: []*pb.CronJob{in}})
	if c := s.t.cronJobs[k]; unsafe.SliceData(c.spec) != spec || c.meta.GetLabels()["new"] != "label" {
		t.Fatal("a labels-only apply did not share the spec bytes")
	}
	in = richCronJobNoDeps()
	in.Spec.Schedule = "0 * * * *"
	a.applyResources(&pb.ApplyResources{CronJobs: []*pb.CronJob{in}})
	if c := s.t.cronJobs[k]; unsafe.SliceData(c.spec) == spec || c.decodeSpec().GetSchedule() != "0 * * * *" {
		t.Fatal("a spec change kept the old spec")
	}
}

func richCronJobNoDeps() *pb.CronJob {
	cj := richCronJob()
	cj.Spec.DependsOn = nil
	cj.Status = nil
	return cj
}

// The State reads a CronJob's spec once per change: later reads of the same
// stored CronJob share the decoded spec (specCache), a change is read anew,
// and readers on many goroutines each get the spec of what they read.
func TestCronJobSpecDecodedOncePerChange(t *testing.T) {
	s := NewState()
	put := func(rv, schedule string) {
		cj := richCronJobNoDeps()
		cj.Spec.Schedule = schedule
		a := &applier{t: &s.t, index: 1, rv: rv}
		if r := a.applyResources(&pb.ApplyResources{CronJobs: []*pb.CronJob{cj}}); r.GetCode() != "" {
			t.Fatal(r)
		}
	}
	put("1", "0 * * * *")
	first := s.CronJob("ns", "rich").GetSpec()
	if again := s.CronJob("ns", "rich").GetSpec(); again != first {
		t.Error("a second read of an unchanged CronJob decoded its spec again")
	}
	put("2", "30 * * * *")
	if got := s.CronJob("ns", "rich").GetSpec().GetSchedule(); got != "30 * * * *" {
		t.Fatalf("after a change the spec reads schedule %q, want 30 * * * *", got)
	}

	// Many CronJobs (more than the cache holds), read concurrently.
	for i := range 3000 {
		cj := richCronJobNoDeps()
		cj.Metadata.Name = fmt.Sprintf("c%04d", i)
		cj.Spec.Schedule = fmt.Sprintf("%d * * * *", i%60)
		a := &applier{t: &s.t, index: 3, rv: "3"}
		if r := a.applyResources(&pb.ApplyResources{CronJobs: []*pb.CronJob{cj}}); r.GetCode() != "" {
			t.Fatal(r)
		}
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 3000 {
				n := (i*7 + g*811) % 3000
				want := fmt.Sprintf("%d * * * *", n%60)
				if got := s.CronJob("ns", fmt.Sprintf("c%04d", n)).GetSpec().GetSchedule(); got != want {
					t.Errorf("c%04d reads schedule %q, want %q", n, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

// A suspend changes a copy of the spec, never the decoded spec readers share:
// what a reader got before stays as it was.
func TestSuspendLeavesTheSharedSpecAlone(t *testing.T) {
	s := NewState()
	a := &applier{t: &s.t, index: 1, rv: "1"}
	cj := richCronJobNoDeps()
	cj.Spec.Suspend = proto.Bool(false)
	if r := a.applyResources(&pb.ApplyResources{CronJobs: []*pb.CronJob{cj}}); r.GetCode() != "" {
		t.Fatal(r)
	}
	before := s.CronJob("ns", "rich")
	a = &applier{t: &s.t, index: 2, rv: "2"}
	if r := a.setSuspend(&pb.SetSuspend{Kind: KindCronJob, Namespace: "ns", Name: "rich", Suspend: true}); r.GetCode() != "" {
		t.Fatal(r)
	}
	if before.GetSpec().GetSuspend() {
		t.Error("a CronJob read before the suspend now says suspended: the suspend changed the shared spec")
	}
	if !s.CronJob("ns", "rich").GetSpec().GetSuspend() {
		t.Error("the CronJob read after the suspend is not suspended")
	}
}
