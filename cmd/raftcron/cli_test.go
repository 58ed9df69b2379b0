package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/raftcron/raftcron/client"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/worker/guard"
)

// testNow is the CLI's clock in these tests.
var testNow = time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC)

func TestMain(m *testing.M) {
	// The exec worker of startRealCluster runs each attempt under its lease
	// guard: this binary called as `<binary> guard …`, as `raftcron guard`.
	if len(os.Args) > 1 && os.Args[1] == "guard" {
		os.Exit(guard.Main(os.Args[1:], os.Stderr))
	}
	now = func() time.Time { return testNow }
	os.Exit(m.Run())
}

// result is what a user sees from one run of the command.
type result struct {
	code           int
	stdout, stderr string
}

// cli runs raftcron with args, as main would, with stdin.
func cli(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	resetCommands(rootCmd)
	var out, errw bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if !slices.Contains(args, "--tls-cert") && !slices.Contains(args, "--secure-test") {
		// The fake server is plaintext; TLS tests pass their own flags.
		args = append(args, "--insecure")
	}
	args = slices.DeleteFunc(slices.Clone(args), func(a string) bool { return a == "--secure-test" })
	code := run(ctx, args, strings.NewReader(stdin), &out, &errw)
	return result{code, out.String(), errw.String()}
}

// resetCommands puts every flag of cmd and its subcommands back to its
// default and forgets their contexts (cobra keeps a subcommand's first
// context), so one run does not leak into the next run of the same commands.
func resetCommands(cmd *cobra.Command) {
	//nolint:staticcheck // a nil context makes cobra take the root's again.
	cmd.SetContext(nil)
	reset := func(f *pflag.Flag) {
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			_ = sv.Replace(nil)
		} else {
			_ = f.Value.Set(f.DefValue)
		}
		f.Changed = false
	}
	cmd.Flags().VisitAll(reset)
	cmd.PersistentFlags().VisitAll(reset)
	for _, c := range cmd.Commands() {
		resetCommands(c)
	}
}

// ok fails the test unless the run succeeded, and returns stdout.
func (r result) ok(t *testing.T) string {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit code %d, stderr:\n%s", r.code, r.stderr)
	}
	return r.stdout
}

// fails fails the test unless the run failed with exit code 1 and an
// `error: ` line on stderr containing want.
func (r result) fails(t *testing.T, want string) {
	t.Helper()
	if r.code != 1 {
		t.Fatalf("exit code %d, want 1; stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.HasPrefix(r.stderr, "error: ") || !strings.Contains(r.stderr, want) {
		t.Fatalf("stderr = %q, want `error: ...%s...`", r.stderr, want)
	}
}

// table splits a table into rows of cells (columns are separated by at
// least two spaces; cells such as "*/5 * * * *" keep their single spaces).
func table(s string) [][]string {
	var rows [][]string
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		rows = append(rows, regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(line), -1))
	}
	return rows
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const helloManifest = `apiVersion: batch/v1
kind: CronJob
metadata:
  name: hello
spec:
  schedule: "*/5 * * * *"
  timeZone: Europe/Berlin
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: hello
            image: busybox:1.36
            command: ["sh", "-c", "date; echo hello"]
---
apiVersion: batch/v1
kind: Job
metadata:
  name: pi
spec:
  completions: 5
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: perl:5.34.0
        command: ["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"]
`

func TestApply(t *testing.T) {
	f := newFakeCluster(testNow.Add(-time.Hour))
	addr := f.start(t)
	file := writeFile(t, "hello.yaml", helloManifest)

	out := cli(t, "", "apply", "-f", file, "--server", addr).ok(t)
	if want := "cronjob.batch/hello created\njob.batch/pi created\n"; out != want {
		t.Fatalf("first apply printed %q, want %q", out, want)
	}
	out = cli(t, "", "apply", "-f", file, "--server", addr).ok(t)
	if want := "cronjob.batch/hello unchanged\njob.batch/pi unchanged\n"; out != want {
		t.Fatalf("second apply printed %q, want %q", out, want)
	}
	changed := strings.Replace(helloManifest, `"*/5 * * * *"`, `"*/10 * * * *"`, 1)
	out = cli(t, changed, "apply", "-f", "-", "--server", addr).ok(t)
	if want := "cronjob.batch/hello configured\njob.batch/pi unchanged\n"; out != want {
		t.Fatalf("apply of a changed schedule from stdin printed %q, want %q", out, want)
	}
	if got := f.cronJobs["default/hello"].GetSpec().GetSchedule(); got != "*/10 * * * *" {
		t.Fatalf("stored schedule = %q", got)
	}

	// -n puts objects without a namespace into that namespace.
	out = cli(t, "", "apply", "-f", file, "-n", "team-a", "--dry-run", "--server", addr).ok(t)
	if !strings.HasPrefix(out, "cronjob.batch/hello created (dry run)\n--- /dev/null\n+++ applied/cronjob/team-a/hello\n") ||
		!strings.Contains(out, "\njob.batch/pi created (dry run)\n--- /dev/null\n+++ applied/job/team-a/pi\n") {
		t.Fatalf("dry run printed %q, want each object created, with its diff from nothing", out)
	}
	if _, ok := f.cronJobs["team-a/hello"]; ok {
		t.Fatal("--dry-run stored the CronJob")
	}
}

func TestApplyUnsupportedField(t *testing.T) {
	f := newFakeCluster(testNow)
	addr := f.start(t)
	manifest := strings.Replace(helloManifest, "          restartPolicy: OnFailure\n", "          restartPolicy: OnFailure\n          serviceAccountName: reporter\n", 1)
	file := writeFile(t, "sa.yaml", manifest)

	r := cli(t, "", "apply", "-f", file, "--server", addr)
	r.fails(t, "serviceAccountName")
	if !strings.Contains(r.stderr, "--ignore-unsupported") || !strings.Contains(r.stderr, file) {
		t.Fatalf("stderr should name the file and suggest --ignore-unsupported:\n%s", r.stderr)
	}
	if len(f.cronJobs) != 0 {
		t.Fatal("a rejected manifest changed the cluster")
	}

	r = cli(t, "", "apply", "-f", file, "--ignore-unsupported", "--server", addr)
	if out := r.ok(t); out != "cronjob.batch/hello created\njob.batch/pi created\n" {
		t.Fatalf("stdout = %q", out)
	}
	if !strings.HasPrefix(r.stderr, "Warning: ") || !strings.Contains(r.stderr, "serviceAccountName") {
		t.Fatalf("stderr = %q, want a warning naming the dropped field", r.stderr)
	}
}

func TestApplyServerRejects(t *testing.T) {
	f := newFakeCluster(testNow)
	addr := f.start(t)
	file := writeFile(t, "bad.yaml", strings.Replace(helloManifest, `"*/5 * * * *"`, `"*/5 * * *"`, 1))
	r := cli(t, "", "apply", "-f", file, "--server", addr)
	r.fails(t, "schedule")
	if len(f.cronJobs)+len(f.jobs) != 0 {
		t.Fatal("a rejected apply changed the cluster")
	}
	cli(t, "", "apply", "--server", addr).fails(t, "-f")
}

// seed fills the fake cluster with a CronJob, its Jobs and attempts.
func seed(t *testing.T) (*fakeCluster, string) {
	t.Helper()
	f := newFakeCluster(testNow.Add(-2 * 24 * time.Hour).Add(-4 * time.Hour))
	addr := f.start(t)
	cli(t, "", "apply", "-f", writeFile(t, "hello.yaml", helloManifest), "--server", addr).ok(t)

	cj := f.cronJobs["default/hello"]
	cj.Status = &pb.CronJobStatus{
		LastScheduleTime: timestamppb.New(testNow.Add(-3*time.Minute - 12*time.Second)),
		Active:           []*pb.ObjectReference{{Kind: "Job", Namespace: "default", Name: "hello-29548075"}},
		Decisions: []*pb.ScheduleDecision{
			{ScheduledTime: timestamppb.New(time.Date(2026, 3, 7, 11, 50, 0, 0, time.UTC)), Decision: "invoke", Reason: "Scheduled", Job: "hello-29548070"},
			{ScheduledTime: timestamppb.New(time.Date(2026, 3, 7, 11, 55, 0, 0, time.UTC)), Decision: "skip", Reason: "ConcurrencyPolicy", Message: "concurrencyPolicy Forbid: job hello-29548070 has not finished", Job: "hello-29548070"},
			{FirstScheduledTime: timestamppb.New(time.Date(2026, 3, 7, 10, 0, 0, 0, time.UTC)), ScheduledTime: timestamppb.New(time.Date(2026, 3, 7, 11, 45, 0, 0, time.UTC)), Count: 22, Decision: "skip", Reason: "Suspended", Message: "the CronJob is suspended"},
		},
	}
	done := &pb.Job{
		ApiVersion: "batch/v1", Kind: "Job",
		Metadata: &pb.ObjectMeta{Name: "hello-29548070", Namespace: "default", CreationTimestamp: timestamppb.New(testNow.Add(-10 * time.Minute))},
		Spec:     proto.Clone(cj.GetSpec().GetJobTemplate().GetSpec()).(*pb.JobSpec),
		Status: &pb.JobStatus{
			CronJob: "hello", ScheduledTime: timestamppb.New(time.Date(2026, 3, 7, 11, 50, 0, 0, time.UTC)),
			StartTime: timestamppb.New(testNow.Add(-10 * time.Minute)), CompletionTime: timestamppb.New(testNow.Add(-10*time.Minute + 45*time.Second)),
			Succeeded:  1,
			Conditions: []*pb.JobCondition{{Type: "Complete", Status: "True"}},
			Result: &pb.JobResult{Condition: "Complete", Reason: "CompletionsReached", Attempt: "hello-29548070-0-1",
				AttemptState: "Succeeded", Worker: "w1"},
		},
	}
	running := proto.Clone(done).(*pb.Job)
	running.Metadata.Name = "hello-29548075"
	running.Metadata.CreationTimestamp = timestamppb.New(testNow.Add(-3 * time.Minute))
	running.Status = &pb.JobStatus{CronJob: "hello", ScheduledTime: timestamppb.New(time.Date(2026, 3, 7, 11, 55, 0, 0, time.UTC)), StartTime: timestamppb.New(testNow.Add(-3 * time.Minute)), Active: 1}
	f.jobs["default/hello-29548070"] = done
	f.jobs["default/hello-29548075"] = running
	f.attempts = []*pb.Attempt{
		{Namespace: "default", Job: "hello-29548075", Index: 0, Number: 1, Name: "hello-29548075-0-1", State: "Failed", Worker: "w1", ExitCode: 3, Reason: "Error",
			StartTime: timestamppb.New(testNow.Add(-3 * time.Minute)), FinishTime: timestamppb.New(testNow.Add(-2*time.Minute - 50*time.Second))},
		{Namespace: "default", Job: "hello-29548075", Index: 0, Number: 2, Name: "hello-29548075-0-2", State: "Pending",
			Message: "no worker has a free slot matching nodeSelector disk=ssd"},
	}
	return f, addr
}

func TestGetCronJobs(t *testing.T) {
	_, addr := seed(t)
	rows := table(cli(t, "", "get", "cronjobs", "--server", addr).ok(t))
	want := [][]string{
		{"NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE"},
		{"hello", "*/5 * * * *", "Europe/Berlin", "False", "1", "3m12s", "2d4h"},
	}
	assertTable(t, rows, want)

	// Short and singular forms, a name, and wide.
	for _, args := range [][]string{{"get", "cj"}, {"get", "cronjob", "hello"}, {"get", "cronjob/hello"}} {
		rows := table(cli(t, "", append(args, "--server", addr)...).ok(t))
		assertTable(t, rows, want)
	}
	rows = table(cli(t, "", "get", "cj", "-o", "wide", "--server", addr).ok(t))
	assertTable(t, rows, [][]string{
		append(append([]string{}, want[0]...), "CONCURRENCY", "CATCHUP", "IMAGE"),
		append(append([]string{}, want[1]...), "Forbid", "Latest", "busybox:1.36"),
	})
	rows = table(cli(t, "", "get", "cj", "-A", "--server", addr).ok(t))
	if rows[0][0] != "NAMESPACE" || rows[1][0] != "default" {
		t.Fatalf("-A table = %v, want a NAMESPACE column", rows)
	}
}

func assertTable(t *testing.T, got, want [][]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("table has %d rows, want %d:\n%v", len(got), len(want), got)
	}
	for i := range want {
		if strings.Join(got[i], "|") != strings.Join(want[i], "|") {
			t.Fatalf("row %d = %q\nwant     %q", i, got[i], want[i])
		}
	}
}

func TestGetJobsAndAttemptsAndWorkers(t *testing.T) {
	f, addr := seed(t)
	rows := table(cli(t, "", "get", "jobs", "--cronjob", "hello", "--server", addr).ok(t))
	assertTable(t, rows, [][]string{
		{"NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"},
		{"hello-29548070", "Complete", "1/1", "45s", "10m"},
		{"hello-29548075", "Running", "0/1", "3m", "3m"},
	})
	rows = table(cli(t, "", "get", "job", "hello-29548070", "-o", "wide", "--server", addr).ok(t))
	assertTable(t, rows, [][]string{
		{"NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE", "CRONJOB", "SCHEDULED"},
		{"hello-29548070", "Complete", "1/1", "45s", "10m", "hello", "2026-03-07T11:50:00Z"},
	})
	// The work-queue style Job pi (completions 5, parallelism 2) counts to 5.
	rows = table(cli(t, "", "get", "job", "pi", "--server", addr).ok(t))
	if rows[1][2] != "0/5" {
		t.Fatalf("pi completions = %q, want 0/5", rows[1][2])
	}

	rows = table(cli(t, "", "get", "attempts", "--job", "hello-29548075", "--server", addr).ok(t))
	assertTable(t, rows, [][]string{
		{"NAME", "INDEX", "ATTEMPT", "WORKER", "STATE", "EXIT", "REASON", "STARTED", "DURATION"},
		{"hello-29548075-0-1", "0", "1", "w1", "Failed", "3", "Error", "2026-03-07T11:57:00Z", "10s"},
		{"hello-29548075-0-2", "0", "2", "<none>", "Pending", "<none>", "<none>", "<none>", "<none>"},
	})

	f.workers = []*pb.Worker{{Id: "w1", Labels: map[string]string{"zone": "a", "disk": "hdd"}, Slots: 4, Used: 1, Runtime: "docker", State: "Ready", LastHeartbeat: timestamppb.New(testNow.Add(-2 * time.Second))}}
	rows = table(cli(t, "", "get", "workers", "--server", addr).ok(t))
	assertTable(t, rows, [][]string{
		{"ID", "LABELS", "SLOTS", "RUNTIME", "LAST HEARTBEAT", "STATE"},
		{"w1", "disk=hdd,zone=a", "1/4", "docker", "2s", "Ready"},
	})

	// -l filters by labels (through the client's ListOptions and ParseSelector).
	f.workers = append(f.workers, &pb.Worker{Id: "w2", Labels: map[string]string{"zone": "b"}, Slots: 1, Runtime: "exec", State: "Ready"})
	rows = table(cli(t, "", "get", "workers", "-l", "zone in (a,c),disk", "--server", addr).ok(t))
	if len(rows) != 2 || rows[1][0] != "w1" {
		t.Fatalf("workers -l zone in (a,c),disk = %v, want w1 alone", rows)
	}
	f.jobs["default/hello-29548070"].Metadata.Labels = map[string]string{"team": "data"}
	rows = table(cli(t, "", "get", "jobs", "--selector", "team=data", "--server", addr).ok(t))
	if len(rows) != 2 || rows[1][0] != "hello-29548070" {
		t.Fatalf("jobs -l team=data = %v, want hello-29548070 alone", rows)
	}
	r := cli(t, "", "get", "cj", "-l", "team=nobody", "--server", addr)
	if r.ok(t) != "" || !strings.Contains(r.stderr, "No resources found") {
		t.Fatalf("cronjobs -l team=nobody: %q %q", r.stdout, r.stderr)
	}
	cli(t, "", "get", "cj", "-l", "team in data", "--server", addr).fails(t, `label selector "team in data"`)
	cli(t, "", "get", "attempts", "-l", "a=b", "--server", addr).fails(t, "--selector filters cronjobs, jobs and workers only")
	cli(t, "", "get", "cj", "hello", "-l", "a=b", "--server", addr).fails(t, "cannot be combined with names")
}

func TestGetErrors(t *testing.T) {
	_, addr := seed(t)
	cli(t, "", "get", "cronjob", "nope", "--server", addr).fails(t, `cronjob "nope" not found in namespace "default"`)
	cli(t, "", "get", "pods", "--server", addr).fails(t, `unknown resource type "pods"`)
	cli(t, "", "get", "cj", "-o", "xml", "--server", addr).fails(t, `--output "xml"`)
	r := cli(t, "", "get", "cj", "-n", "empty", "--server", addr)
	if r.ok(t) != "" || !strings.Contains(r.stderr, "No resources found in empty namespace.") {
		t.Fatalf("empty list: stdout %q stderr %q", r.stdout, r.stderr)
	}
}

func TestGetYAMLAppliesBack(t *testing.T) {
	f, addr := seed(t)
	for _, format := range []string{"yaml", "json"} {
		// A single object prints as itself.
		out := cli(t, "", "get", "cronjob", "hello", "-o", format, "--server", addr).ok(t)
		res, warnings, err := client.DecodeManifests(strings.NewReader(out), client.DecodeOptions{})
		if err != nil || len(warnings) > 0 {
			t.Fatalf("-o %s output does not decode cleanly: %v %v\n%s", format, err, warnings, out)
		}
		if len(res) != 1 || !proto.Equal(res[0].GetCronJob().GetSpec(), f.cronJobs["default/hello"].GetSpec()) {
			t.Fatalf("-o %s round trip changed the spec:\n%s", format, out)
		}
		// A list prints as a kind: List that applies back unchanged.
		out = cli(t, "", "get", "cronjobs", "-o", format, "--server", addr).ok(t)
		if !strings.Contains(out, "List") {
			t.Fatalf("list output is not a List:\n%s", out)
		}
		applied := cli(t, out, "apply", "-f", "-", "--server", addr).ok(t)
		if applied != "cronjob.batch/hello unchanged\n" {
			t.Fatalf("applying -o %s output printed %q, want unchanged", format, applied)
		}
	}
	out := cli(t, "", "get", "cronjob", "hello", "-o", "yaml", "--server", addr).ok(t)
	if !strings.HasPrefix(out, "apiVersion: batch/v1\n") || !strings.Contains(out, "kind: CronJob\n") || !strings.Contains(out, "schedule: '*/5 * * * *'") {
		t.Fatalf("yaml output is not a CronJob manifest:\n%s", out)
	}
	out = cli(t, "", "get", "attempts", "-o", "json", "--server", addr).ok(t)
	if !strings.Contains(out, `"kind": "List"`) || !strings.Contains(out, `"hello-29548075-0-2"`) {
		t.Fatalf("attempts json:\n%s", out)
	}
}

func TestDescribeCronJob(t *testing.T) {
	_, addr := seed(t)
	out := cli(t, "", "describe", "cronjob", "hello", "--server", addr).ok(t)
	for _, want := range []string{
		"Name:                         hello\n",
		"Schedule:                     */5 * * * *\n",
		"Time Zone:                    Europe/Berlin\n",
		"Concurrency Policy:           Forbid\n",
		"Catch Up:                     Latest\n",
		"Starting Deadline Seconds:    <unset>\n",
		"Successful Job History Limit: 3\n",
		"Last Schedule Time:           2026-03-07T11:56:48Z (3m12s ago)\n",
		// testNow is 13:00 in Berlin: the next ticks are 13:05, 13:10, 13:15.
		"Next Schedule Times:          2026-03-07T13:05:00+01:00  (UTC+01:00)\n",
		"                              2026-03-07T13:15:00+01:00  (UTC+01:00)\n",
		"Active Jobs:                  hello-29548075\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("describe lacks %q", want)
		}
	}
	// The scheduling decisions answer "why did it not run at 11:55".
	_, decisions, ok := strings.Cut(out, "Scheduling Decisions:\n")
	if !ok {
		t.Fatalf("no Scheduling Decisions section:\n%s", out)
	}
	decisions, _, _ = strings.Cut(decisions, "Events:")
	assertTable(t, table(decisions), [][]string{
		{"TIME", "TICKS", "DECISION", "REASON", "JOB", "MESSAGE"},
		{"2026-03-07T11:50:00Z", "1", "invoke", "Scheduled", "hello-29548070", "<none>"},
		{"2026-03-07T11:55:00Z", "1", "skip", "ConcurrencyPolicy", "hello-29548070", "concurrencyPolicy Forbid: job hello-29548070 has not finished"},
		{"2026-03-07T10:00:00Z..2026-03-07T11:45:00Z", "22", "skip", "Suspended", "<none>", "the CronJob is suspended"},
	})
	_, recent, _ := strings.Cut(out, "Recent Jobs:\n")
	recent, _, _ = strings.Cut(recent, "Scheduling Decisions:")
	assertTable(t, table(recent), [][]string{
		{"NAME", "STATUS", "COMPLETIONS", "SCHEDULED", "DURATION", "AGE"},
		{"hello-29548075", "Running", "0/1", "2026-03-07T11:55:00Z", "3m", "3m"},
		{"hello-29548070", "Complete", "1/1", "2026-03-07T11:50:00Z", "45s", "10m"},
	})
	if t.Failed() {
		t.Log(out)
	}
}

func TestDescribeJob(t *testing.T) {
	_, addr := seed(t)
	out := cli(t, "", "describe", "job/hello-29548075", "--server", addr).ok(t)
	for _, want := range []string{
		"Created By:                   CronJob/hello\n",
		"Status:                       Running\n",
		"Attempts Statuses:            1 Active / 0 Succeeded / 0 Failed / 0 Lost\n",
		"  Image:                      busybox:1.36\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("describe job lacks %q", want)
		}
	}
	_, attempts, _ := strings.Cut(out, "Attempts:\n")
	attempts, _, _ = strings.Cut(attempts, "Events:")
	rows := table(attempts)
	if len(rows) != 3 || rows[2][4] != "Pending" || rows[2][len(rows[2])-1] != "no worker has a free slot matching nodeSelector disk=ssd" {
		t.Fatalf("attempts in describe should say why the Pending one waits:\n%s", attempts)
	}
	if strings.Contains(out, "Result:") {
		t.Errorf("a running Job has no result:\n%s", out)
	}
	out = cli(t, "", "describe", "job/hello-29548070", "--server", addr).ok(t)
	if want := "Result:                       Complete (CompletionsReached): attempt hello-29548070-0-1 Succeeded with exit code 0 on w1\n"; !strings.Contains(out, want) {
		t.Errorf("describe job lacks %q:\n%s", want, out)
	}
	cli(t, "", "describe", "job", "nope", "--server", addr).fails(t, `job "nope" not found`)
	cli(t, "", "describe", "hello", "--server", addr).fails(t, "TYPE/NAME")
}

func TestDeleteTriggerSuspend(t *testing.T) {
	f, addr := seed(t)
	if out := cli(t, "", "trigger", "cronjob/hello", "--name", "hello-now", "--server", addr).ok(t); out != "job.batch/hello-now created\n" {
		t.Fatalf("trigger printed %q", out)
	}
	out := cli(t, "", "trigger", "cronjob", "hello", "--server", addr).ok(t)
	if !regexp.MustCompile(`^job\.batch/hello-manual-\d+ created\n$`).MatchString(out) {
		t.Fatalf("trigger without --name printed %q", out)
	}
	cli(t, "", "trigger", "cronjob/nope", "--server", addr).fails(t, `cronjob "nope" not found`)

	if out := cli(t, "", "suspend", "cronjob/hello", "--server", addr).ok(t); out != "cronjob.batch/hello suspended\n" {
		t.Fatalf("suspend printed %q", out)
	}
	if !f.cronJobs["default/hello"].GetSpec().GetSuspend() {
		t.Fatal("suspend did not suspend")
	}
	if out := cli(t, "", "resume", "cj", "hello", "--server", addr).ok(t); out != "cronjob.batch/hello resumed\n" {
		t.Fatalf("resume printed %q", out)
	}
	if f.cronJobs["default/hello"].GetSpec().GetSuspend() {
		t.Fatal("resume did not resume")
	}

	if out := cli(t, "", "delete", "job", "hello-now", "--server", addr).ok(t); out != "job.batch \"hello-now\" deleted\n" {
		t.Fatalf("delete printed %q", out)
	}
	cli(t, "", "delete", "job", "hello-now", "--server", addr).fails(t, `job "hello-now" not found`)
	cli(t, "", "delete", "job", "hello-now", "--ignore-not-found", "--server", addr).ok(t)
	file := writeFile(t, "hello.yaml", helloManifest)
	if out := cli(t, "", "delete", "-f", file, "--server", addr).ok(t); out != "cronjob.batch \"hello\" deleted\njob.batch \"pi\" deleted\n" {
		t.Fatalf("delete -f printed %q", out)
	}
}

func TestWait(t *testing.T) {
	f, addr := seed(t)
	complete := &pb.JobStatus{Succeeded: 1, Conditions: []*pb.JobCondition{{Type: "Complete", Status: "True"}}}
	failed := &pb.JobStatus{Failed: 7, Conditions: []*pb.JobCondition{{Type: "Failed", Status: "True", Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit"}}}
	running := &pb.JobStatus{Active: 1}

	f.jobScript["pi"] = []*pb.JobStatus{running, running, complete}
	r := cli(t, "", "wait", "job/pi", "--for=condition=Complete", "--timeout", "10s", "--server", addr)
	if out := r.ok(t); out != "job.batch/pi condition met\n" {
		t.Fatalf("wait printed %q", out)
	}

	f.jobScript["pi"] = []*pb.JobStatus{running, failed}
	cli(t, "", "wait", "job/pi", "--for=condition=Complete", "--timeout", "10s", "--server", addr).
		fails(t, `job "pi" failed: BackoffLimitExceeded: Job has reached the specified backoff limit`)

	f.jobScript["pi"] = []*pb.JobStatus{failed}
	cli(t, "", "wait", "job/pi", "--for=condition=Failed", "--server", addr).ok(t)

	f.jobScript["pi"] = []*pb.JobStatus{running}
	cli(t, "", "wait", "job/pi", "--for=condition=Complete", "--timeout", "200ms", "--server", addr).
		fails(t, "timed out after 200ms waiting for job/pi to be Complete (status: Running)")

	cli(t, "", "wait", "job/pi", "--for=delete", "--server", addr).fails(t, `--for "delete"`)
	cli(t, "", "wait", "job/nope", "--server", addr).fails(t, `job "nope" not found`)
}

func TestLogsAndCluster(t *testing.T) {
	f, addr := seed(t)
	f.logs["hello-29548070"] = "Sat Mar  7 11:50:01 UTC 2026\nhello\n"
	if out := cli(t, "", "logs", "job/hello-29548070", "--server", addr).ok(t); out != f.logs["hello-29548070"] {
		t.Fatalf("logs printed %q", out)
	}
	cli(t, "", "logs", "job/nope", "--server", addr).fails(t, `job "nope" has no attempt`)
	cli(t, "", "logs", "cronjob/hello", "--server", addr).fails(t, "name a job")

	f.members = []*pb.Member{
		{Id: "s1", RaftAddress: "10.0.0.1:7001", GrpcAddress: "10.0.0.1:8001", Voter: true, Leader: true, Status: pb.MemberAlive},
		{Id: "s2", RaftAddress: "10.0.0.2:7001", GrpcAddress: "10.0.0.2:8001", Voter: true, LastContact: timestamppb.New(testNow.Add(-time.Second)), Status: pb.MemberAlive},
	}
	assertTable(t, table(cli(t, "", "cluster", "members", "--server", addr).ok(t)), [][]string{
		{"ID", "RAFT ADDRESS", "GRPC ADDRESS", "VOTER", "LEADER", "STATUS", "LAST CONTACT"},
		{"s1", "10.0.0.1:7001", "10.0.0.1:8001", "True", "True", "alive", "-"},
		{"s2", "10.0.0.2:7001", "10.0.0.2:8001", "True", "False", "alive", "1s"},
	})
	// An unreachable server: its status, when the leader last reached it, and why, below the table.
	f.members = append(f.members, &pb.Member{Id: "s3", RaftAddress: "10.0.0.3:7001", GrpcAddress: "10.0.0.3:8001", Voter: true,
		LastContact: timestamppb.New(testNow.Add(-2 * time.Minute)), Status: pb.MemberUnreachable, Health: "no answer from 10.0.0.3:8001 within 500ms: connection refused"})
	out := cli(t, "", "cluster", "members", "--server", addr).ok(t)
	tableText, notes, _ := strings.Cut(out, "\n\n")
	assertTable(t, table(tableText + "\n")[3:], [][]string{{"s3", "10.0.0.3:7001", "10.0.0.3:8001", "True", "False", "unreachable", "2m"}})
	if notes != "s3 unreachable: no answer from 10.0.0.3:8001 within 500ms: connection refused\n" {
		t.Errorf("below the members table: %q", notes)
	}
	if out := cli(t, "", "cluster", "remove-peer", "s2", "--server", addr).ok(t); out != "server \"s2\" removed from the cluster\n" {
		t.Fatalf("remove-peer printed %q", out)
	}
	cli(t, "", "cluster", "remove-peer", "s9", "--server", addr).fails(t, `server "s9" is not a member`)
}

func TestServerListFallsThroughDeadServer(t *testing.T) {
	_, addr := seed(t)
	out := cli(t, "", "get", "cj", "hello", "--server", "127.0.0.1:1,"+addr).ok(t)
	if !strings.Contains(out, "hello") {
		t.Fatalf("stdout = %q", out)
	}
	cli(t, "", "get", "cj", "--server", "127.0.0.1:1", "--timeout", "300ms").fails(t, "cannot connect to server 127.0.0.1:1")
	cli(t, "", "get", "cj", "--server", " , ").fails(t, "--server")
}

// scheduleNextPrints runs `raftcron schedule next ARGS...` and checks that
// it prints the fire times want, one a line.
func scheduleNextPrints(t *testing.T, want []string, args ...string) {
	t.Helper()
	out := cli(t, "", append([]string{"schedule", "next"}, args...)...).ok(t)
	if w := strings.Join(want, "\n") + "\n"; out != w {
		t.Fatalf("schedule next %q printed\n%s\nwant\n%s", args, out, w)
	}
}

func TestScheduleNextAcrossDST(t *testing.T) {
	for _, c := range []struct {
		args, want []string
	}{
		// Los Angeles springs forward on 2026-03-08: 02:00 does not exist
		// that day, so the 02:00 tick fires once, at 03:00 PDT.
		{[]string{"0 2 * * *", "--tz", "America/Los_Angeles", "--from", "2026-03-06T12:00:00Z", "-n", "3"}, []string{
			"2026-03-07T02:00:00-08:00  (UTC-08:00)",
			"2026-03-08T03:00:00-07:00  (UTC-07:00)",
			"2026-03-09T02:00:00-07:00  (UTC-07:00)",
		}},
		// Berlin falls back on 2026-10-25: 02:30 happens twice, and fires once.
		{[]string{"30 2 * * *", "--tz", "Europe/Berlin", "--from", "2026-10-24T12:00", "-n", "2"}, []string{
			"2026-10-25T02:30:00+02:00  (UTC+02:00)",
			"2026-10-26T02:30:00+01:00  (UTC+01:00)",
		}},
		// On the clock: New York falls back on 2026-11-01 and an hourly
		// schedule runs at 01:00 EDT and again at 01:00 EST ...
		{[]string{"0 * * * *", "--tz", "America/New_York", "--from", "2026-11-01T04:30:00Z", "-n", "3"}, []string{
			"2026-11-01T01:00:00-04:00  (UTC-04:00)",
			"2026-11-01T01:00:00-05:00  (UTC-05:00)",
			"2026-11-01T02:00:00-05:00  (UTC-05:00)",
		}},
		// ... while a fixed 01:30 runs once ...
		{[]string{"30 1 * * *", "--tz", "America/New_York", "--from", "2026-11-01T04:30:00Z", "-n", "2"}, []string{
			"2026-11-01T01:30:00-04:00  (UTC-04:00)",
			"2026-11-02T01:30:00-05:00  (UTC-05:00)",
		}},
		// ... and springing forward, the 02:00 hour that does not exist is not made up.
		{[]string{"*/30 * * * *", "--tz", "America/New_York", "--from", "2026-03-08T06:10:00Z", "-n", "3"}, []string{
			"2026-03-08T01:30:00-05:00  (UTC-05:00)",
			"2026-03-08T03:00:00-04:00  (UTC-04:00)",
			"2026-03-08T03:30:00-04:00  (UTC-04:00)",
		}},
	} {
		scheduleNextPrints(t, c.want, c.args...)
	}
	cli(t, "", "schedule", "next", "* * *").fails(t, "schedule")
	cli(t, "", "schedule", "next", "@hourly", "--tz", "Mars/Olympus").fails(t, `--tz "Mars/Olympus"`)
	cli(t, "", "schedule", "next", "@hourly", "--from", "yesterday").fails(t, `--from "yesterday"`)
}

func TestScheduleNextExtended(t *testing.T) {
	// Last weekday of the month: 2026-01-31 and 2026-02-28 are Saturdays.
	scheduleNextPrints(t, []string{
		"2026-01-30T09:00:00Z  (UTC+00:00)",
		"2026-02-27T09:00:00Z  (UTC+00:00)",
		"2026-03-31T09:00:00Z  (UTC+00:00)",
	}, "0 9 LW * *", "--from", "2026-01-15T00:00:00Z", "-n", "3")
	// Second Monday, in a zone.
	scheduleNextPrints(t, []string{
		"2026-01-12T10:00:00+01:00  (UTC+01:00)",
		"2026-02-09T10:00:00+01:00  (UTC+01:00)",
	}, "0 10 * * 1#2", "--tz", "Europe/Berlin", "--from", "2026-01-01", "-n", "2")
	// H is resolved from --namespace and --name, and says so on stderr.
	r := cli(t, "", "schedule", "next", "H 3 * * *", "--name", "nightly-report", "--namespace", "data", "--from", "2026-01-01T00:00:00Z", "-n", "2")
	if out := r.ok(t); out != "2026-01-01T03:21:00Z  (UTC+00:00)\n2026-01-02T03:21:00Z  (UTC+00:00)\n" {
		t.Fatalf("schedule next H printed\n%s", out)
	}
	if want := `Schedule "H 3 * * *" of CronJob data/nightly-report resolves to "21 3 * * *"` + "\n"; r.stderr != want {
		t.Fatalf("stderr = %q, want %q", r.stderr, want)
	}
	r = cli(t, "", "schedule", "next", "H/15 * * * *", "--name", "hello", "--from", "2026-03-07T12:00:00Z", "-n", "2")
	if out := r.ok(t); out != "2026-03-07T12:03:00Z  (UTC+00:00)\n2026-03-07T12:18:00Z  (UTC+00:00)\n" || !strings.Contains(r.stderr, `default/hello resolves to "3-59/15 * * * *"`) {
		t.Fatalf("schedule next H/15: stdout\n%s\nstderr\n%s", out, r.stderr)
	}
	cli(t, "", "schedule", "next", "H 3 * * *").fails(t, `minute "H": H picks a value from the CronJob's namespace and name, and no CronJob name was given; pass --name NAME`)
	// Unsupported syntax is explained in words.
	cli(t, "", "schedule", "next", "0 0 1#2 * *").fails(t, "day-of-month \"1#2\": `#` is only allowed in day-of-week")
	cli(t, "", "schedule", "next", "? * * * *").fails(t, "minute \"?\": `?` is only allowed in day-of-month or day-of-week")
	cli(t, "", "schedule", "next", "0 0 * * 1#6").fails(t, "after # comes which occurrence in the month, 1 to 5")
	// simulate takes --name too; the Jobs carry it.
	out := cli(t, "", "schedule", "simulate", "--schedule", "H * * * *", "--name", "hello", "-n", "data",
		"--last", "2026-01-10T02:00:00Z", "--now", "2026-01-10T03:59:00Z", "--catch-up", "All", "-o", "json").ok(t)
	if !strings.Contains(out, `"job": "hello-`) || strings.Count(out, `"decision": "invoke"`) != 2 {
		t.Fatalf("simulate H:\n%s", out)
	}
	cli(t, "", "schedule", "simulate", "--schedule", "H * * * *", "--last", "2026-01-10T02:00:00Z", "--now", "2026-01-10T03:59:00Z").fails(t, "pass --name NAME")
}

func TestDescribeCronJobResolvesHash(t *testing.T) {
	f := newFakeCluster(testNow.Add(-time.Hour))
	addr := f.start(t)
	manifest := strings.Replace(helloManifest, `schedule: "*/5 * * * *"`, `schedule: "H(0-29) 13 * * *"`, 1)
	cli(t, "", "apply", "-f", writeFile(t, "hello.yaml", manifest), "--server", addr).ok(t)
	out := cli(t, "", "describe", "cronjob", "hello", "--server", addr).ok(t)
	for _, want := range []string{
		"Schedule:                     H(0-29) 13 * * *\n",
		"Resolved Schedule:            18 13 * * *  (H chosen from namespace and name)\n",
		// testNow is 13:00 in Berlin.
		"Next Schedule Times:          2026-03-07T13:18:00+01:00  (UTC+01:00)\n",
		"                              2026-03-08T13:18:00+01:00  (UTC+01:00)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("describe lacks %q:\n%s", want, out)
		}
	}
	// A bad extension is refused at apply time, in words, and changes nothing.
	bad := strings.Replace(helloManifest, `schedule: "*/5 * * * *"`, `schedule: "0 0 * * 5L,1#9"`, 1)
	bad = strings.Replace(bad, "name: hello", "name: hello-two", 1)
	cli(t, "", "apply", "-f", writeFile(t, "bad.yaml", bad), "--server", addr).fails(t, `spec.schedule: unparsable schedule "0 0 * * 5L,1#9": day-of-week "5L,1#9": "1#9": after # comes which occurrence in the month, 1 to 5`)
	if f.cronJobs["default/hello-two"] != nil {
		t.Error("a rejected apply created the CronJob")
	}
}

func TestScheduleSimulate(t *testing.T) {
	out := cli(t, "", "schedule", "simulate", "--schedule", "*/15 * * * *",
		"--last", "2026-01-10T02:00:00Z", "--now", "2026-01-10T03:10:00Z", "--catch-up", "All", "--starting-deadline", "1800").ok(t)
	// 02:15 and 02:30 are more than 30 minutes late at 03:10: missed (one
	// aggregated decision); 02:45 and 03:00 run, late.
	assertTable(t, table(out), [][]string{
		{"TIME", "TICKS", "DECISION", "REASON", "MESSAGE"},
		{"2026-01-10T02:15:00Z..2026-01-10T02:30:00Z", "2", "skip", "MissedDeadline", "not started within startingDeadlineSeconds (1800)"},
		{"2026-01-10T02:45:00Z", "1", "invoke", "CatchUp", "started 25m0s after its scheduled time"},
		{"2026-01-10T03:00:00Z", "1", "invoke", "CatchUp", "started 10m0s after its scheduled time"},
	})
	// Times are shown in --tz.
	out = cli(t, "", "schedule", "simulate", "--schedule", "0 * * * *", "--tz", "Europe/Berlin",
		"--last", "2026-01-10T02:00:00+01:00", "--now", "2026-01-10T03:10:00+01:00").ok(t)
	assertTable(t, table(out), [][]string{
		{"TIME", "TICKS", "DECISION", "REASON", "MESSAGE"},
		{"2026-01-10T03:00:00+01:00", "1", "invoke", "CatchUp", "started 10m0s after its scheduled time"},
	})
	out = cli(t, "", "schedule", "simulate", "--schedule", "*/15 * * * *",
		"--last", "2026-01-10T02:00:00Z", "--now", "2026-01-10T02:20:00Z", "--concurrency", "Forbid", "--active", "-o", "json").ok(t)
	if !strings.Contains(out, `"reason": "ConcurrencyPolicy"`) {
		t.Fatalf("simulate json:\n%s", out)
	}
	// The repeated autumn hour: an hourly schedule has two 01:00 ticks, each its own Job.
	out = cli(t, "", "schedule", "simulate", "--schedule", "0 * * * *", "--tz", "America/New_York",
		"--last", "2026-11-01T00:00:00-04:00", "--now", "2026-11-01T02:10:00-05:00", "--catch-up", "All").ok(t)
	assertTable(t, table(out), [][]string{
		{"TIME", "TICKS", "DECISION", "REASON", "MESSAGE"},
		{"2026-11-01T01:00:00-04:00", "1", "invoke", "CatchUp", "started 2h10m0s after its scheduled time"},
		{"2026-11-01T01:00:00-05:00", "1", "invoke", "CatchUp", "started 1h10m0s after its scheduled time"},
		{"2026-11-01T02:00:00-05:00", "1", "invoke", "CatchUp", "started 10m0s after its scheduled time"},
	})
	cli(t, "", "schedule", "simulate", "--schedule", "@hourly", "--now", "2026-01-10T02:20:00Z").fails(t, "--last")
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-5 * time.Second:               "<invalid>",
		-time.Millisecond:              "0s",
		5 * time.Second:                "5s",
		119 * time.Second:              "119s",
		3*time.Minute + 12*time.Second: "3m12s",
		5 * time.Minute:                "5m",
		15 * time.Minute:               "15m",
		5*time.Hour + 10*time.Minute:   "5h10m",
		20 * time.Hour:                 "20h",
		52 * time.Hour:                 "2d4h",
		30 * 24 * time.Hour:            "30d",
		(365*3 + 10) * 24 * time.Hour:  "3y10d",
		10 * 365 * 24 * time.Hour:      "10y",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

// Without certificates a client refuses to talk plaintext unless told so by name.
func TestClientNeedsTLSOrInsecure(t *testing.T) {
	t.Setenv("RAFTCRON_CACERT", "")
	t.Setenv("RAFTCRON_CLIENT_CERT", "")
	t.Setenv("RAFTCRON_CLIENT_KEY", "")
	cli(t, "", "get", "cronjobs", "--server", "127.0.0.1:1", "--secure-test").fails(t, "TLS is required")
}

func TestClusterSettings(t *testing.T) {
	f := newFakeCluster(testNow)
	f.settings = &pb.ClusterSettings{HeartbeatInterval: durationpb.New(time.Second), WorkerTtl: durationpb.New(5 * time.Second),
		LeaseTtl: durationpb.New(10 * time.Second), ClusterId: "c0ffee"}
	addr := f.start(t)
	assertTable(t, table(cli(t, "", "cluster", "settings", "--server", addr).ok(t)), [][]string{
		{"SETTING", "VALUE"}, {"cluster-id", "c0ffee"}, {"heartbeat", "1s"}, {"worker-ttl", "5s"}, {"lease-ttl", "10s"},
		{"lost-worker-retention", "24h0m0s"},
	})
	if len(f.changes) != 0 {
		t.Fatalf("showing the settings changed them: %v", f.changes)
	}
	assertTable(t, table(cli(t, "", "cluster", "settings", "--lease-ttl", "30s", "--server", addr).ok(t)), [][]string{
		{"SETTING", "VALUE"}, {"cluster-id", "c0ffee"}, {"heartbeat", "1s"}, {"worker-ttl", "5s"}, {"lease-ttl", "30s"},
		{"lost-worker-retention", "24h0m0s"},
	})
	if len(f.changes) != 1 || f.changes[0].GetLeaseTtl().AsDuration() != 30*time.Second || f.changes[0].GetWorkerTtl() != nil || f.changes[0].GetHeartbeatInterval() != nil {
		t.Fatalf("changes sent = %v, want only the lease TTL", f.changes)
	}
	cli(t, "", "cluster", "settings", "--worker-ttl", "0s", "--server", addr).fails(t, "--worker-ttl: 0s is not a positive duration")
	rows := table(cli(t, "", "cluster", "settings", "--lost-worker-retention", "2h", "--server", addr).ok(t))
	if last := rows[len(rows)-1]; strings.Join(last, "|") != "lost-worker-retention|2h0m0s" {
		t.Fatalf("after --lost-worker-retention 2h the settings end with %q", last)
	}
	if c := f.changes[len(f.changes)-1]; c.GetLostWorkerRetention().AsDuration() != 2*time.Hour || c.GetLeaseTtl() != nil {
		t.Fatalf("change sent = %v, want only the lost worker retention", c)
	}
}

// get workers --lost lists lost workers apart; delete worker forgets a lost
// one and refuses a connected one, with the server's reason.
func TestLostWorkersListedAndDeleted(t *testing.T) {
	f := newFakeCluster(testNow)
	addr := f.start(t)
	f.workers = []*pb.Worker{
		{Id: "w1", Slots: 2, Runtime: "docker", State: pb.WorkerReady, Address: "10.0.0.5:40000", LastHeartbeat: timestamppb.New(testNow.Add(-time.Second))},
		{Id: "w2", Slots: 1, Runtime: "exec", State: pb.WorkerLost, LastHeartbeat: timestamppb.New(testNow.Add(-3 * time.Hour))},
	}
	assertTable(t, table(cli(t, "", "get", "workers", "--lost", "--server", addr).ok(t)), [][]string{
		{"ID", "LABELS", "SLOTS", "RUNTIME", "LAST HEARTBEAT", "STATE"},
		{"w2", "<none>", "0/1", "exec", "3h", "Lost"},
	})
	cli(t, "", "get", "cj", "--lost", "--server", addr).fails(t, "--lost filters workers only")
	cli(t, "", "delete", "worker", "w1", "--server", addr).fails(t, `worker "w1" is connected (Ready, from 10.0.0.5:40000): stop it first`)
	if out := cli(t, "", "delete", "worker/w2", "--server", addr).ok(t); out != "worker \"w2\" deleted\n" {
		t.Fatalf("delete worker/w2 printed %q", out)
	}
	r := cli(t, "", "get", "workers", "--lost", "--server", addr)
	if r.ok(t) != "" || !strings.Contains(r.stderr, "No lost workers found.") {
		t.Fatalf("get workers --lost after the delete: %q %q", r.stdout, r.stderr)
	}
	cli(t, "", "delete", "worker", "w2", "--server", addr).fails(t, `worker "w2" not found`)
	cli(t, "", "delete", "worker", "w2", "--ignore-not-found", "--server", addr).ok(t)
	cli(t, "", "delete", "worker", "--server", addr).fails(t, "name the worker to delete")
}

// tls init makes what is missing and leaves what exists; cert create names
// its problems.
func TestTLSVerbs(t *testing.T) {
	dir := t.TempDir()
	out := cli(t, "", "tls", "init", "--out", dir, "--server", "s1,s2", "--worker", "w1", "--client", "me").ok(t)
	for _, f := range []string{"ca/ca.pem", "ca/ca-key.pem", "server/s1.pem", "server/s2-key.pem", "worker/w1.pem", "client/me.pem"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("tls init did not make %s: %v\n%s", f, err, out)
		}
	}
	before, _ := os.ReadFile(filepath.Join(dir, "server/s1.pem"))
	cli(t, "", "tls", "init", "--out", dir, "--server", "s1").ok(t)
	if after, _ := os.ReadFile(filepath.Join(dir, "server/s1.pem")); string(after) != string(before) {
		t.Fatal("a second tls init replaced an existing certificate")
	}
	cli(t, "", "tls", "ca", "create", "--out", filepath.Join(dir, "ca")).fails(t, "refusing to overwrite")
	cli(t, "", "tls", "cert", "create", "--ca", filepath.Join(dir, "ca"), "--name", "x", "--out", dir).fails(t, "exactly one of --server, --worker and --client")
	cli(t, "", "tls", "cert", "create", "--ca", filepath.Join(dir, "ca"), "--client", "--name", "../x", "--out", dir).fails(t, "--name")
	cli(t, "", "tls", "cert", "create", "--ca", filepath.Join(dir, "ca"), "--server", "--name", "s9", "--ip", "nope", "--out", dir).fails(t, `--ip "nope"`)
	// A server refuses a certificate of another role, or one for another node id.
	w1, w1key := filepath.Join(dir, "worker/w1.pem"), filepath.Join(dir, "worker/w1-key.pem")
	cli(t, "", "server", "--node-id", "s1", "--data-dir", filepath.Join(dir, "d"), "--tls-ca", filepath.Join(dir, "ca/ca.pem"),
		"--tls-cert", w1, "--tls-key", w1key).fails(t, "a server needs a server certificate")
}
