package scheduler

import (
	"errors"
	"math"
	"strings"
	"testing"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"google.golang.org/protobuf/proto"
)

func TestCheckLimits(t *testing.T) {
	lim := Limits{MaxObjectBytes: 4096, MaxCronJobsPerNamespace: 2, MaxParallelism: 10, MaxCompletions: 20}
	count := fakeCounter{pb.KindCronJob: 1}
	job := func(name string, mutate ...func(*pb.JobSpec)) *pb.Resource {
		return &pb.Resource{Kind: &pb.Resource_Job{Job: testJob(name, mutate...)}}
	}
	cron := func(name string) *pb.Resource {
		return &pb.Resource{Kind: &pb.Resource_CronJob{CronJob: &pb.CronJob{Metadata: &pb.ObjectMeta{Name: name, Namespace: "default"},
			Spec: &pb.CronJobSpec{Schedule: "@hourly", JobTemplate: &pb.JobTemplateSpec{Spec: testJob("x").Spec}}}}}
	}
	tests := []struct {
		name string
		res  []*pb.Resource
		want string // "" = allowed
	}{
		{"small", []*pb.Resource{job("a")}, ""},
		{"oversized", []*pb.Resource{job("big", func(s *pb.JobSpec) {
			s.Template.Spec.Containers[0].Args = []string{strings.Repeat("x", 5000)}
		})}, `Job "big" is 50`},
		{"parallelism", []*pb.Resource{job("p", func(s *pb.JobSpec) { s.Parallelism = proto.Int32(math.MaxInt32) })},
			`Job "p": parallelism 2147483647 is over the limit of 10 (--max-parallelism)`},
		{"completions", []*pb.Resource{job("c", func(s *pb.JobSpec) { s.Completions = proto.Int32(21) })},
			`completions 21 is over the limit of 20 (--max-completions)`},
		{"one more cronjob fits", []*pb.Resource{cron("a")}, ""},
		{"two more do not", []*pb.Resource{cron("a"), cron("b")},
			`CronJob "b": namespace "default" would hold 3 CronJobs, over the limit of 2 per namespace (--max-cronjobs-per-namespace)`},
		{"updates add nothing", []*pb.Resource{cron("a"), cron("exists")}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckLimits(tc.res, lim, count)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, pb.ErrLimitExceeded)):
				t.Fatalf("err = %v, want %q (ErrLimitExceeded)", err, tc.want)
			}
		})
	}
	if err := CheckLimits([]*pb.Resource{job("big", func(s *pb.JobSpec) {
		s.Template.Spec.Containers[0].Args = []string{strings.Repeat("x", 5000)}
	})}, lim, count); !strings.Contains(err.Error(), "over the object size limit of 4096 bytes (--max-object-size)") {
		t.Fatalf("err = %v", err)
	}
}

// A Job with a huge parallelism gets its attempts as they are placed, a
// bounded number at a time, not all at once.
func TestPendingAttemptsCreatedAsSlotsAllow(t *testing.T) {
	w := newWorld(t)
	w.addJob(testJob("wide", func(s *pb.JobSpec) { s.Parallelism = proto.Int32(math.MaxInt32) }))
	opts := JobOptions{MaxPendingAttemptsPerJob: 5}
	cmds, _, _ := ReconcileJobs(w, nil, t0, opts) // no worker: nothing is placed
	w.apply(cmds)
	if n := len(w.Attempts("default", "wide")); n != 5 {
		t.Fatalf("%d attempts created with no worker, want 5", n)
	}
	cmds, _, _ = ReconcileJobs(w, nil, t0, opts)
	w.apply(cmds)
	if n := len(w.Attempts("default", "wide")); n != 5 {
		t.Fatalf("%d attempts after a second pass with none placed, want 5", n)
	}
	// A worker with 3 slots takes 3; the next pass tops Pending up to 5 again.
	workers := workersN(1, 3)
	cmds, _, _ = ReconcileJobs(w, workers, t0, opts)
	w.apply(cmds)
	cmds, _, _ = ReconcileJobs(w, workers, t0, opts)
	w.apply(cmds)
	pending, total := 0, len(w.Attempts("default", "wide"))
	for _, a := range w.Attempts("default", "wide") {
		if a.GetState() == pb.AttemptPending {
			pending++
		}
	}
	if total != 8 || pending != 5 {
		t.Fatalf("%d attempts, %d Pending; want 8 and 5", total, pending)
	}
}

// countingWorld is a world that counts unfinished attempts per namespace.
type countingWorld struct{ *world }

func (c countingWorld) UnfinishedAttemptsIn(ns string) int {
	n := 0
	for _, a := range c.UnfinishedAttempts() {
		if a.GetNamespace() == ns {
			n++
		}
	}
	return n
}

func TestNamespaceUnfinishedAttemptQuota(t *testing.T) {
	w := newWorld(t)
	for _, n := range []string{"a", "b", "c"} {
		w.addJob(testJob(n, func(s *pb.JobSpec) { s.Parallelism = proto.Int32(3); s.Completions = proto.Int32(3) }))
	}
	r := ReconcileSome(countingWorld{w}, w.UnfinishedJobs(), nil, t0, JobOptions{MaxUnfinishedAttemptsPerNamespace: 7})
	w.apply(r.Commands)
	if n := len(w.UnfinishedAttempts()); n != 7 {
		t.Fatalf("%d unfinished attempts, want the quota of 7", n)
	}
	if len(r.Waiting) == 0 || r.Waiting[len(r.Waiting)-1].Name != "c" {
		t.Fatalf("waiting = %v, want job c looked at again when slots free up", r.Waiting)
	}
}

// fakeCounter holds n objects of each kind in every namespace; "exists" exists.
type fakeCounter map[string]int

func (f fakeCounter) CountIn(kind, ns string) int       { return f[kind] }
func (f fakeCounter) Exists(kind, ns, name string) bool { return name == "exists" }
