package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestApplyKubernetesExport: what `kubectl get cronjob -o yaml` printed on
// a real Kubernetes applies as it is; a non-default dnsPolicy is refused
// with the field named.
func TestApplyKubernetesExport(t *testing.T) {
	f := newFakeCluster(testNow.Add(-time.Hour))
	addr := f.start(t)
	r := cli(t, "", "apply", "-f", "../../client/testdata/kubectl-export-cronjob.yaml", "-f", "../../client/testdata/kubectl-export-job.yaml", "--server", addr)
	if out := r.ok(t); out != "cronjob.batch/hello created\njob.batch/pi created\n" || r.stderr != "" {
		t.Fatalf("apply of kubectl exports: stdout %q, stderr %q", out, r.stderr)
	}
	b, err := os.ReadFile("../../client/testdata/kubectl-export-cronjob.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file := writeFile(t, "none.yaml", strings.Replace(string(b), "dnsPolicy: ClusterFirst", "dnsPolicy: None", 1))
	cli(t, "", "apply", "-f", file, "--server", addr).fails(t, `spec.jobTemplate.spec.template.spec.dnsPolicy: field not supported by raftcron; only Kubernetes' default ("ClusterFirst") is accepted, got string "None"`)
}
