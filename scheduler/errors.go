package scheduler

import "errors"

// Sentinel errors at the scheduler's border. Callers wrap them with context
// (fmt.Errorf("cronjob %q: %w", name, ErrInvalid)) and test with errors.Is;
// package cluster maps them to gRPC codes in one place.
var (
	// ErrNotFound means the named object does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalid means a spec or value is malformed; the wrapping error names
	// the field and the problem.
	ErrInvalid = errors.New("invalid")
	// ErrAlreadyExists means an object of that name exists already.
	ErrAlreadyExists = errors.New("already exists")
)
