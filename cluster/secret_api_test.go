package cluster_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/raftcron/raftcron/client"
	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

func secretEnvJob(name, secret string, optional bool) *pb.Resource {
	ref := &pb.SecretKeySelector{Name: secret, Key: "password"}
	if optional {
		ref.Optional = new(bool)
		*ref.Optional = true
	}
	return &pb.Resource{Kind: &pb.Resource_Job{Job: &pb.Job{
		Metadata: &pb.ObjectMeta{Name: name},
		Spec: &pb.JobSpec{Suspend: new(bool), Template: &pb.PodTemplateSpec{Spec: &pb.PodSpec{RestartPolicy: "Never",
			Containers: []*pb.Container{{Name: "main", Image: "busybox:1", Env: []*pb.EnvVar{{Name: "PW", ValueFrom: &pb.EnvVarSource{SecretKeyRef: ref}}}}}}}},
	}}}
}

func TestSecretsThroughTheAPI(t *testing.T) {
	tc := newTestCluster(t, 1)
	c := dial(t, tc.waitLeader().grpcAddr)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// A Job naming a Secret that does not exist is refused, and nothing is written.
	_, err := c.Apply(ctx, []*pb.Resource{secretEnvJob("early", "db", false)}, false)
	if !errors.Is(err, client.ErrInvalid) || !strings.Contains(err.Error(), `spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef.name: Secret "db" not found in namespace "default"`) {
		t.Fatalf("apply with a missing secret: %v", err)
	}
	if _, err := c.GetJob(ctx, "default", "early"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("the refused Job was written: %v", err)
	}
	// Optional references need no Secret.
	if _, err := c.Apply(ctx, []*pb.Resource{secretEnvJob("optional", "nope", true)}, false); err != nil {
		t.Fatal(err)
	}

	// A Secret and a Job that uses it, applied together.
	sec := &pb.Resource{Kind: &pb.Resource_Secret{Secret: &pb.Secret{Metadata: &pb.ObjectMeta{Name: "db"},
		StringData: map[string]string{"password": "s3cr3t"}}}}
	res, err := c.Apply(ctx, []*pb.Resource{sec, secretEnvJob("uses", "db", false)}, false)
	if err != nil || len(res) != 2 || res[0].GetKind() != pb.KindSecret || res[0].GetAction() != "created" {
		t.Fatalf("apply = %v, %v", res, err)
	}
	if res, err := c.Apply(ctx, []*pb.Resource{sec}, true); err != nil || res[0].GetAction() != "unchanged" {
		t.Fatalf("dry run of the same secret = %v, %v", res, err)
	}
	got, err := c.GetSecret(ctx, "default", "db")
	if err != nil {
		t.Fatal(err)
	}
	if string(got.GetData()["password"]) != pb.Redacted || got.GetType() != pb.SecretTypeOpaque || len(got.GetStringData()) != 0 {
		t.Fatalf("get secret = %v", got)
	}
	list, err := c.ListSecrets(ctx, "")
	if err != nil || len(list) != 1 || strings.Contains(list[0].String(), "s3cr3t") {
		t.Fatalf("list secrets = %v, %v", list, err)
	}
	if err := c.Delete(ctx, client.KindSecret, "default", "db"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetSecret(ctx, "default", "db"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
}
