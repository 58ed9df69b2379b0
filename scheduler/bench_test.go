package scheduler

import (
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"
)

// BenchmarkCronTickOneDueOf10000 measures a tick when 1 of 10,000 CronJobs is
// due: the min-heap keeps it from growing with the CronJobs that are not.
func BenchmarkCronTickOneDueOf10000(b *testing.B) {
	created := time.Date(2026, 5, 19, 0, 0, 0, 0, time.UTC)
	v := newCronFakeView()
	for i := 0; i < 10000; i++ {
		v.putCronJob(newCronJob(fmt.Sprintf("yearly-%05d", i), "0 3 1 1 *", created))
	}
	v.putCronJob(newCronJob("every-second", "* * * * * *", created))
	c := NewCronController(CronOptions{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	c.Rebuild(v)
	now := created.Add(time.Hour)
	cronTick(v, c, now)
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		now = now.Add(time.Second)
		cmds, _ := cronTick(v, c, now)
		if len(cmds) == 0 {
			b.Fatal("the due CronJob produced nothing")
		}
	}
}

// BenchmarkCronTickBurst1000 measures deciding 1,000 CronJobs due in the same second.
func BenchmarkCronTickBurst1000(b *testing.B) {
	created := time.Date(2026, 5, 19, 0, 0, 0, 0, time.UTC)
	v := newCronFakeView()
	for i := 0; i < 1000; i++ {
		v.putCronJob(newCronJob(fmt.Sprintf("hourly-%04d", i), "0 * * * *", created))
	}
	c := NewCronController(CronOptions{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	c.Rebuild(v)
	now := created.Add(30 * time.Minute)
	cronTick(v, c, now)
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		now = now.Truncate(time.Hour).Add(time.Hour)
		cmds, _ := cronTick(v, c, now)
		if len(cmds) < 1000 {
			b.Fatalf("%d commands for 1000 due CronJobs", len(cmds))
		}
	}
}
