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

// TestNextDST pins the wall-clock rule across the 2026 transitions:
// Los Angeles springs forward 2026-03-08 02:00 PST → 03:00 PDT (10:00Z) and
// falls back 2026-11-01 02:00 PDT → 01:00 PST (09:00Z); Berlin springs forward
// 2026-03-29 02:00 CET → 03:00 CEST (01:00Z) and falls back 2026-10-25 03:00
// CEST → 02:00 CET (01:00Z).
func TestNextDST(t *testing.T) {
	const la, berlin = "America/Los_Angeles", "Europe/Berlin"
	cases := []struct {
		name, expr, tz, from, to string
		want                     []string
	}{
		// Spring forward: a time in the gap fires once, at the end of the gap.
		{"LA daily 02:30 across spring forward", "30 2 * * *", la, "2026-03-07T08:00:00Z", "2026-03-10T00:00:00Z",
			[]string{"2026-03-07T10:30:00Z", "2026-03-08T10:00:00Z", "2026-03-09T09:30:00Z"}},
		{"LA hourly across spring forward", "0 * * * *", la, "2026-03-08T08:30:00Z", "2026-03-08T11:30:00Z",
			[]string{"2026-03-08T09:00:00Z", "2026-03-08T10:00:00Z", "2026-03-08T11:00:00Z"}},
		{"LA every 15 min across spring forward", "*/15 * * * *", la, "2026-03-08T09:40:00Z", "2026-03-08T10:20:00Z",
			[]string{"2026-03-08T09:45:00Z", "2026-03-08T10:00:00Z", "2026-03-08T10:15:00Z"}},
		{"LA seconds inside the gap fire once", "*/20 30 2 * * *", la, "2026-03-08T00:00:00Z", "2026-03-09T12:00:00Z",
			[]string{"2026-03-08T10:00:00Z", "2026-03-09T09:30:00Z", "2026-03-09T09:30:20Z", "2026-03-09T09:30:40Z"}},
		{"Berlin daily 02:30 across spring forward", "30 2 * * *", berlin, "2026-03-28T00:00:00Z", "2026-03-31T00:00:00Z",
			[]string{"2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"}},
		{"Berlin hourly across spring forward", "@hourly", berlin, "2026-03-28T23:30:00Z", "2026-03-29T02:30:00Z",
			[]string{"2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"}},
		{"Berlin every 15 min across spring forward", "*/15 * * * *", berlin, "2026-03-29T00:50:00Z", "2026-03-29T01:20:00Z",
			[]string{"2026-03-29T01:00:00Z", "2026-03-29T01:15:00Z"}},
		// Fall back: a time in the repeated hour fires once, at its first occurrence.
		{"LA 01:30 in November", "30 1 * * *", la, "2026-10-31T07:00:00Z", "2026-11-03T00:00:00Z",
			[]string{"2026-10-31T08:30:00Z", "2026-11-01T08:30:00Z", "2026-11-02T09:30:00Z"}},
		{"LA daily 02:30 across fall back", "30 2 * * *", la, "2026-10-31T00:00:00Z", "2026-11-02T12:00:00Z",
			[]string{"2026-10-31T09:30:00Z", "2026-11-01T10:30:00Z", "2026-11-02T10:30:00Z"}},
		{"LA hourly across fall back", "0 * * * *", la, "2026-11-01T07:30:00Z", "2026-11-01T11:30:00Z",
			[]string{"2026-11-01T08:00:00Z", "2026-11-01T10:00:00Z", "2026-11-01T11:00:00Z"}},
		{"LA every 15 min across fall back", "*/15 * * * *", la, "2026-11-01T08:40:00Z", "2026-11-01T10:20:00Z",
			[]string{"2026-11-01T08:45:00Z", "2026-11-01T10:00:00Z", "2026-11-01T10:15:00Z"}},
		{"LA from inside the second pass", "*/15 * * * *", la, "2026-11-01T09:10:00Z", "2026-11-01T10:00:00Z",
			[]string{"2026-11-01T10:00:00Z"}},
		{"Berlin 02:00 in October", "0 2 * * *", berlin, "2026-10-23T23:00:00Z", "2026-10-27T00:00:00Z",
			[]string{"2026-10-24T00:00:00Z", "2026-10-25T00:00:00Z", "2026-10-26T01:00:00Z"}},
		{"Berlin hourly across fall back", "@hourly", berlin, "2026-10-24T23:30:00Z", "2026-10-25T02:30:00Z",
			[]string{"2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z"}},
		{"Berlin every 15 min across fall back", "*/15 * * * *", berlin, "2026-10-25T00:40:00Z", "2026-10-25T02:20:00Z",
			[]string{"2026-10-25T00:45:00Z", "2026-10-25T02:00:00Z", "2026-10-25T02:15:00Z"}},
		{"@every ignores DST", "@every 1h", la, "2026-11-01T07:30:00Z", "2026-11-01T10:30:00Z",
			[]string{"2026-11-01T08:30:00Z", "2026-11-01T09:30:00Z", "2026-11-01T10:30:00Z"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := schedFires(t, schedParse(t, c.expr, c.tz), schedTime(t, c.from), schedTime(t, c.to))
			if strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("%q in %s from %s:\n got %v\nwant %v", c.expr, c.tz, c.from, got, c.want)
			}
		})
	}
}

// TestNextIsStrictlyIncreasing walks a year of a few schedules in DST zones
// and checks each fire is after the previous and matches the fields.
func TestNextIsStrictlyIncreasing(t *testing.T) {
	for _, tz := range []string{"America/Los_Angeles", "Europe/Berlin", "Australia/Lord_Howe", "UTC"} {
		for _, expr := range []string{"*/7 * * * *", "30 2 * * *", "0 */3 * * *"} {
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

func TestJobName(t *testing.T) {
	at := schedTime(t, "2026-11-23T10:00:30Z")
	if got, want := JobName("backup", at, false), "backup-29923800"; got != want {
		t.Errorf("JobName minutes = %q, want %q", got, want)
	}
	if got, want := JobName("backup", at, true), "backup-1795428030"; got != want {
		t.Errorf("JobName seconds = %q, want %q", got, want)
	}
}
