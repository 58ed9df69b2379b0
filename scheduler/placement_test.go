package scheduler

import (
	"reflect"
	"testing"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestPlacement(t *testing.T) {
	ssd := map[string]string{"disk": "ssd"}
	tests := []struct {
		name        string
		workers     []WorkerInfo
		busy        map[string]int // attempts already running per worker
		selector    map[string]string
		parallelism int32
		wantAssign  []string // attempt@worker, in order
		wantPending map[string]string
	}{
		{
			name:        "no worker",
			parallelism: 1,
			wantPending: map[string]string{"default/p-0-1": "no connected worker"},
		},
		{
			name:        "nodeSelector matches none",
			workers:     []WorkerInfo{{ID: "a", Slots: 4, Labels: map[string]string{"disk": "hdd"}}},
			selector:    map[string]string{"disk": "ssd", "zone": "eu"},
			parallelism: 1,
			wantPending: map[string]string{"default/p-0-1": "no worker matches nodeSelector disk=ssd,zone=eu"},
		},
		{
			name: "nodeSelector picks the matching worker",
			workers: []WorkerInfo{
				{ID: "a", Slots: 4, Labels: map[string]string{"disk": "hdd"}},
				{ID: "b", Slots: 4, Labels: map[string]string{"disk": "ssd"}},
			},
			selector:    ssd,
			parallelism: 2,
			wantAssign:  []string{"p-0-1@b", "p-1-1@b"},
		},
		{
			name: "all matching workers full",
			workers: []WorkerInfo{
				{ID: "a", Slots: 1, Labels: ssd},
				{ID: "b", Slots: 2, Labels: ssd},
				{ID: "c", Slots: 5},
			},
			busy:        map[string]int{"a": 1, "b": 1},
			selector:    ssd,
			parallelism: 2,
			wantAssign:  []string{"p-0-1@b"},
			wantPending: map[string]string{"default/p-1-1": "all 2 matching workers are full"},
		},
		{
			name:        "spread: least loaded first, ties by id",
			workers:     []WorkerInfo{{ID: "c", Slots: 3}, {ID: "a", Slots: 3}, {ID: "b", Slots: 3}},
			busy:        map[string]int{"a": 1},
			parallelism: 5,
			wantAssign:  []string{"p-0-1@b", "p-1-1@c", "p-2-1@a", "p-3-1@b", "p-4-1@c"},
		},
		{
			name:        "zero slots take nothing",
			workers:     []WorkerInfo{{ID: "a", Slots: 0}},
			parallelism: 1,
			wantPending: map[string]string{"default/p-0-1": "the only matching worker a is full (0/0 slots used)"},
		},
		{
			name:        "a Job without a runtime selector never goes to an exec worker",
			workers:     []WorkerInfo{{ID: "a", Slots: 1, Runtime: "exec"}},
			parallelism: 1,
			wantPending: map[string]string{"default/p-0-1": "no connected worker runs containers; exec workers take only Jobs whose nodeSelector selects raftcron.io/runtime: exec"},
		},
		{
			name:        "container Jobs go to docker workers, exec Jobs to exec workers",
			workers:     []WorkerInfo{{ID: "a", Slots: 4, Runtime: "exec"}, {ID: "b", Slots: 4, Runtime: "docker"}},
			parallelism: 2,
			wantAssign:  []string{"p-0-1@b", "p-1-1@b"},
		},
		{
			name:        "an exec Job waits for an exec worker",
			workers:     []WorkerInfo{{ID: "b", Slots: 4, Runtime: "docker"}},
			selector:    map[string]string{LabelRuntime: "exec"},
			parallelism: 1,
			wantPending: map[string]string{"default/p-0-1": "no connected worker runs the exec runtime (nodeSelector raftcron.io/runtime=exec)"},
		},
		{
			name:        "other labels of exec workers",
			workers:     []WorkerInfo{{ID: "a", Slots: 1, Runtime: "exec", Labels: map[string]string{"role": "backup"}}, {ID: "b", Slots: 1, Runtime: "docker", Labels: map[string]string{"role": "backup"}}},
			selector:    map[string]string{LabelRuntime: "exec", "role": "gpu"},
			parallelism: 1,
			wantPending: map[string]string{"default/p-0-1": "no exec worker matches nodeSelector raftcron.io/runtime=exec,role=gpu"},
		},
		{
			name:        "hostname and runtime labels",
			workers:     []WorkerInfo{{ID: "a", Slots: 1, Runtime: "docker"}, {ID: "b", Slots: 1, Runtime: "exec"}},
			selector:    map[string]string{LabelHostname: "b", LabelRuntime: "exec"},
			parallelism: 1,
			wantAssign:  []string{"p-0-1@b"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			for wid, n := range tc.busy {
				name := "load-" + wid
				w.addJob(testJob(name, func(s *pb.JobSpec) { s.Parallelism, s.Completions = proto.Int32(int32(n)), proto.Int32(int32(n)) }))
				for i := 0; i < n; i++ {
					a := &pb.Attempt{Namespace: "default", Job: name, Index: int32(i), Number: 1, Name: AttemptName(name, int32(i), 1),
						State: pb.AttemptRunning, Worker: wid, CreatedTime: timestamppb.New(t0)}
					w.attempts[wkey("default", a.Name)] = a
				}
				j := proto.Clone(w.job(name)).(*pb.Job)
				j.Status = &pb.JobStatus{Active: int32(n), StartTime: timestamppb.New(t0)}
				w.jobs[wkey("default", name)] = j
			}
			w.addJob(testJob("p", func(s *pb.JobSpec) {
				s.Parallelism, s.Completions = proto.Int32(tc.parallelism), proto.Int32(tc.parallelism)
				s.Template.Spec.NodeSelector = tc.selector
			}))
			cmds, _, pending := ReconcileJobs(w, tc.workers, t0, JobOptions{})
			var assigns []string
			for _, c := range cmds {
				if as := c.GetAssignAttempt(); as != nil {
					assigns = append(assigns, as.Name+"@"+as.Worker)
					if !as.Now.AsTime().Equal(t0) {
						t.Errorf("assign now %v", as.Now.AsTime())
					}
				}
			}
			if !reflect.DeepEqual(assigns, tc.wantAssign) {
				t.Errorf("assigned %v, want %v", assigns, tc.wantAssign)
			}
			if tc.wantPending == nil {
				tc.wantPending = map[string]string{}
			}
			if !reflect.DeepEqual(pending, tc.wantPending) {
				t.Errorf("pending %v, want %v", pending, tc.wantPending)
			}
		})
	}
}

func TestConcurrencyGating(t *testing.T) {
	workers := workersN(2, 1)
	for _, tc := range []struct {
		policy, want string
	}{
		{"Forbid", "waiting for Job nightly-100 of CronJob nightly to finish (concurrencyPolicy Forbid)"},
		{"Replace", "waiting for Job nightly-100 of CronJob nightly to stop (concurrencyPolicy Replace)"},
		{"Allow", ""},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			w := newWorld(t)
			w.addCronJob("nightly", tc.policy)
			for i, name := range []string{"nightly-100", "nightly-101"} {
				j := w.addJob(testJob(name))
				j.Status = &pb.JobStatus{CronJob: "nightly", ScheduledTime: timestamppb.New(t0.Add(time.Duration(i) * time.Minute)), Manual: i == 1}
			}
			// Both Jobs are new and there is room for both: only the older
			// one may start (unless Allow).
			_, _, pending := w.reconcile(workers, t0)
			placed := w.placed()
			if tc.want == "" {
				if len(placed) != 2 || len(pending) != 0 {
					t.Fatalf("Allow: placed %v pending %v", placed, pending)
				}
				return
			}
			if !reflect.DeepEqual(placed, []string{"nightly-100-0-1"}) || pending[PendingKey("default", "nightly-101-0-1")] != tc.want {
				t.Fatalf("placed %v pending %v", placed, pending)
			}
			w.report("nightly-100-0-1", pb.AttemptRunning, 0, t0)
			if cmds, _, pending := w.reconcile(workers, t0.Add(time.Minute)); len(cmds) != 0 || pending[PendingKey("default", "nightly-101-0-1")] != tc.want {
				t.Fatalf("while running: %v %v", kinds(cmds), pending)
			}
			if tc.policy == "Replace" {
				// The cron controller replaced the old Job: it is killed, and
				// the new one still waits until the kill is reported.
				j := proto.Clone(w.job("nightly-100")).(*pb.Job)
				setCondition(j.Status, pb.ConditionFailed, "True", "Replaced", "replaced by nightly-101", timestamppb.New(t0))
				w.jobs[wkey("default", "nightly-100")] = j
				cmds, _, pending := w.reconcile(workers, t0.Add(2*time.Minute))
				if got := kinds(cmds); !reflect.DeepEqual(got, []string{"kill:nightly-100-0-1:Killed"}) || pending[PendingKey("default", "nightly-101-0-1")] != tc.want {
					t.Fatalf("after replace: %v %v", got, pending)
				}
				w.report("nightly-100-0-1", pb.AttemptFailed, 143, t0.Add(3*time.Minute))
			} else {
				w.report("nightly-100-0-1", pb.AttemptSucceeded, 0, t0.Add(3*time.Minute))
			}
			w.reconcile(workers, t0.Add(4*time.Minute))
			if a := w.attempt("nightly-101-0-1"); a.State != pb.AttemptAssigned {
				t.Errorf("new Job not started after the old one ended: %v", a)
			}
			// A completed Job of the CronJob sets its lastSuccessfulTime; a replaced one does not.
			last := w.CronJob("default", "nightly").GetStatus().GetLastSuccessfulTime()
			if tc.policy == "Replace" && last != nil {
				t.Errorf("lastSuccessfulTime %v after the only finished Job was replaced", last.AsTime())
			}
			if tc.policy != "Replace" && (last == nil || !last.AsTime().Equal(t0.Add(4*time.Minute))) {
				t.Errorf("lastSuccessfulTime = %v, want the completion at %v", last, t0.Add(4*time.Minute))
			}
		})
	}
}

func TestConcurrencyGatingIgnoresOtherCronJobsAndPlainJobs(t *testing.T) {
	w := newWorld(t)
	w.addCronJob("a", "Forbid")
	w.addCronJob("b", "Forbid")
	ja := w.addJob(testJob("a-1"))
	ja.Status = &pb.JobStatus{CronJob: "a"}
	jb := w.addJob(testJob("b-1"))
	jb.Status = &pb.JobStatus{CronJob: "b"}
	w.addJob(testJob("plain"))
	w.reconcile(workersN(1, 3), t0)
	if got := w.placed(); len(got) != 3 {
		t.Errorf("placed %v, want all three", got)
	}
}
