package main

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/raftcron/raftcron/client"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/scheduler"
)

func init() { rootCmd.AddCommand(newGetCmd()) }

// Resource types `get` knows, in the user's words.
const (
	typeCronJobs = "cronjobs"
	typeJobs     = "jobs"
	typeAttempts = "attempts"
	typeWorkers  = "workers"
	typeSecrets  = "secrets"
)

// getType maps what a user types (singular, plural, short) to a type.
func getType(s string) (string, bool) {
	switch strings.ToLower(s) {
	case "cronjobs", "cronjob", "cj", "cronjob.batch", "cronjobs.batch":
		return typeCronJobs, true
	case "jobs", "job", "job.batch", "jobs.batch":
		return typeJobs, true
	case "attempts", "attempt":
		return typeAttempts, true
	case "workers", "worker":
		return typeWorkers, true
	case "secrets", "secret":
		return typeSecrets, true
	}
	return "", false
}

// newGetCmd is `raftcron get TYPE [NAME...]`.
func newGetCmd() *cobra.Command {
	var (
		allNamespaces bool
		cronJob       string
		job           string
		watch         bool
		selector      string
	)
	cmd := &cobra.Command{
		Use:   "get TYPE [NAME...]",
		Short: "List CronJobs, Jobs, attempts or workers",
		Long: `List CronJobs, Jobs, attempts or workers, or show the named ones.

TYPE is cronjobs (cronjob, cj), jobs (job), attempts (attempt), workers (worker)
or secrets (secret). With -o yaml or -o json the output is in the manifest shape
and applies back, except Secrets: their values always read REDACTED.`,
		Example: `  raftcron get cronjobs
  raftcron get cj hello -o yaml
  raftcron get jobs --cronjob hello -o wide
  raftcron get cronjobs -A -l team=data,tier!=batch
  raftcron get attempts --job hello-29000000
  raftcron get jobs -w
  raftcron get workers`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return fmt.Errorf("name a resource type: cronjobs (cj), jobs, attempts or workers")
			}
			typ, names := args[0], args[1:]
			if strings.Contains(typ, "/") {
				if len(args) > 1 {
					return fmt.Errorf("there is no need to name a type twice: use TYPE/NAME or TYPE NAME")
				}
				typ, names = splitSlash(typ)
			}
			t, ok := getType(typ)
			if !ok {
				return fmt.Errorf("unknown resource type %q; want cronjobs (cj), jobs, attempts, workers or secrets", typ)
			}
			format, err := outputFormat(cmd, formatTable, formatWide, formatJSON, formatYAML)
			if err != nil {
				return err
			}
			if cronJob != "" && t != typeJobs {
				return fmt.Errorf("--cronjob filters jobs only")
			}
			if job != "" && t != typeAttempts {
				return fmt.Errorf("--job filters attempts only")
			}
			if selector != "" {
				if t == typeAttempts || t == typeSecrets {
					return fmt.Errorf("--selector filters cronjobs, jobs and workers only")
				}
				if len(names) > 0 {
					return fmt.Errorf("--selector lists; it cannot be combined with names")
				}
				if watch {
					return fmt.Errorf("--selector cannot be combined with --watch yet")
				}
			}
			ns := namespaceFlag(cmd)
			if allNamespaces {
				if len(names) > 0 {
					return fmt.Errorf("a resource cannot be retrieved by name across all namespaces; drop -A or the names")
				}
				ns = ""
			}
			c, err := dialClient(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			if watch {
				return getWatch(cmd, c, t, ns, allNamespaces, names, cronJob, job, format)
			}
			ctx, cancel := requestContext(cmd)
			defer cancel()
			out := cmd.OutOrStdout()
			single := len(names) == 1

			switch t {
			case typeCronJobs:
				var items []*pb.CronJob
				if len(names) > 0 {
					for _, n := range names {
						cj, err := c.GetCronJob(ctx, ns, n)
						if err != nil {
							return err
						}
						items = append(items, cj)
					}
				} else if items, err = c.CronJobs().List(ctx, client.ListOptions{Namespace: ns, AllNamespaces: allNamespaces, LabelSelector: selector}); err != nil {
					return err
				}
				sortByNamespaceName(items, func(x *pb.CronJob) *pb.ObjectMeta { return x.GetMetadata() })
				if format == formatJSON || format == formatYAML {
					return writeManifests(out, cronJobResources(items), format, single)
				}
				if len(items) == 0 {
					return noResources(cmd, ns)
				}
				return printCronJobs(out, items, format == formatWide, allNamespaces)
			case typeJobs:
				var items []*pb.Job
				if len(names) > 0 {
					for _, n := range names {
						j, err := c.GetJob(ctx, ns, n)
						if err != nil {
							return err
						}
						items = append(items, j)
					}
				} else if items, err = c.Jobs().List(ctx, client.ListOptions{Namespace: ns, AllNamespaces: allNamespaces, LabelSelector: selector, CronJob: cronJob}); err != nil {
					return err
				}
				sortByNamespaceName(items, func(x *pb.Job) *pb.ObjectMeta { return x.GetMetadata() })
				if format == formatJSON || format == formatYAML {
					return writeManifests(out, jobResources(items), format, single)
				}
				if len(items) == 0 {
					return noResources(cmd, ns)
				}
				return printJobs(out, items, format == formatWide, allNamespaces)
			case typeSecrets:
				var items []*pb.Secret
				if len(names) > 0 {
					for _, n := range names {
						sec, err := c.GetSecret(ctx, ns, n)
						if err != nil {
							return err
						}
						items = append(items, sec)
					}
				} else if items, err = c.ListSecrets(ctx, ns); err != nil {
					return err
				}
				sortByNamespaceName(items, func(x *pb.Secret) *pb.ObjectMeta { return x.GetMetadata() })
				if format == formatJSON || format == formatYAML {
					res := make([]*pb.Resource, len(items))
					for i, x := range items {
						res[i] = &pb.Resource{Kind: &pb.Resource_Secret{Secret: x}}
					}
					return writeManifests(out, res, format, single)
				}
				if len(items) == 0 {
					return noResources(cmd, ns)
				}
				return printSecrets(out, items, allNamespaces)
			case typeAttempts:
				if allNamespaces && job != "" {
					return fmt.Errorf("--job names a Job of one namespace; drop -A or --job")
				}
				list := func() ([]*pb.Attempt, error) { return c.ListAttempts(ctx, ns, job) }
				if allNamespaces {
					list = func() ([]*pb.Attempt, error) { return c.ListAttemptsAllNamespaces(ctx) }
				}
				items, err := list()
				if err != nil {
					return err
				}
				if len(names) > 0 {
					if items, err = pickAttempts(items, names, ns); err != nil {
						return err
					}
				}
				sortAttempts(items)
				if format == formatJSON || format == formatYAML {
					return writeMessages(out, items, format, single)
				}
				if len(items) == 0 {
					return noResources(cmd, ns)
				}
				return printAttemptsIn(out, items, false, allNamespaces)
			default: // workers
				items, err := c.Workers().List(ctx, selector)
				if err != nil {
					return err
				}
				if len(names) > 0 {
					if items, err = pickWorkers(items, names); err != nil {
						return err
					}
				}
				sort.Slice(items, func(i, j int) bool { return items[i].GetId() < items[j].GetId() })
				if format == formatJSON || format == formatYAML {
					return writeMessages(out, items, format, single)
				}
				if len(items) == 0 {
					fmt.Fprintln(cmd.ErrOrStderr(), "No workers found.")
					return nil
				}
				return printWorkers(out, items)
			}
		},
	}
	addOutputFlag(cmd, formatTable, formatWide, formatJSON, formatYAML)
	cmd.Flags().BoolVarP(&allNamespaces, "all-namespaces", "A", false, "list objects of every namespace")
	cmd.Flags().StringVar(&cronJob, "cronjob", "", "jobs: only those made by this CronJob")
	cmd.Flags().StringVar(&job, "job", "", "attempts: only those of this Job")
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "after listing, print a row for every change as the cluster commits it (cronjobs, jobs, attempts; Ctrl-C stops)")
	cmd.Flags().StringVarP(&selector, "selector", "l", "", "cronjobs, jobs, workers: only those whose labels match (team=data,tier!=batch,env in (a,b),!legacy)")
	cmd.Flags().Int32("chunk-size", 500, "read lists in pages of this many items (continue tokens), so no answer outgrows a message")
	return cmd
}

func splitSlash(s string) (string, []string) {
	typ, name, _ := strings.Cut(s, "/")
	return typ, []string{name}
}

// noResources tells, on stderr as kubectl does, that a list is empty.
func noResources(cmd *cobra.Command, ns string) error {
	if ns == "" {
		fmt.Fprintln(cmd.ErrOrStderr(), "No resources found")
	} else {
		fmt.Fprintf(cmd.ErrOrStderr(), "No resources found in %s namespace.\n", ns)
	}
	return nil
}

func sortByNamespaceName[T any](items []T, meta func(T) *pb.ObjectMeta) {
	sort.SliceStable(items, func(i, j int) bool {
		a, b := meta(items[i]), meta(items[j])
		if a.GetNamespace() != b.GetNamespace() {
			return a.GetNamespace() < b.GetNamespace()
		}
		return a.GetName() < b.GetName()
	})
}

func sortAttempts(items []*pb.Attempt) {
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if a.GetNamespace() != b.GetNamespace() {
			return a.GetNamespace() < b.GetNamespace()
		}
		if a.GetJob() != b.GetJob() {
			return a.GetJob() < b.GetJob()
		}
		if a.GetIndex() != b.GetIndex() {
			return a.GetIndex() < b.GetIndex()
		}
		return a.GetNumber() < b.GetNumber()
	})
}

func pickAttempts(items []*pb.Attempt, names []string, ns string) ([]*pb.Attempt, error) {
	byName := map[string]*pb.Attempt{}
	for _, a := range items {
		byName[a.GetName()] = a
	}
	var out []*pb.Attempt
	for _, n := range names {
		a, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("attempt %q not found in namespace %q", n, ns)
		}
		out = append(out, a)
	}
	return out, nil
}

func pickWorkers(items []*pb.Worker, names []string) ([]*pb.Worker, error) {
	byID := map[string]*pb.Worker{}
	for _, w := range items {
		byID[w.GetId()] = w
	}
	var out []*pb.Worker
	for _, n := range names {
		w, ok := byID[n]
		if !ok {
			return nil, fmt.Errorf("worker %q not found", n)
		}
		out = append(out, w)
	}
	return out, nil
}

func cronJobResources(items []*pb.CronJob) []*pb.Resource {
	out := make([]*pb.Resource, len(items))
	for i, x := range items {
		out[i] = &pb.Resource{Kind: &pb.Resource_CronJob{CronJob: x}}
	}
	return out
}

func jobResources(items []*pb.Job) []*pb.Resource {
	out := make([]*pb.Resource, len(items))
	for i, x := range items {
		out[i] = &pb.Resource{Kind: &pb.Resource_Job{Job: x}}
	}
	return out
}

// printCronJobs writes the CronJob table.
func printCronJobs(w io.Writer, items []*pb.CronJob, wide, withNamespace bool) error {
	tw := newTable(w)
	header := []string{"NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE"}
	if wide {
		header = append(header, "CONCURRENCY", "CATCHUP", "IMAGE")
	}
	if withNamespace {
		header = append([]string{"NAMESPACE"}, header...)
	}
	row(tw, header...)
	for _, cj := range items {
		spec := cj.GetSpec()
		cells := []string{
			cj.GetMetadata().GetName(),
			spec.GetSchedule(),
			orNone(spec.GetTimeZone()),
			boolText(spec.GetSuspend()),
			strconv.Itoa(len(cj.GetStatus().GetActive())),
			age(cj.GetStatus().GetLastScheduleTime(), none),
			age(cj.GetMetadata().GetCreationTimestamp(), "<unknown>"),
		}
		if wide {
			cells = append(cells,
				orDefault(spec.GetConcurrencyPolicy(), scheduler.DefaultConcurrencyPolicy),
				orDefault(spec.GetCatchUp(), scheduler.DefaultCatchUp),
				orNone(imageOf(spec.GetJobTemplate().GetSpec())))
		}
		if withNamespace {
			cells = append([]string{cj.GetMetadata().GetNamespace()}, cells...)
		}
		row(tw, cells...)
	}
	return tw.Flush()
}

// printJobs writes the Job table.
func printJobs(w io.Writer, items []*pb.Job, wide, withNamespace bool) error {
	tw := newTable(w)
	header := []string{"NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"}
	if wide {
		header = append(header, "CRONJOB", "SCHEDULED")
	}
	if withNamespace {
		header = append([]string{"NAMESPACE"}, header...)
	}
	row(tw, header...)
	for _, j := range items {
		st := j.GetStatus()
		cells := []string{
			j.GetMetadata().GetName(),
			client.JobStatusText(j),
			completionsText(j),
			span(st.GetStartTime(), st.GetCompletionTime(), ""),
			age(j.GetMetadata().GetCreationTimestamp(), "<unknown>"),
		}
		if wide {
			scheduled := timestamp(st.GetScheduledTime(), none)
			if st.GetManual() {
				scheduled = "manual"
			}
			cells = append(cells, orNone(st.GetCronJob()), scheduled)
		}
		if withNamespace {
			cells = append([]string{j.GetMetadata().GetNamespace()}, cells...)
		}
		row(tw, cells...)
	}
	return tw.Flush()
}

// printAttempts writes the attempt table; withMessage adds the MESSAGE
// column (describe job uses it to say why a Pending attempt waits).
func printAttempts(w io.Writer, items []*pb.Attempt, withMessage bool) error {
	return printAttemptsIn(w, items, withMessage, false)
}

// printAttemptsIn is printAttempts with a NAMESPACE column (get -A).
func printAttemptsIn(w io.Writer, items []*pb.Attempt, withMessage, withNamespace bool) error {
	tw := newTable(w)
	header := []string{"NAME", "INDEX", "ATTEMPT", "WORKER", "STATE", "EXIT", "REASON", "STARTED", "DURATION"}
	if withMessage {
		header = append(header, "MESSAGE")
	}
	if withNamespace {
		header = append([]string{"NAMESPACE"}, header...)
	}
	row(tw, header...)
	for _, a := range items {
		exit := none
		if a.GetState() == pb.AttemptSucceeded || a.GetState() == pb.AttemptFailed && !a.NeverStarted() {
			exit = strconv.Itoa(int(a.GetExitCode()))
		}
		cells := []string{
			a.GetName(),
			strconv.Itoa(int(a.GetIndex())),
			strconv.Itoa(int(a.GetNumber())),
			orNone(a.GetWorker()),
			a.GetState(),
			exit,
			orNone(a.GetReason()),
			timestamp(a.GetStartTime(), none),
			span(a.GetStartTime(), a.GetFinishTime(), none),
		}
		if withMessage {
			cells = append(cells, oneLine(a.GetMessage()))
		}
		if withNamespace {
			cells = append([]string{a.GetNamespace()}, cells...)
		}
		row(tw, cells...)
	}
	return tw.Flush()
}

// printSecrets writes the Secret table (kubectl's: name, type, number of keys).
func printSecrets(w io.Writer, items []*pb.Secret, withNamespace bool) error {
	tw := newTable(w)
	header := []string{"NAME", "TYPE", "DATA", "AGE"}
	if withNamespace {
		header = append([]string{"NAMESPACE"}, header...)
	}
	row(tw, header...)
	for _, s := range items {
		cells := []string{s.GetMetadata().GetName(), s.GetType(), strconv.Itoa(len(s.GetData())),
			age(s.GetMetadata().GetCreationTimestamp(), "<unknown>")}
		if withNamespace {
			cells = append([]string{s.GetMetadata().GetNamespace()}, cells...)
		}
		row(tw, cells...)
	}
	return tw.Flush()
}

// printWorkers writes the worker table.
func printWorkers(w io.Writer, items []*pb.Worker) error {
	tw := newTable(w)
	row(tw, "ID", "LABELS", "SLOTS", "RUNTIME", "LAST HEARTBEAT", "STATE")
	for _, wk := range items {
		row(tw,
			wk.GetId(),
			labelsText(wk.GetLabels()),
			fmt.Sprintf("%d/%d", wk.GetUsed(), wk.GetSlots()),
			orNone(wk.GetRuntime()),
			age(wk.GetLastHeartbeat(), none),
			orNone(wk.GetState()))
	}
	return tw.Flush()
}

// completionsText is kubectl's COMPLETIONS: succeeded/completions, or for
// a work queue (completions unset) succeeded/1 of parallelism.
func completionsText(j *pb.Job) string {
	spec, st := j.GetSpec(), j.GetStatus()
	if spec.Completions != nil {
		return fmt.Sprintf("%d/%d", st.GetSucceeded(), spec.GetCompletions())
	}
	if spec.Parallelism != nil && spec.GetParallelism() != 1 {
		return fmt.Sprintf("%d/1 of %d", st.GetSucceeded(), spec.GetParallelism())
	}
	return fmt.Sprintf("%d/1", st.GetSucceeded())
}

// imageOf is the container image of a Job spec.
func imageOf(spec *pb.JobSpec) string {
	var images []string
	for _, c := range spec.GetTemplate().GetSpec().GetContainers() {
		images = append(images, c.GetImage())
	}
	return strings.Join(images, ",")
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// oneLine keeps a message on one table line.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return none
	}
	return s
}
