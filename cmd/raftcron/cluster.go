package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

func init() { rootCmd.AddCommand(newClusterCmd()) }

// newClusterCmd is `raftcron cluster members|remove-peer|settings`.
func newClusterCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Inspect and change the servers of the Raft cluster",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newMembersCmd(), newRemovePeerCmd(), newSettingsCmd())
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

func newSettingsCmd() *cobra.Command {
	var heartbeat, workerTTL, leaseTTL time.Duration
	cmd := &cobra.Command{
		Use:   "settings",
		Short: "Show or change the cluster settings (worker heartbeat, worker TTL, lease TTL)",
		Long: `Show or change the timing every server and worker must agree on. The settings are
replicated through Raft, so a failover never changes them: the first leader of a
cluster records its --worker-heartbeat, --worker-ttl and --lease-ttl flags, and
from then on only this command changes them. Flags not given keep their value.
Workers pick up a new heartbeat interval when they reconnect (the leader makes
them); a shortened lease takes effect for replacements only once every lease
granted under the old one has run out.`,
		Example: `  raftcron cluster settings
  raftcron cluster settings --lease-ttl 30s --worker-ttl 10s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := outputFormat(cmd, formatTable, formatJSON, formatYAML)
			if err != nil {
				return err
			}
			change := &pb.ClusterSettings{}
			changed := false
			for _, f := range []struct {
				name string
				v    time.Duration
				dst  **durationpb.Duration
			}{{"heartbeat", heartbeat, &change.HeartbeatInterval}, {"worker-ttl", workerTTL, &change.WorkerTtl}, {"lease-ttl", leaseTTL, &change.LeaseTtl}} {
				if !cmd.Flags().Changed(f.name) {
					continue
				}
				if f.v <= 0 {
					return fmt.Errorf("--%s: %v is not a positive duration", f.name, f.v)
				}
				*f.dst = durationpb.New(f.v)
				changed = true
			}
			c, err := dialClient(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := requestContext(cmd)
			defer cancel()
			var cs *pb.ClusterSettings
			if changed {
				cs, err = c.UpdateClusterSettings(ctx, change)
			} else {
				cs, err = c.ClusterSettings(ctx)
			}
			if err != nil {
				return err
			}
			if format != formatTable {
				return writeMessages(cmd.OutOrStdout(), []*pb.ClusterSettings{cs}, format, true)
			}
			tw := newTable(cmd.OutOrStdout())
			row(tw, "SETTING", "VALUE")
			if cs.GetClusterId() != "" {
				row(tw, "cluster-id", cs.GetClusterId())
			}
			row(tw, "heartbeat", cs.GetHeartbeatInterval().AsDuration().String())
			row(tw, "worker-ttl", cs.GetWorkerTtl().AsDuration().String())
			row(tw, "lease-ttl", cs.GetLeaseTtl().AsDuration().String())
			if cs.GetPreviousLeaseTtl() != nil && time.Now().Before(cs.GetLeaseTtlChanged().AsTime().Add(cs.GetPreviousLeaseTtl().AsDuration())) {
				row(tw, "lease-ttl (leases granted before the change)", cs.GetPreviousLeaseTtl().AsDuration().String()+" until "+
					cs.GetLeaseTtlChanged().AsTime().Add(cs.GetPreviousLeaseTtl().AsDuration()).UTC().Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.DurationVar(&heartbeat, "heartbeat", 0, "how often workers send heartbeats")
	f.DurationVar(&workerTTL, "worker-ttl", 0, "a worker silent this long is declared lost")
	f.DurationVar(&leaseTTL, "lease-ttl", 0, "how long a running attempt's lease lasts past the heartbeat that renewed it")
	addOutputFlag(cmd, formatTable, formatJSON, formatYAML)
	return cmd
}
