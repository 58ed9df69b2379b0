package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/raftcron/raftcron/auth"
	"github.com/raftcron/raftcron/client"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// defaultServer is used when neither --server nor RAFTCRON_ADDR is set.
const defaultServer = "127.0.0.1:8001"

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
	pf.String("tls-ca", os.Getenv("RAFTCRON_CACERT"), "the cluster CA certificate (env RAFTCRON_CACERT)")
	pf.String("tls-cert", os.Getenv("RAFTCRON_CLIENT_CERT"), "this client's certificate (env RAFTCRON_CLIENT_CERT)")
	pf.String("tls-key", os.Getenv("RAFTCRON_CLIENT_KEY"), "this client's key (env RAFTCRON_CLIENT_KEY)")
	pf.String("token", "", "ACL token secret (env RAFTCRON_TOKEN)")
	pf.Bool("insecure", envBool("RAFTCRON_INSECURE"), "plaintext, without certificates or tokens: only for servers started with --insecure (env RAFTCRON_INSECURE=1)")
	_ = rootCmd.RegisterFlagCompletionFunc("namespace", completeNamespaces)
}

// envBool reads a boolean environment variable (1, true, yes).
func envBool(name string) bool {
	switch strings.ToLower(os.Getenv(name)) {
	case "1", "true", "yes":
		return true
	}
	return false
}

// security is what a process presents to the cluster: TLS credentials, or
// the explicit choice of plaintext.
type security struct {
	creds    *auth.Credentials
	insecure bool
}

// securityFlags reads --tls-ca, --tls-cert, --tls-key and --insecure; what
// TLS is for (a client, a server, a worker) is in the error messages.
func securityFlags(cmd *cobra.Command, role auth.Role) (security, error) {
	f := cmd.Flags()
	insecure, _ := f.GetBool("insecure")
	ca, _ := f.GetString("tls-ca")
	cert, _ := f.GetString("tls-cert")
	key, _ := f.GetString("tls-key")
	if insecure {
		if cert != "" && f.Changed("tls-cert") {
			return security{}, fmt.Errorf("--insecure and --tls-cert: choose one")
		}
		return security{insecure: true}, nil
	}
	if ca == "" && cert == "" && key == "" {
		hint := "set RAFTCRON_CACERT, RAFTCRON_CLIENT_CERT and RAFTCRON_CLIENT_KEY (and RAFTCRON_TOKEN), or pass --tls-ca, --tls-cert and --tls-key"
		if role != auth.RoleClient {
			hint = "pass --tls-ca, --tls-cert and --tls-key (make them with `raftcron tls ca create` and `raftcron tls cert create --" + string(role) + "`)"
		}
		return security{}, fmt.Errorf("TLS is required: %s; or --insecure (RAFTCRON_INSECURE=1) for plaintext to a cluster started with --insecure", hint)
	}
	creds, err := auth.LoadCredentials(ca, cert, key)
	if err != nil {
		return security{}, err
	}
	if creds.Identity.Role != role {
		return security{}, fmt.Errorf("--tls-cert: a %s needs a %s certificate; %s names a %s", role, role, cert, creds.Identity)
	}
	return security{creds: creds}, nil
}

// tokenFlag is --token, or RAFTCRON_TOKEN.
func tokenFlag(cmd *cobra.Command) string {
	if t, _ := cmd.Flags().GetString("token"); t != "" {
		return t
	}
	return strings.TrimSpace(os.Getenv("RAFTCRON_TOKEN"))
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

// chunkSizeFlag is get's --chunk-size (0 for commands without it).
func chunkSizeFlag(cmd *cobra.Command) int32 {
	if f := cmd.Flags().Lookup("chunk-size"); f != nil {
		if n, err := strconv.ParseInt(f.Value.String(), 10, 32); err == nil && n > 0 {
			return int32(n)
		}
	}
	return 0
}

// dialClient dials the servers named by --server.
func dialClient(cmd *cobra.Command) (*client.Client, error) {
	servers, err := serverList(cmd)
	if err != nil {
		return nil, err
	}
	sec, err := securityFlags(cmd, auth.RoleClient)
	if err != nil {
		return nil, err
	}
	c, err := client.New(client.Config{Servers: servers, DialTimeout: 5 * time.Second,
		TLS: sec.creds, Insecure: sec.insecure, Token: tokenFlag(cmd), ChunkSize: chunkSizeFlag(cmd)})
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", strings.Join(servers, ","), err)
	}
	return c, nil
}
