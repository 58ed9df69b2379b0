package scheduler

import (
	"sort"
	"sync"
	"time"
)

// Clock is the scheduler's only source of time. Production code uses
// RealClock; tests use a FakeClock and move it by hand, never sleeping.
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer that fires once d has passed on this clock.
	NewTimer(d time.Duration) Timer
}

// Timer is the part of time.Timer the scheduler uses.
type Timer interface {
	C() <-chan time.Time
	// Reset re-arms the timer; like time.Timer.Reset it must be called on a
	// stopped or fired timer whose channel has been drained.
	Reset(d time.Duration) bool
	Stop() bool
}

// RealClock is the wall clock.
type RealClock struct{}

func (RealClock) Now() time.Time { return time.Now() }

func (RealClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time        { return r.t.C }
func (r realTimer) Reset(d time.Duration) bool { return r.t.Reset(d) }
func (r realTimer) Stop() bool                 { return r.t.Stop() }

// FakeClock is a Clock that only moves when told to.
type FakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

// NewFakeClock returns a fake clock set to now.
func NewFakeClock(now time.Time) *FakeClock { return &FakeClock{now: now} }

func (f *FakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Set moves the clock to t and fires every timer that is due by then, in order.
func (f *FakeClock) Set(t time.Time) {
	f.mu.Lock()
	f.now = t
	due := f.timers[:0:0]
	rest := f.timers[:0]
	for _, ft := range f.timers {
		if !ft.at.After(t) {
			due = append(due, ft)
		} else {
			rest = append(rest, ft)
		}
	}
	f.timers = rest
	f.mu.Unlock()
	sort.Slice(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	for _, ft := range due {
		select {
		case ft.c <- t:
		default:
		}
	}
}

// Advance moves the clock forward by d.
func (f *FakeClock) Advance(d time.Duration) { f.Set(f.Now().Add(d)) }

func (f *FakeClock) NewTimer(d time.Duration) Timer {
	ft := &fakeTimer{clock: f, c: make(chan time.Time, 1)}
	ft.Reset(d)
	return ft
}

type fakeTimer struct {
	clock *FakeClock
	at    time.Time
	c     chan time.Time
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Reset(d time.Duration) bool {
	active := t.Stop()
	f := t.clock
	f.mu.Lock()
	t.at = f.now.Add(d)
	if d <= 0 {
		f.mu.Unlock()
		select {
		case t.c <- t.at:
		default:
		}
		return active
	}
	f.timers = append(f.timers, t)
	f.mu.Unlock()
	return active
}

func (t *fakeTimer) Stop() bool {
	f := t.clock
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, ft := range f.timers {
		if ft == t {
			f.timers = append(f.timers[:i], f.timers[i+1:]...)
			return true
		}
	}
	return false
}
