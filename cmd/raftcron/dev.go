package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/raftcron/raftcron/auth"
	"github.com/raftcron/raftcron/cluster"
	"github.com/raftcron/raftcron/scheduler"
	"github.com/raftcron/raftcron/worker"
)

func init() { rootCmd.AddCommand(newDevCmd()) }

// newDevCmd is `raftcron dev`: one process with a single-server cluster and a
// local worker, on a temporary data dir, for trying raftcron out.
func newDevCmd() *cobra.Command {
	var (
		grpcAddr, httpAddr, raftAddr, dataDir, runtime, logLevel string
		slots                                                    int
		noWorker                                                 bool
	)
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run a one-process cluster (one server and one local worker) on a temporary data dir",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := newLogger(logLevel, "text")
			if err != nil {
				return err
			}
			keep := dataDir != ""
			if !keep {
				if dataDir, err = os.MkdirTemp("", "raftcron-dev-"); err != nil {
					return err
				}
				defer os.RemoveAll(dataDir)
			}
			insecureMode, _ := cmd.Flags().GetBool("insecure")
			var pki *localPKI
			var serverCreds, workerCreds *auth.Credentials
			if !insecureMode {
				if pki, err = newLocalPKI(filepath.Join(dataDir, "tls")); err != nil {
					return err
				}
				if serverCreds, err = pki.creds(auth.RoleServer, "dev"); err != nil {
					return err
				}
				if workerCreds, err = pki.creds(auth.RoleWorker, "dev-worker"); err != nil {
					return err
				}
			}
			srvCfg := cluster.Config{
				NodeID: "dev", DataDir: filepath.Join(dataDir, "server"), RaftAddr: raftAddr,
				GRPCAddr: grpcAddr, HTTPAddr: httpAddr, Bootstrap: true, Logger: logger,
				Insecure: insecureMode, TLS: serverCreds,
				Cron: scheduler.CronOptions{DispatchAhead: scheduler.DefaultDispatchAhead},
			}
			srv, err := cluster.New(srvCfg)
			if err != nil {
				return err
			}
			srv.Start()
			defer srv.Stop()

			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			errc := make(chan error, 1)
			if !noWorker {
				// A worker that dials before the server leads only logs
				// warnings and retries: start it once the leader loop runs.
				if err := waitLeading(ctx, srv, srvCfg.NodeID); err != nil {
					return err
				}
				wcfg := worker.Config{
					Servers: []string{srv.GRPCAddr()}, ID: "dev-worker", Slots: slots,
					DataDir: filepath.Join(dataDir, "worker"), Runtime: runtime, AllowExec: true, Logger: logger,
				}
				if workerCreds != nil {
					wcfg.DialOptions = []grpc.DialOption{grpc.WithTransportCredentials(credentials.NewTLS(workerCreds.ClientTLS()))}
				}
				agent, err := worker.New(wcfg)
				if err != nil {
					return err
				}
				go func() { errc <- agent.Run(ctx) }()
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "raftcron dev: one server at %s (data in %s)\n", srv.GRPCAddr(), dataDir)
			if u := srv.HTTPURL(); u != "" {
				fmt.Fprintf(out, "  dashboard: %s/ui/\n", u)
				fmt.Fprintf(out, "  health and metrics: %s/healthz  %s/metrics\n", u, u)
			}
			if pki == nil {
				fmt.Fprintf(out, "  INSECURE (--insecure): plaintext, no ACLs\n")
				fmt.Fprintf(out, "  try: export RAFTCRON_ADDR=%s RAFTCRON_INSECURE=1; raftcron apply -f examples/hello-cronjob.yaml && raftcron get jobs\n", srv.GRPCAddr())
			} else {
				envFile := filepath.Join(dataDir, "env")
				if _, err := pki.bootstrapACL(ctx, []string{srv.GRPCAddr()}, "dev-client", envFile); err != nil {
					return err
				}
				fmt.Fprintf(out, "  mutual TLS and ACLs are on; a client certificate and the management token are in %s\n", envFile)
				fmt.Fprintf(out, "  try: . %s; raftcron apply -f examples/hello-cronjob.yaml && raftcron get jobs\n", envFile)
			}
			select {
			case <-ctx.Done():
				return nil
			case err := <-errc:
				return err
			}
		},
	}
	f := cmd.Flags()
	f.StringVar(&grpcAddr, "grpc-addr", "127.0.0.1:8001", "gRPC API address")
	f.StringVar(&httpAddr, "http-addr", "127.0.0.1:9001", "health and metrics address")
	f.StringVar(&raftAddr, "raft-addr", "127.0.0.1:7001", "Raft address")
	f.StringVar(&dataDir, "data-dir", "", "data dir to use and keep (default: a temporary one, removed at exit)")
	f.StringVar(&runtime, "runtime", "", "worker runtime: docker or exec (default: docker when a daemon answers, else exec); an exec worker runs only Jobs whose nodeSelector selects raftcron.io/runtime: exec")
	f.IntVar(&slots, "slots", 4, "how many attempts the local worker runs at once")
	f.BoolVar(&noWorker, "no-worker", false, "run the server alone")
	f.StringVar(&logLevel, "log-level", "warn", "debug, info, warn or error")
	// --insecure is the global flag: plaintext and no ACLs, by name only.
	return cmd
}

// waitLeading waits (on the FSM's notifications) until the dev server leads
// and its leader loop has registered the server's address, the step before
// it accepts worker sessions.
func waitLeading(ctx context.Context, srv *cluster.Server, nodeID string) error {
	changes, cancel := srv.Node().FSM().Subscribe()
	defer cancel()
	limit := time.NewTimer(30 * time.Second)
	defer limit.Stop()
	for !srv.IsLeader() || srv.Node().State().Server(nodeID) == nil {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-limit.C:
			return fmt.Errorf("raftcron dev: the server did not become leader within 30s")
		case <-changes:
		}
	}
	return nil
}
