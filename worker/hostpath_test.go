package worker

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHostPathAllowed(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(filepath.Join(data, "reports"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A link inside the allowed prefix that leads out of it.
	if err := os.Symlink("/etc", filepath.Join(data, "escape")); err != nil {
		t.Fatal(err)
	}
	allow := []string{data}
	for _, tc := range []struct {
		path, want string // want "" = allowed
	}{
		{filepath.Join(data, "reports"), ""},
		{data, ""},
		{data + "-other", "not under an allowed prefix"},
		{filepath.Join(data, "..", "x"), "not under an allowed prefix"},
		{filepath.Join(data, "escape"), "not under an allowed prefix"},
		{"/var/run/docker.sock", "Docker socket"},
		{"/run/docker.sock", "Docker socket"},
		{"/var/run", "Docker socket"},
		{"/", "Docker socket"},
		{"relative/path", "not an absolute path"},
	} {
		err := hostPathAllowed(tc.path, allow)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.path, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: err = %v, want %q", tc.path, err, tc.want)
		}
	}
	// The Docker socket is refused even when its directory is allowed.
	if err := hostPathAllowed("/var/run/docker.sock", []string{"/var/run"}); err == nil {
		t.Error("the Docker socket was allowed under an allowed prefix")
	}
	if err := hostPathAllowed(filepath.Join(data, "reports"), nil); err == nil || !strings.Contains(err.Error(), "--allow-host-path") {
		t.Errorf("no allowlist: err = %v", err)
	}
}
