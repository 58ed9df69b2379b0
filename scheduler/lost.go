package scheduler

import (
	"fmt"
	"sort"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// LostAttempts returns a MarkAttemptLost (reason WorkerLost) for every
// Assigned or Running attempt on a worker in lost whose lease has run out:
// now − lastHeard ≥ leaseTTL.
//
// lost maps a worker id to the last time the leader heard from it, for
// workers that are not connected. The caller must include every worker that
// holds an unfinished attempt and is not connected: for a worker this leader
// never heard from, it passes the time it became leader, so a new leader
// waits a full lease before it replaces anything (a worker that cannot renew
// kills its containers by then). Attempts on workers absent from lost are
// left alone.
//
// Pending attempts are not on a worker and are never lost. Only the lost
// workers' attempts are read; the commands are ordered by worker, then in
// the View's order (namespace, Job, index, number within a Job).
func LostAttempts(v View, lost map[string]time.Time, now time.Time, leaseTTL time.Duration) []*pb.Command {
	var cmds []*pb.Command
	for _, w := range sortedWorkers(lost) {
		heard := lost[w]
		if now.Sub(heard) < leaseTTL {
			continue
		}
		for _, a := range v.AttemptsOnWorker(w) {
			if a.GetState() != pb.AttemptAssigned && a.GetState() != pb.AttemptRunning {
				continue
			}
			cmds = append(cmds, &pb.Command{Op: &pb.Command_MarkAttemptLost{MarkAttemptLost: &pb.MarkAttemptLost{
				Namespace: a.GetNamespace(),
				Name:      a.GetName(),
				Reason:    ReasonWorkerLost,
				Message: fmt.Sprintf("worker %s not heard from since %s, longer than the lease (%s)",
					a.GetWorker(), heard.UTC().Format(time.RFC3339), leaseTTL),
				Now: timestamppb.New(now),
			}}})
		}
	}
	return cmds
}

// NextLeaseExpiry is the earliest time at which LostAttempts would mark an
// attempt on one of the lost workers as lost, or zero when there is none
// pending (no lost worker holds an Assigned or Running attempt that is not
// already due).
func NextLeaseExpiry(v View, lost map[string]time.Time, now time.Time, leaseTTL time.Duration) time.Time {
	var next time.Time
	for w, heard := range lost {
		at := heard.Add(leaseTTL)
		if !at.After(now) || !next.IsZero() && !at.Before(next) {
			continue
		}
		for _, a := range v.AttemptsOnWorker(w) {
			if a.GetState() == pb.AttemptAssigned || a.GetState() == pb.AttemptRunning {
				next = at
				break
			}
		}
	}
	return next
}

func sortedWorkers(lost map[string]time.Time) []string {
	out := make([]string, 0, len(lost))
	for w := range lost {
		out = append(out, w)
	}
	sort.Strings(out)
	return out
}
