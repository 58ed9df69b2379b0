// Package ui is the web dashboard every server serves under /ui/ on its HTTP
// port: server-rendered pages (html/template), charts drawn as SVG on the
// server, and its templates and static assets embedded with embed. No
// JavaScript build step; a small script only refreshes pages and asks for
// confirmations.
//
// The dashboard reads and acts through the same client-facing API as the CLI:
// every request goes through a client.Client that dials its server's gRPC
// address with the server's own certificate (Config.TLS) and carries the
// viewer's ACL token, so the server's ACLs decide what a viewer sees and
// may do. Live updates follow the API's Watch stream (server-sent events). It never reads the
// replicated state directly: it must not import cluster/, raft/ or worker/.
package ui
