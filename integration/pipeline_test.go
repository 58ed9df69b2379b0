package integration

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// cronJob is a CronJob manifest running the test image with args.
func cronJob(name, annotations, schedule, image, args string) string {
	return fmt.Sprintf(`
apiVersion: batch/v1
kind: CronJob
metadata:
  name: %s
  annotations: {%s}
spec:
  schedule: "%s"
  jobTemplate:
    spec:
      backoffLimit: 0
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: main
            image: %s
            imagePullPolicy: Never
            args: [%s]
`, name, annotations, schedule, image, args)
}

// TestPipelineUpstreamFailsInAContainer is issue 16's integration test: the
// upstream's container really exits 1 on a Docker worker, so the report that
// depends on it (by the annotation a real Kubernetes accepts) never runs; its
// tick is recorded as a skip UpstreamFailed, shown by describe and history and
// counted in the metrics.
func TestPipelineUpstreamFailsInAContainer(t *testing.T) {
	if testing.Short() {
		t.Skip("integration")
	}
	img := needDocker(t)
	c := startCluster(t, clusterOptions{serverFlags: []string{"--worker-ttl", "5s", "--lease-ttl", "15s"}})
	c.startWorker("wa", "--runtime", "docker", "--slots", "4")
	// Both tick every 30 seconds; the report's tick waits for prepare's
	// tick at the same time, up to 25s.
	c.apply(manifest(t,
		cronJob("prepare", "", "*/30 * * * * *", img, `-print, "preparing", -exit, "1"`)+"---"+
			cronJob("report", `raftcron.io/depends-on: "prepare:25s"`, "*/30 * * * * *", img, `-print, "report"`),
	)...)

	cl := c.client()
	var msg string
	c.waitFor(120*time.Second, "a report tick skipped UpstreamFailed", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cj, err := cl.GetCronJob(ctx, "default", "report")
		if err != nil {
			return false
		}
		for _, d := range cj.GetStatus().GetDecisions() {
			if d.GetReason() == "UpstreamFailed" {
				msg = d.GetMessage()
				return true
			}
		}
		return false
	})
	t.Logf("skip message: %s", msg)
	if !strings.Contains(msg, "prepare (tick ") || !strings.Contains(msg, "failed: BackoffLimitExceeded") {
		t.Errorf("skip message %q does not say which upstream tick failed and why", msg)
	}
	// The upstream really ran and failed in its container.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	preps, err := cl.ListJobs(ctx, "default", "prepare")
	if err != nil || len(preps) == 0 {
		t.Fatalf("prepare jobs: %d, %v", len(preps), err)
	}
	if at := c.attempts(preps[0].GetMetadata().GetName()); len(at) == 0 || at[0].GetExitCode() != 1 {
		t.Fatalf("prepare's attempt: %v", at)
	}
	// The report never ran.
	if reports, err := cl.ListJobs(ctx, "default", "report"); err != nil || len(reports) != 0 {
		t.Fatalf("report jobs: %d, %v; want none", len(reports), err)
	}
	out, err := c.cli("describe", "cronjob/report")
	if err != nil || !strings.Contains(out, "UpstreamFailed") || !strings.Contains(out, "Depends On:") {
		t.Errorf("describe cronjob/report: %v\n%s", err, out)
	}
	out, err = c.cli("history", "cronjob/report")
	if err != nil || !strings.Contains(out, "UpstreamFailed") {
		t.Errorf("history cronjob/report: %v\n%s", err, out)
	}
	resp, err := c.httpsGet(c.leader(), "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `raftcron_schedule_decisions_total{cronjob="report",decision="skip",namespace="default",reason="UpstreamFailed"}`; !strings.Contains(string(body), want) {
		t.Errorf("the leader's metrics lack %s", want)
	}
	out, err = c.cli("graph", "-o", "dot")
	if err != nil || !strings.Contains(out, `"default/prepare" -> "default/report"`) {
		t.Errorf("graph -o dot: %v\n%s", err, out)
	}
}
