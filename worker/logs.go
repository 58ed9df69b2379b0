package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/worker/guard"
)

// logPath is where an attempt's output is kept: DataDir/logs/<namespace>/<attempt>.log,
// each name escaped so that no name (say "../..") leads out of the directory.
func logPath(dataDir, namespace, attempt string) string {
	return filepath.Join(dataDir, "logs", pathSegment(namespace), pathSegment(attempt)+".log")
}

// pathSegment escapes a name for use as one file name: letters, digits, '-'
// and '_' stay, '.' stays except in front, everything else becomes %XX.
// Valid object names (DNS labels) come out unchanged.
func pathSegment(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.' && i > 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	if b.Len() == 0 {
		return "%00"
	}
	return b.String()
}

// outputTail keeps the last OutputTailSize bytes of output in memory, for
// the finished report.
type outputTail struct {
	mu   sync.Mutex
	tail []byte
}

func (o *outputTail) add(p []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.tail = append(o.tail, p...)
	if len(o.tail) > OutputTailSize {
		o.tail = append(o.tail[:0:0], o.tail[len(o.tail)-OutputTailSize:]...)
	}
}

// String returns the last OutputTailSize bytes written, as valid UTF-8.
func (o *outputTail) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return validUTF8(o.tail)
}

// logSource reads an attempt's log file from its start, each chunk with
// the marks of its times file that fall in it (offsets into the chunk).
type logSource struct {
	log     *os.File
	times   *os.File // nil: no times file (output of an older worker)
	marks   *guard.MarkReader
	pending []guard.Mark // read and not sent: at or past off
	off     int64        // bytes of the log read so far
}

func openLogSource(path string) (*logSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	s := &logSource{log: f}
	if tf, err := os.Open(guard.TimesPath(path)); err == nil {
		s.times, s.marks = tf, guard.NewMarkReader(tf)
	}
	return s, nil
}

// read reads the next chunk of the log into buf, as the log's Read does,
// and returns the marks of the lines starting in it. The times file is read
// after the log: its marks are written before the output they time.
func (s *logSource) read(buf []byte) (int, []*pb.LineMark, error) {
	n, err := s.log.Read(buf)
	if n <= 0 {
		return 0, nil, err
	}
	start, end := s.off, s.off+int64(n)
	s.off = end
	if s.marks != nil {
		m, merr := s.marks.Read()
		s.pending = append(s.pending, m...)
		if merr != nil {
			s.marks = nil // what was read before stays good
		}
	}
	var out []*pb.LineMark
	i := 0
	for ; i < len(s.pending) && s.pending[i].Offset < end; i++ {
		if m := s.pending[i]; m.Offset >= start {
			out = append(out, &pb.LineMark{Offset: uint32(m.Offset - start), UnixNano: m.Time})
		}
	}
	s.pending = s.pending[i:]
	return n, out, err
}

func (s *logSource) Close() error {
	if s.times != nil {
		s.times.Close()
	}
	return s.log.Close()
}

// readTail returns the last n bytes of the file at path ("" if it is missing).
func readTail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := st.Size() - n
	if off < 0 {
		off = 0
	}
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
		return ""
	}
	return validUTF8(buf)
}

// validUTF8 makes output safe for a protobuf string field.
func validUTF8(b []byte) string {
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// pruneLoop deletes the files of ended attempts past the retention, now and
// then every pruneEvery, until ctx is done.
func (a *Agent) pruneLoop(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := a.prune(time.Now()); err != nil {
			a.logger.Warn("delete the files of ended attempts", "err", err)
		}
		t.Reset(pruneEvery)
	}
}

// prune deletes the log and times files (DataDir/logs) and the directory
// (DataDir/attempts) of every attempt this worker no longer holds (its
// result was acknowledged, or it belongs to no one) once the newest of them
// is older than the retention.
func (a *Agent) prune(now time.Time) error {
	a.mu.Lock()
	held := make(map[string]bool, len(a.attempts))
	for k := range a.attempts {
		held[k] = true
	}
	a.mu.Unlock()
	// The attempts with files: namespace/name from both trees.
	found := map[string][2]string{}
	for _, tree := range []string{"logs", "attempts"} {
		nss, err := os.ReadDir(filepath.Join(a.cfg.DataDir, tree))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		for _, ns := range nss {
			if !ns.IsDir() {
				continue
			}
			ents, err := os.ReadDir(filepath.Join(a.cfg.DataDir, tree, ns.Name()))
			if err != nil {
				return err
			}
			for _, e := range ents {
				name := e.Name()
				if tree == "logs" {
					name = strings.TrimSuffix(name, guard.TimesSuffix)
					if !strings.HasSuffix(name, ".log") {
						continue
					}
					name = strings.TrimSuffix(name, ".log")
				}
				found[key(ns.Name(), name)] = [2]string{ns.Name(), name}
			}
		}
	}
	for k, nn := range found {
		if held[k] {
			continue
		}
		logFile, dir := logPath(a.cfg.DataDir, nn[0], nn[1]), attemptDir(a.cfg.DataDir, nn[0], nn[1])
		newest := latestChange(logFile, guard.TimesPath(logFile), dir, filepath.Join(dir, guard.RecordFile), guard.LeasePath(dir))
		if now.Sub(newest) < a.cfg.Retention {
			continue
		}
		a.mu.Lock()
		_, heldNow := a.attempts[k]
		a.mu.Unlock()
		if heldNow {
			continue // assigned again meanwhile
		}
		for _, f := range []string{logFile, guard.TimesPath(logFile)} {
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
		a.logger.Debug("deleted the files of an ended attempt", "attempt", nn[1], "namespace", nn[0])
	}
	return nil
}

// latestChange is the newest modification time of the paths that exist.
func latestChange(paths ...string) time.Time {
	var t time.Time
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && st.ModTime().After(t) {
			t = st.ModTime()
		}
	}
	return t
}
