package scheduler

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule is a parsed cron schedule in its time zone.
//
// NOTE: first cut; the DST-aware Next and the full parser rules are being
// written by the scheduler owner. The signature is the contract.
type Schedule struct {
	expr    string
	loc     *time.Location
	seconds bool
	sched   cron.Schedule
}

var parser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule parses a CronJob's schedule and time zone (empty = UTC).
func ParseSchedule(expr, timeZone string) (*Schedule, error) {
	loc := time.UTC
	if timeZone != "" {
		if timeZone == "Local" {
			return nil, fmt.Errorf("time zone %q is not allowed; name an IANA zone such as Europe/Berlin", timeZone)
		}
		l, err := time.LoadLocation(timeZone)
		if err != nil {
			return nil, fmt.Errorf("unknown time zone %q", timeZone)
		}
		loc = l
	}
	s, err := parser.Parse(strings.TrimSpace(expr))
	if err != nil {
		return nil, err
	}
	return &Schedule{expr: expr, loc: loc, sched: s, seconds: len(strings.Fields(expr)) == 6}, nil
}

// Next returns the first fire time strictly after t, or the zero time if none.
func (s *Schedule) Next(t time.Time) time.Time { return s.sched.Next(t.In(s.loc)) }

// HasSeconds reports whether the schedule has a leading seconds field.
func (s *Schedule) HasSeconds() bool { return s.seconds }

// Location is the schedule's time zone.
func (s *Schedule) Location() *time.Location { return s.loc }
