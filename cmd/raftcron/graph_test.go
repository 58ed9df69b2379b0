package main

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

const pipelineManifest = `apiVersion: batch/v1
kind: CronJob
metadata:
  name: prepare-sales
spec:
  schedule: "0 1 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: main
            image: busybox
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: report-sales
  annotations:
    raftcron.io/depends-on: "prepare-sales:2h"
spec:
  schedule: "0 2 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: main
            image: busybox
`

func TestPipelineCLI(t *testing.T) {
	f := newFakeCluster(testNow.Add(-24 * time.Hour))
	addr := f.start(t)
	cli(t, "", "apply", "-f", writeFile(t, "pipeline.yaml", pipelineManifest), "--server", addr).ok(t)

	// The annotation became spec.dependsOn; graph shows it, upstream first.
	out := cli(t, "", "graph", "--server", addr).ok(t)
	assertTable(t, table(out), [][]string{
		{"CRONJOB", "SCHEDULE", "DEPENDS ON", "WAITING"},
		{"prepare-sales", "0 1 * * *", "<none>", "0"},
		{"report-sales", "0 2 * * *", "prepare-sales (within 2h)", "0"},
	})
	dot := cli(t, "", "graph", "-o", "dot", "--server", addr).ok(t)
	for _, want := range []string{"digraph raftcron {", `"default/prepare-sales" -> "default/report-sales" [label="within 2h"];`} {
		if !strings.Contains(dot, want) {
			t.Errorf("dot lacks %q:\n%s", want, dot)
		}
	}
	cli(t, "", "graph", "-o", "svg", "--server", addr).fails(t, `-o "svg": must be text or dot`)

	// A tick waiting for its upstream, and one skipped because it failed.
	tick := time.Date(2026, 3, 7, 2, 0, 0, 0, time.UTC)
	f.cronJobs["default/report-sales"].Status = &pb.CronJobStatus{
		Decisions: []*pb.ScheduleDecision{{
			ScheduledTime: timestamppb.New(tick.Add(-24 * time.Hour)), Decision: "skip", Reason: "UpstreamFailed", Job: "report-sales-29546160",
			Message: "upstream failed after waiting 5m0s: prepare-sales (tick 2026-03-06T01:00:00Z): job prepare-sales-29546100 failed: BackoffLimitExceeded",
		}},
		Waiting: []*pb.WaitingTick{{
			ScheduledTime: timestamppb.New(tick), Since: timestamppb.New(tick), Job: "report-sales-29547600", Reason: "Scheduled",
			Upstreams: []*pb.UpstreamState{{CronJob: "prepare-sales", ScheduledTime: timestamppb.New(tick.Add(-time.Hour)), State: "Waiting",
				Job: "prepare-sales-29547540", Deadline: timestamppb.New(tick.Add(2 * time.Hour)),
				Message: "job prepare-sales-29547540 for its tick at 2026-03-07T01:00:00Z has not finished"}},
		}},
	}
	out = cli(t, "", "describe", "cronjob/report-sales", "--server", addr).ok(t)
	if !strings.Contains(out, "Depends On:                   prepare-sales (within 2h)\n") {
		t.Errorf("describe lacks Depends On:\n%s", out)
	}
	_, waiting, ok := strings.Cut(out, "Waiting For Upstreams:\n")
	if !ok {
		t.Fatalf("no waiting section:\n%s", out)
	}
	waiting, _, _ = strings.Cut(waiting, "Scheduling Decisions:")
	assertTable(t, table(waiting), [][]string{
		{"TICK", "JOB", "WAITING", "UPSTREAM", "UPSTREAM TICK", "STATE", "DEADLINE", "MESSAGE"},
		{"2026-03-07T02:00:00Z", "report-sales-29547600", "10h", "prepare-sales", "2026-03-07T01:00:00Z", "Waiting", "2026-03-07T04:00:00Z",
			"job prepare-sales-29547540 for its tick at 2026-03-07T01:00:00Z has not finished"},
	})
	if !strings.Contains(out, "UpstreamFailed") {
		t.Errorf("describe lacks the UpstreamFailed decision:\n%s", out)
	}

	out = cli(t, "", "history", "cronjob/report-sales", "--since", "48h", "--server", addr).ok(t)
	assertTable(t, table(out), [][]string{
		{"TICK", "TICKS", "DECISION", "REASON", "JOB", "RESULT", "START DELAY", "DURATION", "MESSAGE"},
		{"2026-03-06T02:00:00Z", "1", "skip", "UpstreamFailed", "report-sales-29546160", "<none>", "<none>", "<none>",
			"upstream failed after waiting 5m0s: prepare-sales (tick 2026-03-06T01:00:00Z): job prepare-sales-29546100 failed: BackoffLimitExceeded"},
		{"2026-03-07T02:00:00Z", "1", "waiting", "Upstreams", "report-sales-29547600", "<none>", "<none>", "<none>",
			"waiting 10h0m0s for upstreams: prepare-sales: job prepare-sales-29547540 for its tick at 2026-03-07T01:00:00Z has not finished (until 2026-03-07T04:00:00Z)"},
	})

	out = cli(t, "", "trigger", "cronjob/report-sales", "--with-upstreams", "--name", "report-now", "--server", addr).ok(t)
	if want := "job.batch/report-now will run once its upstreams succeed: prepare-sales=prepare-sales-manual-1\n"; !strings.HasPrefix(out, want) {
		t.Errorf("trigger output %q, want %q", out, want)
	}
	if len(f.triggers) != 1 || !f.triggers[0].GetWithUpstreams() {
		t.Errorf("trigger requests %v", f.triggers)
	}
}

// delete cronjobs --all (or -l) deletes a downstream before its upstream:
// the server refuses to delete an upstream still named in a dependsOn.
func TestDeletePipelineAll(t *testing.T) {
	f := newFakeCluster(testNow.Add(-24 * time.Hour))
	addr := f.start(t)
	cli(t, "", "apply", "-f", writeFile(t, "pipeline.yaml", pipelineManifest), "--server", addr).ok(t)
	out := cli(t, "", "delete", "cronjobs", "--all", "--server", addr).ok(t)
	if want := "cronjob.batch \"report-sales\" deleted\ncronjob.batch \"prepare-sales\" deleted\n"; out != want {
		t.Fatalf("delete cronjobs --all printed %q, want %q", out, want)
	}
}
