package client

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"time"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/scheduler"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func decodeString(t *testing.T, s string, opts DecodeOptions) ([]*pb.Resource, []string, error) {
	t.Helper()
	return DecodeManifests(strings.NewReader(s), opts)
}

func decodeFile(t *testing.T, path string) []*pb.Resource {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, warnings, err := DecodeManifests(f, DecodeOptions{})
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	if len(warnings) > 0 {
		t.Errorf("decode %s: unexpected warnings %q", path, warnings)
	}
	return res
}

// The three Kubernetes documentation manifests, as raftcron must read them.
var (
	helloCronJob = &pb.CronJob{
		ApiVersion: "batch/v1", Kind: "CronJob",
		Metadata: &pb.ObjectMeta{Name: "hello", Namespace: "default"},
		Spec: &pb.CronJobSpec{
			Schedule: "* * * * *",
			JobTemplate: &pb.JobTemplateSpec{Spec: &pb.JobSpec{Template: &pb.PodTemplateSpec{Spec: &pb.PodSpec{
				Containers: []*pb.Container{{
					Name: "hello", Image: "busybox:1.28", ImagePullPolicy: "IfNotPresent",
					Command: []string{"/bin/sh", "-c", "date; echo Hello from the cluster"},
				}},
				RestartPolicy: "OnFailure",
			}}}},
		},
	}
	piJob = &pb.Job{
		ApiVersion: "batch/v1", Kind: "Job",
		Metadata: &pb.ObjectMeta{Name: "pi", Namespace: "default"},
		Spec: &pb.JobSpec{
			Completions: proto.Int32(5), Parallelism: proto.Int32(2), BackoffLimit: proto.Int32(4),
			ActiveDeadlineSeconds: proto.Int32(100),
			Template: &pb.PodTemplateSpec{Spec: &pb.PodSpec{
				RestartPolicy: "OnFailure",
				Containers: []*pb.Container{{
					Name: "main", Image: "perl:5.34.0",
					Command: []string{"perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"},
				}},
			}},
		},
	}
	podFailurePolicyJob = &pb.Job{
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
)

func cronJobRes(c *pb.CronJob) *pb.Resource {
	return &pb.Resource{Kind: &pb.Resource_CronJob{CronJob: c}}
}
func jobRes(j *pb.Job) *pb.Resource { return &pb.Resource{Kind: &pb.Resource_Job{Job: j}} }

func TestDecodeKubernetesExamples(t *testing.T) {
	examples := []struct {
		file string
		want *pb.Resource
		// Lines a user sees in `get -o yaml` once defaults are filled.
		wantLines []string
		// Lines that must not appear (the user's own values win over defaults).
		notLines []string
	}{
		{
			file: "hello-cronjob.yaml", want: cronJobRes(helloCronJob),
			wantLines: []string{
				"  namespace: default", "  concurrencyPolicy: Allow", "  suspend: false",
				"  successfulJobsHistoryLimit: 3", "  failedJobsHistoryLimit: 1",
				"  catchUp: Latest", "  catchUpLimit: 100",
				"      backoffLimit: 6", "      completions: 1", "      parallelism: 1",
				"      completionMode: NonIndexed", "            imagePullPolicy: IfNotPresent",
				"          restartPolicy: OnFailure", "  schedule: '* * * * *'",
			},
		},
		{
			file: "pi-job.yaml", want: jobRes(piJob),
			wantLines: []string{
				"  completions: 5", "  parallelism: 2", "  backoffLimit: 4", "  activeDeadlineSeconds: 100",
				"  completionMode: NonIndexed", "        imagePullPolicy: IfNotPresent",
			},
			notLines: []string{"  backoffLimit: 6", "  completions: 1"},
		},
		{
			file: "pod-failure-policy-job.yaml", want: jobRes(podFailurePolicyJob),
			wantLines: []string{
				"  completions: 8", "  parallelism: 2", "  backoffLimit: 6", "  completionMode: NonIndexed",
				"    - action: FailJob", "        containerName: main", "        operator: In", "        - 42",
				"      restartPolicy: Never",
			},
		},
	}
	var all []*pb.Resource
	for _, ex := range examples {
		t.Run(ex.file, func(t *testing.T) {
			res := decodeFile(t, filepath.Join("..", "examples", ex.file))
			if len(res) != 1 {
				t.Fatalf("got %d resources, want 1", len(res))
			}
			if diff := protoDiff(ex.want, res[0]); diff != "" {
				t.Fatalf("decoded manifest differs from what was written (-want +got):\n%s", diff)
			}
			all = append(all, res[0])

			if err := scheduler.PrepareResources(res); err != nil {
				t.Fatalf("PrepareResources: %v", err)
			}
			out, err := EncodeManifest(res[0], "yaml")
			if err != nil {
				t.Fatal(err)
			}
			text := string(out)
			lines := map[string]bool{}
			for _, l := range strings.Split(text, "\n") {
				lines[l] = true
			}
			for _, l := range ex.wantLines {
				if !lines[l] {
					t.Errorf("defaulted YAML lacks the line %q:\n%s", l, text)
				}
			}
			for _, l := range ex.notLines {
				if lines[l] {
					t.Errorf("defaulted YAML has the line %q, overriding the manifest:\n%s", l, text)
				}
			}
			golden := filepath.Join("testdata", strings.TrimSuffix(ex.file, ".yaml")+".defaulted.yaml")
			if *update {
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := textDiff(string(want), text); diff != "" {
				t.Errorf("defaulted YAML differs from %s (-want +got):\n%s", golden, diff)
			}

			// What `get -o yaml` prints applies back to the same object.
			back, _, err := decodeString(t, text, DecodeOptions{})
			if err != nil {
				t.Fatalf("decoding the encoded manifest: %v", err)
			}
			if diff := protoDiff(res, back); diff != "" {
				t.Errorf("encoded manifest does not apply back (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("all.yaml", func(t *testing.T) {
		res := decodeFile(t, filepath.Join("..", "examples", "all.yaml"))
		want := []*pb.Resource{cronJobRes(helloCronJob), jobRes(piJob), jobRes(podFailurePolicyJob)}
		if diff := protoDiff(want, res); diff != "" {
			t.Fatalf("all.yaml (-want +got):\n%s", diff)
		}
	})
}

// fullCronJob sets every field a manifest can carry, plus status and the
// read-only metadata.
func fullCronJob() *pb.CronJob {
	ts := timestamppb.New(mustTime("2026-11-23T09:00:00Z"))
	return &pb.CronJob{
		ApiVersion: "batch/v1", Kind: "CronJob",
		Metadata: &pb.ObjectMeta{
			Name: "backup", Namespace: "ops",
			Labels:      map[string]string{"app": "backup", "example.com/tier": "db"},
			Annotations: map[string]string{"owner": "team data: on call"},
			Generation:  4, Uid: "c0ffee", CreationTimestamp: ts, ResourceVersion: "1234",
		},
		Spec: &pb.CronJobSpec{
			Schedule: "30 3 * * 1-5", TimeZone: proto.String("Europe/Berlin"),
			StartingDeadlineSeconds: proto.Int32(300), ConcurrencyPolicy: "Forbid",
			Suspend: proto.Bool(true), SuccessfulJobsHistoryLimit: proto.Int32(0),
			FailedJobsHistoryLimit: proto.Int32(5), CatchUp: "All", CatchUpLimit: proto.Int32(7),
			JobTemplate: &pb.JobTemplateSpec{
				Metadata: &pb.ObjectMeta{Labels: map[string]string{"job": "backup"}},
				Spec: &pb.JobSpec{
					Parallelism: proto.Int32(3), Completions: proto.Int32(6), ActiveDeadlineSeconds: proto.Int32(600),
					BackoffLimit: proto.Int32(0), TtlSecondsAfterFinished: proto.Int32(0), CompletionMode: "Indexed",
					Suspend: proto.Bool(false),
					PodFailurePolicy: &pb.PodFailurePolicy{Rules: []*pb.PodFailurePolicyRule{
						{Action: "Ignore", OnPodConditions: []*pb.PodFailurePolicyOnPodConditionsPattern{{Type: "WorkerLost", Status: "True"}}},
						{Action: "Count", OnExitCodes: &pb.PodFailurePolicyOnExitCodesRequirement{Operator: "NotIn", Values: []int32{0, 1}}},
					}},
					Template: &pb.PodTemplateSpec{
						Metadata: &pb.ObjectMeta{Labels: map[string]string{"pod": "x"}, Annotations: map[string]string{"a": "b"}},
						Spec: &pb.PodSpec{
							RestartPolicy: "Never", NodeSelector: map[string]string{"disk": "ssd"},
							TerminationGracePeriodSeconds: proto.Int32(10), HostNetwork: true, HostPid: true,
							Volumes: []*pb.Volume{{Name: "data", HostPath: &pb.HostPathVolumeSource{Path: "/srv/data", Type: "Directory"}}},
							Containers: []*pb.Container{{
								Name: "main", Image: "postgres:16", ImagePullPolicy: "Always",
								Command: []string{"pg_dump"}, Args: trickyStrings,
								Env:             []*pb.EnvVar{{Name: "PGHOST", Value: "db"}, {Name: "EMPTY"}},
								WorkingDir:      "/data",
								Resources:       &pb.ResourceRequirements{Limits: map[string]string{"cpu": "2", "memory": "1Gi"}, Requests: map[string]string{"cpu": "500m"}},
								VolumeMounts:    []*pb.VolumeMount{{Name: "data", MountPath: "/data", ReadOnly: true}},
								SecurityContext: &pb.SecurityContext{Privileged: proto.Bool(false)},
							}},
						},
					},
				},
			},
		},
		Status: &pb.CronJobStatus{
			LastScheduleTime: ts,
			Active:           []*pb.ObjectReference{{Kind: "Job", Namespace: "ops", Name: "backup-29400000"}},
			Decisions:        []*pb.ScheduleDecision{{ScheduledTime: ts, Decision: "invoke", Reason: "Scheduled", Job: "backup-29400000"}},
		},
	}
}

// trickyStrings must come back as strings, unchanged, through YAML.
var trickyStrings = []string{
	"-f", "/data/dump.sql", strings.Repeat("a long line ", 20), "l1\nl2\n  indented\n", "yes", "no", "on", "y",
	"123", "1.5", "0x10", "1e3", "null", "~", "true", "- x", "a: b", "#c", " lead", "trail ", "@x", "*", "", "'\"", "日本",
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	cron := fullCronJob()
	job := &pb.Job{
		ApiVersion: "raftcron.io/v1", Kind: "Job",
		Metadata: &pb.ObjectMeta{Name: "once", Namespace: "ops", Uid: "u1", ResourceVersion: "9", Generation: 1},
		Spec:     proto.Clone(cron.Spec.JobTemplate.Spec).(*pb.JobSpec),
		Status: &pb.JobStatus{
			Active: 1, Succeeded: 2, CompletedIndexes: "0-1", CronJob: "backup", Manual: true,
			Conditions: []*pb.JobCondition{{Type: "Complete", Status: "True", Reason: "Done"}},
		},
	}
	for _, res := range []*pb.Resource{cronJobRes(cron), jobRes(job)} {
		// What applies back: the object minus status and read-only metadata.
		want := proto.Clone(res).(*pb.Resource)
		switch k := want.Kind.(type) {
		case *pb.Resource_CronJob:
			k.CronJob.Status = nil
			clearReadOnly(k.CronJob.Metadata)
		case *pb.Resource_Job:
			k.Job.Status = nil
			clearReadOnly(k.Job.Metadata)
		}
		for _, format := range []string{"yaml", "json"} {
			out, err := EncodeManifest(res, format)
			if err != nil {
				t.Fatalf("encode %s: %v", format, err)
			}
			if !strings.Contains(string(out), "resourceVersion") || !strings.Contains(string(out), "status") {
				t.Errorf("%s output should show status and resourceVersion:\n%s", format, out)
			}
			got, warnings, err := decodeString(t, string(out), DecodeOptions{Namespace: "ignored-because-set"})
			if err != nil {
				t.Fatalf("decode %s output: %v\n%s", format, err, out)
			}
			if len(warnings) > 0 {
				t.Errorf("decode %s output: warnings %q", format, warnings)
			}
			if diff := protoDiff([]*pb.Resource{want}, got); diff != "" {
				t.Errorf("%s round trip (-want +got):\n%s\n%s", format, diff, out)
			}
		}
	}
}

func clearReadOnly(m *pb.ObjectMeta) {
	m.Uid, m.ResourceVersion, m.Generation, m.CreationTimestamp = "", "", 0, nil
}

func TestEncodeManifestJSONIsManifestShape(t *testing.T) {
	out, err := EncodeManifest(jobRes(piJob), "json")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"apiVersion": "batch/v1"`, `"kind": "Job"`, `"activeDeadlineSeconds": 100`, `"restartPolicy": "OnFailure"`} {
		if !strings.Contains(string(out), s) {
			t.Errorf("JSON lacks %s:\n%s", s, out)
		}
	}
	if _, err := EncodeManifest(jobRes(piJob), "xml"); err == nil || !strings.Contains(err.Error(), `"xml"`) {
		t.Errorf("unknown format: got %v", err)
	}
	if _, err := EncodeManifest(&pb.Resource{}, "yaml"); err == nil {
		t.Error("empty resource: want an error")
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestDecodeReadErrorIsNotInvalid(t *testing.T) {
	_, _, err := DecodeManifests(failingReader{}, DecodeOptions{})
	if err == nil || !strings.Contains(err.Error(), "read manifests: disk on fire") || errors.Is(err, scheduler.ErrInvalid) {
		t.Errorf("got %v; want a read error that is not ErrInvalid", err)
	}
}

func TestDecodeNamespace(t *testing.T) {
	const two = `apiVersion: batch/v1
kind: Job
metadata: {name: a, namespace: team-a}
spec: {template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: b}
spec: {template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}
`
	for _, tc := range []struct {
		flag   string
		wantNS []string
	}{
		{"", []string{"team-a", "default"}},
		{"team-b", []string{"team-a", "team-b"}},
	} {
		res, _, err := decodeString(t, two, DecodeOptions{Namespace: tc.flag})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			if got := r.GetJob().GetMetadata().GetNamespace(); got != tc.wantNS[i] {
				t.Errorf("-n %q: object %d namespace %q, want %q", tc.flag, i, got, tc.wantNS[i])
			}
		}
	}
}

func TestDecodeSkipsEmptyDocumentsAndCountsThem(t *testing.T) {
	in := "---\n# just a comment\n---\n" + mustRead(t, "../examples/pi-job.yaml") + "---\n---\napiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\nspec: {completions: [1]}\n"
	_, _, err := decodeString(t, in, DecodeOptions{})
	// The comment-only document is document 1, pi is 2, the empty one 3.
	wantErr(t, err, `document 4 (Job "x"): spec.completions: must be an integer, got a list`)

	if _, _, err := decodeString(t, "---\n# nothing\n", DecodeOptions{}); err == nil || !strings.Contains(err.Error(), "no CronJob or Job") {
		t.Errorf("empty input: got %v", err)
	}
}

func TestDecodeKubernetesList(t *testing.T) {
	in := "apiVersion: v1\nkind: List\nitems:\n- " +
		strings.ReplaceAll(strings.TrimSpace(mustRead(t, "../examples/pi-job.yaml")), "\n", "\n  ") + "\n- {apiVersion: batch/v1, kind: Job, metadata: {name: why}, spec: {paralelism: 2}}\n"
	_, _, err := decodeString(t, in, DecodeOptions{})
	wantErr(t, err, `document 1, items[1] (Job "why"): spec.paralelism: unknown field (did you mean "parallelism"?)`)

	in = strings.Split(in, "\n- {")[0] + "\n"
	res, _, err := decodeString(t, in, DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := protoDiff([]*pb.Resource{jobRes(piJob)}, res); diff != "" {
		t.Errorf("List item (-want +got):\n%s", diff)
	}
}

func TestDecodeIgnoresReadOnlyFields(t *testing.T) {
	in := `apiVersion: batch/v1
kind: CronJob
metadata:
  name: hello
  uid: 5f8e
  resourceVersion: "77"
  generation: 3
  creationTimestamp: "2026-11-23T09:00:00Z"
spec:
  schedule: "* * * * *"
  jobTemplate:
    metadata:
      creationTimestamp: null
    spec:
      template:
        metadata:
          creationTimestamp: null
        spec:
          containers:
          - {name: hello, image: busybox:1.28, imagePullPolicy: IfNotPresent, command: [/bin/sh, -c, "date; echo Hello from the cluster"]}
          restartPolicy: OnFailure
status:
  lastScheduleTime: "2026-11-23T09:00:00Z"
  whatever: [1, 2]
`
	res, warnings, err := decodeString(t, in, DecodeOptions{})
	if err != nil || len(warnings) > 0 {
		t.Fatalf("err %v, warnings %q", err, warnings)
	}
	want := proto.Clone(helloCronJob).(*pb.CronJob)
	want.Spec.JobTemplate.Metadata = &pb.ObjectMeta{}
	want.Spec.JobTemplate.Spec.Template.Metadata = &pb.ObjectMeta{}
	if diff := protoDiff([]*pb.Resource{cronJobRes(want)}, res); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestDecodeIgnoreUnsupported(t *testing.T) {
	in := `apiVersion: batch/v1
kind: Job
metadata: {name: pi, finalizers: [x]}
spec:
  backofLimit: 3
  template:
    spec:
      serviceAccountName: runner
      tolerations: []
      restartPolicy: Never
      containers:
      - name: main
        image: perl:5.34.0
        ports: [{containerPort: 80}]
        securityContext: {privileged: false, seccompProfile: {type: RuntimeDefault}}
`
	_, _, err := decodeString(t, in, DecodeOptions{})
	for _, s := range []string{
		`document 1 (Job "pi"): metadata.finalizers: field not supported by raftcron`,
		`document 1 (Job "pi"): spec.backofLimit: unknown field (did you mean "backoffLimit"?)`,
		`document 1 (Job "pi"): spec.template.spec.serviceAccountName: field not supported by raftcron`,
		`document 1 (Job "pi"): spec.template.spec.containers[0].ports: field not supported by raftcron`,
		`document 1 (Job "pi"): spec.template.spec.containers[0].securityContext.seccompProfile: field not supported by raftcron`,
	} {
		wantErr(t, err, s)
	}
	if err != nil && strings.Contains(err.Error(), "tolerations") {
		t.Errorf("an empty unsupported list should not be an error: %v", err)
	}

	res, warnings, err := decodeString(t, in, DecodeOptions{IgnoreUnsupported: true})
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(warnings, "\n")
	for _, s := range []string{"metadata.finalizers: field not supported by raftcron; ignored", "spec.backofLimit: unknown field; ignored",
		"spec.template.spec.serviceAccountName", "containers[0].ports", "securityContext.seccompProfile", "spec.template.spec.tolerations"} {
		if !strings.Contains(joined, s) {
			t.Errorf("warnings lack %q:\n%s", s, joined)
		}
	}
	c := res[0].GetJob().GetSpec().GetTemplate().GetSpec().GetContainers()[0]
	if c.GetSecurityContext().Privileged == nil || *c.SecurityContext.Privileged {
		t.Errorf("supported sibling field lost: securityContext %v", c.GetSecurityContext())
	}
	if res[0].GetJob().GetSpec().BackoffLimit != nil {
		t.Errorf("misspelt field must be dropped, got backoffLimit %d", res[0].GetJob().GetSpec().GetBackoffLimit())
	}
}

func TestDecodeQuantitiesMayBeNumbers(t *testing.T) {
	in := `apiVersion: batch/v1
kind: Job
metadata: {name: q}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox
        resources: {limits: {cpu: 1, memory: 1000000}, requests: {cpu: 0.5}}
`
	res, _, err := decodeString(t, in, DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := res[0].GetJob().GetSpec().GetTemplate().GetSpec().GetContainers()[0].GetResources()
	if r.Limits["cpu"] != "1" || r.Limits["memory"] != "1000000" || r.Requests["cpu"] != "0.5" {
		t.Errorf("resources %v", r)
	}
	if err := scheduler.PrepareResources(res); err != nil {
		t.Errorf("PrepareResources: %v", err)
	}
}

// TestInvalidManifests runs the pipeline the server and CLI use (decode,
// defaults, validate) over bad manifests; each error must name the field,
// and decode errors the document.
func TestInvalidManifests(t *testing.T) {
	hello := mustRead(t, "../examples/hello-cronjob.yaml")
	pi := mustRead(t, "../examples/pi-job.yaml")
	pfp := mustRead(t, "../examples/pod-failure-policy-job.yaml")
	replace := func(s, old, new string) string {
		t.Helper()
		if !strings.Contains(s, old) {
			t.Fatalf("test setup: %q not in manifest", old)
		}
		return strings.Replace(s, old, new, 1)
	}
	const cronPod = "spec.jobTemplate.spec.template.spec"
	tests := []struct {
		name string
		in   string
		want []string // every one must appear in the error
	}{
		{"bad schedule", replace(hello, `"* * * * *"`, `"61 * * * *"`),
			[]string{`CronJob "hello" is invalid`, `spec.schedule: unparsable schedule "61 * * * *"`}},
		{"never-firing schedule", replace(hello, `"* * * * *"`, `"59 23 31 2 *"`),
			[]string{`spec.schedule: schedule "59 23 31 2 *" never fires`}},
		{"empty schedule", replace(hello, `"* * * * *"`, `""`), []string{"spec.schedule: required"}},
		{"unknown time zone", replace(hello, "  schedule:", "  timeZone: Mars/Olympus\n  schedule:"),
			[]string{`spec.timeZone: unknown time zone "Mars/Olympus"`}},
		{"Local time zone", replace(hello, "  schedule:", "  timeZone: Local\n  schedule:"),
			[]string{`spec.timeZone: "Local" is not allowed`}},
		{"TZ= with timeZone", replace(hello, `"* * * * *"`, `"TZ=UTC 0 3 * * *"`+"\n  timeZone: Europe/Berlin"),
			[]string{"spec.schedule: TZ= or CRON_TZ= in the schedule cannot be combined with spec.timeZone"}},
		{"CronJob name too long", replace(hello, "name: hello\n", "name: "+strings.Repeat("a", 53)+"\n"),
			[]string{"metadata.name:", "is 53 characters long; must be at most 52"}},
		{"Job name too long", replace(pi, "name: pi", "name: "+strings.Repeat("p", 64)),
			[]string{"metadata.name:", "is 64 characters long; must be at most 63"}},
		{"bad name characters", replace(hello, "name: hello\n", "name: Hello_World\n"),
			[]string{`metadata.name: "Hello_World" must consist of lowercase letters`}},
		{"bad namespace", replace(pi, "name: pi", "name: pi\n  namespace: -team"),
			[]string{`metadata.namespace: "-team" must consist of lowercase`}},
		{"negative history limit", replace(hello, "  schedule:", "  successfulJobsHistoryLimit: -1\n  schedule:"),
			[]string{"spec.successfulJobsHistoryLimit: must be >= 0, got -1"}},
		{"negative startingDeadlineSeconds", replace(hello, "  schedule:", "  startingDeadlineSeconds: -10\n  schedule:"),
			[]string{"spec.startingDeadlineSeconds: must be >= 0, got -10"}},
		{"unknown concurrencyPolicy", replace(hello, "  schedule:", "  concurrencyPolicy: Sometimes\n  schedule:"),
			[]string{`spec.concurrencyPolicy: unsupported value "Sometimes"; must be one of Allow, Forbid, Replace`}},
		{"unknown catchUp", replace(hello, "  schedule:", "  catchUp: Everything\n  schedule:"),
			[]string{`spec.catchUp: unsupported value "Everything"; must be one of Latest, All, None`}},
		{"catchUpLimit zero", replace(hello, "  schedule:", "  catchUpLimit: 0\n  schedule:"),
			[]string{"spec.catchUpLimit: must be >= 1, got 0"}},
		{"missing image", replace(hello, "image: busybox:1.28", "image: \"\""),
			[]string{cronPod + ".containers[0].image: required"}},
		{"two containers", replace(pi, "      - name: main", "      - {name: side, image: busybox}\n      - name: main"),
			[]string{"spec.template.spec.containers: must have exactly one container, got 2 (raftcron runs one container per attempt)"}},
		{"unknown field far from any name", replace(pi, "      containers:", "      x-containers: []\n      containers:"),
			[]string{`document 1 (Job "pi"): spec.template.spec.x-containers: unknown field`}},
		{"no containers", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: empty}\nspec: {template: {spec: {restartPolicy: Never, containers: []}}}\n",
			[]string{`Job "empty" is invalid: spec.template.spec.containers: required: exactly one container`}},
		{"restartPolicy Always", replace(pi, "restartPolicy: OnFailure", "restartPolicy: Always"),
			[]string{`spec.template.spec.restartPolicy: "Always" is not allowed for a Job`}},
		{"restartPolicy missing", replace(pi, "restartPolicy: OnFailure", "nodeSelector: {disk: ssd}"),
			[]string{"spec.template.spec.restartPolicy: required"}},
		{"typo in a field name", replace(hello, "  schedule:", "  schedul:"),
			[]string{`document 1 (CronJob "hello"): spec.schedul: unknown field (did you mean "schedule"?)`}},
		{"unsupported volume kind", replace(pi, "      containers:", "      volumes:\n      - name: cfg\n        configMap: {name: pi-config}\n      containers:"),
			[]string{`document 1 (Job "pi"): spec.template.spec.volumes[0].configMap: field not supported by raftcron`}},
		{"unsupported serviceAccountName", replace(hello, "          restartPolicy:", "          serviceAccountName: robot\n          restartPolicy:"),
			[]string{`document 1 (CronJob "hello"): ` + cronPod + `.serviceAccountName: field not supported by raftcron`}},
		{"unsupported initContainers", replace(pi, "      containers:", "      initContainers: [{name: init, image: busybox}]\n      containers:"),
			[]string{`document 1 (Job "pi"): spec.template.spec.initContainers: field not supported by raftcron`}},
		{"wrong apiVersion", replace(pi, "apiVersion: batch/v1", "apiVersion: apps/v1"),
			[]string{`document 1 (Job "pi"): apiVersion: "apps/v1" is not supported; use batch/v1`}},
		{"missing apiVersion", replace(pi, "apiVersion: batch/v1\n", ""),
			[]string{`document 1 (Job "pi"): apiVersion: required`}},
		{"wrong kind", replace(pi, "kind: Job", "kind: Deployment"),
			[]string{`document 1 (Deployment "pi"): kind: "Deployment" is not supported; use CronJob, Job or Secret`}},
		{"malformed YAML in document 2", hello + "---\n" + replace(pi, "  completions: 5", "  completions: 5: 6"),
			[]string{"document 2: malformed YAML", "line 26"}},
		{"bad indentation", replace(pi, "  completions: 5\n", "  completions: 5\n    parallelism: 2\n"),
			[]string{"document 1: malformed YAML", "line 7"}},
		{"not a mapping", "- apiVersion: batch/v1\n", []string{"document 1: must be a mapping with apiVersion, kind, metadata and spec, got a list"}},
		{"wrong type: string for integer", replace(pi, "completions: 5", "completions: five"),
			[]string{`document 1 (Job "pi"): spec.completions: must be an integer, got string "five"`}},
		{"wrong type: quoted integer", replace(pi, "completions: 5", `completions: "5"`),
			[]string{`spec.completions: must be an integer, got string "5"`}},
		{"wrong type: mapping for list", replace(pi, `command: ["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"]`, "command: {perl: yes}"),
			[]string{`spec.template.spec.containers[0].command: must be a list, got a mapping`}},
		{"wrong type: number for string", replace(pi, "image: perl:5.34.0", "image: 5"),
			[]string{`spec.template.spec.containers[0].image: must be a string, got number 5`}},
		{"wrong type: label value", replace(pi, "name: pi", "name: pi\n  labels: {version: 1.5}"),
			[]string{`metadata.labels.version: must be a string, got number 1.5 (quote it)`}},
		{"int32 out of range", replace(pi, "backoffLimit: 4", "backoffLimit: 99999999999"),
			[]string{"spec.backoffLimit: 99999999999 is out of range"}},
		{"duplicate key", replace(pi, "  completions: 5\n", "  completions: 5\n  completions: 6\n"),
			[]string{"spec.completions: duplicate key"}},
		{"podFailurePolicy In with 0", replace(pfp, "values: [42]", "values: [0, 42]"),
			[]string{"spec.podFailurePolicy.rules[0].onExitCodes.values[0]: 0 is not allowed with operator In"}},
		{"podFailurePolicy with OnFailure", replace(pfp, "restartPolicy: Never", "restartPolicy: OnFailure"),
			[]string{"spec.podFailurePolicy: only allowed when spec.template.spec.restartPolicy is Never"}},
		{"podFailurePolicy unknown container", replace(pfp, "containerName: main", "containerName: sidecar"),
			[]string{`spec.podFailurePolicy.rules[0].onExitCodes.containerName: no container named "sidecar"`}},
		{"podFailurePolicy bad action", replace(pfp, "action: FailJob", "action: Retry"),
			[]string{`spec.podFailurePolicy.rules[0].action: unsupported value "Retry"`}},
		{"bad memory quantity", replace(pi, "image: perl:5.34.0", "image: perl:5.34.0\n        resources: {limits: {memory: 64MB}}"),
			[]string{`spec.template.spec.containers[0].resources.limits.memory: invalid quantity "64MB"`}},
		{"unsupported resource", replace(pi, "image: perl:5.34.0", "image: perl:5.34.0\n        resources: {limits: {nvidia.com/gpu: 1}}"),
			[]string{`resources.limits.nvidia.com/gpu: unsupported resource "nvidia.com/gpu"`}},
		{"Indexed without completions", replace(pi, "  completions: 5\n", "  completionMode: Indexed\n"),
			[]string{"spec.completions: must be >= 1 when completionMode is Indexed"}},
		{"negative parallelism", replace(pi, "parallelism: 2", "parallelism: -2"),
			[]string{"spec.parallelism: must be >= 0, got -2"}},
		{"zero activeDeadlineSeconds", replace(pi, "activeDeadlineSeconds: 100", "activeDeadlineSeconds: 0"),
			[]string{"spec.activeDeadlineSeconds: must be > 0, got 0"}},
		{"bad env name", replace(pi, "image: perl:5.34.0", "image: perl:5.34.0\n        env: [{name: \"A=B\", value: x}]"),
			[]string{`spec.template.spec.containers[0].env[0].name: "A=B" is not a valid environment variable name`}},
		{"relative hostPath", replace(pi, "      containers:", "      volumes: [{name: data, hostPath: {path: data}}]\n      containers:"),
			[]string{`spec.template.spec.volumes[0].hostPath.path: must be an absolute path, got "data"`}},
		{"mount of a missing volume", replace(pi, "image: perl:5.34.0", "image: perl:5.34.0\n        volumeMounts: [{name: data, mountPath: /data}]"),
			[]string{`spec.template.spec.containers[0].volumeMounts[0].name: no volume named "data"`}},
		{"bad nodeSelector", replace(pi, "      containers:", "      nodeSelector: {\"disk type\": ssd}\n      containers:"),
			[]string{`spec.template.spec.nodeSelector: key "disk type"`}},
		{"bad container name", replace(pi, "- name: main", "- name: Main_1"),
			[]string{`spec.template.spec.containers[0].name: "Main_1" must consist of lowercase`}},
	}
	if len(tests) < 20 {
		t.Fatalf("only %d cases", len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, _, err := decodeString(t, tc.in, DecodeOptions{})
			if err == nil {
				if res == nil {
					t.Fatal("no error and no resources")
				}
				err = scheduler.PrepareResources(res)
			} else if res != nil {
				t.Errorf("a decode error must return no resources, got %d", len(res))
			}
			if err == nil {
				t.Fatalf("no error for:\n%s", tc.in)
			}
			if !errors.Is(err, scheduler.ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) = false for %v", err)
			}
			for _, w := range tc.want {
				wantErr(t, err, w)
			}
		})
	}
}

func TestDecodeCollectsAllProblems(t *testing.T) {
	in := `apiVersion: batch/v1
kind: CronJob
metadata: {name: a}
spec: {schedul: "* * * * *", suspend: "no", jobTemplate: {spec: {parallelism: 1.5}}}
---
apiVersion: batch/v2
kind: Job
metadata: {name: b}
`
	_, _, err := decodeString(t, in, DecodeOptions{})
	for _, s := range []string{
		`document 1 (CronJob "a"): spec.schedul: unknown field (did you mean "schedule"?)`,
		`document 1 (CronJob "a"): spec.suspend: must be true or false, got string "no"`,
		`document 1 (CronJob "a"): spec.jobTemplate.spec.parallelism: must be an integer, got number 1.5`,
		`document 2 (Job "b"): apiVersion: "batch/v2" is not supported`,
	} {
		wantErr(t, err, s)
	}
	var me *ManifestError
	if !errors.As(err, &me) || len(me.Problems) != 4 {
		t.Errorf("want a *ManifestError with 4 problems, got %#v", err)
	}
}

func wantErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Errorf("no error; want one containing %q", want)
		return
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error does not contain %q:\n%v", want, err)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// protoDiff compares a proto message or a slice of resources and, when they
// differ, shows both in text form.
func protoDiff(want, got any) string {
	var w, g []proto.Message
	switch x := want.(type) {
	case []*pb.Resource:
		for _, r := range x {
			w = append(w, r)
		}
		for _, r := range got.([]*pb.Resource) {
			g = append(g, r)
		}
	case proto.Message:
		w, g = []proto.Message{x}, []proto.Message{got.(proto.Message)}
	}
	same := len(w) == len(g)
	for i := 0; same && i < len(w); i++ {
		same = proto.Equal(w[i], g[i])
	}
	if same {
		return ""
	}
	show := func(ms []proto.Message) string {
		var b strings.Builder
		for i, m := range ms {
			b.WriteString("[" + strconv.Itoa(i) + "] " + prototext.MarshalOptions{Multiline: true}.Format(m) + "\n")
		}
		return b.String()
	}
	return "want:\n" + show(w) + "got:\n" + show(g)
}

func textDiff(want, got string) string {
	if want == got {
		return ""
	}
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var a, b string
		if i < len(wl) {
			a = wl[i]
		}
		if i < len(gl) {
			b = gl[i]
		}
		if a != b {
			return "first difference at line " + strconv.Itoa(i+1) + ":\n- " + a + "\n+ " + b + "\n\ngot:\n" + got
		}
	}
	return ""
}

// FuzzDecodeManifests: any input gives resources or an error, never a panic,
// and whatever decodes encodes and decodes back to the same thing.
func FuzzDecodeManifests(f *testing.F) {
	for _, p := range []string{"hello-cronjob.yaml", "pi-job.yaml", "pod-failure-policy-job.yaml", "all.yaml"} {
		b, err := os.ReadFile(filepath.Join("..", "examples", p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("---\n- [\n")
	f.Add(`{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j"},"spec":{"completions":1e40}}`)
	f.Fuzz(func(t *testing.T, in string) {
		res, _, err := DecodeManifests(strings.NewReader(in), DecodeOptions{IgnoreUnsupported: len(in)%2 == 0})
		if err != nil {
			if res != nil {
				t.Fatalf("resources returned with error %v", err)
			}
			return
		}
		for _, r := range res {
			if len(r.GetSecret().GetData()) > 0 {
				continue // printed REDACTED by design: it does not apply back
			}
			out, err := EncodeManifest(r, "yaml")
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			back, _, err := DecodeManifests(strings.NewReader(string(out)), DecodeOptions{})
			if err != nil {
				t.Fatalf("decode of encoded %v: %v\n%s", r, err, out)
			}
			want := proto.Clone(r).(*pb.Resource)
			setTypeMeta(want)
			if len(back) != 1 || !proto.Equal(want, back[0]) {
				t.Fatalf("round trip changed the object:\n%s", protoDiff(want, back[0]))
			}
		}
	})
}

// setTypeMeta fills apiVersion and kind as EncodeManifest does.
func setTypeMeta(r *pb.Resource) {
	if c := r.GetCronJob(); c != nil {
		if c.ApiVersion == "" {
			c.ApiVersion = "batch/v1"
		}
		if c.Kind == "" {
			c.Kind = "CronJob"
		}
	}
	if j := r.GetJob(); j != nil {
		if j.ApiVersion == "" {
			j.ApiVersion = "batch/v1"
		}
		if j.Kind == "" {
			j.Kind = "Job"
		}
	}
	if s := r.GetSecret(); s != nil {
		s.ApiVersion, s.Kind = "v1", "Secret"
	}
}

// TestDecodeKubernetesExports: objects exported with `kubectl get -o yaml`
// apply as they are (no --ignore-unsupported, no warning): Kubernetes'
// defaults for fields raftcron lacks, managedFields and status are dropped.
// The same fields with values raftcron cannot honour stay errors that name
// the field.
func TestDecodeKubernetesExports(t *testing.T) {
	cj := decodeFile(t, "testdata/kubectl-export-cronjob.yaml")
	job := decodeFile(t, "testdata/kubectl-export-job.yaml")
	if err := scheduler.PrepareResources(append(cj, job...)); err != nil {
		t.Fatalf("the server would refuse the exports: %v", err)
	}
	c := cj[0].GetCronJob()
	pod := c.GetSpec().GetJobTemplate().GetSpec().GetTemplate().GetSpec()
	if c.GetMetadata().GetName() != "hello" || c.GetSpec().GetSchedule() != "* * * * *" ||
		pod.GetContainers()[0].GetImage() != "busybox:1.28" || pod.GetTerminationGracePeriodSeconds() != 30 ||
		c.GetMetadata().GetUid() != "" || c.GetStatus() != nil {
		t.Errorf("CronJob decoded as %v", c)
	}
	if j := job[0].GetJob(); j.GetSpec().GetBackoffLimit() != 4 || j.GetSpec().GetCompletionMode() != "NonIndexed" ||
		j.GetSpec().GetTemplate().GetSpec().GetRestartPolicy() != "Never" || j.GetStatus() != nil {
		t.Errorf("Job decoded as %v", j)
	}

	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, tc := range []struct{ file, from, to, want string }{
		{"kubectl-export-cronjob.yaml", "dnsPolicy: ClusterFirst", "dnsPolicy: None",
			`document 1 (CronJob "hello"): spec.jobTemplate.spec.template.spec.dnsPolicy: field not supported by raftcron; only Kubernetes' default ("ClusterFirst") is accepted, got string "None"`},
		{"kubectl-export-cronjob.yaml", "schedulerName: default-scheduler", "schedulerName: volcano",
			`spec.jobTemplate.spec.template.spec.schedulerName: field not supported by raftcron; only Kubernetes' default ("default-scheduler") is accepted`},
		{"kubectl-export-cronjob.yaml", "\n          securityContext: {}", "\n          securityContext: {fsGroup: 2000}",
			`spec.jobTemplate.spec.template.spec.securityContext: field not supported by raftcron; only Kubernetes' default (empty) is accepted, got a mapping`},
		{"kubectl-export-cronjob.yaml", "terminationMessagePolicy: File", "terminationMessagePolicy: FallbackToLogsOnError",
			`spec.jobTemplate.spec.template.spec.containers[0].terminationMessagePolicy: field not supported by raftcron`},
		{"kubectl-export-job.yaml", "manualSelector: false", "manualSelector: true",
			`document 1 (Job "pi"): spec.manualSelector: field not supported by raftcron`},
		{"kubectl-export-job.yaml", "    matchLabels:\n      batch.kubernetes.io/controller-uid", "    matchLabels:\n      app",
			`document 1 (Job "pi"): spec.selector: field not supported by raftcron; only Kubernetes' default (the generated controller-uid selector) is accepted`},
	} {
		in := read(tc.file)
		if !strings.Contains(in, tc.from) {
			t.Fatalf("%s lacks %q", tc.file, tc.from)
		}
		_, _, err := decodeString(t, strings.Replace(in, tc.from, tc.to, 1), DecodeOptions{})
		wantErr(t, err, tc.want)
	}
}
