package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/scheduler"
)

func init() { rootCmd.AddCommand(newGraphCmd()) }

// newGraphCmd is `raftcron graph [-n NS | -A] [-o text|dot]`.
func newGraphCmd() *cobra.Command {
	var allNamespaces bool
	var format string
	cmd := &cobra.Command{
		Use:   "graph [-n NAMESPACE | -A] [-o text|dot]",
		Short: "Print the dependency graph of CronJobs (spec.dependsOn)",
		Long: `Print which CronJobs wait for which (spec.dependsOn, or the annotation
raftcron.io/depends-on): as a table, upstreams before the CronJobs that depend on
them, or with -o dot as a Graphviz graph whose edges point from an upstream to
its downstream (raftcron graph -o dot | dot -Tsvg > pipeline.svg).`,
		Example: `  raftcron graph
  raftcron graph -A
  raftcron graph -n data -o dot | dot -Tpng > pipeline.png`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "dot" {
				return fmt.Errorf("-o %q: must be text or dot", format)
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
			ctx, cancel := requestContext(cmd)
			defer cancel()
			cjs, err := c.ListCronJobs(ctx, ns)
			if err != nil {
				return err
			}
			cjs = scheduler.DependencyOrder(cjs)
			if format == "dot" {
				return printGraphDot(cmd.OutOrStdout(), cjs)
			}
			if len(cjs) == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "No CronJobs found.")
				return nil
			}
			return printGraphText(cmd.OutOrStdout(), cjs, allNamespaces)
		},
	}
	cmd.Flags().BoolVarP(&allNamespaces, "all-namespaces", "A", false, "the CronJobs of every namespace")
	cmd.Flags().StringVarP(&format, "output", "o", "text", "text or dot (Graphviz)")
	return cmd
}

// withinText is how long a tick waits for the upstream: "within 2h", or
// "until its next tick" when within is not set.
func withinText(d *pb.CronJobDependency) string {
	if d.GetWithin() != "" {
		return "within " + d.GetWithin()
	}
	return "until its next tick"
}

// dependencyText is "prepare (within 2h)".
func dependencyText(d *pb.CronJobDependency) string {
	return d.GetCronJob() + " (" + withinText(d) + ")"
}

func printGraphText(w io.Writer, cjs []*pb.CronJob, withNamespace bool) error {
	tw := newTable(w)
	header := []string{"CRONJOB", "SCHEDULE", "DEPENDS ON", "WAITING"}
	if withNamespace {
		header = append([]string{"NAMESPACE"}, header...)
	}
	row(tw, header...)
	for _, cj := range cjs {
		var deps []string
		for _, d := range cj.GetSpec().GetDependsOn() {
			deps = append(deps, dependencyText(d))
		}
		cells := []string{cj.GetMetadata().GetName(), cj.GetSpec().GetSchedule(), orNone(strings.Join(deps, ", ")),
			strconv.Itoa(len(cj.GetStatus().GetWaiting()))}
		if withNamespace {
			cells = append([]string{cj.GetMetadata().GetNamespace()}, cells...)
		}
		row(tw, cells...)
	}
	return tw.Flush()
}

func printGraphDot(w io.Writer, cjs []*pb.CronJob) error {
	var b strings.Builder
	b.WriteString("digraph raftcron {\n  rankdir=LR;\n  node [shape=box];\n")
	id := func(ns, name string) string { return strconv.Quote(ns + "/" + name) }
	for _, cj := range cjs {
		m := cj.GetMetadata()
		fmt.Fprintf(&b, "  %s [label=%s];\n", id(m.GetNamespace(), m.GetName()), strconv.Quote(m.GetName()+"\n"+cj.GetSpec().GetSchedule()))
	}
	for _, cj := range cjs {
		m := cj.GetMetadata()
		for _, d := range cj.GetSpec().GetDependsOn() {
			fmt.Fprintf(&b, "  %s -> %s [label=%s];\n", id(m.GetNamespace(), d.GetCronJob()), id(m.GetNamespace(), m.GetName()), strconv.Quote(withinText(d)))
		}
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}
