package raftcronv1

// gRPC metadata keys of the read-your-writes protocol. A server answers every
// leader-only call (every write) with MetadataIndex: a Raft log index at or
// after the one the call committed at (in the header and the trailer, so it
// also travels with an error such as AlreadyExists). A client sends the
// highest index it has seen as MetadataMinIndex with its reads; a server that
// has applied less waits for it (a bounded time), then answers Unavailable
// so the client asks another server.
const (
	MetadataIndex    = "raftcron-index"
	MetadataMinIndex = "raftcron-min-index"
)
