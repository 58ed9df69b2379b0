package cluster_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/raftcron/raftcron/client"
	"github.com/raftcron/raftcron/cluster"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// BenchmarkBurst1000CronJobs: 1,000 CronJobs due in the same second on a
// one-server cluster. Reports how long from the scheduled time until all 1,000
// Jobs and their first attempts are committed, and how many Raft entries that
// took. Run with -benchtime 1x (each burst waits for a tick).
func BenchmarkBurst1000CronJobs(b *testing.B) {
	s, err := cluster.New(cluster.Config{
		NodeID: "b1", DataDir: filepath.Join(b.TempDir(), "b1"), RaftAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0",
		Bootstrap: true, HeartbeatTimeout: 200 * time.Millisecond, ElectionTimeout: 200 * time.Millisecond,
		LeaderLeaseTimeout: 100 * time.Millisecond, CommitTimeout: 5 * time.Millisecond, Insecure: true,
	})
	if err != nil {
		b.Fatal(err)
	}
	s.Start()
	defer s.Stop()
	deadline := time.Now().Add(10 * time.Second)
	for !s.IsLeader() {
		if time.Now().After(deadline) {
			b.Fatal("no leader")
		}
		time.Sleep(10 * time.Millisecond)
	}
	c, err := newClient(s.GRPCAddr())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	var res []*pb.Resource
	for i := 0; i < 1000; i++ {
		cj := yearlyCronJob(fmt.Sprintf("burst-%04d", i))
		cj.GetCronJob().Spec.Schedule = "*/10 * * * * *"
		res = append(res, cj)
	}
	if _, err := c.Apply(context.Background(), res, false); err != nil {
		b.Fatal(err)
	}
	st := s.Node().State()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		// Wait for the next tick boundary, then for all 1,000 Jobs.
		tick := time.Now().Truncate(10 * time.Second).Add(10 * time.Second)
		time.Sleep(time.Until(tick) - 50*time.Millisecond)
		before := lastIndex(b, s)
		want := len(st.UnfinishedJobs()) + 1000
		for len(st.UnfinishedJobs()) < want || len(st.UnfinishedAttempts()) < want {
			time.Sleep(2 * time.Millisecond)
		}
		b.ReportMetric(time.Since(tick).Seconds()*1000, "ms-to-1000-jobs-and-attempts")
		b.ReportMetric(float64(lastIndex(b, s)-before), "raft-entries")
	}
}

func lastIndex(b *testing.B, s *cluster.Server) uint64 {
	v, err := strconv.ParseUint(s.Node().Stats()["last_log_index"], 10, 64)
	if err != nil {
		b.Fatal(err)
	}
	return v
}

func newClient(addr string) (*client.Client, error) {
	return client.New(client.Config{Servers: []string{addr}, Insecure: true})
}
