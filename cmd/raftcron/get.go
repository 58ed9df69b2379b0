package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/raftcron/raftcron/client"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

func init() { rootCmd.AddCommand(newGetCmd()) }

// Resource types `get` knows, in the user's words.
const (
	typeCronJobs   = "cronjobs"
	typeJobs       = "jobs"
	typeAttempts   = "attempts"
	typeWorkers    = "workers"
	typeSecrets    = "secrets"
	typeNamespaces = "namespaces"
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
	case "namespaces", "namespace", "ns":
		return typeNamespaces, true
	}
	return "", false
}

// allTypes is what `get all` lists.
var allTypes = []string{typeCronJobs, typeJobs}

const knownTypes = "cronjobs (cj), jobs, attempts, workers, secrets, namespaces (ns) or all"

// getRequest is one type to get, with the names asked for (none: list).
type getRequest struct {
	typ   string
	names []string
}

// parseGetArgs reads get's arguments: TYPE[,TYPE…] [NAME…], all, or
// TYPE/NAME… .
func parseGetArgs(args []string) ([]getRequest, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("name a resource type: %s", knownTypes)
	}
	var reqs []getRequest
	if strings.Contains(args[0], "/") {
		for _, a := range args {
			typ, name, ok := strings.Cut(a, "/")
			if !ok {
				return nil, fmt.Errorf("%q: name every object as TYPE/NAME once one is (there is no need to name a type twice)", a)
			}
			t, ok := getType(typ)
			if !ok {
				return nil, fmt.Errorf("unknown resource type %q; want %s", typ, knownTypes)
			}
			if name == "" {
				return nil, fmt.Errorf("%q: the name is empty", a)
			}
			if n := len(reqs); n > 0 && reqs[n-1].typ == t {
				reqs[n-1].names = append(reqs[n-1].names, name)
			} else {
				reqs = append(reqs, getRequest{typ: t, names: []string{name}})
			}
		}
		return reqs, nil
	}
	seen := map[string]bool{}
	for _, typ := range strings.Split(args[0], ",") {
		types := []string{typ}
		if strings.EqualFold(typ, "all") {
			types = allTypes
		}
		for _, typ := range types {
			t, ok := getType(typ)
			if !ok {
				return nil, fmt.Errorf("unknown resource type %q; want %s", typ, knownTypes)
			}
			if !seen[t] {
				seen[t] = true
				reqs = append(reqs, getRequest{typ: t})
			}
		}
	}
	if names := args[1:]; len(names) > 0 {
		if len(reqs) > 1 {
			return nil, fmt.Errorf("names need one resource type; use TYPE/NAME to name objects of several types")
		}
		reqs[0].names = names
	}
	return reqs, nil
}

// newGetCmd is `raftcron get TYPE [NAME...]`.
func newGetCmd() *cobra.Command {
	var (
		allNamespaces bool
		cronJob       string
		job           string
		watch         bool
		selector      string
		lost          bool
	)
	cmd := &cobra.Command{
		Use:   "get TYPE[,TYPE...] [NAME...] | TYPE/NAME...",
		Short: "List CronJobs, Jobs, attempts, workers, Secrets or namespaces",
		Long: `List CronJobs, Jobs, attempts, workers, Secrets or namespaces, or show the named ones.

TYPE is cronjobs (cronjob, cj), jobs (job), attempts (attempt), workers (worker),
secrets (secret) or namespaces (namespace, ns); several types are separated by
commas (cronjobs,jobs), and all is cronjobs,jobs. Namespaces are the ones that
hold CronJobs or Jobs, and default.

-o is table (the default), wide, json, yaml, name (TYPE/NAME lines),
jsonpath=TEMPLATE (kubectl's JSONPath, over a List unless one object is named)
or custom-columns=HEADER:PATH,... With -o yaml or -o json the output is in the
manifest shape and applies back, except Secrets: their values always read
REDACTED. --sort-by orders by a field (a JSONPath such as .metadata.name or
.status.lastScheduleTime), --no-headers drops the header line.`,
		Example: `  raftcron get cronjobs
  raftcron get cj hello -o yaml
  raftcron get cronjobs,jobs
  raftcron get all -A -l team=data
  raftcron get jobs --cronjob hello -o wide --sort-by .status.startTime
  raftcron get cronjobs -o name
  raftcron get cronjobs -o jsonpath='{.items[*].metadata.name}'
  raftcron get cronjobs -o custom-columns=NAME:.metadata.name,SCHEDULE:.spec.schedule --no-headers
  raftcron get attempts --job hello-29000000
  raftcron get jobs -w -l team=data
  raftcron get namespaces
  raftcron get workers
  raftcron get workers --lost`,
		ValidArgsFunction: completeGetArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			reqs, err := parseGetArgs(args)
			if err != nil {
				return err
			}
			p, err := getPrintSpec(cmd)
			if err != nil {
				return err
			}
			named := false
			for _, r := range reqs {
				named = named || len(r.names) > 0
				t := r.typ
				if cronJob != "" && t != typeJobs {
					return fmt.Errorf("--cronjob filters jobs only")
				}
				if job != "" && t != typeAttempts {
					return fmt.Errorf("--job filters attempts only")
				}
				if lost && t != typeWorkers {
					return fmt.Errorf("--lost filters workers only")
				}
				if selector != "" && t != typeCronJobs && t != typeJobs && t != typeWorkers {
					return fmt.Errorf("--selector filters cronjobs, jobs and workers only")
				}
			}
			if selector != "" {
				if named {
					return fmt.Errorf("--selector lists; it cannot be combined with names")
				}
				if _, err := client.ParseSelector(selector); err != nil {
					return fmt.Errorf("--selector: %w", err)
				}
			}
			ns := namespaceFlag(cmd)
			if allNamespaces {
				if named {
					return fmt.Errorf("a resource cannot be retrieved by name across all namespaces; drop -A or the names")
				}
				ns = ""
			}
			if watch && len(reqs) > 1 {
				return fmt.Errorf("--watch follows one resource type at a time")
			}
			if watch && p.sortBy != "" {
				return fmt.Errorf("--sort-by cannot be combined with --watch")
			}
			c, err := dialClient(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			if watch {
				return getWatch(cmd, c, watchRequest{typ: reqs[0].typ, ns: ns, allNamespaces: allNamespaces,
					names: reqs[0].names, cronJob: cronJob, job: job, selector: selector, print: p})
			}
			ctx, cancel := requestContext(cmd)
			defer cancel()
			g := getter{c: c, ctx: ctx, ns: ns, all: allNamespaces, selector: selector, cronJob: cronJob, job: job, wide: p.format == formatWide, lost: lost}
			var lists []*getList
			total := 0
			for _, r := range reqs {
				l, err := g.get(r.typ, r.names)
				if err != nil {
					return err
				}
				if err := l.sortBy(p.sortBy); err != nil {
					return err
				}
				lists = append(lists, l)
				total += len(l.items)
			}
			single := len(reqs) == 1 && len(reqs[0].names) == 1
			if total == 0 && !p.manifestFormat() && p.format != formatJSONPath {
				if len(reqs) == 1 && reqs[0].typ == typeWorkers {
					if lost {
						fmt.Fprintln(cmd.ErrOrStderr(), "No lost workers found.")
						return nil
					}
					fmt.Fprintln(cmd.ErrOrStderr(), "No workers found.")
					return nil
				}
				return noResources(cmd, ns)
			}
			return writeGetLists(cmd.OutOrStdout(), lists, p, allNamespaces, single)
		},
	}
	addOutputFlag(cmd, formatTable, formatWide, formatJSON, formatYAML, formatName, "jsonpath=TEMPLATE", "custom-columns=SPEC")
	cmd.Flags().BoolVarP(&allNamespaces, "all-namespaces", "A", false, "list objects of every namespace")
	cmd.Flags().StringVar(&cronJob, "cronjob", "", "jobs: only those made by this CronJob")
	cmd.Flags().StringVar(&job, "job", "", "attempts: only those of this Job")
	cmd.Flags().BoolVar(&lost, "lost", false, "workers: only lost ones (the leader lists them for the cluster setting lost-worker-retention; delete worker forgets one)")
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "after listing, print a row for every change as the cluster commits it (cronjobs, jobs, attempts; Ctrl-C stops)")
	cmd.Flags().StringVarP(&selector, "selector", "l", "", "cronjobs, jobs, workers: only those whose labels match (team=data,tier!=batch,env in (a,b),!legacy); with --watch, changes too")
	cmd.Flags().Bool("no-headers", false, "print tables (and custom columns) without the header line")
	cmd.Flags().String("sort-by", "", "order the list by this field, a JSONPath into the object as -o json prints it (.metadata.name, .spec.schedule, .status.startTime)")
	cmd.Flags().Int32("chunk-size", 500, "read lists in pages of this many items (continue tokens), so no answer outgrows a message")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{formatTable, formatWide, formatJSON, formatYAML, formatName, "jsonpath=", "custom-columns="}, cobra.ShellCompDirectiveNoSpace))
	return cmd
}

// getter reads one type of object for get.
type getter struct {
	c                      *client.Client
	ctx                    context.Context
	ns                     string // "" with -A
	all                    bool
	selector, cronJob, job string
	wide                   bool
	lost                   bool // workers: only lost ones
}

// get reads the named objects of type t, or lists them, sorted by
// namespace and name.
func (g getter) get(t string, names []string) (*getList, error) {
	c, ctx, ns := g.c, g.ctx, g.ns
	switch t {
	case typeCronJobs:
		items, err := namedOrListed(names, func(n string) (*pb.CronJob, error) { return c.GetCronJob(ctx, ns, n) }, func() ([]*pb.CronJob, error) {
			return c.CronJobs().List(ctx, client.ListOptions{Namespace: ns, AllNamespaces: g.all, LabelSelector: g.selector})
		})
		if err != nil {
			return nil, err
		}
		return cronJobList(items, g.wide)
	case typeJobs:
		items, err := namedOrListed(names, func(n string) (*pb.Job, error) { return c.GetJob(ctx, ns, n) }, func() ([]*pb.Job, error) {
			return c.Jobs().List(ctx, client.ListOptions{Namespace: ns, AllNamespaces: g.all, LabelSelector: g.selector, CronJob: g.cronJob})
		})
		if err != nil {
			return nil, err
		}
		return jobList(items, g.wide)
	case typeSecrets:
		items, err := namedOrListed(names, func(n string) (*pb.Secret, error) { return c.GetSecret(ctx, ns, n) }, func() ([]*pb.Secret, error) {
			return c.ListSecrets(ctx, ns)
		})
		if err != nil {
			return nil, err
		}
		return secretList(items)
	case typeAttempts:
		if g.all && g.job != "" {
			return nil, fmt.Errorf("--job names a Job of one namespace; drop -A or --job")
		}
		list := func() ([]*pb.Attempt, error) { return c.ListAttempts(ctx, ns, g.job) }
		if g.all {
			list = func() ([]*pb.Attempt, error) { return c.ListAttemptsAllNamespaces(ctx) }
		}
		items, err := list()
		if err != nil {
			return nil, err
		}
		if len(names) > 0 {
			if items, err = pickAttempts(items, names, ns); err != nil {
				return nil, err
			}
		}
		sortAttempts(items)
		return attemptList(items, false)
	case typeNamespaces:
		items, err := listNamespaces(ctx, c)
		if err != nil {
			return nil, err
		}
		if len(names) > 0 {
			byName := map[string]namespace{}
			for _, n := range items {
				byName[n.name] = n
			}
			items = items[:0:0]
			for _, n := range names {
				x, ok := byName[n]
				if !ok {
					return nil, fmt.Errorf("namespace %q not found: no CronJob or Job is in it", n)
				}
				items = append(items, x)
			}
		}
		return namespaceList(items, g.wide)
	default: // workers
		list := c.Workers().List
		if g.lost {
			list = c.Workers().ListLost
		}
		items, err := list(ctx, g.selector)
		if err != nil {
			return nil, err
		}
		if len(names) > 0 {
			if items, err = pickWorkers(items, names); err != nil {
				return nil, err
			}
		}
		sort.Slice(items, func(i, j int) bool { return items[i].GetId() < items[j].GetId() })
		return workerList(items)
	}
}

// namedOrListed reads the named objects, or lists them all when no name is
// given, sorted by namespace and name.
func namedOrListed[T interface{ GetMetadata() *pb.ObjectMeta }](names []string, get func(string) (T, error), list func() ([]T, error)) ([]T, error) {
	if len(names) == 0 {
		items, err := list()
		sortByNamespaceName(items, T.GetMetadata)
		return items, err
	}
	items := make([]T, 0, len(names))
	for _, n := range names {
		x, err := get(n)
		if err != nil {
			return nil, err
		}
		items = append(items, x)
	}
	return items, nil
}

// listNamespaces is every namespace with a CronJob or Job in it, and
// default, by name.
func listNamespaces(ctx context.Context, c *client.Client) ([]namespace, error) {
	cjs, err := c.CronJobs().List(ctx, client.ListOptions{AllNamespaces: true})
	if err != nil {
		return nil, err
	}
	jobs, err := c.Jobs().List(ctx, client.ListOptions{AllNamespaces: true})
	if err != nil {
		return nil, err
	}
	byName := map[string]*namespace{pb.DefaultNamespace: {name: pb.DefaultNamespace}}
	at := func(m *pb.ObjectMeta) *namespace {
		n := byName[m.GetNamespace()]
		if n == nil {
			n = &namespace{name: m.GetNamespace()}
			byName[n.name] = n
		}
		if ts := m.GetCreationTimestamp(); ts != nil && (n.oldest == nil || ts.AsTime().Before(n.oldest.GetCreationTimestamp().AsTime())) {
			n.oldest = m
		}
		return n
	}
	for _, cj := range cjs {
		at(cj.GetMetadata()).cronJobs++
	}
	for _, j := range jobs {
		at(j.GetMetadata()).jobs++
	}
	out := make([]namespace, 0, len(byName))
	for _, n := range byName {
		out = append(out, *n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
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

// printCronJobs writes the CronJob table.
func printCronJobs(w io.Writer, items []*pb.CronJob, wide, withNamespace bool) error {
	l, err := cronJobList(items, wide)
	if err != nil {
		return err
	}
	return l.writeTable(w, withNamespace, false, false)
}

// printJobs writes the Job table.
func printJobs(w io.Writer, items []*pb.Job, wide, withNamespace bool) error {
	l, err := jobList(items, wide)
	if err != nil {
		return err
	}
	return l.writeTable(w, withNamespace, false, false)
}

// printAttempts writes the attempt table; withMessage adds the MESSAGE
// column (describe job uses it to say why a Pending attempt waits).
func printAttempts(w io.Writer, items []*pb.Attempt, withMessage bool) error {
	l, err := attemptList(items, withMessage)
	if err != nil {
		return err
	}
	return l.writeTable(w, false, false, false)
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
