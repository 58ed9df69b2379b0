package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "backup.snap")
	for _, data := range [][]byte{[]byte("first"), []byte("second, longer")} {
		if err := writeFileAtomic(path, data); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read back %q, %v; want %q", got, err, data)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want only the snapshot (no temporary files)", len(entries))
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
	if err := writeFileAtomic(filepath.Join(dir, "missing", "x.snap"), []byte("x")); err == nil {
		t.Fatal("writing into a missing directory succeeded")
	}
}

// A file that is not a snapshot is refused before any server is contacted
// (the address below has nothing listening).
func TestSnapshotRestoreRefusesGarbage(t *testing.T) {
	garbage := writeFile(t, "crontab", "0 3 * * * /usr/local/bin/backup.sh\n")
	cli(t, "", "--server", "127.0.0.1:1", "--timeout", "1s", "snapshot", "restore", garbage).
		fails(t, "is not a usable raftcron snapshot: not a raftcron snapshot (bad magic)")
	cli(t, "", "--server", "127.0.0.1:1", "snapshot", "restore", filepath.Join(t.TempDir(), "none.snap")).
		fails(t, "no such file")
}
