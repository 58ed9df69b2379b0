package scheduler

import (
	"strings"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"google.golang.org/protobuf/proto"
)

// Defaults, as Kubernetes batch/v1 fills them, plus raftcron's own fields.
const (
	DefaultNamespace                  = pb.DefaultNamespace
	DefaultAPIVersion                 = pb.APIVersion
	DefaultConcurrencyPolicy          = ConcurrencyAllow
	DefaultSuccessfulJobsHistoryLimit = 3
	DefaultFailedJobsHistoryLimit     = 1
	DefaultCatchUp                    = CatchUpLatest
	DefaultCatchUpLimit               = 100
	DefaultBackoffLimit               = 6
	DefaultCompletionMode             = "NonIndexed"
	DefaultTerminationGracePeriod     = 30

	// The Job controller's retry delay: DefaultBackoffBase after the first
	// counted failure, doubling, at most DefaultBackoffCap (JobOptions and
	// the server's --backoff-base and --backoff-cap).
	DefaultBackoffBase = 10 * time.Second
	DefaultBackoffCap  = 10 * time.Minute

	// DefaultDispatchAhead is how long before its tick a Job is decided
	// and dispatched (CronOptions.DispatchAhead, the server's
	// --dispatch-ahead): longer than a Raft commit and a dispatch take on
	// a busy cluster, short enough that a suspend rarely lands in it.
	DefaultDispatchAhead = 500 * time.Millisecond
	// MaxDispatchAhead bounds --dispatch-ahead, and how long before its
	// tick a crowd is decided (CronOptions.CrowdRate).
	MaxDispatchAhead = 10 * time.Second
	// DefaultCrowdRate: how many ticks of a crowd due at the same instant
	// are decided per second ahead of it (CronOptions.CrowdRate). A
	// thousand Jobs, their attempts and assignments commit in 0.4–0.6 s on
	// the 2-core development machine while the workers hold the runs
	// decided before them (BENCHMARKS.md).
	DefaultCrowdRate = 1000
)

// SetCronJobDefaults fills the unset fields of a CronJob the way Kubernetes
// does (concurrencyPolicy Allow, suspend false, history limits 3 and 1) plus
// raftcron's catchUp Latest and catchUpLimit 100, and defaults the Job
// template. It never overwrites a value the user set.
func SetCronJobDefaults(c *pb.CronJob) {
	if c == nil {
		return
	}
	if c.ApiVersion == "" {
		c.ApiVersion = DefaultAPIVersion
	}
	if c.Kind == "" {
		c.Kind = pb.KindCronJob
	}
	setMetaDefaults(&c.Metadata)
	if c.Spec == nil {
		c.Spec = &pb.CronJobSpec{}
	}
	s := c.Spec
	if s.ConcurrencyPolicy == "" {
		s.ConcurrencyPolicy = DefaultConcurrencyPolicy
	}
	if s.Suspend == nil {
		s.Suspend = proto.Bool(false)
	}
	if s.SuccessfulJobsHistoryLimit == nil {
		s.SuccessfulJobsHistoryLimit = proto.Int32(DefaultSuccessfulJobsHistoryLimit)
	}
	if s.FailedJobsHistoryLimit == nil {
		s.FailedJobsHistoryLimit = proto.Int32(DefaultFailedJobsHistoryLimit)
	}
	if s.CatchUp == "" {
		s.CatchUp = DefaultCatchUp
	}
	dependsOnFromAnnotation(c)
	if s.CatchUpLimit == nil {
		s.CatchUpLimit = proto.Int32(DefaultCatchUpLimit)
	}
	if s.JobTemplate == nil {
		s.JobTemplate = &pb.JobTemplateSpec{}
	}
	if s.JobTemplate.Spec == nil {
		s.JobTemplate.Spec = &pb.JobSpec{}
	}
	SetJobSpecDefaults(s.JobTemplate.Spec)
}

// SetJobDefaults fills the unset fields of a Job (see SetJobSpecDefaults).
func SetJobDefaults(j *pb.Job) {
	if j == nil {
		return
	}
	if j.ApiVersion == "" {
		j.ApiVersion = DefaultAPIVersion
	}
	if j.Kind == "" {
		j.Kind = "Job"
	}
	setMetaDefaults(&j.Metadata)
	if j.Spec == nil {
		j.Spec = &pb.JobSpec{}
	}
	SetJobSpecDefaults(j.Spec)
}

func setMetaDefaults(m **pb.ObjectMeta) {
	if *m == nil {
		*m = &pb.ObjectMeta{}
	}
	if (*m).Namespace == "" {
		(*m).Namespace = DefaultNamespace
	}
}

// SetJobSpecDefaults fills a JobSpec as Kubernetes does: backoffLimit 6;
// completions and parallelism 1 when both are unset; completionMode
// NonIndexed; suspend false; terminationGracePeriodSeconds 30; each
// container's imagePullPolicy IfNotPresent, or Always when the image has no
// tag or the tag is latest; onPodConditions status "True". restartPolicy is
// required and left as given; a podFailurePolicy rule's containerName is left
// alone.
func SetJobSpecDefaults(s *pb.JobSpec) {
	if s == nil {
		return
	}
	if s.BackoffLimit == nil {
		s.BackoffLimit = proto.Int32(DefaultBackoffLimit)
	}
	if s.Completions == nil && s.Parallelism == nil {
		s.Completions = proto.Int32(1)
		s.Parallelism = proto.Int32(1)
	}
	if s.Parallelism == nil {
		// Kubernetes: parallelism defaults to 1 whenever it is unset.
		s.Parallelism = proto.Int32(1)
	}
	if s.CompletionMode == "" {
		s.CompletionMode = DefaultCompletionMode
	}
	if s.Suspend == nil {
		s.Suspend = proto.Bool(false)
	}
	if pfp := s.PodFailurePolicy; pfp != nil {
		for _, r := range pfp.Rules {
			for _, c := range r.GetOnPodConditions() {
				if c != nil && c.Status == "" {
					c.Status = pb.ConditionTrue
				}
			}
		}
	}
	if s.Template == nil {
		s.Template = &pb.PodTemplateSpec{}
	}
	if s.Template.Spec == nil {
		s.Template.Spec = &pb.PodSpec{}
	}
	ps := s.Template.Spec
	if ps.TerminationGracePeriodSeconds == nil {
		ps.TerminationGracePeriodSeconds = proto.Int32(DefaultTerminationGracePeriod)
	}
	for _, c := range ps.Containers {
		if c != nil && c.ImagePullPolicy == "" {
			c.ImagePullPolicy = DefaultImagePullPolicy(c.Image)
		}
	}
}

// DefaultImagePullPolicy is Kubernetes' rule: Always when the image has no
// tag or the tag is "latest" (and no digest), IfNotPresent otherwise.
func DefaultImagePullPolicy(image string) string {
	if strings.Contains(image, "@") {
		return "IfNotPresent"
	}
	// The tag follows the last ':' after the last '/' ("host:5000/app" has none).
	last := image[strings.LastIndex(image, "/")+1:]
	i := strings.LastIndex(last, ":")
	if i < 0 || last[i+1:] == "latest" {
		return "Always"
	}
	return "IfNotPresent"
}
