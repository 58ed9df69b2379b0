package main

import (
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/raftcron/raftcron/client"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// watchKinds are the types `get --watch` follows.
var watchKinds = map[string]string{typeCronJobs: client.KindCronJob, typeJobs: client.KindJob, typeAttempts: client.KindAttempt}

// watchRequest is what `get --watch` follows and how it prints.
type watchRequest struct {
	typ, ns       string
	allNamespaces bool
	names         []string
	cronJob, job  string
	selector      string // label selector; "" for all
	print         printSpec
}

// getWatch is `get TYPE --watch`: the current objects as a table, then a row
// for every change as the cluster commits it (from the Watch stream), until
// Ctrl-C. A deleted object's last row is printed too, as kubectl does; with
// a selector, so is the row of an object whose labels stop matching.
func getWatch(cmd *cobra.Command, c *client.Client, req watchRequest) error {
	kind, ok := watchKinds[req.typ]
	if !ok {
		return fmt.Errorf("--watch works with cronjobs, jobs and attempts, not %s", req.typ)
	}
	names, p := req.names, req.print
	opts := client.WatchOptions{Namespace: req.ns, AllNamespaces: req.allNamespaces}
	if len(names) == 1 {
		opts.Name = names[0]
	}
	sel, err := client.ParseSelector(req.selector)
	if err != nil {
		return fmt.Errorf("--selector: %w", err)
	}
	matched := map[string]bool{} // namespace/name of objects shown as matching the selector
	keep := func(ev *pb.WatchEvent) bool {
		switch {
		case ev.ObjectKind() != kind,
			len(names) > 0 && !slices.Contains(names, ev.ObjectName()),
			req.cronJob != "" && ev.GetJob().GetStatus().GetCronJob() != req.cronJob,
			req.job != "" && ev.GetAttempt().GetJob() != req.job:
			return false
		}
		if req.selector == "" {
			return true
		}
		meta := ev.GetCronJob().GetMetadata()
		if ev.GetJob() != nil {
			meta = ev.GetJob().GetMetadata()
		}
		k := meta.GetNamespace() + "/" + meta.GetName()
		if sel.Matches(meta.GetLabels()) && ev.GetType() != client.Deleted {
			matched[k] = true
			return true
		}
		// It leaves the selection: its last row, once.
		was := matched[k]
		delete(matched, k)
		return was
	}
	out := cmd.OutOrStdout()
	render := func(evs []*pb.WatchEvent, header bool) error {
		var l *getList
		var err error
		switch kind {
		case client.KindCronJob:
			items := make([]*pb.CronJob, len(evs))
			for i, ev := range evs {
				items[i] = ev.GetCronJob()
			}
			l, err = cronJobList(items, p.format == formatWide)
		case client.KindJob:
			items := make([]*pb.Job, len(evs))
			for i, ev := range evs {
				items[i] = ev.GetJob()
			}
			l, err = jobList(items, p.format == formatWide)
		default:
			items := make([]*pb.Attempt, len(evs))
			for i, ev := range evs {
				items[i] = ev.GetAttempt()
			}
			l, err = attemptList(items, false)
		}
		if err != nil {
			return err
		}
		switch p.format {
		case formatTable, formatWide:
			return l.writeTable(out, req.allNamespaces, !header || p.noHeaders, false)
		case formatJSON, formatYAML, formatJSONPath:
			for _, it := range l.items {
				one := &getList{resource: l.resource, items: []getItem{it}}
				if err := writeGetLists(out, []*getList{one}, p, false, true); err != nil {
					return err
				}
				if p.format == formatYAML {
					fmt.Fprintln(out, "---")
				}
			}
			return nil
		default:
			q := p
			q.noHeaders = !header || p.noHeaders
			return writeGetLists(out, []*getList{l}, q, req.allNamespaces, false)
		}
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
				_ = noResources(cmd, req.ns)
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
