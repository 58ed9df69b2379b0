package raft_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every Node started by a test is shut down, and nothing it started outlives it.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
