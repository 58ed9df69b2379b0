package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/raftcron/raftcron/auth"
	"github.com/raftcron/raftcron/worker"
)

var workerCmd = newWorkerCmd()

func init() { rootCmd.AddCommand(workerCmd) }

func newWorkerCmd() *cobra.Command {
	var (
		cfg         worker.Config
		labels      []string
		serversFlag string
		logLevel    string
		logFormat   string
		pprofAddr   string
	)
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run a worker: it dials the servers, follows the leader and runs attempts as containers (or processes)",
		Long: `A worker opens one stream to the leader (it dials out; nothing dials in) and runs the attempts
the leader assigns, as Docker containers, or as plain processes with --runtime exec --allow-exec.
Every attempt runs under a lease guard (raftcron-guard, found next to this binary, or else this
binary as "raftcron guard") that kills it when the worker stops renewing its lease. Stopping the worker (SIGINT, SIGTERM) leaves its attempts running until
their leases run out; started again in time with the same --id and --data-dir it re-adopts them.
A worker that itself runs in a container must see its --data-dir at the same path as the host does
(the Docker daemon mounts attempt directories and the guard from there).`,
		Example: `  raftcron worker --servers 10.0.0.1:8001,10.0.0.2:8001,10.0.0.3:8001 --id worker-a --slots 8 --labels zone=a,disk=ssd --data-dir /var/lib/raftcron-worker`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := newLogger(logLevel, logFormat)
			if err != nil {
				return err
			}
			cfg.Logger = logger
			if cmd.Flags().Changed("servers") {
				if err := cmd.Flags().Set("server", serversFlag); err != nil {
					return err
				}
			}
			servers, err := serverList(cmd)
			if err != nil {
				return err
			}
			cfg.Servers = servers
			sec, err := securityFlags(cmd, auth.RoleWorker)
			if err != nil {
				return err
			}
			if sec.insecure {
				logger.Warn("worker running INSECURE: plaintext, and it trusts any server that answers (its join token and every job's env go to whoever that is)")
				cfg.DialOptions = append(cfg.DialOptions, grpc.WithTransportCredentials(insecure.NewCredentials()))
			} else {
				name := sec.creds.Identity.Name
				if !cmd.Flags().Changed("id") {
					cfg.ID = name
				} else if cfg.ID != name {
					return fmt.Errorf("--id %q: this worker's certificate names worker %q; a worker runs under the id its certificate names", cfg.ID, name)
				}
				cfg.DialOptions = append(cfg.DialOptions, grpc.WithTransportCredentials(credentials.NewTLS(sec.creds.ClientTLS())))
			}
			cfg.Labels = map[string]string{}
			var all []string
			for _, l := range labels {
				all = append(all, strings.Split(l, ",")...)
			}
			for _, l := range all {
				l = strings.TrimSpace(l)
				if l == "" {
					continue
				}
				k, v, ok := strings.Cut(l, "=")
				if !ok || k == "" {
					return fmt.Errorf("--label %q: want key=value", l)
				}
				cfg.Labels[k] = v
			}
			if cfg.DrainTimeout < 0 {
				return fmt.Errorf("--drain-timeout %s: must be 0 (no drain) or more", cfg.DrainTimeout)
			}
			agent, err := worker.New(cfg)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			if pprofAddr != "" {
				stopPprof, err := servePprof(pprofAddr, logger)
				if err != nil {
					return err
				}
				defer stopPprof()
			}
			return agent.Run(ctx)
		},
	}
	host, _ := os.Hostname()
	f := cmd.Flags()
	f.StringVar(&cfg.ID, "id", host, "this worker's stable id (default: the name in its certificate, or the host name with --insecure); keep it across restarts")
	f.IntVar(&cfg.Slots, "slots", 4, "how many attempts this worker runs at once")
	f.StringArrayVarP(&labels, "labels", "l", nil, "key=value labels for nodeSelector matching, comma-separated or repeated (zone=a,disk=ssd)")
	f.StringArrayVar(&labels, "label", nil, "same as --labels")
	f.StringVar(&serversFlag, "servers", "", "comma-separated server gRPC addresses (same as the global --server)")
	f.StringVar(&cfg.DataDir, "data-dir", "/var/lib/raftcron-worker", "where attempt logs and exec runtime state are kept")
	f.StringVar(&cfg.Runtime, "runtime", "", "docker, exec, or noop (runs nothing and succeeds at once; load tests) (default: docker when a daemon answers, else exec if --allow-exec); advertised as the label raftcron.io/runtime: an exec worker runs only Jobs whose nodeSelector selects raftcron.io/runtime: exec")
	f.BoolVar(&cfg.AllowExec, "allow-exec", false, "allow the exec runtime (attempts run as plain processes on this host)")
	f.BoolVar(&cfg.AllowPrivileged, "allow-privileged", false, "allow privileged containers and the host PID namespace")
	f.BoolVar(&cfg.AllowHostNetwork, "allow-host-network", false, "allow host networking")
	f.StringArrayVar(&cfg.AllowHostPaths, "allow-host-path", nil, "allow hostPath volumes under this path prefix (repeatable; none by default; the Docker socket never)")
	f.Int64Var(&cfg.Docker.PidsLimit, "docker-pids-limit", worker.DefaultDockerPidsLimit, "most processes one docker run may have")
	f.Int64Var(&cfg.Docker.Memory, "docker-default-memory", worker.DefaultDockerMemory, "memory limit in bytes of a docker run whose Job sets no resources.limits.memory")
	f.StringVar(&cfg.ExecUser, "exec-user", worker.DefaultExecUser, "the unprivileged user exec runs run as (never root)")
	f.DurationVar(&cfg.DrainTimeout, "drain-timeout", 0, "on SIGTERM or SIGINT, drain: take no new attempts (the worker shows as Draining), wait up to this long for the running ones, then kill those left and hand them back to the cluster (Lost, reason WorkerDrained: run again elsewhere, not counted against backoffLimit). 0 leaves running attempts to their lease guards for the next start to re-adopt. Give the supervisor a stop timeout longer than this (compose stop_grace_period, systemd TimeoutStopSec)")
	f.DurationVar(&cfg.Retention, "retention", 24*time.Hour, "how long an attempt's output and guard files are kept on this worker after its result was acknowledged")
	f.StringVar(&cfg.GuardBinary, "guard-binary", "", "the binary every attempt runs under as its lease guard: raftcron-guard, or raftcron itself (default: the raftcron-guard next to this executable, else this executable; must be static, CGO_ENABLED=0, for the docker runtime)")
	f.StringVar(&cfg.JoinToken, "join-token", os.Getenv("RAFTCRON_WORKER_JOIN_TOKEN"), "the cluster's worker join token (env RAFTCRON_WORKER_JOIN_TOKEN)")
	f.StringVar(&pprofAddr, "pprof", "", "serve Go profiles (net/http/pprof) under /debug/pprof/ on this address, e.g. 127.0.0.1:6061 (off by default)")
	addProcessTLSFlags(cmd, "worker")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&logFormat, "log-format", "text", "text or json")
	return cmd
}
