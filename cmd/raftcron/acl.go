package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/raftcron/raftcron/client"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

func init() { rootCmd.AddCommand(newACLCmd()) }

func newACLCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "acl",
		Short: "ACL tokens: bootstrap, create, list, revoke, whoami",
		Long: `Every API call needs an ACL token (RAFTCRON_TOKEN or --token) unless the servers run with --insecure.
A token is either a management token (everything, including membership, snapshots and ACLs) or
scoped to namespaces and verbs: read (get, describe, list), write (apply, delete, suspend, resume),
trigger and logs. Only a hash of each secret is stored; a secret is shown once, when it is made.`,
	}
	token := &cobra.Command{Use: "token", Short: "Create, list and revoke tokens (management token required)"}
	token.AddCommand(newACLTokenCreateCmd(), newACLTokenListCmd(), newACLTokenRevokeCmd())
	cmd.AddCommand(newACLBootstrapCmd(), token, newACLWhoAmICmd())
	return cmd
}

func newACLBootstrapCmd() *cobra.Command {
	var secretFile string
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Short: "Create the cluster's first management token (once) and print its secret",
		Long: `bootstrap creates the first management token. It works once per cluster, for any holder of a
client certificate, so run it right after the first server starts. With --secret-file the secret
is also written to that file (mode 0600); when the cluster was bootstrapped before and that file
holds a secret, the command exits 0 (docker-compose runs it on every up).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withClient(cmd, func(ctx context.Context, c *client.Client) error {
				tok, err := c.ACLBootstrap(ctx)
				if err != nil {
					if b, rerr := os.ReadFile(secretFile); secretFile != "" && errors.Is(err, client.ErrFailedPrecondition) && rerr == nil && len(strings.TrimSpace(string(b))) > 0 {
						fmt.Fprintf(cmd.OutOrStdout(), "ACLs were bootstrapped before: the management token is in %s\n", secretFile)
						return nil
					}
					return err
				}
				if secretFile != "" {
					if err := writeFileAtomic(secretFile, []byte(tok.GetSecret()+"\n")); err != nil {
						return fmt.Errorf("--secret-file: %w", err)
					}
				}
				printSecret(cmd, tok)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&secretFile, "secret-file", "", "also write the secret to this file (0600); a cluster bootstrapped before is fine when the file holds a secret")
	return cmd
}

func printSecret(cmd *cobra.Command, s *pb.ACLTokenSecret) {
	out := cmd.OutOrStdout()
	t := s.GetToken()
	fmt.Fprintf(out, "AccessorID: %s\nName:       %s\nScope:      %s\nExpires:    %s\nSecretID:   %s\n",
		t.GetAccessorId(), t.GetName(), tokenScope(t), tokenExpiry(t), s.GetSecret())
	fmt.Fprintln(out, "\nThe secret is shown only now. Use it as RAFTCRON_TOKEN (or --token).")
}

func tokenScope(t *pb.ACLToken) string {
	if t.GetManagement() {
		return "management"
	}
	return fmt.Sprintf("%s in %s", strings.Join(t.GetVerbs(), ","), strings.Join(t.GetNamespaces(), ","))
}

func tokenExpiry(t *pb.ACLToken) string {
	if t.GetExpirationTime() == nil {
		return "never"
	}
	return t.GetExpirationTime().AsTime().UTC().Format(time.RFC3339)
}

func newACLTokenCreateCmd() *cobra.Command {
	var spec client.ACLTokenSpec
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a token scoped to namespaces and verbs (or --management) and print its secret",
		Example: `  raftcron acl token create --name ci-team-a --namespace team-a --verbs read,write,trigger,logs
  raftcron acl token create --name dashboard --namespace '*' --verbs read --ttl 720h`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withClient(cmd, func(ctx context.Context, c *client.Client) error {
				tok, err := c.ACLTokenCreate(ctx, spec)
				if err != nil {
					return err
				}
				printSecret(cmd, tok)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec.Name, "name", "", "what the token is for (required)")
	// Here -n/--namespace names the token's namespaces (it shadows the global flag).
	f.StringSliceVarP(&spec.Namespaces, "namespace", "n", nil, "namespaces the token may act in, comma-separated or repeated ('*' = all)")
	f.StringSliceVar(&spec.Verbs, "verbs", nil, "read, write, trigger, logs (comma-separated)")
	f.BoolVar(&spec.Management, "management", false, "a management token: may do everything")
	f.DurationVar(&spec.TTL, "ttl", 0, "the token expires after this long (default never)")
	return cmd
}

func newACLTokenListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withClient(cmd, func(ctx context.Context, c *client.Client) error {
				toks, err := c.ACLTokens(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 3, ' ', 0)
				fmt.Fprintln(tw, "ACCESSOR\tNAME\tSCOPE\tCREATED\tEXPIRES")
				for _, t := range toks {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.GetAccessorId(), t.GetName(), tokenScope(t),
						t.GetCreateTime().AsTime().UTC().Format(time.RFC3339), tokenExpiry(t))
				}
				return tw.Flush()
			})
		},
	}
}

func newACLTokenRevokeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ACCESSOR_ID",
		Short: "Revoke a token at once, on every server",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withClient(cmd, func(ctx context.Context, c *client.Client) error {
				if err := c.ACLTokenRevoke(ctx, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "token %s revoked\n", args[0])
				return nil
			})
		},
	}
}

func newACLWhoAmICmd() *cobra.Command {
	return &cobra.Command{
		Use:   "whoami",
		Short: "Show the certificate and token this CLI uses",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withClient(cmd, func(ctx context.Context, c *client.Client) error {
				who, err := c.WhoAmI(ctx)
				if err != nil {
					return err
				}
				if who.GetAclsDisabled() {
					fmt.Fprintln(cmd.OutOrStdout(), "this server runs with --insecure: no certificates, no ACLs")
					return nil
				}
				t := who.GetToken()
				fmt.Fprintf(cmd.OutOrStdout(), "Certificate: %s\nToken:       %s (%s)\nScope:       %s\nExpires:     %s\n",
					who.GetIdentity(), t.GetName(), t.GetAccessorId(), tokenScope(t), tokenExpiry(t))
				return nil
			})
		},
	}
}

// withClient runs fn with a client dialed from the command's flags and the
// context of one request, and closes the client afterwards.
func withClient(cmd *cobra.Command, fn func(ctx context.Context, c *client.Client) error) error {
	c, err := dialClient(cmd)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := requestContext(cmd)
	defer cancel()
	return fn(ctx, c)
}
