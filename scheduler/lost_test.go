package scheduler

import (
	"reflect"
	"testing"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestLostAttempts(t *testing.T) {
	const ttl = 30 * time.Second
	heard := t0
	w := newWorld(t)
	w.addJob(testJob("j"))
	put := func(name, state, worker string) {
		index := int32(name[2] - '0')
		w.attempts[wkey("default", name)] = &pb.Attempt{Namespace: "default", Job: "j", Name: name, State: state, Index: index, Number: 1,
			Worker: worker, CreatedTime: timestamppb.New(t0)}
	}
	put("j-0-1", pb.AttemptRunning, "gone")
	put("j-1-1", pb.AttemptAssigned, "gone")
	put("j-2-1", pb.AttemptPending, "")
	put("j-3-1", pb.AttemptRunning, "alive")  // connected: not in lost
	put("j-4-1", pb.AttemptSucceeded, "gone") // ended
	put("j-5-1", pb.AttemptRunning, "late")   // heard from more recently
	lost := map[string]time.Time{"gone": heard, "late": heard.Add(20 * time.Second)}

	tests := []struct {
		now  time.Time
		want []string
		next time.Time
	}{
		{t0.Add(ttl - time.Nanosecond), nil, t0.Add(ttl)},
		{t0.Add(ttl), []string{"lost:j-0-1", "lost:j-1-1"}, t0.Add(50 * time.Second)},
		{t0.Add(49 * time.Second), []string{"lost:j-0-1", "lost:j-1-1"}, t0.Add(50 * time.Second)},
		{t0.Add(50 * time.Second), []string{"lost:j-0-1", "lost:j-1-1", "lost:j-5-1"}, time.Time{}},
	}
	for _, tc := range tests {
		cmds := LostAttempts(w, lost, tc.now, ttl)
		if got := kinds(cmds); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("at +%s: %v, want %v", tc.now.Sub(t0), got, tc.want)
		}
		for _, c := range cmds {
			m := c.GetMarkAttemptLost()
			if m.Reason != ReasonWorkerLost || !m.Now.AsTime().Equal(tc.now) || m.Message == "" {
				t.Errorf("command %v", m)
			}
		}
		if next := NextLeaseExpiry(w, lost, tc.now, ttl); !next.Equal(tc.next) {
			t.Errorf("at +%s: next expiry %v, want %v", tc.now.Sub(t0), next, tc.next)
		}
	}
	if got := LostAttempts(w, nil, t0.Add(time.Hour), ttl); got != nil {
		t.Errorf("no lost workers: %v", kinds(got))
	}
	want := "worker gone not heard from since 2026-05-19T10:00:00Z, longer than the lease (30s)"
	if m := LostAttempts(w, lost, t0.Add(ttl), ttl)[0].GetMarkAttemptLost().Message; m != want {
		t.Errorf("message %q, want %q", m, want)
	}
}

// A lost attempt is replaced on another worker by the next reconcile.
func TestLostAttemptIsReplaced(t *testing.T) {
	w := newWorld(t)
	w.addJob(testJob("r", func(s *pb.JobSpec) { s.Template.Spec.RestartPolicy = "OnFailure" }))
	w.reconcile(workersN(2, 1), t0)
	w.report("r-0-1", pb.AttemptRunning, 0, t0)
	// w1 disconnects at +5s; a full lease later its attempt is lost.
	w.apply(LostAttempts(w, map[string]time.Time{"w1": t0.Add(5 * time.Second)}, t0.Add(35*time.Second), 30*time.Second))
	_, _, _ = w.reconcile(workersN(2, 1)[1:], t0.Add(35*time.Second))
	a := w.attempt("r-0-2")
	if a.Worker != "w2" || a.NotBefore != nil || a.PinnedWorker != "" {
		t.Errorf("replacement %v", a)
	}
	if j := w.job("r"); j.Status.Lost != 1 || j.Status.Failed != 0 {
		t.Errorf("status %v", j.Status)
	}
}
