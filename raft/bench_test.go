package raft_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	hraft "github.com/hashicorp/raft"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/raft"
)

// BenchmarkApplyBurst1000Jobs applies one Raft entry that creates 1,000 Jobs
// for 1,000 CronJobs due in the same second (a top-of-the-hour burst).
func BenchmarkApplyBurst1000Jobs(b *testing.B) {
	base := raft.NewFSM(quietLogger())
	var cjs []*pb.CronJob
	for i := 0; i < 1000; i++ {
		cjs = append(cjs, cronJob("ns", fmt.Sprintf("c%04d", i), "0 * * * *"))
	}
	apply(b, base, 1, applyRes(0, cjs, nil))
	var snap bytes.Buffer
	persist(b, base, &snap)
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		f := raft.NewFSM(quietLogger())
		if err := f.Restore(nopCloser{bytes.NewReader(snap.Bytes())}); err != nil {
			b.Fatal(err)
		}
		var jobs []*pb.Job
		for i := 0; i < 1000; i++ {
			jobs = append(jobs, cronJobRun("ns", fmt.Sprintf("c%04d", i), fmt.Sprintf("c%04d-%d", i, n), time.Hour))
		}
		cmd := createJobs(jobs...)
		b.StartTimer()
		apply(b, f, 2, cmd)
	}
}

// BenchmarkSnapshot10kJobs persists a state of 1,000 CronJobs and 10,000 Jobs.
func BenchmarkSnapshot10kJobs(b *testing.B) {
	f := raft.NewFSM(quietLogger())
	var cjs []*pb.CronJob
	for i := 0; i < 1000; i++ {
		cjs = append(cjs, cronJob("ns", fmt.Sprintf("c%04d", i), "0 * * * *"))
	}
	apply(b, f, 1, applyRes(0, cjs, nil))
	for r := 0; r < 10; r++ {
		var jobs []*pb.Job
		for i := 0; i < 1000; i++ {
			jobs = append(jobs, cronJobRun("ns", fmt.Sprintf("c%04d", i), fmt.Sprintf("c%04d-%d", i, r), time.Duration(r)*time.Hour))
		}
		apply(b, f, uint64(2+r), createJobs(jobs...))
	}
	b.ReportAllocs()
	b.ResetTimer()
	var size int
	for n := 0; n < b.N; n++ {
		var buf bytes.Buffer
		persist(b, f, &buf)
		size = buf.Len()
	}
	b.ReportMetric(float64(size), "snapshot-bytes")
}

func apply(b *testing.B, f *raft.FSM, index uint64, cmd *pb.Command) {
	data, err := raft.EncodeCommand(cmd)
	if err != nil {
		b.Fatal(err)
	}
	if r, ok := f.Apply(&hraft.Log{Index: index, Term: 1, Type: hraft.LogCommand, Data: data}).(*pb.CommandResult); ok && r.GetError() != "" {
		b.Fatal(r.GetError())
	}
}

type bufSink struct {
	*bytes.Buffer
}

func (bufSink) ID() string    { return "bench" }
func (bufSink) Cancel() error { return nil }
func (bufSink) Close() error  { return nil }

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

func persist(b *testing.B, f *raft.FSM, w *bytes.Buffer) {
	s, err := f.Snapshot()
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Persist(bufSink{w}); err != nil {
		b.Fatal(err)
	}
	s.Release()
}
