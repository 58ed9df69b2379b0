package raft_test

import (
	"testing"
	"time"
)

// Issue 10 (9): the cluster id is recorded once and never changes: neither a
// later leader's initial settings nor an update (which carries none) nor a
// command carrying another id replaces it.
func TestClusterIDIsSetOnce(t *testing.T) {
	h := newHarness(t)
	first := setSettings(true, time.Second, 5*time.Second, 10*time.Second, 0)
	first.GetSetClusterSettings().Settings.ClusterId = "c0ffee000001"
	h.mustApply(first)
	if got := h.state().Settings().GetClusterId(); got != "c0ffee000001" {
		t.Fatalf("cluster id = %q, want the first leader's", got)
	}
	other := setSettings(false, time.Second, 5*time.Second, 20*time.Second, time.Minute)
	other.GetSetClusterSettings().Settings.ClusterId = "bad000000002"
	h.mustApply(other)
	h.mustApply(setSettings(false, time.Second, 5*time.Second, 30*time.Second, 2*time.Minute))
	if s := h.state().Settings(); s.GetClusterId() != "c0ffee000001" || s.GetLeaseTtl().AsDuration() != 30*time.Second {
		t.Fatalf("settings = %v, want the updates applied and the cluster id kept", s)
	}
}

// A cluster whose settings were recorded before it had an id gets one.
func TestClusterIDAddedToOlderSettings(t *testing.T) {
	h := newHarness(t)
	h.mustApply(setSettings(true, time.Second, 5*time.Second, 10*time.Second, 0))
	add := setSettings(false, time.Second, 5*time.Second, 10*time.Second, time.Minute)
	add.GetSetClusterSettings().Settings.ClusterId = "c0ffee000003"
	h.mustApply(add)
	if got := h.state().Settings().GetClusterId(); got != "c0ffee000003" {
		t.Fatalf("cluster id = %q, want c0ffee000003", got)
	}
}
