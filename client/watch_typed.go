package client

import (
	"context"
	"iter"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// Event is an object of the API's event table: something that happened to
// a CronJob, Job or attempt, and why (ListEvents; Watch of KindEvent).
type Event = pb.Event

// WatchEvent is one typed change from a watch: Type is Added, Modified,
// Deleted or Bookmark; Index is the Raft index of the entry that made it
// (pass it as WatchOptions.SinceIndex to resume after it); Object is the
// object as it is after the change (as it was, for Deleted), nil for a
// Bookmark.
type WatchEvent[T any] struct {
	Type   string
	Index  uint64
	Object T
}

// TypedWatchOptions narrows a typed watch beyond WatchOptions: both filters
// are applied by the client, bookmarks always pass.
type TypedWatchOptions struct {
	WatchOptions
	// LabelSelector keeps objects whose labels match (see ParseSelector).
	LabelSelector string
	// CronJob (Jobs only) keeps the Jobs made by this CronJob.
	CronJob string
}

// watchTyped runs a watch of kind and hands out its events with the object
// get picks out, keeping those keep accepts (nil keeps all).
func watchTyped[T comparable](c *Client, ctx context.Context, kind string, opts WatchOptions, get func(*pb.WatchEvent) T, keep func(T) bool) iter.Seq2[WatchEvent[T], error] {
	return func(yield func(WatchEvent[T], error) bool) {
		var zero T
		for ev, err := range c.Watch(ctx, kind, opts) {
			if err != nil {
				yield(WatchEvent[T]{}, err)
				return
			}
			obj := get(ev)
			if ev.GetType() != Bookmark && (obj == zero || (keep != nil && !keep(obj))) {
				continue
			}
			if !yield(WatchEvent[T]{Type: ev.GetType(), Index: ev.GetIndex(), Object: obj}, nil) {
				return
			}
		}
	}
}

// labelFilter keeps the objects whose labels match opts' selector and that
// also pass extra (nil: no further test).
func labelFilter[T interface{ GetMetadata() *pb.ObjectMeta }](opts TypedWatchOptions, extra func(T) bool) (func(T) bool, error) {
	sel, err := ParseSelector(opts.LabelSelector)
	if err != nil {
		return nil, err
	}
	return func(obj T) bool {
		return sel.Matches(obj.GetMetadata().GetLabels()) && (extra == nil || extra(obj))
	}, nil
}

// failedWatch is a watch that ends at once with err.
func failedWatch[T any](err error) iter.Seq2[WatchEvent[T], error] {
	return func(yield func(WatchEvent[T], error) bool) { yield(WatchEvent[T]{}, err) }
}

// Watch streams changes of CronJobs as the cluster commits them, resumable
// from an index; see Client.Watch for how it starts, resumes and ends.
//
//	for ev, err := range c.CronJobs().Watch(ctx, client.TypedWatchOptions{}) {
//		if err != nil { … }
//		fmt.Println(ev.Type, ev.Object.GetMetadata().GetName())
//	}
func (a *CronJobsAPI) Watch(ctx context.Context, opts TypedWatchOptions) iter.Seq2[WatchEvent[*CronJob], error] {
	keep, err := labelFilter[*CronJob](opts, nil)
	if err != nil {
		return failedWatch[*CronJob](err)
	}
	return watchTyped(a.c, ctx, KindCronJob, opts.WatchOptions, (*pb.WatchEvent).GetCronJob, keep)
}

// Watch streams changes of Jobs (with opts.CronJob, of one CronJob's Jobs),
// resumable from an index; see Client.Watch.
func (a *JobsAPI) Watch(ctx context.Context, opts TypedWatchOptions) iter.Seq2[WatchEvent[*Job], error] {
	var ofCronJob func(*Job) bool
	if cj := opts.CronJob; cj != "" {
		ofCronJob = func(j *Job) bool { return j.GetStatus().GetCronJob() == cj }
	}
	keep, err := labelFilter(opts, ofCronJob)
	if err != nil {
		return failedWatch[*Job](err)
	}
	return watchTyped(a.c, ctx, KindJob, opts.WatchOptions, (*pb.WatchEvent).GetJob, keep)
}

// Watch streams changes of attempts, resumable from an index; see Client.Watch.
func (a *AttemptsAPI) Watch(ctx context.Context, opts WatchOptions) iter.Seq2[WatchEvent[*Attempt], error] {
	return watchTyped(a.c, ctx, KindAttempt, opts, (*pb.WatchEvent).GetAttempt, nil)
}
