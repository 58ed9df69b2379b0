package scheduler

import (
	"errors"
	"strings"
	"testing"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"google.golang.org/protobuf/proto"
)

func dependsOn(deps ...string) func(*pb.CronJobSpec) {
	return func(s *pb.CronJobSpec) {
		for _, d := range deps {
			name, within, _ := strings.Cut(d, ":")
			s.DependsOn = append(s.DependsOn, &pb.CronJobDependency{CronJob: name, Within: within})
		}
	}
}

// pipeline drives a CronController as the leader loop does: after applying
// a step's commands it tells the controller which CronJobs and Jobs changed.
type pipeline struct {
	t *testing.T
	v *cronFakeView
	c *CronController
}

func newPipeline(t *testing.T, cjs ...*pb.CronJob) *pipeline {
	return &pipeline{t: t, v: newCronFakeView(cjs...), c: NewCronController(CronOptions{}, nil)}
}

// step ticks at now (after telling the controller about jobs that
// changed), applies the commands and returns the decisions and the next wake.
func (p *pipeline) step(now string, changedJobs ...string) ([]string, time.Time) {
	p.t.Helper()
	var refs []Ref
	for _, j := range changedJobs {
		refs = append(refs, Ref{Namespace: testNS, Name: j})
	}
	p.c.JobsChanged(p.v, refs)
	cmds, next := p.c.Tick(p.v, cronAt(p.t, now))
	p.v.apply(cmds)
	var crons []Ref
	for _, c := range cmds {
		if u := c.GetUpdateCronJobStatus(); u != nil {
			crons = append(crons, Ref{Namespace: u.GetNamespace(), Name: u.GetName()})
		}
	}
	p.c.Update(p.v, crons)
	var lines []string
	for _, c := range cmds {
		if u := c.GetUpdateCronJobStatus(); u != nil {
			for _, l := range cronDecisionsOf(u.GetDecisions()) {
				lines = append(lines, u.GetName()+" "+l)
			}
		}
	}
	return lines, next
}

func (p *pipeline) cron(name string) *pb.CronJob { return p.v.cronJobs[fvKey(testNS, name)] }

func (p *pipeline) lastDecision(name string) *pb.ScheduleDecision {
	ds := p.cron(name).GetStatus().GetDecisions()
	if len(ds) == 0 {
		p.t.Fatalf("cronjob %s has no decisions", name)
	}
	return ds[len(ds)-1]
}

func jobAt(t *testing.T, cronJob, at string) string {
	return JobName(cronJob, cronAt(t, at), false)
}

func TestPipelineSuccessChain(t *testing.T) {
	created := cronAt(t, "2026-03-09T12:00:00Z")
	p := newPipeline(t,
		newCronJob("prepare", "0 1 * * *", created),
		newCronJob("report", "0 2 * * *", created, dependsOn("prepare:2h")))
	prep := jobAt(t, "prepare", "2026-03-10T01:00:00Z")

	got, _ := p.step("2026-03-10T01:00:01Z")
	cronWantLines(t, "01:00", got, []string{"prepare invoke/Scheduled@03-10T01:00:00 job=" + prep})

	// 02:00: prepare still runs; report's tick waits (no decision yet) and
	// wakes at its deadline, 04:00.
	got, next := p.step("2026-03-10T02:00:00Z")
	cronWantLines(t, "02:00", got, nil)
	if w := p.cron("report").GetStatus().GetWaiting(); len(w) != 1 || w[0].GetUpstreams()[0].GetState() != UpstreamWaiting ||
		!strings.Contains(w[0].GetUpstreams()[0].GetMessage(), "has not finished") {
		t.Fatalf("report waiting = %v", w)
	}
	if want := cronAt(t, "2026-03-10T04:00:00Z"); !next.Equal(want) {
		t.Errorf("next = %v, want the deadline %v", next, want)
	}

	// prepare finishes at 02:40: report runs at once, and says for what it waited.
	p.v.finish(testNS, prep, cronAt(t, "2026-03-10T02:40:00Z"))
	got, _ = p.step("2026-03-10T02:40:00Z", prep)
	report := jobAt(t, "report", "2026-03-10T02:00:00Z")
	cronWantLines(t, "02:40", got, []string{"report invoke/Scheduled@03-10T02:00:00 job=" + report})
	d := p.lastDecision("report")
	if want := "waited 40m0s for upstreams prepare=" + prep; !strings.Contains(d.GetMessage(), want) {
		t.Errorf("message %q, want it to contain %q", d.GetMessage(), want)
	}
	if d.GetWaitingSince() == nil || len(d.GetUpstreams()) != 1 || d.GetUpstreams()[0].GetState() != UpstreamSucceeded {
		t.Errorf("decision upstreams %v since %v", d.GetUpstreams(), d.GetWaitingSince())
	}
	if len(p.cron("report").GetStatus().GetWaiting()) != 0 {
		t.Errorf("still waiting: %v", p.cron("report").GetStatus().GetWaiting())
	}
	j := p.v.Job(testNS, report)
	if j == nil || j.GetMetadata().GetAnnotations()[AnnotationUpstreamJobs] != "prepare="+prep {
		t.Fatalf("report job %v", j)
	}
	// Nothing more happens: the tick ran once.
	if got, _ := p.step("2026-03-10T03:00:00Z", prep); len(got) != 0 {
		t.Errorf("after the run: %v", got)
	}

	// Next night the upstream finishes first: the report runs on time.
	prep2 := jobAt(t, "prepare", "2026-03-11T01:00:00Z")
	p.step("2026-03-11T01:00:00Z")
	p.v.finish(testNS, prep2, cronAt(t, "2026-03-11T01:20:00Z"))
	p.step("2026-03-11T01:20:00Z", prep2)
	got, _ = p.step("2026-03-11T02:00:00Z")
	cronWantLines(t, "night 2", got, []string{"report invoke/Scheduled@03-11T02:00:00 job=" + jobAt(t, "report", "2026-03-11T02:00:00Z")})
}

func TestPipelineUpstreamFailure(t *testing.T) {
	created := cronAt(t, "2026-03-09T12:00:00Z")
	p := newPipeline(t,
		newCronJob("prepare", "0 1 * * *", created),
		newCronJob("report", "0 2 * * *", created, dependsOn("prepare:2h")))
	prep := jobAt(t, "prepare", "2026-03-10T01:00:00Z")
	p.step("2026-03-10T01:00:00Z")
	p.step("2026-03-10T02:00:00Z")
	p.v.failJob(testNS, prep, cronAt(t, "2026-03-10T02:05:00Z"))
	got, _ := p.step("2026-03-10T02:05:00Z", prep)
	cronWantLines(t, "after the failure", got, []string{"report skip/UpstreamFailed@03-10T02:00:00 job=" + jobAt(t, "report", "2026-03-10T02:00:00Z")})
	d := p.lastDecision("report")
	for _, want := range []string{"prepare (tick 2026-03-10T01:00:00Z)", "job " + prep + " failed: BackoffLimitExceeded", "after waiting 5m0s"} {
		if !strings.Contains(d.GetMessage(), want) {
			t.Errorf("message %q lacks %q", d.GetMessage(), want)
		}
	}
	if p.v.Job(testNS, jobAt(t, "report", "2026-03-10T02:00:00Z")) != nil {
		t.Error("the report ran after its upstream failed")
	}

	// A skipped upstream tick is a failure too.
	p.v.setSuspend(testNS, "prepare", true)
	p.step("2026-03-11T01:00:00Z")
	got, _ = p.step("2026-03-11T02:00:00Z")
	cronWantLines(t, "upstream suspended", got, []string{"report skip/UpstreamFailed@03-11T02:00:00 job=" + jobAt(t, "report", "2026-03-11T02:00:00Z")})
	if m := p.lastDecision("report").GetMessage(); !strings.Contains(m, "was skipped (Suspended") {
		t.Errorf("message %q", m)
	}
}

func TestPipelineUpstreamLate(t *testing.T) {
	created := cronAt(t, "2026-03-09T12:00:00Z")
	p := newPipeline(t,
		newCronJob("prepare", "0 1 * * *", created),
		newCronJob("report", "0 2 * * *", created, dependsOn("prepare:2h")))

	// Night 1: late, but within the window (done at 03:59).
	prep := jobAt(t, "prepare", "2026-03-10T01:00:00Z")
	p.step("2026-03-10T01:00:00Z")
	p.step("2026-03-10T02:00:00Z")
	p.v.finish(testNS, prep, cronAt(t, "2026-03-10T03:59:00Z"))
	got, _ := p.step("2026-03-10T03:59:00Z", prep)
	cronWantLines(t, "within", got, []string{"report invoke/Scheduled@03-10T02:00:00 job=" + jobAt(t, "report", "2026-03-10T02:00:00Z")})

	// Night 2: beyond it. At the deadline the tick is skipped; the upstream
	// finishing later does not run it.
	prep2 := jobAt(t, "prepare", "2026-03-11T01:00:00Z")
	p.step("2026-03-11T01:00:00Z")
	_, next := p.step("2026-03-11T02:00:00Z")
	if want := cronAt(t, "2026-03-11T04:00:00Z"); !next.Equal(want) {
		t.Fatalf("next = %v, want the deadline %v", next, want)
	}
	got, _ = p.step("2026-03-11T04:00:00Z")
	report2 := jobAt(t, "report", "2026-03-11T02:00:00Z")
	cronWantLines(t, "beyond", got, []string{"report skip/UpstreamNotReady@03-11T02:00:00 job=" + report2})
	if m := p.lastDecision("report").GetMessage(); !strings.Contains(m, "prepare (tick 2026-03-11T01:00:00Z): no successful run by 2026-03-11T04:00:00Z (job "+prep2+" for its tick at 2026-03-11T01:00:00Z has not finished)") ||
		!strings.Contains(m, "after waiting 2h0m0s") {
		t.Errorf("message %q", m)
	}
	p.v.finish(testNS, prep2, cronAt(t, "2026-03-11T04:10:00Z"))
	if got, _ := p.step("2026-03-11T04:10:00Z", prep2); len(got) != 0 || p.v.Job(testNS, report2) != nil {
		t.Errorf("the late upstream ran the skipped tick: %v", got)
	}
}

func TestPipelineDiamond(t *testing.T) {
	created := cronAt(t, "2026-03-09T12:00:00Z")
	p := newPipeline(t,
		newCronJob("extract", "0 1 * * *", created),
		newCronJob("sales", "0 2 * * *", created, dependsOn("extract:3h")),
		newCronJob("stock", "30 2 * * *", created, dependsOn("extract:3h")),
		newCronJob("report", "0 4 * * *", created, dependsOn("sales:3h", "stock:3h")))
	extract := jobAt(t, "extract", "2026-03-10T01:00:00Z")
	sales := jobAt(t, "sales", "2026-03-10T02:00:00Z")
	stock := jobAt(t, "stock", "2026-03-10T02:30:00Z")
	report := jobAt(t, "report", "2026-03-10T04:00:00Z")

	p.step("2026-03-10T01:00:00Z")
	p.step("2026-03-10T02:00:00Z")
	p.step("2026-03-10T02:30:00Z")
	p.v.finish(testNS, extract, cronAt(t, "2026-03-10T03:00:00Z"))
	got, _ := p.step("2026-03-10T03:00:00Z", extract)
	cronWantLines(t, "extract done: both branches run", got, []string{
		"sales invoke/Scheduled@03-10T02:00:00 job=" + sales,
		"stock invoke/Scheduled@03-10T02:30:00 job=" + stock,
	})
	p.v.finish(testNS, sales, cronAt(t, "2026-03-10T03:30:00Z"))
	p.step("2026-03-10T03:30:00Z", sales)
	got, _ = p.step("2026-03-10T04:00:00Z")
	cronWantLines(t, "one branch done", got, nil)
	w := p.cron("report").GetStatus().GetWaiting()
	if len(w) != 1 || w[0].GetMessage() != "waiting for stock" {
		t.Fatalf("report waiting %v", w)
	}
	p.v.finish(testNS, stock, cronAt(t, "2026-03-10T04:20:00Z"))
	got, _ = p.step("2026-03-10T04:20:00Z", stock)
	cronWantLines(t, "both branches done", got, []string{"report invoke/Scheduled@03-10T04:00:00 job=" + report})
	if a := p.v.Job(testNS, report).GetMetadata().GetAnnotations()[AnnotationUpstreamJobs]; a != "sales="+sales+",stock="+stock {
		t.Errorf("upstream jobs %q", a)
	}
}

func TestPipelineFailoverWhileWaiting(t *testing.T) {
	created := cronAt(t, "2026-03-09T12:00:00Z")
	p := newPipeline(t,
		newCronJob("prepare", "0 1 * * *", created),
		newCronJob("report", "0 2 * * *", created, dependsOn("prepare:2h")))
	prep := jobAt(t, "prepare", "2026-03-10T01:00:00Z")
	report := jobAt(t, "report", "2026-03-10T02:00:00Z")
	p.step("2026-03-10T01:00:00Z")
	p.step("2026-03-10T02:00:00Z")
	if len(p.cron("report").GetStatus().GetWaiting()) != 1 {
		t.Fatal("report's tick does not wait")
	}

	// The leader dies; the upstream finishes while none leads; a new
	// leader (a fresh controller over the replicated state) runs the tick
	// once, from status.waiting.
	p.v.finish(testNS, prep, cronAt(t, "2026-03-10T02:30:00Z"))
	p.c = NewCronController(CronOptions{}, nil)
	got, _ := p.step("2026-03-10T02:45:00Z")
	cronWantLines(t, "new leader", got, []string{"report invoke/Scheduled@03-10T02:00:00 job=" + report})

	// And a third leader does not run it again.
	p.c = NewCronController(CronOptions{}, nil)
	if got, _ := p.step("2026-03-10T02:46:00Z"); len(got) != 0 {
		t.Errorf("third leader: %v", got)
	}

	// A tick whose deadline passed while no leader ran is skipped, not lost.
	p.step("2026-03-11T01:00:00Z")
	p.step("2026-03-11T02:00:00Z")
	p.c = NewCronController(CronOptions{}, nil)
	got, _ = p.step("2026-03-11T05:00:00Z")
	cronWantLines(t, "deadline passed during the outage", got, []string{"report skip/UpstreamNotReady@03-11T02:00:00 job=" + jobAt(t, "report", "2026-03-11T02:00:00Z")})
}

func TestPipelineCatchUpAndConcurrency(t *testing.T) {
	created := cronAt(t, "2026-03-09T12:00:00Z")
	// An hourly report waiting up to 3h for a daily upstream: under
	// catchUp Latest a newer tick supersedes the one waiting.
	p := newPipeline(t,
		newCronJob("prepare", "0 1 * * *", created),
		newCronJob("report", "0 * * * *", created, dependsOn("prepare:3h")))
	p.step("2026-03-10T01:00:00Z")
	p.step("2026-03-10T01:00:01Z") // report's 01:00 tick waits for prepare's 01:00 run
	got, _ := p.step("2026-03-10T02:00:00Z")
	cronWantLines(t, "Latest", got, []string{"report skip/CatchUpPolicy@03-10T01:00:00 job=" + jobAt(t, "report", "2026-03-10T01:00:00Z")})
	if w := p.cron("report").GetStatus().GetWaiting(); len(w) != 1 || !w[0].GetScheduledTime().AsTime().Equal(cronAt(t, "2026-03-10T02:00:00Z")) {
		t.Fatalf("waiting %v", w)
	}

	// catchUp All keeps every waiting tick and runs them oldest first;
	// Forbid applies when they run: the second is skipped while the first runs.
	p = newPipeline(t,
		newCronJob("prepare", "0 1 * * *", created),
		newCronJob("report", "0 * * * *", created, dependsOn("prepare:3h"), func(s *pb.CronJobSpec) {
			s.CatchUp = CatchUpAll
			s.ConcurrencyPolicy = ConcurrencyForbid
		}))
	prep := jobAt(t, "prepare", "2026-03-10T01:00:00Z")
	p.step("2026-03-10T01:00:00Z")
	p.step("2026-03-10T01:00:01Z")
	p.step("2026-03-10T02:00:00Z")
	if w := p.cron("report").GetStatus().GetWaiting(); len(w) != 2 {
		t.Fatalf("catchUp All: waiting %v", w)
	}
	p.v.finish(testNS, prep, cronAt(t, "2026-03-10T02:10:00Z"))
	got, _ = p.step("2026-03-10T02:10:00Z", prep)
	first := jobAt(t, "report", "2026-03-10T01:00:00Z")
	cronWantLines(t, "All + Forbid", got, []string{
		"report invoke/Scheduled@03-10T01:00:00 job=" + first,
		"report skip/ConcurrencyPolicy@03-10T02:00:00 job=" + first,
	})
}

func TestPipelineTriggerWithUpstreams(t *testing.T) {
	created := cronAt(t, "2026-03-10T11:00:00Z") // no scheduled tick in this test
	p := newPipeline(t,
		newCronJob("extract", "0 1 * * *", created),
		newCronJob("prepare", "0 2 * * *", created, dependsOn("extract")),
		newCronJob("report", "0 3 * * *", created, dependsOn("prepare")))
	now := cronAt(t, "2026-03-10T12:00:00Z")
	cmds, job, err := p.c.TriggerWithUpstreams(p.v, testNS, "report", "", now)
	if err != nil {
		t.Fatal(err)
	}
	p.v.apply(cmds)
	suffix := "-manual-1773144000"
	if job.GetMetadata().GetName() != "report"+suffix || job.GetMetadata().GetAnnotations()[AnnotationUpstreamJobs] != "prepare=prepare"+suffix {
		t.Errorf("returned job %v", job.GetMetadata())
	}
	if p.v.Job(testNS, "extract"+suffix) == nil || p.v.Job(testNS, "prepare"+suffix) != nil || p.v.Job(testNS, "report"+suffix) != nil {
		t.Fatalf("only the first of the chain starts: jobs %v", p.v.jobs)
	}
	// In order: extract → prepare → report.
	p.v.finish(testNS, "extract"+suffix, now.Add(time.Minute))
	got, _ := p.step("2026-03-10T12:01:00Z", "extract"+suffix)
	cronWantLines(t, "extract done", got, []string{"prepare invoke/Manual@03-10T12:00:00 job=prepare" + suffix})
	if j := p.v.Job(testNS, "prepare"+suffix); j == nil || !j.GetStatus().GetManual() {
		t.Fatalf("prepare job %v", j)
	}
	p.v.failJob(testNS, "prepare"+suffix, now.Add(2*time.Minute))
	got, _ = p.step("2026-03-10T12:02:00Z", "prepare"+suffix)
	cronWantLines(t, "prepare failed", got, []string{"report skip/UpstreamFailed@03-10T12:00:00 job=report" + suffix})
	if p.v.Job(testNS, "report"+suffix) != nil {
		t.Error("the target ran after its upstream failed")
	}

	// A CronJob without upstreams: a plain trigger.
	_, job, err = p.c.TriggerWithUpstreams(p.v, testNS, "extract", "x-1", now)
	if err != nil || job.GetMetadata().GetName() != "x-1" {
		t.Errorf("no upstreams: %v %v", job, err)
	}
	if _, _, err := p.c.TriggerWithUpstreams(p.v, testNS, "nope", "", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
}

func TestPipelineWindowTick(t *testing.T) {
	for _, tc := range []struct{ expr, zone, at, want string }{
		{"0 1 * * *", "", "2026-03-10T02:00:00Z", "2026-03-10T01:00:00Z"},
		{"0 1 * * *", "", "2026-03-10T01:00:00Z", "2026-03-10T01:00:00Z"},
		{"0 1 * * *", "", "2026-03-10T00:59:00Z", "2026-03-09T01:00:00Z"},
		{"*/5 * * * *", "", "2026-03-10T02:07:00Z", "2026-03-10T02:05:00Z"},
		{"0 1 * * 1", "", "2026-03-10T02:00:00Z", "2026-03-09T01:00:00Z"}, // Monday
		{"0 1 * * *", "Europe/Berlin", "2026-03-10T02:00:00Z", "2026-03-10T00:00:00Z"},
		{"@every 90m", "", "2026-03-10T02:00:00Z", ""}, // @every has no fixed grid before its first run: checked below
	} {
		s, err := ParseSchedule(tc.expr, tc.zone)
		if err != nil {
			t.Fatal(err)
		}
		got := windowTick(s, cronAt(t, tc.at))
		if tc.want == "" {
			if got.IsZero() || got.After(cronAt(t, tc.at)) {
				t.Errorf("%s at %s: %v", tc.expr, tc.at, got)
			}
			continue
		}
		if !got.Equal(cronAt(t, tc.want)) {
			t.Errorf("%s (%s) at %s: %v, want %s", tc.expr, tc.zone, tc.at, got, tc.want)
		}
	}
}

func TestPipelineValidation(t *testing.T) {
	created := cronAt(t, "2026-03-09T12:00:00Z")
	for _, tc := range []struct {
		name string
		cj   *pb.CronJob
		want string
	}{
		{"self", newCronJob("report", "0 2 * * *", created, dependsOn("report")), "spec.dependsOn[0].cronJob: a CronJob cannot depend on itself"},
		{"within", newCronJob("report", "0 2 * * *", created, dependsOn("prepare:soon")), `spec.dependsOn[0].within: "soon" is not a duration`},
		{"negative", newCronJob("report", "0 2 * * *", created, dependsOn("prepare:-1h")), "spec.dependsOn[0].within: must be > 0"},
		{"twice", newCronJob("report", "0 2 * * *", created, dependsOn("prepare", "prepare")), `spec.dependsOn[1].cronJob: "prepare" is listed twice`},
		{"name", newCronJob("report", "0 2 * * *", created, dependsOn("Prepare")), "spec.dependsOn[0].cronJob"},
	} {
		err := ValidateCronJob(tc.cj)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}

	// The annotation form fills spec.dependsOn.
	cj := newCronJob("report", "0 2 * * *", created)
	cj.Metadata.Annotations = map[string]string{AnnotationDependsOn: "prepare-sales:2h, load-stock"}
	SetCronJobDefaults(cj)
	if err := ValidateCronJob(cj); err != nil {
		t.Fatal(err)
	}
	want := []*pb.CronJobDependency{{CronJob: "prepare-sales", Within: "2h"}, {CronJob: "load-stock"}}
	if len(cj.Spec.DependsOn) != 2 || !proto.Equal(cj.Spec.DependsOn[0], want[0]) || !proto.Equal(cj.Spec.DependsOn[1], want[1]) {
		t.Errorf("dependsOn from the annotation: %v", cj.Spec.DependsOn)
	}
	cj = newCronJob("report", "0 2 * * *", created, dependsOn("other"))
	cj.Metadata.Annotations = map[string]string{AnnotationDependsOn: "prepare-sales"}
	SetCronJobDefaults(cj)
	if err := ValidateCronJob(cj); err == nil || !strings.Contains(err.Error(), "metadata.annotations[raftcron.io/depends-on]: says \"prepare-sales\" but spec.dependsOn differs") {
		t.Errorf("annotation and spec differ: %v", err)
	}
	cj = newCronJob("report", "0 2 * * *", created)
	cj.Metadata.Annotations = map[string]string{AnnotationDependsOn: " , "}
	SetCronJobDefaults(cj)
	if err := ValidateCronJob(cj); err == nil || !strings.Contains(err.Error(), "names no CronJob") {
		t.Errorf("empty annotation: %v", err)
	}
}

// Without within a tick waits until the downstream's next tick: at that
// deadline it is skipped UpstreamNotReady, not superseded by the next tick
// (CatchUpPolicy), and the next tick starts waiting.
func TestPipelineDefaultWithinNotReady(t *testing.T) {
	created := cronAt(t, "2026-03-09T12:00:00Z")
	p := newPipeline(t,
		newCronJob("prepare", "0 1 * * *", created),
		newCronJob("report", "0 2 * * *", created, dependsOn("prepare")))
	p.step("2026-03-10T01:00:00Z")
	_, next := p.step("2026-03-10T02:00:00Z")
	if want := cronAt(t, "2026-03-11T01:00:00Z"); !next.Equal(want) {
		t.Fatalf("next = %v, want %v", next, want)
	}
	p.step("2026-03-11T01:00:00Z")
	got, _ := p.step("2026-03-11T02:00:00Z")
	cronWantLines(t, "next tick", got, []string{"report skip/UpstreamNotReady@03-10T02:00:00 job=" + jobAt(t, "report", "2026-03-10T02:00:00Z")})
	if w := p.cron("report").GetStatus().GetWaiting(); len(w) != 1 || !w[0].GetScheduledTime().AsTime().Equal(cronAt(t, "2026-03-11T02:00:00Z")) {
		t.Fatalf("waiting %v, want the tick at 2026-03-11T02:00:00Z", w)
	}

	// An old tick whose upstream succeeded runs, even when a newer tick
	// arrives in the same step (catchUp Latest).
	prep2 := jobAt(t, "prepare", "2026-03-11T01:00:00Z")
	p.v.finish(testNS, prep2, cronAt(t, "2026-03-11T03:00:00Z"))
	got, _ = p.step("2026-03-12T02:00:00Z", prep2)
	cronWantLines(t, "upstream done", got, []string{
		"report invoke/Scheduled@03-11T02:00:00 job=" + jobAt(t, "report", "2026-03-11T02:00:00Z"),
		"prepare invoke/CatchUp@03-12T01:00:00 job=" + jobAt(t, "prepare", "2026-03-12T01:00:00Z"),
	})
	if w := p.cron("report").GetStatus().GetWaiting(); len(w) != 1 || !w[0].GetScheduledTime().AsTime().Equal(cronAt(t, "2026-03-12T02:00:00Z")) {
		t.Fatalf("waiting %v, want the tick at 2026-03-12T02:00:00Z", w)
	}
}
