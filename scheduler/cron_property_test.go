package scheduler

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"google.golang.org/protobuf/proto"
)

// TestCronEveryTickIsAccountedFor is the property behind DESIGN.md promise 2:
// with random schedules, policies, suspensions, job run times and leader
// downtimes, every tick up to a CronJob's lastScheduleTime becomes exactly
// one Job or is covered by exactly one recorded skip, never both, never twice;
// and Forbid and Replace never leave two Jobs of a CronJob unfinished.
func TestCronEveryTickIsAccountedFor(t *testing.T) {
	schedules := []struct {
		expr, zone string
		dense      bool // ticks within a minute: keep the window short
	}{
		{"* * * * *", "", false},
		{"*/5 * * * *", "America/Los_Angeles", false},
		{"0 * * * *", "Europe/Berlin", false},
		{"*/15 * * * *", "Europe/Berlin", false},
		{"*/15 1-3 * * *", "America/Los_Angeles", false},
		{"30 2 * * *", "America/Los_Angeles", false},
		{"0 2 * * *", "Europe/Berlin", false},
		{"*/7 * * * *", "", false},
		{"@every 7m", "", false},
		{"@every 45s", "", true},
		{"*/20 * * * * *", "Europe/Berlin", true},
		{"0 * * * *", "America/New_York", false},
		{"*/15 * * * *", "Australia/Lord_Howe", false},
		{"45 1 * * *", "Australia/Lord_Howe", false},
		{"0-59/20 1 * * *", "America/New_York", false},
	}
	starts := []string{
		"2026-03-07T20:00:00Z", // LA springs forward 03-08 10:00Z
		"2026-03-28T20:00:00Z", // Berlin springs forward 03-29 01:00Z
		"2026-10-24T20:00:00Z", // Berlin falls back 10-25 01:00Z
		"2026-10-31T20:00:00Z", // LA falls back 11-01 09:00Z
		"2026-11-01T02:00:00Z", // New York falls back 11-01 06:00Z
		"2026-04-04T10:00:00Z", // Lord Howe falls back 04-04 15:00Z
		"2026-10-03T10:00:00Z", // Lord Howe springs forward 10-03 15:30Z
		"2026-11-23T10:00:00Z",
	}
	policies := []string{ConcurrencyAllow, ConcurrencyForbid, ConcurrencyReplace}
	catchUps := []string{CatchUpLatest, CatchUpAll, CatchUpNone}

	rng := rand.New(rand.NewPCG(20261123, 42))
	for n := 0; n < 300; n++ {
		start := schedTime(t, starts[rng.IntN(len(starts))]).Add(time.Duration(rng.IntN(3600)) * time.Second)
		span := time.Duration(2+rng.IntN(34)) * time.Hour
		v := newCronFakeView()
		var desc []string
		dense := false
		for k := 0; k < 1+rng.IntN(3); k++ {
			s := schedules[rng.IntN(len(schedules))]
			dense = dense || s.dense
			name := fmt.Sprintf("c%d", k)
			cj := newCronJob(name, s.expr, start.Add(-time.Duration(rng.IntN(7200))*time.Second), func(sp *pb.CronJobSpec) {
				if s.zone != "" {
					sp.TimeZone = proto.String(s.zone)
				}
				sp.ConcurrencyPolicy = policies[rng.IntN(len(policies))]
				sp.CatchUp = catchUps[rng.IntN(len(catchUps))]
				if rng.IntN(2) == 0 {
					sp.StartingDeadlineSeconds = proto.Int32(int32(rng.IntN(1800)))
				}
				if rng.IntN(2) == 0 {
					sp.CatchUpLimit = proto.Int32(int32(rng.IntN(6)))
				}
				sp.Suspend = proto.Bool(rng.IntN(5) == 0)
			})
			v.putCronJob(cj)
			desc = append(desc, fmt.Sprintf("%s %q %s %s catchUp=%s deadline=%v limit=%v", name, s.expr, s.zone,
				cj.Spec.ConcurrencyPolicy, cj.Spec.CatchUp, fmtPtr(cj.Spec.StartingDeadlineSeconds), fmtPtr(cj.Spec.CatchUpLimit)))
		}
		if dense {
			span = time.Duration(20+rng.IntN(160)) * time.Minute
		}
		end := start.Add(span)
		type window struct{ from, to time.Time }
		var down []window
		for k := 0; k < rng.IntN(4); k++ {
			from := start.Add(time.Duration(rng.Int64N(int64(span))))
			down = append(down, window{from, from.Add(time.Duration(rng.Int64N(int64(span / 3))))})
		}
		opts := CronOptions{}
		if rng.IntN(3) == 0 {
			opts.MaxTicksExamined = 1 + rng.IntN(30)
		}
		if rng.IntN(2) == 0 {
			opts.DispatchAhead = time.Duration(1+rng.IntN(5000)) * time.Millisecond
			// Small crowd groups: CronJobs sharing a tick are decided
			// in groups, the later groups earlier.
			opts.CrowdRate = 1 + rng.IntN(3)
		}
		label := fmt.Sprintf("case %d: start %s span %s down %v max %d ahead %v crowd rate %d\n  %v", n, start.Format(time.RFC3339), span, down, opts.MaxTicksExamined, opts.DispatchAhead, opts.CrowdRate, desc)

		c := NewCronController(opts, nil)
		c.Rebuild(v)
		now := start
		for steps := 0; now.Before(end); steps++ {
			if steps > 200000 {
				t.Fatalf("%s: no progress at %v", label, now)
			}
			cmds, next := c.Tick(v, now)
			v.apply(cmds)
			for _, name := range []string{"c0", "c1", "c2"} {
				cj := v.cronJobs[fvKey(testNS, name)]
				if cj == nil {
					continue
				}
				unfinished := unfinishedJobsOf(v, testNS, name)
				if p := cj.Spec.ConcurrencyPolicy; p != ConcurrencyAllow && len(unfinished) > 1 {
					t.Fatalf("%s: %s under %s has %d unfinished jobs at %v: %v", label, name, p, len(unfinished), now, unfinished)
				}
				for _, j := range unfinished {
					if rng.IntN(3) == 0 {
						v.finish(testNS, j, now)
					}
				}
				if rng.IntN(40) == 0 {
					v.setSuspend(testNS, name, !cj.Spec.GetSuspend())
				}
			}
			if next.IsZero() {
				break
			}
			if next.Before(now) {
				t.Fatalf("%s: next %v before now %v", label, next, now)
			}
			wake := next
			if next.After(now) {
				wake = next.Add(time.Duration(rng.IntN(3000)) * time.Millisecond)
			}
			leaderLost := false
			for _, d := range down {
				if d.from.After(now) && !d.from.After(wake) && d.to.After(wake) {
					wake, leaderLost = d.to, true
				}
			}
			if leaderLost {
				c = NewCronController(opts, nil)
				c.Rebuild(v)
			}
			now = wake
		}
		for _, cj := range v.CronJobs() {
			checkAccounted(t, label, v, cj)
		}
	}
}

func fmtPtr(p *int32) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

// checkAccounted checks that every tick of cj in (created, lastScheduleTime]
// has exactly one invoke or one covering skip, and that invokes and Jobs match.
func checkAccounted(t *testing.T, label string, v *cronFakeView, cj *pb.CronJob) {
	t.Helper()
	name := cj.GetMetadata().GetName()
	sched := schedParse(t, cj.GetSpec().GetSchedule(), cj.GetSpec().GetTimeZone())
	last := cj.GetStatus().GetLastScheduleTime()
	var ticks []time.Time
	if last != nil {
		for at := sched.Next(cj.GetMetadata().GetCreationTimestamp().AsTime()); !at.After(last.AsTime()); at = sched.Next(at) {
			ticks = append(ticks, at)
		}
	}
	covered := make(map[int64]int, len(ticks))
	isTick := make(map[int64]bool, len(ticks))
	for _, at := range ticks {
		isTick[at.UnixNano()] = true
	}
	ticksIn := func(first, lastT time.Time) []time.Time {
		var out []time.Time
		for _, at := range ticks {
			if !at.Before(first) && !at.After(lastT) {
				out = append(out, at)
			}
		}
		return out
	}
	invoked := map[string]bool{}
	for _, d := range cj.GetStatus().GetDecisions() {
		st := d.GetScheduledTime().AsTime()
		switch {
		case d.GetDecision() == DecisionInvoke:
			if !isTick[st.UnixNano()] {
				t.Fatalf("%s\n%s: invoke at %v is not a tick", label, name, st)
			}
			covered[st.UnixNano()]++
			if invoked[d.GetJob()] {
				t.Fatalf("%s\n%s: job %s invoked twice", label, name, d.GetJob())
			}
			invoked[d.GetJob()] = true
			j := v.Job(testNS, d.GetJob())
			if j == nil || !j.GetStatus().GetScheduledTime().AsTime().Equal(st) {
				t.Fatalf("%s\n%s: invoke of %s at %v has no matching Job (%v)", label, name, d.GetJob(), st, j.GetStatus())
			}
		case d.GetReason() == SkipError:
		default:
			in := ticksIn(d.GetFirstScheduledTime().AsTime(), st)
			if d.GetCount() > 0 && int(d.GetCount()) != len(in) {
				t.Fatalf("%s\n%s: skip %s count %d covers %d ticks %v..%v; created %v, last %v, %d ticks", label, name, d.GetReason(), d.GetCount(), len(in),
					d.GetFirstScheduledTime().AsTime(), st, cj.GetMetadata().GetCreationTimestamp().AsTime(), last.AsTime(), len(ticks))
			}
			if len(in) == 0 {
				t.Fatalf("%s\n%s: skip %s covers no tick (%v..%v); created %v, last %v, %d ticks", label, name, d.GetReason(),
					d.GetFirstScheduledTime().AsTime(), st, cj.GetMetadata().GetCreationTimestamp().AsTime(), last.AsTime(), len(ticks))
			}
			for _, at := range in {
				covered[at.UnixNano()]++
			}
		}
	}
	for _, at := range ticks {
		if c := covered[at.UnixNano()]; c != 1 {
			t.Fatalf("%s\n%s: tick %v accounted for %d times\n%v", label, name, at, c, cronDecisionsOf(cj.GetStatus().GetDecisions()))
		}
	}
	for _, j := range v.JobsOfCronJob(testNS, name) {
		if !invoked[j.GetMetadata().GetName()] {
			t.Fatalf("%s\n%s: job %s has no invoke decision", label, name, j.GetMetadata().GetName())
		}
	}
}
