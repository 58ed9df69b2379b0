package worker

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// logPath is where an attempt's output is kept: DataDir/logs/<namespace>/<attempt>.log.
func logPath(dataDir, namespace, attempt string) string {
	return filepath.Join(dataDir, "logs", namespace, attempt+".log")
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
