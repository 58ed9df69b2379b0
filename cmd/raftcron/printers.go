package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
	"k8s.io/client-go/util/jsonpath"

	"github.com/raftcron/raftcron/client"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/scheduler"
)

// More -o formats of get: name, and the templated ones (-o jsonpath=TEMPLATE,
// -o custom-columns=SPEC), as kubectl has them.
const (
	formatName          = "name"
	formatJSONPath      = "jsonpath"
	formatCustomColumns = "custom-columns"
)

// printSpec is how get prints: -o, --no-headers and --sort-by.
type printSpec struct {
	format    string
	template  string // jsonpath=TEMPLATE, custom-columns=SPEC
	noHeaders bool
	sortBy    string
	columns   []column // custom-columns, parsed
}

// column is one custom column: a header and a JSONPath.
type column struct {
	header string
	path   *jsonpath.JSONPath
}

// manifestFormat: -o json or -o yaml, which print objects whole.
func (p printSpec) manifestFormat() bool { return p.format == formatJSON || p.format == formatYAML }

// getPrintSpec reads get's -o, --no-headers and --sort-by, and checks the
// templates of -o jsonpath=… and -o custom-columns=… and the --sort-by path.
func getPrintSpec(cmd *cobra.Command) (printSpec, error) {
	out, _ := cmd.Flags().GetString("output")
	p := printSpec{format: out}
	p.noHeaders, _ = cmd.Flags().GetBool("no-headers")
	p.sortBy, _ = cmd.Flags().GetString("sort-by")
	if name, tmpl, ok := strings.Cut(out, "="); ok && (name == formatJSONPath || name == formatCustomColumns) {
		p.format, p.template = name, unquote(tmpl)
		if p.template == "" {
			return p, fmt.Errorf("-o %s= needs a template, for example -o %s", name, map[string]string{
				formatJSONPath: "jsonpath='{.items[*].metadata.name}'", formatCustomColumns: "custom-columns=NAME:.metadata.name,SCHEDULE:.spec.schedule"}[name])
		}
	}
	switch p.format {
	case "":
		p.format = formatTable
	case formatTable, formatWide, formatJSON, formatYAML, formatName:
	case formatJSONPath:
		if _, err := newJSONPath("output", p.template, false); err != nil {
			return p, err
		}
	case formatCustomColumns:
		for _, spec := range strings.Split(p.template, ",") {
			header, expr, ok := strings.Cut(spec, ":")
			if !ok || header == "" || expr == "" {
				return p, fmt.Errorf("-o custom-columns: %q: each column is HEADER:JSONPATH, for example NAME:.metadata.name", spec)
			}
			jp, err := newJSONPath("custom-columns "+header, expr, true)
			if err != nil {
				return p, err
			}
			p.columns = append(p.columns, column{header, jp})
		}
	default:
		return p, fmt.Errorf("--output %q: unknown format; want one of table, wide, json, yaml, name, jsonpath=TEMPLATE, custom-columns=SPEC", out)
	}
	if p.sortBy != "" {
		if _, err := newJSONPath("sort-by", p.sortBy, true); err != nil {
			return p, err
		}
	}
	return p, nil
}

// unquote drops the quotes a shell left around a template.
func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// newJSONPath parses a JSONPath template; relaxed accepts kubectl's short
// forms of one path (.spec.schedule, spec.schedule) besides {.spec.schedule}.
// Missing keys print as nothing, as in kubectl.
func newJSONPath(what, tmpl string, relaxed bool) (*jsonpath.JSONPath, error) {
	if relaxed {
		t := strings.TrimSpace(tmpl)
		if !strings.HasPrefix(t, "{") {
			if !strings.HasPrefix(t, ".") && !strings.HasPrefix(t, "[") {
				t = "." + t
			}
			t = "{" + t + "}"
		}
		tmpl = t
	}
	jp := jsonpath.New(what).AllowMissingKeys(true)
	if err := jp.Parse(tmpl); err != nil {
		return nil, fmt.Errorf("--%s: bad JSONPath %q: %v", strings.Fields(what)[0], tmpl, err)
	}
	return jp, nil
}

// getList is the objects of one type as get prints them.
type getList struct {
	resource string // what -o name prints before the slash: cronjob.batch, attempt, …
	header   []string
	items    []getItem
	// namespaced: -A adds a NAMESPACE column.
	namespaced bool
}

// getItem is one object: its table row and its JSON form (the manifest
// shape for CronJobs, Jobs and Secrets), which -o json|yaml|jsonpath,
// custom-columns and --sort-by read.
type getItem struct {
	namespace, name string
	cells           []string
	json            json.RawMessage
	tree            any // json decoded, for JSONPath
}

func (l *getList) add(namespace, name string, cells []string, js []byte) error {
	var buf bytes.Buffer
	if err := json.Compact(&buf, js); err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	js = buf.Bytes()
	var tree any
	if err := json.Unmarshal(js, &tree); err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	l.items = append(l.items, getItem{namespace: namespace, name: name, cells: cells, json: js, tree: tree})
	return nil
}

// sortBy orders the items by the value at path (numbers by value, the rest
// as text; items without the field first), keeping the order of equals.
func (l *getList) sortBy(path string) error {
	if path == "" {
		return nil
	}
	keys := make([]any, len(l.items))
	for i, it := range l.items {
		jp, _ := newJSONPath("sort-by", path, true)
		vals, err := jp.FindResults(it.tree)
		if err != nil {
			return fmt.Errorf("--sort-by %s: %v", path, err)
		}
		if len(vals) > 0 && len(vals[0]) > 0 {
			if len(vals[0]) > 1 {
				return fmt.Errorf("--sort-by %s: gives %d values for %s; name one field", path, len(vals[0]), it.name)
			}
			keys[i] = vals[0][0].Interface()
		}
	}
	idx := make([]int, len(l.items))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return lessValue(keys[idx[a]], keys[idx[b]]) })
	sorted := make([]getItem, len(l.items))
	for i, j := range idx {
		sorted[i] = l.items[j]
	}
	l.items = sorted
	return nil
}

func lessValue(a, b any) bool {
	switch {
	case a == nil:
		return b != nil
	case b == nil:
		return false
	}
	fa, aNum := a.(float64)
	fb, bNum := b.(float64)
	if aNum && bNum {
		return fa < fb
	}
	if aNum != bNum {
		return aNum // numbers before text
	}
	return fmt.Sprint(a) < fmt.Sprint(b)
}

// writeTable prints the list as a table; prefix puts the resource before
// each name (cronjob.batch/hello), as kubectl does when it lists several
// types; withNamespace adds the NAMESPACE column.
func (l *getList) writeTable(w io.Writer, withNamespace, noHeaders, prefix bool) error {
	tw := newTable(w)
	withNamespace = withNamespace && l.namespaced
	if !noHeaders {
		header := l.header
		if withNamespace {
			header = append([]string{"NAMESPACE"}, header...)
		}
		row(tw, header...)
	}
	for _, it := range l.items {
		cells := it.cells
		if prefix {
			cells = append([]string{l.resource + "/" + cells[0]}, cells[1:]...)
		}
		if withNamespace {
			cells = append([]string{it.namespace}, cells...)
		}
		row(tw, cells...)
	}
	return tw.Flush()
}

// writeGetLists prints what get found, in the format p asks for. single:
// one object was named, so -o json|yaml|jsonpath print it, not a List.
func writeGetLists(w io.Writer, lists []*getList, p printSpec, withNamespace, single bool) error {
	var all []getItem
	for _, l := range lists {
		all = append(all, l.items...)
	}
	switch p.format {
	case formatJSON, formatYAML:
		if single && len(all) == 1 {
			return writeJSONOrYAML(w, all[0].json, p.format)
		}
		raw := make([]json.RawMessage, len(all))
		for i, it := range all {
			raw[i] = it.json
		}
		return writeList(w, raw, p.format)
	case formatName:
		for _, l := range lists {
			for _, it := range l.items {
				fmt.Fprintf(w, "%s/%s\n", l.resource, it.name)
			}
		}
		return nil
	case formatJSONPath:
		var data any
		if single && len(all) == 1 {
			data = all[0].tree
		} else {
			items := make([]any, len(all))
			for i, it := range all {
				items[i] = it.tree
			}
			data = map[string]any{"apiVersion": "v1", "kind": "List", "items": items}
		}
		jp, err := newJSONPath("output", p.template, false)
		if err != nil {
			return err
		}
		if err := jp.Execute(w, data); err != nil {
			return fmt.Errorf("-o jsonpath: %v", err)
		}
		return nil
	case formatCustomColumns:
		tw := newTable(w)
		if !p.noHeaders {
			header := make([]string, len(p.columns))
			for i, c := range p.columns {
				header[i] = c.header
			}
			row(tw, header...)
		}
		for _, it := range all {
			cells := make([]string, len(p.columns))
			for i, c := range p.columns {
				cells[i] = columnValue(c.path, it.tree)
			}
			row(tw, cells...)
		}
		return tw.Flush()
	}
	prefix := len(lists) > 1
	first := true
	for _, l := range lists {
		if len(l.items) == 0 {
			continue
		}
		if !first {
			fmt.Fprintln(w)
		}
		first = false
		if err := l.writeTable(w, withNamespace, p.noHeaders, prefix); err != nil {
			return err
		}
	}
	return nil
}

// columnValue is one custom-columns cell: the values found, joined by
// commas, or <none>.
func columnValue(jp *jsonpath.JSONPath, tree any) string {
	results, err := jp.FindResults(tree)
	if err != nil {
		return none
	}
	var parts []string
	for _, rs := range results {
		for _, r := range rs {
			v := r.Interface()
			switch x := v.(type) {
			case nil:
				continue
			case string:
				parts = append(parts, x)
			case map[string]any, []any:
				b, _ := json.Marshal(x)
				parts = append(parts, string(b))
			default:
				parts = append(parts, fmt.Sprint(x))
			}
		}
	}
	if len(parts) == 0 {
		return none
	}
	return strings.Join(parts, ",")
}

// manifestJSON is a CronJob's, Job's or Secret's manifest shape as JSON.
func manifestJSON(res *pb.Resource) ([]byte, error) {
	return client.EncodeManifest(res, formatJSON)
}

func cronJobList(items []*pb.CronJob, wide bool) (*getList, error) {
	l := &getList{resource: "cronjob.batch", namespaced: true,
		header: []string{"NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE"}}
	if wide {
		l.header = append(l.header, "CONCURRENCY", "CATCHUP", "IMAGE")
	}
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
		js, err := manifestJSON(&pb.Resource{Kind: &pb.Resource_CronJob{CronJob: cj}})
		if err != nil {
			return nil, err
		}
		if err := l.add(cj.GetMetadata().GetNamespace(), cj.GetMetadata().GetName(), cells, js); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func jobList(items []*pb.Job, wide bool) (*getList, error) {
	l := &getList{resource: "job.batch", namespaced: true,
		header: []string{"NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"}}
	if wide {
		l.header = append(l.header, "CRONJOB", "SCHEDULED")
	}
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
		js, err := manifestJSON(&pb.Resource{Kind: &pb.Resource_Job{Job: j}})
		if err != nil {
			return nil, err
		}
		if err := l.add(j.GetMetadata().GetNamespace(), j.GetMetadata().GetName(), cells, js); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// attemptList: withMessage adds the MESSAGE column (describe job uses it to
// say why a Pending attempt waits).
func attemptList(items []*pb.Attempt, withMessage bool) (*getList, error) {
	l := &getList{resource: "attempt", namespaced: true,
		header: []string{"NAME", "INDEX", "ATTEMPT", "WORKER", "STATE", "EXIT", "REASON", "STARTED", "DURATION"}}
	if withMessage {
		l.header = append(l.header, "MESSAGE")
	}
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
			msg := a.GetMessage()
			if a.NeverStarted() && !strings.HasPrefix(msg, "never started") {
				msg = "never started: " + msg
			}
			cells = append(cells, oneLine(msg))
		}
		js, err := protojson.Marshal(a)
		if err != nil {
			return nil, fmt.Errorf("encode output: %w", err)
		}
		if err := l.add(a.GetNamespace(), a.GetName(), cells, js); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// secretList is kubectl's Secret table: name, type, number of keys.
func secretList(items []*pb.Secret) (*getList, error) {
	l := &getList{resource: "secret", namespaced: true, header: []string{"NAME", "TYPE", "DATA", "AGE"}}
	for _, s := range items {
		cells := []string{s.GetMetadata().GetName(), s.GetType(), strconv.Itoa(len(s.GetData())),
			age(s.GetMetadata().GetCreationTimestamp(), "<unknown>")}
		js, err := manifestJSON(&pb.Resource{Kind: &pb.Resource_Secret{Secret: s}})
		if err != nil {
			return nil, err
		}
		if err := l.add(s.GetMetadata().GetNamespace(), s.GetMetadata().GetName(), cells, js); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func workerList(items []*pb.Worker) (*getList, error) {
	l := &getList{resource: "worker", header: []string{"ID", "LABELS", "SLOTS", "RUNTIME", "LAST HEARTBEAT", "STATE"}}
	for _, wk := range items {
		cells := []string{
			wk.GetId(),
			labelsText(wk.GetLabels()),
			fmt.Sprintf("%d/%d", wk.GetUsed(), wk.GetSlots()),
			orNone(wk.GetRuntime()),
			age(wk.GetLastHeartbeat(), none),
			orNone(wk.GetState()),
		}
		js, err := protojson.Marshal(wk)
		if err != nil {
			return nil, fmt.Errorf("encode output: %w", err)
		}
		if err := l.add("", wk.GetId(), cells, js); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// namespace is a namespace as get namespaces shows it: namespaces are not
// objects in raftcron, just the ones its CronJobs and Jobs are in (and
// default, which always exists).
type namespace struct {
	name           string
	cronJobs, jobs int
	oldest         *pb.ObjectMeta // the oldest object in it (its AGE)
}

func namespaceList(items []namespace, wide bool) (*getList, error) {
	l := &getList{resource: "namespace", header: []string{"NAME", "STATUS", "AGE"}}
	if wide {
		l.header = append(l.header, "CRONJOBS", "JOBS")
	}
	for _, ns := range items {
		cells := []string{ns.name, "Active", age(ns.oldest.GetCreationTimestamp(), "<unknown>")}
		if wide {
			cells = append(cells, strconv.Itoa(ns.cronJobs), strconv.Itoa(ns.jobs))
		}
		obj := map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns.name},
			"status": map[string]any{"phase": "Active", "cronJobs": ns.cronJobs, "jobs": ns.jobs}}
		if ts := ns.oldest.GetCreationTimestamp(); ts != nil {
			obj["metadata"].(map[string]any)["creationTimestamp"] = timestamp(ts, "")
		}
		js, err := json.Marshal(obj)
		if err != nil {
			return nil, fmt.Errorf("encode output: %w", err)
		}
		if err := l.add("", ns.name, cells, js); err != nil {
			return nil, err
		}
	}
	return l, nil
}
