package guard

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// Paths inside a container, and the names of the files in an attempt's
// directory.
const (
	// Binary is where the guard binary is mounted in a container.
	Binary = "/.raftcron/guard"
	// Dir is where the attempt's directory is mounted in a container
	// (read-write: the guard writes its record there).
	Dir = "/.raftcron/run"
	// LeaseDir is where the attempt's lease directory is mounted in a
	// container, read-only, so that the workload cannot extend its own lease.
	LeaseDir = "/.raftcron/lease"
	// LeaseSubdir is the lease directory inside an attempt's directory.
	LeaseSubdir = "lease.d"
	LeaseFile   = "lease"
	RecordFile  = "record.json"
)

// ExitNotStarted is the guard's exit code when it did not start the workload
// (no lease, or the lease had expired). The record says why.
const ExitNotStarted = 125

// ExitCannotRun is the exit code when the command could not be started (not
// found, not executable), as a shell reports it.
const ExitCannotRun = 127

// Mono reads CLOCK_MONOTONIC, the clock leases are judged by, in nanoseconds.
func Mono() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		panic(fmt.Sprintf("clock_gettime(CLOCK_MONOTONIC): %v", err)) // never fails on Linux
	}
	return ts.Nano()
}

// Lease is the content of DIR/lease.
type Lease struct {
	// RenewedMono and ValidUntilMono are CLOCK_MONOTONIC nanoseconds.
	RenewedMono    int64 `json:"renewedMonoNs"`
	ValidUntilMono int64 `json:"validUntilMonoNs"`
	// KillGrace: SIGTERM this long before the deadline, SIGKILL at it.
	KillGrace time.Duration `json:"killGraceNs"`
	// ValidUntil is the deadline on the wall clock, for people reading the file.
	ValidUntil time.Time `json:"validUntil"`
	// Reason, when set, says why the lease was cut short (a kill).
	Reason string `json:"reason,omitempty"`
}

// NewLease returns a lease valid until `until` (a time.Time read from this
// process's clock, carrying its monotonic reading), with the given grace.
func NewLease(until time.Time, grace time.Duration, reason string) Lease {
	now, mono := time.Now(), Mono()
	return Lease{
		RenewedMono: mono, ValidUntilMono: mono + int64(until.Sub(now)),
		KillGrace: grace, ValidUntil: until.Round(0), Reason: reason,
	}
}

// Until converts the lease's deadline back to a time.Time of this process
// (with a monotonic reading), for a worker that adopts a running guard.
func (l Lease) Until() time.Time {
	now, mono := time.Now(), Mono()
	return now.Add(time.Duration(l.ValidUntilMono - mono))
}

// LeasePath is the lease file of the attempt directory dir.
func LeasePath(dir string) string { return filepath.Join(dir, LeaseSubdir, LeaseFile) }

// WriteLease replaces the lease of the attempt directory dir
// (dir/lease.d/lease), creating lease.d if needed. It renames a temporary file into place
// without an fsync: the guard only ever needs the latest lease of this boot,
// and after a crash of the host nothing runs that it could fence.
func WriteLease(dir string, l Lease) error {
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	ld := filepath.Join(dir, LeaseSubdir)
	if err := os.MkdirAll(ld, 0o755); err != nil {
		return err
	}
	return writeFile(ld, LeaseFile, b, false)
}

// ReadLease reads a lease file.
func ReadLease(path string) (Lease, error) {
	var l Lease
	b, err := os.ReadFile(path)
	if err != nil {
		return l, err
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return l, fmt.Errorf("lease file %s: %w", path, err)
	}
	return l, nil
}

// Record is the content of DIR/record.json: what the guard saw.
type Record struct {
	// GuardPID is the guard's pid (1 in a container); PID the workload's,
	// which is also its process group.
	GuardPID int `json:"guardPid"`
	PID      int `json:"pid,omitempty"`
	// NotStarted: the workload never started (the lease was missing or had
	// expired); Message says why.
	NotStarted bool      `json:"notStarted,omitempty"`
	Started    time.Time `json:"started,omitzero"`
	// Exited: the workload has ended; ExitCode is its code (128+signal when
	// a signal ended it, Signal then names it).
	Exited   bool          `json:"exited,omitempty"`
	ExitCode int32         `json:"exitCode"`
	Signal   string        `json:"signal,omitempty"`
	Duration time.Duration `json:"durationNs,omitempty"`
	// Finished is Started + Duration: the same clock as Started.
	Finished time.Time `json:"finished,omitzero"`
	// LeaseExpired: the guard killed the workload because its lease ran out
	// (or was cut short: LeaseReason then says why).
	LeaseExpired bool   `json:"leaseExpired,omitempty"`
	LeaseReason  string `json:"leaseReason,omitempty"`
	Message      string `json:"message,omitempty"`
}

// WriteRecord replaces DIR/record.json (temp + rename, so a reader never
// sees half of it). A record of an ended workload (Exited or NotStarted) is
// written durably, with fsyncs, so that it survives a crash of the host; the
// record of a start is not: it matters only while the host is up (it names
// the process to kill), and two fsyncs fewer per run count at hundreds of
// runs a second.
func WriteRecord(dir string, r Record) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(dir, RecordFile, b, r.Exited || r.NotStarted)
}

// ReadRecord reads DIR/record.json; os.ErrNotExist when there is none.
func ReadRecord(dir string) (Record, error) {
	var r Record
	b, err := os.ReadFile(filepath.Join(dir, RecordFile))
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("guard record %s: %w", filepath.Join(dir, RecordFile), err)
	}
	return r, nil
}

// WriteFileDurably replaces path with b: a temporary file in the same
// directory, fsync, rename, fsync of the directory.
func WriteFileDurably(path string, b []byte) error {
	return writeFile(filepath.Dir(path), filepath.Base(path), b, true)
}

// WriteFile replaces path with b through a temporary file in the same
// directory and a rename, without fsyncs: a reader sees the old or the new
// content, and a crash of the host may leave the old.
func WriteFile(path string, b []byte) error {
	return writeFile(filepath.Dir(path), filepath.Base(path), b, false)
}

func writeFile(dir, name string, b []byte, durable bool) error {
	tmp, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return err
	}
	renamed := false
	defer func() {
		if !renamed {
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if durable {
		if err := tmp.Sync(); err != nil {
			tmp.Close()
			return err
		}
	}
	// Readable by the workload's user, whoever it is (the image's USER).
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return err
	}
	renamed = true
	if durable {
		if d, err := os.Open(dir); err == nil {
			err = d.Sync()
			d.Close()
			if err != nil && !errors.Is(err, unix.EINVAL) {
				return err
			}
		}
	}
	return nil
}
