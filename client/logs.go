package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// LogOptions says which output Logs reads.
type LogOptions struct {
	// Namespace of the Job; "" is DefaultNamespace.
	Namespace string
	// Index is the completion index (Indexed Jobs; 0 otherwise).
	Index int32
	// Attempt is the attempt number of that index, from 1; 0 is the latest.
	Attempt int32
	// Follow keeps reading until the attempt ends (or the reader is closed).
	Follow bool
	// Tail starts with the last Tail lines of the output so far (0: all of it).
	Tail int
	// Timestamps prefixes each line with the time its workload wrote it, as
	// kubectl logs --timestamps does: RFC 3339 with nanoseconds, in UTC, and
	// a space. Workers record the time of each line (exec: when the lease
	// guard read it from the workload; docker: when the daemon did). A line
	// whose time is not known is read without a prefix: output kept by a
	// worker older than line times, and the tail stored with an attempt
	// whose worker is gone.
	Timestamps bool
}

// Logs opens the output (stdout and stderr) of one attempt of a Job. The
// Job and attempt are looked up before Logs returns, so an unknown Job is an
// error matching ErrNotFound here, not on the first Read. Close the reader
// to stop following. When the attempt's worker is gone, the last 16 KiB
// stored with the attempt are read instead.
//
// Opening is retried across servers like any call; once output has been
// read, a broken stream ends the reader with an error rather than being
// retried, so nothing is read twice.
func (c *Client) Logs(ctx context.Context, job string, opts LogOptions) (io.ReadCloser, error) {
	switch {
	case job == "":
		return nil, fmt.Errorf("logs: job: %w: a name is required", ErrInvalid)
	case opts.Index < 0:
		return nil, fmt.Errorf("logs of job %q: index %d: %w: must be 0 or more", job, opts.Index, ErrInvalid)
	case opts.Attempt < 0:
		return nil, fmt.Errorf("logs of job %q: attempt %d: %w: must be 1 or more (0 = the latest)", job, opts.Attempt, ErrInvalid)
	case opts.Tail < 0:
		return nil, fmt.Errorf("logs of job %q: tail %d: %w: must be 0 or more", job, opts.Tail, ErrInvalid)
	}
	req := &pb.LogsRequest{Namespace: orDefault(opts.Namespace), Job: job, Index: opts.Index, Attempt: opts.Attempt, Follow: opts.Follow}
	if opts.Tail == 0 {
		return c.openLogs(ctx, req, 0, opts.Timestamps)
	}
	// Read what there is now and keep its last lines; a follower then skips
	// the output read so far of the followed stream.
	now := &pb.LogsRequest{Namespace: req.Namespace, Job: job, Index: req.Index, Attempt: req.Attempt}
	r, err := c.openLogs(ctx, now, 0, opts.Timestamps)
	if err != nil {
		return nil, err
	}
	all, err := io.ReadAll(r)
	r.Close()
	if err != nil {
		return nil, err
	}
	tail := lastLines(all, opts.Tail)
	if !opts.Follow {
		return io.NopCloser(bytes.NewReader(tail)), nil
	}
	rest, err := c.openLogs(ctx, req, r.output, opts.Timestamps)
	if err != nil {
		return nil, err
	}
	return &prefixedReader{Reader: io.MultiReader(bytes.NewReader(tail), rest), Closer: rest}, nil
}

type prefixedReader struct {
	io.Reader
	io.Closer
}

// lastLines is the last n lines of b (a last line without a newline counts).
func lastLines(b []byte, n int) []byte {
	end := len(b)
	if end > 0 && b[end-1] == '\n' {
		end--
	}
	for i := end - 1; i >= 0; i-- {
		if b[i] == '\n' {
			n--
			if n == 0 {
				return b[i+1:]
			}
		}
	}
	return b
}

// openLogs opens the stream (retried until a server accepts it); its
// reader skips the first skip bytes of output and, with timestamps,
// prefixes each line with its time.
func (c *Client) openLogs(ctx context.Context, req *pb.LogsRequest, skip int, timestamps bool) (*logReader, error) {
	sctx, cancel := context.WithCancel(ctx)
	var stream pb.RaftCron_LogsClient
	err := c.retry(sctx, "logs", func(ctx context.Context, rpc pb.RaftCronClient, _ attemptInfo) error {
		s, err := rpc.Logs(ctx, req)
		if err != nil {
			return err
		}
		// Servers send headers once the attempt is found; a stream that
		// ends without them carries its error in the status.
		md, err := s.Header()
		if err != nil {
			return err
		}
		if md == nil {
			if _, err := s.Recv(); err != nil && !errors.Is(err, io.EOF) {
				return err
			}
		}
		stream = s
		return nil
	})
	if err != nil {
		cancel()
		return nil, err
	}
	return &logReader{stream: stream, cancel: cancel, skip: skip, timestamps: timestamps}, nil
}

// logReader reads a Logs stream.
type logReader struct {
	stream     pb.RaftCron_LogsClient
	cancel     context.CancelFunc
	pending    []byte
	skip       int
	output     int // bytes of output received, skipped ones included
	err        error
	timestamps bool
	// Where the output is: in the middle of a line, and the time in force
	// (that of the last mark; 0: not known).
	midLine bool
	time    int64
}

func (r *logReader) Read(p []byte) (int, error) {
	for len(r.pending) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		chunk, err := r.stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				r.err = io.EOF
			} else {
				r.err = fmt.Errorf("logs: %w", toError(err))
			}
			continue
		}
		r.pending = r.render(chunk)
	}
	n := copy(p, r.pending)
	r.pending = r.pending[n:]
	return n, nil
}

// render is what a chunk prints: its data, less what is still to be
// skipped, with the lines' times in front when asked for.
func (r *logReader) render(chunk *pb.LogChunk) []byte {
	data := chunk.GetData()
	r.output += len(data)
	if !r.timestamps {
		n := min(r.skip, len(data))
		r.skip -= n
		return data[n:]
	}
	if chunk.GetFromTail() {
		// The stored tail: no times, and it starts where it was cut.
		r.time, r.midLine = 0, false
	}
	marks := chunk.GetMarks()
	var out []byte
	for i := 0; i < len(data); {
		end := len(data)
		if j := bytes.IndexByte(data[i:], '\n'); j >= 0 {
			end = i + j + 1
		}
		lineStart := !r.midLine
		for len(marks) > 0 && int(marks[0].GetOffset()) <= i {
			r.time, marks = marks[0].GetUnixNano(), marks[1:]
		}
		seg := data[i:end]
		r.midLine = data[end-1] != '\n'
		i = end
		if r.skip >= len(seg) {
			r.skip -= len(seg)
			continue
		}
		if r.skip > 0 {
			seg, lineStart = seg[r.skip:], false
			r.skip = 0
		}
		if lineStart && r.time != 0 {
			out = time.Unix(0, r.time).UTC().AppendFormat(out, time.RFC3339Nano)
			out = append(out, ' ')
		}
		out = append(out, seg...)
	}
	return out
}

// Close stops the stream.
func (r *logReader) Close() error {
	r.cancel()
	return nil
}
