// Package integration holds tests that start real raftcron processes and
// Docker containers: leader kills and pauses, partitions, worker loss, whole
// cluster restarts, end to end. They build what they need themselves.
package integration
