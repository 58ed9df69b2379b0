package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

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

--timestamps prefixes each line with an RFC 3339 time: the time this command
received the line. Workers do not record when each line was written, so this
is close to the time of writing only for lines that arrive while following
(-f, within about 0.2s); output written before the command started (a
finished attempt, the start of a running one) reads the time it was read.`,
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
			opts := client.LogOptions{Namespace: namespaceFlag(cmd), Index: index, Attempt: attempt, Follow: follow, Tail: tail}
			out := cmd.OutOrStdout()
			if timestamps {
				out = &timestampWriter{w: out}
			}
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
	cmd.Flags().BoolVar(&timestamps, "timestamps", false, "prefix each line with the RFC 3339 time this command received it (see above)")
	return cmd
}

// timestampWriter prefixes each line written through it with the time it
// passes (RFC 3339 with nanoseconds, UTC, as kubectl logs --timestamps).
type timestampWriter struct {
	w       io.Writer
	midLine bool
}

func (t *timestampWriter) Write(p []byte) (int, error) {
	n := len(p)
	var buf bytes.Buffer
	for len(p) > 0 {
		if !t.midLine {
			buf.WriteString(now().UTC().Format(time.RFC3339Nano))
			buf.WriteByte(' ')
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			buf.Write(p)
			t.midLine = true
			break
		}
		buf.Write(p[:i+1])
		p = p[i+1:]
		t.midLine = false
	}
	if _, err := t.w.Write(buf.Bytes()); err != nil {
		return 0, err
	}
	return n, nil
}
