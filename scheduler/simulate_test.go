package scheduler

import (
	"errors"
	"testing"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestSimulate(t *testing.T) {
	created := cronAt(t, "2026-11-23T09:00:00Z")
	last := cronAt(t, "2026-11-23T10:00:00Z")
	cases := []struct {
		name string
		in   SimulateInput
		want []string
	}{
		{"Latest after downtime", SimulateInput{Schedule: "* * * * *", Created: created, Last: last, Now: cronAt(t, "2026-11-23T10:05:30Z")}, []string{
			"skip/CatchUpPolicy@11-23T10:04:00 x4 from 11-23T10:01:00",
			"invoke/CatchUp@11-23T10:05:00 job=cronjob-29923805",
		}},
		{"Forbid with a running job", SimulateInput{Schedule: "*/5 * * * *", Created: created, Last: last, Now: cronAt(t, "2026-11-23T10:05:00Z"),
			ConcurrencyPolicy: ConcurrencyForbid, ActiveJob: true, Name: "etl"}, []string{
			"skip/ConcurrencyPolicy@11-23T10:05:00 job=(active)",
		}},
		{"suspended", SimulateInput{Schedule: "@hourly", TimeZone: "Europe/Berlin", Created: created, Now: cronAt(t, "2026-11-23T12:00:00Z"), Suspended: true}, []string{
			"skip/Suspended@11-23T12:00:00 x3 from 11-23T10:00:00",
		}},
		{"deadline and All", SimulateInput{Schedule: "*/10 * * * *", Created: created, Last: last, Now: cronAt(t, "2026-11-23T10:30:00Z"),
			CatchUp: CatchUpAll, StartingDeadlineSeconds: proto.Int32(900)}, []string{
			"skip/MissedDeadline@11-23T10:10:00",
			"invoke/CatchUp@11-23T10:20:00 job=cronjob-29923820",
			"invoke/Scheduled@11-23T10:30:00 job=cronjob-29923830",
		}},
		{"nothing due", SimulateInput{Schedule: "0 3 * * *", Created: created, Now: cronAt(t, "2026-11-23T10:30:00Z")}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Simulate(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			cronWantLines(t, "decisions", cronDecisionsOf(got), tc.want)
		})
	}
}

// TestSimulateMatchesTheController: Simulate and a controller tick over the
// same CronJob decide the same.
func TestSimulateMatchesTheController(t *testing.T) {
	created := cronAt(t, "2026-11-01T00:00:00Z")
	last := cronAt(t, "2026-11-20T00:00:00Z")
	now := cronAt(t, "2026-11-23T00:00:00Z")
	for _, catchUp := range []string{CatchUpLatest, CatchUpAll, CatchUpNone} {
		for _, expr := range []string{"* * * * *", "*/10 * * * * *", "@every 13m"} {
			in := SimulateInput{Schedule: expr, Created: created, Last: last, Now: now, CatchUp: catchUp, Name: "x"}
			sim, err := Simulate(in)
			if err != nil {
				t.Fatal(err)
			}
			cj := newCronJob("x", expr, created, func(s *pb.CronJobSpec) { s.CatchUp = catchUp })
			cj.Status.LastScheduleTime = timestamppb.New(last)
			v := newCronFakeView(cj)
			c := NewCronController(CronOptions{}, nil)
			var ctl []*pb.ScheduleDecision
			for i := 0; i < 100; i++ {
				cmds, next := cronTick(v, c, now)
				ctl = append(ctl, cronDecisionsIn(cmds)...)
				if next.After(now) {
					break
				}
			}
			cronWantLines(t, catchUp+" "+expr, cronDecisionsOf(sim), cronDecisionsOf(ctl))
			if len(sim) == 0 {
				t.Errorf("%s %s: no decisions", catchUp, expr)
			}
		}
	}
}

func TestSimulateRejectsBadInput(t *testing.T) {
	now := cronAt(t, "2026-11-23T10:00:00Z")
	if _, err := Simulate(SimulateInput{Schedule: "61 * * * *", Now: now}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad schedule: %v", err)
	}
	if _, err := Simulate(SimulateInput{Schedule: "* * * * *", Created: now, Now: now.Add(-time.Hour)}); err == nil {
		t.Error("now before created: no error")
	}
}

func TestNextTimes(t *testing.T) {
	got := schedParse(t, "30 2 * * *", "America/Los_Angeles").NextTimes(cronAt(t, "2026-03-07T00:00:00Z"), 3)
	var s []string
	for _, g := range got {
		s = append(s, g.Format(time.RFC3339))
	}
	cronWantLines(t, "next times", s, []string{"2026-03-07T02:30:00-08:00", "2026-03-08T03:00:00-07:00", "2026-03-09T02:30:00-07:00"})
	if got := schedParse(t, "@daily", "").NextTimes(time.Time{}, -1); len(got) != 0 {
		t.Errorf("negative count: %v", got)
	}
}
