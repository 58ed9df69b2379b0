package worker

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/raftcron/raftcron/worker/guard"
)

// attemptDir is an attempt's directory on the worker's host: the guard's
// lease (lease.d/lease) and record (record.json). Docker mounts it into the
// attempt's container; it is deleted with the attempt's log (see prune).
func attemptDir(dataDir, namespace, attempt string) string {
	return filepath.Join(dataDir, "attempts", namespace, attempt)
}

// makeAttemptDir creates an attempt's directory, writable by the guard
// whatever user the image runs as. It is sticky, so that no other user can
// rename or remove the worker's lease directory (lease.d, writable only by
// the worker) and put a lease of their own in its place.
func makeAttemptDir(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, guard.LeaseSubdir), 0o755); err != nil {
		return err
	}
	return os.Chmod(dir, os.ModeSticky|0o777)
}

// GuardName is the small guard binary's file name: the worker uses the one
// next to its own executable when there is one (make build puts it there).
const GuardName = "raftcron-guard"

// defaultGuard is the guard a worker started as exe runs attempts under: the
// raftcron-guard next to exe, whose start costs a millisecond, or else exe
// itself (`raftcron guard`), whose start costs tens of milliseconds of CPU in
// package initialisation, per run.
func defaultGuard(exe string) string {
	small := filepath.Join(filepath.Dir(exe), GuardName)
	if fi, err := os.Stat(small); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return small
	}
	return exe
}

// checkGuardProtocol runs the guard with --protocol and refuses one that
// does not speak this worker's guard.Protocol (a raftcron-guard of another
// build, or a binary that is no guard at all).
func checkGuardProtocol(path string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "guard", "--protocol").Output()
	got := strings.TrimSpace(string(out))
	if err != nil || got != guard.ProtocolLine() {
		if got == "" && err != nil {
			got = err.Error()
		}
		return fmt.Errorf("guard binary %s is not a raftcron-guard of this version (asked for its protocol, it answered %q; want %q): install the raftcron-guard built with this raftcron next to it, or name one with --guard-binary", path, got, guard.ProtocolLine())
	}
	return nil
}

// guardBinary checks that path is a statically linked executable (it runs in
// containers built FROM scratch) and installs a copy of it as
// DataDir/bin/raftcron-guard, which attempts use. The copy lives in the data
// dir so that a worker that itself runs in a container, with its data dir
// mounted at the same path on the host, names a path the Docker daemon can
// mount.
func guardBinary(path, dataDir string, mustBeStatic bool) (string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", fmt.Errorf("guard binary %s: not an ELF executable: %w", path, err)
	}
	for _, p := range f.Progs {
		if mustBeStatic && p.Type == elf.PT_INTERP {
			f.Close()
			return "", fmt.Errorf("guard binary %s is dynamically linked; it runs inside containers built FROM scratch, so build raftcron with CGO_ENABLED=0 (make build) or name a static one with --guard-binary", path)
		}
	}
	f.Close()
	if err := checkGuardProtocol(path); err != nil {
		return "", err
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("guard binary: %w", err)
	}
	dir := filepath.Join(dataDir, "bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("guard binary: %w", err)
	}
	dst := filepath.Join(dir, "raftcron-guard")
	if old, err := os.ReadFile(dst); err == nil && bytes.Equal(old, src) {
		return dst, nil
	}
	tmp, err := os.CreateTemp(dir, ".raftcron-guard-*")
	if err != nil {
		return "", fmt.Errorf("guard binary: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = io.Copy(tmp, bytes.NewReader(src))
	if err == nil {
		err = tmp.Chmod(0o755)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// A running attempt keeps the file it started with (its mount
		// holds the old inode).
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		return "", fmt.Errorf("install guard binary as %s: %w", dst, err)
	}
	return dst, nil
}

// writeLease tells an attempt's guard how long the attempt may run.
func writeLease(dir string, until time.Time, grace time.Duration, reason string) error {
	if err := guard.WriteLease(dir, guard.NewLease(until, grace, reason)); err != nil {
		return fmt.Errorf("write lease of %s: %w", dir, err)
	}
	return nil
}

// withRecord completes what a runtime saw of an attempt's end with the
// guard's record, which is exact: the workload's own exit code and its start
// and end on one clock. Without a finished record the runtime's view stands.
func withRecord(dir string, exit ExitStatus) ExitStatus {
	r, err := guard.ReadRecord(dir)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) && exit.Message == "" {
			exit.Message = err.Error()
		}
		return exit
	}
	if r.NotStarted {
		return ExitStatus{NotStarted: true, Message: r.Message, FinishTime: exit.FinishTime, OutputTail: exit.OutputTail}
	}
	if !r.Exited {
		if !r.Started.IsZero() {
			// Ended without the guard's last word (SIGKILLed with its
			// container): the start is still the guard's.
			exit.StartTime = r.Started
			if !exit.FinishTime.IsZero() && exit.FinishTime.Before(r.Started) {
				exit.FinishTime = r.Started
			}
		}
		return exit
	}
	exit.ExitCode = r.ExitCode
	exit.StartTime, exit.FinishTime = r.Started, r.Finished
	exit.Unknown = false
	if r.Signal != "" && exit.Message == "" {
		exit.Message = "killed by signal " + r.Signal
	}
	if r.Message != "" {
		exit.Message = joinMsg(exit.Message, r.Message)
	}
	return exit
}

// clusterScoped is a runtime that scopes what it creates by the cluster id.
type clusterScoped interface{ SetClusterID(string) }

// clusterIDFile keeps the id of the cluster this worker belongs to.
func clusterIDFile(dataDir string) string { return filepath.Join(dataDir, "cluster-id") }

// loadClusterID reads the cluster id this data dir belongs to ("" when it
// has not joined one yet) and scopes the runtime by it.
func (a *Agent) loadClusterID() error {
	b, err := os.ReadFile(clusterIDFile(a.cfg.DataDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cluster id: %w", err)
	}
	var id string
	if err := json.Unmarshal(b, &id); err != nil {
		return fmt.Errorf("cluster id file %s: %w", clusterIDFile(a.cfg.DataDir), err)
	}
	a.setClusterID(id)
	return nil
}

func (a *Agent) setClusterID(id string) {
	a.mu.Lock()
	a.clusterID = id
	a.mu.Unlock()
	if cs, ok := a.rt.(clusterScoped); ok {
		cs.SetClusterID(id)
	}
}

// joinCluster checks the cluster id a leader sent in Welcome against the one
// this data dir belongs to, recording it the first time. A worker never
// joins another cluster with the same data dir: its containers carry the
// first cluster's id, and another cluster's runs must never be its own.
func (a *Agent) joinCluster(id string) error {
	if id == "" {
		return nil // a server that has no id yet
	}
	a.mu.Lock()
	cur := a.clusterID
	a.mu.Unlock()
	switch {
	case cur == id:
		return nil
	case cur != "":
		return fmt.Errorf("this worker's data dir %s belongs to cluster %s, but the servers are cluster %s: start the worker with another --data-dir (and --id) to join that cluster", a.cfg.DataDir, cur, id)
	}
	if err := writeJSONFile(clusterIDFile(a.cfg.DataDir), id); err != nil {
		return fmt.Errorf("record cluster id: %w", err)
	}
	a.setClusterID(id)
	a.logger.Info("joined cluster", "cluster", id)
	return nil
}
