package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/raftcron/raftcron/client"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

func init() { rootCmd.AddCommand(newEventsCmd()) }

// newEventsCmd is `raftcron events [--for cronjob/NAME|job/NAME] [--watch] [-A]`.
func newEventsCmd() *cobra.Command {
	var (
		forFlag       string
		watch         bool
		allNamespaces bool
	)
	cmd := &cobra.Command{
		Use:   "events [--for cronjob/NAME|job/NAME] [--watch] [-A]",
		Short: "Show what happened and why: Jobs created, ticks skipped, attempts started, exited, retried, lost or killed",
		Long: `Show the events the cluster recorded, oldest first: a Job created for a tick
or by hand, a tick skipped (with the reason), an attempt assigned to a worker,
started, exited with its code, never started (with the reason), retried, lost
with its worker or killed (with the reason), a Job completed, failed or past its
deadline, a CronJob suspended or resumed.

--for keeps the events of one CronJob (with its Jobs and attempts) or one Job
(with its attempts). --watch keeps printing new events as they are recorded.
Events are kept for a bounded time and number (server flags
--event-retention-age and --event-retention-count).`,
		Example: `  raftcron events
  raftcron events --for cronjob/backup
  raftcron events --for job/backup-29000000 --watch
  raftcron events -A`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var cronJob, job string
			if forFlag != "" {
				kind, name, ok := strings.Cut(forFlag, "/")
				if !ok || name == "" {
					return fmt.Errorf("--for %q: want cronjob/NAME or job/NAME", forFlag)
				}
				switch client.CanonicalKind(kind) {
				case client.KindCronJob:
					cronJob = name
				case client.KindJob:
					job = name
				default:
					return fmt.Errorf("--for %q: want cronjob/NAME or job/NAME", forFlag)
				}
			}
			ns := namespaceFlag(cmd)
			if allNamespaces {
				ns = ""
			}
			c, err := dialClient(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			out := cmd.OutOrStdout()
			keep := func(e *pb.Event) bool {
				return (cronJob == "" || e.GetCronJob() == cronJob) && (job == "" || e.GetJob() == job)
			}
			if !watch {
				ctx, cancel := requestContext(cmd)
				defer cancel()
				evs, err := c.ListEvents(ctx, ns, allNamespaces, cronJob, job)
				if err != nil {
					return err
				}
				if len(evs) == 0 {
					return noResources(cmd, ns)
				}
				return printEvents(out, evs, allNamespaces)
			}
			ctx, cancel := followContext(cmd)
			defer cancel()
			var listed []*pb.Event
			listing, header := true, true
			for ev, err := range c.Watch(ctx, client.KindEvent, client.WatchOptions{Namespace: ns, AllNamespaces: allNamespaces}) {
				if err != nil {
					return err
				}
				if ev.GetType() == client.Bookmark {
					if listing && len(listed) > 0 {
						// The events so far, as one table.
						if err := printEventRows(out, listed, allNamespaces, true); err != nil {
							return err
						}
						header = false
					}
					listing = false
					continue
				}
				e := ev.GetEvent()
				if e == nil || ev.GetType() != client.Added || !keep(e) {
					continue
				}
				if listing {
					listed = append(listed, e)
					continue
				}
				if err := printEventRows(out, []*pb.Event{e}, allNamespaces, header); err != nil {
					return err
				}
				header = false
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&forFlag, "for", "", "only the events of cronjob/NAME (with its Jobs and attempts) or job/NAME (with its attempts)")
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "after the events so far, print new ones as they are recorded (Ctrl-C stops)")
	cmd.Flags().BoolVarP(&allNamespaces, "all-namespaces", "A", false, "events of every namespace")
	return cmd
}

// followContext is a context for a command that runs until Ctrl-C or SIGTERM.
func followContext(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	base := cmd.Context()
	if base == nil {
		base = context.Background()
	}
	return signal.NotifyContext(base, os.Interrupt, syscall.SIGTERM)
}

// printEvents writes events as kubectl does: LAST SEEN, TYPE, REASON, OBJECT, MESSAGE.
func printEvents(w io.Writer, evs []*pb.Event, withNamespace bool) error {
	return printEventRows(w, evs, withNamespace, true)
}

func printEventRows(w io.Writer, evs []*pb.Event, withNamespace, header bool) error {
	tw := newTable(w)
	if header {
		cols := []string{"LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"}
		if withNamespace {
			cols = append([]string{"NAMESPACE"}, cols...)
		}
		row(tw, cols...)
	}
	for _, e := range evs {
		cells := []string{age(e.GetTime(), "<unknown>"), e.GetType(), e.GetReason(), strings.ToLower(e.GetKind()) + "/" + e.GetName(), oneLine(e.GetMessage())}
		if withNamespace {
			cells = append([]string{e.GetNamespace()}, cells...)
		}
		row(tw, cells...)
	}
	return tw.Flush()
}

// describeEvents ends a describe with the object's events, as kubectl does.
func describeEvents(f *fields, evs []*pb.Event) {
	if len(evs) == 0 {
		f.line("Events", none)
		return
	}
	f.heading("Events:")
	f.sub(func(w io.Writer) error {
		tw := newTable(w)
		row(tw, "TYPE", "REASON", "AGE", "OBJECT", "MESSAGE")
		row(tw, "----", "------", "----", "------", "-------")
		for _, e := range evs {
			row(tw, e.GetType(), e.GetReason(), age(e.GetTime(), "<unknown>"), strings.ToLower(e.GetKind())+"/"+e.GetName(), oneLine(e.GetMessage()))
		}
		return tw.Flush()
	})
}
