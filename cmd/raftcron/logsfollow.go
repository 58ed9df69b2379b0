package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/raftcron/raftcron/client"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// jobAppearTimeout is how long logs -f waits for a Job its server has not
// seen (tests shorten it).
var jobAppearTimeout = 10 * time.Second

// followLogs is `logs -f`: it waits (on the Watch stream, not by polling)
// for an attempt of the Job's index to start, prints its output until it
// ends, then does the same for each retry, until the Job has finished and
// every started attempt was printed. With --attempt N it follows that one only.
//
// A Job the server does not know yet is waited for, up to jobAppearTimeout:
// right after an apply from another process, a follower may not have
// applied the write yet (its reads are its own replica's).
func followLogs(ctx context.Context, cmd *cobra.Command, out io.Writer, c *client.Client, job string, opts client.LogOptions) error {
	ns := opts.Namespace
	var missing atomic.Pointer[error] // the Job's not-found error while it has not been seen
	if _, err := c.GetJob(ctx, ns, job); err != nil {
		if !errors.Is(err, client.ErrNotFound) {
			return err
		}
		missing.Store(&err)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var gaveUp atomic.Bool
	if missing.Load() != nil {
		t := time.AfterFunc(jobAppearTimeout, func() {
			if missing.Load() != nil {
				gaveUp.Store(true)
				cancel()
			}
		})
		defer t.Stop()
	}
	next, stop := iter.Pull2(c.Watch(wctx, "", client.WatchOptions{Namespace: ns}))
	defer stop()
	attempts := map[int32]*pb.Attempt{} // by number, of this index
	finished, listed := false, false
	var printed int32 // the highest attempt number printed
	pick := func() *pb.Attempt {
		var best *pb.Attempt
		for n, a := range attempts {
			switch {
			case a.GetState() == pb.AttemptPending, n <= printed,
				opts.Attempt != 0 && n != opts.Attempt:
				continue
			}
			// The first one not printed yet; right after the start, the
			// newest one (earlier attempts are history).
			if best == nil || (printed > 0) == (n < best.GetNumber()) {
				best = a
			}
		}
		return best
	}
	for {
		if listed {
			if a := pick(); a != nil {
				o := opts
				o.Attempt = a.GetNumber()
				if printed > 0 {
					fmt.Fprintf(cmd.ErrOrStderr(), "--- attempt %d (%s) ---\n", a.GetNumber(), a.GetName())
				}
				r, err := c.Logs(ctx, job, o)
				if err != nil {
					return err
				}
				_, err = io.Copy(out, r)
				r.Close()
				if err != nil {
					return err
				}
				printed = a.GetNumber()
				opts.Tail = 0 // a retry is printed whole
				if opts.Attempt != 0 {
					return nil
				}
				continue
			}
			if finished {
				return nil
			}
		}
		ev, err, ok := next()
		if gaveUp.Load() {
			if e := missing.Load(); e != nil {
				return *e
			}
			return fmt.Errorf("job %q appeared just as logs -f gave up waiting for it; run it again", job)
		}
		if !ok {
			return ctx.Err()
		}
		if err != nil {
			return err
		}
		switch o := ev.GetObject().(type) {
		case nil:
			listed = true // the bookmark after the current objects
		case *pb.WatchEvent_Job:
			if o.Job.GetMetadata().GetName() != job {
				continue
			}
			missing.Store(nil)
			if ev.GetType() == client.Deleted {
				return fmt.Errorf("job %q was deleted", job)
			}
			finished = o.Job.Finished()
		case *pb.WatchEvent_Attempt:
			if a := o.Attempt; a.GetJob() == job && a.GetIndex() == opts.Index && ev.GetType() != client.Deleted {
				attempts[a.GetNumber()] = a
			}
		}
	}
}
