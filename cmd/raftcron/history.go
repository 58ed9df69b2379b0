package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/raftcron/raftcron/client"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

func init() { rootCmd.AddCommand(newHistoryCmd()) }

// newHistoryCmd is `raftcron history cronjob/NAME [--since 24h]`.
func newHistoryCmd() *cobra.Command {
	var since time.Duration
	cmd := &cobra.Command{
		Use:   "history cronjob/NAME [--since 24h]",
		Short: "Every tick of a CronJob in a time window: decision, Job, result, start delay and duration",
		Long: `Answer "did my cron run, did it succeed, how long did it take, why did it not
run between X and Y" in one table: every tick scheduled in the window (and every
manual run), whether it was invoked or skipped and why, its Job, the Job's
result, the start delay (tick to first container running) and the duration.
The CronJob keeps its latest 50 scheduling decisions; older runs are shown from
their Jobs while the history limits keep them.`,
		Example: `  raftcron history cronjob/backup
  raftcron history cj/report --since 168h`,
		Args:              cobra.RangeArgs(1, 2),
		ValidArgsFunction: completeObjects(false, true, typeCronJobs),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, name, err := splitTypeName(args, client.KindCronJob)
			if err != nil {
				return err
			}
			if kind != client.KindCronJob {
				return fmt.Errorf("history is kept per CronJob; name one as cronjob/NAME")
			}
			if since <= 0 {
				return fmt.Errorf("--since %s: must be more than 0", since)
			}
			c, err := dialClient(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := requestContext(cmd)
			defer cancel()
			ns := namespaceFlag(cmd)
			cj, err := c.GetCronJob(ctx, ns, name)
			if err != nil {
				return err
			}
			jobs, err := c.ListJobs(ctx, ns, name)
			if err != nil {
				return err
			}
			attempts, err := c.ListAttempts(ctx, ns, "")
			if err != nil {
				return err
			}
			t := now()
			entries := client.History(cj, jobs, attempts, t.Add(-since), t)
			if len(entries) == 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "No ticks of cronjob/%s in the last %s.\n", name, humanDuration(since))
				return nil
			}
			tw := newTable(cmd.OutOrStdout())
			row(tw, "TICK", "TICKS", "DECISION", "REASON", "JOB", "RESULT", "START DELAY", "DURATION", "MESSAGE")
			for _, e := range entries {
				tick := e.ScheduledTime.UTC().Format(time.RFC3339)
				if !e.FirstScheduledTime.IsZero() && !e.FirstScheduledTime.Equal(e.ScheduledTime) {
					tick = e.FirstScheduledTime.UTC().Format(time.RFC3339) + ".." + tick
				}
				delay, dur := none, none
				if e.Started {
					delay = preciseDuration(e.StartDelay)
				}
				if e.Duration > 0 {
					dur = preciseDuration(e.Duration)
				}
				result := e.Result
				if e.Decision == pb.DecisionSkip {
					result = none
				}
				row(tw, tick, strconv.Itoa(e.Ticks), e.Decision, e.Reason, orNone(e.Job), orNone(result), delay, dur, orNone(oneLine(e.Message)))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().DurationVar(&since, "since", 24*time.Hour, "how far back to look")
	return cmd
}
