package cluster

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/raftcron/raftcron/auth"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// access says what a call needs: which certificate roles may make it, and
// what its ACL token must allow. Calls not listed in accessRules need a
// management token, so a new RPC is closed until someone opens it here.
type access struct {
	roles []auth.Role
	// noToken: the call needs no ACL token (join, bootstrap, worker sessions).
	noToken bool
	// anyToken: any valid token will do (WhoAmI).
	anyToken bool
	// verb and scope: the verb the token needs, in the namespaces scope
	// returns for the request (nil scope: any namespace). verb "" needs a
	// management token.
	verb  auth.Verb
	scope func(req any) []string
	// identity, when set, checks the caller's identity against the request.
	identity func(id auth.Identity, req any) error
}

var (
	apiRoles    = []auth.Role{auth.RoleClient, auth.RoleServer} // servers forward clients' calls
	serverRoles = []auth.Role{auth.RoleServer}
	workerRoles = []auth.Role{auth.RoleWorker}
)

func ns(n string) []string { return []string{namespaceOr(n)} }

var accessRules = map[string]access{
	pb.RaftCron_Apply_FullMethodName: {roles: apiRoles, verb: auth.VerbWrite, scope: func(req any) []string {
		var out []string
		for _, r := range req.(*pb.ApplyRequest).GetResources() {
			switch {
			case r.GetCronJob() != nil:
				out = append(out, namespaceOr(r.GetCronJob().GetMetadata().GetNamespace()))
			case r.GetJob() != nil:
				out = append(out, namespaceOr(r.GetJob().GetMetadata().GetNamespace()))
			case r.GetSecret() != nil:
				out = append(out, namespaceOr(r.GetSecret().GetMetadata().GetNamespace()))
			}
		}
		return out
	}},
	pb.RaftCron_Get_FullMethodName: {roles: apiRoles, verb: auth.VerbRead, scope: func(req any) []string {
		return ns(req.(*pb.GetRequest).GetNamespace())
	}},
	pb.RaftCron_List_FullMethodName: {roles: apiRoles, verb: auth.VerbRead, scope: func(req any) []string {
		if r := req.(*pb.ListRequest); !r.GetAllNamespaces() {
			return ns(r.GetNamespace())
		}
		return []string{auth.AllNamespaces}
	}},
	pb.RaftCron_Delete_FullMethodName: {roles: apiRoles, verb: auth.VerbWrite, scope: func(req any) []string {
		return ns(req.(*pb.DeleteRequest).GetNamespace())
	}},
	pb.RaftCron_SetSuspend_FullMethodName: {roles: apiRoles, verb: auth.VerbWrite, scope: func(req any) []string {
		return ns(req.(*pb.SetSuspendRequest).GetNamespace())
	}},
	pb.RaftCron_Trigger_FullMethodName: {roles: apiRoles, verb: auth.VerbTrigger, scope: func(req any) []string {
		return ns(req.(*pb.TriggerRequest).GetNamespace())
	}},
	pb.RaftCron_ListAttempts_FullMethodName: {roles: apiRoles, verb: auth.VerbRead, scope: func(req any) []string {
		if r := req.(*pb.ListAttemptsRequest); !r.GetAllNamespaces() {
			return ns(r.GetNamespace())
		}
		return []string{auth.AllNamespaces}
	}},
	pb.RaftCron_Logs_FullMethodName: {roles: apiRoles, verb: auth.VerbLogs, scope: func(req any) []string {
		return ns(req.(*pb.LogsRequest).GetNamespace())
	}},
	pb.RaftCron_Watch_FullMethodName: {roles: apiRoles, verb: auth.VerbRead, scope: func(req any) []string {
		if r := req.(*pb.WatchRequest); !r.GetAllNamespaces() {
			return ns(r.GetNamespace())
		}
		return []string{auth.AllNamespaces}
	}},
	pb.RaftCron_ListEvents_FullMethodName: {roles: apiRoles, verb: auth.VerbRead, scope: func(req any) []string {
		if r := req.(*pb.ListEventsRequest); !r.GetAllNamespaces() {
			return ns(r.GetNamespace())
		}
		return []string{auth.AllNamespaces}
	}},
	pb.RaftCron_Summary_FullMethodName: {roles: apiRoles, verb: auth.VerbRead, scope: func(req any) []string {
		r := req.(*pb.SummaryRequest)
		switch {
		case r.GetAllNamespaces():
			return []string{auth.AllNamespaces}
		case len(r.GetNamespaces()) == 0:
			return ns("")
		}
		out := make([]string, 0, len(r.GetNamespaces()))
		for _, n := range r.GetNamespaces() {
			out = append(out, namespaceOr(n))
		}
		return out
	}},
	pb.RaftCron_ListWorkers_FullMethodName: {roles: apiRoles, verb: auth.VerbRead},
	// Workers serve every namespace: forgetting one needs management (verb "").
	pb.RaftCron_DeleteWorker_FullMethodName: {roles: apiRoles},
	pb.RaftCron_Members_FullMethodName:      {roles: apiRoles, verb: auth.VerbRead},
	pb.RaftCron_WhoAmI_FullMethodName:       {roles: apiRoles, anyToken: true},
	// Cluster settings: anyone who may read sees them; changing them
	// (UpdateClusterSettings) needs management, as every unlisted call.
	pb.RaftCron_GetClusterSettings_FullMethodName: {roles: apiRoles, verb: auth.VerbRead},
	// Servers join with their own certificate, whose name must be the node
	// id they join as (checked in Join).
	pb.RaftCron_Join_FullMethodName: {roles: serverRoles, noToken: true, identity: func(id auth.Identity, req any) error {
		// A join with an existing id replaces that member, so a server may
		// join only as the node its certificate names.
		if n := req.(*pb.JoinRequest).GetNodeId(); n != id.Name {
			return status.Errorf(codes.PermissionDenied, "join: node %q must join with its own server certificate; this one names %q", n, id.Name)
		}
		return nil
	}},
	pb.RaftCron_ACLBootstrap_FullMethodName: {roles: apiRoles, noToken: true},
	pb.WorkerService_Session_FullMethodName: {roles: workerRoles, noToken: true},
}

// authorizer enforces certificates' roles and ACL tokens on every call,
// and each token's request rate.
type authorizer struct {
	s     *Server
	rates *tokenRates
}

// rule returns what a method needs; unknown methods need management.
func rule(method string) access {
	if r, ok := accessRules[method]; ok {
		return r
	}
	return access{roles: apiRoles}
}

// check authorizes one call with its request (nil for client streams,
// which then need no namespace-scoped verb).
func (z *authorizer) check(ctx context.Context, method string, req any) error {
	r := rule(method)
	id, err := peerIdentity(ctx)
	if err != nil {
		return status.Error(codes.Unauthenticated, err.Error())
	}
	if !roleIn(id.Role, r.roles) {
		return status.Errorf(codes.PermissionDenied, "%s: a %s certificate (%s) may not call %s", method, id.Role, id.Name, shortMethod(method))
	}
	if r.identity != nil && !forwardedByServer(ctx, id) {
		if req == nil {
			return status.Errorf(codes.PermissionDenied, "%s: the request is needed to check the caller", shortMethod(method))
		}
		if err := r.identity(id, req); err != nil {
			return err
		}
	}
	if r.noToken {
		return nil
	}
	tok, err := z.token(ctx)
	if err != nil {
		return err
	}
	now := z.s.cfg.Clock.Now()
	if z.rates != nil && !forwardedByServer(ctx, id) && !z.rates.allow(tok.GetAccessorId(), now) {
		return status.Errorf(codes.ResourceExhausted, "rate limit: token %q made more than %g requests per second (burst %d; server flags --token-rate-limit, --token-rate-burst); retry later",
			tok.GetName(), z.rates.rate, int(z.rates.burst))
	}
	switch {
	case r.anyToken:
		if auth.Expired(tok, now) {
			return authzStatus(auth.Authorize(tok, now, "", ""))
		}
		return nil
	case r.scope == nil:
		return authzStatus(auth.Authorize(tok, now, "", r.verb))
	case req == nil:
		// A namespace-scoped call without its request: management only.
		return authzStatus(auth.Authorize(tok, now, "", ""))
	}
	for _, n := range r.scope(req) {
		if err := auth.Authorize(tok, now, n, r.verb); err != nil {
			return authzStatus(err)
		}
	}
	return nil
}

// authzStatus maps auth's sentinel errors to gRPC codes (cluster/errors.go).
func authzStatus(err error) error { return toStatus(err) }

// token finds the caller's ACL token. A follower that does not know the
// token yet waits briefly for its replica to catch up with what the leader
// committed, so a token is usable on every server right after it is created.
func (z *authorizer) token(ctx context.Context) (*pb.ACLToken, error) {
	secret := bearer(ctx)
	st := z.s.node.State()
	if secret == "" {
		if !st.ACLBootstrapped() {
			return nil, status.Error(codes.Unauthenticated, "no ACL token given, and this cluster's ACLs are not bootstrapped yet: run `raftcron acl bootstrap` and use the management token it prints (RAFTCRON_TOKEN)")
		}
		return nil, status.Error(codes.Unauthenticated, "an ACL token is required: pass --token or set RAFTCRON_TOKEN")
	}
	hash := auth.HashSecret(secret)
	tok := st.ACLTokenBySecretHash(hash)
	if tok == nil && !z.s.node.IsLeader() {
		deadline := time.Now().Add(time.Second)
		for tok == nil && time.Now().Before(deadline) && z.s.node.AppliedIndex() < z.s.node.CommitIndex() {
			select {
			case <-ctx.Done():
				return nil, status.FromContextError(ctx.Err()).Err()
			case <-time.After(10 * time.Millisecond):
			}
			tok = st.ACLTokenBySecretHash(hash)
		}
	}
	if tok == nil {
		return nil, status.Error(codes.Unauthenticated, "the ACL token given is not valid (unknown or revoked)")
	}
	return tok, nil
}

// forwardedByServer: a server passed this call on after checking its
// caller (only a server certificate may say so).
func forwardedByServer(ctx context.Context, id auth.Identity) bool {
	if id.Role != auth.RoleServer {
		return false
	}
	md, _ := metadata.FromIncomingContext(ctx)
	return len(md.Get(forwardedKey)) > 0
}

// bearer is the token secret in the call's metadata, or "".
func bearer(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get(auth.TokenHeader) {
		if s, ok := strings.CutPrefix(v, "Bearer "); ok {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

// peerIdentity is the identity in the caller's verified certificate.
func peerIdentity(ctx context.Context) (auth.Identity, error) {
	p, ok := peer.FromContext(ctx)
	if !ok || p.AuthInfo == nil {
		return auth.Identity{}, errors.New("no TLS client certificate")
	}
	ti, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return auth.Identity{}, errors.New("the connection is not TLS")
	}
	return auth.PeerIdentity(ti.State)
}

func roleIn(r auth.Role, roles []auth.Role) bool {
	for _, x := range roles {
		if x == r {
			return true
		}
	}
	return false
}

func shortMethod(m string) string {
	if i := strings.LastIndexByte(m, '/'); i >= 0 {
		return m[i+1:]
	}
	return m
}

// unary and stream are the gRPC interceptors. With ACLs off (--insecure)
// they let every call through.
func (z *authorizer) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := z.check(ctx, info.FullMethod, req); err != nil {
		z.s.metrics.authFailures.WithLabelValues(shortMethod(info.FullMethod), status.Code(err).String()).Inc()
		return nil, err
	}
	return handler(ctx, req)
}

func (z *authorizer) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	r := rule(info.FullMethod)
	if info.IsClientStream || r.scope == nil {
		// Worker sessions, snapshot restore, and calls without a
		// namespace: decided before the first message.
		if err := z.check(ss.Context(), info.FullMethod, nil); err != nil {
			z.s.metrics.authFailures.WithLabelValues(shortMethod(info.FullMethod), status.Code(err).String()).Inc()
			return err
		}
		return handler(srv, ss)
	}
	return handler(srv, &checkedStream{ServerStream: ss, z: z, method: info.FullMethod})
}

// checkedStream authorizes a server-streaming call on its request, which the
// generated handler reads with the first RecvMsg.
type checkedStream struct {
	grpc.ServerStream
	z       *authorizer
	method  string
	checked bool
}

func (c *checkedStream) RecvMsg(m any) error {
	if err := c.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if !c.checked {
		c.checked = true
		if err := c.z.check(c.Context(), c.method, m); err != nil {
			c.z.s.metrics.authFailures.WithLabelValues(shortMethod(c.method), status.Code(err).String()).Inc()
			return err
		}
	}
	return nil
}

// Default per-token request rate (cluster.Config.RateLimit, --token-rate-limit).
const (
	DefaultTokenRateLimit = 100.0
	DefaultTokenRateBurst = 200
)

// tokenRates is a token bucket per ACL token (by accessor id): each holds
// up to burst requests and refills at rate per second.
type tokenRates struct {
	rate, burst float64
	mu          sync.Mutex
	buckets     map[string]*rateBucket
}

type rateBucket struct {
	tokens float64
	last   time.Time
}

// newTokenRates returns nil (no limit) for a negative rate.
func newTokenRates(rate float64, burst int) *tokenRates {
	if rate == 0 {
		rate = DefaultTokenRateLimit
	}
	if rate < 0 {
		return nil
	}
	if burst <= 0 {
		burst = DefaultTokenRateBurst
	}
	return &tokenRates{rate: rate, burst: float64(burst), buckets: map[string]*rateBucket{}}
}

// allow takes one request from key's bucket, if it holds one.
func (r *tokenRates) allow(key string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.buckets[key]
	if b == nil {
		b = &rateBucket{tokens: r.burst, last: now}
		r.buckets[key] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(r.burst, b.tokens+el*r.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
