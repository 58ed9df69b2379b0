package scheduler

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
)

// This file reads the fields of a cron expression. It owns the grammar and
// its errors in words; robfig/cron turns the standard items (values, ranges,
// steps, names, * and ?) into bit sets. The extensions robfig does not know
// are handled here:
//
//   - H (Jenkins' hash) in any field: H, H/n, H(a-b), H(a-b)/n, replaced
//     before anything else by values chosen stably from the CronJob's
//     namespace and name;
//   - in day-of-month: L (last day), L-n (n days before the last day), LW
//     (last weekday, Monday to Friday), nW (the weekday nearest day n, within
//     the month);
//   - in day-of-week: nL (the last weekday n of the month, 5L = last Friday)
//     and n#k (the k-th weekday n of the month, 1#2 = second Monday).
//
// These become dayRules, which Schedule.dayMatches applies next to the bits.

// cronField describes one field of an expression.
type cronField struct {
	name     string
	min, max int
	hashMax  int    // the top of H's default range (28 for day-of-month: every month has it)
	names    string // what a name in this field is called, or "" when names are not allowed
}

// cronFields are the six fields in order; a 5-field expression starts at minute.
var cronFields = [6]cronField{
	{"second", 0, 59, 59, ""},
	{"minute", 0, 59, 59, ""},
	{"hour", 0, 23, 23, ""},
	{"day-of-month", 1, 31, 28, ""},
	{"month", 1, 12, 12, "month name (jan-dec)"},
	{"day-of-week", 0, 7, 6, "weekday name (sun-sat)"},
}

const (
	fieldSecond = iota
	fieldMinute
	fieldHour
	fieldDom
	fieldMonth
	fieldDow
)

var monthNames = map[string]int{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}

// dayRules are the day-of-month and day-of-week items that bits cannot say.
type dayRules struct {
	lastDays    uint32   // bit n: the day n days before the last day of the month (L = bit 0, L-3 = bit 3)
	lastWeekday bool     // LW
	nearWeekday uint32   // bit d: dW, the weekday nearest day d
	lastDow     uint8    // bit w: wL, the last weekday w of the month
	nthDow      [7]uint8 // bit k of nthDow[w]: w#k
}

func (r dayRules) dom() bool { return r.lastDays != 0 || r.lastWeekday || r.nearWeekday != 0 }

func (r dayRules) dow() bool {
	if r.lastDow != 0 {
		return true
	}
	for _, k := range r.nthDow {
		if k != 0 {
			return true
		}
	}
	return false
}

// matchDom reports whether day-of-month rules match the day t (a naive UTC time).
func (r dayRules) matchDom(t time.Time) bool {
	d, last := t.Day(), daysIn(t.Year(), t.Month())
	if r.lastDays&(1<<uint(last-d)) != 0 {
		return true
	}
	if r.lastWeekday && d == nearestWeekday(t.Year(), t.Month(), last) {
		return true
	}
	for n := 1; n <= 31 && r.nearWeekday>>uint(n) != 0; n++ {
		if r.nearWeekday&(1<<uint(n)) != 0 && n <= last && d == nearestWeekday(t.Year(), t.Month(), n) {
			return true
		}
	}
	return false
}

// matchDow reports whether day-of-week rules match the day t.
func (r dayRules) matchDow(t time.Time) bool {
	w, d := t.Weekday(), t.Day()
	if r.lastDow&(1<<uint(w)) != 0 && d+7 > daysIn(t.Year(), t.Month()) {
		return true
	}
	return r.nthDow[w]&(1<<uint((d-1)/7+1)) != 0
}

func daysIn(year int, month time.Month) int {
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// nearestWeekday is the Monday-to-Friday day nearest day d of the month,
// without leaving the month (as Quartz's W): a Saturday moves to the Friday
// before, or to the Monday after when d is the 1st; a Sunday moves to the
// Monday after, or to the Friday before when d is the last day.
func nearestWeekday(year int, month time.Month, d int) int {
	last := daysIn(year, month)
	switch time.Date(year, month, d, 0, 0, 0, 0, time.UTC).Weekday() {
	case time.Saturday:
		if d == 1 {
			return 3
		}
		return d - 1
	case time.Sunday:
		if d == last {
			return d - 2
		}
		return d + 1
	}
	return d
}

// hashKey is what H hashes: the CronJob's namespace and name.
type hashKey struct{ namespace, name string }

// hashIn returns a value in [lo, lo+n) chosen stably from the key and field.
func (k hashKey) hashIn(field string, lo, n int) int {
	h := fnv.New64a()
	h.Write([]byte(k.namespace + "/" + k.name + "/" + field))
	return lo + int(h.Sum64()%uint64(n))
}

// fieldError is a problem with one field; ParseSchedule names the field.
type fieldError struct {
	field, text string
	item        string // the list item at fault, when the field has several
	msg         string
	needsName   bool
}

func (e *fieldError) Error() string {
	if e.item != "" && e.item != e.text {
		return fmt.Sprintf("%s %q: %q: %s", e.field, e.text, e.item, e.msg)
	}
	return fmt.Sprintf("%s %q: %s", e.field, e.text, e.msg)
}

// resolveHash replaces every H item of a field with plain values. key nil
// means no CronJob is known, and H is an error.
func resolveHash(f cronField, text string, key *hashKey) (string, error) {
	if !strings.Contains(text, "H") {
		return text, nil
	}
	items := strings.Split(text, ",")
	for i, item := range items {
		if !strings.HasPrefix(item, "H") {
			continue
		}
		bad := func(format string, args ...any) error {
			return &fieldError{field: f.name, text: text, item: item, msg: fmt.Sprintf(format, args...)}
		}
		if key == nil {
			e := bad("H picks a value from the CronJob's namespace and name, and no CronJob name was given").(*fieldError)
			e.needsName = true
			return "", e
		}
		const forms = "H takes the forms H, H/n, H(a-b) and H(a-b)/n"
		rest := item[1:]
		lo, hi := f.min, f.hashMax
		if strings.HasPrefix(rest, "(") {
			inner, after, ok := strings.Cut(rest[1:], ")")
			if !ok {
				return "", bad("missing ) after H(; %s", forms)
			}
			a, b, ok := strings.Cut(inner, "-")
			if !ok {
				return "", bad("H(a-b) needs a range, as H(0-29); %s", forms)
			}
			var err error
			if lo, err = fieldValue(f, a); err != nil {
				return "", bad("%s", err)
			}
			if hi, err = fieldValue(f, b); err != nil {
				return "", bad("%s", err)
			}
			if lo > hi {
				return "", bad("the range %d-%d goes backwards", lo, hi)
			}
			rest = after
		}
		switch {
		case rest == "":
			items[i] = strconv.Itoa(key.hashIn(f.name, lo, hi-lo+1))
		case strings.HasPrefix(rest, "/"):
			step, err := strconv.Atoi(rest[1:])
			if err != nil || step < 1 {
				return "", bad("the step %q must be a whole number of at least 1", rest[1:])
			}
			start := key.hashIn(f.name, lo, min(step, hi-lo+1))
			items[i] = fmt.Sprintf("%d-%d/%d", start, hi, step)
		default:
			return "", bad("%s", forms)
		}
	}
	return strings.Join(items, ","), nil
}

// fieldValue reads one number or name of a field and checks its range.
func fieldValue(f cronField, s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		lower := strings.ToLower(s)
		var ok bool
		switch f.name {
		case "month":
			n, ok = monthNames[lower]
		case "day-of-week":
			n, ok = weekdayNames[lower]
		}
		if ok {
			return n, nil
		}
		if s == "" {
			return 0, fmt.Errorf("a value is missing")
		}
		if f.names != "" {
			return 0, fmt.Errorf("%q is not a number or a %s", s, f.names)
		}
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if n < f.min || n > f.max {
		return 0, fmt.Errorf("%d is out of range %d-%d", n, f.min, f.max)
	}
	return n, nil
}

// readField checks one field (after H is resolved) and splits it into the
// standard items for robfig, joined again, and the day rules. A field of
// rules only has no standard items ("").
func readField(f cronField, text string, rules *dayRules) (string, error) {
	items := strings.Split(text, ",")
	std := items[:0:0]
	for _, item := range items {
		bad := func(format string, args ...any) error {
			return &fieldError{field: f.name, text: text, item: item, msg: fmt.Sprintf(format, args...)}
		}
		upper := strings.ToUpper(item)
		switch {
		case item == "":
			return "", bad("an item of the list is empty")
		case item == "?" && (f.name == "day-of-month" || f.name == "day-of-week"):
			if len(items) > 1 {
				return "", bad("`?` must stand alone")
			}
		case f.name == "day-of-month" && (strings.HasPrefix(upper, "L") || strings.HasSuffix(upper, "W")):
			if err := readDomRule(upper, rules); err != nil {
				return "", bad("%v", err)
			}
			continue
		case f.name == "day-of-week" && strings.Contains(item, "#"):
			w, k, _ := strings.Cut(item, "#")
			wd, err := fieldValue(f, w)
			if err != nil {
				return "", bad("%v", err)
			}
			n, err := strconv.Atoi(k)
			if err != nil || n < 1 || n > 5 {
				return "", bad("after # comes which occurrence in the month, 1 to 5, as 1#2 for the second Monday")
			}
			rules.nthDow[wd%7] |= 1 << uint(n)
			continue
		case f.name == "day-of-week" && upper == "L":
			return "", bad("`L` alone in day-of-week is ambiguous; write 5L for the last Friday of the month, or 6 for every Saturday")
		case f.name == "day-of-week" && strings.HasSuffix(upper, "L"):
			wd, err := fieldValue(f, item[:len(item)-1])
			if err != nil {
				return "", bad("L follows one weekday, as 5L for the last Friday of the month: %v", err)
			}
			rules.lastDow |= 1 << uint(wd%7)
			continue
		default:
			if err := checkItem(f, item); err != nil {
				return "", bad("%s", misplaced(f, item, err))
			}
		}
		std = append(std, item)
	}
	return strings.Join(std, ","), nil
}

// misplaced explains an item that is not standard syntax: an extension in a
// field that does not take it, or else err.
func misplaced(f cronField, item string, err error) string {
	switch {
	case strings.Contains(item, "?"):
		if f.name == "day-of-month" || f.name == "day-of-week" {
			return "`?` must stand alone"
		}
		return "`?` is only allowed in day-of-month or day-of-week"
	case strings.Contains(item, "#"):
		return "`#` is only allowed in day-of-week, as 1#2 for the second Monday"
	case strings.HasSuffix(strings.ToUpper(item), "W"):
		return "`W` (nearest weekday) is only allowed in day-of-month, as 15W or LW"
	case strings.ToUpper(item) == "L" || strings.HasSuffix(strings.ToUpper(item), "L") && !strings.EqualFold(item, "jul"):
		return "`L` (last) is only allowed in day-of-month or day-of-week"
	}
	return err.Error()
}

// readDomRule reads L, L-n, LW or nW.
func readDomRule(item string, rules *dayRules) error {
	switch {
	case item == "L":
		rules.lastDays |= 1
	case item == "LW":
		rules.lastWeekday = true
	case strings.HasPrefix(item, "L-"):
		n, err := strconv.Atoi(item[2:])
		if err != nil || n < 0 || n > 30 {
			return fmt.Errorf("L-n counts days back from the last day of the month; n must be 0 to 30")
		}
		rules.lastDays |= 1 << uint(n)
	case strings.HasSuffix(item, "W"):
		n, err := strconv.Atoi(item[:len(item)-1])
		if err != nil || n < 1 || n > 31 {
			return fmt.Errorf("W follows a day of the month, 1 to 31, as 15W for the weekday nearest the 15th (or LW)")
		}
		rules.nearWeekday |= 1 << uint(n)
	default:
		return fmt.Errorf("day-of-month takes L, L-n, LW and nW (as 15W) besides numbers, ranges and steps")
	}
	return nil
}

// checkItem checks a standard item: *, a value, a range a-b, with an
// optional step /n.
func checkItem(f cronField, item string) error {
	const shapes = "not a value, a range a-b, or a step such as */5 or a-b/n"
	rng, step, hasStep := strings.Cut(item, "/")
	if hasStep {
		if strings.Contains(step, "/") {
			return errors.New(shapes)
		}
		n, err := strconv.Atoi(step)
		if err != nil {
			return fmt.Errorf("the step %q is not a number", step)
		}
		if n < 1 {
			return errors.New("the step must be at least 1")
		}
	}
	if rng == "*" {
		return nil
	}
	lo, hi, isRange := strings.Cut(rng, "-")
	if strings.Contains(hi, "-") {
		return errors.New(shapes)
	}
	a, err := fieldValue(f, lo)
	if err != nil {
		return err
	}
	if !isRange {
		return nil
	}
	b, err := fieldValue(f, hi)
	if err != nil {
		return err
	}
	if a > b {
		return fmt.Errorf("the range %d-%d goes backwards; write it from low to high", a, b)
	}
	return nil
}
