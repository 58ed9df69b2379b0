package scheduler

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// Schedule is a parsed cron schedule in its time zone.
//
// # Daylight-saving time (Vixie cron's rule)
//
// A field schedule is evaluated on wall-clock times in its zone. What happens
// when the clocks change depends on how the schedule was written, as in Vixie
// cron (cron(8): jobs at a particular time are run once; jobs with a wildcard
// in the minute or hour field run on the new time immediately):
//
//   - At fixed times: the minute and hour fields are both fixed values
//     ("30 2 * * *", "0 9,17 * * *", "0 1-3 * * *", @daily). A matching wall
//     time inside a spring-forward gap fires once, at the first instant after
//     the gap (several matching times inside one gap fire once, together). A
//     matching wall time inside the repeated autumn hour fires once, at its
//     first occurrence.
//   - On the clock: a * or a step in the minute or hour field ("0 * * * *",
//     "*/15 * * * *", "0-59/10 * * * *", "0 */2 * * *", @hourly). The schedule
//     follows the wall clock as it reads after the change: in the repeated
//     autumn hour its times occur again and fire again; wall times inside a
//     spring-forward gap do not exist, do not fire and are not made up.
//
// So in America/New_York on 2026-11-01 "30 1 * * *" fires at 01:30 EDT only,
// while "0 * * * *" fires at 01:00 EDT and again at 01:00 EST. On 2026-03-08
// "30 2 * * *" fires at 03:00 EDT, while "*/30 * * * *" goes from 01:30 EST to
// 03:00 EDT. robfig/cron (and so Kubernetes) instead skips gap times and fires
// repeated fixed times twice.
//
// "@every <duration>" is a fixed interval of real time counted from the
// previous run (or the CronJob's creation) and ignores the zone: it too keeps
// running through the repeated hour and makes nothing up for the gap.
type Schedule struct {
	expr    string
	loc     *time.Location
	seconds bool
	// onClock: a * or a step in the minute or hour field (see the DST rule).
	onClock bool
	// resolved is the expression with H replaced by values; "" without H.
	resolved string

	// Field schedules: bit sets as robfig/cron builds them (bit i = value i;
	// bit 63 marks a field written as * or ?). Day of week is 0–6, Sunday 0.
	second, minute, hour, dom, month, dow uint64
	// rules are the day-of-month and day-of-week items beyond bits (L, W, #).
	rules dayRules
	// @every schedules: the interval; zero for field schedules.
	every time.Duration
}

// ScheduleError is a schedule or time zone that cannot be used. It matches
// ErrInvalid with errors.Is.
type ScheduleError struct {
	Expr string
	Msg  string
	// NeedsName: the schedule uses H and was parsed without a CronJob name.
	NeedsName bool
}

func (e *ScheduleError) Error() string { return fmt.Sprintf("schedule %q: %s", e.Expr, e.Msg) }

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *ScheduleError) Unwrap() error { return ErrInvalid }

// starBit is robfig/cron's marker for a field written as * or ?.
const starBit = 1 << 63

// searchYears bounds the search for the next matching wall time. A schedule
// that can match at all matches within 8 years (29 February around 2100).
const searchYears = 10

var fieldParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// ParseSchedule parses a schedule and time zone (empty = UTC) that belongs to
// no CronJob: H is an error in it. See ParseCronJobSchedule.
func ParseSchedule(expr, timeZone string) (*Schedule, error) {
	return parseSchedule(expr, timeZone, nil)
}

// ScheduleOf parses a CronJob's schedule and time zone, resolving H from its
// namespace and name.
func ScheduleOf(cj *pb.CronJob) (*Schedule, error) {
	return ParseCronJobSchedule(cj.GetSpec().GetSchedule(), cj.GetSpec().GetTimeZone(), cj.GetMetadata().GetNamespace(), cj.GetMetadata().GetName())
}

// ParseCronJobSchedule parses the schedule and time zone (empty = UTC) of the
// CronJob namespace/name (an empty namespace is "default").
//
// It accepts the 5 standard fields (month and weekday names, ?, day of week 7
// as Sunday), an optional leading seconds field, the descriptors @yearly
// @annually @monthly @weekly @daily @midnight @hourly, and @every <duration>
// in whole seconds. A CRON_TZ= or TZ= prefix names the zone when timeZone is
// empty. Beyond robfig/cron it accepts, as Quartz and Nomad do, L, L-n, LW
// and nW in day-of-month and nL and n#k in day-of-week, and Jenkins' H (see
// schedule_fields.go), which picks values stably from namespace and name. A
// schedule that can never fire ("59 23 31 2 *") is an error, and so is any
// syntax it does not take, in words.
func ParseCronJobSchedule(expr, timeZone, namespace, name string) (*Schedule, error) {
	if namespace == "" {
		namespace = DefaultNamespace
	}
	return parseSchedule(expr, timeZone, &hashKey{namespace: namespace, name: name})
}

func parseSchedule(expr, timeZone string, key *hashKey) (*Schedule, error) {
	bad := func(format string, args ...any) error {
		return &ScheduleError{Expr: expr, Msg: fmt.Sprintf(format, args...)}
	}
	spec := strings.TrimSpace(expr)
	if spec == "" {
		return nil, bad("empty; want 5 fields (minute hour day-of-month month day-of-week), 6 with seconds, or a descriptor such as @daily")
	}
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		prefix, rest, _ := strings.Cut(spec, " ")
		if timeZone != "" {
			return nil, bad("%s in the schedule and timeZone %q both name a time zone; use only timeZone", prefix, timeZone)
		}
		_, timeZone, _ = strings.Cut(prefix, "=")
		if timeZone == "" {
			return nil, bad("%s names no time zone", prefix)
		}
		spec = strings.TrimSpace(rest)
		if spec == "" {
			return nil, bad("nothing after %s", prefix)
		}
	}
	loc, err := loadZone(timeZone)
	if err != nil {
		return nil, &ScheduleError{Expr: expr, Msg: err.Error()}
	}
	s := &Schedule{expr: expr, loc: loc}

	if strings.HasPrefix(spec, "@every") {
		arg := strings.TrimSpace(strings.TrimPrefix(spec, "@every"))
		if arg == "" {
			return nil, bad("@every needs a duration, such as @every 1h30m")
		}
		d, err := time.ParseDuration(arg)
		if err != nil {
			return nil, bad("@every: %q is not a duration (use units such as 90s, 5m, 1h30m)", arg)
		}
		if d < time.Second {
			return nil, bad("@every %s: the interval must be at least 1s", arg)
		}
		if d%time.Second != 0 {
			return nil, bad("@every %s: the interval must be whole seconds", arg)
		}
		s.every = d
		s.seconds = d%time.Minute != 0
		return s, nil
	}
	fields := strings.Fields(spec)
	if strings.HasPrefix(spec, "@") {
		d, ok := descriptors[spec]
		if !ok {
			return nil, bad("unknown descriptor %q; use @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every <duration>", spec)
		}
		fields = strings.Fields(d)
	}
	if len(fields) != 5 && len(fields) != 6 {
		return nil, bad("%d fields; want 5 (minute hour day-of-month month day-of-week) or 6 with a leading seconds field", len(fields))
	}
	if err := s.readFields(fields, key); err != nil {
		se := &ScheduleError{Expr: expr, Msg: err.Error()}
		var fe *fieldError
		if errors.As(err, &fe) {
			se.NeedsName = fe.needsName
		}
		return nil, se
	}
	if !s.canFire() {
		return nil, bad("never fires: no month in the schedule has the day of month it names")
	}
	return s, nil
}

// descriptors are the fields each @ descriptor stands for.
var descriptors = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

func loadZone(name string) (*time.Location, error) {
	switch name {
	case "", "UTC":
		return time.UTC, nil
	case "Local":
		return nil, errors.New(`time zone "Local" is not allowed; name an IANA zone such as Europe/Berlin`)
	}
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q (want an IANA name such as America/Los_Angeles)", name)
	}
	zones.Store(name, loc)
	return loc, nil
}

// zones holds every time zone loaded so far, by name: a Location never
// changes once loaded, and loading one reads the zone database and costs a
// few kilobytes, which a hundred thousand CronJobs in one zone should not
// pay a hundred thousand times. There are a few hundred zones.
var zones sync.Map

// readFields reads 5 or 6 fields: H first, then each field's items, then
// robfig/cron turns the standard items into bit sets.
func (s *Schedule) readFields(fields []string, key *hashKey) error {
	s.seconds = len(fields) == 6
	first := 6 - len(fields)
	resolved := make([]string, len(fields))
	std := make([]string, len(fields))
	onlyRules := make([]bool, len(fields))
	for i, text := range fields {
		f := cronFields[first+i]
		r, err := resolveHash(f, text, key)
		if err != nil {
			return err
		}
		resolved[i] = r
		if std[i], err = readField(f, r, &s.rules); err != nil {
			return err
		}
		if std[i] == "" {
			std[i], onlyRules[i] = "*", true
		}
		if first+i == fieldDow {
			if std[i], err = sundaySeven(std[i]); err != nil {
				return &fieldError{field: f.name, text: text, msg: err.Error()}
			}
		}
	}
	if r := strings.Join(resolved, " "); r != strings.Join(fields, " ") {
		s.resolved = r
	}
	minute, hour := fields[fieldMinute-first], fields[fieldHour-first]
	s.onClock = strings.ContainsAny(minute, "*/") || strings.ContainsAny(hour, "*/")
	parsed, err := fieldParser.Parse(strings.Join(std, " "))
	if err != nil {
		return fmt.Errorf("%s: %v", strings.Join(std, " "), err) // not expected: readField checked every item
	}
	ss := parsed.(*cron.SpecSchedule)
	s.second, s.minute, s.hour, s.dom, s.month, s.dow = ss.Second, ss.Minute, ss.Hour, ss.Dom, ss.Month, ss.Dow
	if onlyRules[fieldDom-first] {
		s.dom = 0
	}
	if onlyRules[fieldDow-first] {
		s.dow = 0
	}
	return nil
}

// sundaySeven rewrites a day-of-week field so that 7 means Sunday, as in
// crontab: "7" → "0", "5-7" → "5-6,0", "1-7/2" → "1-6/2,0".
func sundaySeven(field string) (string, error) {
	parts := strings.Split(field, ",")
	out := make([]string, 0, len(parts)+1)
	for _, p := range parts {
		rng, step, hasStep := strings.Cut(p, "/")
		lo, hi, isRange := strings.Cut(rng, "-")
		if !isRange {
			if lo == "7" {
				if hasStep {
					return "", fmt.Errorf("%q: a step needs a range starting before 7", p)
				}
				out = append(out, "0")
				continue
			}
			out = append(out, p)
			continue
		}
		if hi != "7" {
			out = append(out, p)
			continue
		}
		st := 1
		if hasStep {
			n, err := strconv.Atoi(step)
			if err != nil || n <= 0 {
				out = append(out, p) // let robfig name the problem
				continue
			}
			st = n
		}
		start, err := strconv.Atoi(lo)
		if err != nil {
			if v, ok := weekdayNames[strings.ToLower(lo)]; ok {
				start = v
			} else {
				out = append(out, p)
				continue
			}
		}
		if start == 7 {
			out = append(out, "0")
			continue
		}
		if start < 7 {
			r := lo + "-6"
			if hasStep {
				r += "/" + step
			}
			out = append(out, r)
			if (7-start)%st == 0 {
				out = append(out, "0")
			}
			continue
		}
		out = append(out, p)
	}
	return strings.Join(out, ","), nil
}

var weekdayNames = map[string]int{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}

// canFire reports whether some month of the schedule has a day it matches.
func (s *Schedule) canFire() bool {
	if s.month == 0 {
		return false
	}
	if s.dom&starBit == 0 && s.dow&starBit == 0 {
		return true // either day field may match; every weekday occurs in every month
	}
	if s.dom&starBit != 0 {
		return s.dow != 0 || s.rules.dow()
	}
	// Day of week is *: the day of month must exist in some month.
	maxDays := [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
	for m := 1; m <= 12; m++ {
		if s.month&(1<<m) == 0 {
			continue
		}
		if s.rules.lastWeekday || s.rules.lastDays&(1<<maxDays[m]-1) != 0 || s.rules.nearWeekday&(1<<(maxDays[m]+1)-1) != 0 {
			return true
		}
		if s.dom&(1<<(maxDays[m]+1)-1) != 0 {
			return true
		}
	}
	return false
}

// Next returns the first fire time strictly after t, or the zero time if none
// (only possible within the search bound for schedules that cannot fire).
func (s *Schedule) Next(t time.Time) time.Time {
	if s.every > 0 {
		return t.Add(s.every - time.Duration(t.Nanosecond())).In(s.loc)
	}
	if s.onClock {
		return s.nextOnClock(t)
	}
	after := s.effectiveWall(t)
	w := s.nextWall(after)
	if w.IsZero() {
		return time.Time{}
	}
	return s.instant(w)
}

// nextOnClock is Next for a schedule that follows the wall clock: the first
// instant after t whose wall-clock reading matches. Within one stretch of
// constant UTC offset the wall clock runs with real time, so the answer is
// the next matching wall time under t's offset, unless the offset changes
// first; then the search goes on from the change, at the wall time the clock
// shows then (earlier after falling back, later after springing forward).
func (s *Schedule) nextOnClock(t time.Time) time.Time {
	limit := t.AddDate(searchYears, 0, 0)
	after := s.wall(t)
	for at := t; at.Before(limit); {
		_, off := at.In(s.loc).Zone()
		_, end := at.In(s.loc).ZoneBounds()
		w := s.nextWall(after)
		if w.IsZero() {
			return time.Time{}
		}
		u := w.Add(-time.Duration(off) * time.Second)
		if end.IsZero() || u.Before(end) {
			return u.In(s.loc)
		}
		at = end
		after = s.wall(end).Add(-time.Second) // so that wall(end) itself may match
	}
	return time.Time{}
}

// NextTimes returns the next n fire times after from, in the schedule's zone.
// It returns fewer when the schedule stops firing within its search bound.
func (s *Schedule) NextTimes(from time.Time, n int) []time.Time {
	out := make([]time.Time, 0, max(n, 0))
	for t := from; len(out) < n; {
		if t = s.Next(t); t.IsZero() {
			break
		}
		out = append(out, t.In(s.Location()))
	}
	return out
}

// Expr returns the schedule as written.
func (s *Schedule) Expr() string { return s.expr }

// Resolved returns the fields with every H replaced by the values chosen for
// the CronJob ("H 3 * * *" → "17 3 * * *"), or "" when the schedule has no H.
func (s *Schedule) Resolved() string { return s.resolved }

// Every returns the interval of an @every schedule, or 0.
func (s *Schedule) Every() time.Duration { return s.every }

// HasSeconds reports whether ticks can fall inside a minute: a leading seconds
// field, or @every with an interval that is not whole minutes. Job names then
// carry unix seconds instead of unix minutes.
func (s *Schedule) HasSeconds() bool { return s.seconds }

// Location is the schedule's time zone.
func (s *Schedule) Location() *time.Location { return s.loc }

// JobName is the name of the Job for one tick of a CronJob:
// <cronjob>-<unix minutes>, or <cronjob>-<unix seconds> when hasSeconds. The
// same tick always yields the same name, on any leader.
func JobName(cronJob string, scheduled time.Time, hasSeconds bool) string {
	if hasSeconds {
		return cronJob + "-" + strconv.FormatInt(scheduled.Unix(), 10)
	}
	return cronJob + "-" + strconv.FormatInt(floorDiv(scheduled.Unix(), 60), 10)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// wall returns t's wall-clock reading in the schedule's zone as a UTC time
// with the same fields ("naive" time, free of DST).
func (s *Schedule) wall(t time.Time) time.Time {
	_, off := t.In(s.loc).Zone()
	return t.Add(time.Duration(off) * time.Second).UTC()
}

// effectiveWall is the latest wall-clock time already reached at instant t.
// Inside the second pass of a repeated hour it is the end of that hour (every
// wall time in it fired during the first pass); elsewhere it is t's wall time.
func (s *Schedule) effectiveWall(t time.Time) time.Time {
	w := s.wall(t)
	start, _ := t.In(s.loc).ZoneBounds()
	if start.IsZero() {
		return w
	}
	_, cur := start.In(s.loc).Zone()
	_, prev := start.Add(-time.Second).In(s.loc).Zone()
	if prev <= cur {
		return w
	}
	// Clocks went back at start by prev-cur seconds.
	end := s.wall(start).Add(time.Duration(prev-cur) * time.Second) // wall time where the repeat ends
	if w.Before(end) {
		return end.Add(-time.Nanosecond)
	}
	return w
}

// instant maps a wall-clock time to the instant it fires: the only one, the
// first of two (repeated hour), or the first instant after a gap.
func (s *Schedule) instant(w time.Time) time.Time {
	wu := w.Unix()
	var offs [3]int
	for i, probe := range []int64{wu - 86400, wu, wu + 86400} {
		_, offs[i] = time.Unix(probe, 0).In(s.loc).Zone()
	}
	var best time.Time
	minOff := offs[0]
	for _, o := range offs {
		minOff = min(minOff, o)
		u := time.Unix(wu-int64(o), 0)
		if _, got := u.In(s.loc).Zone(); got != o {
			continue
		}
		if best.IsZero() || u.Before(best) {
			best = u
		}
	}
	if !best.IsZero() {
		return best.In(s.loc)
	}
	// In a gap: with the offset before the gap, w lands just after the
	// transition; the transition is the first instant after the gap.
	start, _ := time.Unix(wu-int64(minOff), 0).In(s.loc).ZoneBounds()
	return start.In(s.loc)
}

// nextWall returns the first wall time strictly after `after` (whole seconds)
// that matches the fields, or zero beyond the search bound. It works on naive
// UTC times, so it needs no DST care, and it skips by field, not by second.
func (s *Schedule) nextWall(after time.Time) time.Time {
	t := after.Truncate(time.Second).Add(time.Second)
	limit := t.Year() + searchYears
wrap:
	if t.Year() > limit {
		return time.Time{}
	}
	for s.month&(1<<uint(t.Month())) == 0 {
		t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
		if t.Year() > limit {
			return time.Time{}
		}
	}
	for !s.dayMatches(t) {
		m := t.Month()
		t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC)
		if t.Month() != m {
			goto wrap
		}
	}
	if h, ok := nextBit(s.hour, t.Hour(), 23); !ok {
		t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC)
		goto wrap
	} else if h != t.Hour() {
		t = time.Date(t.Year(), t.Month(), t.Day(), h, 0, 0, 0, time.UTC)
	}
	if m, ok := nextBit(s.minute, t.Minute(), 59); !ok {
		t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, time.UTC)
		goto wrap
	} else if m != t.Minute() {
		t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), m, 0, 0, time.UTC)
	}
	if sec, ok := nextBit(s.second, t.Second(), 59); !ok {
		t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute()+1, 0, 0, time.UTC)
		goto wrap
	} else if sec != t.Second() {
		t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), sec, 0, time.UTC)
	}
	return t
}

// nextBit returns the smallest set bit >= from and <= max.
func nextBit(set uint64, from, max int) (int, bool) {
	m := set &^ starBit >> uint(from) << uint(from)
	if m == 0 {
		return 0, false
	}
	b := bits.TrailingZeros64(m)
	return b, b <= max
}

// dayMatches applies Vixie cron's rule: when either day field is * (or ?),
// both must match; otherwise either may. L, W and # items count as part of
// their field.
func (s *Schedule) dayMatches(t time.Time) bool {
	domMatch := s.dom&(1<<uint(t.Day())) != 0 || s.rules.dom() && s.rules.matchDom(t)
	dowMatch := s.dow&(1<<uint(t.Weekday())) != 0 || s.rules.dow() && s.rules.matchDow(t)
	if s.dom&starBit != 0 || s.dow&starBit != 0 {
		return domMatch && dowMatch
	}
	return domMatch || dowMatch
}
