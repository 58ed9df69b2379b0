package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/raftcron/raftcron/cluster"
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
		Short: "List the servers of the Raft configuration, which one leads and which answer",
		Long: `List the servers of the Raft configuration. The server that answers asks each
other one (waiting at most 500ms): STATUS is alive when it answered, unreachable
when it did not (why is printed below the table), unknown when no gRPC address is
recorded for it. LAST CONTACT is how long ago a follower last heard from the
leader: as the follower says, or, for an unreachable one, as the leader saw it.
Without a majority this still answers, from any surviving server.`,
		Args: cobra.NoArgs,
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
			row(tw, "ID", "RAFT ADDRESS", "GRPC ADDRESS", "VOTER", "LEADER", "STATUS", "LAST CONTACT")
			var health []string
			for _, m := range members {
				contact := age(m.GetLastContact(), "-")
				if m.GetLeader() {
					contact = "-"
				}
				row(tw, m.GetId(), orNone(m.GetRaftAddress()), orNone(m.GetGrpcAddress()), boolText(m.GetVoter()), boolText(m.GetLeader()),
					orNone(m.GetStatus()), contact)
				if m.GetHealth() != "" {
					health = append(health, fmt.Sprintf("%s %s: %s", m.GetId(), m.GetStatus(), m.GetHealth()))
				}
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if len(health) > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "\n%s\n", strings.Join(health, "\n"))
			}
			return nil
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
	var heartbeat, workerTTL, leaseTTL, lostRetention time.Duration
	cmd := &cobra.Command{
		Use:   "settings",
		Short: "Show or change the cluster settings (worker heartbeat, worker TTL, lease TTL, lost worker retention)",
		Long: `Show or change the timing every server and worker must agree on. The settings are
replicated through Raft, so a failover never changes them: the first leader of a
cluster records its --worker-heartbeat, --worker-ttl and --lease-ttl flags, and
from then on only this command changes them. Flags not given keep their value.
Workers pick up a new heartbeat interval when they reconnect (the leader makes
them); a shortened lease takes effect for replacements only once every lease
granted under the old one has run out. The lost worker retention is how long the
leader keeps listing a lost worker (get workers --lost) before it forgets it.`,
		Example: `  raftcron cluster settings
  raftcron cluster settings --lease-ttl 30s --worker-ttl 10s
  raftcron cluster settings --lost-worker-retention 2h`,
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
			}{{"heartbeat", heartbeat, &change.HeartbeatInterval}, {"worker-ttl", workerTTL, &change.WorkerTtl}, {"lease-ttl", leaseTTL, &change.LeaseTtl},
				{"lost-worker-retention", lostRetention, &change.LostWorkerRetention}} {
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
			retention := cluster.DefaultLostWorkerRetention
			if cs.GetLostWorkerRetention() != nil {
				retention = cs.GetLostWorkerRetention().AsDuration()
			}
			row(tw, "lost-worker-retention", retention.String())
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
	f.DurationVar(&lostRetention, "lost-worker-retention", 0, "how long a lost worker stays listed before the leader forgets it")
	addOutputFlag(cmd, formatTable, formatJSON, formatYAML)
	return cmd
}
