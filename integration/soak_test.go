package integration

import (
	"math/rand"
	"os"
	"syscall"
	"testing"
	"time"
)

// TestSoak loops random faults for RAFTCRON_SOAK (a duration, e.g. 30m; set
// by `make soak DURATION=30m`) while two every-second CronJobs with catchUp All
// run on exec workers, then checks that every tick has exactly one Job. It is
// skipped when RAFTCRON_SOAK is unset.
func TestSoak(t *testing.T) {
	raw := os.Getenv("RAFTCRON_SOAK")
	if raw == "" {
		t.Skip("set RAFTCRON_SOAK=30m (or run `make soak DURATION=30m`) to soak")
	}
	d, err := time.ParseDuration(raw)
	if err != nil {
		t.Fatalf("RAFTCRON_SOAK=%q: %v", raw, err)
	}
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewSource(seed))
	t.Logf("soak for %v, seed %d", d, seed)

	c := startCluster(t, clusterOptions{})
	c.startWorker("w1", "--runtime", "exec", "--allow-exec", "--slots", "16")
	c.startWorker("w2", "--runtime", "exec", "--allow-exec", "--slots", "16")
	c.apply(manifest(t, everySecond("soak-a")+"---"+everySecond("soak-b"))...)
	start := time.Now().Unix() + 1
	end := time.Now().Add(d)
	faults := map[string]int{}
	var recoveries []time.Duration
	// Jobs beyond the history limit (1,000) are garbage-collected, so ticks
	// are checked in windows as the soak goes on.
	total := tickReport{first: start}
	checked := start - 1
	check := func(upTo int64) {
		for _, cj := range []string{"soak-a", "soak-b"} {
			var r tickReport
			c.waitFor(60*time.Second, "every tick of "+cj+" to have its Job", func() bool {
				r = countTicks(t, c, cj, checked+1, upTo)
				return len(r.missed) == 0
			})
			if len(r.duplicate) > 0 {
				t.Fatalf("%s: ticks with two Jobs: %v", cj, r.duplicate)
			}
			total.expected += r.expected
			total.jobs += r.jobs
		}
		checked = upTo
		total.last = upTo
	}
	for time.Now().Before(end) {
		if now := time.Now().Unix(); now-checked > 300 {
			check(now - 10)
		}
		time.Sleep(time.Duration(2+rng.Intn(4)) * time.Second)
		switch rng.Intn(4) {
		case 0: // kill -9 the leader, restart it
			i := c.leader()
			at := time.Now()
			c.servers[i].kill9()
			c.leader()
			recoveries = append(recoveries, time.Since(at))
			c.restartServer(i)
			faults["kill -9 leader"]++
		case 1: // pause the leader past the election timeout
			i := c.leader()
			c.servers[i].signal(syscall.SIGSTOP)
			time.Sleep(time.Duration(1500+rng.Intn(1500)) * time.Millisecond)
			c.servers[i].signal(syscall.SIGCONT)
			faults["SIGSTOP leader"]++
		case 2: // restart a follower
			i := (c.leader() + 1 + rng.Intn(2)) % len(c.servers)
			c.servers[i].stop()
			time.Sleep(time.Second)
			c.restartServer(i)
			faults["restart follower"]++
		case 3: // kill -9 a worker, start it again
			id := []string{"w1", "w2"}[rng.Intn(2)]
			w := c.workers[id]
			w.kill9()
			time.Sleep(time.Second)
			w.start(t)
			faults["kill -9 worker"]++
		}
	}
	time.Sleep(5 * time.Second)
	check(time.Now().Unix() - 3)
	worst := time.Duration(0)
	for _, r := range recoveries {
		worst = max(worst, r)
	}
	t.Logf("soak of %v: %s (both CronJobs); faults %v; slowest new leader %v",
		d, total, faults, worst.Round(10*time.Millisecond))
}
