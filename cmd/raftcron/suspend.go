package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() {
	rootCmd.AddCommand(newSuspendCmd(true), newSuspendCmd(false))
}

// newSuspendCmd is `raftcron suspend` (suspend true) or `raftcron resume`.
func newSuspendCmd(suspend bool) *cobra.Command {
	verb, done, short := "resume", "resumed", "Resume a suspended CronJob or Job"
	long := `Resume a CronJob: ticks are scheduled again from now on (missed ticks follow
its catchUp policy). Resume a Job: its attempts are started again.`
	if suspend {
		verb, done, short = "suspend", "suspended", "Suspend a CronJob (no new Jobs) or a Job (its attempts are stopped)"
		long = `Suspend a CronJob: no new Jobs are created; every tick while suspended is
recorded as skipped (reason Suspended). Jobs already running go on.
Suspend a Job: its running attempts are stopped until it is resumed.`
	}
	return &cobra.Command{
		Use:               verb + " (cronjob|job)/NAME",
		Short:             short,
		Long:              long,
		Example:           fmt.Sprintf("  raftcron %s cronjob/hello\n  raftcron %s job hello-29000000", verb, verb),
		Args:              cobra.RangeArgs(1, 2),
		ValidArgsFunction: completeObjects(false, false, typeCronJobs, typeJobs),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, name, err := splitTypeName(args, "")
			if err != nil {
				return err
			}
			c, err := dialClient(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := requestContext(cmd)
			defer cancel()
			if err := c.SetSuspend(ctx, kind, namespaceFlag(cmd), name, suspend); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s/%s %s\n", resourceName(kind), name, done)
			return nil
		},
	}
}
