package scheduler

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Environment variables and container labels every attempt gets.
const (
	EnvCompletionIndex = "JOB_COMPLETION_INDEX"
	EnvJob             = "RAFTCRON_JOB"
	EnvNamespace       = "RAFTCRON_NAMESPACE"
	EnvAttempt         = "RAFTCRON_ATTEMPT"
	EnvScheduledTime   = "RAFTCRON_SCHEDULED_TIME"

	LabelJob       = "raftcron.io/job"
	LabelNamespace = "raftcron.io/namespace"
	LabelIndex     = "raftcron.io/index"
	LabelAttempt   = "raftcron.io/attempt"
)

// heldUntil is the tick of a cron Job created before it (decided ahead:
// CronOptions.DispatchAhead), which its runs do not start before; zero for
// every other Job.
func heldUntil(job *pb.Job) time.Time {
	st := job.GetStatus().GetScheduledTime()
	if st == nil || job.GetStatus().GetManual() || !job.GetMetadata().GetCreationTimestamp().AsTime().Before(st.AsTime()) {
		return time.Time{}
	}
	return st.AsTime()
}

// RunSpecFor builds what a worker runs for an attempt of a Job, from the
// Job's single container:
//
//   - image and pull policy (when unset: Always for an untagged or :latest
//     image, else IfNotPresent, as Kubernetes);
//   - command, args, workingDir, and env: the container's env, then
//     JOB_COMPLETION_INDEX (Indexed Jobs), RAFTCRON_JOB, RAFTCRON_NAMESPACE,
//     RAFTCRON_ATTEMPT and RAFTCRON_SCHEDULED_TIME (the Job's
//     batch.kubernetes.io/cronjob-scheduled-timestamp annotation, when
//     present), which override user variables of the same name;
//   - cpu_millis and memory_bytes from resources.limits (0 = unlimited; an
//     unparsable quantity, which validation rejects, also gives 0);
//   - mounts from hostPath volumes named by volumeMounts (other volumes are
//     skipped), privileged, hostNetwork, hostPID;
//   - the securityContext's user, group, runAsNonRoot,
//     readOnlyRootFilesystem, allowPrivilegeEscalation (false unless set or
//     privileged) and capabilities;
//   - start_at: the tick, for a cron Job created before it (decided ahead:
//     CronOptions.DispatchAhead);
//   - kill_grace from terminationGracePeriodSeconds (default 30s);
//   - deadline = status.start_time + activeDeadlineSeconds, when both are set;
//   - labels: the template's labels, then raftcron.io/job, /namespace, /index
//     and /attempt.
func RunSpecFor(job *pb.Job, a *pb.Attempt) *pb.RunSpec {
	spec := job.GetSpec()
	pod := spec.GetTemplate().GetSpec()
	var c *pb.Container
	if cs := pod.GetContainers(); len(cs) > 0 {
		c = cs[0]
	}
	rs := &pb.RunSpec{
		Image:           c.GetImage(),
		ImagePullPolicy: c.GetImagePullPolicy(),
		Command:         append([]string(nil), c.GetCommand()...),
		Args:            append([]string(nil), c.GetArgs()...),
		WorkingDir:      c.GetWorkingDir(),
		Env:             map[string]string{},
		Privileged:      c.GetSecurityContext().GetPrivileged(),
		HostNetwork:     pod.GetHostNetwork(),
		HostPid:         pod.GetHostPid(),
		Labels:          map[string]string{},
	}
	if sc := c.GetSecurityContext(); sc != nil {
		rs.RunAsUser, rs.RunAsGroup = sc.RunAsUser, sc.RunAsGroup
		rs.RunAsNonRoot = sc.GetRunAsNonRoot()
		rs.ReadOnlyRootFilesystem = sc.GetReadOnlyRootFilesystem()
		rs.AllowPrivilegeEscalation = sc.GetAllowPrivilegeEscalation() || sc.GetPrivileged()
		rs.CapAdd = append([]string(nil), sc.GetCapabilities().GetAdd()...)
		rs.CapDrop = append([]string(nil), sc.GetCapabilities().GetDrop()...)
	}
	if rs.ImagePullPolicy == "" {
		rs.ImagePullPolicy = DefaultImagePullPolicy(rs.Image)
	}
	for _, e := range c.GetEnv() {
		rs.Env[e.GetName()] = e.GetValue()
	}
	ns, name := job.GetMetadata().GetNamespace(), job.GetMetadata().GetName()
	if spec.GetCompletionMode() == "Indexed" {
		rs.Env[EnvCompletionIndex] = strconv.Itoa(int(a.GetIndex()))
	}
	rs.Env[EnvJob] = name
	rs.Env[EnvNamespace] = ns
	rs.Env[EnvAttempt] = a.GetName()
	if ts, ok := job.GetMetadata().GetAnnotations()[AnnotationScheduledTimestamp]; ok {
		rs.Env[EnvScheduledTime] = ts
	}
	if at := heldUntil(job); !at.IsZero() {
		rs.StartAt = timestamppb.New(at)
	}

	limits := c.GetResources().GetLimits()
	if q, ok := limits["cpu"]; ok {
		if v, err := ParseCPU(q); err == nil {
			rs.CpuMillis = v
		}
	}
	if q, ok := limits["memory"]; ok {
		if v, err := ParseMemory(q); err == nil {
			rs.MemoryBytes = v
		}
	}

	hostPaths := map[string]string{}
	for _, v := range pod.GetVolumes() {
		if v.GetHostPath() != nil {
			hostPaths[v.GetName()] = v.GetHostPath().GetPath()
		}
	}
	for _, m := range c.GetVolumeMounts() {
		if hp, ok := hostPaths[m.GetName()]; ok {
			rs.Mounts = append(rs.Mounts, &pb.Mount{HostPath: hp, ContainerPath: m.GetMountPath(), ReadOnly: m.GetReadOnly()})
		}
	}

	grace := int32(DefaultTerminationGracePeriod)
	if g := pod.TerminationGracePeriodSeconds; g != nil {
		grace = max(*g, 0)
	}
	rs.KillGrace = durationpb.New(time.Duration(grace) * time.Second)
	if ads := spec.ActiveDeadlineSeconds; ads != nil && job.GetStatus().GetStartTime() != nil {
		rs.Deadline = timestamppb.New(job.GetStatus().GetStartTime().AsTime().Add(time.Duration(*ads) * time.Second))
	}

	for k, v := range job.GetSpec().GetTemplate().GetMetadata().GetLabels() {
		rs.Labels[k] = v
	}
	rs.Labels[LabelJob] = name
	rs.Labels[LabelNamespace] = ns
	rs.Labels[LabelIndex] = strconv.Itoa(int(a.GetIndex()))
	rs.Labels[LabelAttempt] = a.GetName()
	return rs
}

// quantity suffixes as Kubernetes resource.Quantity understands them.
var binarySuffixes = map[string]int64{
	"Ki": 1 << 10,
	"Mi": 1 << 20,
	"Gi": 1 << 30,
	"Ti": 1 << 40,
	"Pi": 1 << 50,
	"Ei": 1 << 60,
}

var decimalSuffixes = map[string]int64{
	"k": 1e3,
	"M": 1e6,
	"G": 1e9,
	"T": 1e12,
	"P": 1e15,
	"E": 1e18,
}

// ParseCPU parses a Kubernetes CPU quantity ("500m", "1", "0.25", "2k") into
// millicores. Fractions of a millicore round up, as Kubernetes does.
func ParseCPU(s string) (millis int64, err error) {
	num, mult, err := splitQuantity(s)
	if err != nil {
		return 0, fmt.Errorf("cpu quantity %q: %w", s, err)
	}
	if mult == -1 { // "m": already millicores
		return roundUp(num, 1, s)
	}
	return roundUp(num, float64(mult)*1000, s)
}

// ParseMemory parses a Kubernetes memory quantity ("64Mi", "1G",
// "128974848", "1.5Gi") into bytes. Fractions of a byte round up; "m"
// (milli-bytes) is accepted like Kubernetes does.
func ParseMemory(s string) (bytes int64, err error) {
	num, mult, err := splitQuantity(s)
	if err != nil {
		return 0, fmt.Errorf("memory quantity %q: %w", s, err)
	}
	if mult == -1 {
		return roundUp(num, 0.001, s)
	}
	return roundUp(num, float64(mult), s)
}

// splitQuantity splits a quantity into its non-negative number and the
// multiplier of its suffix; -1 stands for the "m" (milli) suffix.
func splitQuantity(s string) (float64, int64, error) {
	if s == "" {
		return 0, 0, fmt.Errorf("empty quantity: %w", ErrInvalid)
	}
	numPart, suffix := s, ""
	if i := strings.IndexFunc(s, func(r rune) bool {
		return (r < '0' || r > '9') && r != '.' && r != '+'
	}); i >= 0 {
		numPart, suffix = s[:i], s[i:]
	}
	if numPart == "" {
		return 0, 0, fmt.Errorf("no number: %w", ErrInvalid)
	}
	var mult int64
	switch {
	case suffix == "":
		mult = 1
	case suffix == "m":
		mult = -1
	case binarySuffixes[suffix] != 0:
		mult = binarySuffixes[suffix]
	case decimalSuffixes[suffix] != 0:
		mult = decimalSuffixes[suffix]
	default:
		return 0, 0, fmt.Errorf("unknown suffix %q (want one of m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei): %w", suffix, ErrInvalid)
	}
	num, err := strconv.ParseFloat(numPart, 64)
	if err != nil || math.IsNaN(num) || math.IsInf(num, 0) || num < 0 {
		return 0, 0, fmt.Errorf("%q is not a non-negative number: %w", numPart, ErrInvalid)
	}
	return num, mult, nil
}

func roundUp(num, mult float64, s string) (int64, error) {
	v := math.Ceil(num*mult - 1e-9)
	if v < 0 {
		v = 0
	}
	if v >= math.MaxInt64 {
		return 0, fmt.Errorf("quantity %q is too large: %w", s, ErrInvalid)
	}
	return int64(v), nil
}
