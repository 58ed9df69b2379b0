package cluster_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/raftcron/raftcron/client"
	"github.com/raftcron/raftcron/cluster"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// welcomeFrom opens a worker session on addr and returns its Welcome.
func welcomeFrom(t *testing.T, addr string) *pb.Welcome {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := pb.NewWorkerServiceClient(conn).Session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Hello{Hello: &pb.Hello{WorkerId: "probe", Slots: 1}}}); err != nil {
		t.Fatal(err)
	}
	m, err := st.Recv()
	if err != nil {
		t.Fatal(err)
	}
	return m.GetWelcome() // nil on a redirect: not leading (yet)
}

// Issue 10 (13): lease and worker TTLs are cluster settings replicated
// through Raft; servers started with other flags cannot change them by
// winning an election.
func TestClusterSettingsAreReplicatedAndSurviveFailover(t *testing.T) {
	other := cluster.WorkerConfig{HeartbeatInterval: 100 * time.Millisecond, WorkerTTL: 3 * time.Second, LeaseTTL: 7 * time.Second}
	tc := newTestClusterWith(t, 3, func(i int, nd *testNode) {
		if i > 0 {
			nd.worker = &other // n1 bootstraps with the usual 2s lease
		}
	})
	leader := tc.waitLeader()
	fol := tc.follower()
	c := dial(t, fol.grpcAddr)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	var cs *pb.ClusterSettings
	tc.waitFor(10*time.Second, "the first leader's flags recorded", func() bool {
		var err error
		cs, err = c.ClusterSettings(ctx)
		return err == nil && fol.server().Node().State().Settings() != nil
	})
	if cs.GetLeaseTtl().AsDuration() != 2*time.Second || cs.GetWorkerTtl().AsDuration() != time.Second {
		t.Fatalf("settings = %v, want the first leader's flags (lease 2s, worker TTL 1s)", cs)
	}

	_, err := c.UpdateClusterSettings(ctx, &pb.ClusterSettings{LeaseTtl: durationpb.New(10 * time.Millisecond)})
	if !errors.Is(err, client.ErrInvalid) || !strings.Contains(err.Error(), "leaseTTL") {
		t.Fatalf("update to a 10ms lease: %v, want invalid naming leaseTTL", err)
	}
	cs, err = c.UpdateClusterSettings(ctx, &pb.ClusterSettings{LeaseTtl: durationpb.New(3 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if cs.GetLeaseTtl().AsDuration() != 3*time.Second || cs.GetWorkerTtl().AsDuration() != time.Second {
		t.Fatalf("settings after update = %v, want lease 3s and the worker TTL kept", cs)
	}

	tc.stop(leader)
	next := tc.waitLeader()
	if next == leader {
		t.Fatal("the stopped server still leads")
	}
	var w *pb.Welcome
	tc.waitFor(10*time.Second, "a welcome from the new leader", func() bool {
		w = welcomeFrom(t, next.grpcAddr)
		return w != nil
	})
	if w.GetLeaseTtl().AsDuration() != 3*time.Second {
		t.Fatalf("a worker connecting to the new leader is told lease %v, want the replicated 3s", w.GetLeaseTtl().AsDuration())
	}
	c2 := dial(t, next.grpcAddr)
	if cs, err = c2.ClusterSettings(ctx); err != nil || cs.GetLeaseTtl().AsDuration() != 3*time.Second {
		t.Fatalf("settings after failover to a server started with --lease-ttl 7s = %v, %v; want lease 3s", cs, err)
	}
}
