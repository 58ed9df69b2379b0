package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// TestApplyKubernetesExport: what `kubectl get cronjob -o yaml` printed on
// a real Kubernetes applies as it is; a non-default dnsPolicy is refused
// with the field named.
func TestApplyKubernetesExport(t *testing.T) {
	f := newFakeCluster(testNow.Add(-time.Hour))
	addr := f.start(t)
	r := cli(t, "", "apply", "-f", "../../client/testdata/kubectl-export-cronjob.yaml", "-f", "../../client/testdata/kubectl-export-job.yaml", "--server", addr)
	if out := r.ok(t); out != "cronjob.batch/hello created\njob.batch/pi created\n" || r.stderr != "" {
		t.Fatalf("apply of kubectl exports: stdout %q, stderr %q", out, r.stderr)
	}
	b, err := os.ReadFile("../../client/testdata/kubectl-export-cronjob.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file := writeFile(t, "none.yaml", strings.Replace(string(b), "dnsPolicy: ClusterFirst", "dnsPolicy: None", 1))
	cli(t, "", "apply", "-f", file, "--server", addr).fails(t, `spec.jobTemplate.spec.template.spec.dnsPolicy: field not supported by raftcron; only Kubernetes' default ("ClusterFirst") is accepted, got string "None"`)
}

// seedLabelled is seed with a labelled CronJob in team-a and the done
// hello Job labelled team=data.
func seedLabelled(t *testing.T) (*fakeCluster, string) {
	t.Helper()
	f, addr := seed(t)
	report := strings.Replace(strings.SplitN(helloManifest, "---", 2)[0], "  name: hello\n", "  name: report\n  namespace: team-a\n  labels: {team: data}\n", 1)
	cli(t, report, "apply", "-f", "-", "--server", addr).ok(t)
	f.mu.Lock()
	f.jobs["default/hello-29548070"].Metadata.Labels = map[string]string{"team": "data"}
	f.mu.Unlock()
	return f, addr
}

func TestGetOutputFormats(t *testing.T) {
	_, addr := seedLabelled(t)
	get := func(args ...string) string {
		t.Helper()
		return cli(t, "", append(append([]string{"get"}, args...), "--server", addr)...).ok(t)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"cronjobs", "-o", "name"}, "cronjob.batch/hello\n"},
		{[]string{"cj/hello", "job/pi", "-o", "name"}, "cronjob.batch/hello\njob.batch/pi\n"},
		{[]string{"jobs", "-o", "jsonpath={.items[*].metadata.name}"}, "hello-29548070 hello-29548075 pi"},
		{[]string{"cj", "hello", "-o", "jsonpath='{.spec.schedule} {.spec.timeZone}'"}, "*/5 * * * * Europe/Berlin"},
		{[]string{"jobs", "-o", `jsonpath={range .items[*]}{.metadata.name}{"\t"}{.status.cronJob}{"\n"}{end}`},
			"hello-29548070\thello\nhello-29548075\thello\npi\t\n"},
		// --sort-by: pi is the oldest.
		{[]string{"jobs", "--sort-by", ".metadata.creationTimestamp", "-o", "name"}, "job.batch/pi\njob.batch/hello-29548070\njob.batch/hello-29548075\n"},
		{[]string{"jobs", "--sort-by", "{.spec.completions}", "-o", "name"}, "job.batch/hello-29548070\njob.batch/hello-29548075\njob.batch/pi\n"},
		{[]string{"attempts", "--sort-by", ".state", "-o", "name"}, "attempt/hello-29548075-0-1\nattempt/hello-29548075-0-2\n"},
		{[]string{"namespaces", "-o", "name"}, "namespace/default\nnamespace/team-a\n"},
	} {
		if got := get(tc.args...); got != tc.want {
			t.Errorf("get %s printed %q, want %q", strings.Join(tc.args, " "), got, tc.want)
		}
	}

	assertTable(t, table(get("jobs", "-o", "custom-columns=NAME:.metadata.name,CRONJOB:.status.cronJob,IMAGE:.spec.template.spec.containers[*].image")), [][]string{
		{"NAME", "CRONJOB", "IMAGE"},
		{"hello-29548070", "hello", "busybox:1.36"},
		{"hello-29548075", "hello", "busybox:1.36"},
		{"pi", "<none>", "perl:5.34.0"},
	})
	assertTable(t, table(get("jobs", "--no-headers", "--sort-by", ".metadata.creationTimestamp")), [][]string{
		{"pi", "Pending", "0/5", "2d4h"},
		{"hello-29548070", "Complete", "1/1", "45s", "10m"},
		{"hello-29548075", "Running", "0/1", "3m", "3m"},
	})
	if out := get("cj", "-o", "custom-columns=NAME:metadata.name", "--no-headers", "-A"); out != "hello\nreport\n" {
		t.Errorf("custom-columns --no-headers -A printed %q", out)
	}

	// Several types: a table each, names with their type, as kubectl prints them.
	out := get("cronjobs,jobs")
	parts := strings.Split(out, "\n\n")
	if len(parts) != 2 {
		t.Fatalf("get cronjobs,jobs printed:\n%s\nwant two tables", out)
	}
	assertTable(t, table(parts[0]), [][]string{
		{"NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE"},
		{"cronjob.batch/hello", "*/5 * * * *", "Europe/Berlin", "False", "1", "3m12s", "2d4h"},
	})
	if rows := table(parts[1]); len(rows) != 4 || rows[1][0] != "job.batch/hello-29548070" || rows[3][0] != "job.batch/pi" {
		t.Errorf("the jobs table of get cronjobs,jobs: %v", rows)
	}
	if all := get("all"); all != out {
		t.Errorf("get all printed\n%s\nwant what get cronjobs,jobs prints\n%s", all, out)
	}
	if out := get("all", "-A", "-l", "team=data", "-o", "name"); out != "cronjob.batch/report\njob.batch/hello-29548070\n" {
		t.Errorf("get all -A -l team=data printed %q", out)
	}
	if out := get("cj,job", "-A", "-l", "team=data", "-o", "jsonpath={.items[*].metadata.namespace}"); out != "team-a default" {
		t.Errorf("jsonpath over two types printed %q", out)
	}

	assertTable(t, table(get("namespaces", "-o", "wide")), [][]string{
		{"NAME", "STATUS", "AGE", "CRONJOBS", "JOBS"},
		{"default", "Active", "2d4h", "1", "3"},
		{"team-a", "Active", "2d4h", "1", "0"},
	})
	assertTable(t, table(get("ns", "team-a")), [][]string{{"NAME", "STATUS", "AGE"}, {"team-a", "Active", "2d4h"}})

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"cj,jobs", "hello"}, "names need one resource type"},
		{[]string{"cj", "-o", "jsonpath="}, "-o jsonpath= needs a template"},
		{[]string{"cj", "-o", "jsonpath={.items[*"}, "--output: bad JSONPath"},
		{[]string{"cj", "-o", "custom-columns=NAME"}, `-o custom-columns: "NAME": each column is HEADER:JSONPATH`},
		{[]string{"cj", "--sort-by", "{.metadata.name"}, "--sort-by: bad JSONPath"},
		{[]string{"jobs", "--sort-by", ".spec.template.spec.containers[*].name", "-o", "name", "-n", "x"}, ""},
		{[]string{"ns", "nope"}, `namespace "nope" not found`},
		{[]string{"cj,pods"}, `unknown resource type "pods"`},
		{[]string{"cj,jobs", "-w"}, "--watch follows one resource type at a time"},
	} {
		r := cli(t, "", append(append([]string{"get"}, tc.args...), "--server", addr)...)
		if tc.want == "" {
			r.ok(t)
			continue
		}
		r.fails(t, tc.want)
	}
}

// TestGetWatchSelector: get -w -l prints only the rows of objects whose
// labels match, and the last row of one whose labels stop matching.
func TestGetWatchSelector(t *testing.T) {
	f, addr := seedLabelled(t)
	out, cmd := cliFollow(t, "get", "jobs", "-w", "-l", "team=data", "--no-headers", "--server", addr)
	waitOutput(t, out, "hello-29548070")
	f.mu.Lock()
	running := proto.Clone(f.jobs["default/hello-29548075"]).(*pb.Job)
	done := proto.Clone(f.jobs["default/hello-29548070"]).(*pb.Job)
	f.mu.Unlock()
	f.feed <- &pb.WatchEvent{Type: "MODIFIED", Index: 30, Object: &pb.WatchEvent_Job{Job: running}} // no label: not shown
	joined := proto.Clone(running).(*pb.Job)
	joined.Metadata.Labels = map[string]string{"team": "data"}
	f.feed <- &pb.WatchEvent{Type: "MODIFIED", Index: 31, Object: &pb.WatchEvent_Job{Job: joined}}
	left := proto.Clone(done).(*pb.Job)
	left.Metadata.Labels = map[string]string{"team": "web"}
	f.feed <- &pb.WatchEvent{Type: "MODIFIED", Index: 32, Object: &pb.WatchEvent_Job{Job: left}}
	f.feed <- &pb.WatchEvent{Type: "MODIFIED", Index: 33, Object: &pb.WatchEvent_Job{Job: left}} // no longer shown
	f.feed <- &pb.WatchEvent{Type: "DELETED", Index: 34, Object: &pb.WatchEvent_Job{Job: joined}}
	waitOutput(t, out, "\nhello-29548075")
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(out.String(), "\n") < 4 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if code := cmd.stop(); code != 0 {
		t.Fatalf("get -w -l stopped with exit code %d", code)
	}
	var names []string
	for _, r := range table(out.String()) {
		names = append(names, r[0])
	}
	if got := strings.Join(names, " "); got != "hello-29548070 hello-29548075 hello-29548070 hello-29548075" {
		t.Fatalf("get jobs -w -l team=data printed:\n%s\nwant the labelled job, the one that joined, the one that left (once) and the deleted one", out.String())
	}
}

func TestDeleteSelector(t *testing.T) {
	f, addr := seedLabelled(t)
	out := cli(t, "", "delete", "cronjobs,jobs", "-l", "team=data", "--server", addr).ok(t)
	if out != "job.batch \"hello-29548070\" deleted\n" {
		t.Fatalf("delete cronjobs,jobs -l team=data printed %q", out)
	}
	out = cli(t, "", "delete", "cj", "-l", "team", "-n", "team-a", "--server", addr).ok(t)
	if out != "cronjob.batch \"report\" deleted\n" {
		t.Fatalf("delete cj -l team -n team-a printed %q", out)
	}
	if got := strings.Join(f.deletes, " "); got != "Job/default/hello-29548070 CronJob/team-a/report" {
		t.Fatalf("deleted %s", got)
	}
	r := cli(t, "", "delete", "jobs", "-l", "team=nobody", "--server", addr)
	if r.ok(t) != "" || !strings.Contains(r.stderr, "No resources found in default namespace.") {
		t.Fatalf("delete of nothing: %+v", r)
	}
	if out := cli(t, "", "delete", "jobs", "--all", "--server", addr).ok(t); out != "job.batch \"hello-29548075\" deleted\njob.batch \"pi\" deleted\n" {
		t.Fatalf("delete jobs --all printed %q", out)
	}
	cli(t, "", "delete", "cj", "hello", "-l", "a=b", "--server", addr).fails(t, "-l and --all name a type, not objects")
	cli(t, "", "delete", "secrets", "-l", "a=b", "--server", addr).fails(t, "-l deletes cronjobs and jobs")
	cli(t, "", "delete", "cj", "-l", "a in b", "--server", addr).fails(t, `label selector "a in b"`)
}

// TestCompletion: shell completion offers types, then the names on the
// cluster, read with the user's flags (-n).
func TestCompletion(t *testing.T) {
	_, addr := seedLabelled(t)
	complete := func(args ...string) []string {
		t.Helper()
		out := cli(t, "", append([]string{"__complete", "--secure-test", "--insecure", "--server", addr}, args...)...).ok(t)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		return lines[:len(lines)-1] // the last line is cobra's directive
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"get", "c"}, "cronjobs"},
		{[]string{"get", "cronjobs,j"}, "cronjobs,jobs"},
		{[]string{"get", "cronjobs", ""}, "hello"},
		{[]string{"get", "-n", "team-a", "cj", ""}, "report"},
		{[]string{"get", "jobs", "hello-"}, "hello-29548070 hello-29548075"},
		{[]string{"get", "job/p"}, "job/pi"},
		{[]string{"get", "ns", ""}, "default team-a"},
		{[]string{"describe", "cj", ""}, "hello"},
		{[]string{"delete", "job", "pi", ""}, "hello-29548070 hello-29548075"},
		{[]string{"logs", "hello-29548075", ""}, ""},
		{[]string{"logs", "p"}, "pi"},
		{[]string{"logs", "job/h"}, "job/hello-29548070 job/hello-29548075"},
		{[]string{"trigger", "cronjob/"}, "cronjob/hello"},
		{[]string{"get", "cj", "-n", ""}, "default team-a"},
	} {
		if got := strings.Join(complete(tc.args...), " "); got != tc.want {
			t.Errorf("completion of %q = %q, want %q", tc.args, got, tc.want)
		}
	}
}

// TestApplyDryRunDiff: apply --dry-run prints the unified diff from the
// stored object to the applied one under each line; raftcron diff prints the
// diff alone and exits 1 when there is one, 0 when not, 2 on error.
func TestApplyDryRunDiff(t *testing.T) {
	f, addr := seed(t)
	changed := writeFile(t, "changed.yaml", strings.Replace(helloManifest, `"*/5 * * * *"`, `"*/10 * * * *"`, 1))
	out := cli(t, "", "apply", "--dry-run", "-f", changed, "--server", addr).ok(t)
	if !strings.HasPrefix(out, "cronjob.batch/hello configured (dry run)\n--- live/cronjob/default/hello\n+++ applied/cronjob/default/hello\n@@ ") ||
		!strings.Contains(out, "\n-  schedule: '*/5 * * * *'\n+  schedule: '*/10 * * * *'\n") ||
		!strings.HasSuffix(out, "\njob.batch/pi unchanged (dry run)\n") || strings.Count(out, "\n-") != 2 || strings.Count(out, "\n+") != 2 {
		t.Fatalf("apply --dry-run printed:\n%s\nwant the schedule's change under the CronJob's line, nothing under the unchanged Job", out)
	}
	if got := f.cronJobs["default/hello"].GetSpec().GetSchedule(); got != "*/5 * * * *" {
		t.Fatalf("--dry-run changed the schedule to %q", got)
	}

	r := cli(t, "", "diff", "-f", changed, "--server", addr)
	if r.code != 1 || r.stderr != "" || !strings.HasPrefix(r.stdout, "--- live/cronjob/default/hello\n") || strings.Contains(r.stdout, "job/default/pi") {
		t.Fatalf("diff of a change: exit %d, stdout:\n%s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if r.stdout != out[len("cronjob.batch/hello configured (dry run)\n"):len(out)-len("job.batch/pi unchanged (dry run)\n")] {
		t.Fatalf("diff and apply --dry-run print different diffs:\n%s", r.stdout)
	}
	r = cli(t, "", "diff", "-f", writeFile(t, "same.yaml", helloManifest), "--server", addr)
	if r.code != 0 || r.stdout != "" || r.stderr != "" {
		t.Fatalf("diff without changes: %+v", r)
	}
	r = cli(t, "", "diff", "-f", "/nonexistent.yaml", "--server", addr)
	if r.code != 2 || !strings.Contains(r.stderr, "error: -f: stat /nonexistent.yaml") {
		t.Fatalf("diff of a missing file: %+v", r)
	}
	r = cli(t, "", "diff", "-f", writeFile(t, "bad.yaml", strings.Replace(helloManifest, `"*/5 * * * *"`, `"every day"`, 1)), "--server", addr)
	if r.code != 2 || !strings.Contains(r.stderr, "spec.schedule") {
		t.Fatalf("diff of an invalid schedule: %+v", r)
	}
}

// TestApplyNamespaceMismatch: -n team-a with a manifest in team-b is an
// error, as in kubectl; a manifest without a namespace goes to -n's.
func TestApplyNamespaceMismatch(t *testing.T) {
	f := newFakeCluster(testNow)
	addr := f.start(t)
	inB := writeFile(t, "b.yaml", strings.Replace(helloManifest, "  name: hello\n", "  name: hello\n  namespace: team-b\n", 1))
	cli(t, "", "apply", "-n", "team-a", "-f", inB, "--server", addr).fails(t,
		`document 1 (CronJob "hello"): metadata.namespace: "team-b" does not match the namespace "team-a" given (-n); pass -n team-b or leave the namespace out of the manifest`)
	if r := cli(t, "", "diff", "-n", "team-a", "-f", inB, "--server", addr); r.code != 2 || !strings.Contains(r.stderr, `"team-b" does not match the namespace "team-a"`) {
		t.Fatalf("diff -n team-a of a team-b manifest: %+v", r)
	}
	cli(t, "", "delete", "-n", "team-a", "-f", inB, "--server", addr).fails(t, `"team-b" does not match the namespace "team-a"`)
	if len(f.cronJobs) != 0 {
		t.Fatal("a refused apply stored something")
	}
	out := cli(t, "", "apply", "-n", "team-b", "-f", inB, "--server", addr).ok(t)
	if out != "cronjob.batch/hello created\njob.batch/pi created\n" || f.cronJobs["team-b/hello"] == nil || f.jobs["team-b/pi"] == nil {
		t.Fatalf("apply -n team-b: %q; stored %v %v", out, f.cronJobs, f.jobs)
	}
	// Without -n the manifest's namespace is used, as before.
	cli(t, "", "apply", "-f", inB, "--server", addr).ok(t)
}

// TestLogsTimestamps: --timestamps prefixes each line (the last one too,
// without a newline) with the time the server's marks give it, the time it
// was written, not the time the command read it; with --tail. Lines of
// unknown time (no mark at or before their start) have no prefix.
func TestLogsTimestamps(t *testing.T) {
	f, addr := seed(t)
	t1 := testNow.Add(-time.Hour + 123456789)
	t2 := testNow.Add(-time.Hour + 2*time.Second)
	f.mu.Lock()
	f.logs["hello-29548070"] = "one\ntwo\nthree"
	f.logMarks["hello-29548070"] = []*pb.LineMark{{Offset: 0, UnixNano: t1.UnixNano()}, {Offset: 8, UnixNano: t2.UnixNano()}}
	f.logs["pi"] = "old\noutput\n"
	f.mu.Unlock()
	const at1, at2 = "2026-03-07T11:00:00.123456789Z ", "2026-03-07T11:00:02Z "
	if out := cli(t, "", "logs", "job/hello-29548070", "--timestamps", "--server", addr).ok(t); out != at1+"one\n"+at1+"two\n"+at2+"three" {
		t.Fatalf("logs --timestamps printed %q", out)
	}
	if out := cli(t, "", "logs", "job/hello-29548070", "--timestamps", "--tail", "1", "--server", addr).ok(t); out != at2+"three" {
		t.Fatalf("logs --timestamps --tail 1 printed %q", out)
	}
	if out := cli(t, "", "logs", "job/pi", "--timestamps", "--server", addr).ok(t); out != "old\noutput\n" {
		t.Fatalf("logs --timestamps of output without times printed %q", out)
	}
}

// TestLogsFollowWaitsForTheJob: logs -f of a Job its server does not show
// yet (a follower that has not applied the apply of another process) waits
// for the Job on the watch, then follows it; a Job that never shows is not
// found once jobAppearTimeout has passed.
func TestLogsFollowWaitsForTheJob(t *testing.T) {
	f, addr := seed(t)
	f.mu.Lock()
	job := proto.Clone(f.jobs["default/pi"]).(*pb.Job)
	job.Metadata.Name = "late"
	job.Status = &pb.JobStatus{}
	f.logs["late#1"] = "late output\n"
	f.logMarks["late#1"] = []*pb.LineMark{{Offset: 0, UnixNano: testNow.Add(-time.Minute).UnixNano()}}
	f.mu.Unlock()
	out, cmd := cliFollow(t, "logs", "-f", "job/late", "--timestamps", "--server", addr)
	// The fake sends what the test feeds after its initial list (which lacks
	// the Job) and bookmark, as a lagging follower catching up would.
	f.feed <- &pb.WatchEvent{Type: "ADDED", Index: 40, Object: &pb.WatchEvent_Job{Job: job}}
	f.feed <- &pb.WatchEvent{Type: "ADDED", Index: 41, Object: &pb.WatchEvent_Attempt{Attempt: &pb.Attempt{
		Namespace: "default", Job: "late", Number: 1, Name: "late-0-1", State: pb.AttemptRunning}}}
	waitOutput(t, out, "late output\n")
	done := proto.Clone(job).(*pb.Job)
	done.Status = &pb.JobStatus{Succeeded: 1, Conditions: []*pb.JobCondition{{Type: "Complete", Status: "True"}}}
	f.feed <- &pb.WatchEvent{Type: "MODIFIED", Index: 42, Object: &pb.WatchEvent_Job{Job: done}}
	if code := cmd.wait(); code != 0 || out.String() != "2026-03-07T11:59:00Z late output\n" {
		t.Fatalf("logs -f of a late Job: exit %d, printed %q", code, out.String())
	}

	defer func(d time.Duration) { jobAppearTimeout = d }(jobAppearTimeout)
	jobAppearTimeout = 100 * time.Millisecond
	cli(t, "", "logs", "-f", "job/never", "--server", addr).fails(t, `job "never" not found`)
}

// An attempt that never ran says so in describe's MESSAGE column, not as an
// exit code.
func TestAttemptNeverStartedMessage(t *testing.T) {
	a := &pb.Attempt{Name: "j-0-1", Namespace: "default", Job: "j", Number: 1, State: pb.AttemptFailed, ExitCode: -1,
		Reason: "Rejected", Message: `image "nope:1" cannot be pulled: pull access denied`}
	l, err := attemptList([]*pb.Attempt{a}, true)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := l.writeTable(&out, false, false, false); err != nil {
		t.Fatal(err)
	}
	rows := table(out.String())
	if len(rows) != 2 {
		t.Fatalf("rows:\n%s", out.String())
	}
	row := rows[1]
	if exit := row[5]; exit != "<none>" {
		t.Errorf("EXIT %q, want <none>", exit)
	}
	if msg := strings.Join(row[9:], " "); msg != `never started: image "nope:1" cannot be pulled: pull access denied` {
		t.Errorf("MESSAGE %q", msg)
	}
}
