package client

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/scheduler"
)

func TestCronJobBuilderMakesAValidCronJobThatRoundTripsThroughYAML(t *testing.T) {
	cj := NewCronJob("nightly", "0 3 * * *", Container{Image: "backup:1.4", Command: []string{"backup"}, Env: map[string]string{"B": "2", "A": "1"}}).
		Namespace("reports").Label("team", "data").TimeZone("Europe/Berlin").Forbid().CatchUp(CatchUpAll).
		StartingDeadline(90*time.Second+time.Millisecond).History(5, 2).BackoffLimit(0).ActiveDeadline(time.Hour).
		FailJobOnExitCodes(42).Build()

	if err := scheduler.ValidateCronJob(cj); err != nil {
		t.Fatalf("the builder made an invalid CronJob: %v", err)
	}
	spec := cj.GetSpec()
	pod := spec.GetJobTemplate().GetSpec().GetTemplate().GetSpec()
	if spec.GetConcurrencyPolicy() != "Forbid" || spec.GetCatchUp() != "All" || spec.GetTimeZone() != "Europe/Berlin" ||
		spec.GetStartingDeadlineSeconds() != 91 || spec.GetSuccessfulJobsHistoryLimit() != 5 || spec.GetFailedJobsHistoryLimit() != 2 {
		t.Fatalf("spec = %v", spec)
	}
	if pod.GetRestartPolicy() != "Never" || pod.GetContainers()[0].GetName() != "nightly" ||
		pod.GetContainers()[0].GetEnv()[0].GetName() != "A" || cj.GetMetadata().GetNamespace() != "reports" {
		t.Fatalf("pod = %v, metadata = %v", pod, cj.GetMetadata())
	}
	if spec.GetJobTemplate().GetSpec().BackoffLimit == nil || spec.GetJobTemplate().GetSpec().GetBackoffLimit() != 0 {
		t.Fatalf("backoffLimit 0 must be set, not left to the default: %v", spec.GetJobTemplate().GetSpec())
	}

	y, err := EncodeManifest(CronJobResource(cj), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	back, warnings, err := DecodeManifests(bytes.NewReader(y), DecodeOptions{})
	if err != nil || len(warnings) > 0 || len(back) != 1 {
		t.Fatalf("decode: %v, warnings %v, %d objects\n%s", err, warnings, len(back), y)
	}
	want := proto.Clone(cj).(*pb.CronJob)
	scheduler.SetCronJobDefaults(want)
	got := back[0].GetCronJob()
	scheduler.SetCronJobDefaults(got)
	if !proto.Equal(got, want) {
		t.Fatalf("round trip changed the CronJob:\n got %v\nwant %v", got, want)
	}
}

func TestBuilderBuildReturnsCopies(t *testing.T) {
	b := NewJob("once", Container{Image: "busybox", Command: []string{"true"}}).Exec()
	first := b.Build()
	second := b.Label("x", "y").Suspend().Build()
	if len(first.GetMetadata().GetLabels()) != 0 || first.GetSpec().GetSuspend() {
		t.Fatalf("a later builder call changed an earlier Build: %v", first)
	}
	if second.GetSpec().GetTemplate().GetSpec().GetNodeSelector()[LabelRuntime] != RuntimeExec || !second.GetSpec().GetSuspend() {
		t.Fatalf("job = %v", second)
	}
	if err := scheduler.ValidateJob(second); err != nil {
		t.Fatalf("the builder made an invalid Job: %v", err)
	}
}

func TestSelector(t *testing.T) {
	labels := map[string]string{"app": "web", "env": "prod"}
	for sel, want := range map[string]bool{
		"":                           true,
		"app=web":                    true,
		"app==web":                   true,
		"app=db":                     false,
		"app!=db":                    true,
		"tier!=db":                   true,
		"app=web,env=staging":        false,
		"env in (prod, staging)":     true,
		"env in (staging),app=web":   false,
		"env notin (prod)":           false,
		"tier notin (db)":            true,
		"app":                        true,
		"tier":                       false,
		"!tier":                      true,
		"!app":                       false,
		" app = web , env in (prod)": true,
	} {
		s, err := ParseSelector(sel)
		if err != nil {
			t.Errorf("ParseSelector(%q): %v", sel, err)
			continue
		}
		if got := s.Matches(labels); got != want {
			t.Errorf("%q matches %v = %v, want %v", sel, labels, got, want)
		}
	}
	for _, bad := range []string{"=web", "env in prod", "env in ()", "!", "a b c"} {
		if _, err := ParseSelector(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseSelector(%q) err = %v, want ErrInvalid", bad, err)
		}
	}
	s, _ := ParseSelector("app==web, env in (a,b),!x,y")
	if s.String() != "app=web,env in (a,b),!x,y" {
		t.Errorf("String() = %q", s.String())
	}
}
