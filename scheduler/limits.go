package scheduler

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// Limits are the quotas a server enforces on what users write, so that no
// request can exhaust the leader. Each default is stated here once; the
// server flags of the same names change them (docs/security.md lists them).
type Limits struct {
	// MaxObjectBytes bounds one CronJob, Job or Secret as encoded
	// (--max-object-size).
	MaxObjectBytes int
	// MaxCronJobsPerNamespace, MaxJobsPerNamespace and MaxSecretsPerNamespace
	// bound how many objects of each kind a namespace holds
	// (--max-cronjobs-per-namespace, --max-jobs-per-namespace,
	// --max-secrets-per-namespace). Jobs made by CronJobs count too, but
	// only applied Jobs are refused: a CronJob's history limits bound its own.
	MaxCronJobsPerNamespace int
	MaxJobsPerNamespace     int
	MaxSecretsPerNamespace  int
	// MaxParallelism and MaxCompletions bound a Job's spec.parallelism and
	// spec.completions (--max-parallelism, --max-completions).
	MaxParallelism int32
	MaxCompletions int32
}

// Default limits.
const (
	DefaultMaxObjectBytes          = 256 << 10
	DefaultMaxCronJobsPerNamespace = 1000
	DefaultMaxJobsPerNamespace     = 10000
	DefaultMaxSecretsPerNamespace  = 1000
	DefaultMaxParallelism          = 1000
	DefaultMaxCompletions          = maxIndexedCompletions
	// DefaultMaxPendingAttemptsPerJob: a Job has at most this many Pending
	// attempts at once; more are created as these are placed
	// (--max-pending-attempts-per-job).
	DefaultMaxPendingAttemptsPerJob = 100
	// DefaultMaxUnfinishedAttemptsPerNamespace: no attempt is created in a
	// namespace that has this many unfinished (Pending, Assigned or
	// Running) attempts (--max-unfinished-attempts-per-namespace).
	DefaultMaxUnfinishedAttemptsPerNamespace = 5000
)

// WithDefaults fills every zero limit with its default.
func (l Limits) WithDefaults() Limits {
	if l.MaxObjectBytes <= 0 {
		l.MaxObjectBytes = DefaultMaxObjectBytes
	}
	if l.MaxCronJobsPerNamespace <= 0 {
		l.MaxCronJobsPerNamespace = DefaultMaxCronJobsPerNamespace
	}
	if l.MaxJobsPerNamespace <= 0 {
		l.MaxJobsPerNamespace = DefaultMaxJobsPerNamespace
	}
	if l.MaxSecretsPerNamespace <= 0 {
		l.MaxSecretsPerNamespace = DefaultMaxSecretsPerNamespace
	}
	if l.MaxParallelism <= 0 {
		l.MaxParallelism = DefaultMaxParallelism
	}
	if l.MaxCompletions <= 0 {
		l.MaxCompletions = DefaultMaxCompletions
	}
	return l
}

// Counter tells how many objects of a kind (CronJob, Job or Secret) a
// namespace holds, and whether one of a name exists already (an update,
// which adds nothing). CheckLimits counts each namespace once per call.
type Counter interface {
	CountIn(kind, namespace string) int
	Exists(kind, namespace, name string) bool
}

// CheckLimits refuses resources (prepared by PrepareResources) that break a
// limit, with an error wrapping pb.ErrLimitExceeded that names the object,
// the limit, its value and the flag that sets it.
func CheckLimits(res []*pb.Resource, l Limits, count Counter) error {
	l = l.WithDefaults()
	type key struct{ kind, ns string }
	added := map[key]int{}
	held := map[key]int{}
	for _, r := range res {
		kind, md, size := "", (*pb.ObjectMeta)(nil), proto.Size(r)
		var spec *pb.JobSpec
		switch k := r.GetKind().(type) {
		case *pb.Resource_CronJob:
			kind, md, spec = pb.KindCronJob, k.CronJob.GetMetadata(), k.CronJob.GetSpec().GetJobTemplate().GetSpec()
		case *pb.Resource_Job:
			kind, md, spec = pb.KindJob, k.Job.GetMetadata(), k.Job.GetSpec()
		case *pb.Resource_Secret:
			kind, md = pb.KindSecret, k.Secret.GetMetadata()
		default:
			continue
		}
		what := fmt.Sprintf("%s %q", kind, md.GetName())
		if size > l.MaxObjectBytes {
			return fmt.Errorf("%s is %d bytes, over the object size limit of %d bytes (--max-object-size): %w",
				what, size, l.MaxObjectBytes, pb.ErrLimitExceeded)
		}
		if spec != nil {
			if p := spec.GetParallelism(); p > l.MaxParallelism {
				return fmt.Errorf("%s: parallelism %d is over the limit of %d (--max-parallelism): %w", what, p, l.MaxParallelism, pb.ErrLimitExceeded)
			}
			if c := spec.GetCompletions(); c > l.MaxCompletions {
				return fmt.Errorf("%s: completions %d is over the limit of %d (--max-completions): %w", what, c, l.MaxCompletions, pb.ErrLimitExceeded)
			}
		}
		if count.Exists(kind, md.GetNamespace(), md.GetName()) {
			continue
		}
		k := key{kind, md.GetNamespace()}
		n, ok := held[k]
		if !ok {
			n = count.CountIn(kind, md.GetNamespace())
			held[k] = n
		}
		added[k]++
		max, flag := l.MaxJobsPerNamespace, "--max-jobs-per-namespace"
		switch kind {
		case pb.KindCronJob:
			max, flag = l.MaxCronJobsPerNamespace, "--max-cronjobs-per-namespace"
		case pb.KindSecret:
			max, flag = l.MaxSecretsPerNamespace, "--max-secrets-per-namespace"
		}
		if n+added[k] > max {
			return fmt.Errorf("%s: namespace %q would hold %d %ss, over the limit of %d per namespace (%s): %w",
				what, md.GetNamespace(), n+added[k], kind, max, flag, pb.ErrLimitExceeded)
		}
	}
	return nil
}
