package scheduler

import (
	"fmt"
	"regexp"
	"sort"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// MaxSecretNameLength is Kubernetes' limit for a Secret's name (a DNS-1123
// subdomain; raftcron asks for a label, which is stricter).
const MaxSecretNameLength = 63

var secretKeyRE = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)

// SetSecretDefaults fills a Secret's type (Opaque) and merges stringData
// into data (stringData wins, as in Kubernetes); stringData is then dropped,
// so it is never stored.
func SetSecretDefaults(s *pb.Secret) {
	if s.ApiVersion == "" {
		s.ApiVersion = pb.SecretAPIVersion
	}
	if s.Kind == "" {
		s.Kind = pb.KindSecret
	}
	if s.Type == "" {
		s.Type = pb.SecretTypeOpaque
	}
	setMetaDefaults(&s.Metadata)
	if len(s.StringData) > 0 {
		if s.Data == nil {
			s.Data = make(map[string][]byte, len(s.StringData))
		}
		for k, v := range s.StringData {
			s.Data[k] = []byte(v)
		}
	}
	s.StringData = nil
}

// ValidateSecret checks a Secret (after SetSecretDefaults).
func ValidateSecret(s *pb.Secret) error {
	if s == nil {
		return &ValidationError{Kind: pb.KindSecret, Errors: []FieldError{{Field: "(object)", Problem: "missing"}}}
	}
	var errs fieldErrors
	if s.ApiVersion != pb.SecretAPIVersion {
		errs.add("apiVersion", "%q is not supported; use v1", s.ApiVersion)
	}
	if s.Kind != pb.KindSecret {
		errs.add("kind", "must be Secret, got %q", s.Kind)
	}
	validateObjectMeta(&errs, s.Metadata, MaxSecretNameLength, pb.KindSecret)
	keys := make([]string, 0, len(s.Data))
	for k := range s.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case len(k) > 253:
			errs.add("data", "key %.20q... is longer than 253 characters", k)
		case !secretKeyRE.MatchString(k) || k == "." || k == "..":
			errs.add("data."+k, "%q is not a valid key (letters, digits, '-', '_' or '.'; not . or ..)", k)
		}
	}
	return newValidationError(pb.KindSecret, s.Metadata, errs)
}

// SecretRef is one env[].valueFrom.secretKeyRef of a Job or CronJob
// template, with the field path that names it.
type SecretRef struct {
	Field    string
	Name     string
	Key      string
	Optional bool
}

// SecretRefs lists the secretKeyRefs of a Job spec's containers; p is the
// spec's field path ("spec" or "spec.jobTemplate.spec").
func SecretRefs(p string, s *pb.JobSpec) []SecretRef {
	var out []SecretRef
	for ci, c := range s.GetTemplate().GetSpec().GetContainers() {
		for ei, e := range c.GetEnv() {
			if ref := e.GetValueFrom().GetSecretKeyRef(); ref != nil {
				out = append(out, SecretRef{
					Field:    fmt.Sprintf("%s.template.spec.containers[%d].env[%d].valueFrom.secretKeyRef", p, ci, ei),
					Name:     ref.GetName(),
					Key:      ref.GetKey(),
					Optional: ref.GetOptional(),
				})
			}
		}
	}
	return out
}

// validateEnvSource checks one env entry's valueFrom (called by
// validateContainer).
func validateEnvSource(errs *fieldErrors, p string, e *pb.EnvVar) {
	vf := e.GetValueFrom()
	if vf == nil {
		return
	}
	if e.GetValue() != "" {
		errs.add(p+".valueFrom", "may not be set when value is set")
	}
	ref := vf.GetSecretKeyRef()
	if ref == nil {
		errs.add(p+".valueFrom", "must set secretKeyRef (the only source raftcron supports)")
		return
	}
	if ref.GetName() == "" {
		errs.add(p+".valueFrom.secretKeyRef.name", "required")
	} else if pr := dnsLabelProblem(ref.GetName(), MaxSecretNameLength); pr != "" {
		errs.add(p+".valueFrom.secretKeyRef.name", "%s", pr)
	}
	if ref.GetKey() == "" {
		errs.add(p+".valueFrom.secretKeyRef.key", "required")
	} else if !secretKeyRE.MatchString(ref.GetKey()) {
		errs.add(p+".valueFrom.secretKeyRef.key", "%q is not a valid key", ref.GetKey())
	}
}

// SecretLookup returns one value of a Secret (secret: it exists; hasKey: it
// holds the key).
type SecretLookup func(namespace, name, key string) (value []byte, secret, hasKey bool)

// ResolveSecretEnv puts the values of the Job's secretKeyRefs into a run
// spec's env (the leader calls it when it sends the attempt to its worker;
// nothing else sees the values). A missing Secret or key that is not
// optional sets rs.Refused, so the worker refuses the attempt with that
// reason. Variables RunSpecFor sets itself (RAFTCRON_*) keep their values.
func ResolveSecretEnv(rs *pb.RunSpec, job *pb.Job, lookup SecretLookup) {
	ns := job.GetMetadata().GetNamespace()
	cs := job.GetSpec().GetTemplate().GetSpec().GetContainers()
	if len(cs) == 0 {
		return
	}
	for _, e := range cs[0].GetEnv() {
		ref := e.GetValueFrom().GetSecretKeyRef()
		if ref == nil || reservedEnv[e.GetName()] {
			continue
		}
		v, secret, hasKey := lookup(ns, ref.GetName(), ref.GetKey())
		switch {
		case hasKey:
			rs.Env[e.GetName()] = string(v)
		case ref.GetOptional():
			delete(rs.Env, e.GetName())
		case !secret:
			rs.Refused = fmt.Sprintf("env %s: Secret %q not found in namespace %q", e.GetName(), ref.GetName(), ns)
			return
		default:
			rs.Refused = fmt.Sprintf("env %s: Secret %q has no key %q", e.GetName(), ref.GetName(), ref.GetKey())
			return
		}
	}
}

// reservedEnv are the variables RunSpecFor sets for every attempt.
var reservedEnv = map[string]bool{EnvCompletionIndex: true, EnvJob: true, EnvNamespace: true, EnvAttempt: true, EnvScheduledTime: true}
