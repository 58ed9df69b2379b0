package raftcronv1

import "errors"

// The domain errors of raftcron, one set for every package. An applied
// command returns one as a CommandResult code (Err turns it back into the
// error); validation and the API wrap them with context; the server maps
// each to one gRPC code (cluster/errors.go) and the client maps the code
// back, so errors.Is works end to end.
var (
	// ErrNotFound: the named object does not exist (codes.NotFound).
	ErrNotFound = errors.New("not found")
	// ErrInvalid: a spec, value or request is malformed; the wrapping error
	// names the field and the problem (codes.InvalidArgument).
	ErrInvalid = errors.New("invalid")
	// ErrAlreadyExists: an object of that name exists already (codes.AlreadyExists).
	ErrAlreadyExists = errors.New("already exists")
	// ErrConflict: the state does not allow the change: a stale or duplicate
	// report, an attempt in another state (codes.FailedPrecondition).
	ErrConflict = errors.New("conflict")
	// ErrLimitExceeded: a quota or limit refused the request; the wrapping
	// error names the limit, its value and the flag that sets it
	// (codes.ResourceExhausted).
	ErrLimitExceeded = errors.New("limit exceeded")
)

// Codes of CommandResult.code.
const (
	CodeNotFound      = "NotFound"
	CodeInvalid       = "Invalid"
	CodeAlreadyExists = "AlreadyExists"
	CodeConflict      = "Conflict"
)

var codeErrors = map[string]error{
	CodeNotFound:      ErrNotFound,
	CodeInvalid:       ErrInvalid,
	CodeAlreadyExists: ErrAlreadyExists,
	CodeConflict:      ErrConflict,
}

// CommandError is the domain error of an applied command: its text is the
// FSM's message, and it matches the sentinel of its code with errors.Is.
type CommandError struct {
	Code    string
	Message string
}

func (e *CommandError) Error() string { return e.Message }

// Unwrap returns the sentinel error of the code (nil for an unknown code).
func (e *CommandError) Unwrap() error { return codeErrors[e.Code] }

// Err is the result's domain error: nil on success, otherwise a
// *CommandError carrying the result's code and message.
func (x *CommandResult) Err() error {
	if x.GetError() == "" && x.GetCode() == "" {
		return nil
	}
	msg := x.GetError()
	if msg == "" {
		msg = x.GetCode()
	}
	return &CommandError{Code: x.GetCode(), Message: msg}
}

// FirstErr returns the first domain error among results, or nil.
func FirstErr(results []*CommandResult) error {
	for _, r := range results {
		if err := r.Err(); err != nil {
			return err
		}
	}
	return nil
}
