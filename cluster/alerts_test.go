package cluster

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/yaml"
)

type alertRules struct {
	Groups []struct {
		Name  string `json:"name"`
		Rules []struct {
			Alert       string            `json:"alert"`
			Expr        string            `json:"expr"`
			For         string            `json:"for"`
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
		} `json:"rules"`
	} `json:"groups"`
}

// TestAlertRules parses deploy/prometheus/alerts.yml: every rule has a name,
// an expression over metrics this server exports, a severity and a summary,
// and the alerts are all there. With promtool installed it also
// runs `promtool check rules`.
func TestAlertRules(t *testing.T) {
	path := filepath.Join("..", "deploy", "prometheus", "alerts.yml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rules alertRules
	if err := yaml.UnmarshalStrict(data, &rules); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	exported := exportedMetrics(t)
	metricRef := regexp.MustCompile(`raftcron_[a-z_]+`)
	seen := map[string]bool{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			switch {
			case r.Alert == "" || r.Expr == "":
				t.Errorf("group %s: a rule without alert or expr: %+v", g.Name, r)
			case r.Labels["severity"] != "warning" && r.Labels["severity"] != "critical":
				t.Errorf("%s: severity %q, want warning or critical", r.Alert, r.Labels["severity"])
			case r.Annotations["summary"] == "":
				t.Errorf("%s: no summary", r.Alert)
			}
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("%s: for %q: %v", r.Alert, r.For, err)
				}
			}
			if strings.Count(r.Expr, "(") != strings.Count(r.Expr, ")") {
				t.Errorf("%s: unbalanced parentheses in %s", r.Alert, r.Expr)
			}
			for _, m := range metricRef.FindAllString(r.Expr, -1) {
				if !exported[m] {
					t.Errorf("%s: %s is not a metric raftcron exports", r.Alert, m)
				}
			}
			seen[r.Alert] = true
		}
	}
	for _, want := range []string{"RaftcronTickSkipped", "RaftcronRunFailed", "RaftcronNoLeader", "RaftcronNoWorkerConnected",
		"RaftcronAttemptsUnplaceable", "RaftcronSlowStarts", "RaftcronSlowRaftCommits"} {
		if !seen[want] {
			t.Errorf("alerts.yml lacks %s", want)
		}
	}
	t.Run("promtool", func(t *testing.T) {
		promtool, err := exec.LookPath("promtool")
		if err != nil {
			t.Skip("SKIPPED `promtool check rules`: promtool is not installed (apt-get install prometheus)")
		}
		out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
		if err != nil {
			t.Fatalf("promtool check rules %s: %v\n%s", path, err, out)
		}
		t.Logf("promtool check rules: %s", strings.TrimSpace(string(out)))
	})
}

// exportedMetrics lists the series names a server's registry describes
// (histograms with their _bucket, _sum and _count).
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	m := newMetrics(&Server{})
	ch := make(chan *prometheus.Desc, 100)
	go func() { m.reg.Describe(ch); close(ch) }()
	name := regexp.MustCompile(`fqName: "([^"]+)"`)
	out := map[string]bool{}
	for d := range ch {
		if sm := name.FindStringSubmatch(d.String()); sm != nil {
			for _, suffix := range []string{"", "_bucket", "_sum", "_count"} {
				out[sm[1]+suffix] = true
			}
		}
	}
	if !out["raftcron_raft_leader"] || !out["raftcron_run_start_delay_seconds_bucket"] {
		t.Fatalf("the registry describes %d series, without the expected ones", len(out))
	}
	return out
}
