package client

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// Summary returns a dashboard's counts and short lists for some namespaces
// (nil: every namespace), with the runs counted since the start of since's
// hour. The server reads them from counters and indexes, not from every Job.
func (c *Client) Summary(ctx context.Context, namespaces []string, since time.Time) (*pb.SummaryResponse, error) {
	req := &pb.SummaryRequest{Namespaces: namespaces, AllNamespaces: namespaces == nil, Since: timestamppb.New(since)}
	var out *pb.SummaryResponse
	err := c.do(ctx, "summary", func(ctx context.Context, rpc pb.RaftCronClient, _ attemptInfo) error {
		resp, err := rpc.Summary(ctx, req)
		if err != nil {
			return err
		}
		out = resp
		return nil
	})
	return out, err
}

// ListCronJobsPage reads one page of the CronJobs of a namespace ("" for
// every namespace): at most limit of them from the continue token cont
// ("" for the first page), and the token of the next page ("" after the
// last).
func (c *Client) ListCronJobsPage(ctx context.Context, namespace string, limit int32, cont string) ([]*pb.CronJob, string, error) {
	req := &pb.ListRequest{Kind: KindCronJob, Namespace: namespace, AllNamespaces: namespace == "", Limit: limit, Continue: cont}
	var out []*pb.CronJob
	var next string
	err := c.do(ctx, "list cronjobs", func(ctx context.Context, rpc pb.RaftCronClient, _ attemptInfo) error {
		resp, err := rpc.List(ctx, req)
		if err != nil {
			return err
		}
		out = out[:0]
		for _, it := range resp.GetItems() {
			if cj := it.GetCronJob(); cj != nil {
				out = append(out, cj)
			}
		}
		next = resp.GetContinue()
		return nil
	})
	return out, next, err
}
