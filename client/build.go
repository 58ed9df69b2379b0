package client

import (
	"maps"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// Container is what an attempt runs: an image for the docker runtime, or a
// command for the exec runtime (with Exec on the builder).
type Container struct {
	// Name defaults to the CronJob's or Job's name.
	Name       string
	Image      string
	Command    []string
	Args       []string
	Env        map[string]string
	WorkingDir string
}

// proto converts c to the API's container; env is sorted by name so that
// the same Container always makes the same object.
func (c Container) proto(defaultName string) *pb.Container {
	out := &pb.Container{
		Name: c.Name, Image: c.Image, WorkingDir: c.WorkingDir,
		Command: append([]string(nil), c.Command...), Args: append([]string(nil), c.Args...),
	}
	if out.Name == "" {
		out.Name = defaultName
	}
	for _, k := range sortedKeys(c.Env) {
		out.Env = append(out.Env, &pb.EnvVar{Name: k, Value: c.Env[k]})
	}
	return out
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

// jobSpecBuilder holds the setters that CronJobBuilder and JobBuilder share:
// they act on the object's metadata and its Job spec and return the outer
// builder, so calls chain.
type jobSpecBuilder[B any] struct {
	self B
	meta *pb.ObjectMeta
	spec *pb.JobSpec
}

func (b *jobSpecBuilder[B]) pod() *pb.PodSpec { return b.spec.GetTemplate().GetSpec() }

// Namespace puts the object in namespace ns (default: DefaultNamespace).
func (b *jobSpecBuilder[B]) Namespace(ns string) B { b.meta.Namespace = ns; return b.self }

// Label sets the object's label key to value.
func (b *jobSpecBuilder[B]) Label(key, value string) B {
	if b.meta.Labels == nil {
		b.meta.Labels = map[string]string{}
	}
	b.meta.Labels[key] = value
	return b.self
}

// Annotation sets the object's annotation key to value.
func (b *jobSpecBuilder[B]) Annotation(key, value string) B {
	if b.meta.Annotations == nil {
		b.meta.Annotations = map[string]string{}
	}
	b.meta.Annotations[key] = value
	return b.self
}

// BackoffLimit is how many counted failures a Job survives (default 6).
func (b *jobSpecBuilder[B]) BackoffLimit(n int32) B { b.spec.BackoffLimit = Int32(n); return b.self }

// ActiveDeadline fails a Job that runs longer than d (whole seconds).
func (b *jobSpecBuilder[B]) ActiveDeadline(d time.Duration) B {
	b.spec.ActiveDeadlineSeconds = Int32(seconds(d))
	return b.self
}

// TTLAfterFinished deletes a finished Job after d (0: at once).
func (b *jobSpecBuilder[B]) TTLAfterFinished(d time.Duration) B {
	b.spec.TtlSecondsAfterFinished = Int32(seconds(d))
	return b.self
}

// Completions is how many attempts must succeed (default 1).
func (b *jobSpecBuilder[B]) Completions(n int32) B { b.spec.Completions = Int32(n); return b.self }

// Parallelism is how many attempts may run at once (default 1).
func (b *jobSpecBuilder[B]) Parallelism(n int32) B { b.spec.Parallelism = Int32(n); return b.self }

// Indexed makes each index 0…completions−1 succeed once (CompletionIndexed).
func (b *jobSpecBuilder[B]) Indexed() B { b.spec.CompletionMode = CompletionIndexed; return b.self }

// RestartPolicy is RestartNever (the builders' default) or RestartOnFailure.
func (b *jobSpecBuilder[B]) RestartPolicy(p string) B { b.pod().RestartPolicy = p; return b.self }

// NodeSelector runs attempts only on workers whose label key is value.
func (b *jobSpecBuilder[B]) NodeSelector(key, value string) B {
	if b.pod().NodeSelector == nil {
		b.pod().NodeSelector = map[string]string{}
	}
	b.pod().NodeSelector[key] = value
	return b.self
}

// Exec runs the container's command as a plain process on an exec worker
// (NodeSelector(LabelRuntime, RuntimeExec)). The image is not used there,
// but validation still wants one: name the image the command would need.
func (b *jobSpecBuilder[B]) Exec() B { return b.NodeSelector(LabelRuntime, RuntimeExec) }

// FailJobOnExitCodes adds a podFailurePolicy rule: an attempt that exits
// with one of codes fails the whole Job at once (reason PodFailurePolicy).
// It needs RestartNever.
func (b *jobSpecBuilder[B]) FailJobOnExitCodes(codes ...int32) B {
	return b.failurePolicyRule(FailurePolicyFailJob, codes)
}

// IgnoreExitCodes adds a podFailurePolicy rule: an attempt that exits with
// one of codes is retried without counting against the backoff limit.
func (b *jobSpecBuilder[B]) IgnoreExitCodes(codes ...int32) B {
	return b.failurePolicyRule(FailurePolicyIgnore, codes)
}

func (b *jobSpecBuilder[B]) failurePolicyRule(action string, codes []int32) B {
	if b.spec.PodFailurePolicy == nil {
		b.spec.PodFailurePolicy = &pb.PodFailurePolicy{}
	}
	b.spec.PodFailurePolicy.Rules = append(b.spec.PodFailurePolicy.Rules, &pb.PodFailurePolicyRule{
		Action:      action,
		OnExitCodes: &pb.PodFailurePolicyOnExitCodesRequirement{Operator: ExitCodesIn, Values: append([]int32(nil), codes...)},
	})
	return b.self
}

// seconds rounds d up to whole seconds.
func seconds(d time.Duration) int32 {
	return int32((d + time.Second - 1) / time.Second)
}

func newJobSpec(name string, c Container) *pb.JobSpec {
	return &pb.JobSpec{Template: &pb.PodTemplateSpec{Spec: &pb.PodSpec{
		RestartPolicy: RestartNever,
		Containers:    []*pb.Container{c.proto(name)},
	}}}
}

// CronJobBuilder makes a CronJob in a few readable lines:
//
//	cj := client.NewCronJob("nightly", "0 3 * * *", client.Container{Image: "backup:1.4"}).
//		TimeZone("Europe/Berlin").Forbid().Build()
//
// Unset fields take the server's defaults; the server validates the result.
type CronJobBuilder struct {
	jobSpecBuilder[*CronJobBuilder]
	cj *pb.CronJob
}

// NewCronJob starts a CronJob named name that runs c on schedule (five cron
// fields, a descriptor such as @daily, or @every 10m), with RestartNever.
func NewCronJob(name, schedule string, c Container) *CronJobBuilder {
	spec := newJobSpec(name, c)
	cj := &pb.CronJob{
		ApiVersion: pb.APIVersion, Kind: KindCronJob,
		Metadata: &pb.ObjectMeta{Name: name},
		Spec:     &pb.CronJobSpec{Schedule: schedule, JobTemplate: &pb.JobTemplateSpec{Spec: spec}},
	}
	b := &CronJobBuilder{cj: cj}
	b.jobSpecBuilder = jobSpecBuilder[*CronJobBuilder]{self: b, meta: cj.Metadata, spec: spec}
	return b
}

// TimeZone reads the schedule in an IANA zone (default UTC).
func (b *CronJobBuilder) TimeZone(tz string) *CronJobBuilder {
	b.cj.Spec.TimeZone = String(tz)
	return b
}

// Concurrency sets the concurrency policy: ConcurrencyAllow, ConcurrencyForbid or ConcurrencyReplace.
func (b *CronJobBuilder) Concurrency(policy string) *CronJobBuilder {
	b.cj.Spec.ConcurrencyPolicy = policy
	return b
}

// Forbid never runs two Jobs of the CronJob at once (ConcurrencyForbid).
func (b *CronJobBuilder) Forbid() *CronJobBuilder { return b.Concurrency(ConcurrencyForbid) }

// Replace stops a running Job when the next tick comes (ConcurrencyReplace).
func (b *CronJobBuilder) Replace() *CronJobBuilder { return b.Concurrency(ConcurrencyReplace) }

// CatchUp sets what a new leader does with missed ticks: CatchUpLatest, CatchUpAll or CatchUpNone.
func (b *CronJobBuilder) CatchUp(policy string) *CronJobBuilder {
	b.cj.Spec.CatchUp = policy
	return b
}

// StartingDeadline skips a tick that could not start within d of its time.
func (b *CronJobBuilder) StartingDeadline(d time.Duration) *CronJobBuilder {
	b.cj.Spec.StartingDeadlineSeconds = Int32(seconds(d))
	return b
}

// History keeps this many finished Jobs (defaults 3 and 1).
func (b *CronJobBuilder) History(successful, failed int32) *CronJobBuilder {
	b.cj.Spec.SuccessfulJobsHistoryLimit = Int32(successful)
	b.cj.Spec.FailedJobsHistoryLimit = Int32(failed)
	return b
}

// DependsOn makes each tick wait until the upstream CronJob's run for the
// same window succeeded, for at most within (0: until this CronJob's next
// tick); see docs/pipelines.md. Call it once per upstream.
func (b *CronJobBuilder) DependsOn(upstream string, within time.Duration) *CronJobBuilder {
	d := &pb.CronJobDependency{CronJob: upstream}
	if within > 0 {
		d.Within = within.String()
	}
	b.cj.Spec.DependsOn = append(b.cj.Spec.DependsOn, d)
	return b
}

// Suspend creates the CronJob suspended: no tick runs until it is resumed.
func (b *CronJobBuilder) Suspend() *CronJobBuilder {
	b.cj.Spec.Suspend = Bool(true)
	return b
}

// Build returns the CronJob (a copy: the builder may be used again).
func (b *CronJobBuilder) Build() *CronJob { return proto.Clone(b.cj).(*pb.CronJob) }

// JobBuilder makes a Job that runs once, outside any schedule:
//
//	job := client.NewJob("migrate-42", client.Container{Image: "migrate:2"}).BackoffLimit(0).Build()
type JobBuilder struct {
	jobSpecBuilder[*JobBuilder]
	job *pb.Job
}

// NewJob starts a Job named name that runs c, with RestartNever.
func NewJob(name string, c Container) *JobBuilder {
	spec := newJobSpec(name, c)
	job := &pb.Job{ApiVersion: pb.APIVersion, Kind: KindJob, Metadata: &pb.ObjectMeta{Name: name}, Spec: spec}
	b := &JobBuilder{job: job}
	b.jobSpecBuilder = jobSpecBuilder[*JobBuilder]{self: b, meta: job.Metadata, spec: spec}
	return b
}

// Suspend creates the Job suspended: nothing runs until it is resumed.
func (b *JobBuilder) Suspend() *JobBuilder {
	b.spec.Suspend = Bool(true)
	return b
}

// Build returns the Job (a copy: the builder may be used again).
func (b *JobBuilder) Build() *Job { return proto.Clone(b.job).(*pb.Job) }

// CronJobResource wraps a CronJob for Apply and EncodeManifest.
func CronJobResource(cj *CronJob) *Resource {
	return &pb.Resource{Kind: &pb.Resource_CronJob{CronJob: cj}}
}

// JobResource wraps a Job for Apply and EncodeManifest.
func JobResource(job *Job) *Resource {
	return &pb.Resource{Kind: &pb.Resource_Job{Job: job}}
}
