package scheduler

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// validCronJob is the Kubernetes documentation's hello CronJob.
func validCronJob() *pb.CronJob {
	return &pb.CronJob{
		ApiVersion: "batch/v1", Kind: "CronJob",
		Metadata: &pb.ObjectMeta{Name: "hello", Namespace: "default"},
		Spec: &pb.CronJobSpec{
			Schedule: "* * * * *",
			JobTemplate: &pb.JobTemplateSpec{Spec: &pb.JobSpec{Template: &pb.PodTemplateSpec{Spec: &pb.PodSpec{
				RestartPolicy: "OnFailure",
				Containers: []*pb.Container{{
					Name: "hello", Image: "busybox:1.28", ImagePullPolicy: "IfNotPresent",
					Command: []string{"/bin/sh", "-c", "date; echo Hello from the cluster"},
				}},
			}}}},
		},
	}
}

// validJob is the Kubernetes documentation's podFailurePolicy Job.
func validJob() *pb.Job {
	return &pb.Job{
		ApiVersion: "batch/v1", Kind: "Job",
		Metadata: &pb.ObjectMeta{Name: "job-pod-failure-policy-failjob", Namespace: "default"},
		Spec: &pb.JobSpec{
			Completions: proto.Int32(8), Parallelism: proto.Int32(2), BackoffLimit: proto.Int32(6),
			PodFailurePolicy: &pb.PodFailurePolicy{Rules: []*pb.PodFailurePolicyRule{{
				Action: "FailJob",
				OnExitCodes: &pb.PodFailurePolicyOnExitCodesRequirement{
					ContainerName: proto.String("main"), Operator: "In", Values: []int32{42},
				},
			}}},
			Template: &pb.PodTemplateSpec{Spec: &pb.PodSpec{
				RestartPolicy: "Never",
				Containers: []*pb.Container{{
					Name: "main", Image: "bash:5",
					Command: []string{"bash", "-c", "echo going to exit 42; sleep 30; exit 42"},
				}},
			}},
		},
	}
}

func TestSetCronJobDefaults(t *testing.T) {
	c := &pb.CronJob{Metadata: &pb.ObjectMeta{Name: "x"}, Spec: &pb.CronJobSpec{Schedule: "@daily"}}
	SetCronJobDefaults(c)
	s := c.Spec
	if c.ApiVersion != "batch/v1" || c.Kind != "CronJob" || c.Metadata.Namespace != "default" {
		t.Errorf("type/meta defaults: %q %q %q", c.ApiVersion, c.Kind, c.Metadata.Namespace)
	}
	if s.ConcurrencyPolicy != "Allow" || s.Suspend == nil || *s.Suspend ||
		s.GetSuccessfulJobsHistoryLimit() != 3 || s.FailedJobsHistoryLimit == nil || *s.FailedJobsHistoryLimit != 1 ||
		s.CatchUp != "Latest" || s.GetCatchUpLimit() != 100 {
		t.Errorf("CronJob defaults wrong: %v", s)
	}
	js := s.GetJobTemplate().GetSpec()
	if js.GetBackoffLimit() != 6 || js.GetCompletions() != 1 || js.GetParallelism() != 1 || js.CompletionMode != "NonIndexed" {
		t.Errorf("template not defaulted: %v", js)
	}
	if s.StartingDeadlineSeconds != nil || s.TimeZone != nil {
		t.Errorf("startingDeadlineSeconds and timeZone must stay unset: %v", s)
	}

	// Values the user set are never overwritten, including zeros.
	c = &pb.CronJob{Metadata: &pb.ObjectMeta{Name: "x", Namespace: "ops"}, Spec: &pb.CronJobSpec{
		ConcurrencyPolicy: "Forbid", Suspend: proto.Bool(true), SuccessfulJobsHistoryLimit: proto.Int32(0),
		FailedJobsHistoryLimit: proto.Int32(0), CatchUp: "None", CatchUpLimit: proto.Int32(5),
	}}
	want := proto.Clone(c).(*pb.CronJob)
	SetCronJobDefaults(c)
	c.ApiVersion, c.Kind, c.Spec.JobTemplate = "", "", nil
	if !proto.Equal(c, want) {
		t.Errorf("user values overwritten:\n got %v\nwant %v", c, want)
	}
}

func TestSetJobSpecDefaults(t *testing.T) {
	i32 := proto.Int32
	tests := []struct {
		name                    string
		completions, parallel   *int32
		wantCompl, wantParallel *int32
	}{
		{"both unset: one run", nil, nil, i32(1), i32(1)},
		{"work queue: completions stay unset", nil, i32(4), nil, i32(4)},
		{"completions only: parallelism 1", i32(5), nil, i32(5), i32(1)},
		{"both set", i32(5), i32(2), i32(5), i32(2)},
		{"parallelism 0 pauses and stays 0", nil, i32(0), nil, i32(0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &pb.JobSpec{Completions: tc.completions, Parallelism: tc.parallel}
			SetJobSpecDefaults(s)
			if !proto.Equal(&pb.JobSpec{Completions: s.Completions, Parallelism: s.Parallelism},
				&pb.JobSpec{Completions: tc.wantCompl, Parallelism: tc.wantParallel}) {
				t.Errorf("completions %v parallelism %v; want %v %v", showInt32(s.Completions), showInt32(s.Parallelism), showInt32(tc.wantCompl), showInt32(tc.wantParallel))
			}
			if s.GetBackoffLimit() != 6 || s.CompletionMode != "NonIndexed" || s.Suspend == nil || *s.Suspend {
				t.Errorf("defaults: backoffLimit %d completionMode %q suspend %v", s.GetBackoffLimit(), s.CompletionMode, s.Suspend)
			}
			if s.Template.Spec.GetTerminationGracePeriodSeconds() != 30 {
				t.Errorf("terminationGracePeriodSeconds %d", s.Template.Spec.GetTerminationGracePeriodSeconds())
			}
		})
	}

	j := validJob()
	j.Spec.BackoffLimit = proto.Int32(0)
	j.Spec.PodFailurePolicy.Rules = append(j.Spec.PodFailurePolicy.Rules, &pb.PodFailurePolicyRule{
		Action: "Ignore", OnPodConditions: []*pb.PodFailurePolicyOnPodConditionsPattern{{Type: "WorkerLost"}},
	})
	j.Spec.PodFailurePolicy.Rules[0].OnExitCodes.ContainerName = nil
	SetJobDefaults(j)
	if j.Spec.GetBackoffLimit() != 0 {
		t.Errorf("backoffLimit 0 overwritten with %d", j.Spec.GetBackoffLimit())
	}
	if got := j.Spec.PodFailurePolicy.Rules[1].OnPodConditions[0].Status; got != "True" {
		t.Errorf("onPodConditions status defaulted to %q, want True", got)
	}
	if j.Spec.PodFailurePolicy.Rules[0].OnExitCodes.ContainerName != nil {
		t.Error("containerName must be left alone")
	}
	if j.Spec.Template.Spec.RestartPolicy != "Never" {
		t.Error("restartPolicy changed")
	}
}

func showInt32(p *int32) string {
	if p == nil {
		return "unset"
	}
	return fmt.Sprint(*p)
}

func TestDefaultImagePullPolicy(t *testing.T) {
	for image, want := range map[string]string{
		"busybox":                      "Always",
		"busybox:latest":               "Always",
		"busybox:1.28":                 "IfNotPresent",
		"library/perl:5.34.0":          "IfNotPresent",
		"localhost:5000/app":           "Always",
		"localhost:5000/app:v1":        "IfNotPresent",
		"localhost:5000/app:latest":    "Always",
		"ghcr.io/org/app@sha256:abcd":  "IfNotPresent",
		"ghcr.io/org/app:1@sha256:abc": "IfNotPresent",
	} {
		if got := DefaultImagePullPolicy(image); got != want {
			t.Errorf("DefaultImagePullPolicy(%q) = %q, want %q", image, got, want)
		}
	}
	c := validCronJob()
	cont := c.Spec.JobTemplate.Spec.Template.Spec.Containers[0]
	cont.Image, cont.ImagePullPolicy = "busybox", ""
	SetCronJobDefaults(c)
	if cont.ImagePullPolicy != "Always" {
		t.Errorf("untagged image got imagePullPolicy %q", cont.ImagePullPolicy)
	}
}

func TestValidExamplesPass(t *testing.T) {
	c := validCronJob()
	if err := ValidateCronJob(c); err != nil {
		t.Errorf("before defaults: %v", err)
	}
	SetCronJobDefaults(c)
	if err := ValidateCronJob(c); err != nil {
		t.Errorf("after defaults: %v", err)
	}
	j := validJob()
	SetJobDefaults(j)
	if err := ValidateJob(j); err != nil {
		t.Errorf("job: %v", err)
	}

	// Other valid shapes.
	ok := []struct {
		name string
		mut  func(c *pb.CronJob)
	}{
		{"time zone", func(c *pb.CronJob) { c.Spec.TimeZone = proto.String("Europe/Berlin") }},
		{"last weekday, hashed minute", func(c *pb.CronJob) { c.Spec.Schedule = "H(0-29) 3 LW * *" }},
		{"last Friday and second Monday", func(c *pb.CronJob) { c.Spec.Schedule = "0 18 ? * 5L,1#2" }},
		{"L-3 and 15W", func(c *pb.CronJob) { c.Spec.Schedule = "H/15 9 L-3,15W * *" }},
		{"TZ= prefix alone", func(c *pb.CronJob) { c.Spec.Schedule = "CRON_TZ=America/New_York 0 3 * * *" }},
		{"descriptor", func(c *pb.CronJob) { c.Spec.Schedule = "@hourly" }},
		{"leap day", func(c *pb.CronJob) { c.Spec.Schedule = "0 0 29 2 *" }},
		{"zero limits", func(c *pb.CronJob) {
			c.Spec.SuccessfulJobsHistoryLimit, c.Spec.FailedJobsHistoryLimit = proto.Int32(0), proto.Int32(0)
		}},
		{"52-character name", func(c *pb.CronJob) { c.Metadata.Name = strings.Repeat("a", 52) }},
		{"Indexed with parallelism 0", func(c *pb.CronJob) {
			js := c.Spec.JobTemplate.Spec
			js.CompletionMode, js.Completions, js.Parallelism = "Indexed", proto.Int32(3), proto.Int32(0)
		}},
		{"hostPath volume, resources, env, labels", func(c *pb.CronJob) {
			ps := c.Spec.JobTemplate.Spec.Template.Spec
			ps.Volumes = []*pb.Volume{{Name: "data", HostPath: &pb.HostPathVolumeSource{Path: "/srv/data", Type: "DirectoryOrCreate"}}}
			ps.NodeSelector = map[string]string{"kubernetes.io/arch": "amd64", "disk": ""}
			ct := ps.Containers[0]
			ct.VolumeMounts = []*pb.VolumeMount{{Name: "data", MountPath: "/data"}}
			ct.Env = []*pb.EnvVar{{Name: "_X.y-z", Value: "1"}}
			ct.Resources = &pb.ResourceRequirements{Limits: map[string]string{"cpu": "1", "memory": "64Mi"}, Requests: map[string]string{"cpu": "500m", "memory": "64Mi"}}
			c.Metadata.Labels = map[string]string{"app.kubernetes.io/name": "hello"}
		}},
		{"pod conditions", func(c *pb.CronJob) {
			js := c.Spec.JobTemplate.Spec
			js.Template.Spec.RestartPolicy = "Never"
			js.PodFailurePolicy = &pb.PodFailurePolicy{Rules: []*pb.PodFailurePolicyRule{
				{Action: "Ignore", OnPodConditions: []*pb.PodFailurePolicyOnPodConditionsPattern{{Type: "DisruptionTarget"}}},
				{Action: "Count", OnExitCodes: &pb.PodFailurePolicyOnExitCodesRequirement{Operator: "NotIn", Values: []int32{0, 3}}},
			}}
		}},
	}
	for _, tc := range ok {
		c := validCronJob()
		tc.mut(c)
		SetCronJobDefaults(c)
		if err := ValidateCronJob(c); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestValidateCronJobFields(t *testing.T) {
	const pod = "spec.jobTemplate.spec.template.spec"
	const ctr = pod + ".containers[0]"
	tests := []struct {
		name    string
		mut     func(c *pb.CronJob)
		field   string
		problem string
	}{
		{"no name", func(c *pb.CronJob) { c.Metadata.Name = "" }, "metadata.name", "required"},
		{"name 53", func(c *pb.CronJob) { c.Metadata.Name = strings.Repeat("a", 53) }, "metadata.name", "must be at most 52"},
		{"name upper", func(c *pb.CronJob) { c.Metadata.Name = "Hello" }, "metadata.name", "DNS-1123 label"},
		{"name ends with dash", func(c *pb.CronJob) { c.Metadata.Name = "hello-" }, "metadata.name", "DNS-1123 label"},
		{"namespace", func(c *pb.CronJob) { c.Metadata.Namespace = "a.b" }, "metadata.namespace", "DNS-1123 label"},
		{"label value", func(c *pb.CronJob) { c.Metadata.Labels = map[string]string{"a": "b c"} }, "metadata.labels.a", "must be empty or at most 63"},
		{"wrong kind", func(c *pb.CronJob) { c.Kind = "Job" }, "kind", `must be CronJob, got "Job"`},
		{"bad schedule", func(c *pb.CronJob) { c.Spec.Schedule = "61 * * * *" }, "spec.schedule", `unparsable schedule "61 * * * *"`},
		{"# in day-of-month", func(c *pb.CronJob) { c.Spec.Schedule = "0 0 1#2 * *" }, "spec.schedule", "day-of-month \"1#2\": `#` is only allowed in day-of-week"},
		{"? in minute", func(c *pb.CronJob) { c.Spec.Schedule = "? * * * *" }, "spec.schedule", "`?` is only allowed in day-of-month or day-of-week"},
		{"H step 0", func(c *pb.CronJob) { c.Spec.Schedule = "H/0 * * * *" }, "spec.schedule", `minute "H/0": the step "0" must be a whole number of at least 1`},
		{"31W in April", func(c *pb.CronJob) { c.Spec.Schedule = "0 0 31W 4 *" }, "spec.schedule", "never fires"},
		{"four fields", func(c *pb.CronJob) { c.Spec.Schedule = "* * * *" }, "spec.schedule", `unparsable schedule "* * * *"`},
		{"never fires", func(c *pb.CronJob) { c.Spec.Schedule = "59 23 31 2 *" }, "spec.schedule", "never fires"},
		{"no schedule", func(c *pb.CronJob) { c.Spec.Schedule = " " }, "spec.schedule", "required"},
		{"unknown zone", func(c *pb.CronJob) { c.Spec.TimeZone = proto.String("Mars/Olympus") }, "spec.timeZone", `unknown time zone "Mars/Olympus"`},
		{"Local", func(c *pb.CronJob) { c.Spec.TimeZone = proto.String("Local") }, "spec.timeZone", `"Local" is not allowed`},
		{"empty zone", func(c *pb.CronJob) { c.Spec.TimeZone = proto.String("") }, "spec.timeZone", "IANA"},
		{"path as zone", func(c *pb.CronJob) { c.Spec.TimeZone = proto.String("../../etc/passwd") }, "spec.timeZone", "unknown time zone"},
		{"TZ with timeZone", func(c *pb.CronJob) {
			c.Spec.Schedule, c.Spec.TimeZone = "TZ=UTC * * * * *", proto.String("UTC")
		}, "spec.schedule", "cannot be combined with spec.timeZone"},
		{"TZ=Local", func(c *pb.CronJob) { c.Spec.Schedule = "TZ=Local * * * * *" }, "spec.schedule", `"Local" is not allowed`},
		{"deadline", func(c *pb.CronJob) { c.Spec.StartingDeadlineSeconds = proto.Int32(-1) }, "spec.startingDeadlineSeconds", "must be >= 0, got -1"},
		{"success limit", func(c *pb.CronJob) { c.Spec.SuccessfulJobsHistoryLimit = proto.Int32(-1) }, "spec.successfulJobsHistoryLimit", "must be >= 0"},
		{"failed limit", func(c *pb.CronJob) { c.Spec.FailedJobsHistoryLimit = proto.Int32(-3) }, "spec.failedJobsHistoryLimit", "must be >= 0, got -3"},
		{"catchUpLimit", func(c *pb.CronJob) { c.Spec.CatchUpLimit = proto.Int32(0) }, "spec.catchUpLimit", "must be >= 1"},
		{"policy", func(c *pb.CronJob) { c.Spec.ConcurrencyPolicy = "forbid" }, "spec.concurrencyPolicy", `unsupported value "forbid"; must be one of Allow, Forbid, Replace`},
		{"catchUp", func(c *pb.CronJob) { c.Spec.CatchUp = "Some" }, "spec.catchUp", "must be one of Latest, All, None"},
		{"no template", func(c *pb.CronJob) { c.Spec.JobTemplate = nil }, pod + ".containers", "required: exactly one container"},
		{"template label key", func(c *pb.CronJob) {
			c.Spec.JobTemplate.Metadata = &pb.ObjectMeta{Labels: map[string]string{"-bad": "x"}}
		}, "spec.jobTemplate.metadata.labels", `key "-bad"`},
		{"parallelism", func(c *pb.CronJob) { c.Spec.JobTemplate.Spec.Parallelism = proto.Int32(-1) }, "spec.jobTemplate.spec.parallelism", "must be >= 0"},
		{"completions", func(c *pb.CronJob) { c.Spec.JobTemplate.Spec.Completions = proto.Int32(-1) }, "spec.jobTemplate.spec.completions", "must be >= 0"},
		{"backoffLimit", func(c *pb.CronJob) { c.Spec.JobTemplate.Spec.BackoffLimit = proto.Int32(-1) }, "spec.jobTemplate.spec.backoffLimit", "must be >= 0"},
		{"activeDeadlineSeconds", func(c *pb.CronJob) { c.Spec.JobTemplate.Spec.ActiveDeadlineSeconds = proto.Int32(0) }, "spec.jobTemplate.spec.activeDeadlineSeconds", "must be > 0"},
		{"ttl", func(c *pb.CronJob) { c.Spec.JobTemplate.Spec.TtlSecondsAfterFinished = proto.Int32(-5) }, "spec.jobTemplate.spec.ttlSecondsAfterFinished", "must be >= 0"},
		{"completionMode", func(c *pb.CronJob) { c.Spec.JobTemplate.Spec.CompletionMode = "Ordered" }, "spec.jobTemplate.spec.completionMode", "must be one of NonIndexed, Indexed"},
		{"Indexed without completions", func(c *pb.CronJob) {
			c.Spec.JobTemplate.Spec.CompletionMode, c.Spec.JobTemplate.Spec.Parallelism = "Indexed", proto.Int32(2)
		}, "spec.jobTemplate.spec.completions", "must be >= 1 when completionMode is Indexed"},
		{"Indexed with 0 completions", func(c *pb.CronJob) {
			c.Spec.JobTemplate.Spec.CompletionMode, c.Spec.JobTemplate.Spec.Completions = "Indexed", proto.Int32(0)
		}, "spec.jobTemplate.spec.completions", "must be >= 1"},
		{"restartPolicy Always", func(c *pb.CronJob) { c.Spec.JobTemplate.Spec.Template.Spec.RestartPolicy = "Always" }, pod + ".restartPolicy", `"Always" is not allowed for a Job`},
		{"restartPolicy missing", func(c *pb.CronJob) { c.Spec.JobTemplate.Spec.Template.Spec.RestartPolicy = "" }, pod + ".restartPolicy", "required"},
		{"restartPolicy other", func(c *pb.CronJob) { c.Spec.JobTemplate.Spec.Template.Spec.RestartPolicy = "never" }, pod + ".restartPolicy", `unsupported value "never"`},
		{"no containers", func(c *pb.CronJob) { c.Spec.JobTemplate.Spec.Template.Spec.Containers = nil }, pod + ".containers", "required: exactly one container"},
		{"two containers", func(c *pb.CronJob) {
			ps := c.Spec.JobTemplate.Spec.Template.Spec
			ps.Containers = append(ps.Containers, &pb.Container{Name: "side", Image: "busybox"})
		}, pod + ".containers", "raftcron runs one container per attempt"},
		{"container name", func(c *pb.CronJob) { container(c).Name = "" }, ctr + ".name", "required"},
		{"container name chars", func(c *pb.CronJob) { container(c).Name = "my_container" }, ctr + ".name", "DNS-1123"},
		{"image", func(c *pb.CronJob) { container(c).Image = "" }, ctr + ".image", "required"},
		{"image whitespace", func(c *pb.CronJob) { container(c).Image = "busy box" }, ctr + ".image", "whitespace"},
		{"pull policy", func(c *pb.CronJob) { container(c).ImagePullPolicy = "Sometimes" }, ctr + ".imagePullPolicy", "must be one of Always, IfNotPresent, Never"},
		{"env name =", func(c *pb.CronJob) { container(c).Env = []*pb.EnvVar{{Name: "A=B"}} }, ctr + ".env[0].name", "not a valid environment variable name"},
		{"env name digit", func(c *pb.CronJob) { container(c).Env = []*pb.EnvVar{{Name: "X"}, {Name: "1X"}} }, ctr + ".env[1].name", "not a valid"},
		{"env name empty", func(c *pb.CronJob) { container(c).Env = []*pb.EnvVar{{Value: "v"}} }, ctr + ".env[0].name", "required"},
		{"memory", func(c *pb.CronJob) {
			container(c).Resources = &pb.ResourceRequirements{Limits: map[string]string{"memory": "64MB"}}
		}, ctr + ".resources.limits.memory", `invalid quantity "64MB"`},
		{"cpu", func(c *pb.CronJob) {
			container(c).Resources = &pb.ResourceRequirements{Requests: map[string]string{"cpu": "fast"}}
		}, ctr + ".resources.requests.cpu", `invalid quantity "fast"`},
		{"gpu", func(c *pb.CronJob) {
			container(c).Resources = &pb.ResourceRequirements{Limits: map[string]string{"nvidia.com/gpu": "1"}}
		}, ctr + ".resources.limits.nvidia.com/gpu", "raftcron supports cpu and memory"},
		{"request above limit", func(c *pb.CronJob) {
			container(c).Resources = &pb.ResourceRequirements{Limits: map[string]string{"memory": "64Mi"}, Requests: map[string]string{"memory": "1Gi"}}
		}, ctr + ".resources.requests.memory", "must be less than or equal to the limit 64Mi"},
		{"volume without hostPath", func(c *pb.CronJob) {
			c.Spec.JobTemplate.Spec.Template.Spec.Volumes = []*pb.Volume{{Name: "v"}}
		}, pod + ".volumes[0].hostPath", "hostPath volumes only"},
		{"relative hostPath", func(c *pb.CronJob) {
			c.Spec.JobTemplate.Spec.Template.Spec.Volumes = []*pb.Volume{{Name: "v", HostPath: &pb.HostPathVolumeSource{Path: "srv"}}}
		}, pod + ".volumes[0].hostPath.path", "absolute path"},
		{"hostPath type", func(c *pb.CronJob) {
			c.Spec.JobTemplate.Spec.Template.Spec.Volumes = []*pb.Volume{{Name: "v", HostPath: &pb.HostPathVolumeSource{Path: "/srv", Type: "Dir"}}}
		}, pod + ".volumes[0].hostPath.type", `unsupported value "Dir"`},
		{"duplicate volume", func(c *pb.CronJob) {
			v := &pb.Volume{Name: "v", HostPath: &pb.HostPathVolumeSource{Path: "/srv"}}
			c.Spec.JobTemplate.Spec.Template.Spec.Volumes = []*pb.Volume{v, proto.Clone(v).(*pb.Volume)}
		}, pod + ".volumes[1].name", "duplicate volume name"},
		{"mount of unknown volume", func(c *pb.CronJob) {
			container(c).VolumeMounts = []*pb.VolumeMount{{Name: "data", MountPath: "/data"}}
		}, ctr + ".volumeMounts[0].name", `no volume named "data"`},
		{"relative mountPath", func(c *pb.CronJob) {
			c.Spec.JobTemplate.Spec.Template.Spec.Volumes = []*pb.Volume{{Name: "v", HostPath: &pb.HostPathVolumeSource{Path: "/srv"}}}
			container(c).VolumeMounts = []*pb.VolumeMount{{Name: "v", MountPath: "data"}}
		}, ctr + ".volumeMounts[0].mountPath", "absolute path"},
		{"nodeSelector key", func(c *pb.CronJob) {
			c.Spec.JobTemplate.Spec.Template.Spec.NodeSelector = map[string]string{"Example.com/zone": "a"}
		}, pod + ".nodeSelector", "DNS subdomain"},
		{"nodeSelector value", func(c *pb.CronJob) {
			c.Spec.JobTemplate.Spec.Template.Spec.NodeSelector = map[string]string{"zone": "eu west"}
		}, pod + ".nodeSelector.zone", "must be empty or at most 63"},
		{"grace period", func(c *pb.CronJob) {
			c.Spec.JobTemplate.Spec.Template.Spec.TerminationGracePeriodSeconds = proto.Int32(-1)
		}, pod + ".terminationGracePeriodSeconds", "must be >= 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := validCronJob()
			tc.mut(c)
			SetCronJobDefaults(c)
			err := ValidateCronJob(c)
			checkFieldError(t, err, "CronJob", tc.field, tc.problem)
		})
	}
}

func container(c *pb.CronJob) *pb.Container {
	return c.Spec.JobTemplate.Spec.Template.Spec.Containers[0]
}

func TestValidatePodFailurePolicy(t *testing.T) {
	const p = "spec.podFailurePolicy"
	rule := func(j *pb.Job) *pb.PodFailurePolicyRule { return j.Spec.PodFailurePolicy.Rules[0] }
	tests := []struct {
		name    string
		mut     func(j *pb.Job)
		field   string
		problem string
	}{
		{"OnFailure", func(j *pb.Job) { j.Spec.Template.Spec.RestartPolicy = "OnFailure" }, p, "only allowed when spec.template.spec.restartPolicy is Never"},
		{"too many rules", func(j *pb.Job) {
			for len(j.Spec.PodFailurePolicy.Rules) < 21 {
				j.Spec.PodFailurePolicy.Rules = append(j.Spec.PodFailurePolicy.Rules, proto.Clone(rule(j)).(*pb.PodFailurePolicyRule))
			}
		}, p + ".rules", "at most 20 rules are allowed, got 21"},
		{"action", func(j *pb.Job) { rule(j).Action = "Retry" }, p + ".rules[0].action", `unsupported value "Retry"; must be one of FailJob, Ignore, Count`},
		{"FailIndex", func(j *pb.Job) { rule(j).Action = "FailIndex" }, p + ".rules[0].action", "FailIndex is not supported"},
		{"no action", func(j *pb.Job) { rule(j).Action = "" }, p + ".rules[0].action", "required"},
		{"both requirements", func(j *pb.Job) {
			rule(j).OnPodConditions = []*pb.PodFailurePolicyOnPodConditionsPattern{{Type: "WorkerLost"}}
		}, p + ".rules[0]", "exactly one of onExitCodes and onPodConditions, not both"},
		{"no requirement", func(j *pb.Job) { rule(j).OnExitCodes = nil }, p + ".rules[0]", "exactly one of onExitCodes and onPodConditions"},
		{"operator", func(j *pb.Job) { rule(j).OnExitCodes.Operator = "Equals" }, p + ".rules[0].onExitCodes.operator", `unsupported value "Equals"; must be one of In, NotIn`},
		{"no values", func(j *pb.Job) { rule(j).OnExitCodes.Values = nil }, p + ".rules[0].onExitCodes.values", "at least one exit code"},
		{"duplicate values", func(j *pb.Job) { rule(j).OnExitCodes.Values = []int32{42, 1, 42} }, p + ".rules[0].onExitCodes.values[2]", "duplicate value 42"},
		{"0 with In", func(j *pb.Job) { rule(j).OnExitCodes.Values = []int32{42, 0} }, p + ".rules[0].onExitCodes.values[1]", "0 is not allowed with operator In"},
		{"container name", func(j *pb.Job) { rule(j).OnExitCodes.ContainerName = proto.String("other") }, p + ".rules[0].onExitCodes.containerName", `no container named "other"`},
		{"condition type", func(j *pb.Job) {
			rule(j).OnExitCodes = nil
			rule(j).OnPodConditions = []*pb.PodFailurePolicyOnPodConditionsPattern{{Type: "Evicted"}}
		}, p + ".rules[0].onPodConditions[0].type", `unsupported condition "Evicted"`},
		{"condition status", func(j *pb.Job) {
			rule(j).OnExitCodes = nil
			rule(j).OnPodConditions = []*pb.PodFailurePolicyOnPodConditionsPattern{{Type: "WorkerLost", Status: "False"}}
		}, p + ".rules[0].onPodConditions[0].status", `unsupported value "False"; must be "True"`},
		{"Job name 64", func(j *pb.Job) { j.Metadata.Name = strings.Repeat("j", 64) }, "metadata.name", "must be at most 63"},
		{"apiVersion", func(j *pb.Job) { j.ApiVersion = "batch/v2" }, "apiVersion", `"batch/v2" is not supported`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := validJob()
			tc.mut(j)
			SetJobDefaults(j)
			checkFieldError(t, ValidateJob(j), "Job", tc.field, tc.problem)
		})
	}
	// 0 is fine with NotIn.
	j := validJob()
	rule(j).OnExitCodes.Operator, rule(j).OnExitCodes.Values = "NotIn", []int32{0}
	if err := ValidateJob(j); err != nil {
		t.Errorf("NotIn [0]: %v", err)
	}
}

func checkFieldError(t *testing.T, err error, kind, field, problem string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %s: %s", field, problem)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("errors.Is(err, ErrInvalid) is false: %v", err)
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want a *ValidationError, got %T: %v", err, err)
	}
	if ve.Kind != kind {
		t.Errorf("Kind %q, want %q", ve.Kind, kind)
	}
	for _, fe := range ve.Errors {
		if fe.Field == field && strings.Contains(fe.Problem, problem) {
			if !strings.Contains(err.Error(), field+": ") {
				t.Errorf("Error() does not name %s: %v", field, err)
			}
			return
		}
	}
	t.Errorf("want %s: ...%s...; got %v", field, problem, err)
}

func TestValidateCollectsAllErrors(t *testing.T) {
	c := validCronJob()
	c.Metadata.Name = "x"
	c.Spec.Schedule = "61 * * * *"
	c.Spec.TimeZone = proto.String("Nowhere/City")
	c.Spec.ConcurrencyPolicy = "Never"
	container(c).Image = ""
	err := ValidateCronJob(c)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want *ValidationError, got %v", err)
	}
	// Every bad field is reported at once: the schedule is checked in UTC
	// when its zone does not load.
	want := `CronJob "x" is invalid: spec.timeZone: unknown time zone "Nowhere/City"; ` +
		`spec.schedule: unparsable schedule "61 * * * *": minute "61": 61 is out of range 0-59; ` +
		`spec.concurrencyPolicy: unsupported value "Never"; must be one of Allow, Forbid, Replace; ` +
		`spec.jobTemplate.spec.template.spec.containers[0].image: required`
	if err.Error() != want {
		t.Errorf("Error():\n got %s\nwant %s", err, want)
	}
}

func TestValidateWithoutDefaults(t *testing.T) {
	c := validCronJob()
	c.Spec.JobTemplate = nil
	checkFieldError(t, ValidateCronJob(c), "CronJob", "spec.jobTemplate.spec", "required")
	checkFieldError(t, ValidateCronJob(&pb.CronJob{}), "CronJob", "spec", "required")
	checkFieldError(t, ValidateJob(&pb.Job{}), "Job", "metadata.name", "required")
	checkFieldError(t, ValidateJob(&pb.Job{Metadata: &pb.ObjectMeta{Name: "j"}, Spec: &pb.JobSpec{}}), "Job", "spec.template.spec", "required")
}

func TestPrepareResources(t *testing.T) {
	good := validCronJob()
	good.Spec.ConcurrencyPolicy = ""
	bad1 := validJob()
	bad1.Metadata.Name = "bad-one"
	bad1.Spec.Template.Spec.Containers[0].Image = ""
	bad2 := validCronJob()
	bad2.Metadata.Name = "bad-two"
	bad2.Spec.Schedule = "nonsense"
	res := []*pb.Resource{
		{Kind: &pb.Resource_CronJob{CronJob: good}},
		{Kind: &pb.Resource_Job{Job: bad1}},
		{Kind: &pb.Resource_CronJob{CronJob: bad2}},
		{},
	}
	err := PrepareResources(res)
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("want ErrInvalid, got %v", err)
	}
	for _, s := range []string{
		`Job "bad-one" is invalid: spec.template.spec.containers[0].image: required`,
		`CronJob "bad-two" is invalid: spec.schedule: unparsable schedule "nonsense"`,
		"resource 4: neither a CronJob, a Job nor a Secret",
	} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q:\n%v", s, err)
		}
	}
	if strings.Contains(err.Error(), `"hello"`) {
		t.Errorf("the valid CronJob is reported: %v", err)
	}
	if good.Spec.ConcurrencyPolicy != "Allow" {
		t.Errorf("defaults not applied: concurrencyPolicy %q", good.Spec.ConcurrencyPolicy)
	}

	if err := PrepareResources([]*pb.Resource{{Kind: &pb.Resource_Job{Job: validJob()}}}); err != nil {
		t.Errorf("valid Job: %v", err)
	}
}
