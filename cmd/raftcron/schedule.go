package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/scheduler"
)

func init() { rootCmd.AddCommand(newScheduleCmd()) }

// newScheduleCmd is `raftcron schedule next|simulate`: schedule math on the
// client, with no server.
func newScheduleCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Check a cron schedule: its next fire times, or what the scheduler would decide",
		Long: `Check a cron schedule locally, with the scheduler's own rules; no server is needed.

  next      lists the next fire times, with their UTC offsets (DST shows here).
  simulate  replays the scheduling decisions for an interval: which ticks
            would run, and which would be skipped and why.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newScheduleNextCmd(), newScheduleSimulateCmd())
	return cmd
}

func newScheduleNextCmd() *cobra.Command {
	var (
		tz, from, name string
		count          int
	)
	cmd := &cobra.Command{
		Use:   "next 'EXPR' [--tz ZONE] [--from TIME] [-n 10]",
		Short: "List the next fire times of a cron schedule",
		Long: `List the next fire times of a cron schedule in its time zone, each with its
UTC offset. Daylight-saving time follows Vixie cron's rule:

  - at fixed times (minute and hour fields fixed, as '30 2 * * *'): a time
    inside a spring-forward gap fires once, right after the gap; a time inside
    the repeated autumn hour fires once;
  - on the clock (a * or a step in the minute or hour field, as '0 * * * *',
    '*/15 * * * *', @hourly): the schedule follows the clock as it reads after
    the change, so it fires again in the repeated hour and makes nothing up
    for the gap.

Besides standard cron it takes L (last day of the month), L-3, LW (last
weekday), 15W (weekday nearest the 15th) in day-of-month, 5L (last Friday) and
1#2 (second Monday) in day-of-week, and H (a value hashed from the CronJob's
namespace and name: H 3 * * *, H/15, H(0-29)); with H, give --name.`,
		Example: `  raftcron schedule next '0 3 * * *' --tz America/Los_Angeles --from 2026-03-06T00:00:00Z -n 4
  raftcron schedule next '0 9 L * *' -n 3
  raftcron schedule next 'H 3 * * *' --name nightly-report --namespace data
  raftcron schedule next '0 * * * *' --tz America/New_York --from 2026-11-01T04:30:00Z -n 3
  raftcron schedule next '@every 90m'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if count < 1 || count > 1000 {
				return fmt.Errorf("-n %d: must be between 1 and 1000", count)
			}
			loc, err := loadZone(tz)
			if err != nil {
				return err
			}
			start := now()
			if from != "" {
				if start, err = parseTimeFlag("--from", from, loc); err != nil {
					return err
				}
			}
			sched, err := parseScheduleFlags(cmd, args[0], tz, name)
			if err != nil {
				return err
			}
			times := sched.NextTimes(start, count)
			if len(times) == 0 {
				return fmt.Errorf("schedule %q never fires after %s", args[0], start.Format(time.RFC3339))
			}
			for _, t := range times {
				fmt.Fprintln(cmd.OutOrStdout(), fireTimeText(t.In(loc)))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&tz, "tz", "", "IANA time zone of the schedule, as the CronJob's timeZone (default UTC)")
	cmd.Flags().StringVar(&from, "from", "", "list fire times after this time (RFC 3339; without an offset, in --tz) (default now)")
	cmd.Flags().StringVar(&name, "name", "", "the CronJob's name, to resolve H in the schedule as the cluster does")
	// -n is the count here, as in `head -n`. A local --namespace (long form
	// only) keeps the root's persistent -n/--namespace from being merged into
	// this command, which frees the shorthand.
	cmd.Flags().String("namespace", "", `the CronJob's namespace, to resolve H with --name (default "default")`)
	cmd.Flags().IntVarP(&count, "count", "n", 10, "how many fire times to list")
	return cmd
}

func newScheduleSimulateCmd() *cobra.Command {
	var (
		schedule, tz, last, nowFlag, created, name string
		deadline                                   int32
		catchUp, concurrency                       string
		active, suspended                          bool
	)
	cmd := &cobra.Command{
		Use:   "simulate --schedule 'EXPR' --last TIME --now TIME [flags]",
		Short: "Show which ticks a CronJob would run or skip between two times, and why",
		Long: `Replay the leader's scheduling decisions for a CronJob whose last scheduled
tick was --last, as they would be made at --now (for example after the cluster
was down in between): each tick is invoked or skipped with a reason, following
catchUp, startingDeadlineSeconds and concurrencyPolicy.`,
		Example: `  raftcron schedule simulate --schedule '*/15 * * * *' \
    --last 2026-01-10T02:00:00Z --now 2026-01-10T03:10:00Z --catch-up All --starting-deadline 3600`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := outputFormat(cmd, formatTable, formatJSON)
			if err != nil {
				return err
			}
			if schedule == "" {
				return fmt.Errorf("--schedule: required, for example --schedule '*/5 * * * *'")
			}
			loc, err := loadZone(tz)
			if err != nil {
				return err
			}
			if _, err := parseScheduleFlags(cmd, schedule, tz, name); err != nil {
				return err
			}
			in := scheduler.SimulateInput{
				Namespace:         namespaceFlag(cmd),
				Name:              name,
				Schedule:          schedule,
				TimeZone:          tz,
				CatchUp:           catchUp,
				ConcurrencyPolicy: concurrency,
				Suspended:         suspended,
				ActiveJob:         active,
			}
			if in.Now = now(); nowFlag != "" {
				if in.Now, err = parseTimeFlag("--now", nowFlag, loc); err != nil {
					return err
				}
			}
			if last != "" {
				if in.Last, err = parseTimeFlag("--last", last, loc); err != nil {
					return err
				}
			}
			if created != "" {
				if in.Created, err = parseTimeFlag("--created", created, loc); err != nil {
					return err
				}
			}
			if in.Last.IsZero() && in.Created.IsZero() {
				return fmt.Errorf("--last: required (the last scheduled tick), or --created for a CronJob that never ran")
			}
			if !in.Last.IsZero() && in.Last.After(in.Now) {
				return fmt.Errorf("--last %s is after --now %s", in.Last.Format(time.RFC3339), in.Now.Format(time.RFC3339))
			}
			if cmd.Flags().Changed("starting-deadline") {
				if deadline < 0 {
					return fmt.Errorf("--starting-deadline %d: must be 0 or more seconds", deadline)
				}
				in.StartingDeadlineSeconds = &deadline
			}
			decisions, err := scheduler.Simulate(in)
			if err != nil {
				return err
			}
			if format == formatJSON {
				return writeDecisionsJSON(cmd.OutOrStdout(), decisions)
			}
			if len(decisions) == 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "No ticks between %s and %s.\n", startOf(in).Format(time.RFC3339), in.Now.Format(time.RFC3339))
				return nil
			}
			return printDecisions(cmd.OutOrStdout(), decisions, loc, false)
		},
	}
	f := cmd.Flags()
	f.StringVar(&schedule, "schedule", "", "the cron schedule")
	f.StringVar(&name, "name", "", "the CronJob's name (with -n, its namespace): resolves H in the schedule and names the Jobs")
	f.StringVar(&tz, "tz", "", "IANA time zone of the schedule (default UTC)")
	f.StringVar(&last, "last", "", "the CronJob's lastScheduleTime (RFC 3339)")
	f.StringVar(&nowFlag, "now", "", "when the scheduler decides (RFC 3339) (default now)")
	f.StringVar(&created, "created", "", "the CronJob's creation time, used when it has never been scheduled (RFC 3339)")
	f.Int32Var(&deadline, "starting-deadline", 0, "startingDeadlineSeconds (default: no deadline)")
	f.StringVar(&catchUp, "catch-up", scheduler.DefaultCatchUp, "catchUp policy: Latest, All or None")
	f.StringVar(&concurrency, "concurrency", scheduler.DefaultConcurrencyPolicy, "concurrencyPolicy: Allow, Forbid or Replace")
	f.BoolVar(&active, "active", false, "a Job of the CronJob is still running")
	f.BoolVar(&suspended, "suspended", false, "the CronJob is suspended")
	addOutputFlag(cmd, formatTable, formatJSON)
	return cmd
}

// parseScheduleFlags parses a schedule given on the command line, resolving
// H from --name and --namespace as the cluster would, and says on stderr
// what H resolved to.
func parseScheduleFlags(cmd *cobra.Command, expr, tz, name string) (*scheduler.Schedule, error) {
	ns := namespaceFlag(cmd)
	var sched *scheduler.Schedule
	var err error
	if name == "" {
		sched, err = scheduler.ParseSchedule(expr, tz)
	} else {
		sched, err = scheduler.ParseCronJobSchedule(expr, tz, ns, name)
	}
	var se *scheduler.ScheduleError
	if errors.As(err, &se) && se.NeedsName {
		return nil, fmt.Errorf("%w; pass --name NAME (and --namespace NS) to resolve H as the cluster does for that CronJob", err)
	}
	if err != nil {
		return nil, err
	}
	if r := sched.Resolved(); r != "" {
		fmt.Fprintf(cmd.ErrOrStderr(), "Schedule %q of CronJob %s/%s resolves to %q\n", expr, ns, name, r)
	}
	return sched, nil
}

func startOf(in scheduler.SimulateInput) time.Time {
	if !in.Last.IsZero() {
		return in.Last
	}
	return in.Created
}

// loadZone loads an IANA zone; empty is UTC.
func loadZone(tz string) (*time.Location, error) {
	if tz == "" {
		return time.UTC, nil
	}
	if tz == "Local" {
		return nil, fmt.Errorf("--tz %q: name an IANA zone such as Europe/Berlin", tz)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("--tz %q: unknown time zone", tz)
	}
	return loc, nil
}

// parseTimeFlag reads an RFC 3339 time; without an offset the time is read
// in loc.
func parseTimeFlag(flag, value string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, value); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, value, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%s %q: want a time such as 2026-03-08T02:30:00Z or 2026-03-08T02:30:00-08:00", flag, value)
}

// writeDecisionsJSON prints decisions as a JSON array.
func writeDecisionsJSON(w io.Writer, ds []*pb.ScheduleDecision) error {
	raw := make([]json.RawMessage, 0, len(ds))
	for _, d := range ds {
		b, err := protojson.Marshal(d)
		if err != nil {
			return fmt.Errorf("encode output: %w", err)
		}
		raw = append(raw, b)
	}
	b, err := json.MarshalIndent(raw, "", "  ")
	if err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
