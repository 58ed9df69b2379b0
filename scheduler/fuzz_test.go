package scheduler

import (
	"testing"
	"time"
)

// FuzzParseCronJobSchedule: no schedule string panics the parser, and a
// schedule that parses yields increasing fire times. The seed corpus is
// here and in testdata/fuzz/FuzzParseCronJobSchedule; `make fuzz` runs it
// for longer.
func FuzzParseCronJobSchedule(f *testing.F) {
	for _, s := range []string{"*/5 * * * *", "0 3 * * *", "@hourly", "@every 90s", "H H * * *", "0 0 L * *",
		"0 0 LW * *", "0 0 * * 5L", "0 0 * * 1#3", "CRON_TZ=Europe/Berlin 30 2 * * *", "59 23 31 2 *",
		"*/0 * * * *", "1-60/7 * * * *", "0 0 29 2 *", "@every 0s", "* * * * * * *", "H(0-29)/10 * * * *"} {
		f.Add(s, "")
	}
	f.Add("30 2 * * *", "America/New_York")
	f.Add("0 * * * *", "Australia/Lord_Howe")
	from := time.Date(2026, 3, 8, 1, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, expr, tz string) {
		s, err := ParseCronJobSchedule(expr, tz, "default", "fuzz")
		if err != nil {
			return
		}
		prev := from
		for _, next := range s.NextTimes(from, 3) {
			if !next.After(prev) {
				t.Fatalf("%q in %q: next time %s is not after %s", expr, tz, next, prev)
			}
			prev = next
		}
	})
}
