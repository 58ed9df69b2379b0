package ui

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/raftcron/raftcron/auth"
	"github.com/raftcron/raftcron/client"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/scheduler"
)

const (
	pageSize   = 50
	stripTicks = 30
	// recentJobs bounds the Jobs a CronJob page reads attempts for.
	recentJobs = 20
)

func cronJobURL(ns, name string) string {
	return "/ui/cronjobs/" + url.PathEscape(ns) + "/" + url.PathEscape(name)
}

func jobURL(ns, name string) string {
	return "/ui/jobs/" + url.PathEscape(ns) + "/" + url.PathEscape(name)
}

// ts reads a protobuf timestamp; unset is the zero time (not 1970).
func ts(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.AsTime()
}

// namespaces are what the viewer may list: nil for every namespace.
func (s *session) namespaces() []string {
	tok := s.who.GetToken()
	if s.who.GetAclsDisabled() || tok == nil || tok.GetManagement() {
		return nil
	}
	for _, n := range tok.GetNamespaces() {
		if n == auth.AllNamespaces {
			return nil
		}
	}
	return tok.GetNamespaces()
}

// scanLimit bounds the CronJobs one page of the CronJobs list reads while
// a label filter skips those that do not match; past it the page ends
// early and its next link goes on from there.
const scanLimit = 2000

// cronJobPage reads one page of the CronJobs of ns (or of every namespace
// the viewer may read) that match sel, starting at cursor, a position
// "<namespace number>.<the API's continue token>" from the previous page.
// It returns the cursor of the next page ("" after the last).
func (s *session) cronJobPage(ns string, sel client.Selector, cursor string) ([]*pb.CronJob, string, error) {
	spaces := []string{ns}
	if ns == "" && s.namespaces() != nil {
		spaces = append([]string{}, s.namespaces()...)
		sort.Strings(spaces)
	}
	i, token := 0, ""
	if cursor != "" {
		n, t, ok := strings.Cut(cursor, ".")
		var err error
		if i, err = strconv.Atoi(n); !ok || err != nil || i < 0 || i >= len(spaces) {
			return nil, "", fmt.Errorf("after: %q is not a position from a previous page: %w", cursor, client.ErrInvalid)
		}
		token = t
	}
	var out []*pb.CronJob
	read := 0
	for i < len(spaces) {
		if len(out) == pageSize || read >= scanLimit {
			return out, strconv.Itoa(i) + "." + token, nil
		}
		l, next, err := s.c.ListCronJobsPage(s.ctx, spaces[i], int32(pageSize-len(out)), token)
		if err != nil {
			return nil, "", err
		}
		read += len(l)
		for _, cj := range l {
			if sel.Matches(cj.GetMetadata().GetLabels()) {
				out = append(out, cj)
			}
		}
		if token = next; next == "" {
			i++
		}
	}
	return out, "", nil
}

// summary is the cluster's summary over the namespaces the viewer may read,
// with the runs of the last 24 hours. The server reads it from counters and
// indexes, so no page reads every Job.
func (s *session) summary(now time.Time) (*pb.SummaryResponse, error) {
	return s.c.Summary(s.ctx, s.namespaces(), now.Add(-24*time.Hour))
}

// parallel runs f for 0..n-1 with at most 8 at once.
func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			f(i)
		}()
	}
	wg.Wait()
}

// ---------------------------------------------------------------- CronJobs

type cronJobRow struct {
	Namespace, Name string
	URL             string
	Words, Expr     string
	Suspended       bool
	Next            time.Time
	Last            *tick
	Strip           []tick
	Labels          string
	Error           string
}

type cronJobsBody struct {
	Namespace, Label string
	Rows             []cronJobRow
	// Total: the CronJobs in the namespaces shown (-1 with a label filter).
	Total       int
	Page        int
	First, Next string
}

func (h *Handler) cronJobs(s *session, r *http.Request) (string, *pageData, error) {
	q := r.URL.Query()
	ns := strings.TrimSpace(q.Get("namespace"))
	sel, err := client.ParseSelector(q.Get("label"))
	if err != nil {
		return "", nil, fmt.Errorf("label: %w", err)
	}
	page, err := parseIntParam(q.Get("page"), "page")
	if err != nil {
		return "", nil, err
	}
	if page < 1 {
		page = 1
	}
	shown, next, err := s.cronJobPage(ns, sel, q.Get("after"))
	if err != nil {
		return "", nil, err
	}
	body := &cronJobsBody{Namespace: ns, Label: q.Get("label"), Page: page, Total: -1}
	if len(sel) == 0 {
		spaces := s.namespaces()
		if ns != "" {
			spaces = []string{ns}
		}
		if sum, err := s.c.Summary(s.ctx, spaces, h.cfg.Now()); err == nil {
			body.Total = int(sum.GetCronJobs())
		}
	}
	body.Rows = make([]cronJobRow, len(shown))
	now := h.cfg.Now()
	parallel(len(shown), func(i int) {
		cj := shown[i]
		md := cj.GetMetadata()
		row := cronJobRow{Namespace: md.GetNamespace(), Name: md.GetName(), URL: cronJobURL(md.GetNamespace(), md.GetName()),
			Expr: cj.GetSpec().GetSchedule(), Suspended: cj.GetSpec().GetSuspend(), Labels: labelText(md.GetLabels())}
		row.Words, row.Next = scheduleInfo(cj, now)
		jobs, err := s.c.ListJobs(s.ctx, md.GetNamespace(), md.GetName())
		if err != nil {
			row.Error = err.Error()
		}
		ticks := ticksOf(cj, jobsByName(jobs))
		row.Strip = lastTicks(ticks, stripTicks)
		if len(ticks) > 0 {
			row.Last = &ticks[len(ticks)-1]
		}
		body.Rows[i] = row
	})
	link := func(p int, after string) string {
		v := url.Values{}
		if ns != "" {
			v.Set("namespace", ns)
		}
		if body.Label != "" {
			v.Set("label", body.Label)
		}
		if after != "" {
			v.Set("page", strconv.Itoa(p))
			v.Set("after", after)
		}
		return "/ui/cronjobs?" + v.Encode()
	}
	if page > 1 {
		body.First = link(1, "")
	}
	if next != "" {
		body.Next = link(page+1, next)
	}
	return "cronjobs", &pageData{Title: "CronJobs", Nav: "cronjobs", Refresh: refreshSeconds, Live: url.Values{"namespace": {ns}}, Body: body}, nil
}

// scheduleInfo is a CronJob's schedule in words and its next tick.
func scheduleInfo(cj *pb.CronJob, now time.Time) (string, time.Time) {
	spec := cj.GetSpec()
	sch, err := scheduler.ScheduleOf(cj)
	if err != nil {
		return spec.GetSchedule() + " (invalid: " + err.Error() + ")", time.Time{}
	}
	var next time.Time
	if !spec.GetSuspend() {
		next = sch.Next(now)
	}
	return scheduleWords(spec.GetSchedule(), sch.Resolved(), spec.GetTimeZone()), next
}

func labelText(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = k + "=" + l[k]
	}
	return strings.Join(keys, ", ")
}

func parseIntParam(s, name string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s: %q is not a whole number ≥ 0: %w", name, s, client.ErrInvalid)
	}
	return n, nil
}

// ---------------------------------------------------------------- A CronJob

type jobRow struct {
	Name, URL  string
	Result     string
	Status     string
	Scheduled  time.Time
	Started    time.Time
	Finished   time.Time
	Duration   time.Duration
	StartDelay time.Duration
	HasDelay   bool
	Manual     bool
}

type windowOpt struct {
	Label, Value string
	Selected     bool
}

// dependency is one upstream of a CronJob (spec.dependsOn).
type dependency struct{ Name, Within string }

type cronJobBody struct {
	Namespace, Name                        string
	Words, Expr, Zone, Policy, CatchUp     string
	Suspended                              bool
	Next, LastSchedule, LastSuccess        time.Time
	Deadline                               string
	Labels                                 string
	Timeline, DelayChart, DurationChart    template.HTML
	Windows                                []windowOpt
	Window                                 string
	Decisions                              []tick
	DependsOn                              []dependency
	Jobs                                   []jobRow
	CanTrigger, CanWrite                   bool
	TriggerURL, SuspendURL, ResumeURL      string
	Active                                 []string
	Succeeded, Failed, Skipped, RunningNow int
	Events                                 []*pb.Event
	EventsError                            string
}

var windows = []struct {
	label, value string
	d            time.Duration
}{
	{"10 minutes", "10m", 10 * time.Minute},
	{"1 hour", "1h", time.Hour},
	{"6 hours", "6h", 6 * time.Hour},
	{"24 hours", "24h", 24 * time.Hour},
	{"7 days", "7d", 7 * 24 * time.Hour},
}

func (h *Handler) cronJob(s *session, r *http.Request) (string, *pageData, error) {
	ns, name := r.PathValue("ns"), r.PathValue("name")
	cj, err := s.c.GetCronJob(s.ctx, ns, name)
	if err != nil {
		return "", nil, err
	}
	jobs, err := s.c.ListJobs(s.ctx, ns, name)
	if err != nil {
		return "", nil, err
	}
	now := h.cfg.Now()
	win := r.URL.Query().Get("window")
	var d time.Duration
	for _, w := range windows {
		if w.value == win {
			d = w.d
		}
	}
	ticks := ticksOf(cj, jobsByName(jobs))
	if d == 0 {
		// By default the smallest window that shows every recorded decision.
		win, d = windows[len(windows)-1].value, windows[len(windows)-1].d
		for _, w := range windows {
			if len(ticks) == 0 || !ticks[0].First.Before(now.Add(-w.d)) {
				win, d = w.value, w.d
				break
			}
		}
	}
	spec := cj.GetSpec()
	b := &cronJobBody{Namespace: ns, Name: name, Expr: spec.GetSchedule(), Zone: spec.GetTimeZone(), Policy: spec.GetConcurrencyPolicy(),
		CatchUp: spec.GetCatchUp(), Suspended: spec.GetSuspend(), Window: win, Labels: labelText(cj.GetMetadata().GetLabels()),
		LastSchedule: ts(cj.GetStatus().GetLastScheduleTime()), LastSuccess: ts(cj.GetStatus().GetLastSuccessfulTime()),
		CanTrigger: s.can(auth.VerbTrigger, ns), CanWrite: s.can(auth.VerbWrite, ns)}
	if b.Policy == "" {
		b.Policy = "Allow"
	}
	if b.CatchUp == "" {
		b.CatchUp = "Latest"
	}
	if spec.StartingDeadlineSeconds != nil {
		b.Deadline = humanDuration(time.Duration(spec.GetStartingDeadlineSeconds()) * time.Second)
	}
	for _, a := range cj.GetStatus().GetActive() {
		b.Active = append(b.Active, a.GetName())
	}
	for _, d := range spec.GetDependsOn() {
		within := "until its next tick"
		if d.GetWithin() != "" {
			within = "within " + d.GetWithin()
		}
		b.DependsOn = append(b.DependsOn, dependency{Name: d.GetCronJob(), Within: within})
	}
	base := cronJobURL(ns, name)
	b.TriggerURL, b.SuspendURL, b.ResumeURL = base+"/trigger", base+"/suspend", base+"/resume"
	b.Words, b.Next = scheduleInfo(cj, now)
	for _, w := range windows {
		b.Windows = append(b.Windows, windowOpt{Label: w.label, Value: w.value, Selected: w.value == win})
	}
	from := now.Add(-d)
	b.Timeline = timelineSVG(ticks, b.Next, from, now.Add(d/20))
	for i := len(ticks) - 1; i >= 0 && len(b.Decisions) < 100; i-- {
		if !ticks[i].Time.Before(from) {
			b.Decisions = append(b.Decisions, ticks[i])
		}
	}
	for _, t := range ticks {
		if t.Time.Before(from) {
			continue
		}
		switch t.Result {
		case resultSucceeded:
			b.Succeeded++
		case resultFailed:
			b.Failed++
		case resultSkipped:
			b.Skipped += t.Count
		case resultRunning:
			b.RunningNow++
		}
	}
	// Newest Jobs first; their attempts give start delays.
	sort.Slice(jobs, func(i, j int) bool { return jobTime(jobs[i]).After(jobTime(jobs[j])) })
	if len(jobs) > recentJobs {
		jobs = jobs[:recentJobs]
	}
	b.Jobs = make([]jobRow, len(jobs))
	parallel(len(jobs), func(i int) {
		atts, _ := s.c.ListAttempts(s.ctx, ns, jobs[i].GetMetadata().GetName())
		b.Jobs[i] = jobRowOf(jobs[i], atts)
	})
	var delays, durs []bar
	for i := len(b.Jobs) - 1; i >= 0; i-- {
		j := b.Jobs[i]
		label := j.Scheduled.UTC().Format("15:04:05")
		if j.Scheduled.IsZero() {
			label = j.Started.UTC().Format("15:04:05")
		}
		if j.HasDelay {
			delays = append(delays, bar{Label: label, Value: j.StartDelay, Class: j.Result, Title: j.Name + " start delay"})
		}
		if !j.Finished.IsZero() {
			durs = append(durs, bar{Label: label, Value: j.Duration, Class: j.Result, Title: j.Name + " duration"})
		}
	}
	if evs, err := s.c.ListEvents(s.ctx, ns, false, name, ""); err != nil {
		b.EventsError = err.Error()
	} else {
		for i := len(evs) - 1; i >= 0 && len(b.Events) < 30; i-- {
			b.Events = append(b.Events, evs[i])
		}
	}
	b.DelayChart = barChartSVG("start delay", delays)
	b.DurationChart = barChartSVG("duration", durs)
	return "cronjob", &pageData{Title: "CronJob " + ns + "/" + name, Nav: "cronjobs", Refresh: refreshSeconds,
		Live: url.Values{"namespace": {ns}, "cronjob": {name}}, Body: b}, nil
}

// jobTime orders Jobs: scheduled time, else creation.
func jobTime(j *pb.Job) time.Time {
	if t := ts(j.GetStatus().GetScheduledTime()); !t.IsZero() {
		return t
	}
	if t := ts(j.GetStatus().GetStartTime()); !t.IsZero() {
		return t
	}
	return ts(j.GetMetadata().GetCreationTimestamp())
}

func jobRowOf(j *pb.Job, atts []*pb.Attempt) jobRow {
	md, st := j.GetMetadata(), j.GetStatus()
	row := jobRow{Name: md.GetName(), URL: jobURL(md.GetNamespace(), md.GetName()), Result: jobResult(j), Status: client.JobStatusText(j),
		Scheduled: ts(st.GetScheduledTime()), Started: ts(st.GetStartTime()), Finished: ts(st.GetCompletionTime()), Manual: st.GetManual()}
	if row.Finished.IsZero() {
		row.Finished = jobFinished(j)
	}
	var firstRun time.Time
	for _, a := range atts {
		if t := ts(a.GetStartTime()); !t.IsZero() && (firstRun.IsZero() || t.Before(firstRun)) {
			firstRun = t
		}
	}
	origin := row.Scheduled
	if origin.IsZero() {
		origin = row.Started
	}
	if !firstRun.IsZero() && !origin.IsZero() {
		row.StartDelay, row.HasDelay = max(firstRun.Sub(origin), 0), true
	}
	if !row.Finished.IsZero() {
		start := firstRun
		if start.IsZero() {
			start = row.Started
		}
		row.Duration = max(row.Finished.Sub(start), 0)
	}
	return row
}

// jobFinished is when a Job ended, Complete or Failed (zero while it runs).
func jobFinished(j *pb.Job) time.Time {
	st := j.GetStatus()
	if t := ts(st.GetCompletionTime()); !t.IsZero() {
		return t
	}
	if t := ts(st.GetResult().GetFinishTime()); !t.IsZero() {
		return t
	}
	if c := client.FindCondition(j, client.ConditionFailed); c != nil && c.GetStatus() == "True" {
		return ts(c.GetLastTransitionTime())
	}
	return time.Time{}
}

// ---------------------------------------------------------------- A Job

type attemptRow struct {
	Name, State, Worker, Reason, Message string
	Index, Number, ExitCode              int32
	Created, Started, Finished           time.Time
	Duration                             time.Duration
	Output                               string
	LogURL                               string
	Class                                string
}

type jobBody struct {
	Namespace, Name, Status, Result string
	CronJob, CronJobURL             string
	Scheduled, Started, Finished    time.Time
	Manual                          bool
	Active, Succeeded, Failed, Lost int32
	Conditions                      []*pb.JobCondition
	Image, Command                  string
	Attempts                        []attemptRow
	CanLogs                         bool
	// Decided: what decided the Job's result (JobStatus.result).
	Decided *pb.JobResult
}

func (h *Handler) job(s *session, r *http.Request) (string, *pageData, error) {
	ns, name := r.PathValue("ns"), r.PathValue("name")
	j, err := s.c.GetJob(s.ctx, ns, name)
	if err != nil {
		return "", nil, err
	}
	atts, err := s.c.ListAttempts(s.ctx, ns, name)
	if err != nil {
		return "", nil, err
	}
	st := j.GetStatus()
	b := &jobBody{Namespace: ns, Name: name, Status: client.JobStatusText(j), Result: jobResult(j), CronJob: st.GetCronJob(),
		Scheduled: ts(st.GetScheduledTime()), Started: ts(st.GetStartTime()), Finished: jobFinished(j), Manual: st.GetManual(),
		Active: st.GetActive(), Succeeded: st.GetSucceeded(), Failed: st.GetFailed(), Lost: st.GetLost(), Conditions: st.GetConditions(),
		CanLogs: s.can(auth.VerbLogs, ns), Decided: st.GetResult()}
	if b.CronJob != "" {
		b.CronJobURL = cronJobURL(ns, b.CronJob)
	}
	if cs := j.GetSpec().GetTemplate().GetSpec().GetContainers(); len(cs) > 0 {
		b.Image = cs[0].GetImage()
		b.Command = strings.Join(append(append([]string{}, cs[0].GetCommand()...), cs[0].GetArgs()...), " ")
	}
	sort.Slice(atts, func(i, k int) bool {
		if atts[i].GetIndex() != atts[k].GetIndex() {
			return atts[i].GetIndex() < atts[k].GetIndex()
		}
		return atts[i].GetNumber() > atts[k].GetNumber()
	})
	for _, a := range atts {
		row := attemptRow{Name: a.GetName(), State: a.GetState(), Worker: a.GetWorker(), Reason: a.GetReason(), Message: a.GetMessage(),
			Index: a.GetIndex(), Number: a.GetNumber(), ExitCode: a.GetExitCode(), Created: ts(a.GetCreatedTime()),
			Started: ts(a.GetStartTime()), Finished: ts(a.GetFinishTime()), Output: a.GetOutputTail(), Class: attemptClass(a.GetState())}
		if !row.Started.IsZero() && !row.Finished.IsZero() {
			row.Duration = row.Finished.Sub(row.Started)
		}
		v := url.Values{"index": {strconv.Itoa(int(a.GetIndex()))}, "attempt": {strconv.Itoa(int(a.GetNumber()))}}
		if row.Finished.IsZero() {
			v.Set("follow", "1")
		}
		row.LogURL = jobURL(ns, name) + "/log?" + v.Encode()
		b.Attempts = append(b.Attempts, row)
	}
	return "job", &pageData{Title: "Job " + ns + "/" + name, Nav: "cronjobs", Refresh: refreshSeconds,
		Live: url.Values{"namespace": {ns}, "job": {name}}, Body: b}, nil
}

func attemptClass(state string) string {
	switch state {
	case "Succeeded":
		return resultSucceeded
	case "Failed", "Lost":
		return resultFailed
	}
	return resultRunning
}

// ---------------------------------------------------------------- Overview

type serverRow struct {
	ID, RaftAddr, GRPCAddr string
	Voter, Leader          bool
	Health                 string
	Class                  string
	LastContact            time.Time
}

type workerRow struct {
	ID, Runtime, State, Labels, Version, Address string
	Slots, Used, Free                            int32
	LastHeartbeat, Connected                     time.Time
	Class                                        string
	Now, Recent                                  []runRow
}

type runRow struct {
	Job, JobURL, Attempt, State, Class string
	Started, Finished                  time.Time
}

type pendingRow struct {
	Job, JobURL, Attempt, Why string
}

type overviewBody struct {
	Servers                             []serverRow
	ServersError                        string
	Workers                             []workerRow
	WorkersError                        string
	CronJobs, Suspended                 int
	Succeeded, Failed, Skipped, Running int
	Invoked                             int
	Pending                             []pendingRow
	CountsError                         string
	SlotsUsed, SlotsFree                int32
}

func (h *Handler) overview(s *session, r *http.Request) (string, *pageData, error) {
	now := h.cfg.Now()
	b := &overviewBody{}
	members, err := s.c.Members(s.ctx)
	if err != nil {
		b.ServersError = err.Error()
	}
	for _, m := range members {
		row := serverRow{ID: m.GetId(), RaftAddr: m.GetRaftAddress(), GRPCAddr: m.GetGrpcAddress(), Voter: m.GetVoter(), Leader: m.GetLeader(),
			LastContact: ts(m.GetLastContact())}
		switch {
		case m.GetLeader():
			row.Health, row.Class = "leader", resultSucceeded
		case row.LastContact.IsZero():
			row.Health, row.Class = "no contact known", resultGone
		case now.Sub(row.LastContact) < 5*time.Second:
			row.Health, row.Class = "healthy", resultSucceeded
		default:
			row.Health, row.Class = "no contact for "+humanDuration(now.Sub(row.LastContact)), resultFailed
		}
		b.Servers = append(b.Servers, row)
	}
	ws, err := s.c.ListWorkers(s.ctx)
	if err != nil {
		b.WorkersError = err.Error()
	}
	b.Workers = workerRows(ws)
	for _, w := range b.Workers {
		if w.State != "Lost" {
			b.SlotsUsed += w.Used
			b.SlotsFree += w.Free
		}
	}
	sum, err := s.summary(now)
	if err != nil {
		b.CountsError = err.Error()
	}
	b.CronJobs, b.Suspended, b.Running = int(sum.GetCronJobs()), int(sum.GetSuspendedCronJobs()), int(sum.GetUnfinishedJobs())
	runs := sum.GetRuns()
	b.Invoked, b.Succeeded, b.Failed, b.Skipped = int(runs.GetInvoked()), int(runs.GetSucceeded()), int(runs.GetFailed()), int(runs.GetSkipped())
	for _, a := range sum.GetPending() {
		why := a.GetMessage()
		if nb := ts(a.GetNotBefore()); nb.After(now) {
			why = strings.TrimSpace(why + " (backing off until " + nb.UTC().Format("15:04:05Z") + ")")
		}
		if why == "" {
			why = "waiting for a worker with a free slot that matches its nodeSelector"
			if len(ws) == 0 {
				why = "no worker is connected"
			}
		}
		b.Pending = append(b.Pending, pendingRow{Job: a.GetNamespace() + "/" + a.GetJob(), JobURL: jobURL(a.GetNamespace(), a.GetJob()), Attempt: a.GetName(), Why: why})
	}
	for _, j := range sum.GetWaitingJobs() {
		md := j.GetMetadata()
		why := "no attempt created yet"
		if j.GetSpec().GetSuspend() {
			why = "the Job is suspended"
		}
		b.Pending = append(b.Pending, pendingRow{Job: md.GetNamespace() + "/" + md.GetName(), JobURL: jobURL(md.GetNamespace(), md.GetName()), Why: why})
	}
	return "overview", &pageData{Title: "Overview", Nav: "overview", Refresh: refreshSeconds, Body: b}, nil
}

func workerRows(ws []*pb.Worker) []workerRow {
	sort.Slice(ws, func(i, j int) bool { return ws[i].GetId() < ws[j].GetId() })
	out := make([]workerRow, 0, len(ws))
	for _, w := range ws {
		row := workerRow{ID: w.GetId(), Runtime: w.GetRuntime(), State: w.GetState(), Labels: labelText(w.GetLabels()), Version: w.GetVersion(),
			Address: w.GetAddress(), Slots: w.GetSlots(), Used: w.GetUsed(), Free: max(w.GetSlots()-w.GetUsed(), 0),
			LastHeartbeat: ts(w.GetLastHeartbeat()), Connected: ts(w.GetConnectedTime()), Class: resultSucceeded}
		switch row.State {
		case pb.WorkerReady:
		case pb.WorkerDraining:
			row.Class = resultSkipped // stopping on purpose, not a failure
		default:
			row.Class = resultFailed
		}
		out = append(out, row)
	}
	return out
}

// ---------------------------------------------------------------- Workers

func runRowOf(a *pb.Attempt) runRow {
	return runRow{Job: a.GetNamespace() + "/" + a.GetJob(), JobURL: jobURL(a.GetNamespace(), a.GetJob()), Attempt: a.GetName(),
		State: a.GetState(), Class: attemptClass(a.GetState()), Started: ts(a.GetStartTime()), Finished: ts(a.GetFinishTime())}
}

type workersBody struct {
	Workers []workerRow
	Note    string
}

func (h *Handler) workers(s *session, r *http.Request) (string, *pageData, error) {
	ws, err := s.c.ListWorkers(s.ctx)
	if err != nil {
		return "", nil, err
	}
	b := &workersBody{Workers: workerRows(ws)}
	sum, err := s.summary(h.cfg.Now())
	if err != nil {
		b.Note = "runs are not shown: " + err.Error()
	}
	byWorker := map[string]*workerRow{}
	for i := range b.Workers {
		byWorker[b.Workers[i].ID] = &b.Workers[i]
	}
	for _, wr := range sum.GetWorkers() {
		w := byWorker[wr.GetWorker()]
		if w == nil {
			continue
		}
		for _, a := range wr.GetRunning() {
			w.Now = append(w.Now, runRowOf(a))
		}
		for _, a := range wr.GetRecent() {
			w.Recent = append(w.Recent, runRowOf(a))
		}
	}
	return "workers", &pageData{Title: "Workers", Nav: "workers", Refresh: refreshSeconds, Body: b}, nil
}
