package raft_test

import (
	"io"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	hraft "github.com/hashicorp/raft"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/raft"
)

// t0 is a fixed instant; tests never read the wall clock for FSM input.
var t0 = time.Date(2026, 5, 19, 11, 0, 0, 0, time.UTC)

func ts(d time.Duration) *timestamppb.Timestamp { return timestamppb.New(t0.Add(d)) }

// quietLogger discards logs; RAFTCRON_TEST_LOG=1 sends them to stderr at Debug.
func quietLogger() *slog.Logger {
	if os.Getenv("RAFTCRON_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// fsmHarness drives an FSM directly with consecutive log indexes.
type fsmHarness struct {
	t     *testing.T
	fsm   *raft.FSM
	index uint64
}

func newHarness(t *testing.T) *fsmHarness {
	t.Helper()
	return &fsmHarness{t: t, fsm: raft.NewFSM(quietLogger())}
}

func (h *fsmHarness) state() *raft.State { return h.fsm.State() }

func (h *fsmHarness) raw(cmd *pb.Command) any {
	h.t.Helper()
	data, err := raft.EncodeCommand(cmd)
	if err != nil {
		h.t.Fatalf("encode: %v", err)
	}
	h.index++
	return h.fsm.Apply(&hraft.Log{Index: h.index, Term: 1, Type: hraft.LogCommand, Data: data})
}

// apply applies one non-batch command and returns its result.
func (h *fsmHarness) apply(cmd *pb.Command) *pb.CommandResult {
	h.t.Helper()
	r, ok := h.raw(cmd).(*pb.CommandResult)
	if !ok {
		h.t.Fatalf("Apply returned %T, want *pb.CommandResult", r)
	}
	return r
}

// mustApply applies a command and fails the test on a domain error.
func (h *fsmHarness) mustApply(cmd *pb.Command) *pb.CommandResult {
	h.t.Helper()
	r := h.apply(cmd)
	if err := r.Err(); err != nil {
		h.t.Fatalf("apply %v: %v", cmd, err)
	}
	return r
}

func wantCode(t *testing.T, r *pb.CommandResult, code string) {
	t.Helper()
	if r.GetCode() != code || r.GetError() == "" {
		t.Fatalf("result = {code %q, error %q}, want code %q with a message", r.GetCode(), r.GetError(), code)
	}
}

// ---------------------------------------------------------------- builders

func cronJob(ns, name, schedule string) *pb.CronJob {
	return &pb.CronJob{
		Metadata: &pb.ObjectMeta{Name: name, Namespace: ns},
		Spec: &pb.CronJobSpec{
			Schedule:          schedule,
			ConcurrencyPolicy: "Forbid",
			JobTemplate: &pb.JobTemplateSpec{Spec: &pb.JobSpec{
				Template: &pb.PodTemplateSpec{Spec: &pb.PodSpec{
					RestartPolicy: "Never",
					Containers:    []*pb.Container{{Name: "main", Image: "busybox", Command: []string{"echo", name}}},
				}},
			}},
		},
	}
}

func plainJob(ns, name string) *pb.Job {
	return &pb.Job{
		Metadata: &pb.ObjectMeta{Name: name, Namespace: ns},
		Spec: &pb.JobSpec{
			Completions: proto.Int32(1),
			Template: &pb.PodTemplateSpec{Spec: &pb.PodSpec{
				RestartPolicy: "Never",
				Containers:    []*pb.Container{{Name: "main", Image: "busybox"}},
			}},
		},
	}
}

// cronJobRun is a Job made by a CronJob for a scheduled time.
func cronJobRun(ns, cron, name string, scheduled time.Duration) *pb.Job {
	j := plainJob(ns, name)
	j.Metadata.CreationTimestamp = ts(scheduled)
	j.Status = &pb.JobStatus{CronJob: cron, ScheduledTime: ts(scheduled)}
	return j
}

func attempt(ns, job string, index, number int32) *pb.Attempt {
	return &pb.Attempt{
		Namespace:   ns,
		Job:         job,
		Index:       index,
		Number:      number,
		Name:        job + "-" + itoa(index) + "-" + itoa(number),
		CreatedTime: ts(0),
	}
}

func itoa(i int32) string { return strconv.Itoa(int(i)) }

// ---------------------------------------------------------------- commands

func applyRes(now time.Duration, cjs []*pb.CronJob, jobs []*pb.Job) *pb.Command {
	return &pb.Command{Op: &pb.Command_ApplyResources{ApplyResources: &pb.ApplyResources{CronJobs: cjs, Jobs: jobs, Now: ts(now)}}}
}

func createJobs(jobs ...*pb.Job) *pb.Command {
	return &pb.Command{Op: &pb.Command_CreateJobs{CreateJobs: &pb.CreateJobs{Jobs: jobs}}}
}

func createAttempts(as ...*pb.Attempt) *pb.Command {
	return &pb.Command{Op: &pb.Command_CreateAttempts{CreateAttempts: &pb.CreateAttempts{Attempts: as}}}
}

func deleteRes(kind, ns, name string) *pb.Command {
	return &pb.Command{Op: &pb.Command_DeleteResource{DeleteResource: &pb.DeleteResource{Kind: kind, Namespace: ns, Name: name}}}
}

func setSuspend(kind, ns, name string, suspend bool) *pb.Command {
	return &pb.Command{Op: &pb.Command_SetSuspend{SetSuspend: &pb.SetSuspend{Kind: kind, Namespace: ns, Name: name, Suspend: suspend, Now: ts(0)}}}
}

func assign(ns, name, worker string, now time.Duration) *pb.Command {
	return &pb.Command{Op: &pb.Command_AssignAttempt{AssignAttempt: &pb.AssignAttempt{Namespace: ns, Name: name, Worker: worker, Now: ts(now)}}}
}

func report(r *pb.ReportAttempt) *pb.Command {
	return &pb.Command{Op: &pb.Command_ReportAttempt{ReportAttempt: r}}
}

func markLost(ns, name string, now time.Duration) *pb.Command {
	return &pb.Command{Op: &pb.Command_MarkAttemptLost{MarkAttemptLost: &pb.MarkAttemptLost{
		Namespace: ns, Name: name, Reason: "WorkerLost", Message: "lease expired", Now: ts(now)}}}
}

func requestKill(ns, name, reason string, now time.Duration) *pb.Command {
	return &pb.Command{Op: &pb.Command_RequestKill{RequestKill: &pb.RequestKill{
		Namespace: ns, Name: name, Reason: reason, Message: "stop " + name, Now: ts(now)}}}
}

func putJobStatus(ns, name string, st *pb.JobStatus) *pb.Command {
	return &pb.Command{Op: &pb.Command_PutJobStatus{PutJobStatus: &pb.PutJobStatus{Namespace: ns, Name: name, Status: st}}}
}

func updateCronStatus(ns, name string, last, success *timestamppb.Timestamp, ds ...*pb.ScheduleDecision) *pb.Command {
	return &pb.Command{Op: &pb.Command_UpdateCronJobStatus{UpdateCronJobStatus: &pb.UpdateCronJobStatus{
		Namespace: ns, Name: name, Decisions: ds, LastScheduleTime: last, LastSuccessfulTime: success}}}
}

func registerServer(id, raftAddr, grpcAddr string) *pb.Command {
	return &pb.Command{Op: &pb.Command_RegisterServer{RegisterServer: &pb.RegisterServer{NodeId: id, RaftAddress: raftAddr, GrpcAddress: grpcAddr}}}
}

func batch(cmds ...*pb.Command) *pb.Command {
	return &pb.Command{Op: &pb.Command_Batch{Batch: &pb.Batch{Commands: cmds}}}
}

func completeCondition() *pb.JobStatus {
	return &pb.JobStatus{Conditions: []*pb.JobCondition{{Type: "Complete", Status: "True", LastTransitionTime: ts(0)}}, Succeeded: 1}
}

func names[T interface{ GetMetadata() *pb.ObjectMeta }](objs []T) []string {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.GetMetadata().GetNamespace()+"/"+o.GetMetadata().GetName())
	}
	return out
}

func attemptNames(as []*pb.Attempt) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, a.GetName())
	}
	return out
}
