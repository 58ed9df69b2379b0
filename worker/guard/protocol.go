package guard

import (
	"fmt"
	"io"
)

// Protocol is the version of what the worker and its guard share: the
// command line, the lease file and the record. It changes whenever one of
// them changes incompatibly, so that a worker never runs attempts under a
// raftcron-guard of another build that reads them otherwise (a stale
// binary left next to a new raftcron).
//
// 2: the guard writes the times of the output's lines (<log>.times).
const Protocol = 2

// protocolFlag makes the guard print its Protocol and exit.
const protocolFlag = "--protocol"

// ProtocolLine is what `raftcron-guard --protocol` prints.
func ProtocolLine() string { return fmt.Sprintf("raftcron-guard protocol %d", Protocol) }

func printProtocol(w io.Writer) int {
	fmt.Fprintln(w, ProtocolLine())
	return 0
}
