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

// cappedWriter writes to w until limit bytes have been written, then drops
// the rest (once saying so in the file), while it always keeps the last
// OutputTailSize bytes in memory for the finished report.
type cappedWriter struct {
	mu        sync.Mutex
	w         io.Writer
	limit     int64
	written   int64
	truncated bool
	tail      []byte
}

func newCappedWriter(w io.Writer, limit int64) *cappedWriter {
	return &cappedWriter{w: w, limit: limit}
}

func (c *cappedWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tail = append(c.tail, p...)
	if len(c.tail) > OutputTailSize {
		c.tail = append(c.tail[:0:0], c.tail[len(c.tail)-OutputTailSize:]...)
	}
	if c.written < c.limit {
		n := int64(len(p))
		if c.written+n > c.limit {
			n = c.limit - c.written
		}
		if _, err := c.w.Write(p[:n]); err != nil {
			return 0, fmt.Errorf("write log: %w", err)
		}
		c.written += n
	}
	if c.written >= c.limit && !c.truncated && int64(len(p)) > 0 {
		c.truncated = true
		_, _ = fmt.Fprintf(c.w, "\n[raftcron: output truncated at %d bytes]\n", c.limit)
	}
	return len(p), nil
}

// Tail returns the last OutputTailSize bytes written, as valid UTF-8.
func (c *cappedWriter) Tail() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return validUTF8(c.tail)
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

// prune deletes the log file (DataDir/logs) and the directory
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
		newest := latestChange(logFile, dir, filepath.Join(dir, guard.RecordFile), guard.LeasePath(dir))
		if now.Sub(newest) < a.cfg.Retention {
			continue
		}
		a.mu.Lock()
		_, heldNow := a.attempts[k]
		a.mu.Unlock()
		if heldNow {
			continue // assigned again meanwhile
		}
		if err := os.Remove(logFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
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
