package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/raftcron/raftcron/client"
)

// now is the CLI's clock for ages and durations; tests replace it.
var now = time.Now

// none is what a table shows for an empty value, as kubectl does.
const none = "<none>"

// Output formats of -o.
const (
	formatTable = "table"
	formatWide  = "wide"
	formatJSON  = "json"
	formatYAML  = "yaml"
)

// addOutputFlag adds -o/--output with the given formats; the first is the default.
func addOutputFlag(cmd *cobra.Command, formats ...string) {
	cmd.Flags().StringP("output", "o", formats[0], "output format: "+strings.Join(formats, "|"))
}

// outputFormat returns the -o value, checked against the allowed formats.
func outputFormat(cmd *cobra.Command, formats ...string) (string, error) {
	f, _ := cmd.Flags().GetString("output")
	if f == "" {
		return formats[0], nil
	}
	for _, ok := range formats {
		if f == ok {
			return f, nil
		}
	}
	return "", fmt.Errorf("--output %q: unknown format; want one of %s", f, strings.Join(formats, ", "))
}

// requestContext is the context for one CLI request: it ends on Ctrl-C or
// SIGTERM and after --timeout (no limit when --timeout is 0).
func requestContext(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	base := cmd.Context()
	if base == nil {
		base = context.Background()
	}
	ctx, stop := signal.NotifyContext(base, os.Interrupt, syscall.SIGTERM)
	if d := timeoutFlag(cmd); d > 0 {
		tctx, cancel := context.WithTimeout(ctx, d)
		return tctx, func() { cancel(); stop() }
	}
	return ctx, stop
}

// newTable returns a writer that aligns tab-separated columns like kubectl.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 6, 4, 3, ' ', 0)
}

// row writes one table row.
func row(w io.Writer, cells ...string) {
	fmt.Fprintln(w, strings.Join(cells, "\t"))
}

// humanDuration renders d the way kubectl's AGE column does: 45s, 3m12s,
// 15m, 5h10m, 20h, 2d4h, 30d, 2y100d.
// preciseDuration is humanDuration with milliseconds below ten seconds, for
// start delays and run times, where "0s" says nothing ("37ms", "1.204s").
func preciseDuration(d time.Duration) string {
	if d >= 0 && d < 10*time.Second {
		return d.Round(time.Millisecond).String()
	}
	return humanDuration(d)
}

func humanDuration(d time.Duration) string {
	if d < -time.Second {
		return "<invalid>"
	}
	if d < 0 {
		return "0s"
	}
	s := int64(d / time.Second)
	m := int64(d / time.Minute)
	h := int64(d / time.Hour)
	switch {
	case s < 120:
		return fmt.Sprintf("%ds", s)
	case m < 10:
		if s%60 == 0 {
			return fmt.Sprintf("%dm", m)
		}
		return fmt.Sprintf("%dm%ds", m, s%60)
	case m < 3*60:
		return fmt.Sprintf("%dm", m)
	case h < 8:
		if m%60 == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%dm", h, m%60)
	case h < 48:
		return fmt.Sprintf("%dh", h)
	case h < 24*8:
		if h%24 == 0 {
			return fmt.Sprintf("%dd", h/24)
		}
		return fmt.Sprintf("%dd%dh", h/24, h%24)
	case h < 24*365*2:
		return fmt.Sprintf("%dd", h/24)
	case h < 24*365*8:
		days := h / 24
		if days%365 == 0 {
			return fmt.Sprintf("%dy", days/365)
		}
		return fmt.Sprintf("%dy%dd", days/365, days%365)
	default:
		return fmt.Sprintf("%dy", h/24/365)
	}
}

// age is the time since ts, or def when ts is unset.
func age(ts *timestamppb.Timestamp, def string) string {
	if ts == nil {
		return def
	}
	return humanDuration(now().Sub(ts.AsTime()))
}

// span is the duration from start to end (to now while end is unset), or
// def when start is unset.
func span(start, end *timestamppb.Timestamp, def string) string {
	if start == nil {
		return def
	}
	until := now()
	if end != nil {
		until = end.AsTime()
	}
	return humanDuration(until.Sub(start.AsTime()))
}

// timestamp renders ts as RFC 3339 in UTC, or def when unset.
func timestamp(ts *timestamppb.Timestamp, def string) string {
	if ts == nil {
		return def
	}
	return ts.AsTime().UTC().Format(time.RFC3339)
}

// timestampAge renders ts as "RFC3339 (5m ago)", or def when unset.
func timestampAge(ts *timestamppb.Timestamp, def string) string {
	if ts == nil {
		return def
	}
	return fmt.Sprintf("%s (%s ago)", timestamp(ts, def), age(ts, def))
}

// orNone returns s, or <none> when it is empty.
func orNone(s string) string {
	if s == "" {
		return none
	}
	return s
}

// boolText is "True" or "False", as kubectl prints booleans in tables.
func boolText(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// labelsText renders labels as k=v,k=v sorted by key, or <none>.
func labelsText(m map[string]string) string {
	if len(m) == 0 {
		return none
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}

// resourceName is the kubectl-style name of a kind: cronjob.batch, job.batch.
func resourceName(kind string) string {
	switch client.CanonicalKind(kind) {
	case client.KindCronJob:
		return "cronjob.batch"
	case client.KindJob:
		return "job.batch"
	}
	return strings.ToLower(kind)
}

// writeMessages prints other messages (attempts, workers, members) as
// protojson, wrapped in a List unless single.
func writeMessages[M proto.Message](w io.Writer, items []M, format string, single bool) error {
	raw := make([]json.RawMessage, 0, len(items))
	for _, it := range items {
		b, err := protojson.Marshal(it)
		if err != nil {
			return fmt.Errorf("encode output: %w", err)
		}
		raw = append(raw, json.RawMessage(b))
	}
	if single && len(raw) == 1 {
		return writeJSONOrYAML(w, raw[0], format)
	}
	return writeList(w, raw, format)
}

// writeList prints items as {apiVersion: v1, kind: List, items: [...]}.
func writeList(w io.Writer, items []json.RawMessage, format string) error {
	if items == nil {
		items = []json.RawMessage{}
	}
	list := struct {
		APIVersion string            `json:"apiVersion"`
		Kind       string            `json:"kind"`
		Items      []json.RawMessage `json:"items"`
	}{"v1", "List", items}
	b, err := json.Marshal(list)
	if err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	return writeJSONOrYAML(w, b, format)
}

// writeJSONOrYAML prints a JSON document indented, or converted to YAML.
func writeJSONOrYAML(w io.Writer, js []byte, format string) error {
	var out []byte
	if format == formatJSON {
		var buf bytes.Buffer
		if err := json.Indent(&buf, js, "", "  "); err != nil {
			return fmt.Errorf("encode output: %w", err)
		}
		buf.WriteByte('\n')
		out = buf.Bytes()
	} else {
		y, err := sigsyaml.JSONToYAML(js)
		if err != nil {
			return fmt.Errorf("encode output: %w", err)
		}
		out = y
	}
	_, err := w.Write(out)
	return err
}

// splitTypeName reads a resource named as "TYPE/NAME" in args[0], or as
// "TYPE NAME" in two args. With defaultKind set a bare "NAME" is allowed.
// The kind comes back canonical (CronJob or Job).
func splitTypeName(args []string, defaultKind string) (kind, name string, err error) {
	return splitTypeNameOf(args, defaultKind, false)
}

// splitTypeNameOf is splitTypeName that also takes secrets when withSecret.
func splitTypeNameOf(args []string, defaultKind string, withSecret bool) (kind, name string, err error) {
	switch {
	case len(args) == 1 && strings.Contains(args[0], "/"):
		kind, name, _ = strings.Cut(args[0], "/")
	case len(args) == 2:
		kind, name = args[0], args[1]
	case len(args) == 1 && defaultKind != "":
		kind, name = defaultKind, args[0]
	default:
		return "", "", fmt.Errorf("name the object as TYPE/NAME (for example cronjob/hello) or TYPE NAME")
	}
	canon := client.CanonicalKind(kind)
	if canon != client.KindCronJob && canon != client.KindJob && (!withSecret || canon != client.KindSecret) {
		if withSecret {
			return "", "", fmt.Errorf("unknown resource type %q; want cronjob (cj), job or secret", kind)
		}
		return "", "", fmt.Errorf("unknown resource type %q; want cronjob (cj) or job", kind)
	}
	if name == "" {
		return "", "", fmt.Errorf("%s: name is empty", strings.ToLower(canon))
	}
	return canon, name, nil
}
