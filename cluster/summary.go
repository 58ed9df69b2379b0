package cluster

import (
	"context"
	"fmt"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// Summary answers from the state's counters and indexes (raft/summary.go),
// never from a scan of every Job, so a dashboard that asks every few
// seconds costs the same with ten Jobs or a hundred thousand.
func (a *api) Summary(ctx context.Context, req *pb.SummaryRequest) (*pb.SummaryResponse, error) {
	var namespaces []string
	switch {
	case req.GetAllNamespaces() && len(req.GetNamespaces()) > 0:
		return nil, fmt.Errorf("namespaces: give namespaces or all_namespaces, not both: %w", pb.ErrInvalid)
	case req.GetAllNamespaces():
	case len(req.GetNamespaces()) == 0:
		return nil, fmt.Errorf("namespaces: name at least one namespace, or set all_namespaces: %w", pb.ErrInvalid)
	default:
		for _, n := range req.GetNamespaces() {
			namespaces = append(namespaces, namespaceOr(n))
		}
	}
	return a.s.node.State().Summary(namespaces, req.GetSince().AsTime()), nil
}
