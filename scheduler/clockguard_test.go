package scheduler

import (
	"testing"
	"time"
)

func TestClockGuard(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	g := ClockGuard{Tolerance: 30 * time.Second, AcceptAfter: 10 * time.Minute}
	for i, c := range []struct {
		wall     time.Time
		elapsed  time.Duration
		want     time.Time
		wantJump time.Duration
	}{
		{t0, 0, t0, 0},
		{t0.Add(time.Second), time.Second, t0.Add(time.Second), 0},
		{t0.Add(2*time.Second + 10*time.Second), 2 * time.Second, t0.Add(12 * time.Second), 0}, // NTP slew within tolerance
		// The wall clock jumps a year ahead: decide with the monotonic time.
		{t0.AddDate(1, 0, 0), 3 * time.Second, t0.Add(13 * time.Second), t0.AddDate(1, 0, 0).Sub(t0.Add(13 * time.Second))},
		{t0.AddDate(1, 0, 0).Add(time.Second), 4 * time.Second, t0.Add(14 * time.Second), 0},
		// ... and comes back: nothing was decided in the bogus future.
		{t0.Add(15 * time.Second), 5 * time.Second, t0.Add(15 * time.Second), 0},
		// A jump backward is followed and reported.
		{t0.Add(-time.Hour), 6 * time.Second, t0.Add(-time.Hour), -time.Hour - 16*time.Second},
		// A forward step that persists is accepted after AcceptAfter.
		{t0.Add(time.Hour), 7 * time.Second, t0.Add(-time.Hour + time.Second), 2*time.Hour - time.Second},
		{t0.Add(time.Hour + 10*time.Minute), 7*time.Second + 10*time.Minute, t0.Add(time.Hour + 10*time.Minute), 0},
		{t0.Add(time.Hour + 10*time.Minute + time.Second), 8*time.Second + 10*time.Minute, t0.Add(time.Hour + 10*time.Minute + time.Second), 0},
	} {
		got, jump := g.Now(c.wall, c.elapsed)
		if !got.Equal(c.want) || jump != c.wantJump {
			t.Errorf("reading %d: Now = %v, jump %v; want %v, jump %v", i, got, jump, c.want, c.wantJump)
		}
	}
}
