package cluster_test

import (
	"os"
	"testing"

	"github.com/raftcron/raftcron/worker/guard"
)

func TestMain(m *testing.M) {
	// In-process workers (the dashboard's browser test) use this test
	// binary as their lease guard, and check it answers `guard --protocol`
	// as a raftcron-guard does.
	if len(os.Args) > 1 && os.Args[1] == "guard" {
		os.Exit(guard.Main(os.Args[1:], os.Stderr))
	}
	os.Exit(m.Run())
}
