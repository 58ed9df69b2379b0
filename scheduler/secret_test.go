package scheduler

import (
	"errors"
	"strings"
	"testing"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"google.golang.org/protobuf/proto"
)

func secretJob(env ...*pb.EnvVar) *pb.Job {
	return &pb.Job{Metadata: &pb.ObjectMeta{Namespace: "team-a", Name: "j"}, Spec: &pb.JobSpec{Template: &pb.PodTemplateSpec{
		Spec: &pb.PodSpec{RestartPolicy: "Never", Containers: []*pb.Container{{Name: "c", Image: "busybox:1", Env: env}}}}}}
}

func fromSecret(name, secret, key string, optional bool) *pb.EnvVar {
	ref := &pb.SecretKeySelector{Name: secret, Key: key}
	if optional {
		ref.Optional = proto.Bool(true)
	}
	return &pb.EnvVar{Name: name, ValueFrom: &pb.EnvVarSource{SecretKeyRef: ref}}
}

func TestResolveSecretEnv(t *testing.T) {
	store := map[string]map[string]string{"team-a/db": {"password": "s3cr3t"}}
	lookup := func(ns, name, key string) ([]byte, bool, bool) {
		s, ok := store[ns+"/"+name]
		if !ok {
			return nil, false, false
		}
		v, ok := s[key]
		return []byte(v), true, ok
	}
	tests := []struct {
		name    string
		env     []*pb.EnvVar
		want    map[string]string // expected user variables ("" = absent)
		refused string
	}{
		{"value", []*pb.EnvVar{fromSecret("PW", "db", "password", false), {Name: "PLAIN", Value: "x"}},
			map[string]string{"PW": "s3cr3t", "PLAIN": "x"}, ""},
		{"optional missing secret", []*pb.EnvVar{fromSecret("PW", "nope", "password", true)}, map[string]string{"PW": ""}, ""},
		{"optional missing key", []*pb.EnvVar{fromSecret("PW", "db", "user", true)}, map[string]string{"PW": ""}, ""},
		{"missing secret", []*pb.EnvVar{fromSecret("PW", "nope", "password", false)}, nil, `env PW: Secret "nope" not found in namespace "team-a"`},
		{"missing key", []*pb.EnvVar{fromSecret("PW", "db", "user", false)}, nil, `env PW: Secret "db" has no key "user"`},
		{"reserved name kept", []*pb.EnvVar{fromSecret(EnvJob, "db", "password", false)}, map[string]string{EnvJob: "j"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			job := secretJob(tc.env...)
			at := &pb.Attempt{Namespace: "team-a", Job: "j", Name: "j-0-1"}
			rs := RunSpecFor(job, at)
			ResolveSecretEnv(rs, job, lookup)
			if rs.GetRefused() != tc.refused {
				t.Fatalf("refused = %q, want %q", rs.GetRefused(), tc.refused)
			}
			for k, v := range tc.want {
				got, ok := rs.Env[k]
				if v == "" && ok {
					t.Errorf("env %s = %q, want it absent", k, got)
				} else if v != "" && got != v {
					t.Errorf("env %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestPrepareSecret(t *testing.T) {
	sec := &pb.Secret{Metadata: &pb.ObjectMeta{Name: "db"}, Data: map[string][]byte{"a": []byte("1")},
		StringData: map[string]string{"a": "2", "b": "3"}}
	res := []*pb.Resource{{Kind: &pb.Resource_Secret{Secret: sec}}}
	if err := PrepareResources(res); err != nil {
		t.Fatal(err)
	}
	if sec.GetType() != pb.SecretTypeOpaque || sec.GetMetadata().GetNamespace() != DefaultNamespace || sec.StringData != nil ||
		string(sec.Data["a"]) != "2" || string(sec.Data["b"]) != "3" {
		t.Fatalf("prepared secret = %v", sec)
	}

	bad := &pb.Secret{Metadata: &pb.ObjectMeta{Name: "Bad_Name"}, Data: map[string][]byte{"no/slash": nil}}
	err := PrepareResources([]*pb.Resource{{Kind: &pb.Resource_Secret{Secret: bad}}})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "metadata.name") || !strings.Contains(err.Error(), `data.no/slash`) {
		t.Fatalf("err = %v", err)
	}

	job := secretJob(&pb.EnvVar{Name: "PW", Value: "x", ValueFrom: &pb.EnvVarSource{SecretKeyRef: &pb.SecretKeySelector{}}})
	err = PrepareResources([]*pb.Resource{{Kind: &pb.Resource_Job{Job: job}}})
	for _, want := range []string{"env[0].valueFrom: may not be set when value is set", "secretKeyRef.name: required", "secretKeyRef.key: required"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to say %q", err, want)
		}
	}
}
