package main

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/raftcron/raftcron/client"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// watchKinds are the types `get --watch` follows.
var watchKinds = map[string]string{typeCronJobs: client.KindCronJob, typeJobs: client.KindJob, typeAttempts: client.KindAttempt}

// getWatch is `get TYPE --watch`: the current objects as a table, then a row
// for every change as the cluster commits it (from the Watch stream), until
// Ctrl-C. A deleted object's last row is printed too, as kubectl does.
func getWatch(cmd *cobra.Command, c *client.Client, typ, ns string, allNamespaces bool, names []string, cronJob, job, format string) error {
	kind, ok := watchKinds[typ]
	if !ok {
		return fmt.Errorf("--watch works with cronjobs, jobs and attempts, not %s", typ)
	}
	opts := client.WatchOptions{Namespace: ns, AllNamespaces: allNamespaces}
	if len(names) == 1 {
		opts.Name = names[0]
	}
	keep := func(ev *pb.WatchEvent) bool {
		switch {
		case ev.ObjectKind() != kind,
			len(names) > 0 && !slices.Contains(names, ev.ObjectName()),
			cronJob != "" && ev.GetJob().GetStatus().GetCronJob() != cronJob,
			job != "" && ev.GetAttempt().GetJob() != job:
			return false
		}
		return true
	}
	out := cmd.OutOrStdout()
	render := func(evs []*pb.WatchEvent, header bool) error {
		if format == formatJSON || format == formatYAML {
			for _, ev := range evs {
				var err error
				switch {
				case ev.GetCronJob() != nil:
					err = writeManifests(out, cronJobResources([]*pb.CronJob{ev.GetCronJob()}), format, true)
				case ev.GetJob() != nil:
					err = writeManifests(out, jobResources([]*pb.Job{ev.GetJob()}), format, true)
				default:
					err = writeMessages(out, []*pb.Attempt{ev.GetAttempt()}, format, true)
				}
				if err != nil {
					return err
				}
				if format == formatYAML {
					fmt.Fprintln(out, "---")
				}
			}
			return nil
		}
		var buf bytes.Buffer
		var err error
		switch kind {
		case client.KindCronJob:
			items := make([]*pb.CronJob, len(evs))
			for i, ev := range evs {
				items[i] = ev.GetCronJob()
			}
			err = printCronJobs(&buf, items, format == formatWide, allNamespaces)
		case client.KindJob:
			items := make([]*pb.Job, len(evs))
			for i, ev := range evs {
				items[i] = ev.GetJob()
			}
			err = printJobs(&buf, items, format == formatWide, allNamespaces)
		default:
			items := make([]*pb.Attempt, len(evs))
			for i, ev := range evs {
				items[i] = ev.GetAttempt()
			}
			err = printAttempts(&buf, items, false)
		}
		if err != nil {
			return err
		}
		text := buf.String()
		if !header {
			_, text, _ = strings.Cut(text, "\n")
		}
		_, err = io.WriteString(out, text)
		return err
	}
	ctx, cancel := followContext(cmd)
	defer cancel()
	var listed []*pb.WatchEvent
	listing, header := true, true
	for ev, err := range c.Watch(ctx, kind, opts) {
		if err != nil {
			return err
		}
		if ev.GetType() == client.Bookmark {
			if listing && len(listed) > 0 {
				if err := render(listed, true); err != nil {
					return err
				}
				header = false
			}
			if listing && len(listed) == 0 {
				_ = noResources(cmd, ns)
			}
			listing = false
			continue
		}
		if !keep(ev) {
			continue
		}
		if listing {
			listed = append(listed, ev)
			continue
		}
		if err := render([]*pb.WatchEvent{ev}, header); err != nil {
			return err
		}
		header = false
	}
	return nil
}
