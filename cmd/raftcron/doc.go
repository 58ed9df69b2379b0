// Command raftcron is the one binary: `server`, `worker`, `dev`, and the
// kubectl-like client verbs. One file per verb; flags, config, signals and
// output formatting only, no business logic.
package main
