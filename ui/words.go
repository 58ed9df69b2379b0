package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

var weekdays = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}

var descriptors = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

// scheduleWords says a simple schedule in words ("at 03:00 every day,
// Europe/Berlin"); for any other it returns the expression as written.
// resolved is the expression with H fields resolved, when it has them.
func scheduleWords(expr, resolved, zone string) string {
	words := describe(expr, resolved)
	if words == "" {
		words = expr
	}
	if zone != "" {
		words += ", " + zone
	}
	return words
}

func describe(expr, resolved string) string {
	e := strings.TrimSpace(expr)
	if d, ok := strings.CutPrefix(e, "@every "); ok {
		if dur, err := time.ParseDuration(strings.TrimSpace(d)); err == nil {
			return "every " + humanDuration(dur)
		}
		return ""
	}
	if r, ok := descriptors[strings.ToLower(e)]; ok {
		e = r
	}
	if resolved != "" {
		e = resolved
	}
	f := strings.Fields(e)
	if len(f) == 6 {
		if f[0] == "*" && f[1] == "*" && f[2] == "*" && f[3] == "*" && f[4] == "*" && f[5] == "*" {
			return "every second"
		}
		if n, ok := step(f[0]); ok && f[1] == "*" && f[2] == "*" && f[3] == "*" && f[4] == "*" && f[5] == "*" {
			return fmt.Sprintf("every %d seconds", n)
		}
		if f[0] != "0" {
			return ""
		}
		f = f[1:]
	}
	if len(f) != 5 {
		return ""
	}
	min, hour, dom, mon, dow := f[0], f[1], f[2], f[3], f[4]
	if mon != "*" {
		if min == "0" && hour == "0" && dom == "1" && mon == "1" && dow == "*" {
			return "at 00:00 on 1 January every year"
		}
		return ""
	}
	m, mOK := num(min, 59)
	h, hOK := num(hour, 23)
	switch {
	case min == "*" && hour == "*" && dom == "*" && dow == "*":
		return "every minute"
	case hour == "*" && dom == "*" && dow == "*":
		if n, ok := step(min); ok {
			return fmt.Sprintf("every %d minutes", n)
		}
		if mOK {
			return fmt.Sprintf("at minute %d of every hour", m)
		}
	case mOK && hOK && dom == "*" && dow == "*":
		return fmt.Sprintf("at %02d:%02d every day", h, m)
	case mOK && hOK && dom == "*" && dow == "1-5":
		return fmt.Sprintf("at %02d:%02d on weekdays", h, m)
	case mOK && hOK && dom == "*":
		if d, ok := num(dow, 7); ok {
			return fmt.Sprintf("at %02d:%02d every %s", h, m, weekdays[d])
		}
	case mOK && hOK && dow == "*":
		if d, ok := num(dom, 31); ok && d >= 1 {
			return fmt.Sprintf("at %02d:%02d on day %d of every month", h, m, d)
		}
	case mOK && dom == "*" && dow == "*":
		if n, ok := step(hour); ok {
			return fmt.Sprintf("at minute %d of every %d hours", m, n)
		}
	}
	return ""
}

func num(s string, max int) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0 && n <= max
}

// step reads "*/n".
func step(s string) (int, bool) {
	d, ok := strings.CutPrefix(s, "*/")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(d)
	return n, err == nil && n > 0
}

// humanDuration prints a duration briefly: 450ms, 12s, 3m20s, 2h5m, 3d4h.
func humanDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		s := d.Round(100 * time.Millisecond).Seconds()
		if s == float64(int(s)) {
			return fmt.Sprintf("%ds", int(s))
		}
		return fmt.Sprintf("%.1fs", s)
	case d < time.Hour:
		d = d.Round(time.Second)
		return trimZero(fmt.Sprintf("%dm%ds", int(d.Minutes()), int(d.Seconds())%60))
	case d < 48*time.Hour:
		d = d.Round(time.Minute)
		return trimZero(fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60))
	}
	d = d.Round(time.Hour)
	return trimZero(fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24))
}

// trimZero drops a zero last unit: "5m0s" → "5m" (but "3m20s" stays).
func trimZero(s string) string {
	for _, z := range []string{"0s", "0m", "0h"} {
		rest, ok := strings.CutSuffix(s, z)
		if ok && rest != "" && (rest[len(rest)-1] < '0' || rest[len(rest)-1] > '9') {
			return rest
		}
	}
	return s
}

// relative says when t is from now: "in 3m", "5s ago".
func relative(t, now time.Time) string {
	if t.IsZero() {
		return "—"
	}
	d := t.Sub(now)
	if d >= 0 {
		return "in " + humanDuration(d)
	}
	return humanDuration(-d) + " ago"
}
