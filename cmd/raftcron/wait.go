package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/raftcron/raftcron/client"
)

func init() { rootCmd.AddCommand(newWaitCmd()) }

// newWaitCmd is `raftcron wait job/NAME --for=condition=Complete`.
func newWaitCmd() *cobra.Command {
	var forFlag string
	cmd := &cobra.Command{
		Use:   "wait job/NAME --for=condition=Complete|Failed|Suspended [--timeout 5m]",
		Short: "Wait until a Job reaches a condition",
		Long: `Wait until a Job's condition is True. Exits 0 when it is; exits 1 when
--timeout (default 30s) passes first, or when the Job fails while waiting for
Complete (or completes while waiting for Failed).`,
		Example: `  raftcron trigger cronjob/backup --name backup-now && \
    raftcron wait job/backup-now --for=condition=Complete --timeout 10m`,
		Args:              cobra.RangeArgs(1, 2),
		ValidArgsFunction: completeObjects(false, true, typeJobs),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, name, err := splitTypeName(args, client.KindJob)
			if err != nil {
				return err
			}
			if kind != client.KindJob {
				return fmt.Errorf("wait works on Jobs; name one as job/NAME")
			}
			cond, ok := strings.CutPrefix(forFlag, "condition=")
			if !ok || cond == "" {
				return fmt.Errorf("--for %q: want condition=Complete, condition=Failed or condition=Suspended", forFlag)
			}
			cond, _, _ = strings.Cut(cond, "=") // condition=Complete=True
			c, err := dialClient(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := requestContext(cmd)
			defer cancel()
			job, err := c.WaitJob(ctx, namespaceFlag(cmd), name, cond)
			if err != nil {
				if errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, client.ErrJobFailed) {
					status := "unknown"
					if job != nil {
						status = client.JobStatusText(job)
					}
					return fmt.Errorf("timed out after %s waiting for job/%s to be %s (status: %s)", timeoutFlag(cmd), name, cond, status)
				}
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "job.batch/%s condition met\n", name)
			return nil
		},
	}
	cmd.Flags().StringVar(&forFlag, "for", "condition=Complete", "the condition to wait for: condition=Complete, condition=Failed or condition=Suspended")
	return cmd
}
