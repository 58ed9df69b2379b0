// Package client is the public Go client library for raftcron: dial a list of
// servers, follow the leader, retry across leader changes, and read its own
// writes through any server (it remembers the Raft index of its last write
// and sends it with reads; a server waits until it has applied it). It also decodes
// Kubernetes-style YAML manifests into raftcron resources, for the CLI and for
// programs. It never imports raft, cluster or worker.
package client
