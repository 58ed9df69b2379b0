package main

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/raftcron/raftcron/client"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/scheduler"
)

func init() { rootCmd.AddCommand(newDescribeCmd()) }

// How much history describe shows.
const (
	describeRecentJobs = 10
	describeNextTimes  = 3
)

// newDescribeCmd is `raftcron describe cronjob|job NAME`.
func newDescribeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "describe (cronjob|job) NAME",
		Short: "Show a CronJob or Job in detail, with its recent scheduling decisions or attempts",
		Long: `Show a CronJob or Job in detail.

For a CronJob: its schedule and policies, the next fire times, the active and
recent Jobs, and the recent scheduling decisions (each tick invoked or skipped,
with the reason): the answer to "why did it not run between X and Y".
For a Job: its spec, status, conditions and every attempt (a Pending attempt's
message says why it waits).`,
		Example: `  raftcron describe cronjob hello
  raftcron describe job/hello-29000000`,
		Args:              cobra.RangeArgs(1, 2),
		ValidArgsFunction: completeObjects(false, false, typeCronJobs, typeJobs, typeSecrets),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, name, err := splitTypeNameOf(args, "", true)
			if err != nil {
				return err
			}
			c, err := dialClient(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := requestContext(cmd)
			defer cancel()
			ns := namespaceFlag(cmd)
			out := cmd.OutOrStdout()
			if kind == client.KindSecret {
				sec, err := c.GetSecret(ctx, ns, name)
				if err != nil {
					return err
				}
				return describeSecret(out, sec)
			}
			if kind == client.KindCronJob {
				cj, err := c.GetCronJob(ctx, ns, name)
				if err != nil {
					return err
				}
				jobs, err := c.ListJobs(ctx, ns, name)
				if err != nil {
					return err
				}
				evs, err := c.ListEvents(ctx, ns, false, name, "")
				if err != nil {
					return err
				}
				return describeCronJob(out, cj, jobs, evs)
			}
			job, err := c.GetJob(ctx, ns, name)
			if err != nil {
				return err
			}
			attempts, err := c.ListAttempts(ctx, ns, name)
			if err != nil {
				return err
			}
			evs, err := c.ListEvents(ctx, ns, false, "", name)
			if err != nil {
				return err
			}
			return describeJob(out, job, attempts, evs)
		},
	}
	return cmd
}

// describeSecret shows a Secret's keys and their sizes, never their values
// (the server does not send them).
func describeSecret(w io.Writer, sec *pb.Secret) error {
	f := &fields{w: w}
	md := sec.GetMetadata()
	f.line("Name", md.GetName())
	f.line("Namespace", md.GetNamespace())
	f.list("Labels", mapLines(md.GetLabels()))
	f.line("Type", sec.GetType())
	keys := make([]string, 0, len(sec.GetData()))
	for k := range sec.GetData() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	f.list("Data", keys)
	return f.err
}

// fields writes aligned "Key:  value" lines.
type fields struct {
	w   io.Writer
	err error
}

func (f *fields) line(key, value string) {
	if f.err != nil {
		return
	}
	_, f.err = fmt.Fprintf(f.w, "%-30s%s\n", key+":", value)
}

// more writes a continuation value under the previous one.
func (f *fields) more(value string) {
	if f.err != nil {
		return
	}
	_, f.err = fmt.Fprintf(f.w, "%-30s%s\n", "", value)
}

// list writes key with the first value, then the rest aligned below.
func (f *fields) list(key string, values []string) {
	if len(values) == 0 {
		f.line(key, none)
		return
	}
	f.line(key, values[0])
	for _, v := range values[1:] {
		f.more(v)
	}
}

func (f *fields) heading(s string) {
	if f.err != nil {
		return
	}
	_, f.err = fmt.Fprintln(f.w, s)
}

// sub writes an indented table produced by fn.
func (f *fields) sub(fn func(w io.Writer) error) {
	if f.err != nil {
		return
	}
	f.err = fn(&indentWriter{w: f.w, prefix: "  ", bol: true})
}

// indentWriter prefixes every line written through it.
type indentWriter struct {
	w      io.Writer
	prefix string
	bol    bool
}

func (iw *indentWriter) Write(p []byte) (int, error) {
	var b strings.Builder
	for _, c := range string(p) {
		if iw.bol {
			b.WriteString(iw.prefix)
			iw.bol = false
		}
		b.WriteRune(c)
		if c == '\n' {
			iw.bol = true
		}
	}
	if _, err := io.WriteString(iw.w, b.String()); err != nil {
		return 0, err
	}
	return len(p), nil
}

func optInt(p *int32, def string) string {
	if p == nil {
		return def
	}
	return strconv.Itoa(int(*p))
}

func mapLines(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// describeCronJob writes the CronJob's description.
func describeCronJob(w io.Writer, cj *pb.CronJob, jobs []*pb.Job, events []*pb.Event) error {
	f := &fields{w: w}
	meta, spec, st := cj.GetMetadata(), cj.GetSpec(), cj.GetStatus()
	f.line("Name", meta.GetName())
	f.line("Namespace", meta.GetNamespace())
	f.list("Labels", mapLines(meta.GetLabels()))
	f.list("Annotations", mapLines(meta.GetAnnotations()))
	f.line("Created", timestampAge(meta.GetCreationTimestamp(), "<unknown>"))
	f.line("Schedule", spec.GetSchedule())
	if sched, err := scheduler.ScheduleOf(cj); err == nil && sched.Resolved() != "" {
		f.line("Resolved Schedule", sched.Resolved()+"  (H chosen from namespace and name)")
	}
	f.line("Time Zone", orDefault(spec.GetTimeZone(), "UTC (not set)"))
	f.line("Concurrency Policy", orDefault(spec.GetConcurrencyPolicy(), scheduler.DefaultConcurrencyPolicy))
	catchUp := orDefault(spec.GetCatchUp(), scheduler.DefaultCatchUp)
	if catchUp == "All" {
		catchUp += " (limit " + optInt(spec.CatchUpLimit, "100") + ")"
	}
	f.line("Catch Up", catchUp)
	f.line("Suspend", boolText(spec.GetSuspend()))
	f.line("Starting Deadline Seconds", optInt(spec.StartingDeadlineSeconds, "<unset>"))
	f.line("Successful Job History Limit", optInt(spec.SuccessfulJobsHistoryLimit, "3"))
	f.line("Failed Job History Limit", optInt(spec.FailedJobsHistoryLimit, "1"))
	if deps := spec.GetDependsOn(); len(deps) > 0 {
		var lines []string
		for _, d := range deps {
			lines = append(lines, dependencyText(d))
		}
		f.list("Depends On", lines)
	}
	f.line("Last Schedule Time", timestampAge(st.GetLastScheduleTime(), none))
	f.line("Last Successful Time", timestampAge(st.GetLastSuccessfulTime(), none))
	f.list("Next Schedule Times", nextTimesText(cj))

	var active []string
	for _, a := range st.GetActive() {
		active = append(active, a.GetName())
	}
	f.list("Active Jobs", active)

	js := cj.GetSpec().GetJobTemplate().GetSpec()
	f.heading("Job Template:")
	f.sub(func(w io.Writer) error { return describeJobTemplate(w, js) })

	f.heading("Recent Jobs:")
	if len(jobs) == 0 {
		f.sub(func(w io.Writer) error { _, err := fmt.Fprintln(w, none); return err })
	} else {
		recent := recentJobs(jobs, describeRecentJobs)
		f.sub(func(w io.Writer) error { return printRecentJobs(w, recent) })
	}

	if len(spec.GetDependsOn()) > 0 || len(st.GetWaiting()) > 0 {
		f.heading("Waiting For Upstreams:")
		if len(st.GetWaiting()) == 0 {
			f.sub(func(w io.Writer) error { _, err := fmt.Fprintln(w, none); return err })
		} else {
			f.sub(func(w io.Writer) error { return printWaiting(w, st.GetWaiting(), time.UTC) })
		}
	}

	f.heading("Scheduling Decisions:")
	if len(st.GetDecisions()) == 0 {
		f.sub(func(w io.Writer) error { _, err := fmt.Fprintln(w, none); return err })
	} else {
		f.sub(func(w io.Writer) error { return printDecisions(w, st.GetDecisions(), time.UTC, true) })
	}
	describeEvents(f, events)
	return f.err
}

// nextTimesText lists the next fire times in the CronJob's zone.
func nextTimesText(cj *pb.CronJob) []string {
	sched, err := scheduler.ScheduleOf(cj)
	if err != nil {
		return []string{"<invalid schedule: " + err.Error() + ">"}
	}
	times := sched.NextTimes(now(), describeNextTimes)
	spec := cj.GetSpec()
	out := make([]string, 0, len(times))
	for _, t := range times {
		s := fireTimeText(t)
		if spec.GetSuspend() {
			s += "  (suspended: will not run)"
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return []string{"<never>"}
	}
	return out
}

// fireTimeText renders a fire time in its zone with the UTC offset:
// 2026-03-08T03:00:00-07:00  (UTC-07:00).
func fireTimeText(t time.Time) string {
	return fmt.Sprintf("%s  (UTC%s)", t.Format(time.RFC3339), t.Format("-07:00"))
}

// describeJobTemplate writes the job spec summary.
func describeJobTemplate(w io.Writer, spec *pb.JobSpec) error {
	f := &fields{w: w}
	f.line("Parallelism", optInt(spec.Parallelism, "1"))
	f.line("Completions", optInt(spec.Completions, "1"))
	f.line("Completion Mode", orDefault(spec.GetCompletionMode(), scheduler.DefaultCompletionMode))
	f.line("Backoff Limit", optInt(spec.BackoffLimit, "6"))
	f.line("Active Deadline Seconds", optInt(spec.ActiveDeadlineSeconds, "<unset>"))
	f.line("TTL Seconds After Finished", optInt(spec.TtlSecondsAfterFinished, "<unset>"))
	pod := spec.GetTemplate().GetSpec()
	f.line("Restart Policy", orNone(pod.GetRestartPolicy()))
	if ns := mapLines(pod.GetNodeSelector()); len(ns) > 0 {
		f.list("Node Selector", ns)
	}
	for _, r := range spec.GetPodFailurePolicy().GetRules() {
		f.line("Pod Failure Policy Rule", podFailureRuleText(r))
	}
	for _, c := range pod.GetContainers() {
		f.line("Container", orNone(c.GetName()))
		f.line("  Image", orNone(c.GetImage()))
		if len(c.GetCommand()) > 0 {
			f.line("  Command", strings.Join(c.GetCommand(), " "))
		}
		if len(c.GetArgs()) > 0 {
			f.line("  Args", strings.Join(c.GetArgs(), " "))
		}
		if c.GetWorkingDir() != "" {
			f.line("  Working Dir", c.GetWorkingDir())
		}
		var env []string
		for _, e := range c.GetEnv() {
			env = append(env, e.GetName()+"="+e.GetValue())
		}
		if len(env) > 0 {
			f.list("  Environment", env)
		}
		if l := mapLines(c.GetResources().GetLimits()); len(l) > 0 {
			f.line("  Limits", strings.Join(l, ", "))
		}
		if r := mapLines(c.GetResources().GetRequests()); len(r) > 0 {
			f.line("  Requests", strings.Join(r, ", "))
		}
	}
	return f.err
}

func podFailureRuleText(r *pb.PodFailurePolicyRule) string {
	var parts []string
	if oc := r.GetOnExitCodes(); oc != nil {
		var codes []string
		for _, v := range oc.GetValues() {
			codes = append(codes, strconv.Itoa(int(v)))
		}
		parts = append(parts, fmt.Sprintf("exit code %s [%s]", oc.GetOperator(), strings.Join(codes, ",")))
	}
	for _, pc := range r.GetOnPodConditions() {
		parts = append(parts, fmt.Sprintf("condition %s=%s", pc.GetType(), orDefault(pc.GetStatus(), pb.ConditionTrue)))
	}
	return fmt.Sprintf("%s on %s", r.GetAction(), strings.Join(parts, " or "))
}

// recentJobs returns the n most recent Jobs, newest first.
func recentJobs(jobs []*pb.Job, n int) []*pb.Job {
	sorted := append([]*pb.Job(nil), jobs...)
	key := func(j *pb.Job) time.Time {
		if t := j.GetStatus().GetScheduledTime(); t != nil {
			return t.AsTime()
		}
		return j.GetMetadata().GetCreationTimestamp().AsTime()
	}
	sort.SliceStable(sorted, func(i, j int) bool { return key(sorted[i]).After(key(sorted[j])) })
	if len(sorted) > n {
		sorted = sorted[:n]
	}
	return sorted
}

func printRecentJobs(w io.Writer, jobs []*pb.Job) error {
	tw := newTable(w)
	row(tw, "NAME", "STATUS", "COMPLETIONS", "SCHEDULED", "DURATION", "AGE")
	for _, j := range jobs {
		st := j.GetStatus()
		scheduled := timestamp(st.GetScheduledTime(), none)
		if st.GetManual() {
			scheduled = "manual"
		}
		row(tw, j.GetMetadata().GetName(), client.JobStatusText(j), completionsText(j), scheduled,
			span(st.GetStartTime(), st.GetCompletionTime(), none), age(j.GetMetadata().GetCreationTimestamp(), "<unknown>"))
	}
	return tw.Flush()
}

// printDecisions writes scheduling decisions, oldest first, with times in
// loc. Consecutive skips the scheduler aggregated show their first and last
// tick and how many ticks they cover.
func printDecisions(w io.Writer, ds []*pb.ScheduleDecision, loc *time.Location, withJob bool) error {
	tw := newTable(w)
	header := []string{"TIME", "TICKS", "DECISION", "REASON"}
	if withJob {
		header = append(header, "JOB")
	}
	row(tw, append(header, "MESSAGE")...)
	for _, d := range ds {
		cells := []string{decisionTime(d, loc), decisionTicks(d), d.GetDecision(), orNone(d.GetReason())}
		if withJob {
			cells = append(cells, orNone(d.GetJob()))
		}
		row(tw, append(cells, oneLine(d.GetMessage()))...)
	}
	return tw.Flush()
}

// printWaiting writes the ticks waiting for their upstreams: one row per
// upstream, with how long the tick has waited and until when it waits.
func printWaiting(w io.Writer, ws []*pb.WaitingTick, loc *time.Location) error {
	tw := newTable(w)
	row(tw, "TICK", "JOB", "WAITING", "UPSTREAM", "UPSTREAM TICK", "STATE", "DEADLINE", "MESSAGE")
	for _, t := range ws {
		waited := humanDuration(now().Sub(t.GetSince().AsTime()))
		tick := t.GetScheduledTime().AsTime().In(loc).Format(time.RFC3339)
		if t.GetReason() == scheduler.InvokeManual {
			tick += " (manual)"
		}
		if len(t.GetUpstreams()) == 0 {
			row(tw, tick, t.GetJob(), waited, none, none, none, none, orNone(t.GetMessage()))
		}
		for _, u := range t.GetUpstreams() {
			utick := none
			if u.GetScheduledTime() != nil {
				utick = u.GetScheduledTime().AsTime().In(loc).Format(time.RFC3339)
			}
			row(tw, tick, t.GetJob(), waited, u.GetCronJob(), utick, u.GetState(),
				u.GetDeadline().AsTime().In(loc).Format(time.RFC3339), orNone(oneLine(u.GetMessage())))
		}
	}
	return tw.Flush()
}

// decisionTime is the tick of a decision, or FIRST..LAST for an aggregate.
func decisionTime(d *pb.ScheduleDecision, loc *time.Location) string {
	last := none
	if d.GetScheduledTime() != nil {
		last = d.GetScheduledTime().AsTime().In(loc).Format(time.RFC3339)
	}
	first := d.GetFirstScheduledTime()
	if first == nil || first.AsTime().Equal(d.GetScheduledTime().AsTime()) {
		return last
	}
	return first.AsTime().In(loc).Format(time.RFC3339) + ".." + last
}

// decisionTicks is how many ticks a decision covers ("many" for a range
// too long for the scheduler to count).
func decisionTicks(d *pb.ScheduleDecision) string {
	switch {
	case d.GetCount() > 0:
		return strconv.Itoa(int(d.GetCount()))
	case d.GetFirstScheduledTime() != nil && !d.GetFirstScheduledTime().AsTime().Equal(d.GetScheduledTime().AsTime()):
		return "many"
	default:
		return "1"
	}
}

// describeJob writes the Job's description.
func describeJob(w io.Writer, job *pb.Job, attempts []*pb.Attempt, events []*pb.Event) error {
	f := &fields{w: w}
	meta, st := job.GetMetadata(), job.GetStatus()
	f.line("Name", meta.GetName())
	f.line("Namespace", meta.GetNamespace())
	f.list("Labels", mapLines(meta.GetLabels()))
	f.list("Annotations", mapLines(meta.GetAnnotations()))
	f.line("Created", timestampAge(meta.GetCreationTimestamp(), "<unknown>"))
	switch {
	case st.GetCronJob() != "" && st.GetManual():
		f.line("Created By", "CronJob/"+st.GetCronJob()+" (manual trigger)")
	case st.GetCronJob() != "":
		f.line("Created By", "CronJob/"+st.GetCronJob())
		f.line("Scheduled Time", timestamp(st.GetScheduledTime(), none))
	default:
		f.line("Created By", none)
	}
	f.line("Suspend", boolText(job.GetSpec().GetSuspend()))
	f.line("Status", client.JobStatusText(job))
	if r := client.ResultText(job); r != "" {
		f.line("Result", r)
	}
	f.line("Start Time", timestampAge(st.GetStartTime(), none))
	f.line("Completed At", timestampAge(st.GetCompletionTime(), none))
	f.line("Duration", span(st.GetStartTime(), st.GetCompletionTime(), none))
	f.line("Attempts Statuses", fmt.Sprintf("%d Active / %d Succeeded / %d Failed / %d Lost",
		st.GetActive(), st.GetSucceeded(), st.GetFailed(), st.GetLost()))
	if job.GetSpec().GetCompletionMode() == "Indexed" {
		f.line("Completed Indexes", orNone(st.GetCompletedIndexes()))
	}
	f.heading("Spec:")
	f.sub(func(w io.Writer) error { return describeJobTemplate(w, job.GetSpec()) })

	f.heading("Conditions:")
	if len(st.GetConditions()) == 0 {
		f.sub(func(w io.Writer) error { _, err := fmt.Fprintln(w, none); return err })
	} else {
		f.sub(func(w io.Writer) error {
			tw := newTable(w)
			row(tw, "TYPE", "STATUS", "REASON", "LAST TRANSITION", "MESSAGE")
			for _, c := range st.GetConditions() {
				row(tw, c.GetType(), c.GetStatus(), orNone(c.GetReason()), timestamp(c.GetLastTransitionTime(), none), oneLine(c.GetMessage()))
			}
			return tw.Flush()
		})
	}

	f.heading("Attempts:")
	if len(attempts) == 0 {
		f.sub(func(w io.Writer) error { _, err := fmt.Fprintln(w, none); return err })
	} else {
		sorted := append([]*pb.Attempt(nil), attempts...)
		sortAttempts(sorted)
		f.sub(func(w io.Writer) error { return printAttempts(w, sorted, true) })
	}
	describeEvents(f, events)
	return f.err
}
