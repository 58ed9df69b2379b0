package scheduler

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestNextExtendedDays pins L, L-n, LW, nW, nL and n#k on 2026's calendar
// (2026-01-01 is a Thursday), together with Vixie's day rule and the DST rule.
func TestNextExtendedDays(t *testing.T) {
	const ny = "America/New_York"
	cases := []struct {
		name, expr, tz, from string
		want                 []string
	}{
		{"last day", "0 9 L * *", "", "2026-01-15T00:00:00Z",
			[]string{"2026-01-31T09:00:00Z", "2026-02-28T09:00:00Z", "2026-03-31T09:00:00Z", "2026-04-30T09:00:00Z"}},
		{"last day of February in a leap year", "0 0 L 2 *", "", "2027-06-01T00:00:00Z",
			[]string{"2028-02-29T00:00:00Z", "2029-02-28T00:00:00Z"}},
		{"third-last day", "0 9 L-3 * *", "", "2026-01-15T00:00:00Z",
			[]string{"2026-01-28T09:00:00Z", "2026-02-25T09:00:00Z", "2026-03-28T09:00:00Z"}},
		{"L-0 is L", "0 9 L-0 * *", "", "2026-01-15T00:00:00Z",
			[]string{"2026-01-31T09:00:00Z", "2026-02-28T09:00:00Z"}},
		{"L-30 only in 31-day months", "0 0 L-30 * *", "", "2026-01-15T00:00:00Z",
			[]string{"2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z", "2026-07-01T00:00:00Z"}},
		// 2026-01-31 and 2026-02-28 are Saturdays, 2026-05-31 a Sunday.
		{"last weekday", "0 9 LW * *", "", "2026-01-15T00:00:00Z",
			[]string{"2026-01-30T09:00:00Z", "2026-02-27T09:00:00Z", "2026-03-31T09:00:00Z", "2026-04-30T09:00:00Z", "2026-05-29T09:00:00Z"}},
		// 2026-02-15 and 2026-03-15 are Sundays, 2026-08-15 a Saturday.
		{"weekday nearest the 15th", "0 9 15W * *", "", "2026-01-01T00:00:00Z",
			[]string{"2026-01-15T09:00:00Z", "2026-02-16T09:00:00Z", "2026-03-16T09:00:00Z", "2026-04-15T09:00:00Z",
				"2026-05-15T09:00:00Z", "2026-06-15T09:00:00Z", "2026-07-15T09:00:00Z", "2026-08-14T09:00:00Z"}},
		// 2026-08-01 is a Saturday: 1W does not move back into July.
		{"1W stays in the month", "0 9 1W 8 *", "", "2026-01-01T00:00:00Z",
			[]string{"2026-08-03T09:00:00Z", "2027-08-02T09:00:00Z"}},
		// 2026-05-31 is a Sunday: 31W does not move on into June.
		{"31W stays in the month", "0 9 31W 5 *", "", "2026-01-01T00:00:00Z",
			[]string{"2026-05-29T09:00:00Z", "2027-05-31T09:00:00Z"}},
		{"31W never fires in 30-day months", "0 9 31W 4,5 *", "", "2026-04-01T00:00:00Z",
			[]string{"2026-05-29T09:00:00Z", "2027-05-31T09:00:00Z"}},
		{"last Friday", "0 18 * * 5L", "", "2026-01-01T00:00:00Z",
			[]string{"2026-01-30T18:00:00Z", "2026-02-27T18:00:00Z", "2026-03-27T18:00:00Z"}},
		{"last Sunday as 7L and sunL", "0 0 * * 7L,sunL", "", "2026-01-01T00:00:00Z",
			[]string{"2026-01-25T00:00:00Z", "2026-02-22T00:00:00Z", "2026-03-29T00:00:00Z"}},
		{"second Monday", "0 10 * * 1#2", "", "2026-01-01T00:00:00Z",
			[]string{"2026-01-12T10:00:00Z", "2026-02-09T10:00:00Z", "2026-03-09T10:00:00Z"}},
		{"first and third Wednesday by name", "0 10 * * wed#1,WED#3", "", "2026-01-01T00:00:00Z",
			[]string{"2026-01-07T10:00:00Z", "2026-01-21T10:00:00Z", "2026-02-04T10:00:00Z", "2026-02-18T10:00:00Z"}},
		{"fifth Friday only where there is one", "0 0 * * 5#5", "", "2026-01-01T00:00:00Z",
			[]string{"2026-01-30T00:00:00Z", "2026-05-29T00:00:00Z", "2026-07-31T00:00:00Z", "2026-10-30T00:00:00Z"}},
		{"a list mixing days and L", "0 0 1,15,L * *", "", "2026-02-01T00:00:00Z",
			[]string{"2026-02-15T00:00:00Z", "2026-02-28T00:00:00Z", "2026-03-01T00:00:00Z"}},
		{"L with ? in day-of-week", "0 0 L * ?", "", "2026-02-01T00:00:00Z",
			[]string{"2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z"}},
		{"both day fields set: either matches (Vixie)", "0 0 L * 1#1", "", "2026-01-15T00:00:00Z",
			[]string{"2026-01-31T00:00:00Z", "2026-02-02T00:00:00Z", "2026-02-28T00:00:00Z", "2026-03-02T00:00:00Z"}},
		{"last weekday in a zone", "0 17 LW * *", "Asia/Tokyo", "2026-01-01T00:00:00Z",
			[]string{"2026-01-30T17:00:00+09:00", "2026-02-27T17:00:00+09:00"}},
		// The DST rule applies uniformly: New York springs forward on the
		// second Sunday of March, 2026-03-08.
		{"fixed time on the second Sunday of March", "30 2 * 3 0#2", ny, "2026-01-01T00:00:00Z",
			[]string{"2026-03-08T03:00:00-04:00", "2027-03-14T03:00:00-04:00"}},
		{"on the clock on the second and third Sundays of March", "*/30 2 * 3 0#2,0#3", ny, "2026-01-01T00:00:00Z",
			[]string{"2026-03-15T02:00:00-04:00", "2026-03-15T02:30:00-04:00", "2027-03-21T02:00:00-04:00"}},
		// ...and falls back on the first Sunday of November, 2026-11-01.
		{"hourly on the first Sunday of November", "0 1 * 11 sun#1", ny, "2026-10-01T00:00:00Z",
			[]string{"2026-11-01T01:00:00-04:00", "2027-11-07T01:00:00-04:00"}},
		{"on the clock on the first Sunday of November", "0 */1 * 11 sun#1", ny, "2026-11-01T04:30:00Z",
			[]string{"2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := schedFiresIn(t, schedParse(t, c.expr, c.tz), schedTime(t, c.from), len(c.want))
			if strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("%q in %q from %s:\n got %v\nwant %v", c.expr, c.tz, c.from, got, c.want)
			}
		})
	}
}

// TestDayRulesAgainstCounting checks L, LW, nW, nL and n#k day by day over
// several years against definitions written the slow way: counting days.
func TestDayRulesAgainstCounting(t *testing.T) {
	weekday := func(d time.Time) bool { return d.Weekday() != time.Saturday && d.Weekday() != time.Sunday }
	sameMonth := func(d time.Time) []time.Time {
		var out []time.Time
		for x := time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC); x.Month() == d.Month(); x = x.AddDate(0, 0, 1) {
			out = append(out, x)
		}
		return out
	}
	oracles := []struct {
		expr string
		want func(d time.Time) bool
	}{
		{"0 0 L * *", func(d time.Time) bool { return d.AddDate(0, 0, 1).Day() == 1 }},
		{"0 0 L-5 * *", func(d time.Time) bool { return d.AddDate(0, 0, 6).Day() == 1 }},
		{"0 0 LW * *", func(d time.Time) bool {
			days := sameMonth(d)
			for i := len(days) - 1; i >= 0; i-- {
				if weekday(days[i]) {
					return days[i].Day() == d.Day()
				}
			}
			return false
		}},
		{"0 0 1W,16W,30W * *", func(d time.Time) bool {
			for _, n := range []int{1, 16, 30} {
				days := sameMonth(d)
				if n > len(days) {
					continue
				}
				best := -1
				for _, x := range days { // the weekday closest to n; the earlier one on a tie
					if weekday(x) && (best < 0 || abs(x.Day()-n) < abs(best-n)) {
						best = x.Day()
					}
				}
				if best == d.Day() {
					return true
				}
			}
			return false
		}},
		{"0 0 * * 2L,6L", func(d time.Time) bool {
			return (d.Weekday() == time.Tuesday || d.Weekday() == time.Saturday) && d.AddDate(0, 0, 7).Month() != d.Month()
		}},
		{"0 0 * * 1#2,4#5", func(d time.Time) bool {
			nth := 0
			for _, x := range sameMonth(d) {
				if x.Weekday() == d.Weekday() {
					nth++
				}
				if x.Day() == d.Day() {
					break
				}
			}
			return d.Weekday() == time.Monday && nth == 2 || d.Weekday() == time.Thursday && nth == 5
		}},
	}
	for _, o := range oracles {
		s := schedParse(t, o.expr, "")
		var want []string
		for d := schedTime(t, "2026-01-01T00:00:00Z"); d.Year() < 2030; d = d.AddDate(0, 0, 1) {
			if o.want(d) {
				want = append(want, d.Format(time.RFC3339))
			}
		}
		got := schedFires(t, s, schedTime(t, "2025-12-31T23:00:00Z"), schedTime(t, "2029-12-31T23:59:59Z"))
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%q:\n got %v\nwant %v", o.expr, got, want)
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestHash pins Jenkins' H: values chosen stably from namespace and name,
// within the field's range or the one given, shown by Resolved.
func TestHash(t *testing.T) {
	parse := func(expr, ns, name string) *Schedule {
		t.Helper()
		s, err := ParseCronJobSchedule(expr, "", ns, name)
		if err != nil {
			t.Fatalf("ParseCronJobSchedule(%q, %s/%s): %v", expr, ns, name, err)
		}
		return s
	}
	// Stable: the same CronJob gets the same minute on every parse (every
	// leader), and a plain schedule has nothing to resolve.
	a := parse("H 3 * * *", "data", "nightly-report")
	if b := parse("H 3 * * *", "data", "nightly-report"); a.Resolved() != b.Resolved() {
		t.Fatalf("H not stable: %q vs %q", a.Resolved(), b.Resolved())
	}
	if got := parse("0 3 * * *", "data", "nightly-report").Resolved(); got != "" {
		t.Errorf("Resolved of a schedule without H = %q, want empty", got)
	}
	// Pinned: a change to the hash would move every H CronJob at once.
	for _, p := range []struct{ expr, ns, name, want string }{
		{"H 3 * * *", "data", "nightly-report", "21 3 * * *"},
		{"H 3 * * *", "default", "nightly-report", "18 3 * * *"},
		{"H/15 * * * *", "default", "hello", "3-59/15 * * * *"},
		{"H(0-29) 13 * * *", "default", "hello", "18 13 * * *"},
	} {
		if got := parse(p.expr, p.ns, p.name).Resolved(); got != p.want {
			t.Errorf("%q for %s/%s resolved to %q, want %q", p.expr, p.ns, p.name, got, p.want)
		}
	}
	// "" namespace is "default".
	if x, y := parse("H 3 * * *", "", "r"), parse("H 3 * * *", "default", "r"); x.Resolved() != y.Resolved() {
		t.Errorf("empty namespace resolves to %q, default to %q", x.Resolved(), y.Resolved())
	}

	// Spread: over many CronJobs, H lands in range, covers it, and differs
	// by name and by namespace.
	cases := []struct {
		expr  string
		check func(r string) error
		want  int // at least this many distinct resolutions over 200 names
	}{
		{"H 3 * * *", matchResolved(`^(\d+) 3 \* \* \*$`, 0, 59), 40},
		{"H H * * *", matchResolved(`^(\d+) (\d+) \* \* \*$`, 0, 59, 0, 23), 100},
		{"H(0-29) 3 * * *", matchResolved(`^(\d+) 3 \* \* \*$`, 0, 29), 25},
		{"H/15 * * * *", matchResolved(`^(\d+)-59/15 \* \* \* \*$`, 0, 14), 15},
		{"H(10-40)/20 * * * *", matchResolved(`^(\d+)-40/20 \* \* \* \*$`, 10, 29), 18},
		{"0 0 H * *", matchResolved(`^0 0 (\d+) \* \*$`, 1, 28), 25},
		{"0 0 * * H", matchResolved(`^0 0 \* \* (\d+)$`, 0, 6), 7},
		{"0 0 1 H *", matchResolved(`^0 0 1 (\d+) \*$`, 1, 12), 12},
		{"H,30 * * * *", matchResolved(`^(\d+),30 \* \* \* \*$`, 0, 59), 40},
		{"H 0 * * * *", matchResolved(`^(\d+) 0 \* \* \* \*$`, 0, 59), 40},
	}
	for _, c := range cases {
		seen := map[string]bool{}
		for i := 0; i < 200; i++ {
			r := parse(c.expr, "default", fmt.Sprintf("job-%d", i)).Resolved()
			if err := c.check(r); err != nil {
				t.Fatalf("%q for job-%d resolved to %q: %v", c.expr, i, r, err)
			}
			seen[r] = true
		}
		if len(seen) < c.want {
			t.Errorf("%q: %d distinct resolutions over 200 names, want at least %d", c.expr, len(seen), c.want)
		}
	}
	differ := 0
	for i := 0; i < 50; i++ {
		name := fmt.Sprintf("job-%d", i)
		if parse("H H * * *", "team-a", name).Resolved() != parse("H H * * *", "team-b", name).Resolved() {
			differ++
		}
	}
	if differ < 45 {
		t.Errorf("namespace changes H for only %d of 50 names", differ)
	}

	// The resolved schedule is what fires, and the DST rule follows the
	// written form: H alone is a fixed time, H/n is on the clock.
	s := parse("H 1 * * *", "default", "report")
	var m int
	if _, err := fmt.Sscanf(s.Resolved(), "%d 1 * * *", &m); err != nil {
		t.Fatalf("resolved %q: %v", s.Resolved(), err)
	}
	got := schedFiresIn(t, s, schedTime(t, "2026-11-01T00:00:00Z"), 2)
	want := []string{fmt.Sprintf("2026-11-01T01:%02d:00Z", m), fmt.Sprintf("2026-11-02T01:%02d:00Z", m)}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("H 1 * * *: got %v, want %v", got, want)
	}
	fixed, err := ParseCronJobSchedule("H 1 * * *", "America/New_York", "default", "report")
	if err != nil || fixed.onClock {
		t.Errorf("H 1 * * *: err %v, on the clock %v; want a fixed time", err, fixed != nil && fixed.onClock)
	}
	clock, err := ParseCronJobSchedule("H/15 * * * *", "America/New_York", "default", "report")
	if err != nil || !clock.onClock {
		t.Errorf("H/15 * * * *: err %v; want on the clock", err)
	}
	if got := schedFiresIn(t, fixed, schedTime(t, "2026-11-01T04:00:00Z"), 2); !strings.HasSuffix(got[0], "-04:00") || !strings.HasPrefix(got[1], "2026-11-02") {
		t.Errorf("H 1 * * * in New York fires twice in the repeated hour: %v", got)
	}

	// Without a CronJob, H is an error that says what is missing.
	_, err = ParseSchedule("H 3 * * *", "")
	var se *ScheduleError
	if !errors.As(err, &se) || !se.NeedsName || !strings.Contains(err.Error(), "namespace and name") {
		t.Errorf("H without a name: %v", err)
	}
}

// matchResolved checks a resolved expression against re and each captured
// number against a [lo, hi] pair.
func matchResolved(re string, bounds ...int) func(string) error {
	return func(r string) error {
		var m []string
		if m = regexp.MustCompile(re).FindStringSubmatch(r); m == nil {
			return fmt.Errorf("does not match %s", re)
		}
		for i := 1; i < len(m); i++ {
			var v int
			fmt.Sscan(m[i], &v)
			if lo, hi := bounds[2*(i-1)], bounds[2*(i-1)+1]; v < lo || v > hi {
				return fmt.Errorf("%d outside %d-%d", v, lo, hi)
			}
		}
		return nil
	}
}

// TestParseScheduleErrorsInWords: every unsupported input gets an error that
// names the field and says what is wrong, never a Go parsing message.
func TestParseScheduleErrorsInWords(t *testing.T) {
	cases := []struct {
		expr string
		want string // the whole message after `schedule "EXPR": `
	}{
		{"? * * * *", "minute \"?\": `?` is only allowed in day-of-month or day-of-week"},
		{"0 ? * * *", "hour \"?\": `?` is only allowed in day-of-month or day-of-week"},
		{"0 0 ?,1 * *", "day-of-month \"?,1\": \"?\": `?` must stand alone"},
		{"0 0 1#2 * *", "day-of-month \"1#2\": `#` is only allowed in day-of-week, as 1#2 for the second Monday"},
		{"0 0 * * 1#6", `day-of-week "1#6": after # comes which occurrence in the month, 1 to 5, as 1#2 for the second Monday`},
		{"0 0 * * 1#x", `day-of-week "1#x": after # comes which occurrence in the month, 1 to 5, as 1#2 for the second Monday`},
		{"0 0 * * 9#2", `day-of-week "9#2": 9 is out of range 0-7`},
		{"0 0 * * L", "day-of-week \"L\": `L` alone in day-of-week is ambiguous; write 5L for the last Friday of the month, or 6 for every Saturday"},
		{"0 0 * * 8L", `day-of-week "8L": L follows one weekday, as 5L for the last Friday of the month: 8 is out of range 0-7`},
		{"5L * * * *", "minute \"5L\": `L` (last) is only allowed in day-of-month or day-of-week"},
		{"0 0 * 1W *", "month \"1W\": `W` (nearest weekday) is only allowed in day-of-month, as 15W or LW"},
		{"0 0 L-31 * *", `day-of-month "L-31": L-n counts days back from the last day of the month; n must be 0 to 30`},
		{"0 0 32W * *", `day-of-month "32W": W follows a day of the month, 1 to 31, as 15W for the weekday nearest the 15th (or LW)`},
		{"0 0 L/2 * *", `day-of-month "L/2": day-of-month takes L, L-n, LW and nW (as 15W) besides numbers, ranges and steps`},
		{"0 0 1,L,5#2 * *", "day-of-month \"1,L,5#2\": \"5#2\": `#` is only allowed in day-of-week, as 1#2 for the second Monday"},
		{"a * * * *", `minute "a": "a" is not a number`},
		{"0 0 * * mond", `day-of-week "mond": "mond" is not a number or a weekday name (sun-sat)`},
		{"0 0 * foo *", `month "foo": "foo" is not a number or a month name (jan-dec)`},
		{"61 * * * *", `minute "61": 61 is out of range 0-59`},
		{"5-1 * * * *", `minute "5-1": the range 5-1 goes backwards; write it from low to high`},
		{"1-2-3 * * * *", `minute "1-2-3": not a value, a range a-b, or a step such as */5 or a-b/n`},
		{"*/x * * * *", `minute "*/x": the step "x" is not a number`},
		{"*/0 * * * *", `minute "*/0": the step must be at least 1`},
		{"0 0 1,,2 * *", `day-of-month "1,,2": an item of the list is empty`},
		{"0 0 * * 1-5L", `day-of-week "1-5L": L follows one weekday, as 5L for the last Friday of the month: "1-5" is not a number or a weekday name (sun-sat)`},
		{"H(0-60) * * * *", `minute "H(0-60)": 60 is out of range 0-59`},
		{"H(30-10),5 * * * *", `minute "H(30-10),5": "H(30-10)": the range 30-10 goes backwards`},
		{"H/0 * * * *", `minute "H/0": the step "0" must be a whole number of at least 1`},
		{"H(0-29 * * * *", `minute "H(0-29": missing ) after H(; H takes the forms H, H/n, H(a-b) and H(a-b)/n`},
		{"Hx * * * *", `minute "Hx": H takes the forms H, H/n, H(a-b) and H(a-b)/n`},
		{"0 0 L-30 2 *", "never fires: no month in the schedule has the day of month it names"},
		{"0 0 31W 4 *", "never fires: no month in the schedule has the day of month it names"},
	}
	for _, c := range cases {
		_, err := ParseCronJobSchedule(c.expr, "", "default", "x")
		if err == nil {
			t.Errorf("%q: no error", c.expr)
			continue
		}
		want := fmt.Sprintf("schedule %q: %s", c.expr, c.want)
		if err.Error() != want {
			t.Errorf("%q:\n got %s\nwant %s", c.expr, err, want)
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: %v is not ErrInvalid", c.expr, err)
		}
		for _, goSpeak := range []string{"strconv", "Atoi", "invalid syntax", "failed to parse"} {
			if strings.Contains(err.Error(), goSpeak) {
				t.Errorf("%q: %v speaks Go (%s)", c.expr, err, goSpeak)
			}
		}
	}
}
