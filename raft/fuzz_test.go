package raft_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	hraft "github.com/hashicorp/raft"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/raft"
)

// FuzzFSMApply: the FSM applies any bytes without panicking, except the
// documented refusal of a command whose op is empty or unknown, and two
// FSMs given the same entries end with byte-identical snapshots. Each
// input is two log entries applied after a fixed prelude, so commands find
// objects to act on.
func FuzzFSMApply(f *testing.F) {
	enc := func(c *pb.Command) []byte {
		b, err := raft.EncodeCommand(c)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	seeds := []*pb.Command{
		applyRes(0, []*pb.CronJob{cronJob("team-a", "report", "0 3 * * *")}, []*pb.Job{plainJob("", "adhoc")}),
		applySecrets(0, secret("team-a", "db", "password", "s3cr3t")),
		createJobs(cronJobRun("team-a", "report", "report-9", time.Minute)),
		createAttempts(attempt("", "adhoc", 0, 2)),
		assign("", "adhoc-0-1", "w1", time.Second),
		report(&pb.ReportAttempt{Namespace: "default", Name: "adhoc-0-1", Worker: "w1", Incarnation: 3, State: "Succeeded"}),
		markLost("", "adhoc-0-1", time.Minute),
		requestKill("", "adhoc-0-1", "Killed", time.Minute),
		setSuspend("CronJob", "team-a", "report", true),
		deleteRes("Job", "", "adhoc"),
		deleteRes(pb.KindSecret, "team-a", "db"),
		batch(deleteRes("CronJob", "team-a", "report"), registerServer("n9", "a", "b")),
		aclBootstrap("boot", strings.Repeat("a", 64)),
		{Op: &pb.Command_RestoreState{RestoreState: &pb.RestoreState{Snapshot: []byte("RCSNAP")}}},
		{Op: &pb.Command_SetClusterSettings{SetClusterSettings: &pb.SetClusterSettings{Settings: &pb.ClusterSettings{}}}},
	}
	for i, s := range seeds {
		f.Add(enc(s), enc(seeds[(i+1)%len(seeds)]))
	}
	f.Add([]byte{}, []byte{0xff})
	f.Fuzz(func(t *testing.T, first, second []byte) {
		a, b := raft.NewFSM(quietLogger()), raft.NewFSM(quietLogger())
		prelude := [][]byte{
			enc(applyRes(0, []*pb.CronJob{cronJob("team-a", "report", "0 3 * * *")}, []*pb.Job{plainJob("", "adhoc")})),
			enc(createAttempts(attempt("", "adhoc", 0, 1))),
			enc(assign("", "adhoc-0-1", "w1", time.Second)),
		}
		entries := append(prelude, first, second)
		for i, data := range entries {
			l := &hraft.Log{Index: uint64(i + 1), Term: 1, Type: hraft.LogCommand, Data: data}
			ra, pa := applySafely(a, l)
			rb, pb2 := applySafely(b, l)
			if pa != pb2 {
				t.Fatalf("entry %d: the two FSMs disagree on panicking: %q vs %q", i, pa, pb2)
			}
			if pa != "" {
				if !strings.Contains(pa, "unknown command op") && !strings.Contains(pa, "is nil") {
					t.Fatalf("entry %d: undocumented panic: %s", i, pa)
				}
				return // a replica stops here, by design
			}
			if fmt.Sprint(ra) != fmt.Sprint(rb) {
				t.Fatalf("entry %d: results differ: %v vs %v", i, ra, rb)
			}
		}
		if sa, sb := snapshotBytes(t, a), snapshotBytes(t, b); !bytes.Equal(sa.Bytes(), sb.Bytes()) {
			t.Fatal("two FSMs given the same entries have different snapshots")
		}
	})
}

func applySafely(f *raft.FSM, l *hraft.Log) (res any, panicked string) {
	defer func() {
		if r := recover(); r != nil {
			panicked = fmt.Sprint(r)
		}
	}()
	return f.Apply(l), ""
}
