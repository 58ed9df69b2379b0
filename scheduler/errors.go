package scheduler

import pb "github.com/raftcron/raftcron/proto/raftcron/v1"

// The domain errors (proto/raftcron/v1/errors.go), under the names the
// scheduler's callers use. Callers wrap them with context
// (fmt.Errorf("cronjob %q: %w", name, ErrInvalid)) and test with errors.Is;
// package cluster maps them to gRPC codes in one place.
var (
	ErrNotFound      = pb.ErrNotFound
	ErrInvalid       = pb.ErrInvalid
	ErrAlreadyExists = pb.ErrAlreadyExists
)
