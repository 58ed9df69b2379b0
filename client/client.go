package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/raftcron/raftcron/auth"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// Kinds of objects, as the API names them.
const (
	KindCronJob = pb.KindCronJob
	KindJob     = pb.KindJob
	KindSecret  = pb.KindSecret
)

// Sentinel errors. Errors returned by a Client wrap one of these where the
// server's gRPC code maps to it, so errors.Is works; the error's text is the
// server's message. The first four are raftcron's domain errors
// (proto/raftcron/v1/errors.go), the same values the server and the
// scheduler use.
var (
	// ErrNotFound: the named object does not exist (codes.NotFound).
	ErrNotFound = pb.ErrNotFound
	// ErrInvalid: the request or a manifest was rejected (codes.InvalidArgument).
	// DecodeManifests' errors match it too.
	ErrInvalid = pb.ErrInvalid
	// ErrAlreadyExists: an object of that name exists (codes.AlreadyExists).
	ErrAlreadyExists = pb.ErrAlreadyExists
	// ErrFailedPrecondition: the cluster's state does not allow the request
	// (codes.FailedPrecondition; the server's ErrConflict).
	ErrFailedPrecondition = pb.ErrConflict
	// ErrUnauthenticated: no valid ACL token or client certificate (codes.Unauthenticated).
	ErrUnauthenticated = auth.ErrUnauthenticated
	// ErrPermissionDenied: the token or certificate may not do this (codes.PermissionDenied).
	ErrPermissionDenied = auth.ErrPermissionDenied
	// ErrJobFailed: WaitJob waited for a Job that failed or can no longer reach the condition.
	ErrJobFailed = errors.New("job failed")
	// ErrLimitExceeded: a server limit or quota refused the call
	// (codes.ResourceExhausted); the message names the limit.
	ErrLimitExceeded = pb.ErrLimitExceeded
)

// Config says how to reach a raftcron cluster.
type Config struct {
	// Servers are the gRPC addresses (host:port) of any servers of the
	// cluster. Calls go to one of them and move on to the next when it
	// cannot be reached.
	Servers []string
	// DialTimeout bounds how long the client waits for one server's
	// connection before it tries the next (default 5s).
	DialTimeout time.Duration
	// PollInterval is unused: WaitJob watches the Job (kept so that
	// existing configs still compile).
	PollInterval time.Duration

	// TLS is the client's certificate (role client) and the cluster CA, as
	// auth.LoadCredentials reads them. Without it Insecure must be set.
	TLS *auth.Credentials
	// Insecure dials plaintext, for servers started with --insecure.
	Insecure bool
	// Token is the ACL token secret sent with every call.
	Token string

	// KeepAlive is how often an idle connection is pinged to find a dead
	// server or a dropped NAT entry before a call does (default 30s;
	// negative turns pings off). A server that does not answer a ping
	// within KeepAliveTimeout (default 10s) is given up on.
	KeepAlive        time.Duration
	KeepAliveTimeout time.Duration
	// CallTimeout bounds every unary call, retries included, whose context
	// has no earlier deadline (default: none; the context alone decides).
	// Streams (Logs with Follow, Watch) are not bounded by it.
	CallTimeout time.Duration
	// UserAgent names the program in the servers' logs (sent before
	// grpc-go's own user agent).
	UserAgent string
	// Logger receives the client's retries at Debug level (a server that
	// cannot be reached, an election in progress). Default: nothing is logged.
	Logger *slog.Logger
	// ChunkSize is how many items each List call asks for; lists are read
	// page by page with continue tokens (0 = the server's page size).
	ChunkSize int32
}

// Client talks to a raftcron cluster. Servers forward writes to the leader;
// while the cluster has no leader, or a server cannot be reached, calls are
// retried with exponential backoff across the server list until their
// context is done. Give every call a context with a deadline.
//
// A Client is safe for concurrent use.
type Client struct {
	servers      []string
	conns        []*grpc.ClientConn
	rpcs         []pb.RaftCronClient
	dialTimeout  time.Duration
	chunkSize    int32
	pollInterval time.Duration
	callTimeout  time.Duration
	logger       *slog.Logger
	// insecure: plaintext, which a server with TLS never answers.
	insecure bool
	cur      atomic.Uint32
	// index is the highest Raft index a server reported after a write;
	// reads carry it so that they see this client's writes.
	index atomic.Uint64
}

// New prepares connections to every server. It does not block: connections
// are made on first use.
func New(cfg Config) (*Client, error) {
	if len(cfg.Servers) == 0 {
		return nil, errors.New("client config: servers: at least one address is required")
	}
	c := &Client{dialTimeout: cfg.DialTimeout, pollInterval: cfg.PollInterval, callTimeout: cfg.CallTimeout, chunkSize: cfg.ChunkSize, logger: cfg.Logger}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	c.logger = c.logger.With("component", "raftcron-client")
	if c.dialTimeout <= 0 {
		c.dialTimeout = 5 * time.Second
	}
	if c.pollInterval <= 0 {
		c.pollInterval = 500 * time.Millisecond
	}
	var dialOpts []grpc.DialOption
	switch {
	case cfg.TLS != nil && cfg.Insecure:
		return nil, errors.New("client config: TLS and Insecure: choose one")
	case cfg.TLS != nil:
		dialOpts = append(dialOpts, grpc.WithTransportCredentials(credentials.NewTLS(cfg.TLS.ClientTLS())))
		if cfg.Token != "" {
			dialOpts = append(dialOpts, grpc.WithPerRPCCredentials(auth.BearerToken(cfg.Token)))
		}
	case cfg.Insecure:
		dialOpts = append(dialOpts, grpc.WithTransportCredentials(insecure.NewCredentials()))
		c.insecure = true
	default:
		return nil, errors.New("client config: TLS credentials are required (RAFTCRON_CACERT, RAFTCRON_CLIENT_CERT, RAFTCRON_CLIENT_KEY), or Insecure for a server started with --insecure")
	}
	connect := grpc.ConnectParams{
		Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 2 * time.Second},
		MinConnectTimeout: c.dialTimeout,
	}
	dialOpts = append(dialOpts, grpc.WithConnectParams(connect),
		grpc.WithChainUnaryInterceptor(c.readYourWrites))
	if cfg.KeepAlive >= 0 {
		ka := keepalive.ClientParameters{Time: cfg.KeepAlive, Timeout: cfg.KeepAliveTimeout, PermitWithoutStream: true}
		if ka.Time == 0 {
			ka.Time = 30 * time.Second
		}
		if ka.Timeout <= 0 {
			ka.Timeout = 10 * time.Second
		}
		dialOpts = append(dialOpts, grpc.WithKeepaliveParams(ka))
	}
	if cfg.UserAgent != "" {
		dialOpts = append(dialOpts, grpc.WithUserAgent(cfg.UserAgent))
	}
	for _, addr := range cfg.Servers {
		addr = strings.TrimSpace(addr)
		if addr == "" {
			_ = c.Close()
			return nil, errors.New("client config: servers: empty address")
		}
		conn, err := grpc.NewClient(addr, dialOpts...)
		if err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("dial %s: %w", addr, err)
		}
		c.servers = append(c.servers, addr)
		c.conns = append(c.conns, conn)
		c.rpcs = append(c.rpcs, pb.NewRaftCronClient(conn))
	}
	return c, nil
}

// Close closes every connection.
func (c *Client) Close() error {
	var errs []error
	for _, conn := range c.conns {
		errs = append(errs, conn.Close())
	}
	return errors.Join(errs...)
}

// Apply creates or updates CronJobs and Jobs. With dryRun the server
// validates and reports what would change, and writes nothing. Apply is
// idempotent, so it is retried across leader changes.
func (c *Client) Apply(ctx context.Context, resources []*pb.Resource, dryRun bool) ([]*pb.ApplyResult, error) {
	var out []*pb.ApplyResult
	err := c.do(ctx, "apply", func(ctx context.Context, rpc pb.RaftCronClient, _ attemptInfo) error {
		resp, err := rpc.Apply(ctx, &pb.ApplyRequest{Resources: resources, DryRun: dryRun})
		if err != nil {
			return err
		}
		out = resp.GetResults()
		return nil
	})
	return out, err
}

// get reads one object.
func (c *Client) get(ctx context.Context, kind, namespace, name string) (*pb.Resource, error) {
	var out *pb.Resource
	err := c.do(ctx, "get "+strings.ToLower(kind), func(ctx context.Context, rpc pb.RaftCronClient, _ attemptInfo) error {
		res, err := rpc.Get(ctx, &pb.GetRequest{Kind: kind, Namespace: namespace, Name: name})
		if err != nil {
			return err
		}
		out = res
		return nil
	})
	return out, err
}

// GetCronJob reads one CronJob.
func (c *Client) GetCronJob(ctx context.Context, namespace, name string) (*pb.CronJob, error) {
	res, err := c.get(ctx, KindCronJob, namespace, name)
	if err != nil {
		return nil, err
	}
	if res.GetCronJob() == nil {
		return nil, fmt.Errorf("get cronjob %q: the server answered with another kind", name)
	}
	return res.GetCronJob(), nil
}

// GetJob reads one Job.
func (c *Client) GetJob(ctx context.Context, namespace, name string) (*pb.Job, error) {
	res, err := c.get(ctx, KindJob, namespace, name)
	if err != nil {
		return nil, err
	}
	if res.GetJob() == nil {
		return nil, fmt.Errorf("get job %q: the server answered with another kind", name)
	}
	return res.GetJob(), nil
}

// GetSecret reads one Secret; its data values read REDACTED (no API returns
// them).
func (c *Client) GetSecret(ctx context.Context, namespace, name string) (*pb.Secret, error) {
	res, err := c.get(ctx, KindSecret, namespace, name)
	if err != nil {
		return nil, err
	}
	if res.GetSecret() == nil {
		return nil, fmt.Errorf("get secret %q: the server answered with another kind", name)
	}
	return res.GetSecret(), nil
}

// ListSecrets lists the Secrets of a namespace ("" for every namespace),
// values redacted.
func (c *Client) ListSecrets(ctx context.Context, namespace string) ([]*pb.Secret, error) {
	items, err := c.list(ctx, &pb.ListRequest{Kind: KindSecret, Namespace: namespace, AllNamespaces: namespace == ""})
	if err != nil {
		return nil, err
	}
	out := make([]*pb.Secret, 0, len(items))
	for _, it := range items {
		if s := it.GetSecret(); s != nil {
			out = append(out, s)
		}
	}
	return out, nil
}

// list reads the objects of one kind.
func (c *Client) list(ctx context.Context, req *pb.ListRequest) ([]*pb.Resource, error) {
	var out []*pb.Resource
	err := c.do(ctx, "list "+strings.ToLower(req.GetKind())+"s", func(ctx context.Context, rpc pb.RaftCronClient, _ attemptInfo) error {
		out = nil
		req := proto.Clone(req).(*pb.ListRequest)
		req.Limit = c.chunkSize
		for {
			resp, err := rpc.List(ctx, req)
			if err != nil {
				return err
			}
			out = append(out, resp.GetItems()...)
			if resp.GetContinue() == "" {
				return nil
			}
			req.Continue = resp.GetContinue()
		}
	})
	return out, err
}

// ListCronJobs lists the CronJobs of a namespace; "" lists every namespace.
func (c *Client) ListCronJobs(ctx context.Context, namespace string) ([]*pb.CronJob, error) {
	items, err := c.list(ctx, &pb.ListRequest{Kind: KindCronJob, Namespace: namespace, AllNamespaces: namespace == ""})
	if err != nil {
		return nil, err
	}
	out := make([]*pb.CronJob, 0, len(items))
	for _, it := range items {
		if cj := it.GetCronJob(); cj != nil {
			out = append(out, cj)
		}
	}
	return out, nil
}

// ListJobs lists the Jobs of a namespace ("" for every namespace), only those
// of cronJob when it is not empty.
func (c *Client) ListJobs(ctx context.Context, namespace, cronJob string) ([]*pb.Job, error) {
	items, err := c.list(ctx, &pb.ListRequest{Kind: KindJob, Namespace: namespace, AllNamespaces: namespace == "", CronJob: cronJob})
	if err != nil {
		return nil, err
	}
	out := make([]*pb.Job, 0, len(items))
	for _, it := range items {
		if j := it.GetJob(); j != nil {
			out = append(out, j)
		}
	}
	return out, nil
}

// Delete deletes a CronJob or a Job (kind "CronJob" or "Job"). A delete that
// is retried after the cluster may already have applied it, and then finds
// nothing, succeeds.
func (c *Client) Delete(ctx context.Context, kind, namespace, name string) error {
	kind = CanonicalKind(kind)
	return c.do(ctx, "delete "+strings.ToLower(kind), func(ctx context.Context, rpc pb.RaftCronClient, info attemptInfo) error {
		_, err := rpc.Delete(ctx, &pb.DeleteRequest{Kind: kind, Namespace: namespace, Name: name})
		if info.Sent && status.Code(err) == codes.NotFound {
			return nil
		}
		return err
	})
}

// SetSuspend suspends (true) or resumes (false) a CronJob or a Job.
func (c *Client) SetSuspend(ctx context.Context, kind, namespace, name string, suspend bool) error {
	kind = CanonicalKind(kind)
	op := "resume "
	if suspend {
		op = "suspend "
	}
	return c.do(ctx, op+strings.ToLower(kind), func(ctx context.Context, rpc pb.RaftCronClient, _ attemptInfo) error {
		_, err := rpc.SetSuspend(ctx, &pb.SetSuspendRequest{Kind: kind, Namespace: namespace, Name: name, Suspend: suspend})
		return err
	})
}

// Trigger creates a Job from a CronJob's template now, outside its schedule.
// jobName defaults to <cronJob>-manual-<unix seconds>; the client picks the
// name before the first attempt so that a retried trigger makes one Job, and
// a retry that finds the Job made by an earlier attempt returns it: a trigger
// that succeeded never comes back as an error.
func (c *Client) Trigger(ctx context.Context, namespace, cronJob, jobName string) (*pb.Job, error) {
	return c.trigger(ctx, &pb.TriggerRequest{Namespace: namespace, CronJob: cronJob, JobName: jobName})
}

// TriggerWithUpstreams runs a CronJob's upstreams (spec.dependsOn,
// transitively) now, in order, each once its own upstreams succeeded, and
// the CronJob only if they all succeed. The leader holds the plan (the
// waiting runs are replicated), so it goes on if this client goes away. The
// Job returned is the CronJob's, not yet created: its annotation
// raftcron.io/upstream-jobs names the Jobs it waits for. A CronJob without
// upstreams is triggered as by Trigger.
func (c *Client) TriggerWithUpstreams(ctx context.Context, namespace, cronJob, jobName string) (*pb.Job, error) {
	return c.trigger(ctx, &pb.TriggerRequest{Namespace: namespace, CronJob: cronJob, JobName: jobName, WithUpstreams: true})
}

func (c *Client) trigger(ctx context.Context, req *pb.TriggerRequest) (*pb.Job, error) {
	namespace, cronJob, jobName := req.GetNamespace(), req.GetCronJob(), req.GetJobName()
	if jobName == "" {
		jobName = fmt.Sprintf("%s-manual-%d", cronJob, time.Now().Unix())
		req.JobName = jobName
	}
	var out *pb.Job
	err := c.do(ctx, "trigger cronjob", func(ctx context.Context, rpc pb.RaftCronClient, info attemptInfo) error {
		job, err := rpc.Trigger(ctx, req)
		if info.Sent && status.Code(err) == codes.AlreadyExists {
			// An earlier attempt created it. The AlreadyExists answer
			// carried the leader's index, so this read sees the Job (or
			// is Unavailable, and the whole trigger is retried).
			res, gerr := rpc.Get(ctx, &pb.GetRequest{Kind: KindJob, Namespace: namespace, Name: jobName})
			if gerr != nil && req.GetWithUpstreams() && status.Code(gerr) == codes.NotFound {
				// The earlier attempt's run waits for its upstreams.
				out = &pb.Job{Metadata: &pb.ObjectMeta{Name: jobName, Namespace: namespace}}
				return nil
			}
			if gerr != nil {
				return gerr
			}
			if res.GetJob() != nil {
				out = res.GetJob()
				return nil
			}
		}
		if err != nil {
			return err
		}
		out = job
		return nil
	})
	return out, err
}

// readYourWrites sends the highest Raft index this client has seen with
// every call (pb.MetadataMinIndex) and records the index servers return
// (pb.MetadataIndex), so a read through any server sees this client's
// earlier writes.
func (c *Client) readYourWrites(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if n := c.index.Load(); n > 0 {
		ctx = metadata.AppendToOutgoingContext(ctx, pb.MetadataMinIndex, strconv.FormatUint(n, 10))
	}
	var header, trailer metadata.MD
	err := invoker(ctx, method, req, reply, cc, append(opts, grpc.Header(&header), grpc.Trailer(&trailer))...)
	for _, md := range []metadata.MD{header, trailer} {
		for _, v := range md.Get(pb.MetadataIndex) {
			if n, perr := strconv.ParseUint(v, 10, 64); perr == nil {
				c.sawIndex(n)
			}
		}
	}
	return err
}

// sawIndex raises the client's index to n.
func (c *Client) sawIndex(n uint64) {
	for {
		cur := c.index.Load()
		if n <= cur || c.index.CompareAndSwap(cur, n) {
			return
		}
	}
}

// ListAttempts lists the attempts of a Job; job "" lists every attempt of the namespace.
func (c *Client) ListAttempts(ctx context.Context, namespace, job string) ([]*pb.Attempt, error) {
	return c.listAttempts(ctx, &pb.ListAttemptsRequest{Namespace: namespace, Job: job})
}

// ListAttemptsAllNamespaces lists the attempts of every namespace.
func (c *Client) ListAttemptsAllNamespaces(ctx context.Context) ([]*pb.Attempt, error) {
	return c.listAttempts(ctx, &pb.ListAttemptsRequest{AllNamespaces: true})
}

func (c *Client) listAttempts(ctx context.Context, first *pb.ListAttemptsRequest) ([]*pb.Attempt, error) {
	var out []*pb.Attempt
	err := c.do(ctx, "list attempts", func(ctx context.Context, rpc pb.RaftCronClient, _ attemptInfo) error {
		out = nil
		req := proto.Clone(first).(*pb.ListAttemptsRequest)
		req.Limit = c.chunkSize
		for {
			resp, err := rpc.ListAttempts(ctx, req)
			if err != nil {
				return err
			}
			out = append(out, resp.GetAttempts()...)
			if resp.GetContinue() == "" {
				return nil
			}
			req.Continue = resp.GetContinue()
		}
	})
	return out, err
}

// ListWorkers lists the workers the cluster knows: connected ones (Ready)
// and lost ones, until the cluster's lost worker retention passes.
func (c *Client) ListWorkers(ctx context.Context) ([]*pb.Worker, error) {
	return c.ListWorkersInState(ctx, "")
}

// ListWorkersInState lists the workers in one state, pb.WorkerReady,
// pb.WorkerDraining or pb.WorkerLost ("" lists all).
func (c *Client) ListWorkersInState(ctx context.Context, state string) ([]*pb.Worker, error) {
	var out []*pb.Worker
	err := c.do(ctx, "list workers", func(ctx context.Context, rpc pb.RaftCronClient, _ attemptInfo) error {
		resp, err := rpc.ListWorkers(ctx, &pb.ListWorkersRequest{State: state})
		if err != nil {
			return err
		}
		out = resp.GetWorkers()
		return nil
	})
	return out, err
}

// DeleteWorker forgets a lost worker, so it is no longer listed. The
// attempts it held are handled as before (Lost once their leases run out).
// A connected worker is refused (ErrConflict); a retried delete that finds
// the worker already gone succeeds.
func (c *Client) DeleteWorker(ctx context.Context, id string) error {
	return c.do(ctx, "delete worker", func(ctx context.Context, rpc pb.RaftCronClient, info attemptInfo) error {
		_, err := rpc.DeleteWorker(ctx, &pb.DeleteWorkerRequest{Id: id})
		if info.Sent && status.Code(err) == codes.NotFound {
			return nil
		}
		return err
	})
}

// noRetry marks an error that must not be retried even if its code says Unavailable.
type noRetry struct{ err error }

func (e noRetry) Error() string { return e.err.Error() }
func (e noRetry) Unwrap() error { return e.err }

// Members lists the servers of the Raft configuration.
func (c *Client) Members(ctx context.Context) ([]*pb.Member, error) {
	var out []*pb.Member
	err := c.do(ctx, "cluster members", func(ctx context.Context, rpc pb.RaftCronClient, _ attemptInfo) error {
		resp, err := rpc.Members(ctx, &pb.MembersRequest{})
		if err != nil {
			return err
		}
		out = resp.GetMembers()
		return nil
	})
	return out, err
}

// RemovePeer removes a server from the Raft configuration. A retried remove
// that finds the server already gone succeeds.
func (c *Client) RemovePeer(ctx context.Context, nodeID string) error {
	return c.do(ctx, "remove peer", func(ctx context.Context, rpc pb.RaftCronClient, info attemptInfo) error {
		_, err := rpc.RemovePeer(ctx, &pb.RemovePeerRequest{NodeId: nodeID})
		if info.Sent && status.Code(err) == codes.NotFound {
			return nil
		}
		return err
	})
}

// WaitJob watches a Job until its condition (Complete, Failed or Suspended)
// is True and returns the Job. Waiting for Complete ends with an error
// wrapping ErrJobFailed when the Job fails instead; waiting for Failed ends
// with such an error when the Job completes. A Job that does not exist, or is
// deleted while waiting, is ErrNotFound. It gives up when ctx is done.
func (c *Client) WaitJob(ctx context.Context, namespace, name, condition string) (*pb.Job, error) {
	cond, ok := canonicalCondition(condition)
	if !ok {
		return nil, fmt.Errorf("wait job %q: condition %q: %w: want Complete, Failed or Suspended", name, condition, ErrInvalid)
	}
	var last *pb.Job
	for ev, err := range c.Watch(ctx, KindJob, WatchOptions{Namespace: namespace, Name: name}) {
		if err != nil {
			if !endsAtDeadline(ctx, err) {
				return last, err
			}
			break // ctx is done: report the timeout below
		}
		switch {
		case ev.GetType() == Bookmark && last == nil, ev.GetType() == Deleted:
			ns := namespace
			if ns == "" {
				ns = pb.DefaultNamespace
			}
			return last, fmt.Errorf("wait job: job %q not found in namespace %q: %w", name, ns, ErrNotFound)
		case ev.GetJob() == nil:
			continue
		}
		job := ev.GetJob()
		last = job
		if c := FindCondition(job, cond); c != nil {
			return job, nil
		}
		switch cond {
		case ConditionComplete:
			if f := FindCondition(job, ConditionFailed); f != nil {
				return job, fmt.Errorf("job %q failed: %s: %s: %w", name, f.GetReason(), f.GetMessage(), ErrJobFailed)
			}
		case ConditionFailed:
			if FindCondition(job, ConditionComplete) != nil {
				return job, fmt.Errorf("job %q completed; it will not fail: %w", name, ErrJobFailed)
			}
		}
	}
	// The watch ends without an error only when ctx is done.
	if last == nil {
		return nil, fmt.Errorf("wait job %q for condition %s: %w", name, cond, ctx.Err())
	}
	return last, fmt.Errorf("wait job %q for condition %s: %w (status: %s)", name, cond, ctx.Err(), JobStatusText(last))
}

// endsAtDeadline reports whether err is a stream cancelled by its server
// just before ctx's deadline, and then waits until ctx is done. The deadline
// a server is sent is rounded down, so its end of a stream may come a
// moment before the caller's context reports it.
func endsAtDeadline(ctx context.Context, err error) bool {
	d, ok := ctx.Deadline()
	if !ok || time.Until(d) > time.Second {
		return false
	}
	switch status.Code(err) {
	case codes.Canceled, codes.DeadlineExceeded:
	default:
		if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			return false
		}
	}
	sleep(ctx, time.Until(d)+100*time.Millisecond)
	return ctx.Err() != nil
}

// FindCondition returns the Job's condition of type typ when its status is
// "True", or nil.
func FindCondition(job *pb.Job, typ string) *pb.JobCondition {
	for _, c := range job.GetStatus().GetConditions() {
		if strings.EqualFold(c.GetType(), typ) && strings.EqualFold(c.GetStatus(), pb.ConditionTrue) {
			return c
		}
	}
	return nil
}

// JobStatusText is a Job's state in one word, as `get jobs` shows it:
// Complete, Failed, Suspended, Running or Pending.
func JobStatusText(job *pb.Job) string {
	switch {
	case FindCondition(job, ConditionComplete) != nil:
		return ConditionComplete
	case FindCondition(job, ConditionFailed) != nil:
		return ConditionFailed
	case FindCondition(job, ConditionSuspended) != nil:
		return ConditionSuspended
	case job.GetStatus().GetActive() > 0:
		return "Running"
	default:
		return "Pending"
	}
}

// canonicalCondition maps a condition name in any case to its API spelling.
func canonicalCondition(s string) (string, bool) {
	for _, c := range []string{ConditionComplete, ConditionFailed, ConditionSuspended} {
		if strings.EqualFold(s, c) {
			return c, true
		}
	}
	return s, false
}

// CanonicalKind maps the names users type for a kind (cronjob, cronjobs, cj,
// CronJob; job, jobs) to the API's kind. Other strings are returned as given.
func CanonicalKind(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "cronjob", "cronjobs", "cj", "cronjob.batch", "cronjobs.batch":
		return KindCronJob
	case "job", "jobs", "job.batch", "jobs.batch":
		return KindJob
	case "secret", "secrets":
		return KindSecret
	}
	return s
}

// apiError is an error answered by a server: its text is the server's message.
type apiError struct {
	st       *status.Status
	sentinel error
}

func (e *apiError) Error() string              { return e.st.Message() }
func (e *apiError) Unwrap() error              { return e.sentinel }
func (e *apiError) GRPCStatus() *status.Status { return e.st }

// toError turns an error from a call into the client's error: gRPC statuses
// become errors whose text is the server's message and that wrap the
// matching sentinel.
func toError(err error) error {
	if err == nil {
		return nil
	}
	var nr noRetry
	if errors.As(err, &nr) {
		err = nr.err
	}
	var ce *connError
	if errors.As(err, &ce) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	var sentinel error
	switch st.Code() {
	case codes.NotFound:
		sentinel = ErrNotFound
	case codes.InvalidArgument:
		sentinel = ErrInvalid
	case codes.AlreadyExists:
		sentinel = ErrAlreadyExists
	case codes.FailedPrecondition:
		sentinel = ErrFailedPrecondition
	case codes.Unauthenticated:
		sentinel = ErrUnauthenticated
	case codes.PermissionDenied:
		sentinel = ErrPermissionDenied
	case codes.ResourceExhausted:
		sentinel = ErrLimitExceeded
	case codes.DeadlineExceeded:
		sentinel = context.DeadlineExceeded
	case codes.Canceled:
		sentinel = context.Canceled
	}
	return &apiError{st: st, sentinel: sentinel}
}

// ClusterSettings reads the replicated cluster settings (worker heartbeat
// interval, worker TTL, lease TTL).
func (c *Client) ClusterSettings(ctx context.Context) (*pb.ClusterSettings, error) {
	var out *pb.ClusterSettings
	err := c.do(ctx, "cluster settings", func(ctx context.Context, rpc pb.RaftCronClient, _ attemptInfo) error {
		resp, err := rpc.GetClusterSettings(ctx, &pb.GetClusterSettingsRequest{})
		if err != nil {
			return err
		}
		out = resp
		return nil
	})
	return out, err
}

// UpdateClusterSettings changes the fields set in change (the others keep
// their value) and returns the settings in force. It is idempotent, so it is
// retried across leader changes.
func (c *Client) UpdateClusterSettings(ctx context.Context, change *pb.ClusterSettings) (*pb.ClusterSettings, error) {
	var out *pb.ClusterSettings
	err := c.do(ctx, "update cluster settings", func(ctx context.Context, rpc pb.RaftCronClient, _ attemptInfo) error {
		resp, err := rpc.UpdateClusterSettings(ctx, &pb.UpdateClusterSettingsRequest{Settings: change})
		if err != nil {
			return err
		}
		out = resp
		return nil
	})
	return out, err
}
