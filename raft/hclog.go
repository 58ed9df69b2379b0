package raft

import (
	"context"
	"encoding/json"
	"log/slog"
	"sort"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// newHCLogger returns an hclog.Logger for hashicorp/raft whose output goes to
// logger. hashicorp/raft logs at Info about every election and snapshot, so
// only warnings and errors pass unless logger is enabled for Debug (then Info
// and up pass).
func newHCLogger(logger *slog.Logger, name string) hclog.Logger {
	level := hclog.Warn
	if logger.Enabled(context.Background(), slog.LevelDebug) {
		level = hclog.Info
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:       name,
		Level:      level,
		Output:     &slogWriter{logger: logger},
		JSONFormat: true,
	})
}

// slogWriter receives hclog's JSON lines and re-emits them through slog.
type slogWriter struct {
	logger *slog.Logger
}

func (w *slogWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimSpace(string(p)), "\n") {
		if line == "" {
			continue
		}
		w.emit(line)
	}
	return len(p), nil
}

func (w *slogWriter) emit(line string) {
	var fields map[string]any
	if err := json.Unmarshal([]byte(line), &fields); err != nil {
		w.logger.Warn(line)
		return
	}
	level := slog.LevelInfo
	switch fields["@level"] {
	case "trace", "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	msg, _ := fields["@message"].(string)
	if level == slog.LevelWarn && quietAtStart(msg, fields) {
		level = slog.LevelInfo
	}
	attrs := make([]any, 0, 2*len(fields))
	if mod, ok := fields["@module"].(string); ok && mod != "" {
		attrs = append(attrs, "module", mod)
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		if !strings.HasPrefix(k, "@") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		attrs = append(attrs, k, fields[k])
	}
	w.logger.Log(context.Background(), level, msg, attrs...)
}

// quietAtStart reports whether a hashicorp/raft warning is only the normal
// start of a server: the first election of a node that has never known a
// leader (every fresh start, including `raftcron dev`'s single server). The
// same message after a leader was known (it went silent) stays a warning.
func quietAtStart(msg string, fields map[string]any) bool {
	leader, _ := fields["last-leader-id"].(string)
	return msg == "heartbeat timeout reached, starting election" && leader == ""
}
