package cluster

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/raftcron/raftcron/ui"
)

// httpHandler serves /healthz (the process and its data dir work), /readyz
// (a member of a cluster with a known leader), /metrics, the dashboard
// under /ui/ and, with Config.Pprof, the profiles of net/http/pprof under
// /debug/pprof/.
func (s *Server) httpHandler() http.Handler {
	mux := http.NewServeMux()
	var disk diskCheck
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := disk.check(s.cfg.DataDir); err != nil {
			http.Error(w, "unhealthy: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		id, addr := s.node.Leader()
		if id == "" {
			http.Error(w, "not ready: no leader known", http.StatusServiceUnavailable)
			return
		}
		members, err := s.node.Members()
		if err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		for _, m := range members {
			if m.ID == s.cfg.NodeID {
				fmt.Fprintf(w, "ok: leader %s at %s\n", id, addr)
				return
			}
		}
		http.Error(w, "not ready: not a member of the cluster yet", http.StatusServiceUnavailable)
	})
	mux.Handle("/metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	mux.Handle(ui.Prefix, s.ui)
	mux.Handle("GET /{$}", http.RedirectHandler(ui.Prefix, http.StatusFound))
	if s.cfg.Pprof {
		RegisterPprof(mux)
	}
	return mux
}

// newUI builds the dashboard. It reads the cluster through this server's own
// gRPC API, as a client: with TLS it dials with the server's certificate and
// sends each viewer's ACL token, so ACLs apply to the dashboard as to the CLI.
func (s *Server) newUI() (*ui.Handler, error) {
	addr := s.cfg.GRPCAdvertise
	if host, port, err := net.SplitHostPort(s.grpcLis.Addr().String()); err == nil {
		if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
			addr = net.JoinHostPort("127.0.0.1", port)
		} else {
			addr = s.grpcLis.Addr().String()
		}
	}
	return ui.New(ui.Config{Addr: addr, TLS: s.cfg.TLS, Plaintext: s.cfg.TLS != nil && s.cfg.HTTPPlaintext, Logger: s.cfg.Logger, Now: s.cfg.Clock.Now})
}

// diskCheck writes, syncs and removes a small file in the data dir, at most
// once a second, so /healthz turns red when the disk stops taking writes.
type diskCheck struct {
	mu   sync.Mutex
	at   time.Time
	last error
}

func (d *diskCheck) check(dir string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if time.Since(d.at) < time.Second {
		return d.last
	}
	d.at = time.Now()
	d.last = probeWritable(dir)
	return d.last
}

func probeWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".healthz-*")
	if err != nil {
		return fmt.Errorf("data dir %s is not writable: %w", dir, err)
	}
	name := f.Name()
	defer os.Remove(name)
	if _, err := f.Write([]byte("ok")); err != nil {
		f.Close()
		return fmt.Errorf("write to data dir %s: %w", dir, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("fsync in data dir %s: %w", dir, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close in data dir %s: %w", dir, err)
	}
	_ = filepath.Base(name)
	return nil
}

// RegisterPprof adds the net/http/pprof handlers to mux under /debug/pprof/.
func RegisterPprof(mux *http.ServeMux) {
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
}
