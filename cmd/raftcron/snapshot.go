package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/raftcron/raftcron/raft"
)

func init() { rootCmd.AddCommand(newSnapshotCmd()) }

// newSnapshotCmd is `raftcron snapshot save|restore FILE`.
func newSnapshotCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Back up the cluster's state to a file and restore it",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newSnapshotSaveCmd(), newSnapshotRestoreCmd())
	return cmd
}

func newSnapshotSaveCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "save FILE",
		Short: "Write a consistent snapshot of the CronJobs, Jobs and Attempts to FILE",
		Long: "Asks the leader (any server passes the request on) for a snapshot of the replicated state\n" +
			"taken after every acknowledged write, and writes it to FILE atomically (temporary file, fsync, rename).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := dialClient(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := requestContext(cmd)
			defer cancel()
			data, err := c.SnapshotSave(ctx)
			if err != nil {
				return err
			}
			counts, err := raft.ValidateSnapshot(data)
			if err != nil {
				return fmt.Errorf("the server sent an unreadable snapshot: %w", err)
			}
			if err := writeFileAtomic(args[0], data); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "saved %d bytes to %s (%d cronjobs, %d jobs, %d attempts)\n",
				len(data), args[0], counts.CronJobs, counts.Jobs, counts.Attempts)
			return nil
		},
	}
}

func newSnapshotRestoreCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "restore FILE",
		Short: "Replace the cluster's CronJobs, Jobs and Attempts with those saved in FILE",
		Long: "Replaces the state of every server, through Raft, with the snapshot in FILE (written by\n" +
			"`raftcron snapshot save`). The file is checked whole first; anything else is refused and nothing changes.\n" +
			"The servers' own membership is not part of the restore.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			if _, err := raft.ValidateSnapshot(data); err != nil {
				return fmt.Errorf("%s is not a usable raftcron snapshot: %w", args[0], err)
			}
			c, err := dialClient(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := requestContext(cmd)
			defer cancel()
			resp, err := c.SnapshotRestore(ctx, data)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "restored %s: %d cronjobs, %d jobs, %d attempts\n",
				args[0], resp.GetCronJobs(), resp.GetJobs(), resp.GetAttempts())
			return nil
		},
	}
}

// writeFileAtomic writes data to a temporary file next to path, syncs it and
// renames it over path, then syncs the directory: a crash leaves either the
// old file or the whole new one.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
