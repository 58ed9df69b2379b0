package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/raftcron/raftcron/auth"
	"github.com/raftcron/raftcron/cluster"
	"github.com/raftcron/raftcron/scheduler"
)

func init() { rootCmd.AddCommand(newServerCmd()) }

func newServerCmd() *cobra.Command {
	var (
		cfg       cluster.Config
		join      string
		logLevel  string
		logFormat string
	)
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run a raftcron server (a Raft member that serves the API and, while leading, schedules)",
		Example: `  raftcron server --node-id n1 --data-dir /var/lib/raftcron --raft-addr 10.0.0.1:7001 --grpc-addr 10.0.0.1:8001 --http-addr 10.0.0.1:9001 --bootstrap
  raftcron server --node-id n2 --data-dir /var/lib/raftcron --raft-addr 10.0.0.2:7001 --grpc-addr 10.0.0.2:8001 --join 10.0.0.1:8001`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := newLogger(logLevel, logFormat)
			if err != nil {
				return err
			}
			cfg.Logger = logger
			for _, j := range strings.Split(join, ",") {
				if j = strings.TrimSpace(j); j != "" {
					cfg.Join = append(cfg.Join, j)
				}
			}
			if cfg.Events.Count < 1 {
				return fmt.Errorf("--event-retention-count %d: must be 1 or more", cfg.Events.Count)
			}
			if cfg.Cron.DispatchAhead < 0 || cfg.Cron.DispatchAhead > scheduler.MaxDispatchAhead {
				return fmt.Errorf("--dispatch-ahead %s: must be between 0 and %s", cfg.Cron.DispatchAhead, scheduler.MaxDispatchAhead)
			}
			if cfg.Events.Age <= 0 {
				return fmt.Errorf("--event-retention-age %s: must be more than 0", cfg.Events.Age)
			}
			if cfg.Bootstrap && len(cfg.Join) > 0 {
				return fmt.Errorf("--bootstrap and --join: choose one (bootstrap the first server, join the others to it)")
			}
			sec, err := securityFlags(cmd, auth.RoleServer)
			if err != nil {
				return err
			}
			cfg.TLS, cfg.Insecure = sec.creds, sec.insecure
			if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
				return fmt.Errorf("--data-dir: %w", err)
			}
			return runServer(cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.NodeID, "node-id", "", "this server's unique, stable id (required)")
	f.StringVar(&cfg.DataDir, "data-dir", "", "where Raft's log, stable store and snapshots live (required)")
	f.StringVar(&cfg.RaftAddr, "raft-addr", "127.0.0.1:7001", "address Raft listens on")
	f.StringVar(&cfg.RaftAdvertise, "raft-advertise", "", "address other servers use to reach Raft (default --raft-addr)")
	f.StringVar(&cfg.GRPCAddr, "grpc-addr", "127.0.0.1:8001", "address of the gRPC API and worker sessions")
	f.StringVar(&cfg.GRPCAdvertise, "grpc-advertise", "", "address clients, workers and other servers use to reach the gRPC API (default --grpc-addr)")
	f.StringVar(&cfg.HTTPAddr, "http-addr", "127.0.0.1:9001", "address of /healthz, /readyz, /metrics and the dashboard /ui/ (empty disables); HTTPS with the server certificate when the server has TLS")
	f.BoolVar(&cfg.HTTPPlaintext, "http-plaintext", false, "serve --http-addr in plain HTTP although the server has TLS, for a TLS-terminating proxy in front of it; logs a warning, and the dashboard takes logins only from loopback")
	f.BoolVar(&cfg.Pprof, "pprof", false, "also serve Go profiles (net/http/pprof) under /debug/pprof/ on --http-addr; off by default, as profiles reveal internals")
	f.BoolVar(&cfg.Bootstrap, "bootstrap", false, "start a new cluster with this server as its first member (only when the data dir is empty)")
	f.StringVar(&join, "join", "", "comma-separated gRPC addresses of existing servers to join")
	f.DurationVar(&cfg.Worker.HeartbeatInterval, "worker-heartbeat", cluster.DefaultHeartbeatInterval,
		"how often workers send heartbeats (a cluster setting: recorded by a new cluster's first leader; change it with `raftcron cluster settings`)")
	f.DurationVar(&cfg.Worker.WorkerTTL, "worker-ttl", cluster.DefaultWorkerTTL,
		"a worker silent this long is declared lost (a cluster setting, like --worker-heartbeat)")
	f.DurationVar(&cfg.Worker.LeaseTTL, "lease-ttl", cluster.DefaultLeaseTTL,
		"how long a running attempt's lease lasts past the heartbeat that renewed it; a lost worker's attempts are replaced only after it (a cluster setting, like --worker-heartbeat)")
	f.DurationVar(&cfg.Worker.LostWorkerRetention, "lost-worker-retention", cluster.DefaultLostWorkerRetention,
		"how long the leader keeps listing a lost worker (`raftcron get workers --lost`) before it forgets it (a cluster setting, like --worker-heartbeat)")
	f.StringVar(&cfg.Worker.JoinToken, "worker-join-token", os.Getenv("RAFTCRON_WORKER_JOIN_TOKEN"), "token workers must present (env RAFTCRON_WORKER_JOIN_TOKEN; empty accepts any worker)")
	f.DurationVar(&cfg.Cron.DispatchAhead, "dispatch-ahead", scheduler.DefaultDispatchAhead,
		"while leading, decide a cron tick and hand its run to a worker this long before the tick, and have the worker start it at the tick, so that "+
			"the Raft commit and the dispatch are not in the start delay (0: decide at the tick). Only ticks no later change could alter: "+
			"concurrencyPolicy Allow, or Forbid with nothing running; not suspended; no dependsOn. Many ticks due at one instant are decided "+
			"earlier, at 1,000 a second, at most 10s before their tick")
	f.DurationVar(&cfg.Jobs.BackoffBase, "backoff-base", scheduler.DefaultBackoffBase, "delay before the first retry of a failed attempt; doubles per failure")
	f.DurationVar(&cfg.Jobs.BackoffCap, "backoff-cap", scheduler.DefaultBackoffCap, "longest delay between retries")
	addLimitFlags(f, &cfg)
	f.IntVar(&cfg.Events.Count, "event-retention-count", scheduler.DefaultEventRetentionCount, "how many events (`raftcron events`) the cluster keeps; the oldest go first")
	f.DurationVar(&cfg.Events.Age, "event-retention-age", scheduler.DefaultEventRetentionAge, "how long the cluster keeps an event")
	f.DurationVar(&cfg.HeartbeatTimeout, "raft-heartbeat-timeout", 0, "Raft heartbeat timeout (default hashicorp/raft's 1s)")
	f.DurationVar(&cfg.ElectionTimeout, "raft-election-timeout", 0, "Raft election timeout (default hashicorp/raft's 1s)")
	f.DurationVar(&cfg.LeaderLeaseTimeout, "raft-leader-lease-timeout", 0, "Raft leader lease timeout (default 500ms)")
	f.DurationVar(&cfg.CommitTimeout, "raft-commit-timeout", 0, "how long the leader waits, when nothing is written, before it tells followers the commit index (default 250ms); shorter spends more CPU on an idle cluster, and followers see the scheduler's last writes sooner (a client's writes are announced at once)")
	addProcessTLSFlags(cmd, "server")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&logFormat, "log-format", "text", "text or json")
	_ = cmd.MarkFlagRequired("node-id")
	_ = cmd.MarkFlagRequired("data-dir")
	return cmd
}

// serverGOGC is the server's garbage-collection target when the environment
// sets no GOGC (as Prometheus does with 75): a server's heap is mostly the
// replicated state, long-lived, so Go's default of 100 lets the heap grow to
// twice that before collecting. With 100,000 CronJobs, 100 kept the leader
// at 273 MiB RSS after the apply, 75 at 245–248 MiB (BENCHMARKS.md), for a
// little more GC work.
const serverGOGC = 75

// runServer runs one server until SIGINT or SIGTERM, then shuts it down gracefully.
func runServer(cfg cluster.Config) error {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(serverGOGC)
	}
	srv, err := cluster.New(cfg)
	if err != nil {
		return err
	}
	srv.Start()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	s := <-sig
	cfg.Logger.Info("shutting down", "signal", s.String())
	return srv.Stop()
}

// addProcessTLSFlags gives a server or worker its own --tls-* flags: they
// shadow the client's, which read RAFTCRON_CLIENT_* from the environment.
func addProcessTLSFlags(cmd *cobra.Command, role string) {
	f := cmd.Flags()
	f.String("tls-ca", "", "the cluster CA certificate (PEM; may hold several CAs during a rotation)")
	f.String("tls-cert", "", "this "+role+"'s certificate (from `raftcron tls cert create --"+role+"`)")
	f.String("tls-key", "", "this "+role+"'s key")
}

// addLimitFlags are the quotas and limits of docs/security.md ("Limits").
func addLimitFlags(f *pflag.FlagSet, cfg *cluster.Config) {
	f.IntVar(&cfg.Limits.MaxObjectBytes, "max-object-size", scheduler.DefaultMaxObjectBytes, "largest CronJob, Job or Secret accepted, in bytes as encoded")
	f.IntVar(&cfg.Limits.MaxCronJobsPerNamespace, "max-cronjobs-per-namespace", scheduler.DefaultMaxCronJobsPerNamespace, "most CronJobs one namespace may hold")
	f.IntVar(&cfg.Limits.MaxJobsPerNamespace, "max-jobs-per-namespace", scheduler.DefaultMaxJobsPerNamespace, "most Jobs one namespace may hold before applying another is refused")
	f.IntVar(&cfg.Limits.MaxSecretsPerNamespace, "max-secrets-per-namespace", scheduler.DefaultMaxSecretsPerNamespace, "most Secrets one namespace may hold")
	f.Int32Var(&cfg.Limits.MaxParallelism, "max-parallelism", scheduler.DefaultMaxParallelism, "largest spec.parallelism a Job may ask for")
	f.Int32Var(&cfg.Limits.MaxCompletions, "max-completions", scheduler.DefaultMaxCompletions, "largest spec.completions a Job may ask for")
	f.Int32Var(&cfg.Jobs.MaxPendingAttemptsPerJob, "max-pending-attempts-per-job", scheduler.DefaultMaxPendingAttemptsPerJob, "most Pending attempts one Job has at once; more are created as these are placed")
	f.IntVar(&cfg.Jobs.MaxUnfinishedAttemptsPerNamespace, "max-unfinished-attempts-per-namespace", scheduler.DefaultMaxUnfinishedAttemptsPerNamespace, "no attempt is created in a namespace holding this many unfinished attempts")
	f.Float64Var(&cfg.RateLimit, "token-rate-limit", cluster.DefaultTokenRateLimit, "API requests per second allowed to each ACL token (0 = unlimited)")
	f.IntVar(&cfg.RateBurst, "token-rate-burst", cluster.DefaultTokenRateBurst, "requests an ACL token may make at once above its rate")
}
