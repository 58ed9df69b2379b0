// Package raftcronv1 holds the .proto files of raftcron's API, Raft commands,
// resources and worker sessions, the Go generated from them (`make proto`),
// and the vocabulary every other package shares, written by hand: attempt
// states, condition types, decisions and kinds with the helpers that read
// them (state.go), the domain errors and result codes (errors.go), and the
// metadata keys of read-your-writes (metadata.go). It imports only protobuf.
package raftcronv1
