package guard

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// # Line times
//
// An attempt's log file holds its output as written, nothing else, so that
// every reader of plain output (logs without --timestamps, the output tail
// of reports, the dashboard) reads it as it is. When each line was written
// is kept beside it, in the times file (TimesPath), by the one writer of
// both (LogWriter): a short header (timesMagic), then one mark per write
// that starts at least one line. A mark says "the line starting at byte
// Offset of the log was written at Time"; every line that starts after it,
// up to the next mark, was written by the same write, at the same time. So
// a line's time is that of the last mark at or before its first byte.
//
// A mark is two varints: the offset minus the previous mark's offset
// (unsigned) and the time minus the previous mark's time (signed: the wall
// clock may step back), the first mark's relative to zero. Output that
// arrives in many small writes costs a few bytes per line; lines that arrive
// together cost one mark. The mark is written before the output it
// describes, so a reader that sees output also sees its mark.

// TimesPath is the times file of the log file at logPath.
func TimesPath(logPath string) string { return logPath + TimesSuffix }

// TimesSuffix ends the name of every times file.
const TimesSuffix = ".times"

// timesMagic starts every times file (the format's version).
const timesMagic = "raftcron-line-times 1\n"

// Mark is one entry of a times file: the line starting at byte Offset of
// the log, and the lines after it up to the next mark, were written at Time
// (Unix nanoseconds).
type Mark struct {
	Offset int64
	Time   int64
}

func appendMark(b []byte, prev, m Mark) []byte {
	b = binary.AppendUvarint(b, uint64(m.Offset-prev.Offset))
	return binary.AppendVarint(b, m.Time-prev.Time)
}

// MarkReader decodes a times file, also one still being written: each Read
// returns the marks completed since the one before.
type MarkReader struct {
	r      io.Reader
	buf    []byte
	header bool
	last   Mark
	err    error
}

// NewMarkReader reads the times file r from its start.
func NewMarkReader(r io.Reader) *MarkReader { return &MarkReader{r: r} }

// errNotTimes: the file is not a times file of this version.
var errNotTimes = errors.New("not a raftcron times file")

// Read returns the marks written since the last call (none when nothing
// new is complete). Once the file proves unreadable (another format,
// corrupt) it returns that error, then no more marks.
func (mr *MarkReader) Read() ([]Mark, error) {
	if mr.err != nil {
		return nil, mr.err
	}
	chunk := make([]byte, 8<<10)
	for {
		n, err := mr.r.Read(chunk)
		mr.buf = append(mr.buf, chunk[:n]...)
		if err != nil || n == 0 {
			if err != nil && !errors.Is(err, io.EOF) {
				mr.err = err
				return nil, err
			}
			break
		}
	}
	if !mr.header {
		if len(mr.buf) < len(timesMagic) {
			if !bytes.HasPrefix([]byte(timesMagic), mr.buf) {
				mr.err = errNotTimes
			}
			return nil, mr.err
		}
		if string(mr.buf[:len(timesMagic)]) != timesMagic {
			mr.err = errNotTimes
			return nil, mr.err
		}
		mr.buf, mr.header = mr.buf[len(timesMagic):], true
	}
	var out []Mark
	p := mr.buf
	for len(p) > 0 {
		doff, n1 := binary.Uvarint(p)
		if n1 == 0 {
			break // incomplete: the rest is still being written
		}
		if n1 < 0 {
			mr.err = fmt.Errorf("%w: bad mark", errNotTimes)
			break
		}
		dt, n2 := binary.Varint(p[n1:])
		if n2 == 0 {
			break
		}
		if n2 < 0 {
			mr.err = fmt.Errorf("%w: bad mark", errNotTimes)
			break
		}
		mr.last = Mark{Offset: mr.last.Offset + int64(doff), Time: mr.last.Time + dt}
		out = append(out, mr.last)
		p = p[n1+n2:]
	}
	mr.buf = append(mr.buf[:0], p...)
	return out, mr.err
}

// LogWriter writes an attempt's log file and its times file. It keeps at
// most a limit of output bytes, saying once in the log that the rest was
// dropped, and never fails a write: after an error writing the log it
// drops everything (Err says why), after one writing the times file it
// keeps no more times. It is safe for concurrent use.
type LogWriter struct {
	mu      sync.Mutex
	log     *os.File
	times   *os.File // nil: no times kept
	limit   int64    // <= 0: none
	kept    int64    // output bytes kept, against limit
	off     int64    // the log's size: where the next byte goes
	midLine bool     // the log's last byte is not a newline
	dropped bool
	err     error
	last    Mark
	enc     []byte
	now     func() time.Time
}

// OpenLog opens the log file at path for appending (emptied first when
// truncate is set), keeping at most limit bytes of output from now on (no
// limit when limit <= 0), and starts its times file afresh. Without a times
// file (it cannot be created) the log is still written.
func OpenLog(path string, limit int64, truncate bool) (*LogWriter, error) {
	flags := os.O_CREATE | os.O_WRONLY | os.O_APPEND
	if truncate {
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return nil, err
	}
	w := &LogWriter{log: f, limit: limit, now: time.Now}
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		// Appending to what was written before (the guard's own messages):
		// does it end in the middle of a line?
		w.off = st.Size()
		if r, err := os.Open(path); err == nil {
			var b [1]byte
			if _, err := r.ReadAt(b[:], w.off-1); err == nil {
				w.midLine = b[0] != '\n'
			}
			r.Close()
		}
	}
	if tf, err := os.OpenFile(TimesPath(path), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644); err == nil {
		if _, err := tf.WriteString(timesMagic); err == nil {
			w.times = tf
		} else {
			tf.Close()
		}
	}
	return w, nil
}

// Write keeps p (up to the limit), written now.
func (w *LogWriter) Write(p []byte) (int, error) {
	w.WriteTime(p, w.now())
	return len(p), nil
}

// WriteTime keeps p (up to the limit) as output written at t.
func (w *LogWriter) WriteTime(p []byte, t time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	keep := p
	if w.limit > 0 && w.kept+int64(len(p)) > w.limit {
		keep = p[:max(w.limit-w.kept, 0)]
	}
	w.kept += int64(len(keep))
	w.write(keep, t)
	if len(keep) < len(p) && !w.dropped {
		w.dropped = true
		w.write(fmt.Appendf(nil, "\n[raftcron: output truncated at %d bytes]\n", w.limit), t)
	}
}

// Notes is a writer of messages about the run (the guard's own): they go
// into the log, timed, whatever the limit.
func (w *LogWriter) Notes() io.Writer { return notes{w} }

type notes struct{ w *LogWriter }

func (n notes) Write(p []byte) (int, error) {
	n.w.mu.Lock()
	defer n.w.mu.Unlock()
	n.w.write(p, n.w.now())
	return len(p), nil
}

// write appends p to the log, first marking its first line start with t.
func (w *LogWriter) write(p []byte, t time.Time) {
	if len(p) == 0 || w.err != nil {
		return
	}
	if w.times != nil {
		if i := firstLineStart(p, w.midLine); i >= 0 {
			m := Mark{Offset: w.off + int64(i), Time: t.UnixNano()}
			w.enc = appendMark(w.enc[:0], w.last, m)
			if _, err := w.times.Write(w.enc); err != nil {
				w.times.Close()
				w.times = nil
			} else {
				w.last = m
			}
		}
	}
	n, err := w.log.Write(p)
	w.off += int64(n)
	if n > 0 {
		w.midLine = p[n-1] != '\n'
	}
	if err != nil {
		w.err = fmt.Errorf("write %s: %w", w.log.Name(), err)
	}
}

// firstLineStart is the index in p of the first byte that starts a line,
// or -1; midLine says whether p continues a line.
func firstLineStart(p []byte, midLine bool) int {
	if !midLine {
		return 0
	}
	i := bytes.IndexByte(p, '\n')
	if i < 0 || i+1 == len(p) {
		return -1
	}
	return i + 1
}

// Err is the error that stopped the log being written, if any.
func (w *LogWriter) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Sync flushes the log to disk.
func (w *LogWriter) Sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.log.Sync()
}

// Close closes the log and times files.
func (w *LogWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.times != nil {
		w.times.Close()
		w.times = nil
	}
	return w.log.Close()
}
