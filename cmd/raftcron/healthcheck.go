package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

func init() { rootCmd.AddCommand(newHealthcheckCmd()) }

// newHealthcheckCmd probes a server's HTTP endpoint; images built FROM scratch
// have no curl, so container health checks run this.
func newHealthcheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "healthcheck URL",
		Short: "Exit 0 when URL (a server's /healthz or /readyz) answers 200",
		Long: `Exit 0 when URL (a server's /healthz or /readyz) answers 200.

A server with TLS serves its HTTP port over HTTPS with its server
certificate: give the cluster CA with --tls-ca (env RAFTCRON_CACERT). The
certificate names localhost, 127.0.0.1 and the server's node id.`,
		Example: "  raftcron healthcheck --tls-ca /etc/raftcron/tls/ca/ca.pem https://127.0.0.1:9001/readyz\n  raftcron healthcheck http://127.0.0.1:9001/readyz   # a server started with --insecure",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ca, _ := cmd.Flags().GetString("tls-ca")
			hc, err := httpClient(ca, 3*time.Second)
			if err != nil {
				return err
			}
			resp, err := hc.Get(args[0])
			if err != nil {
				var unknown x509.UnknownAuthorityError
				if errors.As(err, &unknown) && ca == "" {
					return fmt.Errorf("%w (give the cluster CA with --tls-ca)", err)
				}
				return err
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s: %s: %s", args[0], resp.Status, body)
			}
			fmt.Fprint(cmd.OutOrStdout(), string(body))
			return nil
		},
	}
}
