package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/raftcron/raftcron/client"
)

func init() { rootCmd.AddCommand(newTriggerCmd()) }

// newTriggerCmd is `raftcron trigger cronjob/NAME [--name JOB]`.
func newTriggerCmd() *cobra.Command {
	var jobName string
	cmd := &cobra.Command{
		Use:   "trigger cronjob/NAME [--name JOB]",
		Short: "Run a CronJob now: create a Job from its template, outside the schedule",
		Long: `Run a CronJob now: create a Job from its job template, outside the schedule
(kubectl create job --from=cronjob/NAME). The Job is named <cronjob>-manual-<unix
seconds> unless --name is given. The concurrency policy does not apply to it.`,
		Example: `  raftcron trigger cronjob/hello
  raftcron trigger cronjob hello --name hello-rerun`,
		Args:              cobra.RangeArgs(1, 2),
		ValidArgsFunction: completeObjects(false, true, typeCronJobs),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, name, err := splitTypeName(args, client.KindCronJob)
			if err != nil {
				return err
			}
			if kind != client.KindCronJob {
				return fmt.Errorf("only a CronJob can be triggered; to re-run a Job, trigger its CronJob or apply the Job under a new name")
			}
			c, err := dialClient(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := requestContext(cmd)
			defer cancel()
			job, err := c.Trigger(ctx, namespaceFlag(cmd), name, jobName)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "job.batch/%s created\n", job.GetMetadata().GetName())
			return nil
		},
	}
	cmd.Flags().StringVar(&jobName, "name", "", "name of the Job to create (default <cronjob>-manual-<unix seconds>)")
	return cmd
}
