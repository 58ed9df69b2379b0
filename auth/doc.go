// Package auth owns who may talk to a raftcron cluster and what they may do.
//
// Certificates: a cluster has one CA (ECDSA P-256, made by CreateCA). Every
// leaf certificate it signs names a role and a name in a URI SAN
// "raftcron://<role>/<name>": role server (a Raft member; its name is the
// node id), worker (its name is the worker id) or client (a person or a
// program using the API). Peers are identified by the cluster CA and that
// role, not by host name, so a server reachable under any address is still
// verified (Nomad checks "server.<region>.nomad" for the same reason).
// TLSConfigs builds the tls.Config for each side: a Raft listener accepts only
// servers, the gRPC listener accepts every role and the API decides per call,
// and everything that dials a server accepts only a server certificate.
//
// Tokens: Nomad-style ACL tokens, scoped to namespaces and verbs (read, write,
// trigger, logs) or of type management. Only the SHA-256 of a token's secret
// is stored (tokens are 256-bit random, so a slow hash adds nothing). Authorize
// is a pure function over a stored token, the time and the request.
//
// auth imports only the generated protobuf package and scheduler (for the
// namespace rule); gRPC interceptors that
// call it live in cluster/ (servers) and worker/ (the worker's dial).
package auth
