package raft_test

import (
	"fmt"
	"runtime"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/raft"
)

// benchShapedCronJob is the CronJob `raftcron bench` applies
// (cmd/raftcron/bench.go benchCronJobs) with the exec runtime.
func benchShapedCronJob(name string) *pb.CronJob {
	return &pb.CronJob{
		ApiVersion: raft.APIVersion, Kind: raft.KindCronJob,
		Metadata: &pb.ObjectMeta{Name: name, Namespace: "bench"},
		Spec: &pb.CronJobSpec{
			Schedule:                   "0 0 1 1 *",
			TimeZone:                   proto.String("UTC"),
			SuccessfulJobsHistoryLimit: proto.Int32(100),
			JobTemplate: &pb.JobTemplateSpec{Spec: &pb.JobSpec{
				Template: &pb.PodTemplateSpec{Spec: &pb.PodSpec{
					RestartPolicy: "Never",
					NodeSelector:  map[string]string{"raftcron.io/runtime": "exec"},
					Containers:    []*pb.Container{{Name: "main", Image: "busybox", Command: []string{"/bin/true"}}},
				}},
			}},
		},
	}
}

// applyBenchCronJobs applies n bench-shaped CronJobs, 1,000 per entry (as
// the bench does), to a new FSM.
func applyBenchCronJobs(b *testing.B, n int) *raft.FSM {
	f := raft.NewFSM(quietLogger())
	index := uint64(0)
	for i := 0; i < n; i += 1000 {
		var cjs []*pb.CronJob
		for j := i; j < min(i+1000, n); j++ {
			cjs = append(cjs, benchShapedCronJob(fmt.Sprintf("bench-%06d", j)))
		}
		index++
		apply(b, f, index, applyRes(0, cjs, nil))
	}
	return f
}

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkCronJobHeap reports the live heap an FSM holds per stored
// bench-shaped CronJob (10,000 of them; the watch log, which keeps the
// last DefaultWatchLogSize changes, included).
func BenchmarkCronJobHeap(b *testing.B) {
	const n = 10000
	var perCronJob float64
	for i := 0; i < b.N; i++ {
		before := liveHeap()
		f := applyBenchCronJobs(b, n)
		after := liveHeap()
		perCronJob = float64(int64(after)-int64(before)) / n
		runtime.KeepAlive(f)
	}
	b.ReportMetric(perCronJob, "heap-bytes/cronjob")
}

// BenchmarkStateCronJob reads one stored CronJob.
func BenchmarkStateCronJob(b *testing.B) {
	st := applyBenchCronJobs(b, 1000).State()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if st.CronJob("bench", "bench-000500") == nil {
			b.Fatal("not found")
		}
	}
}
