package client_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/raftcron/raftcron/client"
)

// A WaitJob that is under way when the leader stops keeps waiting through
// the election and returns the Job's result; the API groups work against
// the new leader.
func TestWaitJobAcrossALeaderChange(t *testing.T) {
	c := dial(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ns := namespace("failover")
	job := client.NewJob("through-election", client.Container{
		Image: "busybox", Command: []string{"sh", "-c", "echo started; sleep 3; echo done"},
	}).Namespace(ns).Exec().Label("suite", "failover").Build()
	if _, err := c.Jobs().Apply(ctx, job); err != nil {
		t.Fatal(err)
	}
	type result struct {
		job *client.Job
		err error
	}
	waited := make(chan result, 1)
	go func() {
		j, err := c.Jobs().Wait(ctx, ns, "through-election", client.ConditionComplete)
		waited <- result{j, err}
	}()
	// Once the attempt runs, stop the leader.
	if err := testbed.waitFor(20*time.Second, func() bool {
		as, err := c.Attempts().List(ctx, ns, "through-election")
		return err == nil && len(as) == 1 && as[0].GetState() == client.AttemptRunning
	}); err != nil {
		t.Fatalf("the attempt never ran: %v", err)
	}
	old := testbed.leader()
	if old == nil {
		t.Fatal("no leader")
	}
	testbed.stopNode(old)
	t.Cleanup(func() {
		// Give the other tests their three servers back.
		if err := testbed.start(old); err != nil {
			t.Errorf("restart %s: %v", old.id, err)
			return
		}
		if err := testbed.waitFor(20*time.Second, func() bool { return testbed.leaderAll(3) }); err != nil {
			t.Errorf("after restarting %s: %v", old.id, err)
		}
	})
	select {
	case r := <-waited:
		t.Fatalf("WaitJob returned before the Job could end: %v, %v", r.job.GetStatus(), r.err)
	case <-time.After(500 * time.Millisecond):
	}
	if err := testbed.waitFor(20*time.Second, func() bool { l := testbed.leader(); return l != nil && l != old }); err != nil {
		t.Fatalf("no new leader: %v", err)
	}
	r := <-waited
	if r.err != nil {
		t.Fatalf("WaitJob across the election: %v", r.err)
	}
	res := r.job.GetStatus().GetResult()
	as, err := c.Jobs().Attempts(ctx, ns, "through-election")
	if err != nil {
		t.Fatal(err)
	}
	// The attempt that decided it is the last one, and it succeeded (an
	// attempt lost in the election is replaced: at least once).
	last := as[len(as)-1]
	if res.GetCondition() != client.ConditionComplete || res.GetAttempt() != last.GetName() || res.GetAttemptState() != client.AttemptSucceeded || res.GetExitCode() != 0 {
		t.Fatalf("result %v, want Complete by %s with exit code 0", res, last.GetName())
	}
	for _, a := range as[:len(as)-1] {
		t.Logf("an earlier attempt: %s %s %s: %s", a.GetName(), a.GetState(), a.GetReason(), a.GetMessage())
	}
	logs, err := c.Logs(ctx, "through-election", client.LogOptions{Namespace: ns, Attempt: last.GetNumber()})
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, logs); got != "started\ndone\n" {
		t.Fatalf("logs %q", got)
	}
	jobs, err := c.Jobs().List(ctx, client.ListOptions{Namespace: ns, LabelSelector: "suite=failover"})
	if err != nil || len(jobs) != 1 {
		t.Fatalf("list by label: %d jobs, %v", len(jobs), err)
	}
	// The server that answers may learn of the new leader a moment later.
	var leader *client.Member
	if err := testbed.waitFor(10*time.Second, func() bool {
		leader, err = c.Cluster().Leader(ctx)
		return err == nil && leader.GetId() != old.id
	}); err != nil {
		t.Fatalf("Cluster().Leader: %v, %v; want one other than %s", leader, err, old.id)
	}
}

// Every group of calls, against the cluster: list with namespaces and label
// selectors, suspend and resume, delete, and the errors a caller handles.
func TestGroupsAgainstTheCluster(t *testing.T) {
	c := dial(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	groups, other := namespace("groups"), namespace("groups")
	for _, cj := range []*client.CronJob{
		client.NewCronJob("a", "@hourly", client.Container{Image: "busybox"}).Namespace(groups).Label("team", "data").Build(),
		client.NewCronJob("b", "@daily", client.Container{Image: "busybox"}).Namespace(groups).Label("team", "web").Build(),
		client.NewCronJob("c", "@daily", client.Container{Image: "busybox"}).Namespace(other).Label("team", "data").Build(),
	} {
		if _, err := c.CronJobs().Apply(ctx, cj); err != nil {
			t.Fatal(err)
		}
	}
	names := func(opts client.ListOptions) string {
		t.Helper()
		cjs, err := c.CronJobs().List(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, cj := range cjs {
			if ns := cj.GetMetadata().GetNamespace(); ns == groups || ns == other {
				out = append(out, cj.GetMetadata().GetNamespace()+"/"+cj.GetMetadata().GetName())
			}
		}
		return strings.Join(out, " ")
	}
	for opts, want := range map[client.ListOptions]string{
		{Namespace: groups}:                                     groups + "/a " + groups + "/b",
		{Namespace: groups, LabelSelector: "team=data"}:         groups + "/a",
		{Namespace: groups, LabelSelector: "team notin (data)"}: groups + "/b",
		{AllNamespaces: true, LabelSelector: "team=data"}:       groups + "/a " + other + "/c",
	} {
		if got := names(opts); got != want {
			t.Errorf("list %+v = %q, want %q", opts, got, want)
		}
	}
	if _, err := c.CronJobs().List(ctx, client.ListOptions{LabelSelector: "team in data"}); !errors.Is(err, client.ErrInvalid) {
		t.Errorf("bad selector: err = %v, want ErrInvalid", err)
	}

	if err := c.CronJobs().Suspend(ctx, groups, "a"); err != nil {
		t.Fatal(err)
	}
	if cj, err := c.CronJobs().Get(ctx, groups, "a"); err != nil || !cj.GetSpec().GetSuspend() {
		t.Fatalf("after Suspend: %v, %v", cj.GetSpec(), err)
	}
	if err := c.CronJobs().Resume(ctx, groups, "a"); err != nil {
		t.Fatal(err)
	}
	if cj, err := c.CronJobs().Get(ctx, groups, "a"); err != nil || cj.GetSpec().GetSuspend() {
		t.Fatalf("after Resume: %v, %v", cj.GetSpec(), err)
	}
	if res, err := c.CronJobs().DryRun(ctx, client.NewCronJob("a", "@daily", client.Container{Image: "busybox"}).Namespace(groups).Build()); err != nil || res.GetAction() != "configured" {
		t.Fatalf("dry run: %v, %v", res, err)
	}
	if err := c.CronJobs().Delete(ctx, groups, "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CronJobs().Get(ctx, groups, "b"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("get after delete: err = %v, want ErrNotFound", err)
	}
	if _, err := c.CronJobs().Trigger(ctx, groups, "b", client.TriggerOptions{}); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("trigger of a deleted CronJob: err = %v, want ErrNotFound", err)
	}
	if _, err := c.Logs(ctx, "no-such-job", client.LogOptions{Namespace: groups}); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("logs of no job: err = %v, want ErrNotFound", err)
	}
	ms, err := c.Cluster().Members(ctx)
	if err != nil || len(ms) != 3 {
		t.Fatalf("members: %d, %v", len(ms), err)
	}
	if ws, err := c.Workers().List(ctx, client.LabelRuntime+"="+client.RuntimeExec); err != nil || len(ws) != 1 {
		t.Fatalf("workers: %v, %v", ws, err)
	}
	if _, err := c.Cluster().Settings(ctx); err != nil {
		t.Fatal(err)
	}
}

// A watch whose server stops resumes on another server from the last index
// it saw: it misses no change and repeats none.
func TestWatchAcrossALeaderChange(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	old := testbed.leader()
	if old == nil {
		t.Fatal("no leader")
	}
	// The watch starts on the leader: the client tries its servers in order.
	addrs := []string{old.grpcAddr}
	for _, a := range servers {
		if a != old.grpcAddr {
			addrs = append(addrs, a)
		}
	}
	c, err := client.New(client.Config{Servers: addrs, Insecure: true, DialTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ns := namespace("watch-failover")
	apply := func(name string) {
		t.Helper()
		cj := client.NewCronJob(name, "@yearly", client.Container{Image: "busybox"}).Namespace(ns).Build()
		if _, err := c.CronJobs().Apply(ctx, cj); err != nil {
			t.Fatal(err)
		}
	}
	apply("before")

	type seen struct {
		typ, name string
		index     uint64
	}
	events := make(chan seen, 100)
	wctx, stopWatch := context.WithCancel(ctx)
	watchErr := make(chan error, 1)
	go func() {
		defer close(events)
		for ev, err := range c.CronJobs().Watch(wctx, client.TypedWatchOptions{WatchOptions: client.WatchOptions{Namespace: ns}}) {
			if err != nil {
				watchErr <- err
				return
			}
			events <- seen{ev.Type, ev.Object.GetMetadata().GetName(), ev.Index}
		}
		watchErr <- nil
	}()
	next := func() seen {
		t.Helper()
		select {
		case s := <-events:
			return s
		case <-time.After(20 * time.Second):
			t.Fatal("no watch event in 20s")
		}
		return seen{}
	}
	if s := next(); s.typ != client.Added || s.name != "before" {
		t.Fatalf("first event %+v, want the CronJob that exists", s)
	}
	if s := next(); s.typ != client.Bookmark {
		t.Fatalf("second event %+v, want the bookmark that ends the list", s)
	}
	apply("during")
	s := next()
	if s.typ != client.Added || s.name != "during" {
		t.Fatalf("event %+v, want during added", s)
	}
	lastIndex := s.index

	testbed.stopNode(old)
	t.Cleanup(func() {
		if err := testbed.start(old); err != nil {
			t.Errorf("restart %s: %v", old.id, err)
			return
		}
		if err := testbed.waitFor(20*time.Second, func() bool { return testbed.leaderAll(3) }); err != nil {
			t.Errorf("after restarting %s: %v", old.id, err)
		}
	})
	if err := testbed.waitFor(20*time.Second, func() bool { l := testbed.leader(); return l != nil && l != old }); err != nil {
		t.Fatalf("no new leader: %v", err)
	}
	apply("after")
	for {
		s := next()
		if s.typ == client.Bookmark {
			continue
		}
		if s.index <= lastIndex {
			t.Fatalf("event %+v repeats index %d or goes back", s, lastIndex)
		}
		if s.typ != client.Added || s.name != "after" {
			t.Fatalf("event %+v, want after added (and nothing else since during)", s)
		}
		break
	}
	stopWatch()
	for range events {
	}
	if err := <-watchErr; err != nil {
		t.Fatalf("the watch ended with %v", err)
	}
}
