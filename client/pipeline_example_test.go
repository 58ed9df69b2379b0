package client_test

import (
	"os"
	"testing"

	"github.com/raftcron/raftcron/client"
	"github.com/raftcron/raftcron/scheduler"
)

// The example pipeline decodes and validates, and its annotation becomes
// spec.dependsOn.
func TestNightlyPipelineExample(t *testing.T) {
	f, err := os.Open("../examples/nightly-pipeline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, _, err := client.DecodeManifests(f, client.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := scheduler.PrepareResources(res); err != nil {
		t.Fatal(err)
	}
	deps := res[1].GetCronJob().GetSpec().GetDependsOn()
	if len(res) != 2 || len(deps) != 1 || deps[0].GetCronJob() != "prepare-sales" || deps[0].GetWithin() != "2h" {
		t.Fatalf("report-sales dependsOn %v", deps)
	}
}
