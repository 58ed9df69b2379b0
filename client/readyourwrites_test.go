package client

import (
	"context"
	"net"
	"strconv"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// laggingServer plays a follower whose first Trigger was committed but
// answered Unavailable (leadership moved), and whose replica only shows the
// Job to reads that carry the index of the write.
type laggingServer struct {
	pb.UnimplementedRaftCronServer
	mu       sync.Mutex
	triggers int
	minIndex []uint64 // the min index each Get carried
}

const committedAt = 41

func (s *laggingServer) Trigger(ctx context.Context, req *pb.TriggerRequest) (*pb.Job, error) {
	s.mu.Lock()
	s.triggers++
	n := s.triggers
	s.mu.Unlock()
	if n == 1 {
		return nil, status.Error(codes.Unavailable, "leadership lost while committing; retry")
	}
	_ = grpc.SetTrailer(ctx, metadata.Pairs(pb.MetadataIndex, strconv.Itoa(committedAt)))
	return nil, status.Errorf(codes.AlreadyExists, "job %q already exists", req.GetJobName())
}

func (s *laggingServer) Get(ctx context.Context, req *pb.GetRequest) (*pb.Resource, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	var min uint64
	if v := md.Get(pb.MetadataMinIndex); len(v) > 0 {
		min, _ = strconv.ParseUint(v[0], 10, 64)
	}
	s.mu.Lock()
	s.minIndex = append(s.minIndex, min)
	s.mu.Unlock()
	if min < committedAt {
		return nil, status.Errorf(codes.NotFound, "job %q not found", req.GetName())
	}
	return &pb.Resource{Kind: &pb.Resource_Job{Job: &pb.Job{Metadata: &pb.ObjectMeta{Name: req.GetName(), Namespace: req.GetNamespace()}}}}, nil
}

// Issue 10 (5): a trigger whose first attempt was committed and whose retry
// finds the Job returns the Job, not AlreadyExists: the retry's read carries
// the index the AlreadyExists answer reported.
func TestTriggerRetryNeverTurnsSuccessIntoAnError(t *testing.T) {
	srv := &laggingServer{}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	pb.RegisterRaftCronServer(gs, srv)
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)

	c := dial(t, lis.Addr().String())
	job, err := c.Trigger(testCtx(t), "default", "nightly", "nightly-now")
	if err != nil {
		t.Fatalf("Trigger: %v, want the Job its first attempt created", err)
	}
	if job.GetMetadata().GetName() != "nightly-now" {
		t.Fatalf("Trigger returned %v", job)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.minIndex) == 0 || srv.minIndex[len(srv.minIndex)-1] != committedAt {
		t.Fatalf("reads carried min indexes %v, want the last at %d", srv.minIndex, committedAt)
	}
}
