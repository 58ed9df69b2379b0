package client

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"google.golang.org/protobuf/proto"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/scheduler"
)

// ObjectDiff is what applying one object would change in what the cluster
// stores, as `kubectl diff` shows it.
type ObjectDiff struct {
	Kind, Namespace, Name string
	// Live is the object as stored, Applied as it would be stored after the
	// apply (defaults filled in), both in the manifest shape as YAML without
	// status and the metadata the server sets (uid, resourceVersion,
	// generation, creationTimestamp). Live is "" for an object that does not
	// exist. Secret values read REDACTED on both sides: they are never read
	// back, so a changed value shows no difference here.
	Live, Applied string
	// Unified is the unified diff from Live to Applied, "" when they are equal.
	Unified string
}

// Diff compares each resource, as Apply would store it, with the stored
// object of the same kind, namespace and name. Resources that do not pass
// validation are an error matching ErrInvalid, as Apply's would be; nothing
// is changed either way.
func (c *Client) Diff(ctx context.Context, resources []*pb.Resource) ([]ObjectDiff, error) {
	applied := make([]*pb.Resource, len(resources))
	for i, r := range resources {
		applied[i] = proto.Clone(r).(*pb.Resource)
	}
	if err := scheduler.PrepareResources(applied); err != nil {
		return nil, fmt.Errorf("diff: %w", err)
	}
	out := make([]ObjectDiff, 0, len(applied))
	for _, r := range applied {
		kind, meta := resourceKind(r)
		d := ObjectDiff{Kind: kind, Namespace: meta.GetNamespace(), Name: meta.GetName()}
		live, err := c.get(ctx, kind, d.Namespace, d.Name)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return nil, err
		default:
			if d.Live, err = diffText(live); err != nil {
				return nil, err
			}
		}
		if d.Applied, err = diffText(r); err != nil {
			return nil, err
		}
		if d.Live != d.Applied {
			path := strings.ToLower(kind) + "/" + d.Namespace + "/" + d.Name
			from := "live/" + path
			if d.Live == "" {
				from = "/dev/null"
			}
			d.Unified, err = difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
				A: difflib.SplitLines(d.Live), B: difflib.SplitLines(d.Applied),
				FromFile: from, ToFile: "applied/" + path, Context: 3,
			})
			if err != nil {
				return nil, fmt.Errorf("diff %s: %w", path, err)
			}
		}
		out = append(out, d)
	}
	return out, nil
}

func resourceKind(r *pb.Resource) (string, *pb.ObjectMeta) {
	switch k := r.GetKind().(type) {
	case *pb.Resource_CronJob:
		return KindCronJob, k.CronJob.GetMetadata()
	case *pb.Resource_Job:
		return KindJob, k.Job.GetMetadata()
	case *pb.Resource_Secret:
		return KindSecret, k.Secret.GetMetadata()
	}
	return "", nil
}

// diffText is an object as Diff compares it: YAML without status and the
// metadata the server sets.
func diffText(r *pb.Resource) (string, error) {
	r = proto.Clone(r).(*pb.Resource)
	var meta *pb.ObjectMeta
	switch k := r.GetKind().(type) {
	case *pb.Resource_CronJob:
		k.CronJob.Status, meta = nil, k.CronJob.GetMetadata()
	case *pb.Resource_Job:
		k.Job.Status, meta = nil, k.Job.GetMetadata()
	case *pb.Resource_Secret:
		meta = k.Secret.GetMetadata()
	}
	if meta != nil {
		meta.Uid, meta.ResourceVersion, meta.Generation, meta.CreationTimestamp = "", "", 0, nil
	}
	b, err := EncodeManifest(r, "yaml")
	return string(b), err
}
