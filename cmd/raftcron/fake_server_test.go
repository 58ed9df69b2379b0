package main

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/scheduler"
)

// fakeCluster is an in-memory RaftCron server for CLI tests: it keeps
// objects the way the real API shows them (defaults filled, metadata and
// status set) and answers errors with messages like the real one.
type fakeCluster struct {
	pb.UnimplementedRaftCronServer

	mu       sync.Mutex
	created  time.Time
	cronJobs map[string]*pb.CronJob // key namespace/name
	jobs     map[string]*pb.Job
	attempts []*pb.Attempt
	workers  []*pb.Worker
	members  []*pb.Member
	logs     map[string]string // job -> output
	// job -> the marks timing the lines of its output (none: times unknown)
	logMarks map[string][]*pb.LineMark
	// jobScript, when set for a job, gives the Job's successive statuses as
	// Get is called (the last repeats).
	jobScript map[string][]*pb.JobStatus
	version   int
	suspends  []string
	deletes   []string
	triggers  []*pb.TriggerRequest
	removed   []string
	settings  *pb.ClusterSettings
	changes   []*pb.ClusterSettings
	events    []*pb.Event
	// feed: changes the test sends to watchers after their initial list.
	feed chan *pb.WatchEvent
	// watches: how many Watch calls the fake has served.
	watches int
}

func newFakeCluster(created time.Time) *fakeCluster {
	return &fakeCluster{
		created:   created,
		cronJobs:  map[string]*pb.CronJob{},
		jobs:      map[string]*pb.Job{},
		logs:      map[string]string{},
		logMarks:  map[string][]*pb.LineMark{},
		jobScript: map[string][]*pb.JobStatus{},
		feed:      make(chan *pb.WatchEvent, 100),
	}
}

// start serves f on 127.0.0.1:0 until the test ends and returns the address.
func (f *fakeCluster) start(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer()
	pb.RegisterRaftCronServer(s, f)
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Serve(lis) }()
	t.Cleanup(func() { s.Stop(); <-done })
	return lis.Addr().String()
}

func key(ns, name string) string { return ns + "/" + name }

func (f *fakeCluster) Apply(_ context.Context, req *pb.ApplyRequest) (*pb.ApplyResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	res := make([]*pb.Resource, len(req.GetResources()))
	for i, r := range req.GetResources() {
		res[i] = proto.Clone(r).(*pb.Resource)
	}
	if err := scheduler.PrepareResources(res); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	out := &pb.ApplyResponse{}
	for _, r := range res {
		switch {
		case r.GetCronJob() != nil:
			cj := r.GetCronJob()
			k := key(cj.GetMetadata().GetNamespace(), cj.GetMetadata().GetName())
			action := "created"
			if old, ok := f.cronJobs[k]; ok {
				action = "unchanged"
				if !proto.Equal(old.GetSpec(), cj.GetSpec()) {
					action = "configured"
				}
				cj.Metadata.CreationTimestamp = old.GetMetadata().GetCreationTimestamp()
				cj.Metadata.Uid = old.GetMetadata().GetUid()
				cj.Status = old.GetStatus()
			} else {
				cj.Metadata.CreationTimestamp = timestamppb.New(f.created)
				cj.Metadata.Uid = fmt.Sprintf("uid-%s", k)
				cj.Status = &pb.CronJobStatus{}
			}
			f.version++
			cj.Metadata.ResourceVersion = fmt.Sprint(f.version)
			if !req.GetDryRun() {
				f.cronJobs[k] = cj
			}
			out.Results = append(out.Results, &pb.ApplyResult{Kind: "CronJob", Namespace: cj.GetMetadata().GetNamespace(), Name: cj.GetMetadata().GetName(), Action: action})
		case r.GetJob() != nil:
			j := r.GetJob()
			k := key(j.GetMetadata().GetNamespace(), j.GetMetadata().GetName())
			action := "created"
			if old, ok := f.jobs[k]; ok {
				action = "unchanged"
				if !proto.Equal(old.GetSpec(), j.GetSpec()) {
					action = "configured"
				}
				j.Metadata.CreationTimestamp = old.GetMetadata().GetCreationTimestamp()
				j.Status = old.GetStatus()
			} else {
				j.Metadata.CreationTimestamp = timestamppb.New(f.created)
				j.Status = &pb.JobStatus{}
			}
			if !req.GetDryRun() {
				f.jobs[k] = j
			}
			out.Results = append(out.Results, &pb.ApplyResult{Kind: "Job", Namespace: j.GetMetadata().GetNamespace(), Name: j.GetMetadata().GetName(), Action: action})
		}
	}
	return out, nil
}

func (f *fakeCluster) Get(_ context.Context, req *pb.GetRequest) (*pb.Resource, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := key(req.GetNamespace(), req.GetName())
	switch req.GetKind() {
	case "CronJob":
		if cj, ok := f.cronJobs[k]; ok {
			return &pb.Resource{Kind: &pb.Resource_CronJob{CronJob: cj}}, nil
		}
		return nil, status.Errorf(codes.NotFound, "cronjob %q not found in namespace %q", req.GetName(), req.GetNamespace())
	case "Job":
		j, ok := f.jobs[k]
		if !ok {
			return nil, status.Errorf(codes.NotFound, "job %q not found in namespace %q", req.GetName(), req.GetNamespace())
		}
		if script := f.jobScript[req.GetName()]; len(script) > 0 {
			j.Status = script[0]
			if len(script) > 1 {
				f.jobScript[req.GetName()] = script[1:]
			}
		}
		return &pb.Resource{Kind: &pb.Resource_Job{Job: j}}, nil
	}
	return nil, status.Errorf(codes.InvalidArgument, "kind %q: want CronJob or Job", req.GetKind())
}

func (f *fakeCluster) List(_ context.Context, req *pb.ListRequest) (*pb.ListResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &pb.ListResponse{}
	inNS := func(m *pb.ObjectMeta) bool { return req.GetAllNamespaces() || m.GetNamespace() == req.GetNamespace() }
	switch req.GetKind() {
	case "CronJob":
		for _, cj := range f.cronJobs {
			if inNS(cj.GetMetadata()) {
				out.Items = append(out.Items, &pb.Resource{Kind: &pb.Resource_CronJob{CronJob: cj}})
			}
		}
	case "Job":
		for _, j := range f.jobs {
			if inNS(j.GetMetadata()) && (req.GetCronJob() == "" || j.GetStatus().GetCronJob() == req.GetCronJob()) {
				out.Items = append(out.Items, &pb.Resource{Kind: &pb.Resource_Job{Job: j}})
			}
		}
	default:
		return nil, status.Errorf(codes.InvalidArgument, "kind %q: want CronJob or Job", req.GetKind())
	}
	return out, nil
}

func (f *fakeCluster) Delete(_ context.Context, req *pb.DeleteRequest) (*pb.DeleteResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := key(req.GetNamespace(), req.GetName())
	switch req.GetKind() {
	case "CronJob":
		if _, ok := f.cronJobs[k]; !ok {
			return nil, status.Errorf(codes.NotFound, "cronjob %q not found in namespace %q", req.GetName(), req.GetNamespace())
		}
		// As the server: an upstream still named in a dependsOn stays.
		for dk, cj := range f.cronJobs {
			for _, d := range cj.GetSpec().GetDependsOn() {
				if dk != k && cj.GetMetadata().GetNamespace() == req.GetNamespace() && d.GetCronJob() == req.GetName() {
					return nil, status.Errorf(codes.InvalidArgument, "cronjob %s is an upstream of %s (spec.dependsOn)", k, cj.GetMetadata().GetName())
				}
			}
		}
		delete(f.cronJobs, k)
	case "Job":
		if _, ok := f.jobs[k]; !ok {
			return nil, status.Errorf(codes.NotFound, "job %q not found in namespace %q", req.GetName(), req.GetNamespace())
		}
		delete(f.jobs, k)
	}
	f.deletes = append(f.deletes, req.GetKind()+"/"+k)
	return &pb.DeleteResponse{}, nil
}

func (f *fakeCluster) SetSuspend(_ context.Context, req *pb.SetSuspendRequest) (*pb.SetSuspendResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := key(req.GetNamespace(), req.GetName())
	if req.GetKind() == "CronJob" {
		cj, ok := f.cronJobs[k]
		if !ok {
			return nil, status.Errorf(codes.NotFound, "cronjob %q not found in namespace %q", req.GetName(), req.GetNamespace())
		}
		cj.Spec.Suspend = proto.Bool(req.GetSuspend())
	}
	f.suspends = append(f.suspends, fmt.Sprintf("%s/%s=%v", req.GetKind(), k, req.GetSuspend()))
	return &pb.SetSuspendResponse{}, nil
}

func (f *fakeCluster) Trigger(_ context.Context, req *pb.TriggerRequest) (*pb.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cj, ok := f.cronJobs[key(req.GetNamespace(), req.GetCronJob())]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "cronjob %q not found in namespace %q", req.GetCronJob(), req.GetNamespace())
	}
	f.triggers = append(f.triggers, req)
	j := &pb.Job{
		ApiVersion: "batch/v1", Kind: "Job",
		Metadata: &pb.ObjectMeta{Name: req.GetJobName(), Namespace: req.GetNamespace(), CreationTimestamp: timestamppb.New(f.created)},
		Spec:     proto.Clone(cj.GetSpec().GetJobTemplate().GetSpec()).(*pb.JobSpec),
		Status:   &pb.JobStatus{CronJob: req.GetCronJob(), Manual: true},
	}
	if req.GetWithUpstreams() && len(cj.GetSpec().GetDependsOn()) > 0 {
		// The real leader makes the upstreams' Jobs and lets this one wait.
		var ups []string
		for _, d := range cj.GetSpec().GetDependsOn() {
			ups = append(ups, d.GetCronJob()+"="+d.GetCronJob()+"-manual-1")
		}
		j.Metadata.Annotations = map[string]string{scheduler.AnnotationUpstreamJobs: strings.Join(ups, ",")}
		return j, nil
	}
	f.jobs[key(req.GetNamespace(), req.GetJobName())] = j
	return j, nil
}

func (f *fakeCluster) ListAttempts(_ context.Context, req *pb.ListAttemptsRequest) (*pb.ListAttemptsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &pb.ListAttemptsResponse{}
	for _, a := range f.attempts {
		if (req.GetAllNamespaces() || a.GetNamespace() == req.GetNamespace()) && (req.GetJob() == "" || a.GetJob() == req.GetJob()) {
			out.Attempts = append(out.Attempts, a)
		}
	}
	return out, nil
}

func (f *fakeCluster) ListWorkers(_ context.Context, req *pb.ListWorkersRequest) (*pb.ListWorkersResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &pb.ListWorkersResponse{}
	for _, w := range f.workers {
		if req.GetState() == "" || w.GetState() == req.GetState() {
			out.Workers = append(out.Workers, w)
		}
	}
	return out, nil
}

func (f *fakeCluster) DeleteWorker(_ context.Context, req *pb.DeleteWorkerRequest) (*pb.DeleteWorkerResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, w := range f.workers {
		if w.GetId() != req.GetId() {
			continue
		}
		if w.GetState() != pb.WorkerLost {
			return nil, status.Errorf(codes.FailedPrecondition, "worker %q is connected (Ready, from %s): stop it first", w.GetId(), w.GetAddress())
		}
		f.workers = append(f.workers[:i], f.workers[i+1:]...)
		return &pb.DeleteWorkerResponse{}, nil
	}
	return nil, status.Errorf(codes.NotFound, "worker %q not found among lost workers", req.GetId())
}

func (f *fakeCluster) Logs(req *pb.LogsRequest, stream grpc.ServerStreamingServer[pb.LogChunk]) error {
	f.mu.Lock()
	k := fmt.Sprintf("%s#%d", req.GetJob(), req.GetAttempt()) // one attempt's output
	out, ok := f.logs[k]
	if !ok {
		k = req.GetJob()
		out, ok = f.logs[k]
	}
	marks := f.logMarks[k]
	f.mu.Unlock()
	if !ok {
		return status.Errorf(codes.NotFound, "job %q has no attempt with index %d", req.GetJob(), req.GetIndex())
	}
	return stream.Send(&pb.LogChunk{Data: []byte(out), Attempt: fmt.Sprintf("%s-%d-1", req.GetJob(), req.GetIndex()), Marks: marks})
}

func (f *fakeCluster) Members(context.Context, *pb.MembersRequest) (*pb.MembersResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &pb.MembersResponse{Members: f.members}, nil
}

func (f *fakeCluster) RemovePeer(_ context.Context, req *pb.RemovePeerRequest) (*pb.RemovePeerResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, m := range f.members {
		if m.GetId() == req.GetNodeId() {
			f.members = append(f.members[:i], f.members[i+1:]...)
			f.removed = append(f.removed, req.GetNodeId())
			return &pb.RemovePeerResponse{}, nil
		}
	}
	return nil, status.Errorf(codes.NotFound, "server %q is not a member of the cluster", req.GetNodeId())
}

func (f *fakeCluster) GetClusterSettings(context.Context, *pb.GetClusterSettingsRequest) (*pb.ClusterSettings, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return proto.Clone(f.settings).(*pb.ClusterSettings), nil
}

func (f *fakeCluster) UpdateClusterSettings(_ context.Context, req *pb.UpdateClusterSettingsRequest) (*pb.ClusterSettings, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := req.GetSettings()
	f.changes = append(f.changes, proto.Clone(c).(*pb.ClusterSettings))
	if c.GetHeartbeatInterval() != nil {
		f.settings.HeartbeatInterval = c.GetHeartbeatInterval()
	}
	if c.GetWorkerTtl() != nil {
		f.settings.WorkerTtl = c.GetWorkerTtl()
	}
	if c.GetLeaseTtl() != nil {
		f.settings.LeaseTtl = c.GetLeaseTtl()
	}
	if c.GetLostWorkerRetention() != nil {
		f.settings.LostWorkerRetention = c.GetLostWorkerRetention()
	}
	return proto.Clone(f.settings).(*pb.ClusterSettings), nil
}

// Watch sends the matching objects as ADDED and a BOOKMARK at index 1; a
// Job with a script then changes through the script (MODIFIED at index 2,
// 3 …); then every event the test puts into feed is sent.
func (f *fakeCluster) Watch(req *pb.WatchRequest, stream pb.RaftCron_WatchServer) error {
	f.mu.Lock()
	f.watches++
	inNS := func(ns string) bool { return req.GetAllNamespaces() || ns == req.GetNamespace() }
	var initial []*pb.WatchEvent
	var script []*pb.JobStatus
	if req.GetKind() == "" || req.GetKind() == "CronJob" {
		for _, cj := range sortedValues(f.cronJobs) {
			if inNS(cj.GetMetadata().GetNamespace()) && (req.GetName() == "" || req.GetName() == cj.GetMetadata().GetName()) {
				initial = append(initial, &pb.WatchEvent{Type: "ADDED", Index: 1, Object: &pb.WatchEvent_CronJob{CronJob: cj}})
			}
		}
	}
	if req.GetKind() == "" || req.GetKind() == "Job" {
		for _, j := range sortedValues(f.jobs) {
			if inNS(j.GetMetadata().GetNamespace()) && (req.GetName() == "" || req.GetName() == j.GetMetadata().GetName()) {
				if sc := f.jobScript[j.GetMetadata().GetName()]; len(sc) > 0 && req.GetName() != "" {
					script = sc[1:]
					j = proto.Clone(j).(*pb.Job)
					j.Status = sc[0]
				}
				initial = append(initial, &pb.WatchEvent{Type: "ADDED", Index: 1, Object: &pb.WatchEvent_Job{Job: j}})
			}
		}
	}
	if req.GetKind() == "" || req.GetKind() == "Attempt" {
		for _, a := range f.attempts {
			if inNS(a.GetNamespace()) && (req.GetName() == "" || req.GetName() == a.GetName()) {
				initial = append(initial, &pb.WatchEvent{Type: "ADDED", Index: 1, Object: &pb.WatchEvent_Attempt{Attempt: a}})
			}
		}
	}
	if req.GetKind() == "Event" {
		for _, e := range f.events {
			if inNS(e.GetNamespace()) {
				initial = append(initial, &pb.WatchEvent{Type: "ADDED", Index: 1, Object: &pb.WatchEvent_Event{Event: e}})
			}
		}
	}
	var last *pb.Job
	if n := len(initial); n > 0 {
		last = initial[n-1].GetJob()
	}
	f.mu.Unlock()
	if req.GetSinceIndex() == 0 {
		for _, ev := range initial {
			if err := stream.Send(ev); err != nil {
				return err
			}
		}
		if err := stream.Send(&pb.WatchEvent{Type: "BOOKMARK", Index: 1}); err != nil {
			return err
		}
	}
	for i, st := range script {
		j := proto.Clone(last).(*pb.Job)
		j.Status = st
		if err := stream.Send(&pb.WatchEvent{Type: "MODIFIED", Index: uint64(2 + i), Object: &pb.WatchEvent_Job{Job: j}}); err != nil {
			return err
		}
	}
	for {
		select {
		case <-stream.Context().Done():
			return nil
		case ev := <-f.feed:
			if err := stream.Send(ev); err != nil {
				return err
			}
		}
	}
}

func (f *fakeCluster) ListEvents(_ context.Context, req *pb.ListEventsRequest) (*pb.ListEventsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &pb.ListEventsResponse{}
	for _, e := range f.events {
		switch {
		case !req.GetAllNamespaces() && e.GetNamespace() != req.GetNamespace(),
			req.GetCronJob() != "" && e.GetCronJob() != req.GetCronJob(),
			req.GetJob() != "" && e.GetJob() != req.GetJob():
			continue
		}
		out.Events = append(out.Events, e)
	}
	return out, nil
}

func sortedValues[T any](m map[string]T) []T {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]T, 0, len(m))
	for _, k := range keys {
		out = append(out, m[k])
	}
	return out
}
