package worker

import (
	"os/exec"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkProcessStartFloor measures the floor under an exec runtime's
// start delay when a crowd of CronJobs is due at one instant: one process
// with nothing else to do starts 200 copies of /bin/true at once, and each
// start is timed from that instant to the return of Start (the program has
// been executed). No worker, guard, file or cluster is involved, so no exec
// runtime can start a crowd of 200 faster on the same machine:
//
//	go test -run '^$' -bench ProcessStartFloor -benchtime 5x ./worker/
func BenchmarkProcessStartFloor(b *testing.B) {
	const crowd = 200
	var p50, p99 []time.Duration
	for b.Loop() {
		cmds := make([]*exec.Cmd, crowd)
		for i := range cmds {
			cmds[i] = exec.Command("/bin/true")
		}
		started := make([]time.Duration, crowd)
		var wg sync.WaitGroup
		gate := make(chan struct{})
		var t0 time.Time
		for i := range cmds {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				if err := cmds[i].Start(); err != nil {
					b.Error(err)
					return
				}
				started[i] = time.Since(t0)
				_ = cmds[i].Wait()
			}()
		}
		t0 = time.Now()
		close(gate)
		wg.Wait()
		slices.Sort(started)
		p50 = append(p50, started[crowd/2])
		p99 = append(p99, started[crowd*99/100])
	}
	slices.Sort(p50)
	slices.Sort(p99)
	b.ReportMetric(float64(p50[len(p50)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p99[len(p99)/2].Microseconds())/1000, "p99-ms")
}
