package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDevStartsWithoutWarnings runs `raftcron dev` as a user does, uses it
// through the environment file it writes, stops it, and checks that it
// logged no warning or error on the way: a fresh start is not a problem.
func TestDevStartsWithoutWarnings(t *testing.T) {
	if testing.Short() {
		t.Skip("integration")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	p := &proc{name: "dev", log: filepath.Join(dir, "dev.log"), args: []string{"dev", "--data-dir", data,
		"--grpc-addr", freePort(t, ""), "--raft-addr", freePort(t, ""), "--http-addr", freePort(t, "")}}
	p.start(t)
	t.Cleanup(p.stop)
	envFile := filepath.Join(data, "env")
	var env []string
	deadline := time.Now().Add(60 * time.Second)
	for {
		if log, _ := os.ReadFile(p.log); strings.Contains(string(log), "try: . "+envFile) {
			body, err := os.ReadFile(envFile)
			if err != nil {
				t.Fatal(err)
			}
			env = os.Environ()
			for _, line := range strings.Split(string(body), "\n") {
				if kv, ok := strings.CutPrefix(line, "export "); ok {
					env = append(env, kv)
				}
			}
			break
		}
		if time.Now().After(deadline) || !p.running() {
			log, _ := os.ReadFile(p.log)
			t.Fatalf("raftcron dev did not come up:\n%s", log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var workers string
	for {
		cmd := exec.Command(binary, "get", "workers")
		cmd.Env = env
		out, _ := cmd.CombinedOutput()
		workers = string(out)
		if strings.Contains(workers, "dev-worker") && strings.Contains(workers, "Ready") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dev worker is not Ready: %s", workers)
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.stop()
	log, err := os.ReadFile(p.log)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(log), "\n") {
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			t.Errorf("raftcron dev logged: %s", line)
		}
	}
	t.Logf("raftcron dev output:\n%s", log)
}
