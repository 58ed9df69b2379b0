package scheduler

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

const testNS = "default"

// newCronJob returns a defaulted CronJob created at created.
func newCronJob(name, schedule string, created time.Time, mutate ...func(*pb.CronJobSpec)) *pb.CronJob {
	cj := &pb.CronJob{
		ApiVersion: "batch/v1",
		Kind:       "CronJob",
		Metadata:   &pb.ObjectMeta{Name: name, Namespace: testNS, CreationTimestamp: timestamppb.New(created)},
		Spec: &pb.CronJobSpec{
			Schedule:          schedule,
			ConcurrencyPolicy: ConcurrencyAllow,
			CatchUp:           CatchUpLatest,
			Suspend:           proto.Bool(false),
			JobTemplate: &pb.JobTemplateSpec{
				Metadata: &pb.ObjectMeta{Labels: map[string]string{"team": "data"}, Annotations: map[string]string{"owner": "ops"}},
				Spec: &pb.JobSpec{
					BackoffLimit: proto.Int32(6),
					Template: &pb.PodTemplateSpec{Spec: &pb.PodSpec{
						RestartPolicy: "Never",
						Containers:    []*pb.Container{{Name: "main", Image: "busybox", Command: []string{"true"}}},
					}},
				},
			},
		},
		Status: &pb.CronJobStatus{},
	}
	for _, m := range mutate {
		m(cj.Spec)
	}
	return cj
}

func cronAt(t *testing.T, s string) time.Time { return schedTime(t, s) }

// tick runs one Tick and applies its commands.
func cronTick(v *cronFakeView, c *CronController, now time.Time) ([]*pb.Command, time.Time) {
	cmds, next := c.Tick(v, now)
	v.apply(cmds)
	return cmds, next
}

// cronDecisionsOf summarises decisions as "invoke/Scheduled@10:05 job=x" lines.
func cronDecisionsOf(ds []*pb.ScheduleDecision) []string {
	var out []string
	for _, d := range ds {
		s := fmt.Sprintf("%s/%s@%s", d.GetDecision(), d.GetReason(), d.GetScheduledTime().AsTime().UTC().Format("01-02T15:04:05"))
		if d.GetCount() > 1 || d.GetCount() == 0 && d.GetFirstScheduledTime() != nil {
			s += fmt.Sprintf(" x%d from %s", d.GetCount(), d.GetFirstScheduledTime().AsTime().UTC().Format("01-02T15:04:05"))
		}
		if d.GetJob() != "" {
			s += " job=" + d.GetJob()
		}
		out = append(out, s)
	}
	return out
}

func cronDecisionsIn(cmds []*pb.Command) []*pb.ScheduleDecision {
	var out []*pb.ScheduleDecision
	for _, c := range cmds {
		if u := c.GetUpdateCronJobStatus(); u != nil {
			out = append(out, u.GetDecisions()...)
		}
	}
	return out
}

func cronJobsIn(cmds []*pb.Command) []*pb.Job {
	var out []*pb.Job
	for _, c := range cmds {
		out = append(out, c.GetCreateJobs().GetJobs()...)
	}
	return out
}

func cronWantLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestCronScheduledOnTimeBuildsTheJob(t *testing.T) {
	created := cronAt(t, "2026-11-23T10:00:00Z")
	cj := newCronJob("report", "*/5 * * * *", created, func(s *pb.CronJobSpec) { s.TimeZone = proto.String("Europe/Berlin") })
	v := newCronFakeView(cj)
	c := NewCronController(CronOptions{}, nil)

	cmds, next := cronTick(v, c, cronAt(t, "2026-11-23T10:02:00Z"))
	if len(cmds) != 0 || !next.Equal(cronAt(t, "2026-11-23T10:05:00Z")) {
		t.Fatalf("before the first tick: cmds %v, next %v; want none and 10:05", cmds, next)
	}
	now := cronAt(t, "2026-11-23T10:05:00.2Z")
	cmds, next = cronTick(v, c, now)
	if !next.Equal(cronAt(t, "2026-11-23T10:10:00Z")) {
		t.Errorf("next = %v, want 10:10", next)
	}
	cronWantLines(t, "decisions", cronDecisionsOf(cronDecisionsIn(cmds)), []string{"invoke/Scheduled@11-23T10:05:00 job=report-29923805"})
	jobs := cronJobsIn(cmds)
	if len(jobs) != 1 {
		t.Fatalf("jobs = %d, want 1", len(jobs))
	}
	j := jobs[0]
	if j.GetMetadata().GetName() != "report-29923805" || j.GetMetadata().GetNamespace() != testNS {
		t.Errorf("job %s/%s", j.GetMetadata().GetNamespace(), j.GetMetadata().GetName())
	}
	if got := j.GetMetadata().GetLabels(); got[LabelCronJob] != "report" || got["team"] != "data" {
		t.Errorf("labels = %v", got)
	}
	if got := j.GetMetadata().GetAnnotations(); got[AnnotationScheduledTimestamp] != "2026-11-23T11:05:00+01:00" || got["owner"] != "ops" {
		t.Errorf("annotations = %v", got)
	}
	if !j.GetMetadata().GetCreationTimestamp().AsTime().Equal(now) {
		t.Errorf("creation = %v", j.GetMetadata().GetCreationTimestamp().AsTime())
	}
	if j.GetStatus().GetCronJob() != "report" || !j.GetStatus().GetScheduledTime().AsTime().Equal(cronAt(t, "2026-11-23T10:05:00Z")) || j.GetStatus().GetManual() {
		t.Errorf("status = %v", j.GetStatus())
	}
	if !proto.Equal(j.GetSpec(), cj.GetSpec().GetJobTemplate().GetSpec()) || j.GetSpec() == cj.GetSpec().GetJobTemplate().GetSpec() {
		t.Error("job spec is not a clone of the template")
	}
	if got := v.cronJobs[fvKey(testNS, "report")].GetStatus().GetLastScheduleTime().AsTime(); !got.Equal(cronAt(t, "2026-11-23T10:05:00Z")) {
		t.Errorf("lastScheduleTime = %v", got)
	}
	// The same moment again decides nothing twice.
	if cmds, _ := cronTick(v, c, now); len(cmds) != 0 {
		t.Errorf("second tick at the same time: %v", cmds)
	}
}

func TestCronConcurrencyPolicies(t *testing.T) {
	created := cronAt(t, "2026-11-23T10:00:00Z")
	for _, tc := range []struct {
		policy    string
		decisions []string
		jobs      int
	}{
		{ConcurrencyAllow, []string{"invoke/Scheduled@11-23T10:02:00 job=c-29923802"}, 1},
		{ConcurrencyForbid, []string{"skip/ConcurrencyPolicy@11-23T10:02:00 job=c-29923801"}, 0},
		{ConcurrencyReplace, []string{"invoke/Scheduled@11-23T10:02:00 job=c-29923802"}, 1},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			v := newCronFakeView(newCronJob("c", "* * * * *", created, func(s *pb.CronJobSpec) { s.ConcurrencyPolicy = tc.policy }))
			c := NewCronController(CronOptions{}, nil)
			cronTick(v, c, cronAt(t, "2026-11-23T10:01:00Z"))
			first := v.Job(testNS, "c-29923801")
			if first == nil {
				t.Fatal("first tick made no job")
			}
			// The first Job is running.
			running := proto.Clone(first).(*pb.Job)
			running.Status.Active = 1
			running.Status.StartTime = timestamppb.New(cronAt(t, "2026-11-23T10:01:03Z"))
			v.jobs[fvKey(testNS, "c-29923801")] = running

			now := cronAt(t, "2026-11-23T10:02:00Z")
			cmds, _ := cronTick(v, c, now)
			cronWantLines(t, "decisions", cronDecisionsOf(cronDecisionsIn(cmds)), tc.decisions)
			if got := len(cronJobsIn(cmds)); got != tc.jobs {
				t.Errorf("jobs created = %d, want %d", got, tc.jobs)
			}
			old := v.Job(testNS, "c-29923801")
			switch tc.policy {
			case ConcurrencyForbid:
				d := cronDecisionsIn(cmds)[0]
				if !strings.Contains(d.GetMessage(), "c-29923801") {
					t.Errorf("Forbid message %q does not name the blocking job", d.GetMessage())
				}
				// Once it finishes, the next tick runs.
				v.finish(testNS, "c-29923801", cronAt(t, "2026-11-23T10:02:30Z"))
				cmds, _ = cronTick(v, c, cronAt(t, "2026-11-23T10:03:00Z"))
				cronWantLines(t, "after finish", cronDecisionsOf(cronDecisionsIn(cmds)), []string{"invoke/Scheduled@11-23T10:03:00 job=c-29923803"})
			case ConcurrencyReplace:
				cond := old.GetStatus().GetConditions()
				if len(cond) != 1 || cond[0].GetType() != "Failed" || cond[0].GetStatus() != "True" || cond[0].GetReason() != "Replaced" ||
					cond[0].GetMessage() != "replaced by job c-29923802" {
					t.Errorf("replaced job conditions = %v", cond)
				}
				if !old.GetStatus().GetCompletionTime().AsTime().Equal(now) || old.GetStatus().GetActive() != 1 ||
					old.GetStatus().GetStartTime() == nil || old.GetStatus().GetCronJob() != "c" {
					t.Errorf("replaced job status lost fields: %v", old.GetStatus())
				}
				if r := old.GetStatus().GetResult(); r.GetReason() != ReasonReplaced || r.GetMessage() != "replaced by job c-29923802" ||
					r.GetAttempt() != "" || !r.GetFinishTime().AsTime().Equal(now) {
					t.Errorf("replaced job result = %v", r)
				}
			default:
				if cronJobDone(old) {
					t.Error("Allow touched the running job")
				}
			}
		})
	}
}

// Issue 10 (6): startingDeadlineSeconds 0 (or any value below the 5s grace
// catchUp None also gets) does not make every tick miss when the leader
// wakes a moment late; a tick later than the grace still misses it.
func TestCronStartingDeadlineBelowTheGrace(t *testing.T) {
	created := cronAt(t, "2026-11-23T09:00:00Z")
	for _, tc := range []struct {
		deadline int32
		late     time.Duration
		want     []string
	}{
		{0, time.Millisecond, []string{"invoke/Scheduled@11-23T10:00:00 job=h-29923800"}},
		{0, 5 * time.Second, []string{"invoke/Scheduled@11-23T10:00:00 job=h-29923800"}},
		{0, 6 * time.Second, []string{"skip/MissedDeadline@11-23T10:00:00"}},
		{3, 4 * time.Second, []string{"invoke/Scheduled@11-23T10:00:00 job=h-29923800"}},
		{10, 8 * time.Second, []string{"invoke/CatchUp@11-23T10:00:00 job=h-29923800"}},
		{10, 11 * time.Second, []string{"skip/MissedDeadline@11-23T10:00:00"}},
	} {
		v := newCronFakeView(newCronJob("h", "0 * * * *", created, func(s *pb.CronJobSpec) {
			s.StartingDeadlineSeconds = proto.Int32(tc.deadline)
		}))
		v.cronJobs[fvKey(testNS, "h")].Status.LastScheduleTime = timestamppb.New(cronAt(t, "2026-11-23T09:00:00Z"))
		c := NewCronController(CronOptions{}, nil)
		cmds, _ := cronTick(v, c, cronAt(t, "2026-11-23T10:00:00Z").Add(tc.late))
		cronWantLines(t, fmt.Sprintf("deadline %d, %v late", tc.deadline, tc.late), cronDecisionsOf(cronDecisionsIn(cmds)), tc.want)
	}
}

func TestCronStartingDeadline(t *testing.T) {
	created := cronAt(t, "2026-11-23T09:00:00Z")
	for _, tc := range []struct {
		deadline int32
		want     []string
	}{
		{60, []string{"skip/MissedDeadline@11-23T10:00:00"}},
		{300, []string{"invoke/CatchUp@11-23T10:00:00 job=h-29923800"}},
	} {
		v := newCronFakeView(newCronJob("h", "0 * * * *", created, func(s *pb.CronJobSpec) {
			s.StartingDeadlineSeconds = proto.Int32(tc.deadline)
			s.CatchUp = CatchUpAll
		}))
		v.cronJobs[fvKey(testNS, "h")].Status.LastScheduleTime = timestamppb.New(cronAt(t, "2026-11-23T09:00:00Z"))
		c := NewCronController(CronOptions{}, nil)
		// The leader comes back two minutes after the 10:00 tick.
		cmds, next := cronTick(v, c, cronAt(t, "2026-11-23T10:02:00Z"))
		cronWantLines(t, fmt.Sprintf("deadline %d", tc.deadline), cronDecisionsOf(cronDecisionsIn(cmds)), tc.want)
		if !next.Equal(cronAt(t, "2026-11-23T11:00:00Z")) {
			t.Errorf("next = %v", next)
		}
		if got := v.cronJobs[fvKey(testNS, "h")].GetStatus().GetLastScheduleTime().AsTime(); !got.Equal(cronAt(t, "2026-11-23T10:00:00Z")) {
			t.Errorf("lastScheduleTime = %v: a missed tick must still be accounted for", got)
		}
	}
}

func TestCronSuspendAndResumeWithoutStorm(t *testing.T) {
	created := cronAt(t, "2026-11-23T10:00:00Z")
	v := newCronFakeView(newCronJob("s", "* * * * *", created, func(s *pb.CronJobSpec) { s.Suspend = proto.Bool(true) }))
	c := NewCronController(CronOptions{}, nil)
	now := created
	var got []string
	for i := 0; i < 3; i++ {
		cmds, next := cronTick(v, c, now)
		got = append(got, cronDecisionsOf(cronDecisionsIn(cmds))...)
		now = next
	}
	// The leader is down from 10:03 to 11:00: one aggregated decision.
	cmds, _ := cronTick(v, c, cronAt(t, "2026-11-23T11:00:00Z"))
	got = append(got, cronDecisionsOf(cronDecisionsIn(cmds))...)
	cronWantLines(t, "suspended", got, []string{
		"skip/Suspended@11-23T10:01:00",
		"skip/Suspended@11-23T10:02:00",
		"skip/Suspended@11-23T11:00:00 x58 from 11-23T10:03:00",
	})
	if n := len(v.jobs); n != 0 {
		t.Errorf("%d jobs while suspended", n)
	}
	// Resume at 11:00:30: the next tick runs, and nothing from the suspended hour.
	v.setSuspend(testNS, "s", false)
	cmds, next := cronTick(v, c, cronAt(t, "2026-11-23T11:00:30Z"))
	if len(cmds) != 0 || !next.Equal(cronAt(t, "2026-11-23T11:01:00Z")) {
		t.Fatalf("on resume: %v, next %v", cronDecisionsOf(cronDecisionsIn(cmds)), next)
	}
	cmds, _ = cronTick(v, c, next)
	cronWantLines(t, "resumed", cronDecisionsOf(cronDecisionsIn(cmds)), []string{"invoke/Scheduled@11-23T11:01:00 job=s-29923861"})
}

func TestCronCatchUp(t *testing.T) {
	created := cronAt(t, "2026-11-23T09:00:00Z")
	last := cronAt(t, "2026-11-23T10:00:00Z")
	cases := []struct {
		name    string
		catchUp string
		limit   *int32
		now     string
		want    []string
	}{
		{"Latest runs the most recent", CatchUpLatest, nil, "2026-11-23T10:10:30Z", []string{
			"skip/CatchUpPolicy@11-23T10:09:00 x9 from 11-23T10:01:00",
			"invoke/CatchUp@11-23T10:10:00 job=m-29923810",
		}},
		{"Latest on time", CatchUpLatest, nil, "2026-11-23T10:03:00Z", []string{
			"skip/CatchUpPolicy@11-23T10:02:00 x2 from 11-23T10:01:00",
			"invoke/Scheduled@11-23T10:03:00 job=m-29923803",
		}},
		{"All runs every tick oldest first", CatchUpAll, nil, "2026-11-23T10:03:30Z", []string{
			"invoke/CatchUp@11-23T10:01:00 job=m-29923801",
			"invoke/CatchUp@11-23T10:02:00 job=m-29923802",
			"invoke/CatchUp@11-23T10:03:00 job=m-29923803",
		}},
		{"All stops at catchUpLimit", CatchUpAll, proto.Int32(3), "2026-11-23T10:10:30Z", []string{
			"invoke/CatchUp@11-23T10:01:00 job=m-29923801",
			"invoke/CatchUp@11-23T10:02:00 job=m-29923802",
			"invoke/CatchUp@11-23T10:03:00 job=m-29923803",
			"skip/CatchUpPolicy@11-23T10:10:00 x7 from 11-23T10:04:00",
		}},
		{"All limit spares the on-time tick", CatchUpAll, proto.Int32(1), "2026-11-23T10:03:00Z", []string{
			"invoke/CatchUp@11-23T10:01:00 job=m-29923801",
			"skip/CatchUpPolicy@11-23T10:02:00",
			"invoke/Scheduled@11-23T10:03:00 job=m-29923803",
		}},
		{"None skips the late and runs the current", CatchUpNone, nil, "2026-11-23T10:05:02Z", []string{
			"skip/CatchUpPolicy@11-23T10:04:00 x4 from 11-23T10:01:00",
			"invoke/Scheduled@11-23T10:05:00 job=m-29923805",
		}},
		{"None skips a current tick handled late", CatchUpNone, nil, "2026-11-23T10:05:30Z", []string{
			"skip/CatchUpPolicy@11-23T10:05:00 x5 from 11-23T10:01:00",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cj := newCronJob("m", "* * * * *", created, func(s *pb.CronJobSpec) { s.CatchUp = tc.catchUp; s.CatchUpLimit = tc.limit })
			cj.Status.LastScheduleTime = timestamppb.New(last)
			v := newCronFakeView(cj)
			c := NewCronController(CronOptions{}, nil)
			cmds, _ := cronTick(v, c, cronAt(t, tc.now))
			cronWantLines(t, "decisions", cronDecisionsOf(cronDecisionsIn(cmds)), tc.want)
			invokes := 0
			for _, d := range cronDecisionsIn(cmds) {
				if d.GetDecision() == DecisionInvoke {
					invokes++
				}
			}
			if len(v.jobs) != invokes {
				t.Errorf("%d jobs for %d invoke decisions", len(v.jobs), invokes)
			}
		})
	}
}

func TestCronBrokenCronJobDoesNotStopOthers(t *testing.T) {
	created := cronAt(t, "2026-11-23T10:00:00Z")
	// A schedule that slipped past validation (say, from an older version).
	v := newCronFakeView(
		newCronJob("a-broken", "every tuesday", created),
		newCronJob("b-good", "* * * * *", created),
	)
	c := NewCronController(CronOptions{}, nil)
	cmds, next := cronTick(v, c, cronAt(t, "2026-11-23T10:01:00Z"))
	got := map[string][]string{}
	for _, cmd := range cmds {
		if u := cmd.GetUpdateCronJobStatus(); u != nil {
			got[u.GetName()] = cronDecisionsOf(u.GetDecisions())
		}
	}
	cronWantLines(t, "broken", got["a-broken"], []string{"skip/Error@11-23T10:01:00"})
	cronWantLines(t, "good", got["b-good"], []string{"invoke/Scheduled@11-23T10:01:00 job=b-good-29923801"})
	if msg := v.cronJobs[fvKey(testNS, "a-broken")].GetStatus().GetDecisions()[0].GetMessage(); !strings.Contains(msg, `schedule "every tuesday"`) {
		t.Errorf("error decision message %q", msg)
	}
	if !next.Equal(cronAt(t, "2026-11-23T10:02:00Z")) {
		t.Errorf("next = %v", next)
	}
	// The error is recorded once, also by a new leader.
	for _, c := range []*CronController{c, NewCronController(CronOptions{}, nil)} {
		c.Rebuild(v)
		cmds, _ = cronTick(v, c, cronAt(t, "2026-11-23T10:02:00Z"))
		for _, cmd := range cmds {
			if u := cmd.GetUpdateCronJobStatus(); u != nil && u.GetName() == "a-broken" {
				t.Errorf("error recorded again: %v", cronDecisionsOf(u.GetDecisions()))
			}
		}
	}
}

func TestCronHeapTouchesOnlyDueCronJobs(t *testing.T) {
	created := cronAt(t, "2026-11-23T10:00:00Z")
	v := newCronFakeView()
	for i := 0; i < 1000; i++ {
		v.putCronJob(newCronJob(fmt.Sprintf("yearly-%04d", i), "@yearly", created))
	}
	v.putCronJob(newCronJob("minutely", "* * * * *", created))
	c := NewCronController(CronOptions{}, nil)
	c.Rebuild(v)
	scans := v.cronJobsCalls
	now := created
	for i := 0; i < 10; i++ {
		v.cronJobCalls = 0
		cmds, next := cronTick(v, c, now.Add(time.Minute))
		if i > 0 && v.cronJobCalls != 1 {
			t.Fatalf("tick %d looked up %d CronJobs, want only the due one", i, v.cronJobCalls)
		}
		if i > 0 && len(cronJobsIn(cmds)) != 1 {
			t.Fatalf("tick %d: %d jobs", i, len(cronJobsIn(cmds)))
		}
		now = next.Add(-time.Minute)
	}
	if v.cronJobsCalls != scans {
		t.Errorf("CronJobs() scanned %d more times without a version change", v.cronJobsCalls-scans)
	}
	// A new CronJob is a version change: one rescan, and it is scheduled.
	v.putCronJob(newCronJob("new", "*/2 * * * *", now))
	cronTick(v, c, now)
	if v.cronJobsCalls != scans+1 {
		t.Errorf("no rescan after a CronJob was added")
	}
	if _, ok := c.entries[fvKey(testNS, "new")]; !ok {
		t.Error("new CronJob not in the heap")
	}
	delete(v.cronJobs, fvKey(testNS, "new"))
	v.version++
	cronTick(v, c, now)
	if _, ok := c.entries[fvKey(testNS, "new")]; ok {
		t.Error("deleted CronJob still in the heap")
	}
}

func TestCronLongDowntimeJumpsForward(t *testing.T) {
	created := cronAt(t, "2026-11-01T00:00:00Z")
	cj := newCronJob("sec", "* * * * * *", created)
	cj.Status.LastScheduleTime = timestamppb.New(cronAt(t, "2026-11-16T00:00:00Z"))
	v := newCronFakeView(cj)
	c := NewCronController(CronOptions{MaxTicksExamined: 1000}, nil)
	// A week of an every-second schedule: 604800 ticks.
	now := cronAt(t, "2026-11-23T00:00:00.5Z")
	cmds, next := cronTick(v, c, now)
	got := cronDecisionsOf(cronDecisionsIn(cmds))
	cronWantLines(t, "decisions", got, []string{
		"skip/CatchUpPolicy@11-16T00:16:40 x1000 from 11-16T00:00:01",
		"skip/CatchUpPolicy@11-22T23:59:00 x0 from 11-16T00:16:41",
		"skip/CatchUpPolicy@11-22T23:59:59 x59 from 11-22T23:59:01",
		"invoke/Scheduled@11-23T00:00:00 job=sec-1795392000",
	})
	if !next.Equal(cronAt(t, "2026-11-23T00:00:01Z")) {
		t.Errorf("next = %v", next)
	}
	if n := len(v.jobs); n != 1 {
		t.Errorf("jobs = %d, want 1", n)
	}
}

func TestCronTrigger(t *testing.T) {
	created := cronAt(t, "2026-11-23T10:00:00Z")
	v := newCronFakeView(newCronJob("nightly", "0 3 * * *", created, func(s *pb.CronJobSpec) { s.ConcurrencyPolicy = ConcurrencyForbid }))
	c := NewCronController(CronOptions{}, nil)
	now := cronAt(t, "2026-11-23T12:34:56Z")

	if _, _, err := c.Trigger(v, testNS, "missing", "", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing cronjob: err = %v, want ErrNotFound", err)
	}
	cmds, job, err := c.Trigger(v, testNS, "nightly", "", now)
	if err != nil {
		t.Fatal(err)
	}
	v.apply(cmds)
	if job.GetMetadata().GetName() != "nightly-manual-1795437296" || !job.GetStatus().GetManual() || job.GetStatus().GetCronJob() != "nightly" {
		t.Errorf("job = %v", job)
	}
	cronWantLines(t, "decision", cronDecisionsOf(cronDecisionsIn(cmds)), []string{"invoke/Manual@11-23T12:34:56 job=nightly-manual-1795437296"})
	if v.Job(testNS, "nightly-manual-1795437296") == nil {
		t.Error("job not created")
	}
	if v.cronJobs[fvKey(testNS, "nightly")].GetStatus().GetLastScheduleTime() != nil {
		t.Error("a manual run moved lastScheduleTime")
	}
	// A long CronJob name still gives a valid default Job name.
	long := strings.Repeat("a", 51) + "-b"
	if _, job, err := c.Trigger(newCronFakeView(newCronJob(long, "0 3 * * *", created)), testNS, long, "", now); err != nil || len(job.GetMetadata().GetName()) > 63 ||
		job.GetMetadata().GetName() != strings.Repeat("a", 45)+"-manual-1795437296" {
		t.Errorf("long name: %v, %q", err, job.GetMetadata().GetName())
	}
	// A named run; the same name again is refused.
	if _, _, err := c.Trigger(v, testNS, "nightly", "nightly-rerun", now); err != nil {
		t.Errorf("named trigger: %v", err)
	}
	if _, _, err := c.Trigger(v, testNS, "nightly", "nightly-manual-1795437296", now); !errors.Is(err, ErrAlreadyExists) || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("duplicate name: err = %v", err)
	}
	if _, _, err := c.Trigger(v, testNS, "nightly", "Bad_Name", now); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad name: err = %v", err)
	}
	// The manual Job counts for Forbid: the 03:00 tick is skipped while it runs.
	cmds, _ = cronTick(v, c, cronAt(t, "2026-11-24T03:00:00Z"))
	cronWantLines(t, "forbid after manual", cronDecisionsOf(cronDecisionsIn(cmds)), []string{
		"skip/ConcurrencyPolicy@11-24T03:00:00 job=nightly-manual-1795437296",
	})
}

func TestCronDSTFallBackRunsOnce(t *testing.T) {
	// Kubernetes #121594: a Europe/Berlin 02:00 job ran twice on 2023-10-29.
	created := cronAt(t, "2026-10-24T12:00:00Z")
	v := newCronFakeView(newCronJob("b", "0 2 * * *", created, func(s *pb.CronJobSpec) { s.TimeZone = proto.String("Europe/Berlin") }))
	c := NewCronController(CronOptions{}, nil)
	now := created
	for now.Before(cronAt(t, "2026-10-26T12:00:00Z")) {
		_, next := cronTick(v, c, now)
		now = next
	}
	var names []string
	for _, j := range v.JobsOfCronJob(testNS, "b") {
		names = append(names, j.GetMetadata().GetAnnotations()[AnnotationScheduledTimestamp])
	}
	cronWantLines(t, "runs", names, []string{"2026-10-25T02:00:00+02:00", "2026-10-26T02:00:00+01:00"})
}

// TestCronDSTRepeatedHourOnTheClock: an hourly schedule in New York runs at
// 01:00 EDT and again at 01:00 EST on 2026-11-01, on time and in a catch-up
// alike, and the two Jobs have different names (their instants differ).
func TestCronDSTRepeatedHourOnTheClock(t *testing.T) {
	const ny = "America/New_York"
	created := cronAt(t, "2026-11-01T04:30:00Z") // 00:30 EDT
	want := []string{"2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00"}
	wantNames := []string{"h-29891820", "h-29891880", "h-29891940"}
	annotations := func(v *cronFakeView) (ann, names []string) {
		for _, j := range v.JobsOfCronJob(testNS, "h") {
			ann = append(ann, j.GetMetadata().GetAnnotations()[AnnotationScheduledTimestamp])
			names = append(names, j.GetMetadata().GetName())
		}
		return ann, names
	}

	// On time: the controller wakes at each fire time.
	v := newCronFakeView(newCronJob("h", "0 * * * *", created, func(s *pb.CronJobSpec) { s.TimeZone = proto.String(ny) }))
	c := NewCronController(CronOptions{}, nil)
	var wakes []string
	for now := created; now.Before(cronAt(t, "2026-11-01T07:30:00Z")); {
		_, next := cronTick(v, c, now)
		wakes = append(wakes, next.UTC().Format(time.RFC3339))
		now = next
	}
	cronWantLines(t, "wake-ups", wakes, []string{"2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z", "2026-11-01T07:00:00Z", "2026-11-01T08:00:00Z"})
	ann, names := annotations(v)
	cronWantLines(t, "on-time runs", ann, want)
	cronWantLines(t, "on-time names", names, wantNames)

	// Catch-up after the leader was away for the whole night: one Job per tick.
	v = newCronFakeView(newCronJob("h", "0 * * * *", created, func(s *pb.CronJobSpec) {
		s.TimeZone = proto.String(ny)
		s.CatchUp = CatchUpAll
	}))
	cmds, _ := cronTick(v, NewCronController(CronOptions{}, nil), cronAt(t, "2026-11-01T07:10:00Z"))
	cronWantLines(t, "catch-up decisions", cronDecisionsOf(cronDecisionsIn(cmds)), []string{
		"invoke/CatchUp@11-01T05:00:00 job=h-29891820",
		"invoke/CatchUp@11-01T06:00:00 job=h-29891880",
		"invoke/CatchUp@11-01T07:00:00 job=h-29891940",
	})
	ann, names = annotations(v)
	cronWantLines(t, "catch-up runs", ann, want)
	cronWantLines(t, "catch-up names", names, wantNames)

	// A fixed time in the same zone still runs once.
	v = newCronFakeView(newCronJob("f", "30 1 * * *", created, func(s *pb.CronJobSpec) {
		s.TimeZone = proto.String(ny)
		s.CatchUp = CatchUpAll
	}))
	cmds, _ = cronTick(v, NewCronController(CronOptions{}, nil), cronAt(t, "2026-11-01T07:10:00Z"))
	cronWantLines(t, "fixed time", cronDecisionsOf(cronDecisionsIn(cmds)), []string{"invoke/CatchUp@11-01T05:30:00 job=f-29891850"})
}

// TestCronHashedSchedules: the controller resolves H from each CronJob's
// namespace and name, so two CronJobs with "H * * * *" run at their own
// minutes, the ones describe and schedule next show.
func TestCronHashedSchedules(t *testing.T) {
	created := cronAt(t, "2026-11-23T10:00:00Z")
	v := newCronFakeView(newCronJob("a", "H * * * *", created), newCronJob("b", "H * * * *", created))
	c := NewCronController(CronOptions{}, nil)
	for now := created; now.Before(cronAt(t, "2026-11-23T12:00:00Z")); {
		_, next := cronTick(v, c, now)
		now = next
	}
	for _, name := range []string{"a", "b"} {
		s, err := ParseCronJobSchedule("H * * * *", "", testNS, name)
		if err != nil {
			t.Fatal(err)
		}
		var m int
		if _, err := fmt.Sscanf(s.Resolved(), "%d * * * *", &m); err != nil {
			t.Fatalf("resolved %q: %v", s.Resolved(), err)
		}
		var got []string
		for _, j := range v.JobsOfCronJob(testNS, name) {
			got = append(got, j.GetStatus().GetScheduledTime().AsTime().Format("15:04"))
		}
		cronWantLines(t, name+" runs", got, []string{fmt.Sprintf("10:%02d", m), fmt.Sprintf("11:%02d", m)})
	}
	// The Simulate of the same CronJob agrees.
	ds, err := Simulate(SimulateInput{Schedule: "H * * * *", Namespace: testNS, Name: "a", Created: created,
		Now: cronAt(t, "2026-11-23T12:00:00Z"), CatchUp: CatchUpAll})
	if err != nil {
		t.Fatal(err)
	}
	var jobs []string
	for _, j := range v.JobsOfCronJob(testNS, "a") {
		jobs = append(jobs, j.GetMetadata().GetName())
	}
	var simulated []string
	for _, d := range ds {
		simulated = append(simulated, d.GetJob())
	}
	cronWantLines(t, "simulated jobs", simulated, jobs)
}

// Issue 10 (7): a leader whose clock jumped a year ahead and came back left
// lastScheduleTime in the bogus future; the next leader (or the same one)
// rewinds it, records why, and the CronJob runs again at its next tick,
// without being recreated.
func TestCronRecoversFromAClockThatJumpedForwardAndBack(t *testing.T) {
	created := cronAt(t, "2026-11-23T09:00:00Z")
	v := newCronFakeView(newCronJob("m", "* * * * *", created))
	c := NewCronController(CronOptions{}, nil)
	cronTick(v, c, cronAt(t, "2026-11-23T10:00:00Z"))
	// The clock jumps a year ahead for one step: the bogus tick is decided.
	cronTick(v, c, cronAt(t, "2027-11-23T10:00:00Z"))
	if got := v.cronJobs[fvKey(testNS, "m")].GetStatus().GetLastScheduleTime().AsTime(); got.Year() != 2027 {
		t.Fatalf("setup: lastScheduleTime = %v, want the bogus 2027 tick", got)
	}
	// The clock is back: the same controller, then a new one (a failover)
	// over a copy of the bogus state.
	bogus := proto.Clone(v.cronJobs[fvKey(testNS, "m")]).(*pb.CronJob)
	for i, ctl := range []*CronController{c, NewCronController(CronOptions{}, nil)} {
		if i == 1 {
			v = newCronFakeView(bogus)
		}
		now := cronAt(t, "2026-11-23T10:00:30Z")
		cmds, next := cronTick(v, ctl, now)
		ds := cronDecisionsIn(cmds)
		if len(ds) != 1 || ds[0].GetReason() != SkipClockJump || !strings.Contains(ds[0].GetMessage(), "2027-11-23T10:00:00Z") {
			t.Fatalf("decisions after the clock came back = %v, want one skip ClockJump naming the bogus time", cronDecisionsOf(ds))
		}
		if got := v.cronJobs[fvKey(testNS, "m")].GetStatus().GetLastScheduleTime().AsTime(); !got.Equal(now) {
			t.Fatalf("lastScheduleTime after the rewind = %v, want %v", got, now)
		}
		if !next.Equal(cronAt(t, "2026-11-23T10:01:00Z")) {
			t.Fatalf("next = %v, want the next real tick", next)
		}
		cmds, _ = cronTick(v, ctl, cronAt(t, "2026-11-23T10:01:00Z"))
		cronWantLines(t, "the next tick", cronDecisionsOf(cronDecisionsIn(cmds)), []string{"invoke/Scheduled@11-23T10:01:00 job=m-29923801"})
	}
}

func TestCronJobsWithOneScheduleShareItsParse(t *testing.T) {
	c := NewCronController(CronOptions{}, nil)
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	inBerlin := func(s *pb.CronJobSpec) { s.TimeZone = proto.String("Europe/Berlin") }
	a, err := c.parseShared(newCronJob("a", "0 3 * * *", created, inBerlin))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := c.parseShared(newCronJob("b", "0 3 * * *", created, inBerlin))
	if a != b {
		t.Error("two CronJobs with the same schedule and zone got two parsed schedules")
	}
	if u, _ := c.parseShared(newCronJob("u", "0 3 * * *", created)); u == a {
		t.Error("a CronJob in UTC shares the parse of one in Europe/Berlin")
	}
	h1, _ := c.parseShared(newCronJob("h1", "H 3 * * *", created))
	h2, _ := c.parseShared(newCronJob("h2", "H 3 * * *", created))
	if h1 == h2 {
		t.Error("schedules with H share a parse, but H takes its values from each CronJob's name")
	}
	if z, _ := c.parseShared(newCronJob("h3", "H 3 * * *", created, inBerlin)); z.Location() != a.Location() {
		t.Error("Europe/Berlin was loaded twice")
	}
}
