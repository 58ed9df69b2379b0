package cluster

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// metrics answers "did my cron run, did it succeed, how long did it take, why
// was it skipped". Counters move on the server that commits the change (the
// leader); gauges are read from the replicated state when scraped.
type metrics struct {
	reg           *prometheus.Registry
	decisions     *prometheus.CounterVec
	runsStarted   *prometheus.CounterVec
	runsFinished  *prometheus.CounterVec
	startDelay    *prometheus.HistogramVec
	runDuration   *prometheus.HistogramVec
	commitLatency prometheus.Histogram
	leaderChanges prometheus.Counter
	clockJumps    *prometheus.CounterVec
	authFailures  *prometheus.CounterVec
	s             *Server
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		s:   s,
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "raftcron_schedule_decisions_total",
			Help: "Scheduling decisions per cron tick: decision is invoke or skip; reason says why (Scheduled, CatchUp, Manual, ConcurrencyPolicy, MissedDeadline, Suspended, CatchUpPolicy, Error, JobNameTaken, ClockJump, UpstreamFailed, UpstreamNotReady).",
		}, []string{"namespace", "cronjob", "decision", "reason"}),
		runsStarted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "raftcron_runs_started_total",
			Help: "Attempts whose container started.",
		}, []string{"namespace", "cronjob"}),
		runsFinished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "raftcron_runs_finished_total",
			Help: "Attempts that ended; result is succeeded, failed or lost; reason is Error, OOMKilled, DeadlineExceeded, Killed, WorkerLost, ...",
		}, []string{"namespace", "cronjob", "result", "reason"}),
		startDelay: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "raftcron_run_start_delay_seconds",
			Help:    "From a cron tick's scheduled time (a value, not a clock reading) to its first attempt running, read on the worker host's wall clock when the runtime had started it.",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900},
		}, []string{"namespace", "cronjob"}),
		runDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "raftcron_run_duration_seconds",
			Help:    "How long attempts ran, from the workload's start to its exit, both measured by its lease guard on one monotonic clock (never negative).",
			Buckets: roundedBuckets(0.1, 3, 12),
		}, []string{"namespace", "cronjob", "result"}),
		commitLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "raftcron_raft_commit_seconds",
			Help:    "Time to commit and apply one Raft entry proposed by this server.",
			Buckets: roundedBuckets(0.0005, 2, 14),
		}),
		clockJumps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "raftcron_clock_jumps_total",
			Help: "Times the leader's wall clock jumped (direction forward | backward) against its monotonic clock; while it is ahead, the leader decides with the monotonic time.",
		}, []string{"direction"}),
		leaderChanges: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "raftcron_leader_changes_total",
			Help: "Times this server became leader.",
		}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "raftcron_auth_failures_total",
			Help: "Calls refused for a missing or wrong certificate role or ACL token; code is Unauthenticated, PermissionDenied, or ResourceExhausted (over the token's request rate).",
		}, []string{"method", "code"}),
	}
	m.reg.MustRegister(m.decisions, m.authFailures, m.runsStarted, m.runsFinished, m.startDelay, m.runDuration,
		m.commitLatency, m.leaderChanges, m.clockJumps, stateCollector{s}, buildInfoGauge(),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observe records what a committed command means for the metrics.
func (m *metrics) observe(c *pb.Command, r *pb.CommandResult) {
	if r.GetError() != "" {
		return
	}
	switch op := c.GetOp().(type) {
	case *pb.Command_UpdateCronJobStatus:
		u := op.UpdateCronJobStatus
		// The decisions as the FSM recorded them (it turns an invoke whose
		// Job name is taken into a skip).
		for _, d := range r.GetDecisions() {
			m.decisions.WithLabelValues(u.GetNamespace(), u.GetName(), d.GetDecision(), d.GetReason()).Add(float64(decisionCount(d)))
		}
	case *pb.Command_ReportAttempt:
		rep := op.ReportAttempt
		st := m.s.node.State()
		at := st.Attempt(rep.GetNamespace(), rep.GetName())
		job := st.Job(rep.GetNamespace(), at.GetJob())
		cron := job.GetStatus().GetCronJob()
		switch rep.GetState() {
		case pb.AttemptRunning:
			m.runsStarted.WithLabelValues(rep.GetNamespace(), cron).Inc()
			if sched := job.GetStatus().GetScheduledTime(); sched != nil && rep.GetStartTime() != nil && at.GetNumber() == 1 {
				m.startDelay.WithLabelValues(rep.GetNamespace(), cron).Observe(rep.GetStartTime().AsTime().Sub(sched.AsTime()).Seconds())
			}
		case pb.AttemptSucceeded, pb.AttemptFailed, pb.AttemptLost:
			result := map[string]string{pb.AttemptSucceeded: "succeeded", pb.AttemptFailed: "failed", pb.AttemptLost: "lost"}[rep.GetState()]
			m.runsFinished.WithLabelValues(rep.GetNamespace(), cron, result, rep.GetReason()).Inc()
			start := rep.GetStartTime()
			if start == nil && rep.GetState() != pb.AttemptLost {
				// A Lost report without a start never ran (or nobody saw it run).
				start = at.GetStartTime()
			}
			if start != nil && rep.GetFinishTime() != nil {
				m.runDuration.WithLabelValues(rep.GetNamespace(), cron, result).Observe(rep.GetFinishTime().AsTime().Sub(start.AsTime()).Seconds())
			}
		}
	case *pb.Command_MarkAttemptLost:
		l := op.MarkAttemptLost
		st := m.s.node.State()
		job := st.Job(l.GetNamespace(), st.Attempt(l.GetNamespace(), l.GetName()).GetJob())
		m.runsFinished.WithLabelValues(l.GetNamespace(), job.GetStatus().GetCronJob(), "lost", l.GetReason()).Inc()
	}
}

// stateCollector reports gauges read from the replicated state at scrape time.
type stateCollector struct{ s *Server }

var (
	descActive      = prometheus.NewDesc("raftcron_attempts_active", "Attempts not yet finished, by state.", []string{"state"}, nil)
	descWorkers     = prometheus.NewDesc("raftcron_workers_connected", "Workers with a live session to this server (non-zero only on the leader).", nil, nil)
	descLeader      = prometheus.NewDesc("raftcron_raft_leader", "1 if this server is the Raft leader.", nil, nil)
	descApplied     = prometheus.NewDesc("raftcron_raft_applied_index", "Index of the last Raft log entry applied on this server (its growth is Raft entries written).", nil, nil)
	descLastSched   = prometheus.NewDesc("raftcron_cronjob_last_schedule_timestamp_seconds", "When the CronJob's most recent tick was handled.", []string{"namespace", "cronjob"}, nil)
	descLastSuccess = prometheus.NewDesc("raftcron_cronjob_last_successful_timestamp_seconds", "When a Job of the CronJob last completed successfully.", []string{"namespace", "cronjob"}, nil)
	descSuspended   = prometheus.NewDesc("raftcron_cronjob_suspended", "1 if the CronJob is suspended.", []string{"namespace", "cronjob"}, nil)
	descWaiting     = prometheus.NewDesc("raftcron_cronjob_waiting_ticks", "Ticks of the CronJob waiting for their upstreams (spec.dependsOn).", []string{"namespace", "cronjob"}, nil)
	descDraining    = prometheus.NewDesc("raftcron_workers_draining", "Connected workers that are draining (stopping; they take no new attempt). Non-zero only on the leader.", nil, nil)
	descSlots       = prometheus.NewDesc("raftcron_worker_slots", "Slots of the connected workers that take attempts (not draining). Non-zero only on the leader.", nil, nil)
	descSlotsUsed   = prometheus.NewDesc("raftcron_worker_slots_used", "Attempts the connected workers hold (Assigned or Running). Non-zero only on the leader.", nil, nil)
	descUnplaceable = prometheus.NewDesc("raftcron_attempts_unplaceable", "Pending attempts the leader found no fitting worker (or no free slot) for at its last step (0 on followers).", nil, nil)
)

func (c stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descActive, descWorkers, descLeader, descApplied, descLastSched, descLastSuccess, descSuspended, descWaiting, descUnplaceable, descDraining, descSlots, descSlotsUsed} {
		ch <- d
	}
}

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.node.State()
	byState := map[string]int{pb.AttemptPending: 0, pb.AttemptAssigned: 0, pb.AttemptRunning: 0}
	for _, a := range st.UnfinishedAttempts() {
		byState[a.GetState()]++
	}
	for state, n := range byState {
		ch <- prometheus.MustNewConstMetric(descActive, prometheus.GaugeValue, float64(n), state)
	}
	w := c.s.sessions.counts()
	ch <- prometheus.MustNewConstMetric(descWorkers, prometheus.GaugeValue, float64(w.connected))
	ch <- prometheus.MustNewConstMetric(descDraining, prometheus.GaugeValue, float64(w.draining))
	ch <- prometheus.MustNewConstMetric(descSlots, prometheus.GaugeValue, float64(w.slots))
	ch <- prometheus.MustNewConstMetric(descSlotsUsed, prometheus.GaugeValue, float64(w.used))
	leader := 0.0
	if c.s.node.IsLeader() {
		leader = 1
	}
	ch <- prometheus.MustNewConstMetric(descLeader, prometheus.GaugeValue, leader)
	unplaceable := 0
	if leader == 1 {
		unplaceable = len(c.s.leader.pendingReasons())
	}
	ch <- prometheus.MustNewConstMetric(descUnplaceable, prometheus.GaugeValue, float64(unplaceable))
	ch <- prometheus.MustNewConstMetric(descApplied, prometheus.GaugeValue, float64(c.s.node.AppliedIndex()))
	// Briefs, not CronJobs: a scrape decodes no CronJob spec.
	for _, cj := range st.CronJobBriefs() {
		ns, name := cj.Namespace, cj.Name
		if t := cj.Status.GetLastScheduleTime(); t != nil {
			ch <- prometheus.MustNewConstMetric(descLastSched, prometheus.GaugeValue, float64(t.AsTime().UnixMilli())/1000, ns, name)
		}
		if t := cj.Status.GetLastSuccessfulTime(); t != nil {
			ch <- prometheus.MustNewConstMetric(descLastSuccess, prometheus.GaugeValue, float64(t.AsTime().UnixMilli())/1000, ns, name)
		}
		susp := 0.0
		if cj.Suspend {
			susp = 1
		}
		ch <- prometheus.MustNewConstMetric(descSuspended, prometheus.GaugeValue, susp, ns, name)
		if cj.DependsOn > 0 || len(cj.Status.GetWaiting()) > 0 {
			ch <- prometheus.MustNewConstMetric(descWaiting, prometheus.GaugeValue, float64(len(cj.Status.GetWaiting())), ns, name)
		}
	}
}

// decisionCount is how many ticks one decision covers (aggregated skips carry
// a count; an uncountable range counts once).
func decisionCount(d *pb.ScheduleDecision) int32 {
	if d.GetCount() > 1 {
		return d.GetCount()
	}
	return 1
}
