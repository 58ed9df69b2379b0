// Package client is the public Go client library for raftcron, and the one
// the raftcron CLI is built on.
//
// It dials a list of servers, follows the leader, retries across leader
// changes, and reads its own writes through any server (it remembers the
// Raft index of its last write and sends it with reads; a server waits until
// it has applied it). Calls come in groups: CronJobs(), Jobs(), Attempts(),
// Workers() and Cluster(), plus Logs and Watch. Objects are made with
// builders (NewCronJob, NewJob) or decoded from Kubernetes-style YAML
// manifests (DecodeManifests, EncodeManifest); every enum a field takes has
// a constant here. Errors match the sentinels ErrNotFound, ErrInvalid, … with
// errors.Is. docs/client.md is a short tour.
//
// It never imports raft, cluster or worker.
package client
