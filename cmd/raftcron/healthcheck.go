package main

import (
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
		Use:     "healthcheck URL",
		Short:   "Exit 0 when URL (a server's /healthz or /readyz) answers 200",
		Example: "  raftcron healthcheck http://127.0.0.1:9001/readyz",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			hc := &http.Client{Timeout: 3 * time.Second}
			resp, err := hc.Get(args[0])
			if err != nil {
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
