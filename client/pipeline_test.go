package client_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/raftcron/raftcron/client"
)

// A run waiting for its upstream is a replicated fact: the leader stops
// while the upstream runs and the downstream waits; the new leader runs the
// downstream once, when the upstream succeeds.
func TestPipelineWaitingRunAcrossALeaderChange(t *testing.T) {
	c := dial(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ns := namespace("pipeline")
	prepare := client.NewCronJob("prepare", "@yearly", client.Container{
		Image: "busybox", Command: []string{"sh", "-c", "echo preparing; sleep 3; echo prepared"},
	}).Namespace(ns).Exec().Build()
	report := client.NewCronJob("report", "@yearly", client.Container{
		Image: "busybox", Command: []string{"sh", "-c", "echo report"},
	}).Namespace(ns).Exec().DependsOn("prepare", 2*time.Hour).Build()
	if _, err := c.CronJobs().Apply(ctx, prepare); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CronJobs().Apply(ctx, report); err != nil {
		t.Fatal(err)
	}
	job, err := c.CronJobs().Trigger(ctx, ns, "report", client.TriggerOptions{JobName: "report-now", WithUpstreams: true})
	if err != nil {
		t.Fatal(err)
	}
	ups := job.GetMetadata().GetAnnotations()[client.AnnotationUpstreamJobs]
	upJob := strings.TrimPrefix(ups, "prepare=")
	if !strings.HasPrefix(ups, "prepare=prepare-manual-") {
		t.Fatalf("upstream jobs %q", ups)
	}
	// The report waits (replicated) while prepare runs; then the leader goes.
	if err := testbed.waitFor(20*time.Second, func() bool {
		as, err := c.Attempts().List(ctx, ns, upJob)
		cj, cerr := c.CronJobs().Get(ctx, ns, "report")
		return err == nil && cerr == nil && len(as) == 1 && as[0].GetState() == client.AttemptRunning && len(cj.GetStatus().GetWaiting()) == 1
	}); err != nil {
		t.Fatalf("prepare never ran with the report waiting: %v", err)
	}
	old := testbed.leader()
	if old == nil {
		t.Fatal("no leader")
	}
	testbed.stopNode(old)
	t.Cleanup(func() {
		if err := testbed.start(old); err != nil {
			t.Errorf("restart %s: %v", old.id, err)
			return
		}
		if err := testbed.waitFor(20*time.Second, func() bool { return testbed.leaderAll(3) }); err != nil {
			t.Errorf("after restarting %s: %v", old.id, err)
		}
	})
	if err := testbed.waitFor(20*time.Second, func() bool { l := testbed.leader(); return l != nil && l != old }); err != nil {
		t.Fatalf("no new leader: %v", err)
	}
	if err := testbed.waitFor(30*time.Second, func() bool {
		_, err := c.Jobs().Get(ctx, ns, "report-now")
		return err == nil
	}); err != nil {
		t.Fatalf("the new leader never made the report's Job: %v", err)
	}
	done, err := c.Jobs().Wait(ctx, ns, "report-now", client.ConditionComplete)
	if err != nil {
		t.Fatalf("the report after the election: %v", err)
	}
	if a := done.GetMetadata().GetAnnotations()[client.AnnotationUpstreamJobs]; a != ups {
		t.Errorf("report's upstream jobs %q, want %q", a, ups)
	}
	prep, err := c.Jobs().Get(ctx, ns, upJob)
	if err != nil || client.JobStatusText(prep) != client.ConditionComplete {
		t.Fatalf("prepare %v, %v", prep.GetStatus(), err)
	}
	if !done.GetMetadata().GetCreationTimestamp().AsTime().After(prep.GetStatus().GetCompletionTime().AsTime().Add(-time.Second)) {
		t.Errorf("the report was made at %v, before prepare finished at %v", done.GetMetadata().GetCreationTimestamp().AsTime(), prep.GetStatus().GetCompletionTime().AsTime())
	}
	// Once: one report Job, one invoke decision, nothing left waiting.
	jobs, err := c.Jobs().List(ctx, client.ListOptions{Namespace: ns, CronJob: "report"})
	if err != nil || len(jobs) != 1 {
		t.Fatalf("report jobs: %d, %v", len(jobs), err)
	}
	cj, err := c.CronJobs().Get(ctx, ns, "report")
	if err != nil {
		t.Fatal(err)
	}
	invokes := 0
	for _, d := range cj.GetStatus().GetDecisions() {
		if d.GetDecision() == client.DecisionInvoke {
			invokes++
			if !strings.Contains(d.GetMessage(), "for upstreams prepare="+upJob) {
				t.Errorf("decision message %q", d.GetMessage())
			}
		}
	}
	if invokes != 1 || len(cj.GetStatus().GetWaiting()) != 0 {
		t.Errorf("report: %d invokes, waiting %v", invokes, cj.GetStatus().GetWaiting())
	}
}
