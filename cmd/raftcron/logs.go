package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/raftcron/raftcron/client"
)

func init() { rootCmd.AddCommand(newLogsCmd()) }

// newLogsCmd is `raftcron logs job/NAME`.
func newLogsCmd() *cobra.Command {
	var (
		index      int32
		attempt    int32
		follow     bool
		tail       int
		timestamps bool
	)
	cmd := &cobra.Command{
		Use:   "logs job/NAME [--index N] [--attempt N] [-f]",
		Short: "Print the output of a Job's attempt",
		Long: `Print the output (stdout and stderr) of one attempt of a Job: by default the
latest attempt of index 0. With -f, wait for an attempt to start, print its
output as it comes, then each retry's, until the Job finishes (with --attempt,
that attempt only).
When the worker is gone, the last 16 KiB stored with the attempt are printed.

--timestamps prefixes each line with the time the workload wrote it (RFC 3339
with nanoseconds, UTC, then a space), as kubectl logs --timestamps does. A line
whose time is not known is printed without one: output kept by a worker older
than line times, and the stored tail printed when the worker is gone.`,
		Example: `  raftcron logs job/hello-29000000
  raftcron logs hello-29000000 --index 2 --attempt 1
  raftcron logs job/backup-29000000 -f --tail 20 --timestamps`,
		Args:              cobra.RangeArgs(1, 2),
		ValidArgsFunction: completeObjects(false, true, typeJobs),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, name, err := splitTypeName(args, client.KindJob)
			if err != nil {
				return err
			}
			if kind != client.KindJob {
				return fmt.Errorf("logs are kept per Job; name a job (job/NAME), for example one listed by `raftcron get jobs --cronjob %s`", name)
			}
			if index < 0 {
				return fmt.Errorf("--index %d: must be 0 or more", index)
			}
			if tail < 0 {
				return fmt.Errorf("--tail %d: must be 0 or more", tail)
			}
			if attempt < 0 {
				return fmt.Errorf("--attempt %d: must be 1 or more (0 = the latest)", attempt)
			}
			c, err := dialClient(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			var ctx context.Context
			var cancel context.CancelFunc
			if follow {
				// Following has no time limit: it ends with the attempt or on Ctrl-C.
				base := cmd.Context()
				if base == nil {
					base = context.Background()
				}
				ctx, cancel = signal.NotifyContext(base, os.Interrupt, syscall.SIGTERM)
			} else {
				ctx, cancel = requestContext(cmd)
			}
			defer cancel()
			opts := client.LogOptions{Namespace: namespaceFlag(cmd), Index: index, Attempt: attempt, Follow: follow, Tail: tail, Timestamps: timestamps}
			out := cmd.OutOrStdout()
			if follow {
				err := followLogs(ctx, cmd, out, c, name, opts)
				if ctx.Err() != nil && (cmd.Context() == nil || cmd.Context().Err() == nil) {
					return nil // stopped by the user
				}
				return err
			}
			r, err := c.Logs(ctx, name, opts)
			if err == nil {
				_, err = io.Copy(out, r)
				r.Close()
			}
			if follow && ctx.Err() != nil && (cmd.Context() == nil || cmd.Context().Err() == nil) {
				return nil // stopped by the user
			}
			return err
		},
	}
	cmd.Flags().Int32Var(&index, "index", 0, "completion index of an Indexed Job")
	cmd.Flags().Int32Var(&attempt, "attempt", 0, "attempt number, 1-based (default: the latest)")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "wait for the attempt to start and keep printing output, retries included, until the Job finishes")
	cmd.Flags().IntVar(&tail, "tail", 0, "start with the last N lines of output (0: all of it)")
	cmd.Flags().BoolVar(&timestamps, "timestamps", false, "prefix each line with the RFC 3339 time the workload wrote it")
	return cmd
}
