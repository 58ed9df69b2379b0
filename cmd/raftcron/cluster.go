package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { rootCmd.AddCommand(newClusterCmd()) }

// newClusterCmd is `raftcron cluster members|remove-peer`.
func newClusterCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Inspect and change the servers of the Raft cluster",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newMembersCmd(), newRemovePeerCmd())
	return cmd
}

func newMembersCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "members",
		Short: "List the servers of the Raft configuration and which one leads",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := outputFormat(cmd, formatTable, formatJSON, formatYAML)
			if err != nil {
				return err
			}
			c, err := dialClient(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := requestContext(cmd)
			defer cancel()
			members, err := c.Members(ctx)
			if err != nil {
				return err
			}
			if format != formatTable {
				return writeMessages(cmd.OutOrStdout(), members, format, false)
			}
			tw := newTable(cmd.OutOrStdout())
			row(tw, "ID", "RAFT ADDRESS", "GRPC ADDRESS", "VOTER", "LEADER", "LAST CONTACT")
			for _, m := range members {
				contact := age(m.GetLastContact(), "-")
				if m.GetLeader() {
					contact = "-"
				}
				row(tw, m.GetId(), orNone(m.GetRaftAddress()), orNone(m.GetGrpcAddress()), boolText(m.GetVoter()), boolText(m.GetLeader()), contact)
			}
			return tw.Flush()
		},
	}
	addOutputFlag(cmd, formatTable, formatJSON, formatYAML)
	return cmd
}

func newRemovePeerCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "remove-peer ID",
		Short: "Remove a server from the Raft configuration (for a server that is gone for good)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := dialClient(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := requestContext(cmd)
			defer cancel()
			if err := c.RemovePeer(ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "server %q removed from the cluster\n", args[0])
			return nil
		},
	}
}
