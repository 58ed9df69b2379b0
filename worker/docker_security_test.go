package worker

import (
	"context"
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
)

// A docker run gets the worker's pids and memory limits, no-new-privileges,
// and its securityContext (user, read-only root, capabilities), as created.
func TestDockerRunHardening(t *testing.T) {
	needDocker(t)
	dir, id := t.TempDir(), workerID(t)
	d, err := NewDockerRuntime(context.Background(), id, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	d.Options = DockerOptions{PidsLimit: 77, Memory: 99 << 20}
	t.Cleanup(func() {
		insts, _ := d.List(context.Background())
		for _, in := range insts {
			_ = d.Remove(context.Background(), in.ID)
		}
		d.Close()
	})
	h := newHarness(t, d, id, dir)
	spec := dockerSpec("-sleep", "4s")
	spec.RunAsUser, spec.RunAsGroup = proto.Int64(1234), proto.Int64(5678)
	spec.ReadOnlyRootFilesystem = true
	spec.CapDrop = []string{"ALL"}
	spec.CapAdd = []string{"NET_BIND_SERVICE"}
	h.assign("hardened", spec)
	r := h.report("hardened", 60*time.Second, "Running", "Failed", "Succeeded", "Lost")
	if r.GetState() != "Running" {
		t.Fatalf("report = %v", r)
	}
	out, err := exec.Command("docker", "inspect", r.GetContainerId()).Output()
	if err != nil {
		t.Fatalf("docker inspect: %v", err)
	}
	var insp []struct {
		Config     struct{ User string }
		HostConfig struct {
			PidsLimit       int64
			Memory          int64
			SecurityOpt     []string
			ReadonlyRootfs  bool
			CapAdd, CapDrop []string
		}
	}
	if err := json.Unmarshal(out, &insp); err != nil || len(insp) != 1 {
		t.Fatalf("inspect output: %v", err)
	}
	c := insp[0]
	if c.Config.User != "1234:5678" || c.HostConfig.PidsLimit != 77 || c.HostConfig.Memory != 99<<20 ||
		!slices.Contains(c.HostConfig.SecurityOpt, "no-new-privileges") || !c.HostConfig.ReadonlyRootfs ||
		!slices.Equal(c.HostConfig.CapDrop, []string{"ALL"}) || (!slices.Equal(c.HostConfig.CapAdd, []string{"NET_BIND_SERVICE"}) && !slices.Equal(c.HostConfig.CapAdd, []string{"CAP_NET_BIND_SERVICE"})) {
		t.Fatalf("container created with %+v", c)
	}
	// The guard still works under them (a non-root user, a read-only root):
	// the run ends with its own exit.
	if r := h.report("hardened", 60*time.Second, "Failed", "Succeeded", "Lost"); r.GetState() != "Succeeded" {
		t.Fatalf("final report = %v", r)
	}
}

// runAsNonRoot without runAsUser on an image that runs as root is refused,
// with the reason in the report.
func TestDockerRunAsNonRootRefusesRootImage(t *testing.T) {
	needDocker(t)
	dir, id := t.TempDir(), workerID(t)
	d, err := NewDockerRuntime(context.Background(), id, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	h := newHarness(t, d, id, dir)
	spec := dockerSpec("-print", "ran")
	spec.RunAsNonRoot = true
	h.assign("nonroot", spec)
	r := h.report("nonroot", 60*time.Second, "Running", "Failed", "Succeeded", "Lost")
	if r.GetState() != "Failed" || r.GetReason() != "Rejected" || !strings.Contains(r.GetMessage(), "runAsNonRoot: the container would run as root") {
		t.Fatalf("report = %v", r)
	}
}
