package cluster

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// Issue 10 (8): the decision metric counts what the FSM recorded, so a tick
// whose Job name was taken counts as a skip JobNameTaken, not an invoke.
func TestDecisionMetricCountsTheRecordedDecision(t *testing.T) {
	m := newMetrics(&Server{})
	proposed := &pb.ScheduleDecision{Decision: pb.DecisionInvoke, Reason: "Scheduled", Job: "c-1", Count: 1}
	recorded := &pb.ScheduleDecision{Decision: pb.DecisionSkip, Reason: pb.SkipJobNameTaken, Job: "c-1", Count: 1}
	m.observe(&pb.Command{Op: &pb.Command_UpdateCronJobStatus{UpdateCronJobStatus: &pb.UpdateCronJobStatus{
		Namespace: "ns", Name: "c", Decisions: []*pb.ScheduleDecision{proposed}}}},
		&pb.CommandResult{Decisions: []*pb.ScheduleDecision{recorded}})
	if got := testutil.ToFloat64(m.decisions.WithLabelValues("ns", "c", pb.DecisionSkip, pb.SkipJobNameTaken)); got != 1 {
		t.Errorf("skip JobNameTaken counted %v times, want 1", got)
	}
	if got := testutil.ToFloat64(m.decisions.WithLabelValues("ns", "c", pb.DecisionInvoke, "Scheduled")); got != 0 {
		t.Errorf("invoke counted %v times for a tick that did not run", got)
	}
}
