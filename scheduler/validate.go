package scheduler

import (
	"errors"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// FieldError is one problem with one field, named by its JSON path in the
// manifest ("spec.jobTemplate.spec.template.spec.containers[0].image").
type FieldError struct {
	Field   string
	Problem string
}

func (e FieldError) String() string { return e.Field + ": " + e.Problem }

// ValidationError lists every problem found in one object. errors.Is(err,
// ErrInvalid) holds for it.
type ValidationError struct {
	Kind   string
	Name   string
	Errors []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		parts[i] = fe.String()
	}
	return fmt.Sprintf("%s %q is invalid: %s", e.Kind, e.Name, strings.Join(parts, "; "))
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Limits from Kubernetes.
const (
	// MaxCronJobNameLength leaves room for the "-<unix minutes>" suffix of the
	// Jobs a CronJob creates (63 − 11).
	MaxCronJobNameLength = 52
	// MaxJobNameLength is a DNS-1123 label's limit.
	MaxJobNameLength = 63
	// MaxPodFailurePolicyRules is Kubernetes' limit on podFailurePolicy rules.
	MaxPodFailurePolicyRules = 20
	// maxExitCodeValues is Kubernetes' limit on onExitCodes.values.
	maxExitCodeValues = 255
	// maxIndexedCompletions is Kubernetes' limit for completionMode Indexed.
	maxIndexedCompletions = 100000
)

// validationNow is the clock used to decide that a schedule never fires.
var validationNow = time.Now

type fieldErrors []FieldError

func (f *fieldErrors) add(field, format string, args ...any) {
	*f = append(*f, FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
}

// ValidateCronJob checks a CronJob (normally after SetCronJobDefaults) and
// returns a *ValidationError naming every bad field, or nil.
func ValidateCronJob(c *pb.CronJob) error {
	if c == nil {
		return &ValidationError{Kind: "CronJob", Errors: []FieldError{{Field: "(object)", Problem: "missing"}}}
	}
	var errs fieldErrors
	validateTypeMeta(&errs, c.ApiVersion, c.Kind, "CronJob")
	validateObjectMeta(&errs, c.Metadata, MaxCronJobNameLength, "CronJob")
	s := c.Spec
	if s == nil {
		errs.add("spec", "required")
		return newValidationError("CronJob", c.Metadata, errs)
	}
	validateSchedule(&errs, s.Schedule, s.TimeZone, c.Metadata.GetNamespace(), c.Metadata.GetName())
	if s.StartingDeadlineSeconds != nil && *s.StartingDeadlineSeconds < 0 {
		errs.add("spec.startingDeadlineSeconds", "must be >= 0, got %d", *s.StartingDeadlineSeconds)
	}
	if s.SuccessfulJobsHistoryLimit != nil && *s.SuccessfulJobsHistoryLimit < 0 {
		errs.add("spec.successfulJobsHistoryLimit", "must be >= 0, got %d", *s.SuccessfulJobsHistoryLimit)
	}
	if s.FailedJobsHistoryLimit != nil && *s.FailedJobsHistoryLimit < 0 {
		errs.add("spec.failedJobsHistoryLimit", "must be >= 0, got %d", *s.FailedJobsHistoryLimit)
	}
	if s.CatchUpLimit != nil && *s.CatchUpLimit < 1 {
		errs.add("spec.catchUpLimit", "must be >= 1, got %d", *s.CatchUpLimit)
	}
	validateEnum(&errs, "spec.concurrencyPolicy", s.ConcurrencyPolicy, ConcurrencyAllow, ConcurrencyForbid, ConcurrencyReplace)
	validateEnum(&errs, "spec.catchUp", s.CatchUp, CatchUpLatest, CatchUpAll, CatchUpNone)
	validateDependsOn(&errs, c)
	if s.JobTemplate == nil || s.JobTemplate.Spec == nil {
		errs.add("spec.jobTemplate.spec", "required")
	} else {
		if m := s.JobTemplate.Metadata; m != nil {
			validateLabels(&errs, "spec.jobTemplate.metadata.labels", m.Labels)
			validateAnnotations(&errs, "spec.jobTemplate.metadata.annotations", m.Annotations)
		}
		validateJobSpec(&errs, "spec.jobTemplate.spec", s.JobTemplate.Spec)
	}
	return newValidationError("CronJob", c.Metadata, errs)
}

// ValidateJob checks a Job (normally after SetJobDefaults) and returns a
// *ValidationError naming every bad field, or nil.
func ValidateJob(j *pb.Job) error {
	if j == nil {
		return &ValidationError{Kind: "Job", Errors: []FieldError{{Field: "(object)", Problem: "missing"}}}
	}
	var errs fieldErrors
	validateTypeMeta(&errs, j.ApiVersion, j.Kind, "Job")
	validateObjectMeta(&errs, j.Metadata, MaxJobNameLength, "Job")
	if j.Spec == nil {
		errs.add("spec", "required")
	} else {
		validateJobSpec(&errs, "spec", j.Spec)
	}
	return newValidationError("Job", j.Metadata, errs)
}

// PrepareResources fills the defaults of every resource and validates it:
// the one step the server (and the CLI's dry run) takes before anything is
// written. It returns nil or an error that joins one *ValidationError per bad
// object, so errors.Is(err, ErrInvalid) holds and every problem is listed.
func PrepareResources(res []*pb.Resource) error {
	var errs []error
	for i, r := range res {
		switch k := r.GetKind().(type) {
		case *pb.Resource_CronJob:
			if k.CronJob == nil {
				errs = append(errs, fmt.Errorf("resource %d: empty CronJob: %w", i+1, ErrInvalid))
				continue
			}
			SetCronJobDefaults(k.CronJob)
			if err := ValidateCronJob(k.CronJob); err != nil {
				errs = append(errs, err)
			}
		case *pb.Resource_Job:
			if k.Job == nil {
				errs = append(errs, fmt.Errorf("resource %d: empty Job: %w", i+1, ErrInvalid))
				continue
			}
			SetJobDefaults(k.Job)
			if err := ValidateJob(k.Job); err != nil {
				errs = append(errs, err)
			}
		case *pb.Resource_Secret:
			if k.Secret == nil {
				errs = append(errs, fmt.Errorf("resource %d: empty Secret: %w", i+1, ErrInvalid))
				continue
			}
			SetSecretDefaults(k.Secret)
			if err := ValidateSecret(k.Secret); err != nil {
				errs = append(errs, err)
			}
		default:
			errs = append(errs, fmt.Errorf("resource %d: neither a CronJob, a Job nor a Secret: %w", i+1, ErrInvalid))
		}
	}
	return errors.Join(errs...)
}

func newValidationError(kind string, m *pb.ObjectMeta, errs fieldErrors) error {
	if len(errs) == 0 {
		return nil
	}
	return &ValidationError{Kind: kind, Name: m.GetName(), Errors: errs}
}

func validateTypeMeta(errs *fieldErrors, apiVersion, kind, want string) {
	switch apiVersion {
	case "", "batch/v1", "raftcron.io/v1":
	default:
		errs.add("apiVersion", "%q is not supported; use batch/v1", apiVersion)
	}
	if kind != "" && kind != want {
		errs.add("kind", "must be %s, got %q", want, kind)
	}
}

func validateObjectMeta(errs *fieldErrors, m *pb.ObjectMeta, maxName int, kind string) {
	if m == nil || m.Name == "" {
		errs.add("metadata.name", "required")
	} else if p := dnsLabelProblem(m.Name, maxName); p != "" {
		errs.add("metadata.name", "%s", p)
	}
	if m == nil {
		return
	}
	if m.Namespace != "" {
		if p := dnsLabelProblem(m.Namespace, 63); p != "" {
			errs.add("metadata.namespace", "%s", p)
		}
	}
	validateLabels(errs, "metadata.labels", m.Labels)
	validateAnnotations(errs, "metadata.annotations", m.Annotations)
}

// NamespaceProblem says what is wrong with a namespace name, or "".
func NamespaceProblem(ns string) string { return dnsLabelProblem(ns, 63) }

var dnsLabelRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// dnsLabelProblem says what is wrong with a DNS-1123 label, or "".
func dnsLabelProblem(s string, max int) string {
	if len(s) > max {
		return fmt.Sprintf("%q is %d characters long; must be at most %d", s, len(s), max)
	}
	if !dnsLabelRE.MatchString(s) {
		return fmt.Sprintf("%q must consist of lowercase letters, digits and '-', and start and end with a letter or digit (DNS-1123 label)", s)
	}
	return ""
}

func validateEnum(errs *fieldErrors, field, v string, allowed ...string) {
	if v == "" {
		return // unset; defaults fill it
	}
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	errs.add(field, "unsupported value %q; must be one of %s", v, strings.Join(allowed, ", "))
}

// validateSchedule checks schedule and timeZone separately, so each error
// names the right field.
func validateSchedule(errs *fieldErrors, schedule string, timeZone *string, namespace, name string) {
	tzOK := true
	if timeZone != nil {
		tz := *timeZone
		switch {
		case tz == "":
			errs.add("spec.timeZone", "must name an IANA time zone such as Europe/Berlin, or be omitted")
			tzOK = false
		case tz == "Local":
			errs.add("spec.timeZone", "%q is not allowed; name an IANA time zone such as Europe/Berlin", tz)
			tzOK = false
		default:
			if _, err := time.LoadLocation(tz); err != nil {
				errs.add("spec.timeZone", "unknown time zone %q", tz)
				tzOK = false
			}
		}
	}
	expr := strings.TrimSpace(schedule)
	if expr == "" {
		errs.add("spec.schedule", "required")
		return
	}
	if strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ=") {
		if timeZone != nil {
			errs.add("spec.schedule", "TZ= or CRON_TZ= in the schedule cannot be combined with spec.timeZone; use spec.timeZone alone")
			return
		}
		zone, _, _ := strings.Cut(expr[strings.Index(expr, "=")+1:], " ")
		if zone == "Local" {
			errs.add("spec.schedule", "time zone %q is not allowed; name an IANA time zone such as Europe/Berlin", zone)
			return
		}
	}
	tz := ""
	if timeZone != nil && tzOK {
		tz = *timeZone
	}
	// With a zone that does not load, the expression is still checked (in UTC)
	// so that every bad field is reported at once.
	sched, err := ParseCronJobSchedule(expr, tz, namespace, name)
	if err != nil {
		msg := err.Error()
		var se *ScheduleError
		if errors.As(err, &se) {
			msg = se.Msg
		}
		if strings.HasPrefix(msg, "never fires") {
			errs.add("spec.schedule", "schedule %q %s", schedule, msg)
		} else {
			errs.add("spec.schedule", "unparsable schedule %q: %s", schedule, msg)
		}
		return
	}
	if sched.Next(validationNow()).IsZero() {
		errs.add("spec.schedule", "schedule %q never fires (no matching time within 5 years)", schedule)
	}
}

func validateJobSpec(errs *fieldErrors, p string, s *pb.JobSpec) {
	nonNegative := func(field string, v *int32) {
		if v != nil && *v < 0 {
			errs.add(p+"."+field, "must be >= 0, got %d", *v)
		}
	}
	nonNegative("parallelism", s.Parallelism)
	nonNegative("completions", s.Completions)
	nonNegative("backoffLimit", s.BackoffLimit)
	nonNegative("ttlSecondsAfterFinished", s.TtlSecondsAfterFinished)
	if v := s.ActiveDeadlineSeconds; v != nil && *v <= 0 {
		errs.add(p+".activeDeadlineSeconds", "must be > 0, got %d", *v)
	}
	validateEnum(errs, p+".completionMode", s.CompletionMode, "NonIndexed", "Indexed")
	if s.CompletionMode == "Indexed" {
		switch {
		case s.Completions == nil || *s.Completions < 1:
			errs.add(p+".completions", "must be >= 1 when completionMode is Indexed")
		case *s.Completions > maxIndexedCompletions:
			errs.add(p+".completions", "must be at most %d when completionMode is Indexed, got %d", maxIndexedCompletions, *s.Completions)
		}
	}

	tp := p + ".template"
	if s.Template == nil || s.Template.Spec == nil {
		errs.add(tp+".spec", "required")
		return
	}
	if m := s.Template.Metadata; m != nil {
		validateLabels(errs, tp+".metadata.labels", m.Labels)
		validateAnnotations(errs, tp+".metadata.annotations", m.Annotations)
	}
	ps := s.Template.Spec
	pp := tp + ".spec"
	switch ps.RestartPolicy {
	case "OnFailure", "Never":
	case "":
		errs.add(pp+".restartPolicy", "required: OnFailure or Never")
	case "Always":
		errs.add(pp+".restartPolicy", `"Always" is not allowed for a Job; use OnFailure or Never`)
	default:
		errs.add(pp+".restartPolicy", "unsupported value %q; must be one of OnFailure, Never", ps.RestartPolicy)
	}
	if v := ps.TerminationGracePeriodSeconds; v != nil && *v < 0 {
		errs.add(pp+".terminationGracePeriodSeconds", "must be >= 0, got %d", *v)
	}
	validateLabels(errs, pp+".nodeSelector", ps.NodeSelector)

	volumes := validateVolumes(errs, pp+".volumes", ps.Volumes)
	switch n := len(ps.Containers); n {
	case 0:
		errs.add(pp+".containers", "required: exactly one container")
	case 1:
	default:
		errs.add(pp+".containers", "must have exactly one container, got %d (raftcron runs one container per attempt)", n)
	}
	for i, c := range ps.Containers {
		validateContainer(errs, fmt.Sprintf("%s.containers[%d]", pp, i), c, volumes)
	}
	if s.PodFailurePolicy != nil {
		validatePodFailurePolicy(errs, p, s.PodFailurePolicy, ps)
	}
}

func validateVolumes(errs *fieldErrors, p string, vols []*pb.Volume) map[string]bool {
	names := map[string]bool{}
	for i, v := range vols {
		vp := fmt.Sprintf("%s[%d]", p, i)
		if v == nil {
			errs.add(vp, "empty volume")
			continue
		}
		if v.Name == "" {
			errs.add(vp+".name", "required")
		} else if pr := dnsLabelProblem(v.Name, 63); pr != "" {
			errs.add(vp+".name", "%s", pr)
		} else if names[v.Name] {
			errs.add(vp+".name", "duplicate volume name %q", v.Name)
		}
		names[v.Name] = true
		if v.HostPath == nil {
			errs.add(vp+".hostPath", "required (raftcron supports hostPath volumes only)")
			continue
		}
		if !path.IsAbs(v.HostPath.Path) {
			errs.add(vp+".hostPath.path", "must be an absolute path, got %q", v.HostPath.Path)
		}
		validateEnum(errs, vp+".hostPath.type", v.HostPath.Type,
			"DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice")
	}
	return names
}

var envNameRE = regexp.MustCompile(`^[-._a-zA-Z][-._a-zA-Z0-9]*$`)

func validateContainer(errs *fieldErrors, p string, c *pb.Container, volumes map[string]bool) {
	if c == nil {
		errs.add(p, "empty container")
		return
	}
	if c.Name == "" {
		errs.add(p+".name", "required")
	} else if pr := dnsLabelProblem(c.Name, 63); pr != "" {
		errs.add(p+".name", "%s", pr)
	}
	switch {
	case strings.TrimSpace(c.Image) == "":
		errs.add(p+".image", "required")
	case strings.ContainsAny(c.Image, " \t\n"):
		errs.add(p+".image", "%q must not contain whitespace", c.Image)
	}
	validateEnum(errs, p+".imagePullPolicy", c.ImagePullPolicy, "Always", "IfNotPresent", "Never")
	for i, e := range c.Env {
		ep := fmt.Sprintf("%s.env[%d].name", p, i)
		switch {
		case e == nil || e.Name == "":
			errs.add(ep, "required")
		case !envNameRE.MatchString(e.Name):
			errs.add(ep, "%q is not a valid environment variable name (letters, digits, '_', '-', '.'; not starting with a digit; no '=')", e.Name)
		}
		validateEnvSource(errs, fmt.Sprintf("%s.env[%d]", p, i), e)
	}
	validateSecurityContext(errs, p+".securityContext", c.SecurityContext)
	if r := c.Resources; r != nil {
		limits := validateQuantities(errs, p+".resources.limits", r.Limits)
		requests := validateQuantities(errs, p+".resources.requests", r.Requests)
		for k, req := range requests {
			if lim, ok := limits[k]; ok && req > lim {
				errs.add(p+".resources.requests."+k, "%s must be less than or equal to the limit %s", r.Requests[k], r.Limits[k])
			}
		}
	}
	mountPaths := map[string]bool{}
	for i, m := range c.VolumeMounts {
		mp := fmt.Sprintf("%s.volumeMounts[%d]", p, i)
		if m == nil {
			errs.add(mp, "empty volume mount")
			continue
		}
		switch {
		case m.Name == "":
			errs.add(mp+".name", "required")
		case !volumes[m.Name]:
			errs.add(mp+".name", "no volume named %q in the pod's volumes", m.Name)
		}
		switch {
		case !path.IsAbs(m.MountPath):
			errs.add(mp+".mountPath", "must be an absolute path, got %q", m.MountPath)
		case mountPaths[path.Clean(m.MountPath)]:
			errs.add(mp+".mountPath", "%q is mounted twice", m.MountPath)
		}
		mountPaths[path.Clean(m.MountPath)] = true
	}
}

// validateQuantities checks a resources map and returns the parsed values
// (millicores for cpu, bytes for memory).
func validateQuantities(errs *fieldErrors, p string, m map[string]string) map[string]int64 {
	out := map[string]int64{}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		var (
			n   int64
			err error
		)
		switch k {
		case "cpu":
			n, err = ParseCPU(v)
		case "memory":
			n, err = ParseMemory(v)
		default:
			errs.add(p+"."+k, "unsupported resource %q; raftcron supports cpu and memory", k)
			continue
		}
		if err != nil {
			errs.add(p+"."+k, "invalid quantity %q: %v", v, err)
			continue
		}
		out[k] = n
	}
	return out
}

func validatePodFailurePolicy(errs *fieldErrors, jp string, pfp *pb.PodFailurePolicy, ps *pb.PodSpec) {
	p := jp + ".podFailurePolicy"
	if ps.RestartPolicy != "Never" && ps.RestartPolicy != "" {
		errs.add(p, "only allowed when %s.template.spec.restartPolicy is Never, got %q", jp, ps.RestartPolicy)
	}
	if n := len(pfp.Rules); n > MaxPodFailurePolicyRules {
		errs.add(p+".rules", "at most %d rules are allowed, got %d", MaxPodFailurePolicyRules, n)
	}
	containers := map[string]bool{}
	for _, c := range ps.Containers {
		if c != nil {
			containers[c.Name] = true
		}
	}
	for i, r := range pfp.Rules {
		rp := fmt.Sprintf("%s.rules[%d]", p, i)
		if r == nil {
			errs.add(rp, "empty rule")
			continue
		}
		switch r.Action {
		case "FailJob", "Ignore", "Count":
		case "":
			errs.add(rp+".action", "required: FailJob, Ignore or Count")
		case "FailIndex":
			errs.add(rp+".action", "FailIndex is not supported by raftcron (it needs backoffLimitPerIndex); use FailJob, Ignore or Count")
		default:
			errs.add(rp+".action", "unsupported value %q; must be one of FailJob, Ignore, Count", r.Action)
		}
		hasCodes, hasConds := r.OnExitCodes != nil, len(r.OnPodConditions) > 0
		switch {
		case hasCodes && hasConds:
			errs.add(rp, "specify exactly one of onExitCodes and onPodConditions, not both")
		case !hasCodes && !hasConds:
			errs.add(rp, "specify exactly one of onExitCodes and onPodConditions")
		}
		if hasCodes {
			validateOnExitCodes(errs, rp+".onExitCodes", r.OnExitCodes, containers)
		}
		for j, c := range r.OnPodConditions {
			cp := fmt.Sprintf("%s.onPodConditions[%d]", rp, j)
			if c == nil {
				errs.add(cp, "empty pattern")
				continue
			}
			switch c.Type {
			case pb.ReasonWorkerLost, "DisruptionTarget":
			case "":
				errs.add(cp+".type", "required: WorkerLost or DisruptionTarget")
			default:
				errs.add(cp+".type", "unsupported condition %q; raftcron knows WorkerLost (DisruptionTarget is its Kubernetes name)", c.Type)
			}
			if c.Status != "" && c.Status != pb.ConditionTrue {
				errs.add(cp+".status", `unsupported value %q; must be "True"`, c.Status)
			}
		}
	}
}

func validateOnExitCodes(errs *fieldErrors, p string, oc *pb.PodFailurePolicyOnExitCodesRequirement, containers map[string]bool) {
	if oc.ContainerName != nil && !containers[*oc.ContainerName] {
		errs.add(p+".containerName", "no container named %q in the template", *oc.ContainerName)
	}
	switch oc.Operator {
	case "In", "NotIn":
	case "":
		errs.add(p+".operator", "required: In or NotIn")
	default:
		errs.add(p+".operator", "unsupported value %q; must be one of In, NotIn", oc.Operator)
	}
	switch n := len(oc.Values); {
	case n == 0:
		errs.add(p+".values", "required: at least one exit code")
	case n > maxExitCodeValues:
		errs.add(p+".values", "at most %d values are allowed, got %d", maxExitCodeValues, n)
	}
	seen := map[int32]bool{}
	for i, v := range oc.Values {
		vp := fmt.Sprintf("%s.values[%d]", p, i)
		if seen[v] {
			errs.add(vp, "duplicate value %d", v)
		}
		seen[v] = true
		if v == 0 && oc.Operator == "In" {
			errs.add(vp, "0 is not allowed with operator In (exit code 0 is success)")
		}
	}
}

var (
	labelNameRE  = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	dnsSubdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
)

// qualifiedNameProblem checks a label or annotation key: an optional DNS
// subdomain prefix and '/', then a name of at most 63 characters.
func qualifiedNameProblem(k string) string {
	name := k
	if prefix, n, ok := strings.Cut(k, "/"); ok {
		if prefix == "" || len(prefix) > 253 || !dnsSubdomain.MatchString(prefix) {
			return fmt.Sprintf("key %q: the prefix before '/' must be a DNS subdomain such as example.com", k)
		}
		name = n
	}
	if name == "" || len(name) > 63 || !labelNameRE.MatchString(name) {
		return fmt.Sprintf("key %q must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (optionally prefixed by a DNS subdomain and '/')", k)
	}
	return ""
}

func validateLabels(errs *fieldErrors, p string, labels map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		if pr := qualifiedNameProblem(k); pr != "" {
			errs.add(p, "%s", pr)
			continue
		}
		if v := labels[k]; v != "" && (len(v) > 63 || !labelNameRE.MatchString(v)) {
			errs.add(p+"."+k, "value %q must be empty or at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit", v)
		}
	}
}

func validateAnnotations(errs *fieldErrors, p string, ann map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(ann)) {
		if pr := qualifiedNameProblem(k); pr != "" {
			errs.add(p, "%s", pr)
		}
	}
}

var capabilityRE = regexp.MustCompile(`^(CAP_)?[A-Z][A-Z_]*$`)

func validateSecurityContext(errs *fieldErrors, p string, sc *pb.SecurityContext) {
	if sc == nil {
		return
	}
	if sc.RunAsUser != nil && *sc.RunAsUser < 0 {
		errs.add(p+".runAsUser", "must be >= 0, got %d", *sc.RunAsUser)
	}
	if sc.RunAsGroup != nil && *sc.RunAsGroup < 0 {
		errs.add(p+".runAsGroup", "must be >= 0, got %d", *sc.RunAsGroup)
	}
	if sc.GetRunAsNonRoot() && sc.RunAsUser != nil && *sc.RunAsUser == 0 {
		errs.add(p+".runAsNonRoot", "runAsUser 0 is root; drop one of them")
	}
	if sc.GetPrivileged() && sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
		errs.add(p+".allowPrivilegeEscalation", "cannot be false when privileged is true")
	}
	for field, caps := range map[string][]string{"add": sc.GetCapabilities().GetAdd(), "drop": sc.GetCapabilities().GetDrop()} {
		for i, c := range caps {
			if c != "ALL" && !capabilityRE.MatchString(c) {
				errs.add(fmt.Sprintf("%s.capabilities.%s[%d]", p, field, i), "%q is not a capability name (such as NET_ADMIN, or ALL)", c)
			}
		}
	}
}
