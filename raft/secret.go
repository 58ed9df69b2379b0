package raft

import (
	"maps"

	"google.golang.org/protobuf/proto"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// Secrets live in their own table, keyed by namespace and name. Their values
// leave the State only through SecretValue, which the leader calls when it
// builds an attempt's run spec; every other reader gets them redacted.

func (a *applier) applySecrets(in []*pb.Secret, res *pb.CommandResult, c *pb.ApplyResources) {
	for _, s := range in {
		ns := nsOrDefault(s.GetMetadata().GetNamespace())
		k := nsName{ns, s.GetMetadata().GetName()}
		old := a.t.secrets[k]
		if old == nil {
			n := proto.Clone(s).(*pb.Secret)
			n.ApiVersion, n.Kind = pb.SecretAPIVersion, pb.KindSecret
			n.StringData = nil
			md := n.Metadata
			md.Namespace = ns
			md.Generation = 1
			md.CreationTimestamp = cloneTS(c.GetNow())
			md.ResourceVersion = a.rv
			if md.Uid == "" {
				md.Uid = a.uid()
			}
			a.t.secrets[k] = n
			res.Actions = append(res.Actions, "created")
			continue
		}
		sameData, sameMeta := CompareSecret(old, s)
		if sameData && sameMeta {
			res.Actions = append(res.Actions, "unchanged")
			continue
		}
		n := proto.Clone(old).(*pb.Secret)
		n.Metadata.Labels = maps.Clone(s.GetMetadata().GetLabels())
		n.Metadata.Annotations = maps.Clone(s.GetMetadata().GetAnnotations())
		n.Metadata.ResourceVersion = a.rv
		if !sameData {
			n.Data = maps.Clone(s.GetData())
			n.Type = s.GetType()
			n.Immutable = s.Immutable
			n.Metadata.Generation++
		}
		a.t.secrets[k] = n
		res.Actions = append(res.Actions, "configured")
	}
}

// CompareSecret tells what ApplyResources will do with a Secret (whose
// stringData is already merged into data), like Compare for the other kinds.
func CompareSecret(old, in *pb.Secret) (sameData, sameMeta bool) {
	sameData = old.GetType() == in.GetType() && old.GetImmutable() == in.GetImmutable() &&
		maps.EqualFunc(old.GetData(), in.GetData(), func(a, b []byte) bool { return string(a) == string(b) })
	_, sameMeta = Compare(old.GetMetadata(), nil, in.GetMetadata(), nil)
	return sameData, sameMeta
}

// Secret returns a Secret with its values redacted, or nil.
func (s *State) Secret(namespace, name string) *pb.Secret {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return RedactSecret(s.t.secrets[nsName{nsOrDefault(namespace), name}])
}

// WithSecret calls f with the stored Secret (values included, nil when
// absent) under the read lock; f must not keep it.
func (s *State) WithSecret(namespace, name string, f func(*pb.Secret)) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	f(s.t.secrets[nsName{nsOrDefault(namespace), name}])
}

// SecretExists reports whether a Secret exists, and whether it holds key
// (when key is not empty).
func (s *State) SecretExists(namespace, name, key string) (secret, hasKey bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sec := s.t.secrets[nsName{nsOrDefault(namespace), name}]
	if sec == nil {
		return false, false
	}
	_, hasKey = sec.GetData()[key]
	return true, hasKey
}

// SecretValue returns one value of a Secret in plaintext. Only the leader's
// run-spec building calls it, for the worker that runs the attempt.
func (s *State) SecretValue(namespace, name, key string) (value []byte, secret, hasKey bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sec := s.t.secrets[nsName{nsOrDefault(namespace), name}]
	if sec == nil {
		return nil, false, false
	}
	v, ok := sec.GetData()[key]
	return v, true, ok
}

// ListSecrets returns the Secrets of a namespace ("" = all), redacted,
// ordered by namespace and name.
func (s *State) ListSecrets(namespace string) []*pb.Secret {
	s.mu.RLock()
	out := make([]*pb.Secret, 0)
	for k, v := range s.t.secrets {
		if namespace == "" || k.ns == namespace {
			out = append(out, RedactSecret(v))
		}
	}
	s.mu.RUnlock()
	sortSecrets(out)
	return out
}

// RedactSecret returns a copy of a Secret whose every data value reads
// REDACTED (nil for nil). The keys stay visible.
func RedactSecret(sec *pb.Secret) *pb.Secret {
	if sec == nil {
		return nil
	}
	out := &pb.Secret{ApiVersion: sec.GetApiVersion(), Kind: sec.GetKind(), Metadata: sec.GetMetadata(),
		Type: sec.GetType(), Immutable: sec.Immutable}
	if len(sec.GetData()) > 0 {
		out.Data = make(map[string][]byte, len(sec.GetData()))
		for k := range sec.GetData() {
			out.Data[k] = []byte(pb.Redacted)
		}
	}
	return out
}
