package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/raftcron/raftcron/client"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/scheduler"
)

func init() { rootCmd.AddCommand(newDeleteCmd()) }

// newDeleteCmd is `raftcron delete (cronjob|job) NAME...` and `delete -f FILE`.
func newDeleteCmd() *cobra.Command {
	var (
		files          []string
		ignoreNotFound bool
		selector       string
		all            bool
	)
	cmd := &cobra.Command{
		Use:   "delete (cronjob|job|secret|worker) NAME... | delete TYPE[,TYPE] -l SELECTOR | delete -f FILE",
		Short: "Delete CronJobs and Jobs, and forget lost workers",
		Long: `Delete CronJobs and Jobs, named on the command line or by the manifests that
created them, or all those of a type whose labels match -l (or --all of them).
Deleting a CronJob deletes its Jobs; deleting a Job stops its running attempts.

delete worker forgets a lost worker (get workers --lost), which the leader
otherwise lists until the cluster setting lost-worker-retention passes. The
attempts it held are not touched: they are marked Lost, and replaced, once their
leases run out, as for any worker that went away. A connected (Ready) worker is
refused: stop it first. A worker that connects again is listed again.`,
		Example: `  raftcron delete cronjob hello
  raftcron delete job/hello-29000000
  raftcron delete -f hello.yaml
  raftcron delete cronjobs,jobs -l team=data
  raftcron delete jobs --all -n scratch
  raftcron delete worker w3`,
		ValidArgsFunction: completeObjects(true, false, typeCronJobs, typeJobs, typeSecrets),
		RunE: func(cmd *cobra.Command, args []string) error {
			type target struct{ kind, ns, name string }
			var targets []target
			ns := namespaceFlag(cmd)
			ids, workers := workerArgs(args)
			return withClient(cmd, func(ctx context.Context, c *client.Client) error {
				switch {
				case workers && len(files) == 0 && selector == "" && !all:
					if len(ids) == 0 {
						return fmt.Errorf("name the worker to delete: delete worker NAME")
					}
					for _, id := range ids {
						if id == "" {
							return fmt.Errorf("worker: name is empty")
						}
						targets = append(targets, target{kindWorker, "", id})
					}
				case selector != "" || all:
					if len(files) > 0 || len(args) != 1 || strings.Contains(args[0], "/") {
						return fmt.Errorf("-l and --all name a type, not objects: delete TYPE[,TYPE] -l SELECTOR")
					}
					if selector != "" && all {
						return fmt.Errorf("-l and --all: choose one")
					}
					reqs, err := parseGetArgs(args)
					if err != nil {
						return err
					}
					g := getter{c: c, ctx: ctx, ns: ns, selector: selector}
					for _, r := range reqs {
						kind := map[string]string{typeCronJobs: client.KindCronJob, typeJobs: client.KindJob, typeSecrets: client.KindSecret}[r.typ]
						if kind == "" || (selector != "" && kind == client.KindSecret) {
							return fmt.Errorf("delete %s: -l deletes cronjobs and jobs, --all also secrets", r.typ)
						}
						if kind == client.KindCronJob {
							cjs, err := c.CronJobs().List(ctx, client.ListOptions{Namespace: ns, LabelSelector: selector})
							if err != nil {
								return err
							}
							for _, cj := range downstreamsFirst(cjs) {
								targets = append(targets, target{kind, cj.GetMetadata().GetNamespace(), cj.GetMetadata().GetName()})
							}
							continue
						}
						l, err := g.get(r.typ, nil)
						if err != nil {
							return err
						}
						for _, it := range l.items {
							targets = append(targets, target{kind, it.namespace, it.name})
						}
					}
					if len(targets) == 0 {
						return noResources(cmd, ns)
					}
					// A Job listed here may go with its CronJob before its turn.
					ignoreNotFound = true
				case len(files) > 0:
					if len(args) > 0 {
						return fmt.Errorf("name objects either with -f or as arguments, not both")
					}
					res, err := readManifests(cmd, files, true)
					if err != nil {
						return err
					}
					var cjs []*pb.CronJob
					for _, r := range res {
						if cj := r.GetCronJob(); cj != nil {
							cjs = append(cjs, cj)
						}
					}
					for _, cj := range downstreamsFirst(cjs) {
						targets = append(targets, target{client.KindCronJob, cj.GetMetadata().GetNamespace(), cj.GetMetadata().GetName()})
					}
					for _, r := range res {
						if j := r.GetJob(); j != nil {
							targets = append(targets, target{client.KindJob, j.GetMetadata().GetNamespace(), j.GetMetadata().GetName()})
						} else if sec := r.GetSecret(); sec != nil {
							targets = append(targets, target{client.KindSecret, sec.GetMetadata().GetNamespace(), sec.GetMetadata().GetName()})
						}
					}
				case len(args) == 0:
					return fmt.Errorf("name what to delete: delete (cronjob|job) NAME... or delete -f FILE")
				case strings.Contains(args[0], "/"):
					for _, a := range args {
						kind, name, err := splitTypeNameOf([]string{a}, "", true)
						if err != nil {
							return err
						}
						targets = append(targets, target{kind, ns, name})
					}
				default:
					if len(args) < 2 {
						return fmt.Errorf("name the %s to delete: delete %s NAME", args[0], args[0])
					}
					for _, name := range args[1:] {
						kind, name, err := splitTypeNameOf([]string{args[0], name}, "", true)
						if err != nil {
							return err
						}
						targets = append(targets, target{kind, ns, name})
					}
				}

				for _, t := range targets {
					var err error
					if t.kind == kindWorker {
						err = c.Workers().Delete(ctx, t.name)
					} else {
						err = c.Delete(ctx, t.kind, t.ns, t.name)
					}
					if ignoreNotFound && errors.Is(err, client.ErrNotFound) {
						continue
					}
					if err != nil {
						return err
					}
					name := "worker"
					if t.kind != kindWorker {
						name = resourceName(t.kind)
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%s %q deleted\n", name, t.name)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "delete the objects named in this manifest file, directory, or - (repeatable)")
	cmd.Flags().BoolVar(&ignoreNotFound, "ignore-not-found", false, "treat objects that do not exist as deleted")
	cmd.Flags().StringVarP(&selector, "selector", "l", "", "delete the objects of the type whose labels match (team=data,tier!=batch)")
	cmd.Flags().BoolVar(&all, "all", false, "delete every object of the type in the namespace")
	return cmd
}

// downstreamsFirst orders CronJobs to delete: those that depend on others
// before their upstreams (the server refuses to delete an upstream still
// named in a dependsOn), otherwise in the order given.
func downstreamsFirst(cjs []*pb.CronJob) []*pb.CronJob {
	in := slices.Clone(cjs)
	slices.Reverse(in)
	out := scheduler.DependencyOrder(in)
	slices.Reverse(out)
	return out
}

// kindWorker marks a worker among the objects to delete.
const kindWorker = "worker"

// workerArgs recognises `worker ID...` and `worker/ID...`.
func workerArgs(args []string) ([]string, bool) {
	if len(args) > 0 && (args[0] == "worker" || args[0] == "workers") {
		return args[1:], true
	}
	var ids []string
	for _, a := range args {
		kind, id, ok := strings.Cut(a, "/")
		if !ok || (kind != "worker" && kind != "workers") {
			return nil, false
		}
		ids = append(ids, id)
	}
	return ids, len(ids) > 0
}
