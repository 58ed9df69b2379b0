package scheduler

import (
	"errors"
	"reflect"
	"testing"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestParseCPU(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  bool
	}{
		{"500m", 500, false},
		{"1", 1000, false},
		{"2", 2000, false},
		{"0.25", 250, false},
		{"1.5", 1500, false},
		{"0.0001", 1, false}, // rounds up to a millicore
		{"100m", 100, false},
		{"1k", 1000000, false},
		{"", 0, true},
		{"m", 0, true},
		{"-1", 0, true},
		{"1x", 0, true},
		{"abc", 0, true},
		{"1.2.3", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseCPU(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseCPU(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.err)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseCPU(%q) error %v is not ErrInvalid", tc.in, err)
		}
	}
}

func TestParseMemory(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  bool
	}{
		{"64Mi", 64 << 20, false},
		{"1G", 1000000000, false},
		{"128974848", 128974848, false},
		{"129e6", 0, true}, // exponent form is not supported; validation says so
		{"1Ki", 1024, false},
		{"1.5Gi", 3 << 29, false},
		{"2Ti", 2 << 40, false},
		{"500k", 500000, false},
		{"3M", 3000000, false},
		{"4T", 4000000000000, false},
		{"1500m", 2, false}, // 1.5 bytes round up
		{"64MB", 0, true},
		{"", 0, true},
		{"Mi", 0, true},
		{"-5Mi", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseMemory(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseMemory(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
	if _, err := ParseMemory("64MB"); err == nil || !errors.Is(err, ErrInvalid) ||
		err.Error() != `memory quantity "64MB": unknown suffix "MB" (want one of m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei): invalid` {
		t.Errorf("error %v", err)
	}
}

func TestRunSpecFor(t *testing.T) {
	job := &pb.Job{
		Metadata: &pb.ObjectMeta{Name: "nightly-29000000", Namespace: "reports",
			Annotations: map[string]string{AnnotationScheduledTimestamp: "2026-05-19T10:00:00+02:00"}},
		Spec: &pb.JobSpec{
			Completions: proto.Int32(3), CompletionMode: "Indexed",
			ActiveDeadlineSeconds: proto.Int32(120),
			Template: &pb.PodTemplateSpec{
				Metadata: &pb.ObjectMeta{Labels: map[string]string{"team": "data", LabelJob: "spoofed"}},
				Spec: &pb.PodSpec{
					RestartPolicy:                 "Never",
					HostNetwork:                   true,
					TerminationGracePeriodSeconds: proto.Int32(5),
					Volumes: []*pb.Volume{
						{Name: "data", HostPath: &pb.HostPathVolumeSource{Path: "/srv/data"}},
						{Name: "empty"},
					},
					Containers: []*pb.Container{{
						Name: "main", Image: "registry:5000/report",
						Command: []string{"/bin/report"}, Args: []string{"--all"},
						WorkingDir: "/work",
						Env:        []*pb.EnvVar{{Name: "MODE", Value: "full"}, {Name: EnvJob, Value: "spoofed"}},
						Resources: &pb.ResourceRequirements{
							Limits:   map[string]string{"cpu": "500m", "memory": "64Mi"},
							Requests: map[string]string{"cpu": "2", "memory": "1Gi"},
						},
						VolumeMounts: []*pb.VolumeMount{
							{Name: "data", MountPath: "/data", ReadOnly: true},
							{Name: "empty", MountPath: "/empty"},
						},
						SecurityContext: &pb.SecurityContext{Privileged: proto.Bool(true)},
					}},
				},
			},
		},
		Status: &pb.JobStatus{StartTime: timestamppb.New(t0)},
	}
	a := &pb.Attempt{Namespace: "reports", Job: job.Metadata.Name, Index: 2, Number: 3, Name: "nightly-29000000-2-3"}
	rs := RunSpecFor(job, a)
	if rs.Image != "registry:5000/report" || rs.ImagePullPolicy != "Always" {
		t.Errorf("image %q pull %q", rs.Image, rs.ImagePullPolicy)
	}
	if !reflect.DeepEqual(rs.Command, []string{"/bin/report"}) || !reflect.DeepEqual(rs.Args, []string{"--all"}) || rs.WorkingDir != "/work" {
		t.Errorf("command %v args %v dir %q", rs.Command, rs.Args, rs.WorkingDir)
	}
	wantEnv := map[string]string{
		"MODE":             "full",
		EnvJob:             "nightly-29000000",
		EnvNamespace:       "reports",
		EnvAttempt:         "nightly-29000000-2-3",
		EnvCompletionIndex: "2",
		EnvScheduledTime:   "2026-05-19T10:00:00+02:00",
	}
	if !reflect.DeepEqual(rs.Env, wantEnv) {
		t.Errorf("env %v\nwant %v", rs.Env, wantEnv)
	}
	if rs.CpuMillis != 500 || rs.MemoryBytes != 64<<20 {
		t.Errorf("cpu %d memory %d (limits, not requests)", rs.CpuMillis, rs.MemoryBytes)
	}
	if want := []*pb.Mount{{HostPath: "/srv/data", ContainerPath: "/data", ReadOnly: true}}; len(rs.Mounts) != 1 || !proto.Equal(rs.Mounts[0], want[0]) {
		t.Errorf("mounts %v", rs.Mounts)
	}
	if !rs.Privileged || !rs.HostNetwork || rs.HostPid {
		t.Errorf("privileged %v hostNetwork %v hostPID %v", rs.Privileged, rs.HostNetwork, rs.HostPid)
	}
	if rs.KillGrace.AsDuration() != 5*time.Second {
		t.Errorf("kill grace %v", rs.KillGrace.AsDuration())
	}
	if !rs.Deadline.AsTime().Equal(t0.Add(2 * time.Minute)) {
		t.Errorf("deadline %v", rs.Deadline.AsTime())
	}
	wantLabels := map[string]string{"team": "data", LabelJob: "nightly-29000000", LabelNamespace: "reports", LabelIndex: "2", LabelAttempt: "nightly-29000000-2-3"}
	if !reflect.DeepEqual(rs.Labels, wantLabels) {
		t.Errorf("labels %v", rs.Labels)
	}
}

func TestRunSpecForDefaults(t *testing.T) {
	tests := []struct {
		image, policy, want string
	}{
		{"busybox", "", "Always"},
		{"busybox:latest", "", "Always"},
		{"busybox:1.36", "", "IfNotPresent"},
		{"localhost:5000/app", "", "Always"},
		{"localhost:5000/app:v1", "", "IfNotPresent"},
		{"busybox@sha256:0123", "", "IfNotPresent"},
		{"busybox:latest", "Never", "Never"},
	}
	for _, tc := range tests {
		job := testJob("plain")
		c := job.Spec.Template.Spec.Containers[0]
		c.Image, c.ImagePullPolicy = tc.image, tc.policy
		rs := RunSpecFor(job, &pb.Attempt{Name: "plain-0-1"})
		if rs.ImagePullPolicy != tc.want {
			t.Errorf("%s (%q): pull policy %q, want %q", tc.image, tc.policy, rs.ImagePullPolicy, tc.want)
		}
		if rs.KillGrace.AsDuration() != 30*time.Second || rs.Deadline != nil || rs.CpuMillis != 0 || rs.MemoryBytes != 0 {
			t.Errorf("defaults: grace %v deadline %v cpu %d mem %d", rs.KillGrace.AsDuration(), rs.Deadline, rs.CpuMillis, rs.MemoryBytes)
		}
		if _, ok := rs.Env[EnvCompletionIndex]; ok {
			t.Error("NonIndexed Job got JOB_COMPLETION_INDEX")
		}
		if _, ok := rs.Env[EnvScheduledTime]; ok {
			t.Error("Job without the annotation got RAFTCRON_SCHEDULED_TIME")
		}
	}
}

// A cron Job decided ahead of its tick starts at the tick; one created at
// or after it, and a Job started by hand, start at once.
func TestRunSpecForStartsAtTheTick(t *testing.T) {
	tick := time.Date(2026, 11, 23, 10, 1, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		created time.Time
		manual  bool
		want    bool
	}{
		{"decided ahead", tick.Add(-500 * time.Millisecond), false, true},
		{"decided at the tick", tick, false, false},
		{"decided late", tick.Add(3 * time.Second), false, false},
		{"started by hand", tick.Add(-time.Second), true, false},
	} {
		job := testJob("plain")
		job.Metadata.CreationTimestamp = timestamppb.New(tc.created)
		job.Status = &pb.JobStatus{CronJob: "c", ScheduledTime: timestamppb.New(tick), Manual: tc.manual}
		rs := RunSpecFor(job, &pb.Attempt{Name: "plain-0-1"})
		if got := rs.StartAt != nil; got != tc.want {
			t.Errorf("%s: start_at %v; want it set: %v", tc.name, rs.StartAt, tc.want)
		} else if got && !rs.StartAt.AsTime().Equal(tick) {
			t.Errorf("%s: start_at %v; want the tick %v", tc.name, rs.StartAt.AsTime(), tick)
		}
	}
}
