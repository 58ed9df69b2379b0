package cluster

import (
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

func workerIDs(ws []*pb.Worker) string {
	var ids []string
	for _, w := range ws {
		ids = append(ids, w.GetId()+"="+w.GetState())
	}
	return strings.Join(ids, ",")
}

// TestLostWorkersListedDeletedAndForgotten: a lost worker is listed apart
// (state Lost); deleting it is refused while it is connected, forgets it
// once lost, and leaves its attempts to the usual lease expiry; a lost
// worker is forgotten once the cluster setting lostWorkerRetention passes.
func TestLostWorkersListedDeletedAndForgotten(t *testing.T) {
	h := newSessionsHarness(t, fastConfig())
	if got := h.sessions.lostWorkerRetention(); got != DefaultLostWorkerRetention {
		t.Errorf("lost worker retention %v, want the default %v", got, DefaultLostWorkerRetention)
	}
	a := h.placeAttempt("held", "w1")
	w1 := h.connect(&pb.Hello{WorkerId: "w1", Slots: 1, Running: []*pb.AttemptRef{refOf(a)}})
	w1.next("welcome", func(m *pb.ServerMessage) bool { return m.GetWelcome() != nil })
	w1.report(1, a, "Running")
	w1.expectAck(1)
	w2 := h.connect(&pb.Hello{WorkerId: "w2", Slots: 1})
	w2.next("welcome", func(m *pb.ServerMessage) bool { return m.GetWelcome() != nil })
	pollUntil(t, 5*time.Second, "two workers ready", func() bool { return len(h.sessions.Ready()) == 2 })

	err := h.sessions.forgetLost("w1")
	if !errors.Is(err, pb.ErrConflict) || !strings.Contains(err.Error(), `worker "w1" is connected`) {
		t.Fatalf("delete of a connected worker: %v, want a conflict saying it is connected", err)
	}

	w1.cancel()
	pollUntil(t, 5*time.Second, "w1 to be lost", func() bool { return len(h.sessions.Ready()) == 1 })
	if got := workerIDs(h.sessions.List(pb.WorkerLost)); got != "w1=Lost" {
		t.Errorf("lost workers: %s, want w1=Lost", got)
	}
	if got := workerIDs(h.sessions.List(pb.WorkerReady)); got != "w2=Ready" {
		t.Errorf("ready workers: %s, want w2=Ready", got)
	}
	if got := workerIDs(h.sessions.List("")); got != "w1=Lost,w2=Ready" {
		t.Errorf("all workers: %s, want w1=Lost,w2=Ready", got)
	}

	if err := h.sessions.forgetLost("w1"); err != nil {
		t.Fatalf("delete of lost w1: %v", err)
	}
	if got := workerIDs(h.sessions.List("")); got != "w2=Ready" {
		t.Errorf("after delete worker w1: %s, want w2=Ready", got)
	}
	if err := h.sessions.forgetLost("w1"); !errors.Is(err, pb.ErrNotFound) {
		t.Errorf("second delete of w1: %v, want not found", err)
	}
	// Its attempt is still its own, and the leader still counts the time
	// since it heard from w1, so the lease expiry marks the attempt Lost.
	if got := h.node.State().Attempt("default", a.GetName()); got.GetState() != pb.AttemptRunning || got.GetWorker() != "w1" {
		t.Errorf("the deleted worker's attempt is %s on %q, want Running on w1", got.GetState(), got.GetWorker())
	}
	since := time.Now().Add(-time.Hour)
	if heard, ok := h.sessions.LastHeard(since)["w1"]; !ok || !heard.After(since) {
		t.Errorf("LastHeard after delete worker lacks w1 (%v): its attempt would never be marked Lost", heard)
	}

	// Retention: a lost worker heard from longer ago than it is forgotten.
	w2.cancel()
	pollUntil(t, 5*time.Second, "w2 to be lost", func() bool { return len(h.sessions.Ready()) == 0 })
	if got := workerIDs(h.sessions.List("")); got != "w2=Lost" {
		t.Errorf("after w2 left: %s, want w2=Lost", got)
	}
	cs := fastConfig().settings()
	cs.LostWorkerRetention = durationpb.New(time.Nanosecond)
	h.apply(&pb.Command{Op: &pb.Command_SetClusterSettings{SetClusterSettings: &pb.SetClusterSettings{Settings: cs, Now: timestamppb.Now()}}})
	if got := workerIDs(h.sessions.List("")); got != "" {
		t.Errorf("past the lost worker retention: %s, want none", got)
	}
}
