package ui

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// countingAPI is a cluster API holding many Jobs that counts what the
// dashboard reads of them.
type countingAPI struct {
	pb.UnimplementedRaftCronServer
	jobs int

	mu                       sync.Mutex
	jobsListed, attemptLists int
	calls                    []string
}

func (f *countingAPI) note(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *countingAPI) WhoAmI(context.Context, *pb.WhoAmIRequest) (*pb.WhoAmIResponse, error) {
	return &pb.WhoAmIResponse{AclsDisabled: true}, nil
}

func (f *countingAPI) Members(context.Context, *pb.MembersRequest) (*pb.MembersResponse, error) {
	f.note("Members")
	return &pb.MembersResponse{Members: []*pb.Member{{Id: "n1", Leader: true, Voter: true}}}, nil
}

func (f *countingAPI) ListWorkers(context.Context, *pb.ListWorkersRequest) (*pb.ListWorkersResponse, error) {
	f.note("ListWorkers")
	return &pb.ListWorkersResponse{Workers: []*pb.Worker{{Id: "w1", Slots: 4, Used: 1, State: pb.WorkerReady, Runtime: "docker"}}}, nil
}

func (f *countingAPI) Summary(_ context.Context, req *pb.SummaryRequest) (*pb.SummaryResponse, error) {
	f.note("Summary")
	running := &pb.Attempt{Namespace: "default", Job: "now", Name: "now-0-1", State: pb.AttemptRunning, Worker: "w1"}
	return &pb.SummaryResponse{CronJobs: 1000, UnfinishedJobs: 1, Runs: &pb.RunCount{Invoked: 4321, Succeeded: int64(f.jobs), Failed: 7, Skipped: 3},
		Workers: []*pb.WorkerRuns{{Worker: "w1", Running: []*pb.Attempt{running}}}}, nil
}

// List answers Job lists with every Job it holds (paged), counting them.
func (f *countingAPI) List(_ context.Context, req *pb.ListRequest) (*pb.ListResponse, error) {
	f.note("List " + req.GetKind())
	if req.GetKind() != pb.KindJob {
		return &pb.ListResponse{}, nil
	}
	out := &pb.ListResponse{}
	for i := range min(f.jobs, 500) {
		out.Items = append(out.Items, &pb.Resource{Kind: &pb.Resource_Job{Job: &pb.Job{Metadata: &pb.ObjectMeta{Name: fmt.Sprintf("j-%d", i), Namespace: "default"}}}})
	}
	f.mu.Lock()
	f.jobsListed += len(out.Items)
	f.mu.Unlock()
	return out, nil
}

func (f *countingAPI) ListAttempts(context.Context, *pb.ListAttemptsRequest) (*pb.ListAttemptsResponse, error) {
	f.note("ListAttempts")
	f.mu.Lock()
	f.attemptLists++
	f.mu.Unlock()
	return &pb.ListAttemptsResponse{}, nil
}

// The overview and workers pages of a cluster holding 20,000 Jobs read no
// Job and no attempt list: their counts and runs come from Summary.
func TestOverviewAndWorkersReadNoJobs(t *testing.T) {
	api := &countingAPI{jobs: 20000}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	pb.RegisterRaftCronServer(gs, api)
	go func() { _ = gs.Serve(lis) }()
	defer gs.Stop()
	h, err := New(Config{Addr: lis.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()

	for _, page := range []struct{ path, want string }{{"/ui/", "4321"}, {"/ui/", "20000"}, {"/ui/workers", "now-0-1"}} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, page.path, nil))
		body, _ := io.ReadAll(rec.Body)
		if rec.Code != http.StatusOK || !strings.Contains(string(body), page.want) {
			t.Errorf("GET %s: %d, want 200 showing %q:\n%s", page.path, rec.Code, page.want, body)
		}
	}
	api.mu.Lock()
	defer api.mu.Unlock()
	if api.jobsListed != 0 || api.attemptLists != 0 {
		t.Errorf("the overview and workers pages read %d Jobs and %d attempt lists (calls %v); want none", api.jobsListed, api.attemptLists, api.calls)
	}
}
