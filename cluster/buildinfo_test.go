package cluster

import (
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// TestScrapeShowsBuildInfoAndCleanBuckets scrapes the way Prometheus does:
// raftcron_build_info carries the version, and no bucket bound reads like
// 0.30000000000000004.
func TestScrapeShowsBuildInfoAndCleanBuckets(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "duration_seconds", Help: "x", Buckets: roundedBuckets(0.1, 3, 12)})
	c := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "commit_seconds", Help: "x", Buckets: roundedBuckets(0.0005, 2, 14)})
	reg.MustRegister(h, c, buildInfoGauge())
	h.Observe(1)
	c.Observe(0.01)
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{`le="0.3"`, `le="0.9"`, `le="2.7"`, `le="0.0005"`, `le="0.004"`, `raftcron_build_info{goversion="go`} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
	noisy := regexp.MustCompile(`le="[0-9.]*0000000[0-9]*"|le="[0-9.]*9999999[0-9]*"`)
	if m := noisy.FindAllString(body, -1); len(m) > 0 {
		t.Errorf("bucket bounds with float noise: %v", m)
	}
	if !regexp.MustCompile(`raftcron_build_info\{goversion="[^"]+",revision="[^"]+",version="[^"]+"\} 1`).MatchString(body) {
		t.Errorf("raftcron_build_info is not 1 with version labels:\n%s", body)
	}
	if t.Failed() {
		t.Log(body)
	}
}
