package cluster

import (
	"runtime/debug"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Version is the release this binary was built as; `go build -ldflags
// "-X github.com/raftcron/raftcron/cluster.Version=v1.2.3"` sets it. Without
// it the module version Go recorded is used ("(devel)" for a checkout).
var Version = ""

// Build describes this binary: what `raftcron version` prints and the
// raftcron_build_info metric carries.
type Build struct {
	Version, Revision, GoVersion string
	// Modified: built from a checkout with uncommitted changes.
	Modified bool
}

// BuildInfo reads the build from the binary.
func BuildInfo() Build {
	b := Build{Version: Version, Revision: "unknown", GoVersion: "unknown"}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		if b.Version == "" {
			b.Version = "unknown"
		}
		return b
	}
	b.GoVersion = info.GoVersion
	if b.Version == "" {
		b.Version = info.Main.Version
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.modified":
			b.Modified, _ = strconv.ParseBool(s.Value)
		}
	}
	return b
}

func buildInfoGauge() prometheus.Gauge {
	b := BuildInfo()
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "raftcron_build_info",
		Help:        "Always 1; the labels say which raftcron build this server runs.",
		ConstLabels: prometheus.Labels{"version": b.Version, "revision": b.Revision, "goversion": b.GoVersion},
	})
	g.Set(1)
	return g
}

// roundedBuckets is prometheus.ExponentialBuckets with every bound rounded
// to 3 significant digits, so that scrapes read le="0.3", not
// le="0.30000000000000004".
func roundedBuckets(start, factor float64, count int) []float64 {
	out := prometheus.ExponentialBuckets(start, factor, count)
	for i, v := range out {
		out[i], _ = strconv.ParseFloat(strconv.FormatFloat(v, 'g', 3, 64), 64)
	}
	return out
}
