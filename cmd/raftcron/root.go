package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/raftcron/raftcron/client"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// defaultServer is used when neither --server nor RAFTCRON_ADDR is set.
const defaultServer = "127.0.0.1:8001"

// waitPollInterval is how often `wait` reads the Job; tests shorten it.
var waitPollInterval = 500 * time.Millisecond

// rootCmd is the raftcron command. Other files register their verbs on it
// from an init function: `func init() { rootCmd.AddCommand(...) }`.
var rootCmd = &cobra.Command{
	Use:           "raftcron",
	Short:         "A highly available cron and batch-job scheduler",
	Long:          "raftcron replicates Kubernetes-style CronJobs and Jobs through Raft and runs them on workers.\nThe client verbs (apply, get, describe, delete, trigger, logs, wait, ...) talk to any server of a cluster.",
	SilenceUsage:  true,
	SilenceErrors: true,
}

func init() {
	def := os.Getenv("RAFTCRON_ADDR")
	if def == "" {
		def = defaultServer
	}
	pf := rootCmd.PersistentFlags()
	pf.String("server", def, "comma-separated list of server gRPC addresses (env RAFTCRON_ADDR)")
	pf.StringP("namespace", "n", pb.DefaultNamespace, "namespace of the objects")
	pf.Duration("timeout", 30*time.Second, "how long a client request may take, including retries across leader changes")
}

// serverList returns the servers named by --server.
func serverList(cmd *cobra.Command) ([]string, error) {
	raw, err := cmd.Flags().GetString("server")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range strings.Split(raw, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--server: no server address given")
	}
	return out, nil
}

// namespaceFlag returns the value of -n/--namespace.
func namespaceFlag(cmd *cobra.Command) string {
	ns, _ := cmd.Flags().GetString("namespace")
	if ns == "" {
		ns = pb.DefaultNamespace
	}
	return ns
}

// timeoutFlag returns the value of the persistent --timeout flag.
func timeoutFlag(cmd *cobra.Command) time.Duration {
	d, _ := cmd.Flags().GetDuration("timeout")
	return d
}

// dialClient dials the servers named by --server.
func dialClient(cmd *cobra.Command) (*client.Client, error) {
	servers, err := serverList(cmd)
	if err != nil {
		return nil, err
	}
	c, err := client.New(client.Config{Servers: servers, DialTimeout: 5 * time.Second, PollInterval: waitPollInterval})
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", strings.Join(servers, ","), err)
	}
	return c, nil
}
