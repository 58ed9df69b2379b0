package cluster

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// The leader resolves secretKeyRefs only into the assignment it sends the
// attempt's worker; a Secret deleted since the Job was applied makes the
// assignment carry a refusal instead of a value.
func TestAssignmentCarriesSecretValues(t *testing.T) {
	h := newSessionsHarness(t, fastConfig())
	now := timestamppb.Now()
	h.apply(&pb.Command{Op: &pb.Command_ApplyResources{ApplyResources: &pb.ApplyResources{Now: now, Secrets: []*pb.Secret{{
		Metadata: &pb.ObjectMeta{Name: "db", Namespace: "default"}, Data: map[string][]byte{"password": []byte("s3cr3t")},
	}}}}})
	for _, job := range []struct{ name, secret string }{{"uses", "db"}, {"gone", "deleted"}} {
		h.apply(&pb.Command{Op: &pb.Command_ApplyResources{ApplyResources: &pb.ApplyResources{Now: now, Jobs: []*pb.Job{{
			Metadata: &pb.ObjectMeta{Name: job.name, Namespace: "default"},
			Spec: &pb.JobSpec{Completions: proto.Int32(1), Template: &pb.PodTemplateSpec{Spec: &pb.PodSpec{
				RestartPolicy: "Never", Containers: []*pb.Container{{Name: "main", Image: "busybox", Env: []*pb.EnvVar{
					{Name: "PASSWORD", ValueFrom: &pb.EnvVarSource{SecretKeyRef: &pb.SecretKeySelector{Name: job.secret, Key: "password"}}},
					{Name: "PLAIN", Value: "visible"},
				}}}}}},
		}}}}})
		name := job.name + "-0-1"
		h.apply(&pb.Command{Op: &pb.Command_CreateAttempts{CreateAttempts: &pb.CreateAttempts{Attempts: []*pb.Attempt{{
			Namespace: "default", Job: job.name, Index: 0, Number: 1, Name: name, CreatedTime: now}}}}})
		h.apply(&pb.Command{Op: &pb.Command_AssignAttempt{AssignAttempt: &pb.AssignAttempt{Namespace: "default", Name: name, Worker: "w1", Now: now}}})
	}

	w := h.connect(&pb.Hello{WorkerId: "w1", Slots: 2, Runtime: "docker"})
	got := map[string]*pb.RunSpec{}
	for len(got) < 2 {
		as := w.next("assignment", func(m *pb.ServerMessage) bool { return m.GetAssign() != nil }).GetAssign()
		got[as.GetJob()] = as.GetRun()
	}
	if run := got["uses"]; run.GetEnv()["PASSWORD"] != "s3cr3t" || run.GetEnv()["PLAIN"] != "visible" || run.GetRefused() != "" {
		t.Errorf("run spec of uses: env %v refused %q", run.GetEnv(), run.GetRefused())
	}
	if run := got["gone"]; !strings.Contains(run.GetRefused(), `Secret "deleted" not found`) || run.GetEnv()["PASSWORD"] != "" {
		t.Errorf("run spec of gone: env %v refused %q", run.GetEnv(), run.GetRefused())
	}
	// The stored Job and every read of the Secret show no value.
	if j := h.node.State().Job("default", "uses"); strings.Contains(j.String(), "s3cr3t") {
		t.Errorf("the stored Job holds the value: %v", j)
	}
	if s := h.node.State().Secret("default", "db"); strings.Contains(s.String(), "s3cr3t") {
		t.Errorf("State.Secret returned the value: %v", s)
	}
}
