package raft

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
)

// storedCronJob is a CronJob as the tables keep it. A decoded spec (job
// template, pod spec, containers, nodeSelector map...) costs over 1 KB of
// heap while its encoding is under 100 bytes, and with 100,000 CronJobs that
// dominated a server's memory. So the spec is kept encoded and decoded only
// when a reader asks for the CronJob; metadata and status stay decoded,
// because they are small, read often (metrics, lists) and change on every
// tick. The few spec facts the tables read on every change or scrape
// (suspend, dependsOn) are kept decoded beside the bytes.
//
// Like every stored object it is immutable: a change stores a new one,
// which shares whatever did not change (the spec bytes above all).
type storedCronJob struct {
	apiVersion, kind string
	meta             *pb.ObjectMeta
	status           *pb.CronJobStatus
	// spec is the deterministic encoding of the spec; nil when the CronJob
	// has no spec (an empty spec is a non-nil empty slice).
	spec []byte
	// suspend is spec.suspend; deps are the names in spec.dependsOn.
	suspend bool
	deps    []string
	// unknown holds fields of the CronJob itself this build does not know
	// (written by a newer one), so that they survive as they did before.
	unknown []byte
}

var specEncoding = proto.MarshalOptions{Deterministic: true}

// newStoredCronJob makes the stored form of cj. It does not keep cj's spec.
func newStoredCronJob(cj *pb.CronJob) *storedCronJob {
	c := &storedCronJob{
		apiVersion: intern(cj.GetApiVersion(), APIVersion),
		kind:       intern(cj.GetKind(), KindCronJob),
		meta:       cj.GetMetadata(),
		status:     cj.GetStatus(),
		unknown:    cj.ProtoReflect().GetUnknown(),
	}
	return c.withSpec(cj.GetSpec())
}

// intern returns the constant when s equals it, so that a million decoded
// copies of "batch/v1" do not each hold their own bytes.
func intern(s, constant string) string {
	if s == constant {
		return constant
	}
	return s
}

// withSpec returns a copy of c with another spec (encoded here; spec is not kept).
func (c *storedCronJob) withSpec(spec *pb.CronJobSpec) *storedCronJob {
	n := *c
	n.spec, n.suspend, n.deps = nil, spec.GetSuspend(), nil
	if spec != nil {
		b, err := specEncoding.Marshal(spec)
		if err != nil {
			// The spec was decoded from a log entry or a snapshot, so it
			// encodes; failing here is a programming error.
			panic(fmt.Sprintf("raft: encode cronjob spec: %v", err))
		}
		if b == nil {
			b = []byte{}
		}
		n.spec = b
	}
	for _, d := range spec.GetDependsOn() {
		n.deps = append(n.deps, d.GetCronJob())
	}
	return &n
}

// with returns a copy of c with other metadata and status, sharing the
// encoded spec: a status update neither decodes nor encodes it.
func (c *storedCronJob) with(meta *pb.ObjectMeta, status *pb.CronJobStatus) *storedCronJob {
	n := *c
	n.meta, n.status = meta, status
	return &n
}

// decodeSpec returns the spec (nil when there is none), from specCache when
// this stored CronJob was decoded lately. Like every object a reader gets, it
// must not be modified.
func (c *storedCronJob) decodeSpec() *pb.CronJobSpec {
	if c.spec == nil {
		return nil
	}
	slot := &specCache[uintptr(unsafe.Pointer(c))/unsafe.Sizeof(*c)%uintptr(len(specCache))]
	if e := slot.Load(); e != nil && e.of == c {
		return e.spec
	}
	spec := c.specCopy()
	slot.Store(&cachedSpec{of: c, spec: spec})
	return spec
}

// specCopy decodes the spec into a new message of the caller's own, which
// it may change (nil when there is none).
func (c *storedCronJob) specCopy() *pb.CronJobSpec {
	if c.spec == nil {
		return nil
	}
	spec := &pb.CronJobSpec{}
	if err := proto.Unmarshal(c.spec, spec); err != nil {
		panic(fmt.Sprintf("raft: decode stored cronjob spec: %v", err))
	}
	return spec
}

// specCache keeps the specs of the CronJobs decoded lately, so that the
// leader, which reads the same CronJobs several times for each of their runs
// (deciding the tick, placing the attempt, collecting the history), decodes
// each once per change instead of on every read. It is direct-mapped by the
// stored CronJob's address: a slot holds the last one decoded there, and a
// stored CronJob is immutable, so an entry is never stale, only evicted. It
// holds at most len(specCache) decoded specs (about 1.5 MB).
var specCache [1024]atomic.Pointer[cachedSpec]

type cachedSpec struct {
	of   *storedCronJob
	spec *pb.CronJobSpec
}

// cronJob returns the CronJob: a new CronJob around its decoded spec (often
// shared through specCache), its metadata and status shared with the tables
// (never modified, as every stored object).
// A nil c gives nil.
func (c *storedCronJob) cronJob() *pb.CronJob {
	if c == nil {
		return nil
	}
	cj := &pb.CronJob{ApiVersion: c.apiVersion, Kind: c.kind, Metadata: c.meta, Spec: c.decodeSpec(), Status: c.status}
	if c.unknown != nil {
		cj.ProtoReflect().SetUnknown(c.unknown)
	}
	return cj
}

// appendMarshal appends the deterministic encoding of the whole CronJob
// (what proto.MarshalOptions{Deterministic: true} gives for cronJob()) to
// b without decoding the spec: the fields before the spec, the stored spec
// bytes, then the status. Deterministic marshaling writes known fields in
// field-number order, then unknown fields (resources.proto: api_version 1,
// kind 2, metadata 3, spec 4, status 5).
func (c *storedCronJob) appendMarshal(b []byte) ([]byte, error) {
	b, err := specEncoding.MarshalAppend(b, &pb.CronJob{ApiVersion: c.apiVersion, Kind: c.kind, Metadata: c.meta})
	if err != nil {
		return nil, err
	}
	if c.spec != nil {
		b = protowire.AppendTag(b, cronJobSpecField, protowire.BytesType)
		b = protowire.AppendBytes(b, c.spec)
	}
	if c.status != nil {
		if b, err = specEncoding.MarshalAppend(b, &pb.CronJob{Status: c.status}); err != nil {
			return nil, err
		}
	}
	return append(b, c.unknown...), nil
}

// cronJobSpecField is the field number of CronJob.spec.
var cronJobSpecField = (&pb.CronJob{}).ProtoReflect().Descriptor().Fields().ByName("spec").Number()

func (c *storedCronJob) namespace() string { return c.meta.GetNamespace() }
func (c *storedCronJob) name() string      { return c.meta.GetName() }

// decodeCronJobs decodes a list read under the lock (after it is released:
// stored CronJobs are immutable).
func decodeCronJobs(cs []*storedCronJob) []*pb.CronJob {
	out := make([]*pb.CronJob, len(cs))
	for i, c := range cs {
		out[i] = c.cronJob()
	}
	return out
}
