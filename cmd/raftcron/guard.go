package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/raftcron/raftcron/worker/guard"
)

func init() { rootCmd.AddCommand(newGuardCmd()) }

// newGuardCmd is `raftcron guard`, the lease guard when no raftcron-guard
// binary sits next to the worker's executable. The guard parses its own
// arguments (guard.Main), as the small raftcron-guard binary does.
func newGuardCmd() *cobra.Command {
	return &cobra.Command{
		Use:                guard.Usage,
		Short:              "Run one attempt's workload under its lease (started by the worker, not by people)",
		Hidden:             true,
		DisableFlagParsing: true,
		Run: func(cmd *cobra.Command, args []string) {
			os.Exit(guard.Main(args, cmd.ErrOrStderr()))
		},
	}
}
