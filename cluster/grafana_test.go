package cluster

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestGrafanaDashboard parses deploy/grafana/dashboards/raftcron.json: every
// panel has a title and queries, every metric a query names is one this
// server exports (exportedMetrics, as for the alert rules), and the panels
// the issue asks for are there.
func TestGrafanaDashboard(t *testing.T) {
	path := filepath.Join("..", "deploy", "grafana", "dashboards", "raftcron.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID    string `json:"uid"`
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if dash.UID == "" || dash.Title == "" {
		t.Errorf("%s: uid %q, title %q; want both", path, dash.UID, dash.Title)
	}
	exported := exportedMetrics(t)
	metricRef := regexp.MustCompile(`raftcron_[a-z_]+`)
	used := map[string]bool{}
	for _, p := range dash.Panels {
		if p.Title == "" || len(p.Targets) == 0 {
			t.Errorf("a panel without title or queries: %+v", p)
		}
		for _, q := range p.Targets {
			refs := metricRef.FindAllString(q.Expr, -1)
			if len(refs) == 0 {
				t.Errorf("panel %q: query %q names no raftcron metric", p.Title, q.Expr)
			}
			if strings.Count(q.Expr, "(") != strings.Count(q.Expr, ")") {
				t.Errorf("panel %q: unbalanced parentheses in %s", p.Title, q.Expr)
			}
			for _, m := range refs {
				if !exported[m] {
					t.Errorf("panel %q: %s is not a metric raftcron exports", p.Title, m)
				}
				used[m] = true
			}
		}
	}
	for _, want := range []string{"raftcron_runs_finished_total", "raftcron_schedule_decisions_total", "raftcron_run_start_delay_seconds_bucket",
		"raftcron_run_duration_seconds_bucket", "raftcron_raft_leader", "raftcron_raft_commit_seconds_bucket", "raftcron_workers_connected",
		"raftcron_worker_slots", "raftcron_attempts_active"} {
		if !used[want] {
			t.Errorf("the dashboard shows no %s", want)
		}
	}
}
