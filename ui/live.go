package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/raftcron/raftcron/client"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

const (
	// liveMinGap: a page is told to reload at most this often, however
	// busy the cluster is.
	liveMinGap = 3 * time.Second
	// liveHeartbeat keeps proxies from closing an idle event stream.
	liveHeartbeat = 15 * time.Second
)

// live streams server-sent events from the API's Watch of Events (the
// bounded event table, so the initial list a watch begins with stays small;
// every change a page shows records an Event): "ready" once the watch is
// established, then "change" (at most every liveMinGap) when an Event about
// what the page shows arrives (or was listed newer than the page's ?at=),
// so the page's script reloads it. ?namespace=,
// ?cronjob= and ?job= narrow what counts.
func (h *Handler) live(w http.ResponseWriter, r *http.Request) {
	s, err := h.session(w, r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	q := r.URL.Query()
	cronJob, job := q.Get("cronjob"), q.Get("job")
	opts := client.WatchOptions{Namespace: q.Get("namespace")}
	if opts.Namespace == "" {
		switch ns := s.namespaces(); len(ns) {
		case 0:
			opts.AllNamespaces = true
		case 1:
			opts.Namespace = ns[0]
		default:
			// A token for several namespaces but not all: one watch cannot
			// cover them; the page falls back to reloading on a timer.
			http.Error(w, "watch: the token covers several namespaces; name one", http.StatusBadRequest)
			return
		}
	}
	// Events listed when the watch starts that are newer than the page
	// (?at=, its render time in unix milliseconds) are changes it missed.
	var at time.Time
	if ms, err := strconv.ParseInt(q.Get("at"), 10, 64); err == nil {
		at = time.UnixMilli(ms)
	}
	about := func(ev *pb.Event) bool {
		return (cronJob == "" || ev.GetCronJob() == cronJob) && (job == "" || ev.GetJob() == job)
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	type item struct {
		ev  *pb.WatchEvent
		err error
	}
	events := make(chan item, 64)
	go func() {
		defer close(events)
		for ev, err := range s.c.Watch(ctx, client.KindEvent, opts) {
			select {
			case events <- item{ev, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()

	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no")
	fmt.Fprint(w, "retry: 5000\n\n")
	fl.Flush()

	listing := true
	var last uint64
	pending := false
	var sent time.Time
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	beat := time.NewTimer(liveHeartbeat)
	defer beat.Stop()
	send := func(event string, idx uint64) {
		fmt.Fprintf(w, "event: %s\ndata: %d\n\n", event, idx)
		fl.Flush()
		beat.Reset(liveHeartbeat)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.streams:
			return
		case it, ok := <-events:
			if !ok {
				return
			}
			if it.err != nil {
				if !errors.Is(it.err, context.Canceled) {
					fmt.Fprintf(w, "event: failed\ndata: %s\n\n", oneLine(it.err.Error()))
					fl.Flush()
				}
				return
			}
			idx := it.ev.GetIndex()
			if idx > last {
				last = idx
			}
			switch {
			case it.ev.GetType() == client.Bookmark && listing:
				listing = false
				send("ready", last)
			case it.ev.GetType() == client.Bookmark:
			case listing:
				if e := it.ev.GetEvent(); !at.IsZero() && e.GetTime().AsTime().After(at) && about(e) {
					pending = true
				}
			case about(it.ev.GetEvent()):
				pending = true
			}
		case <-tick.C:
			if pending && time.Since(sent) >= liveMinGap {
				pending, sent = false, time.Now()
				send("change", last)
			}
		case <-beat.C:
			fmt.Fprint(w, ": keep-alive\n\n")
			fl.Flush()
			beat.Reset(liveHeartbeat)
		}
	}
}

func oneLine(s string) string {
	out := []rune{}
	for _, r := range s {
		if r == '\n' || r == '\r' {
			r = ' '
		}
		out = append(out, r)
	}
	return string(out)
}
