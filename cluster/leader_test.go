package cluster

import (
	"context"
	"sync"
	"testing"
	"time"
)

// Issue 10 (13): leadership lost and regained can reach the monitor as one
// true while the old loop still runs; that loop must stop and a fresh one
// (with its own barrier) start.
func TestWatchLeadershipRestartsTheLoopOnEveryGain(t *testing.T) {
	notify := make(chan bool)
	var mu sync.Mutex
	var runs []context.Context
	ended := 0
	var revokes []bool
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		watchLeadership(ctx, notify, func(lctx context.Context) {
			mu.Lock()
			runs = append(runs, lctx)
			mu.Unlock()
			<-lctx.Done()
			mu.Lock()
			ended++
			mu.Unlock()
		}, func(wasRunning bool) {
			mu.Lock()
			revokes = append(revokes, wasRunning)
			mu.Unlock()
		})
	}()
	waitRuns := func(n int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			mu.Lock()
			got := len(runs)
			mu.Unlock()
			if got == n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d leader loops started, want %d", got, n)
			}
			time.Sleep(time.Millisecond)
		}
	}

	notify <- true
	waitRuns(1)
	notify <- true // lost and regained, collapsed into one true
	waitRuns(2)
	mu.Lock()
	if runs[0].Err() == nil || ended != 1 {
		t.Errorf("the first loop still runs after leadership was gained again (ended %d)", ended)
	}
	if runs[1].Err() != nil {
		t.Error("the new loop's context is already cancelled")
	}
	mu.Unlock()
	notify <- false
	notify <- false // a second false with nothing running still revokes
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if ended != 2 {
		t.Errorf("%d loops ended, want 2", ended)
	}
	want := []bool{false, true, true, false, false}
	if len(revokes) != len(want) {
		t.Fatalf("revokes = %v, want %v", revokes, want)
	}
	for i := range want {
		if revokes[i] != want[i] {
			t.Fatalf("revokes = %v, want %v", revokes, want)
		}
	}
}
