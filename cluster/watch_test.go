package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/raftcron/raftcron/auth"
	"github.com/raftcron/raftcron/client"
	"github.com/raftcron/raftcron/cluster"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/scheduler"
)

// TestWatchStreamsCommittedChangesAndEvents watches CronJobs through a
// follower of a secure cluster: the current objects first, then changes as
// they commit, resumed on another server from the last index; a token for
// one namespace may watch only that namespace; events are listed and watched.
func TestWatchStreamsCommittedChangesAndEvents(t *testing.T) {
	if testing.Short() {
		t.Skip("in-process cluster test")
	}
	pki := newTestPKI(t)
	tc := startTestCluster(t, 3, pki)
	addrs := []string{tc.nodes[0].grpcAddr, tc.nodes[1].grpcAddr, tc.nodes[2].grpcAddr}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	boot, err := pki.client(t, "", auth.RoleClient, "alice", addrs...).ACLBootstrap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mgmt := pki.client(t, boot.GetSecret(), auth.RoleClient, "alice", addrs...)
	if _, err := mgmt.Apply(ctx, []*pb.Resource{yearlyCronJob("first")}, false); err != nil {
		t.Fatal(err)
	}
	follower := tc.follower()
	// The watcher is another client (it has not seen the write's index):
	// start it once the follower holds the write, so the list has it.
	tc.waitFor(10*time.Second, "the follower to hold the first CronJob", func() bool {
		return follower.server().Node().State().CronJob("default", "first") != nil
	})
	watcher := pki.client(t, boot.GetSecret(), auth.RoleClient, "alice", follower.grpcAddr)

	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	type seen struct {
		typ, name string
		index     uint64
		suspended bool
	}
	got := make(chan seen, 100)
	go func() {
		defer close(got)
		for ev, err := range watcher.Watch(wctx, client.KindCronJob, client.WatchOptions{Namespace: "default"}) {
			if err != nil {
				got <- seen{typ: "error: " + err.Error()}
				return
			}
			got <- seen{ev.GetType(), ev.ObjectName(), ev.GetIndex(), ev.GetCronJob().GetSpec().GetSuspend()}
		}
	}()
	next := func() seen {
		t.Helper()
		select {
		case s := <-got:
			return s
		case <-time.After(10 * time.Second):
			t.Fatal("no watch event within 10s")
		}
		return seen{}
	}
	if s := next(); s.typ != client.Added || s.name != "first" {
		t.Fatalf("first watch event %+v, want ADDED first", s)
	}
	bm := next()
	if bm.typ != client.Bookmark || bm.index == 0 {
		t.Fatalf("after the list: %+v, want a BOOKMARK with an index", bm)
	}
	if _, err := mgmt.Apply(ctx, []*pb.Resource{yearlyCronJob("second")}, false); err != nil {
		t.Fatal(err)
	}
	added := next()
	if added.typ != client.Added || added.name != "second" || added.index <= bm.index {
		t.Fatalf("after applying second: %+v", added)
	}
	if err := mgmt.SetSuspend(ctx, client.KindCronJob, "default", "first", true); err != nil {
		t.Fatal(err)
	}
	mod := next()
	if mod.typ != client.Modified || mod.name != "first" || !mod.suspended {
		t.Fatalf("after suspending first: %+v, want MODIFIED first suspended", mod)
	}
	if err := mgmt.Delete(ctx, client.KindCronJob, "default", "second"); err != nil {
		t.Fatal(err)
	}
	if s := next(); s.typ != client.Deleted || s.name != "second" {
		t.Fatalf("after deleting second: %+v", s)
	}
	wcancel()
	for range got {
	}

	// Resume on another server from the index of the suspend: only the delete follows.
	other := pki.client(t, boot.GetSecret(), auth.RoleClient, "alice", tc.leader().grpcAddr)
	rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
	defer rcancel()
	for ev, err := range other.Watch(rctx, client.KindCronJob, client.WatchOptions{Namespace: "default", SinceIndex: mod.index}) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.GetType() != client.Deleted || ev.ObjectName() != "second" {
			t.Fatalf("resumed from %d: %s %s", mod.index, ev.GetType(), ev.ObjectName())
		}
		break
	}

	// A token for team-a may watch team-a, not every namespace.
	teamA, err := mgmt.ACLTokenCreate(ctx, client.ACLTokenSpec{Name: "team-a", Namespaces: []string{"team-a"}, Verbs: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	a := pki.client(t, teamA.GetSecret(), auth.RoleClient, "bob", addrs...)
	for _, err := range a.Watch(shortCtx(t), "", client.WatchOptions{AllNamespaces: true}) {
		if !errors.Is(err, client.ErrPermissionDenied) {
			t.Fatalf("team-a watching every namespace: %v, want PermissionDenied", err)
		}
		break
	}
	for ev, err := range a.Watch(shortCtx(t), "", client.WatchOptions{Namespace: "team-a"}) {
		if err != nil || ev.GetType() != client.Bookmark {
			t.Fatalf("team-a watching team-a: %v %v, want an empty list and a bookmark", ev, err)
		}
		break
	}

	// Events: the suspend is recorded with the command's time and listed.
	evs, err := mgmt.ListEvents(ctx, "default", false, "first", "")
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, e := range evs {
		reasons = append(reasons, e.GetReason()+": "+e.GetMessage())
	}
	if !strings.Contains(strings.Join(reasons, "\n"), "Suspended: Suspended cronjob first") {
		t.Fatalf("events of cronjob first: %q", reasons)
	}
	if _, err := a.ListEvents(shortCtx(t), "default", false, "", ""); !errors.Is(err, client.ErrPermissionDenied) {
		t.Fatalf("team-a listing events of default: %v, want PermissionDenied", err)
	}
}

// TestLeaderPrunesEventsBeyondTheRetention: a leader told to keep 3 events
// drops the oldest as new ones are recorded, on every server.
func TestLeaderPrunesEventsBeyondTheRetention(t *testing.T) {
	if testing.Short() {
		t.Skip("in-process cluster test")
	}
	tc := newTestClusterWith(t, 3, func(_ int, nd *testNode) {
		nd.tune = func(c *cluster.Config) { c.Events = scheduler.EventRetention{Count: 3} }
	})
	c := dial(t, tc.leader().grpcAddr)
	ctx := shortCtx(t)
	for i := 0; i < 6; i++ {
		if _, err := c.Apply(ctx, []*pb.Resource{yearlyCronJob(fmt.Sprintf("cj%d", i))}, false); err != nil {
			t.Fatal(err)
		}
		if err := c.SetSuspend(ctx, client.KindCronJob, "default", fmt.Sprintf("cj%d", i), true); err != nil {
			t.Fatal(err)
		}
	}
	tc.waitFor(10*time.Second, "every server keeps the 3 newest events", func() bool {
		for _, nd := range tc.nodes {
			evs := nd.server().Node().State().Events("", "", "")
			if len(evs) != 3 || evs[2].GetName() != "cj5" || evs[0].GetName() != "cj3" {
				return false
			}
		}
		return true
	})
}

// TestTriggerMissingCronJobSaysNotFound: `trigger cronjob/nope` through a
// follower is a NotFound naming the CronJob, not a bare error.
func TestTriggerMissingCronJobSaysNotFound(t *testing.T) {
	if testing.Short() {
		t.Skip("in-process cluster test")
	}
	tc := newTestCluster(t, 3)
	c := dial(t, tc.follower().grpcAddr)
	_, err := c.Trigger(shortCtx(t), "default", "nope", "")
	if !errors.Is(err, client.ErrNotFound) || !strings.Contains(err.Error(), "nope") || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("trigger of a missing CronJob: %v, want ErrNotFound naming it", err)
	}
}
