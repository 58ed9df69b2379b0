package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/raftcron/raftcron/worker/guard"
)

func init() { rootCmd.AddCommand(newGuardCmd()) }

func newGuardCmd() *cobra.Command {
	var cfg guard.Config
	cmd := &cobra.Command{
		Use:   "guard --dir DIR --lease FILE -- COMMAND [ARG...]",
		Short: "Run one attempt's workload under its lease (started by the worker, not by people)",
		Long: `The lease guard is the parent of every attempt's workload: the container's entrypoint (Docker)
or the process the worker starts (exec). It starts COMMAND, forwards signals to it, reaps zombies,
records its start, exit code and end in DIR/record.json, and kills it when the worker stops
renewing the lease in FILE. It exits with COMMAND's exit code.`,
		Hidden: true,
		Args:   cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.Argv = args
			cfg.Stderr = cmd.ErrOrStderr()
			os.Exit(guard.Run(cfg))
			return nil
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(false)
	f.StringVar(&cfg.Dir, "dir", guard.Dir, "the attempt's directory: the record is written here")
	f.StringVar(&cfg.LeasePath, "lease", guard.LeaseDir+"/"+guard.LeaseFile, "the lease file the worker renews")
	f.DurationVar(&cfg.Poll, "poll", guard.DefaultPoll, "how often the lease is read")
	f.StringVar(&cfg.Output, "output", "", "append the command's stdout and stderr to this file (default: the guard's own stdout and stderr)")
	f.Int64Var(&cfg.OutputLimit, "output-limit", 0, "with --output, keep at most this many bytes of output (0: no limit)")
	f.IntVar(&cfg.UID, "uid", 0, "run the command as this user id (0: the guard's own)")
	f.IntVar(&cfg.GID, "gid", 0, "with --uid, the command's group id")
	return cmd
}
