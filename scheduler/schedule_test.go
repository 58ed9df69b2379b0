package scheduler

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func schedTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("bad test time %q: %v", s, err)
	}
	return v
}

func schedParse(t *testing.T, expr, tz string) *Schedule {
	t.Helper()
	s, err := ParseSchedule(expr, tz)
	if err != nil {
		t.Fatalf("ParseSchedule(%q, %q): %v", expr, tz, err)
	}
	return s
}

// fires lists the fire times in (from, to], as UTC RFC 3339.
func schedFires(t *testing.T, s *Schedule, from, to time.Time) []string {
	t.Helper()
	var out []string
	for at := s.Next(from); !at.IsZero() && !at.After(to); at = s.Next(at) {
		out = append(out, at.UTC().Format(time.RFC3339))
		if len(out) > 1000 {
			t.Fatal("too many fires")
		}
	}
	return out
}

func TestParseScheduleAccepts(t *testing.T) {
	cases := []struct {
		expr, tz string
		seconds  bool
		loc      string
	}{
		{"*/5 * * * *", "", false, "UTC"},
		{"0 9 * JAN-mar mon-FRI", "Europe/Berlin", false, "Europe/Berlin"},
		{"0 0 ? * ?", "", false, "UTC"},
		{"30 0 0 * * *", "", true, "UTC"},
		{"@yearly", "", false, "UTC"},
		{"@annually", "", false, "UTC"},
		{"@monthly", "", false, "UTC"},
		{"@weekly", "", false, "UTC"},
		{"@daily", "", false, "UTC"},
		{"@midnight", "", false, "UTC"},
		{"@hourly", "America/Los_Angeles", false, "America/Los_Angeles"},
		{"@every 1h30m", "", false, "UTC"},
		{"@every 90s", "", true, "UTC"},
		{"0 0 29 2 *", "", false, "UTC"},
		{"CRON_TZ=Asia/Tokyo 0 9 * * *", "", false, "Asia/Tokyo"},
		{"TZ=Europe/Berlin 0 9 * * *", "", false, "Europe/Berlin"},
		{"0 0 * * 7", "", false, "UTC"},
		{"0 0 * * 5-7", "", false, "UTC"},
	}
	for _, c := range cases {
		s, err := ParseSchedule(c.expr, c.tz)
		if err != nil {
			t.Errorf("ParseSchedule(%q, %q): %v", c.expr, c.tz, err)
			continue
		}
		if s.HasSeconds() != c.seconds {
			t.Errorf("%q: HasSeconds = %v, want %v", c.expr, s.HasSeconds(), c.seconds)
		}
		if s.Location().String() != c.loc {
			t.Errorf("%q: Location = %v, want %v", c.expr, s.Location(), c.loc)
		}
	}
}

func TestParseScheduleRejects(t *testing.T) {
	cases := []struct {
		expr, tz string
		want     []string // substrings of the error
	}{
		{"", "", []string{"empty"}},
		{"61 * * * *", "", []string{`schedule "61 * * * *"`, "minute", "61", "59"}},
		{"* 24 * * *", "", []string{"hour", "24"}},
		{"* * 0 * *", "", []string{"day-of-month"}},
		{"* * * 13 *", "", []string{"month", "13"}},
		{"* * * * 8", "", []string{"day-of-week", "8"}},
		{"* * * * mond", "", []string{"day-of-week"}},
		{"* * * *", "", []string{"4 fields"}},
		{"* * * * * * *", "", []string{"7 fields"}},
		{"61 * * * * *", "", []string{"second", "61"}},
		{"@fortnightly", "", []string{"unknown descriptor"}},
		{"@every", "", []string{"needs a duration"}},
		{"@every 1.5s", "", []string{"whole seconds"}},
		{"@every 500ms", "", []string{"at least 1s"}},
		{"@every soon", "", []string{"not a duration"}},
		{"59 23 31 2 *", "", []string{"never fires"}},
		{"0 0 30 2 *", "", []string{"never fires"}},
		{"0 0 31 4,6,9,11 *", "", []string{"never fires"}},
		{"0 0 * * *", "Local", []string{`"Local" is not allowed`}},
		{"0 0 * * *", "Mars/Olympus_Mons", []string{"unknown time zone", "Mars/Olympus_Mons"}},
		{"CRON_TZ=Europe/Berlin 0 0 * * *", "UTC", []string{"both name a time zone"}},
		{"CRON_TZ=Nowhere/Land 0 0 * * *", "", []string{"unknown time zone"}},
		{"TZ= 0 0 * * *", "", []string{"names no time zone"}},
		{"*/0 * * * *", "", []string{"minute", "step"}},
	}
	for _, c := range cases {
		_, err := ParseSchedule(c.expr, c.tz)
		if err == nil {
			t.Errorf("ParseSchedule(%q, %q): no error", c.expr, c.tz)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseSchedule(%q): %v does not match ErrInvalid", c.expr, err)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("ParseSchedule(%q, %q) = %q, want it to mention %q", c.expr, c.tz, err, w)
			}
		}
	}
}

func TestNextFieldRules(t *testing.T) {
	cases := []struct {
		name, expr, tz, from, to string
		want                     []string
	}{
		{"sunday as 7", "0 0 * * 7", "", "2026-11-20T00:00:00Z", "2026-12-01T00:00:00Z",
			[]string{"2026-11-22T00:00:00Z", "2026-11-29T00:00:00Z"}},
		{"range ending in 7", "0 0 * * 5-7", "", "2026-11-19T12:00:00Z", "2026-11-24T00:00:00Z",
			[]string{"2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z", "2026-11-22T00:00:00Z"}},
		{"stepped range ending in 7", "0 0 * * 1-7/2", "", "2026-11-22T12:00:00Z", "2026-11-29T12:00:00Z",
			// Mon, Wed, Fri, Sun
			[]string{"2026-11-23T00:00:00Z", "2026-11-25T00:00:00Z", "2026-11-27T00:00:00Z", "2026-11-29T00:00:00Z"}},
		{"vixie either day field", "0 0 13 * fri", "", "2026-11-01T00:00:00Z", "2026-11-30T00:00:00Z",
			[]string{"2026-11-06T00:00:00Z", "2026-11-13T00:00:00Z", "2026-11-20T00:00:00Z", "2026-11-27T00:00:00Z"}},
		{"vixie star means both", "0 0 13 * ?", "", "2026-11-01T00:00:00Z", "2026-12-31T00:00:00Z",
			[]string{"2026-11-13T00:00:00Z", "2026-12-13T00:00:00Z"}},
		{"leap day", "0 0 29 2 *", "", "2026-01-01T00:00:00Z", "2033-01-01T00:00:00Z",
			[]string{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"}},
		{"seconds field", "*/20 0 12 * * *", "", "2026-11-23T11:59:59Z", "2026-11-23T12:01:00Z",
			[]string{"2026-11-23T12:00:00Z", "2026-11-23T12:00:20Z", "2026-11-23T12:00:40Z"}},
		{"month names and year wrap", "0 0 1 dec,JAN *", "", "2026-11-23T00:00:00Z", "2027-03-01T00:00:00Z",
			[]string{"2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"}},
		{"weekly in zone", "@weekly", "Asia/Tokyo", "2026-11-20T00:00:00Z", "2026-11-30T00:00:00Z",
			[]string{"2026-11-21T15:00:00Z", "2026-11-28T15:00:00Z"}},
		{"hourly strictly after", "@hourly", "", "2026-11-23T10:00:00Z", "2026-11-23T12:00:00Z",
			[]string{"2026-11-23T11:00:00Z", "2026-11-23T12:00:00Z"}},
		{"every counts from the previous run", "@every 90s", "Europe/Berlin", "2026-11-23T10:00:17.5Z", "2026-11-23T10:05:00Z",
			[]string{"2026-11-23T10:01:47Z", "2026-11-23T10:03:17Z", "2026-11-23T10:04:47Z"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := schedFires(t, schedParse(t, c.expr, c.tz), schedTime(t, c.from), schedTime(t, c.to))
			if strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("%q in %q from %s:\n got %v\nwant %v", c.expr, c.tz, c.from, got, c.want)
			}
		})
	}
}

// schedFiresIn lists the first n fire times after from, in the schedule's
// zone with their offsets.
func schedFiresIn(t *testing.T, s *Schedule, from time.Time, n int) []string {
	t.Helper()
	var out []string
	for at := s.Next(from); !at.IsZero() && len(out) < n; at = s.Next(at) {
		out = append(out, at.Format(time.RFC3339))
	}
	return out
}

// TestNextDST pins Vixie cron's DST rule (see Schedule) across the 2026
// transitions, with the fire times as the zone's clock shows them:
//
//   - America/New_York springs forward 03-08 02:00 EST → 03:00 EDT (07:00Z)
//     and falls back 11-01 02:00 EDT → 01:00 EST (06:00Z);
//   - Europe/Berlin springs forward 03-29 02:00 CET → 03:00 CEST (01:00Z)
//     and falls back 10-25 03:00 CEST → 02:00 CET (01:00Z);
//   - Australia/Lord_Howe moves by 30 minutes: it falls back 04-05 02:00
//     (+11:00) → 01:30 (+10:30) (04-04 15:00Z) and springs forward 10-04
//     02:00 (+10:30) → 02:30 (+11:00) (10-03 15:30Z);
//   - Asia/Tokyo has no DST.
func TestNextDST(t *testing.T) {
	const ny, berlin, lh, tokyo = "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Tokyo"
	cases := []struct {
		name, expr, tz, from string
		want                 []string
	}{
		// New York, fixed times: once in the gap (right after it), once in the repeat.
		{"NY fixed in the gap fires after it", "30 2 * * *", ny, "2026-03-07T12:00:00Z",
			[]string{"2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"}},
		{"NY fixed in the repeat fires once", "30 1 * * *", ny, "2026-10-31T12:00:00Z",
			[]string{"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"}},
		{"NY hour range is fixed", "0 1-3 * * *", ny, "2026-11-01T04:30:00Z",
			[]string{"2026-11-01T01:00:00-04:00", "2026-11-01T02:00:00-05:00", "2026-11-01T03:00:00-05:00"}},
		{"NY hour list is fixed", "0 2,3 * * *", ny, "2026-03-08T05:00:00Z",
			[]string{"2026-03-08T03:00:00-04:00", "2026-03-09T02:00:00-04:00"}},
		{"NY seconds at a fixed time fire once in the gap", "*/20 30 2 * * *", ny, "2026-03-08T05:00:00Z",
			[]string{"2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00", "2026-03-09T02:30:20-04:00"}},
		{"NY @daily", "@daily", ny, "2026-10-31T12:00:00Z",
			[]string{"2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00"}},
		// New York, on the clock: again in the repeat, nothing for the gap.
		{"NY hourly in the repeat fires twice", "0 * * * *", ny, "2026-11-01T04:30:00Z",
			[]string{"2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00"}},
		{"NY every 15 min in the repeat", "*/15 * * * *", ny, "2026-11-01T05:40:00Z",
			[]string{"2026-11-01T01:45:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T01:15:00-05:00",
				"2026-11-01T01:30:00-05:00", "2026-11-01T01:45:00-05:00", "2026-11-01T02:00:00-05:00"}},
		{"NY from inside the second pass", "*/15 * * * *", ny, "2026-11-01T06:20:00Z",
			[]string{"2026-11-01T01:30:00-05:00", "2026-11-01T01:45:00-05:00"}},
		{"NY stepped range in the minute", "0-59/20 1 * * *", ny, "2026-11-01T04:30:00Z",
			[]string{"2026-11-01T01:00:00-04:00", "2026-11-01T01:20:00-04:00", "2026-11-01T01:40:00-04:00",
				"2026-11-01T01:00:00-05:00", "2026-11-01T01:20:00-05:00", "2026-11-01T01:40:00-05:00", "2026-11-02T01:00:00-05:00"}},
		{"NY @hourly skips the gap", "@hourly", ny, "2026-03-08T05:30:00Z",
			[]string{"2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00"}},
		{"NY every 30 min skips the gap", "*/30 * * * *", ny, "2026-03-08T06:10:00Z",
			[]string{"2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T03:30:00-04:00"}},
		{"NY hour step makes nothing up", "15 */2 * * *", ny, "2026-03-08T05:00:00Z",
			[]string{"2026-03-08T00:15:00-05:00", "2026-03-08T04:15:00-04:00"}},
		{"NY minute step at a fixed hour in the gap", "*/30 2 * * *", ny, "2026-03-07T12:00:00Z",
			[]string{"2026-03-09T02:00:00-04:00", "2026-03-09T02:30:00-04:00"}},
		{"NY @every counts real time", "@every 1h", ny, "2026-11-01T04:30:00Z",
			[]string{"2026-11-01T01:30:00-04:00", "2026-11-01T01:30:00-05:00", "2026-11-01T02:30:00-05:00"}},
		// Berlin.
		{"Berlin fixed in the gap", "30 2 * * *", berlin, "2026-03-28T12:00:00Z",
			[]string{"2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"}},
		{"Berlin fixed in the repeat (kubernetes #121594)", "0 2 * * *", berlin, "2026-10-24T12:00:00Z",
			[]string{"2026-10-25T02:00:00+02:00", "2026-10-26T02:00:00+01:00"}},
		{"Berlin hourly in the repeat", "@hourly", berlin, "2026-10-24T23:30:00Z",
			[]string{"2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T03:00:00+01:00"}},
		{"Berlin every 30 min across the gap", "*/30 * * * *", berlin, "2026-03-29T00:40:00Z",
			[]string{"2026-03-29T03:00:00+02:00", "2026-03-29T03:30:00+02:00"}},
		{"Berlin every 20 min in the repeat", "*/20 * * * *", berlin, "2026-10-25T00:30:00Z",
			[]string{"2026-10-25T02:40:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T02:20:00+01:00"}},
		// Lord Howe: a 30-minute shift, so only the half hour repeats or vanishes.
		{"Lord Howe fixed in the repeat", "45 1 * * *", lh, "2026-04-04T12:00:00Z",
			[]string{"2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30"}},
		{"Lord Howe every 15 min in the repeat", "*/15 * * * *", lh, "2026-04-04T14:40:00Z",
			[]string{"2026-04-05T01:45:00+11:00", "2026-04-05T01:30:00+10:30", "2026-04-05T01:45:00+10:30", "2026-04-05T02:00:00+10:30"}},
		{"Lord Howe hourly is not repeated", "0 * * * *", lh, "2026-04-04T13:30:00Z",
			[]string{"2026-04-05T01:00:00+11:00", "2026-04-05T02:00:00+10:30", "2026-04-05T03:00:00+10:30"}},
		{"Lord Howe fixed in the gap", "15 2 * * *", lh, "2026-10-03T12:00:00Z",
			[]string{"2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"}},
		{"Lord Howe every 15 min across the gap", "*/15 * * * *", lh, "2026-10-03T15:10:00Z",
			[]string{"2026-10-04T01:45:00+10:30", "2026-10-04T02:30:00+11:00", "2026-10-04T02:45:00+11:00"}},
		{"Lord Howe hourly across the gap", "0 * * * *", lh, "2026-10-03T14:00:00Z",
			[]string{"2026-10-04T01:00:00+10:30", "2026-10-04T03:00:00+11:00"}},
		// Tokyo: no DST, both kinds run on the hour as always.
		{"Tokyo hourly", "0 * * * *", tokyo, "2026-11-01T00:30:00Z",
			[]string{"2026-11-01T10:00:00+09:00", "2026-11-01T11:00:00+09:00", "2026-11-01T12:00:00+09:00"}},
		{"Tokyo fixed", "30 2 * * *", tokyo, "2026-03-07T12:00:00Z",
			[]string{"2026-03-08T02:30:00+09:00", "2026-03-09T02:30:00+09:00"}},
		{"UTC every 15 min", "*/15 * * * *", "", "2026-11-01T05:50:00Z",
			[]string{"2026-11-01T06:00:00Z", "2026-11-01T06:15:00Z"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := schedFiresIn(t, schedParse(t, c.expr, c.tz), schedTime(t, c.from), len(c.want))
			if strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("%q in %s from %s:\n got %v\nwant %v", c.expr, c.tz, c.from, got, c.want)
			}
		})
	}
}

// TestNextIsStrictlyIncreasing walks a year of a few schedules in DST zones
// and checks each fire is after the previous and matches the fields.
func TestNextIsStrictlyIncreasing(t *testing.T) {
	for _, tz := range []string{"America/Los_Angeles", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Tokyo", "UTC"} {
		for _, expr := range []string{"*/7 * * * *", "30 2 * * *", "0 */3 * * *", "@hourly", "0-59/20 1 * * *"} {
			s := schedParse(t, expr, tz)
			at := schedTime(t, "2026-01-01T00:00:00Z")
			end := schedTime(t, "2027-01-01T00:00:00Z")
			n := 0
			for at.Before(end) {
				next := s.Next(at)
				if !next.After(at) {
					t.Fatalf("%q %s: Next(%v) = %v, not after", expr, tz, at, next)
				}
				at = next
				n++
			}
			if n == 0 {
				t.Fatalf("%q %s: no fires", expr, tz)
			}
		}
	}
}

// TestNextOnClockMatchesBruteForce checks the "on the clock" half of the DST
// rule against a brute force: around every 2026 transition of a few zones,
// step through real time minute by minute and fire wherever the zone's clock
// shows a matching time. Next must list exactly those instants.
func TestNextOnClockMatchesBruteForce(t *testing.T) {
	for _, tz := range []string{"America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Tokyo"} {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			t.Fatal(err)
		}
		var windows []time.Time
		for at := schedTime(t, "2026-01-01T00:00:00Z"); ; {
			_, end := at.In(loc).ZoneBounds()
			if end.IsZero() || end.Year() > 2026 {
				break
			}
			windows = append(windows, end.Add(-12*time.Hour))
			at = end
		}
		windows = append(windows, schedTime(t, "2026-06-01T00:00:00Z"))
		for _, expr := range []string{"0 * * * *", "*/15 * * * *", "*/7 * * * *", "0-59/20 1,2 * * *", "30 */2 * * *", "@hourly"} {
			s := schedParse(t, expr, tz)
			if !s.onClock {
				t.Fatalf("%q: not on the clock", expr)
			}
			for _, from := range windows {
				to := from.Add(24 * time.Hour)
				var want []string
				for u := from.Add(time.Minute); !u.After(to); u = u.Add(time.Minute) {
					w := s.wall(u)
					if s.nextWall(w.Add(-time.Second)).Equal(w) {
						want = append(want, u.UTC().Format(time.RFC3339))
					}
				}
				got := schedFires(t, s, from, to)
				if strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("%q in %s from %s:\n got %v\nwant %v", expr, tz, from.Format(time.RFC3339), got, want)
				}
			}
		}
	}
}

func TestJobName(t *testing.T) {
	at := schedTime(t, "2026-11-23T10:00:30Z")
	if got, want := JobName("backup", at, false), "backup-29923800"; got != want {
		t.Errorf("JobName minutes = %q, want %q", got, want)
	}
	if got, want := JobName("backup", at, true), "backup-1795428030"; got != want {
		t.Errorf("JobName seconds = %q, want %q", got, want)
	}
}
