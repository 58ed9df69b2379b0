package raft_test

import (
	"errors"
	"strings"
	"testing"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/raft"
)

// describeWatch renders watch events as "TYPE Kind ns/name@index".
func describeWatch(evs []*pb.WatchEvent) string {
	var b strings.Builder
	for _, ev := range evs {
		b.WriteString(ev.GetType() + " " + ev.ObjectKind() + " " + ev.ObjectNamespace() + "/" + ev.ObjectName() + "@" + itoa(int32(ev.GetIndex())) + "\n")
	}
	return b.String()
}

func onlyKinds(evs []*pb.WatchEvent, kinds ...string) []*pb.WatchEvent {
	var out []*pb.WatchEvent
	for _, ev := range evs {
		for _, k := range kinds {
			if ev.ObjectKind() == k {
				out = append(out, ev)
			}
		}
	}
	return out
}

func TestWatchChangesAreTypedAndResumable(t *testing.T) {
	h := newHarness(t)
	st := h.state()
	h.mustApply(applyRes(0, []*pb.CronJob{cronJob("default", "nightly", "0 3 * * *")}, nil)) // 1
	h.mustApply(createJobs(cronJobRun("default", "nightly", "nightly-1", 0)))                // 2
	h.mustApply(createAttempts(attempt("default", "nightly-1", 0, 1)))                       // 3
	h.mustApply(deleteRes(pb.KindCronJob, "default", "nightly"))                             // 4

	evs, last, err := st.WatchChanges(0)
	if err != nil {
		t.Fatal(err)
	}
	if last != 4 {
		t.Fatalf("last index = %d, want 4", last)
	}
	got := describeWatch(onlyKinds(evs, pb.KindCronJob, pb.KindJob, pb.KindAttempt))
	want := "ADDED CronJob default/nightly@1\n" +
		"ADDED Job default/nightly-1@2\n" +
		"MODIFIED CronJob default/nightly@2\n" + // status.active
		"ADDED Attempt default/nightly-1-0-1@3\n" +
		"DELETED CronJob default/nightly@4\n" +
		"DELETED Job default/nightly-1@4\n" +
		"DELETED Attempt default/nightly-1-0-1@4\n"
	if got != want {
		t.Fatalf("changes:\n%s\nwant:\n%s", got, want)
	}
	// A deleted object comes with its last state.
	for _, ev := range evs {
		if ev.GetType() == pb.WatchDeleted && ev.ObjectKind() == pb.KindJob && ev.GetJob().GetStatus().GetCronJob() != "nightly" {
			t.Fatalf("DELETED job carries %v, want its last state", ev.GetJob())
		}
	}
	// Resuming from index 2 gives only what came after it.
	evs, _, err = st.WatchChanges(2)
	if err != nil {
		t.Fatal(err)
	}
	got = describeWatch(onlyKinds(evs, pb.KindCronJob, pb.KindJob, pb.KindAttempt))
	if !strings.HasPrefix(got, "ADDED Attempt default/nightly-1-0-1@3\n") || strings.Contains(got, "@2") {
		t.Fatalf("changes since 2:\n%s", got)
	}
	if evs, _, _ := st.WatchChanges(4); len(evs) != 0 {
		t.Fatalf("changes since the last index: %s", describeWatch(evs))
	}
}

func TestWatchOneEntryCoalescesChangesOfAnObject(t *testing.T) {
	h := newHarness(t)
	h.mustApply(applyRes(0, nil, []*pb.Job{plainJob("default", "a")}))
	// A batch that creates and then deletes job b, and changes a twice.
	h.raw(batch(
		applyRes(0, nil, []*pb.Job{plainJob("default", "b")}),
		deleteRes(pb.KindJob, "default", "b"),
		setSuspend(pb.KindJob, "default", "a", true),
		setSuspend(pb.KindJob, "default", "a", false),
	))
	evs, _, err := h.state().WatchChanges(1)
	if err != nil {
		t.Fatal(err)
	}
	got := describeWatch(onlyKinds(evs, pb.KindJob))
	if got != "MODIFIED Job default/a@2\n" {
		t.Fatalf("changes of entry 2:\n%s", got)
	}
	if j := onlyKinds(evs, pb.KindJob)[0].GetJob(); j.GetSpec().GetSuspend() || j.GetMetadata().GetGeneration() != 3 {
		t.Fatalf("the event carries the object as the entry left it (resumed, generation 3): %v", j)
	}
}

func TestWatchLogIsBoundedAndSaysWhenTooOld(t *testing.T) {
	h := newHarness(t)
	st := h.state()
	st.SetWatchLogSize(8)
	for i := 0; i < 40; i++ {
		h.mustApply(applyRes(0, nil, []*pb.Job{plainJob("default", "j"+itoa(int32(i)))}))
	}
	if _, _, err := st.WatchChanges(1); !errors.Is(err, raft.ErrWatchGone) {
		t.Fatalf("watch from index 1 after 40 entries with a log of 8: err %v, want ErrWatchGone", err)
	}
	evs, last, err := st.WatchChanges(38)
	if err != nil || last != 40 || len(onlyKinds(evs, pb.KindJob)) != 2 {
		t.Fatalf("watch from 38: %d events, last %d, err %v", len(evs), last, err)
	}
	// A fresh watch lists the objects at an index and continues from there.
	list, at := st.WatchList(pb.KindJob, "default")
	if len(list) != 40 || at != 40 || list[0].GetType() != pb.WatchAdded {
		t.Fatalf("list: %d objects at %d", len(list), at)
	}
}

func TestWatchAfterSnapshotRestoreMustRelist(t *testing.T) {
	h := newHarness(t)
	h.mustApply(applyRes(0, nil, []*pb.Job{plainJob("default", "a")}))
	h.mustApply(applyRes(0, nil, []*pb.Job{plainJob("default", "b")}))
	snap, err := h.fsm.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	other := newHarness(t)
	if err := other.fsm.Restore(sink.Reader()); err != nil {
		t.Fatal(err)
	}
	other.index = 10
	other.mustApply(applyRes(0, nil, []*pb.Job{plainJob("default", "c")})) // 11
	if _, _, err := other.state().WatchChanges(1); !errors.Is(err, raft.ErrWatchGone) {
		t.Fatalf("watch from before the restore: %v, want ErrWatchGone", err)
	}
	evs, _, err := other.state().WatchChanges(10)
	if err != nil || describeWatch(onlyKinds(evs, pb.KindJob)) != "ADDED Job default/c@11\n" {
		t.Fatalf("watch from the restored index: %s %v", describeWatch(evs), err)
	}
}
