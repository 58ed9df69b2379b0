package main

import (
	"fmt"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/raftcron/raftcron/auth"
)

func init() { rootCmd.AddCommand(newTLSCmd()) }

func newTLSCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tls",
		Short: "Create the cluster CA and the certificates of servers, workers and clients",
		Long: `Every raftcron connection is mutual TLS under one cluster CA. A certificate names a role
(server, worker or client) and a name: a server's name is its --node-id, a worker's its --id.
Only server certificates may join Raft or act as a server to workers and clients; a worker may
only open the session of the worker its certificate names.`,
		Example: `  raftcron tls ca create --out /etc/raftcron/ca
  raftcron tls cert create --ca /etc/raftcron/ca --server --name n1 --ip 10.0.0.1 --out /etc/raftcron/n1
  raftcron tls cert create --ca /etc/raftcron/ca --worker --name worker-a --out /etc/raftcron/worker-a
  raftcron tls cert create --ca /etc/raftcron/ca --client --name alice --out ~/.raftcron`,
	}
	ca := &cobra.Command{Use: "ca", Short: "The cluster CA"}
	ca.AddCommand(newTLSCACreateCmd())
	cert := &cobra.Command{Use: "cert", Short: "Certificates signed by the cluster CA"}
	cert.AddCommand(newTLSCertCreateCmd())
	cmd.AddCommand(ca, cert, newTLSInitCmd())
	return cmd
}

// newTLSInitCmd is `raftcron tls init`: what a first start needs, made once.
func newTLSInitCmd() *cobra.Command {
	var (
		out                      string
		servers, workers, client []string
	)
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create, where missing, a CA and the named server, worker and client certificates under --out",
		Long: `init makes what a cluster needs on its first start and leaves whatever exists alone, so it
can run on every start (docker-compose runs it before the servers). Layout:
  OUT/ca/ca.pem, OUT/ca/ca-key.pem       the cluster CA
  OUT/<role>/<name>.pem, <name>-key.pem  one certificate per --server, --worker and --client name
Each server certificate also names its node id as a DNS name.`,
		Example: `  raftcron tls init --out /tls --server s1,s2,s3 --worker worker-a,worker-b --client admin`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pki, err := newLocalPKI(out)
			if err != nil {
				return err
			}
			for _, set := range []struct {
				role  auth.Role
				names []string
			}{{auth.RoleServer, servers}, {auth.RoleWorker, workers}, {auth.RoleClient, client}} {
				for _, name := range set.names {
					cert, _, err := pki.files(set.role, name)
					if err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%s %s: %s\n", set.role, name, cert)
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "CA: %s\n", pki.caFile())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", ".", "directory of the CA and certificates")
	f.StringSliceVar(&servers, "server", nil, "server node ids (comma-separated or repeated)")
	f.StringSliceVar(&workers, "worker", nil, "worker ids")
	f.StringSliceVar(&client, "client", nil, "client names")
	return cmd
}

func newTLSCACreateCmd() *cobra.Command {
	var (
		out  string
		days int
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a CA key and certificate (ca.pem, ca-key.pem) in --out",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if days <= 0 {
				return fmt.Errorf("--days %d: must be positive", days)
			}
			if err := auth.CreateCA(out, auth.CAOptions{Validity: time.Duration(days) * 24 * time.Hour}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created CA %s/%s (key %s/%s: keep it offline; it signs every certificate of the cluster)\n",
				out, auth.CAFile, out, auth.CAKeyFile)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", ".", "directory for ca.pem and ca-key.pem")
	cmd.Flags().IntVar(&days, "days", 3650, "validity in days")
	return cmd
}

func newTLSCertCreateCmd() *cobra.Command {
	var (
		caDir, out, name       string
		server, worker, client bool
		ips, dnsNames          []string
		days                   int
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a server, worker or client certificate (NAME.pem, NAME-key.pem) in --out",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var roles []auth.Role
			for r, on := range map[auth.Role]bool{auth.RoleServer: server, auth.RoleWorker: worker, auth.RoleClient: client} {
				if on {
					roles = append(roles, r)
				}
			}
			if len(roles) != 1 {
				return fmt.Errorf("choose exactly one of --server, --worker and --client")
			}
			if days <= 0 {
				return fmt.Errorf("--days %d: must be positive", days)
			}
			opt := auth.CertOptions{Role: roles[0], Name: name, DNSNames: dnsNames, Validity: time.Duration(days) * 24 * time.Hour}
			for _, s := range ips {
				ip := net.ParseIP(s)
				if ip == nil {
					return fmt.Errorf("--ip %q: not an IP address", s)
				}
				opt.IPs = append(opt.IPs, ip)
			}
			if out == "" {
				out = "."
			}
			certPath, keyPath, err := auth.CreateCert(caDir, out, opt)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created %s certificate for %q: %s (key %s)\n", roles[0], name, certPath, keyPath)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&caDir, "ca", ".", "directory of the CA (ca.pem, ca-key.pem)")
	f.StringVar(&out, "out", ".", "directory for NAME.pem and NAME-key.pem (and a copy of ca.pem)")
	f.StringVar(&name, "name", "", "the server's node id, the worker's id, or the client's name (required)")
	f.BoolVar(&server, "server", false, "a server certificate (Raft, serving the API and workers)")
	f.BoolVar(&worker, "worker", false, "a worker certificate")
	f.BoolVar(&client, "client", false, "a client certificate (CLI, Go client, dashboards)")
	f.StringSliceVar(&ips, "ip", nil, "IP addresses the server is reached at (127.0.0.1 and ::1 are always added to server certificates)")
	f.StringSliceVar(&dnsNames, "dns", nil, "DNS names the server is reached at (localhost is always added)")
	f.IntVar(&days, "days", 365, "validity in days")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}
