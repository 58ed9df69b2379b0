package cluster_test

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/raftcron/raftcron/cluster"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// The CronJobs page reads one page of CronJobs at a time: following its
// next links shows every CronJob exactly once, 50 to a page, and a label
// filter pages over the matching ones.
func TestDashboardCronJobsPages(t *testing.T) {
	if testing.Short() {
		t.Skip("in-process cluster test")
	}
	srv, err := cluster.New(cluster.Config{
		NodeID: "n1", DataDir: filepath.Join(t.TempDir(), "n1"), RaftAddr: freeAddr(t), GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
		Bootstrap: true, HeartbeatTimeout: 300 * time.Millisecond, ElectionTimeout: 300 * time.Millisecond,
		LeaderLeaseTimeout: 150 * time.Millisecond, CommitTimeout: 10 * time.Millisecond,
		Logger: testLogger(t), Insecure: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(func() { _ = srv.Stop() })
	c := dial(t, srv.GRPCAddr())
	const n = 120
	var res []*pb.Resource
	for i := range n {
		r := yearlyCronJob(fmt.Sprintf("cj-%03d", i))
		if i%3 == 0 {
			r.GetCronJob().Metadata.Labels = map[string]string{"team": "data"}
		}
		res = append(res, r)
	}
	waitUntil(t, 20*time.Second, "a leader that takes the CronJobs", func() bool {
		_, err := c.Apply(shortCtx(t), res, false)
		return err == nil
	})

	hc := &http.Client{Timeout: 10 * time.Second}
	row := regexp.MustCompile(`data-name="(cj-\d+)"`)
	next := regexp.MustCompile(`<a href="([^"]+)" id="next">`)
	walk := func(first string) (names []string, pages int) {
		t.Helper()
		url := srv.HTTPURL() + first
		for url != "" {
			resp, err := hc.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %s\n%s", url, resp.Status, body)
			}
			pages++
			rows := row.FindAllStringSubmatch(string(body), -1)
			if len(rows) > 50 {
				t.Errorf("page %d shows %d CronJobs; want at most 50", pages, len(rows))
			}
			for _, m := range rows {
				names = append(names, m[1])
			}
			url = ""
			if m := next.FindStringSubmatch(string(body)); m != nil {
				url = srv.HTTPURL() + html.UnescapeString(m[1])
			}
			if pages > 10 {
				t.Fatal("more than 10 pages")
			}
		}
		return names, pages
	}
	names, pages := walk("/ui/cronjobs")
	if len(names) != n || pages != 3 {
		t.Fatalf("paging showed %d CronJobs on %d pages; want %d on 3", len(names), pages, n)
	}
	seen := map[string]bool{}
	for i, name := range names {
		if want := fmt.Sprintf("cj-%03d", i); name != want || seen[name] {
			t.Fatalf("CronJob %d on the pages is %s; want %s, each once, in order", i, name, want)
		}
		seen[name] = true
	}
	team, _ := walk("/ui/cronjobs?label=team%3Ddata")
	if len(team) != n/3 || !strings.HasPrefix(team[0], "cj-000") {
		t.Errorf("label filter: %d CronJobs (%v...); want %d", len(team), team[:min(3, len(team))], n/3)
	}
}
