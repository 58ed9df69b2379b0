package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"strings"
	"time"

	"github.com/raftcron/raftcron/client"
)

// Create a CronJob that runs every night at 03:00 Berlin time, never two at
// once. Applying the same CronJob again changes nothing.
func ExampleNewCronJob() {
	c, err := client.New(client.Config{Servers: servers, Insecure: true})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	nightly := client.NewCronJob("nightly-report", "0 3 * * *", client.Container{
		Image:   "reports:1.4",
		Command: []string{"report", "--yesterday"},
		Env:     map[string]string{"REPORT_BUCKET": "s3://reports"},
	}).Namespace("examples").TimeZone("Europe/Berlin").Forbid().History(7, 3).Build()

	for range 2 {
		res, err := c.CronJobs().Apply(ctx, nightly)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(res.GetName(), res.GetAction())
	}
	cj, err := c.CronJobs().Get(ctx, "examples", "nightly-report")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cj.GetSpec().GetSchedule(), cj.GetSpec().GetTimeZone(), cj.GetSpec().GetConcurrencyPolicy())
	// Output:
	// nightly-report created
	// nightly-report unchanged
	// 0 3 * * * Europe/Berlin Forbid
}

// Run a CronJob now, wait for its Job, and read how it ended and what it
// printed. The Job's status carries its result: no need to look at attempts.
func ExampleCronJobsAPI_Trigger() {
	c, err := client.New(client.Config{Servers: servers, Insecure: true})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Exec runs the command as a process on a worker that allows it; without
	// it, the image runs as a Docker container.
	backup := client.NewCronJob("backup", "0 3 * * *", client.Container{
		Image: "busybox", Command: []string{"sh", "-c", "echo backed up 42 tables"},
	}).Namespace("examples").Exec().Build()
	if _, err := c.CronJobs().Apply(ctx, backup); err != nil {
		log.Fatal(err)
	}
	job, err := c.CronJobs().Trigger(ctx, "examples", "backup", client.TriggerOptions{JobName: "backup-now"})
	if err != nil {
		log.Fatal(err)
	}
	job, err = c.Jobs().Wait(ctx, "examples", job.GetMetadata().GetName(), client.ConditionComplete)
	if err != nil {
		log.Fatal(err)
	}
	r := job.GetStatus().GetResult()
	fmt.Println(r.GetCondition(), r.GetReason(), "exit code", r.GetExitCode())

	logs, err := c.Logs(ctx, "backup-now", client.LogOptions{Namespace: "examples"})
	if err != nil {
		log.Fatal(err)
	}
	defer logs.Close()
	out, err := io.ReadAll(logs)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(out))
	// Output:
	// Complete CompletionsReached exit code 0
	// backed up 42 tables
}

// A Job that fails: Wait says so with ErrJobFailed, and the result names the
// attempt's exit code and the reason the Job gave up.
func ExampleJobsAPI_Wait() {
	c, err := client.New(client.Config{Servers: servers, Insecure: true})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	migrate := client.NewJob("migrate", client.Container{
		Image: "busybox", Command: []string{"sh", "-c", "echo disk full >&2; exit 3"},
	}).Namespace("examples").Exec().BackoffLimit(0).Build()
	if _, err := c.Jobs().Apply(ctx, migrate); err != nil {
		log.Fatal(err)
	}
	job, err := c.Jobs().Wait(ctx, "examples", "migrate", client.ConditionComplete)
	if errors.Is(err, client.ErrJobFailed) {
		r := job.GetStatus().GetResult()
		fmt.Println(r.GetReason())
		fmt.Println("attempt", r.GetAttempt(), r.GetAttemptState(), "with exit code", r.GetExitCode())
		fmt.Println(client.ResultText(job)) // the same, in one line
	} else if err != nil {
		log.Fatal(err)
	}
	logs, err := c.Logs(ctx, "migrate", client.LogOptions{Namespace: "examples", Tail: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer logs.Close()
	last, _ := io.ReadAll(logs)
	fmt.Print(string(last))
	// Output:
	// BackoffLimitExceeded
	// attempt migrate-0-1 Failed with exit code 3
	// Failed (BackoffLimitExceeded): attempt migrate-0-1 Failed with exit code 3 on w1
	// disk full
}

// Errors match the package's sentinels with errors.Is; their text is the
// server's, naming the object or the field at fault.
func Example_errors() {
	c, err := client.New(client.Config{Servers: servers, Insecure: true})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	_, err = c.CronJobs().Get(ctx, "examples", "no-such-cronjob")
	fmt.Println(errors.Is(err, client.ErrNotFound))

	bad := client.NewCronJob("bad", "61 * * * *", client.Container{Image: "busybox"}).Namespace("examples").Build()
	_, err = c.CronJobs().Apply(ctx, bad)
	fmt.Println(errors.Is(err, client.ErrInvalid), strings.Contains(err.Error(), "spec.schedule"))
	// Output:
	// true
	// true true
}

// Watch a CronJob's Jobs: the Jobs that exist come first (as Added), then a
// Bookmark, then every change as the cluster commits it. Here the CronJob
// is triggered once the watch has started, and the watch stops when its Job
// has finished.
func ExampleJobsAPI_Watch() {
	c, err := client.New(client.Config{Servers: servers, Insecure: true})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Yearly, so that no scheduled run comes between the watch and the trigger.
	ticker := client.NewCronJob("ticker", "@yearly", client.Container{
		Image: "busybox", Command: []string{"sh", "-c", "echo tick"},
	}).Namespace("watching").Exec().Build()
	if _, err := c.CronJobs().Apply(ctx, ticker); err != nil {
		log.Fatal(err)
	}
	opts := client.TypedWatchOptions{WatchOptions: client.WatchOptions{Namespace: "watching"}, CronJob: "ticker"}
	triggered := false
	for ev, err := range c.Jobs().Watch(ctx, opts) {
		if err != nil {
			log.Fatal(err)
		}
		switch {
		case ev.Type == client.Bookmark && !triggered:
			triggered = true
			if _, err := c.CronJobs().Trigger(ctx, "watching", "ticker", client.TriggerOptions{JobName: "ticker-now"}); err != nil {
				log.Fatal(err)
			}
		case ev.Type == client.Added:
			fmt.Println("added", ev.Object.GetMetadata().GetName())
		case ev.Object.Finished():
			r := ev.Object.GetStatus().GetResult()
			fmt.Println(ev.Object.GetMetadata().GetName(), r.GetCondition(), "exit code", r.GetExitCode())
			return // stops the watch
		}
	}
	// Output:
	// added ticker-now
	// ticker-now Complete exit code 0
}
