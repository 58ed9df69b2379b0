package cluster_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

func jobResource(name string, selector map[string]string) *pb.Resource {
	return &pb.Resource{Kind: &pb.Resource_Job{Job: &pb.Job{
		ApiVersion: "batch/v1", Kind: "Job",
		Metadata: &pb.ObjectMeta{Name: name},
		Spec: &pb.JobSpec{Completions: proto.Int32(1), Template: &pb.PodTemplateSpec{Spec: &pb.PodSpec{
			RestartPolicy: "Never", NodeSelector: selector,
			Containers: []*pb.Container{{Name: "main", Image: "busybox:1.28", Command: []string{"true"}}},
		}}},
	}}}
}

// connectWorker keeps a worker session with labels open on the leader at
// addr, heartbeating, until the test ends.
func connectWorker(t *testing.T, addr, id string, labels map[string]string) {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); conn.Close() })
	st, err := pb.NewWorkerServiceClient(conn).Session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Hello{Hello: &pb.Hello{WorkerId: id, Slots: 1, Labels: labels, Runtime: "docker"}}}); err != nil {
		t.Fatal(err)
	}
	if m, err := st.Recv(); err != nil || m.GetWelcome() == nil {
		t.Fatalf("worker %s: first message %v, %v; want a welcome", id, m, err)
	}
	go func() {
		for {
			if _, err := st.Recv(); err != nil {
				return
			}
		}
	}()
	go func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for seq := uint64(1); ; seq++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if st.Send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Heartbeat{Heartbeat: &pb.Heartbeat{Seq: seq}}}) != nil {
					return
				}
			}
		}
	}()
}

// Issue 10 (11): a Pending attempt says why, through the API (what
// `describe job` and `get attempts` print).
func TestPendingAttemptSaysWhyThroughTheAPI(t *testing.T) {
	tc := newTestCluster(t, 3)
	leader := tc.waitLeader()
	c := dial(t, tc.follower().grpcAddr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	waitReason := func(job, want string) {
		t.Helper()
		var got []*pb.Attempt
		tc.waitFor(10*time.Second, "the reason of "+job+"'s Pending attempt", func() bool {
			var err error
			got, err = c.ListAttempts(ctx, "default", job)
			return err == nil && len(got) == 1 && got[0].GetState() == pb.AttemptPending && got[0].GetMessage() == want
		})
	}
	if _, err := c.Apply(ctx, []*pb.Resource{jobResource("lonely", nil)}, false); err != nil {
		t.Fatal(err)
	}
	waitReason("lonely", "no connected worker")

	connectWorker(t, leader.grpcAddr, "cpu-1", map[string]string{"role": "cpu"})
	if _, err := c.Apply(ctx, []*pb.Resource{jobResource("train", map[string]string{"role": "gpu"})}, false); err != nil {
		t.Fatal(err)
	}
	waitReason("train", "no worker matches nodeSelector role=gpu")
}
