package scheduler

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"google.golang.org/protobuf/proto"
)

// jobsCreated lists the Jobs the commands create, as "name@scheduled created".
func jobsCreated(cmds []*pb.Command) []*pb.Job {
	var out []*pb.Job
	for _, c := range cmds {
		out = append(out, c.GetCreateJobs().GetJobs()...)
	}
	return out
}

// With DispatchAhead, a tick of an Allow CronJob is decided that long before
// it comes: its Job is created then (and starts at the tick: see RunSpecFor),
// exactly once, and the controller next wakes DispatchAhead before the
// following tick.
func TestCronDecidesTicksAhead(t *testing.T) {
	created := cronAt(t, "2026-11-23T10:00:00Z")
	v := newCronFakeView(newCronJob("every", "* * * * *", created))
	c := NewCronController(CronOptions{DispatchAhead: 500 * time.Millisecond}, nil)

	cmds, next := cronTick(v, c, created.Add(30*time.Second))
	if len(cmds) != 0 {
		t.Fatalf("at 10:00:30 the controller decided %v; want nothing", cronDecisionsOf(cronDecisionsIn(cmds)))
	}
	if want := cronAt(t, "2026-11-23T10:00:59.5Z"); !next.Equal(want) {
		t.Fatalf("next wake %v, want %v (half a second before the 10:01 tick)", next, want)
	}
	decideAt := next
	cmds, next = cronTick(v, c, decideAt)
	jobs := jobsCreated(cmds)
	if len(jobs) != 1 {
		t.Fatalf("half a second before 10:01 the controller created %d Jobs; want 1", len(jobs))
	}
	j := jobs[0]
	tick := cronAt(t, "2026-11-23T10:01:00Z")
	if got := j.GetStatus().GetScheduledTime().AsTime(); !got.Equal(tick) {
		t.Errorf("Job scheduled for %v, want %v", got, tick)
	}
	if got := j.GetMetadata().GetCreationTimestamp().AsTime(); !got.Equal(decideAt) {
		t.Errorf("Job created at %v, want the time it was decided, %v", got, decideAt)
	}
	ds := cronDecisionsIn(cmds)
	if len(ds) != 1 || ds[0].GetDecision() != DecisionInvoke || ds[0].GetReason() != InvokeScheduled || !ds[0].GetDecidedTime().AsTime().Equal(decideAt) {
		t.Errorf("decisions %v (decided %v); want one invoke Scheduled at 10:01 decided at %v", cronDecisionsOf(ds), ds, decideAt)
	}
	if want := cronAt(t, "2026-11-23T10:01:59.5Z"); !next.Equal(want) {
		t.Errorf("next wake %v, want %v", next, want)
	}
	// The tick itself, and the moments around it, decide nothing more.
	for _, at := range []string{"2026-11-23T10:00:59.7Z", "2026-11-23T10:01:00Z", "2026-11-23T10:01:00.3Z", "2026-11-23T10:01:30Z"} {
		if cmds, _ := cronTick(v, c, cronAt(t, at)); len(cmds) != 0 {
			t.Fatalf("at %s the controller decided %v again", at, cronDecisionsOf(cronDecisionsIn(cmds)))
		}
	}
	// A new leader (a rebuilt controller) picks up after the tick decided ahead.
	c = NewCronController(CronOptions{DispatchAhead: 500 * time.Millisecond}, nil)
	if cmds, next := cronTick(v, c, cronAt(t, "2026-11-23T10:01:30Z")); len(cmds) != 0 || !next.Equal(cronAt(t, "2026-11-23T10:01:59.5Z")) {
		t.Fatalf("a rebuilt controller decided %v and wakes at %v; want nothing until 10:01:59.5", cronDecisionsOf(cronDecisionsIn(cmds)), next)
	}
}

// Only ticks whose decision cannot change before they come are decided
// ahead: Forbid waits for the tick while a Job is unfinished (and does not
// spin until then), Replace, suspended CronJobs and CronJobs with upstreams
// are decided at the tick.
func TestCronDecidesAheadOnlyWhatCannotChange(t *testing.T) {
	created := cronAt(t, "2026-11-23T10:00:00Z")
	ahead := cronAt(t, "2026-11-23T10:00:59.5Z")
	tick := cronAt(t, "2026-11-23T10:01:00Z")
	opts := CronOptions{DispatchAhead: 500 * time.Millisecond}

	for _, tc := range []struct {
		name   string
		mutate func(*pb.CronJobSpec)
	}{
		{"Replace", func(s *pb.CronJobSpec) { s.ConcurrencyPolicy = ConcurrencyReplace }},
		{"suspended", func(s *pb.CronJobSpec) { s.Suspend = proto.Bool(true) }},
		{"with an upstream", func(s *pb.CronJobSpec) {
			s.DependsOn = []*pb.CronJobDependency{{CronJob: "prepare"}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newCronFakeView(newCronJob("c", "* * * * *", created, tc.mutate), newCronJob("prepare", "0 0 1 1 *", created))
			c := NewCronController(opts, nil)
			_, next := cronTick(v, c, created.Add(30*time.Second))
			if next.Before(tick) {
				t.Fatalf("next wake %v; want the tick, %v", next, tick)
			}
			if cmds, _ := cronTick(v, c, ahead); len(jobsCreated(cmds)) != 0 {
				t.Fatalf("a Job was created ahead of its tick")
			}
		})
	}

	t.Run("Forbid", func(t *testing.T) {
		v := newCronFakeView(newCronJob("c", "* * * * *", created, func(s *pb.CronJobSpec) { s.ConcurrencyPolicy = ConcurrencyForbid }))
		c := NewCronController(opts, nil)
		// Nothing unfinished: decided ahead.
		cmds, next := cronTick(v, c, ahead)
		jobs := jobsCreated(cmds)
		if len(jobs) != 1 {
			t.Fatalf("Forbid with nothing unfinished: %d Jobs created ahead; want 1", len(jobs))
		}
		first := jobs[0].GetMetadata().GetName()
		// The 10:01 Job still runs half a second before 10:02: the
		// 10:02 tick waits for its time, and the controller sleeps until then.
		cmds, next = cronTick(v, c, next)
		if len(cmds) != 0 {
			t.Fatalf("Forbid with an unfinished Job decided %v ahead", cronDecisionsOf(cronDecisionsIn(cmds)))
		}
		if want := cronAt(t, "2026-11-23T10:02:00Z"); !next.Equal(want) {
			t.Fatalf("next wake %v; want the tick %v", next, want)
		}
		// At the tick it is still running: skipped, as without DispatchAhead.
		cmds, next = cronTick(v, c, next)
		if ds := cronDecisionsOf(cronDecisionsIn(cmds)); len(ds) != 1 || !strings.HasPrefix(ds[0], "skip/ConcurrencyPolicy@11-23T10:02:00") {
			t.Fatalf("at 10:02 with the 10:01 Job running: %v; want one skip ConcurrencyPolicy", ds)
		}
		// Once it has finished, the next tick is decided ahead again.
		v.finish(testNS, first, cronAt(t, "2026-11-23T10:02:10Z"))
		cmds, _ = cronTick(v, c, cronAt(t, "2026-11-23T10:02:59.5Z"))
		if len(jobsCreated(cmds)) != 1 {
			t.Fatalf("Forbid after the Job finished: %v; want the 10:03 Job decided ahead", cronDecisionsOf(cronDecisionsIn(cmds)))
		}
	})
}

// A crowd of ticks due at the same instant is decided at CrowdRate ticks a
// second, in groups a DispatchAhead apart, the last group DispatchAhead before the
// tick: every tick is decided once and before it comes, no step decides
// more than a group, and a CronJob alone on its schedule is not decided
// earlier than DispatchAhead.
func TestCronDecidesACrowdInGroups(t *testing.T) {
	created := cronAt(t, "2026-11-23T10:00:00Z")
	tick := cronAt(t, "2026-11-24T00:00:00Z")
	const crowd = 2500
	var cjs []*pb.CronJob
	for i := range crowd {
		cjs = append(cjs, newCronJob(fmt.Sprintf("nightly-%04d", i), "0 0 * * *", created))
	}
	cjs = append(cjs, newCronJob("alone", "30 0 * * *", created))
	v := newCronFakeView(cjs...)
	c := NewCronController(CronOptions{DispatchAhead: 500 * time.Millisecond, CrowdRate: 2000}, nil)

	_, next := cronTick(v, c, created.Add(time.Minute))
	// 2,500 ticks at 2,000 a second: groups of 500 (the last to join the
	// crowd), 1,000 and 1,000, decided 1.5 s, 1 s and 0.5 s before
	// midnight.
	if want := tick.Add(-1500 * time.Millisecond); !next.Equal(want) {
		t.Fatalf("the controller first wakes at %v; want %v (three groups, half a second apart)", next, want)
	}
	decided := map[string]time.Time{}
	var steps []int
	for now := next; now.Before(tick.Add(time.Minute)); now = now.Add(100 * time.Millisecond) {
		cmds, _ := cronTick(v, c, now)
		jobs := jobsCreated(cmds)
		if len(jobs) > 0 {
			steps = append(steps, len(jobs))
		}
		for _, j := range jobs {
			cj := j.GetStatus().GetCronJob()
			if at, twice := decided[cj]; twice {
				t.Fatalf("%s decided at %v and again at %v", cj, at, now)
			}
			decided[cj] = now
			if got := j.GetStatus().GetScheduledTime().AsTime(); !got.Equal(tick) {
				t.Fatalf("%s: Job for %v, want %v", cj, got, tick)
			}
		}
	}
	if len(decided) != crowd {
		t.Fatalf("%d of the %d ticks at midnight decided", len(decided), crowd)
	}
	if want := []int{500, 1000, 1000}; !slices.Equal(steps, want) {
		t.Errorf("Jobs created per step %v; want %v", steps, want)
	}
	for cj, at := range decided {
		if !at.Before(tick) {
			t.Errorf("%s decided at %v, not before its tick", cj, at)
		}
	}
	// The CronJob alone on its schedule: half a second before 00:30, as
	// without a crowd.
	_, next = cronTick(v, c, tick.Add(time.Minute))
	if want := cronAt(t, "2026-11-24T00:29:59.5Z"); !next.Equal(want) {
		t.Errorf("after the crowd the controller wakes at %v; want %v", next, want)
	}
}

// However large the crowd, no tick is decided more than MaxDispatchAhead
// before it: the groups beyond are decided with the earliest.
func TestCronCrowdLeadIsBounded(t *testing.T) {
	created := cronAt(t, "2026-11-23T10:00:00Z")
	var cjs []*pb.CronJob
	for i := range 50 {
		cjs = append(cjs, newCronJob(fmt.Sprintf("c%02d", i), "0 0 * * *", created))
	}
	v := newCronFakeView(cjs...)
	c := NewCronController(CronOptions{DispatchAhead: time.Second, CrowdRate: 2}, nil)
	_, next := cronTick(v, c, created.Add(time.Minute))
	if want := cronAt(t, "2026-11-24T00:00:00Z").Add(-MaxDispatchAhead); !next.Equal(want) {
		t.Fatalf("the controller first wakes at %v; want %v (MaxDispatchAhead before the tick)", next, want)
	}
	cmds, _ := cronTick(v, c, next)
	if got := len(jobsCreated(cmds)); got != 32 {
		t.Errorf("%d Jobs decided MaxDispatchAhead before the tick; want 32 (the 16 groups from the tenth on)", got)
	}
}

// A crowd is never decided further ahead than half of MaxScheduleAhead: a
// tick decided beyond MaxScheduleAhead looked like a wall clock that had
// jumped back, was rewound with a ClockJump skip and decided again, step
// after step. With the leader's way of stepping (Update with the CronJobs a
// step changed, time passing between steps) each tick gets one decision.
func TestCronCrowdLeadStaysWithinMaxScheduleAhead(t *testing.T) {
	for _, maxAhead := range []time.Duration{4 * time.Second, 0 /* the default, a minute */} {
		created := cronAt(t, "2026-11-23T10:00:00Z")
		tick := cronAt(t, "2026-11-24T00:00:00Z")
		var cjs []*pb.CronJob
		for i := range 20 {
			cjs = append(cjs, newCronJob(fmt.Sprintf("c%02d", i), "0 0 * * *", created))
		}
		v := newCronFakeView(cjs...)
		c := NewCronController(CronOptions{DispatchAhead: 500 * time.Millisecond, MaxScheduleAhead: maxAhead, CrowdRate: 1}, nil)
		c.Rebuild(v)
		now := tick.Add(-time.Minute)
		for steps := 0; now.Before(tick.Add(time.Minute)); steps++ {
			if steps == 2000 {
				t.Fatalf("MaxScheduleAhead %v: still stepping after %d steps, at %v", maxAhead, steps, now)
			}
			cmds, next := c.Tick(v, now)
			v.apply(cmds)
			var changed []Ref
			for _, cmd := range cmds {
				if u := cmd.GetUpdateCronJobStatus(); u != nil {
					changed = append(changed, Ref{Namespace: u.GetNamespace(), Name: u.GetName()})
				}
			}
			c.Update(v, changed)
			if next.IsZero() || next.After(tick.Add(time.Minute)) {
				break
			}
			// Time passes between steps.
			if now = now.Add(10 * time.Millisecond); next.After(now) {
				now = next
			}
		}
		for _, cj := range v.CronJobs() {
			decisions := map[string]int{}
			for _, d := range cj.GetStatus().GetDecisions() {
				decisions[d.GetDecision()]++
			}
			if decisions[DecisionInvoke] != 1 || len(decisions) != 1 {
				t.Errorf("MaxScheduleAhead %v: %s decided %v for its one midnight tick; want one invoke", maxAhead, cj.GetMetadata().GetName(), decisions)
			}
		}
	}
}
