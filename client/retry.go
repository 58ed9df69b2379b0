package client

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// Retry timing: the first retry waits minBackoff, each further one twice as
// long, capped at maxBackoff.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = time.Second
)

// attemptInfo tells a call function about earlier attempts of the same call.
type attemptInfo struct {
	// Sent is true when an earlier attempt reached a server and came back
	// Unavailable, so a write may already have been applied.
	Sent bool
}

// do runs fn against one server after another until it succeeds, fails with
// an error that retrying cannot fix, or ctx is done. Unavailable answers (a
// server without a leader during an election, a dropped connection) and
// servers that cannot be reached are retried on the next server with
// exponential backoff.
//
// do bounds the whole call by Config.CallTimeout; retry is do without that
// bound, for streams that last as long as their caller wants.
func (c *Client) do(ctx context.Context, op string, fn func(ctx context.Context, rpc pb.RaftCronClient, info attemptInfo) error) error {
	if c.callTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.callTimeout)
		defer cancel()
	}
	return c.retry(ctx, op, fn)
}

func (c *Client) retry(ctx context.Context, op string, fn func(ctx context.Context, rpc pb.RaftCronClient, info attemptInfo) error) error {
	wait := minBackoff
	var info attemptInfo
	var last error
	start := time.Now()
	// unreached: the servers this call could not connect to, while it has
	// reached none; once it has tried them all for unreachableAfter, no
	// server is up (or the addresses are wrong) and retrying longer only hides it.
	unreached := map[int]bool{}
	for attempt := 0; ; attempt++ {
		i := c.current()
		timeout := c.dialTimeout
		if unreached != nil {
			// Nothing reached yet: spend no more than the budget left.
			timeout = min(timeout, max(unreachableAfter-time.Since(start), 100*time.Millisecond))
		}
		err := c.ready(ctx, i, timeout)
		var ce *connError
		if errors.As(err, &ce) && unreached != nil {
			unreached[i] = true
			if len(unreached) == len(c.servers) && time.Since(start)+wait >= unreachableAfter {
				return fmt.Errorf("%s: %w: tried %s for %s%s", op, ErrNoServer, strings.Join(c.servers, ", "), time.Since(start).Round(100*time.Millisecond), c.plaintextHint())
			}
		} else if err == nil {
			unreached = nil // a server answered: the cluster is there
		}
		if err == nil {
			err = fn(ctx, c.rpcs[i], info)
			if err == nil {
				return nil
			}
			if status.Code(err) == codes.Unavailable {
				info.Sent = true
			}
		}
		if !retryable(ctx, err) {
			if last != nil && ctx.Err() != nil {
				return unavailableError(op, ctx, last)
			}
			return toError(err)
		}
		if last == nil || !isConnError(err) || isConnError(last) {
			// A server's answer (say, no leader elected yet) says more than
			// failing to connect to another one, which is likely just down.
			last = err
		}
		c.logger.Debug("retrying on the next server", "op", op, "server", c.servers[i], "attempt", attempt+1, "wait", wait, "err", err)
		c.rotate(i)
		if !sleep(ctx, wait) {
			return unavailableError(op, ctx, last)
		}
		wait = min(wait*2, maxBackoff)
	}
}

// unreachableAfter is how long a call tries servers none of which it can
// connect to before it fails with ErrNoServer.
const unreachableAfter = 3 * time.Second

// ErrNoServer: none of the configured servers could be connected to.
var ErrNoServer = errors.New("no raftcron server could be reached")

// retryable reports whether err is worth another attempt on some server.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var nr noRetry
	if errors.As(err, &nr) {
		return false
	}
	return isConnError(err) || status.Code(err) == codes.Unavailable
}

func isConnError(err error) bool {
	var ce *connError
	return errors.As(err, &ce)
}

// connError means a server could not be reached at all.
type connError struct {
	addr  string
	state connectivity.State
	// plaintext: the client dialled without TLS.
	plaintext bool
}

func (e *connError) Error() string {
	msg := fmt.Sprintf("cannot connect to server %s (%s)", e.addr, strings.ToLower(e.state.String()))
	if e.plaintext {
		msg += plaintextHint
	}
	return msg
}

// plaintextHint: a server with TLS (the default) closes a plaintext
// connection without a word, so a plaintext client that connects nowhere
// says that this is the usual cause.
const plaintextHint = "; this client is in plaintext (--insecure), which a server with TLS refuses: drop --insecure and give the cluster CA and a client certificate"

func (c *Client) plaintextHint() string {
	if c.insecure {
		return plaintextHint
	}
	return ""
}

// ready waits until the connection to server i is usable, for at most the
// dial timeout. A connection that failed or does not come up in time is a
// *connError, and the caller moves on to the next server.
func (c *Client) ready(ctx context.Context, i int, timeout time.Duration) error {
	conn := c.conns[i]
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		st := conn.GetState()
		switch st {
		case connectivity.Ready:
			return nil
		case connectivity.Shutdown:
			return noRetry{errors.New("the client is closed")}
		case connectivity.TransientFailure:
			conn.Connect()
			return &connError{addr: c.servers[i], state: st, plaintext: c.insecure}
		case connectivity.Idle:
			conn.Connect()
		}
		if !conn.WaitForStateChange(wctx, st) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return &connError{addr: c.servers[i], state: conn.GetState(), plaintext: c.insecure}
		}
	}
}

// current is the index of the server the next call goes to.
func (c *Client) current() int {
	return int(c.cur.Load() % uint32(len(c.rpcs)))
}

// rotate moves on from server i to the next one (unless another call already did).
func (c *Client) rotate(i int) {
	c.cur.CompareAndSwap(uint32(i), uint32((i+1)%len(c.rpcs)))
}

// sleep waits d or until ctx is done; it reports whether the full time passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// unavailableError explains why a call gave up after retrying.
func unavailableError(op string, ctx context.Context, last error) error {
	msg := last.Error()
	if s, ok := status.FromError(last); ok {
		// "no leader elected yet; retry": the retrying is what gave up.
		msg = strings.TrimSuffix(s.Message(), "; retry")
	}
	return fmt.Errorf("%s: gave up retrying: %s: %w", op, msg, ctx.Err())
}
