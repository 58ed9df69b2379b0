package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/raftcron/raftcron/client"
	"github.com/raftcron/raftcron/scheduler"
)

func init() { rootCmd.AddCommand(newTriggerCmd()) }

// newTriggerCmd is `raftcron trigger cronjob/NAME [--name JOB]`.
func newTriggerCmd() *cobra.Command {
	var jobName string
	var withUpstreams bool
	cmd := &cobra.Command{
		Use:   "trigger cronjob/NAME [--name JOB] [--with-upstreams]",
		Short: "Run a CronJob now: create a Job from its template, outside the schedule",
		Long: `Run a CronJob now: create a Job from its job template, outside the schedule
(kubectl create job --from=cronjob/NAME). The Job is named <cronjob>-manual-<unix
seconds> unless --name is given. The concurrency policy does not apply to it.

With --with-upstreams, the CronJob's upstreams (spec.dependsOn, transitively)
run first, in dependency order, each once its own upstreams succeeded; the
CronJob runs only if they all succeed (otherwise its run is recorded as a skip
UpstreamFailed). The leader holds the plan, so it goes on if this command ends.`,
		Example: `  raftcron trigger cronjob/hello
  raftcron trigger cronjob hello --name hello-rerun
  raftcron trigger cronjob/report --with-upstreams`,
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
			trigger := c.Trigger
			if withUpstreams {
				trigger = c.TriggerWithUpstreams
			}
			job, err := trigger(ctx, namespaceFlag(cmd), name, jobName)
			if err != nil {
				return err
			}
			if ups := job.GetMetadata().GetAnnotations()[scheduler.AnnotationUpstreamJobs]; ups != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "job.batch/%s will run once its upstreams succeed: %s\n(raftcron describe cronjob/%s shows what it waits for)\n",
					job.GetMetadata().GetName(), strings.ReplaceAll(ups, ",", ", "), name)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "job.batch/%s created\n", job.GetMetadata().GetName())
			return nil
		},
	}
	cmd.Flags().StringVar(&jobName, "name", "", "name of the Job to create (default <cronjob>-manual-<unix seconds>)")
	cmd.Flags().BoolVar(&withUpstreams, "with-upstreams", false, "run the CronJob's upstreams (spec.dependsOn) first, in order, and the CronJob only if they succeed")
	return cmd
}
