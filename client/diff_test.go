package client_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/raftcron/raftcron/client"
)

// TestDiffAgainstCluster: what Diff compares with what a real server
// stores: an unchanged apply shows no difference (server defaults and
// metadata do not leak into it), a changed field shows as a unified diff,
// an object not yet stored diffs from /dev/null, and no Secret value is
// ever printed.
func TestDiffAgainstCluster(t *testing.T) {
	c := dial(t)
	ns := namespace("diff")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	manifest := `apiVersion: batch/v1
kind: CronJob
metadata: {name: yearly, labels: {team: data}}
spec:
  schedule: "0 0 1 1 *"
  suspend: true
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: main, image: busybox:1.36, command: [sh, -c, "echo hi"]}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: held}
spec:
  suspend: true
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox:1.36, command: [sh, -c, "echo hi"]}]
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: s3cr3t-value}
`
	decode := func(s string) []*client.Resource {
		t.Helper()
		res, _, err := client.DecodeManifests(strings.NewReader(s), client.DecodeOptions{Namespace: ns})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	diffs, err := c.Diff(ctx, decode(manifest))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		if d.Live != "" || !strings.HasPrefix(d.Unified, "--- /dev/null\n") {
			t.Errorf("%s/%s before it exists: live %q, diff:\n%s", d.Kind, d.Name, d.Live, d.Unified)
		}
	}
	if _, err := c.Apply(ctx, decode(manifest), false); err != nil {
		t.Fatal(err)
	}
	diffs, err = c.Diff(ctx, decode(manifest))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		if d.Unified != "" || d.Live == "" {
			t.Errorf("%s/%s applied unchanged shows a difference:\n%s", d.Kind, d.Name, d.Unified)
		}
	}
	changed := strings.Replace(strings.Replace(manifest, "0 0 1 1 *", "0 0 2 1 *", 1), "s3cr3t-value", "other-s3cr3t", 1)
	diffs, err = c.Diff(ctx, decode(changed))
	if err != nil {
		t.Fatal(err)
	}
	if d := diffs[0]; !strings.Contains(d.Unified, "\n-  schedule: 0 0 1 1 *\n+  schedule: 0 0 2 1 *\n") {
		t.Errorf("the changed schedule's diff:\n%s", d.Unified)
	}
	if diffs[1].Unified != "" {
		t.Errorf("the unchanged Job shows a difference:\n%s", diffs[1].Unified)
	}
	for _, d := range diffs {
		for _, text := range []string{d.Live, d.Applied, d.Unified} {
			if strings.Contains(text, "s3cr3t") || strings.Contains(text, "czNjcjN0") {
				t.Fatalf("a Secret value shows in the diff of %s/%s:\n%s", d.Kind, d.Name, text)
			}
		}
	}
	if _, err := c.Diff(ctx, decode(strings.Replace(manifest, "0 0 1 1 *", "every day", 1))); err == nil || !strings.Contains(err.Error(), "spec.schedule") {
		t.Errorf("Diff of an invalid schedule: %v", err)
	}
}
