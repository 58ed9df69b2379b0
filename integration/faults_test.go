package integration

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/raftcron/raftcron/client"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

func manifest(t *testing.T, yaml string) []*pb.Resource {
	t.Helper()
	res, _, err := client.DecodeManifests(strings.NewReader(yaml), client.DecodeOptions{})
	if err != nil {
		t.Fatalf("decode manifest: %v", err)
	}
	return res
}

// everySecond is a CronJob whose runs are quick processes on exec workers.
func everySecond(name string) string {
	return fmt.Sprintf(`
apiVersion: batch/v1
kind: CronJob
metadata: {name: %s}
spec:
  schedule: "* * * * * *"
  catchUp: All
  startingDeadlineSeconds: 60
  successfulJobsHistoryLimit: 1000
  failedJobsHistoryLimit: 1000
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          nodeSelector: {raftcron.io/runtime: exec}
          containers:
          - {name: main, image: none, command: [/bin/sh, -c, "echo tick $RAFTCRON_SCHEDULED_TIME"]}
`, name)
}

// tickReport counts, over the Jobs of a CronJob whose names end in unix
// seconds, the ticks between the first and the last: expected, run, missed.
type tickReport struct {
	first, last       int64
	expected, jobs    int
	missed, duplicate []int64
}

func (r tickReport) String() string {
	return fmt.Sprintf("ticks %s..%s: expected %d, jobs %d, missed %d, duplicated %d",
		time.Unix(r.first, 0).UTC().Format("15:04:05"), time.Unix(r.last, 0).UTC().Format("15:04:05"),
		r.expected, r.jobs, len(r.missed), len(r.duplicate))
}

func countTicks(t *testing.T, c *cluster, cronJob string, from, to int64) tickReport {
	t.Helper()
	jobs, err := c.client().ListJobs(context.Background(), "default", cronJob)
	if err != nil {
		t.Fatalf("list jobs: %v", err)
	}
	return tally(jobs, cronJob, from, to)
}

// tally counts, over Jobs named <cronJob>-<unix seconds>, the ticks from..to
// that have no Job, one Job, or more (manual runs are not counted).
func tally(jobs []*pb.Job, cronJob string, from, to int64) tickReport {
	seen := map[int64]int{}
	for _, j := range jobs {
		sec, err := strconv.ParseInt(strings.TrimPrefix(j.GetMetadata().GetName(), cronJob+"-"), 10, 64)
		if err == nil && sec >= from && sec <= to {
			seen[sec]++
		}
	}
	r := tickReport{first: from, last: to}
	for s := from; s <= to; s++ {
		r.expected++
		switch seen[s] {
		case 0:
			r.missed = append(r.missed, s)
		case 1:
		default:
			r.duplicate = append(r.duplicate, s)
		}
		r.jobs += seen[s]
	}
	return r
}

// TestLeaderKilledRepeatedly is fault scenario 1: kill -9 the leader again and
// again while every-second CronJobs with catchUp All run: every tick has
// exactly one Job.
func TestLeaderKilledRepeatedly(t *testing.T) {
	if testing.Short() {
		t.Skip("integration")
	}
	c := startCluster(t, clusterOptions{})
	c.startWorker("w1", "--runtime", "exec", "--allow-exec", "--slots", "16")
	c.apply(manifest(t, everySecond("a")+"---"+everySecond("b"))...)
	start := time.Now().Unix() + 1
	recoveries := []time.Duration{}
	for kill := 0; kill < 4; kill++ {
		time.Sleep(3 * time.Second)
		i := c.leader()
		killed := time.Now()
		c.servers[i].kill9()
		c.leader()
		recoveries = append(recoveries, time.Since(killed).Round(10*time.Millisecond))
		c.restartServer(i)
	}
	time.Sleep(3 * time.Second)
	end := time.Now().Unix() - 2
	for _, cj := range []string{"a", "b"} {
		var r tickReport
		c.waitFor(20*time.Second, "every tick of "+cj+" to have its Job", func() bool {
			r = countTicks(t, c, cj, start, end)
			return len(r.missed) == 0
		})
		t.Logf("cronjob %s: %s; new leader after %v", cj, r, recoveries)
		if len(r.duplicate) > 0 {
			t.Fatalf("cronjob %s: ticks with two Jobs: %v", cj, r.duplicate)
		}
	}
	// Runs are decided and dispatched ahead of their tick (--dispatch-ahead),
	// across the kills too, and none starts before its tick.
	jobs, err := c.client().ListJobs(context.Background(), "default", "")
	if err != nil {
		t.Fatal(err)
	}
	scheduled, ahead := map[string]time.Time{}, 0
	for _, j := range jobs {
		if st := j.GetStatus().GetScheduledTime(); st != nil {
			scheduled[j.GetMetadata().GetName()] = st.AsTime()
			if j.GetMetadata().GetCreationTimestamp().AsTime().Before(st.AsTime()) {
				ahead++
			}
		}
	}
	attempts, err := c.client().ListAttempts(context.Background(), "default", "")
	if err != nil {
		t.Fatal(err)
	}
	started := 0
	for _, a := range attempts {
		tick, ok := scheduled[a.GetJob()]
		if !ok || a.GetStartTime() == nil {
			continue
		}
		started++
		if at := a.GetStartTime().AsTime(); at.Before(tick) {
			t.Errorf("attempt %s started at %s, %v before its tick %s", a.GetName(), at.Format(time.RFC3339Nano), tick.Sub(at), tick.Format(time.RFC3339))
		}
	}
	t.Logf("%d of %d Jobs decided ahead of their tick; %d attempts started, none before its tick", ahead, len(jobs), started)
	if ahead == 0 || started == 0 {
		t.Fatalf("%d Jobs decided ahead, %d attempts started: the check saw nothing", ahead, started)
	}
}

// TestLeaderPaused is fault scenario 2: SIGSTOP the leader past the election
// timeout, then SIGCONT: it steps down and nothing runs twice.
func TestLeaderPaused(t *testing.T) {
	if testing.Short() {
		t.Skip("integration")
	}
	c := startCluster(t, clusterOptions{})
	c.startWorker("w1", "--runtime", "exec", "--allow-exec", "--slots", "8")
	c.apply(manifest(t, everySecond("p"))...)
	start := time.Now().Unix() + 1
	time.Sleep(2 * time.Second)
	i := c.leader()
	c.servers[i].signal(syscall.SIGSTOP)
	paused := time.Now()
	c.waitFor(30*time.Second, "a new leader while the old one is paused", func() bool {
		j := c.leaderExcept(i)
		return j >= 0
	})
	t.Logf("new leader elected %v after SIGSTOP", time.Since(paused).Round(10*time.Millisecond))
	time.Sleep(3 * time.Second)
	c.servers[i].signal(syscall.SIGCONT)
	time.Sleep(4 * time.Second)
	end := time.Now().Unix() - 2
	var r tickReport
	c.waitFor(20*time.Second, "every tick to have its Job", func() bool {
		r = countTicks(t, c, "p", start, end)
		return len(r.missed) == 0
	})
	t.Logf("%s", r)
	if len(r.duplicate) > 0 {
		t.Fatalf("ticks with two Jobs: %v", r.duplicate)
	}
	// "When did it last succeed?" is on the CronJob.
	cj, err := c.client().GetCronJob(context.Background(), "default", "p")
	if err != nil {
		t.Fatal(err)
	}
	if last := cj.GetStatus().GetLastSuccessfulTime(); last == nil || time.Since(last.AsTime()) > 30*time.Second {
		t.Fatalf("lastSuccessfulTime = %v, want a recent time", last)
	}
	// Nothing ran twice: each Job has exactly one succeeded attempt.
	jobs, _ := c.client().ListJobs(context.Background(), "default", "p")
	for _, j := range jobs {
		if j.GetStatus().GetSucceeded() > 1 {
			t.Fatalf("job %s succeeded %d times", j.GetMetadata().GetName(), j.GetStatus().GetSucceeded())
		}
	}
}

// leaderExcept returns the index of a leader other than skip, or -1.
func (c *cluster) leaderExcept(skip int) int {
	for i, s := range c.servers {
		if i == skip || !s.running() {
			continue
		}
		cl := c.clientOf(c.grpc[i])
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		m, err := cl.Members(ctx)
		cancel()
		cl.Close()
		if err != nil {
			continue
		}
		for _, x := range m {
			if x.GetLeader() && x.GetId() != c.servers[skip].name {
				for k, s := range c.servers {
					if s.name == x.GetId() {
						return k
					}
				}
			}
		}
	}
	return -1
}

// TestWholeClusterRestart is fault scenario 5: stop every server for longer
// than several ticks and start them again: every acknowledged object
// survives and the missed ticks are caught up per policy.
func TestWholeClusterRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("integration")
	}
	c := startCluster(t, clusterOptions{})
	c.apply(manifest(t, everySecond("all")+`---
apiVersion: batch/v1
kind: CronJob
metadata: {name: latest}
spec:
  schedule: "*/2 * * * * *"
  startingDeadlineSeconds: 60
  successfulJobsHistoryLimit: 1000
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          nodeSelector: {raftcron.io/runtime: exec}
          containers: [{name: main, image: none, command: [/bin/true]}]
`)...)
	time.Sleep(2 * time.Second)
	before := map[string]int{}
	for _, cj := range []string{"all", "latest"} {
		jobs, err := c.client().ListJobs(context.Background(), "default", cj)
		if err != nil {
			t.Fatal(err)
		}
		before[cj] = len(jobs)
	}
	for _, s := range c.servers {
		s.stop()
	}
	down := time.Now()
	time.Sleep(6 * time.Second)
	for i := range c.servers {
		c.restartServer(i)
	}
	c.leader()
	up := time.Now()
	time.Sleep(2 * time.Second)
	// catchUp All: every second of the downtime has its Job.
	var r tickReport
	c.waitFor(20*time.Second, "the downtime's ticks to be caught up", func() bool {
		r = countTicks(t, c, "all", down.Unix()+1, up.Unix())
		return len(r.missed) == 0
	})
	t.Logf("catchUp All after a %v outage: %s", up.Sub(down).Round(100*time.Millisecond), r)
	// catchUp Latest: the ticks of the downtime ran once, as the most recent one;
	// the others are recorded as skipped.
	cj, err := c.client().GetCronJob(context.Background(), "default", "latest")
	if err != nil {
		t.Fatal(err)
	}
	var skipped int32
	for _, d := range cj.GetStatus().GetDecisions() {
		if d.GetDecision() == "skip" && d.GetReason() == "CatchUpPolicy" {
			n := d.GetCount()
			if n == 0 {
				n = 1
			}
			skipped += n
		}
	}
	if skipped == 0 {
		t.Fatalf("catchUp Latest recorded no skipped ticks for the outage; decisions: %v", cj.GetStatus().GetDecisions())
	}
	for cjName, n := range before {
		jobs, err := c.client().ListJobs(context.Background(), "default", cjName)
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) < n {
			t.Fatalf("%s: %d Jobs before the restart, %d after", cjName, n, len(jobs))
		}
	}
}
