package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/raftcron/raftcron/cluster"
)

func init() { rootCmd.AddCommand(newVersionCmd()) }

// newVersionCmd is `raftcron version`.
func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of this raftcron binary",
		Long: `Print the version, source revision and Go version of this binary. Servers
export the same as the raftcron_build_info metric.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b := cluster.BuildInfo()
			rev := b.Revision
			if b.Modified {
				rev += " (modified)"
			}
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "raftcron %s\nrevision: %s\ngo: %s\n", b.Version, rev, b.GoVersion)
			return err
		},
	}
}
