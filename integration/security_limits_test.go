package integration

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/raftcron/raftcron/client"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// TestSecretsLimitsAndSafeRuns is issue 9's acceptance, on a secure
// 3-server cluster with a Docker worker: a Secret's value reaches the
// container and shows nowhere else; limits refuse with a clear error and
// write nothing; dangerous runs are refused with the reason in describe.
func TestSecretsLimitsAndSafeRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("integration")
	}
	img := needDocker(t)
	c := startCluster(t, clusterOptions{serverFlags: []string{"--max-cronjobs-per-namespace", "3"}})
	allowed := filepath.Join(c.dir, "allowed")
	if err := os.MkdirAll(allowed, 0o755); err != nil {
		t.Fatal(err)
	}
	c.startWorker("wa", "--runtime", "docker", "--slots", "4", "--allow-host-path", allowed, "--allow-host-path", "/var/run")

	const value = "pa55-w0rd-7f3a91"
	sum := sha256.Sum256([]byte(value))
	c.apply(manifest(t, fmt.Sprintf(`
apiVersion: v1
kind: Secret
metadata: {name: db}
stringData: {password: %s}
---
`, value)+job("uses-secret", "  backoffLimit: 0", img, fmt.Sprintf(`-want-env-sha256, "DB_PASSWORD=%s"`, hex.EncodeToString(sum[:])))+
		`        env:
        - name: DB_PASSWORD
          valueFrom:
            secretKeyRef: {name: db, key: password}
`)...)

	t.Run("a Secret reaches the container and shows nowhere else", func(t *testing.T) {
		j := c.waitJob("uses-secret", 90*time.Second)
		if _, ok := condition(j, "Complete"); !ok {
			t.Fatalf("uses-secret: %v; attempts %v", j.GetStatus(), c.attempts("uses-secret"))
		}
		var seen []string
		for _, args := range [][]string{
			{"get", "secret", "db", "-o", "yaml"}, {"get", "secrets"}, {"describe", "secret", "db"},
			{"get", "job", "uses-secret", "-o", "yaml"}, {"describe", "job", "uses-secret"}, {"logs", "job/uses-secret"},
			{"get", "attempts", "--job", "uses-secret", "-o", "yaml"},
		} {
			out, err := c.cli(args...)
			if err != nil {
				t.Fatalf("raftcron %s: %v", strings.Join(args, " "), err)
			}
			seen = append(seen, out)
			if strings.Contains(out, value) {
				t.Errorf("raftcron %s shows the secret value:\n%s", strings.Join(args, " "), out)
			}
		}
		if !strings.Contains(seen[0], "password: REDACTED") {
			t.Errorf("get secret -o yaml:\n%s", seen[0])
		}
		if !strings.Contains(seen[5], "DB_PASSWORD has the expected value") {
			t.Errorf("logs: %q", seen[5])
		}
		for i, addr := range c.http {
			resp, err := c.httpsGet(i, "/metrics")
			if err != nil {
				t.Fatalf("metrics of %s over HTTPS: %v", addr, err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "raftcron_") {
				t.Fatalf("metrics of %s: %s, %d bytes without raftcron_ metrics", addr, resp.Status, len(b))
			}
			if strings.Contains(string(b), value) {
				t.Errorf("metrics of %s show the secret value", addr)
			}
		}
		logs, _ := filepath.Glob(filepath.Join(c.dir, "*.log"))
		if len(logs) < 4 {
			t.Errorf("found %d process logs to check, want the servers' and the worker's", len(logs))
		}
		for _, f := range logs {
			if b, err := os.ReadFile(f); err == nil && strings.Contains(string(b), value) {
				t.Errorf("%s holds the secret value", f)
			}
		}
	})

	t.Run("limits refuse and write nothing", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cl := c.client()
		big := manifest(t, job("oversized", "", img, `-print, "`+strings.Repeat("x", 300<<10)+`"`))
		if _, err := cl.Apply(ctx, big, false); !errors.Is(err, client.ErrLimitExceeded) || !strings.Contains(err.Error(), "--max-object-size") {
			t.Errorf("oversized Job: %v", err)
		}
		wide := manifest(t, job("wide", "  parallelism: 2147483647", img, `-print, "x"`))
		if _, err := cl.Apply(ctx, wide, false); !errors.Is(err, client.ErrLimitExceeded) || !strings.Contains(err.Error(), "parallelism 2147483647 is over the limit of 1000") {
			t.Errorf("unbounded parallelism: %v", err)
		}
		var cjs []*pb.Resource
		for i := range 4 {
			cjs = append(cjs, manifest(t, fmt.Sprintf("apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: cj-%d}\nspec:\n  schedule: '0 3 1 1 *'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers: [{name: main, image: %s}]\n", i, img))...)
		}
		if _, err := cl.Apply(ctx, cjs, false); !errors.Is(err, client.ErrLimitExceeded) || !strings.Contains(err.Error(), "over the limit of 3 per namespace (--max-cronjobs-per-namespace)") {
			t.Errorf("4 CronJobs with a limit of 3: %v", err)
		}
		for _, name := range []string{"oversized", "wide"} {
			if _, err := cl.GetJob(ctx, "default", name); !errors.Is(err, client.ErrNotFound) {
				t.Errorf("refused Job %s: %v", name, err)
			}
		}
		if l, err := cl.ListCronJobs(ctx, "default"); err != nil || len(l) != 0 {
			t.Errorf("refused CronJobs written: %d, %v", len(l), err)
		}
		out, err := c.cli("get", "jobs", "--chunk-size", "1")
		if err != nil || !strings.Contains(out, "uses-secret") {
			t.Errorf("get jobs --chunk-size 1: %q %v", out, err)
		}
	})

	t.Run("dangerous runs are refused with the reason in describe", func(t *testing.T) {
		withPod := func(name, pod, container string) string {
			return fmt.Sprintf(`
apiVersion: batch/v1
kind: Job
metadata: {name: %s}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
%s      containers:
      - name: main
        image: %s
        imagePullPolicy: Never
        args: [-print, "ran"]
%s`, name, pod, img, container)
		}
		cases := []struct{ name, pod, container, reason string }{
			{"privileged", "", "        securityContext: {privileged: true}\n", "privileged containers are not allowed"},
			{"hostnet", "      hostNetwork: true\n", "", "host networking is not allowed"},
			{"outside", "      volumes: [{name: etc, hostPath: {path: /etc}}]\n", "        volumeMounts: [{name: etc, mountPath: /host}]\n", "not under an allowed prefix"},
			{"docker-sock", "      volumes: [{name: s, hostPath: {path: /var/run/docker.sock}}]\n", "        volumeMounts: [{name: s, mountPath: /s}]\n", "Docker socket"},
		}
		var docs []string
		for _, tc := range cases {
			docs = append(docs, withPod(tc.name, tc.pod, tc.container))
		}
		c.apply(manifest(t, strings.Join(docs, "---"))...)
		for _, tc := range cases {
			j := c.waitJob(tc.name, 60*time.Second)
			if _, ok := condition(j, "Failed"); !ok {
				t.Errorf("%s: %v", tc.name, j.GetStatus())
				continue
			}
			out, err := c.cli("describe", "job", tc.name)
			if err != nil || !strings.Contains(out, "Rejected") || !strings.Contains(out, tc.reason) {
				t.Errorf("describe job %s does not show %q:\n%s %v", tc.name, tc.reason, out, err)
			}
			if logs, _ := c.cli("logs", "job/"+tc.name); strings.Contains(logs, "ran") {
				t.Errorf("%s ran: %q", tc.name, logs)
			}
		}
	})
}

// TestExecRunsAsExecUserWithItsOwnEnv: an exec run sees only its Job's env
// (and PATH, HOME), none of the worker's, and runs as --exec-user.
func TestExecRunsAsExecUserWithItsOwnEnv(t *testing.T) {
	if testing.Short() {
		t.Skip("integration")
	}
	if os.Geteuid() != 0 {
		t.Skip("SKIPPED: needs root to create a user (useradd) and to switch to it; run as root to check --exec-user")
	}
	const name = "raftcron-exec-it"
	if _, err := user.Lookup(name); err != nil {
		if out, err := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name).CombinedOutput(); err != nil {
			t.Fatalf("useradd %s: %v: %s", name, err, out)
		}
		t.Cleanup(func() { _ = exec.Command("userdel", name).Run() })
	}
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("WORKER_ONLY_SENTINEL", "must-not-reach-jobs")
	c := startCluster(t, clusterOptions{})
	// The exec user must be able to reach its work directory under the worker's data dir.
	for d := c.dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c.startWorker("we", "--runtime", "exec", "--allow-exec", "--exec-user", name, "--slots", "2")
	c.apply(manifest(t, `
apiVersion: batch/v1
kind: Job
metadata: {name: whoami}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      nodeSelector: {raftcron.io/runtime: exec}
      containers:
      - name: main
        image: none
        command: [/bin/sh, -c, 'echo "uid=$(id -u)"; env | sort']
        env: [{name: MINE, value: "job-value"}]
`)...)
	j := c.waitJob("whoami", 60*time.Second)
	if _, ok := condition(j, "Complete"); !ok {
		t.Fatalf("whoami: %v; attempts %v", j.GetStatus(), c.attempts("whoami"))
	}
	out, err := c.cli("logs", "job/whoami")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "uid="+u.Uid+"\n") {
		t.Errorf("the run did not run as %s (uid %s):\n%s", name, u.Uid, out)
	}
	for _, want := range []string{"MINE=job-value", "PATH=", "RAFTCRON_JOB=whoami"} {
		if !strings.Contains(out, want) {
			t.Errorf("the run's env lacks %s:\n%s", want, out)
		}
	}
	for _, leak := range []string{"WORKER_ONLY_SENTINEL", "RAFTCRON_TOKEN", "RAFTCRON_WORKER_JOIN_TOKEN", "GOPATH"} {
		if strings.Contains(out, leak) {
			t.Errorf("the worker's %s reached the run:\n%s", leak, out)
		}
	}
}
