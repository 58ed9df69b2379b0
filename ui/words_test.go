package ui

import (
	"testing"
	"time"
)

func TestScheduleWords(t *testing.T) {
	for _, tc := range []struct {
		expr, resolved, zone, want string
	}{
		{"0 3 * * *", "", "Europe/Berlin", "at 03:00 every day, Europe/Berlin"},
		{"30 14 * * *", "", "", "at 14:30 every day"},
		{"H 3 * * *", "17 3 * * *", "", "at 03:17 every day"},
		{"0 9 * * 1", "", "", "at 09:00 every Monday"},
		{"0 9 * * 1-5", "", "UTC", "at 09:00 on weekdays, UTC"},
		{"15 4 1 * *", "", "", "at 04:15 on day 1 of every month"},
		{"*/15 * * * *", "", "", "every 15 minutes"},
		{"5 * * * *", "", "", "at minute 5 of every hour"},
		{"0 */6 * * *", "", "", "at minute 0 of every 6 hours"},
		{"* * * * *", "", "", "every minute"},
		{"* * * * * *", "", "", "every second"},
		{"*/10 * * * * *", "", "", "every 10 seconds"},
		{"@daily", "", "", "at 00:00 every day"},
		{"@hourly", "", "", "at minute 0 of every hour"},
		{"@every 90s", "", "", "every 1m30s"},
		// Anything else is shown as written.
		{"0 3 1,15 * *", "", "", "0 3 1,15 * *"},
		{"0 3 * 2 *", "", "Europe/Berlin", "0 3 * 2 *, Europe/Berlin"},
		{"7 3 * * * *", "", "", "7 3 * * * *"},
	} {
		if got := scheduleWords(tc.expr, tc.resolved, tc.zone); got != tc.want {
			t.Errorf("scheduleWords(%q, %q, %q) = %q; want %q", tc.expr, tc.resolved, tc.zone, got, tc.want)
		}
	}
}

func TestHumanDurationAndRelative(t *testing.T) {
	for d, want := range map[time.Duration]string{
		450 * time.Millisecond:         "450ms",
		12 * time.Second:               "12s",
		1500 * time.Millisecond:        "1.5s",
		3*time.Minute + 20*time.Second: "3m20s",
		5 * time.Minute:                "5m",
		2*time.Hour + 5*time.Minute:    "2h5m",
		76 * time.Hour:                 "3d4h",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%s) = %q; want %q", d, got, want)
		}
	}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	if got := relative(now.Add(3*time.Minute), now); got != "in 3m" {
		t.Errorf("relative(+3m) = %q", got)
	}
	if got := relative(now.Add(-5*time.Second), now); got != "5s ago" {
		t.Errorf("relative(-5s) = %q", got)
	}
	if got := relative(time.Time{}, now); got != "—" {
		t.Errorf("relative(zero) = %q", got)
	}
}

func TestSafeNextStaysInTheDashboard(t *testing.T) {
	for in, want := range map[string]string{
		"/ui/cronjobs?page=2":   "/ui/cronjobs?page=2",
		"https://evil.example/": "/ui/",
		"//evil.example/ui/":    "/ui/",
		"/ui/\\evil":            "/ui/",
		"/metrics":              "/ui/",
		"":                      "/ui/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q; want %q", in, got, want)
		}
	}
}
