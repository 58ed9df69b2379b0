package worker

import (
	"path/filepath"
	"strings"
	"testing"
)

// A name sent by a server never leads a log file out of the data dir.
func TestLogPathStaysInDataDir(t *testing.T) {
	dir := "/data"
	for _, c := range []struct{ ns, name string }{
		{"../../..", "x"}, {"default", "../../etc/passwd"}, {"..", ".."}, {"a/b", "c"}, {"", ""}, {".hidden", "ok"},
	} {
		p := logPath(dir, c.ns, c.name)
		rel, err := filepath.Rel(filepath.Join(dir, "logs"), p)
		if err != nil || strings.HasPrefix(rel, "..") || strings.Count(rel, string(filepath.Separator)) != 1 {
			t.Errorf("logPath(%q, %q) = %s: not one file inside one namespace dir of %s/logs", c.ns, c.name, p, dir)
		}
	}
	if got := logPath(dir, "team-a", "report-29876543-0-1"); got != "/data/logs/team-a/report-29876543-0-1.log" {
		t.Errorf("a valid name was changed: %s", got)
	}
}
