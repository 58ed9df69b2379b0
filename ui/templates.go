package ui

import (
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"strings"
	"time"
)

var funcs = template.FuncMap{
	"rel": relative,
	"ftime": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"dur": humanDuration,
	// pbtime reads a protobuf timestamp; nil is the zero time.
	"pbtime": ts,
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
	"lower": strings.ToLower,
	"add":   func(a, b int32) int32 { return a + b },
	// slots: one true per used slot, then one false per free one (at most 64).
	"slots": func(used, free int32) []bool {
		var out []bool
		for i := int32(0); i < used+free && i < 64; i++ {
			out = append(out, i < used)
		}
		return out
	},
}

// parseTemplates parses each page together with the layout.
func (h *Handler) parseTemplates() error {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	h.pages = map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return fmt.Errorf("ui: parse %s: %w", n, err)
		}
		h.pages[base] = t
	}
	return nil
}
