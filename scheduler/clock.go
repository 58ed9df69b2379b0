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

// ClockGuard keeps the leader's "now" from following a wall clock that
// jumps. Each reading of the wall clock comes with the time elapsed on a
// monotonic clock since a fixed origin; a wall clock that moved ahead of the
// monotonic one by more than Tolerance jumped forward, and the guard keeps
// deciding with the monotonic time instead, so no tick is decided ahead of
// it (a wall clock that comes back finds nothing decided in its future). A
// forward jump that persists for AcceptAfter is taken as a correction (an
// NTP step). A jump backward is followed at once: lastScheduleTime keeps
// ticks from running twice.
type ClockGuard struct {
	// Tolerance is how far the wall clock may run ahead of the monotonic
	// one between two readings before it counts as a jump (default 30s).
	Tolerance time.Duration
	// AcceptAfter is how long a forward jump must persist to be accepted
	// (default 10m).
	AcceptAfter time.Duration

	started     bool
	trusted     time.Time     // the time decided with at the last reading
	lastElapsed time.Duration // monotonic time of the last reading
	aheadSince  time.Duration // monotonic time the current forward jump began
	ahead       bool
}

// Now returns the time to decide with for a wall-clock reading taken when
// elapsed had passed on the monotonic clock, and the size of a jump first
// seen in this reading: positive forward, negative backward, 0 for none.
func (g *ClockGuard) Now(wall time.Time, elapsed time.Duration) (now time.Time, jump time.Duration) {
	tol, accept := g.Tolerance, g.AcceptAfter
	if tol <= 0 {
		tol = 30 * time.Second
	}
	if accept <= 0 {
		accept = 10 * time.Minute
	}
	if !g.started {
		g.started, g.trusted, g.lastElapsed = true, wall, elapsed
		return wall, 0
	}
	expected := g.trusted.Add(elapsed - g.lastElapsed)
	g.lastElapsed = elapsed
	diff := wall.Sub(expected)
	switch {
	case diff > tol:
		if !g.ahead {
			g.ahead, g.aheadSince, jump = true, elapsed, diff
		}
		if elapsed-g.aheadSince >= accept {
			g.ahead, g.trusted = false, wall
			return wall, jump
		}
		g.trusted = expected
		return expected, jump
	case diff < -tol && !g.ahead:
		jump = diff
	}
	g.ahead, g.trusted = false, wall
	return wall, jump
}
