package client

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"go.yaml.in/yaml/v2"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	sigsyaml "sigs.k8s.io/yaml"

	pb "github.com/raftcron/raftcron/proto/raftcron/v1"
	"github.com/raftcron/raftcron/scheduler"
)

// DecodeOptions tune DecodeManifests.
type DecodeOptions struct {
	// Namespace applies to objects whose metadata.namespace is empty (the
	// CLI's -n); "default" when both are empty.
	Namespace string
	// EnforceNamespace makes an object whose metadata.namespace is not
	// Namespace an error, as kubectl does when -n is given.
	EnforceNamespace bool
	// IgnoreUnsupported turns fields raftcron does not implement, and
	// unknown fields, into warnings (the field is dropped) instead of errors.
	IgnoreUnsupported bool
}

// ManifestError lists every problem found in a manifest stream, one per
// line, each naming the document and the field. errors.Is(err,
// scheduler.ErrInvalid) holds for it.
type ManifestError struct {
	Problems []string
}

func (e *ManifestError) Error() string { return strings.Join(e.Problems, "\n") }

// Is makes errors.Is(err, scheduler.ErrInvalid) true.
func (e *ManifestError) Is(target error) bool { return target == scheduler.ErrInvalid }

// Accepted apiVersions. raftcron.io/v1 is raftcron's own name for the same
// shape.
var supportedAPIVersions = []string{"batch/v1", "raftcron.io/v1"}

// DecodeManifests reads one or more YAML (or JSON) documents separated by
// `---` and returns the CronJobs and Jobs in them, in order. Kubernetes
// batch/v1 CronJob and Job manifests apply as written.
//
// Decoding is strict: a key that raftcron has no field for is an error that
// names the document and the field's full path, saying "field not supported
// by raftcron" for Kubernetes fields raftcron does not implement and
// "unknown field" for anything else (with IgnoreUnsupported both become
// warnings and the field is dropped). Values of the wrong type are errors.
// status and the read-only metadata (resourceVersion, uid, generation,
// creationTimestamp) are dropped without a word, so the output of
// EncodeManifest applies back. Empty documents are skipped. All problems of
// all documents are reported together in a *ManifestError; on error no
// resources are returned.
func DecodeManifests(r io.Reader, opts DecodeOptions) (resources []*pb.Resource, warnings []string, err error) {
	d := &manifestDecoder{opts: opts}
	rr := &errReader{r: r}
	dec := yaml.NewDecoder(rr)
	for n := 1; ; n++ {
		var doc document
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if rr.err != nil {
			return nil, nil, fmt.Errorf("read manifests: %w", rr.err)
		}
		if err != nil {
			// yaml's messages carry the line ("yaml: line 7: ...").
			d.problems = append(d.problems, fmt.Sprintf("document %d: malformed YAML: %v", n, err))
			break // the stream cannot be read past a syntax error
		}
		if !doc.set || (!doc.isMap && doc.other == nil) {
			continue // empty document
		}
		if !doc.isMap {
			d.problems = append(d.problems, fmt.Sprintf("document %d: must be a mapping with apiVersion, kind, metadata and spec, got %s", n, describe(doc.other)))
			continue
		}
		d.decodeObject(fmt.Sprintf("document %d", n), doc.m)
	}
	if len(d.problems) == 0 && len(d.resources) == 0 {
		d.problems = append(d.problems, "no CronJob or Job found: the input is empty")
	}
	if len(d.problems) > 0 {
		return nil, d.warnings, &ManifestError{Problems: d.problems}
	}
	return d.resources, d.warnings, nil
}

// errReader remembers a read error, so that it is not reported as bad YAML.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

// document captures one YAML document, keeping mapping keys in order.
type document struct {
	set   bool
	isMap bool
	m     yaml.MapSlice
	other any
}

func (d *document) UnmarshalYAML(unmarshal func(any) error) error {
	d.set = true
	if err := unmarshal(&d.other); err != nil {
		return err
	}
	if _, ok := d.other.(map[any]any); !ok {
		return nil
	}
	// Decode again, keeping the keys in the order written.
	d.isMap = true
	return unmarshal(&d.m)
}

type manifestDecoder struct {
	opts      DecodeOptions
	resources []*pb.Resource
	warnings  []string
	problems  []string

	label    string   // "document 2 (Job \"pi\")"
	objProbs []string // problems of the current object
}

func (d *manifestDecoder) problem(path, format string, args ...any) {
	d.objProbs = append(d.objProbs, fmt.Sprintf("%s: %s: %s", d.label, path, fmt.Sprintf(format, args...)))
}

// decodeObject decodes one top-level object, or each item of a kind: List.
func (d *manifestDecoder) decodeObject(where string, m yaml.MapSlice) {
	apiVersion, _ := lookup(m, "apiVersion").(string)
	kind, _ := lookup(m, "kind").(string)
	if kind != "List" || apiVersion != "v1" {
		d.decodeSingle(where, m)
		return
	}
	items, ok := lookup(m, "items").([]any)
	if !ok {
		d.problems = append(d.problems, fmt.Sprintf("%s (List): items: must be a list of CronJobs and Jobs", where))
		return
	}
	for i, it := range items {
		im, ok := it.(yaml.MapSlice)
		if !ok {
			d.problems = append(d.problems, fmt.Sprintf("%s (List): items[%d]: must be a mapping, got %s", where, i, describe(it)))
			continue
		}
		d.decodeSingle(fmt.Sprintf("%s, items[%d]", where, i), im)
	}
}

// decodeSingle decodes one CronJob or Job.
func (d *manifestDecoder) decodeSingle(where string, m yaml.MapSlice) {
	apiVersion, _ := lookup(m, "apiVersion").(string)
	kind, _ := lookup(m, "kind").(string)
	name := ""
	if meta, ok := lookup(m, "metadata").(yaml.MapSlice); ok {
		name, _ = lookup(meta, "name").(string)
	}
	d.label = where
	switch {
	case kind != "" && name != "":
		d.label = fmt.Sprintf("%s (%s %q)", where, kind, name)
	case kind != "":
		d.label = fmt.Sprintf("%s (%s)", where, kind)
	}
	d.objProbs = nil
	defer func() { d.problems = append(d.problems, d.objProbs...) }()

	switch v := lookup(m, "apiVersion"); {
	case v == nil && kind == pb.KindSecret:
		d.problem("apiVersion", "required: v1")
	case v == nil:
		d.problem("apiVersion", "required: batch/v1")
	case kind == pb.KindSecret && apiVersion != pb.SecretAPIVersion:
		d.problem("apiVersion", "%s is not supported for a Secret; use v1", describeValue(v))
	case kind != pb.KindSecret && !contains(supportedAPIVersions, apiVersion):
		d.problem("apiVersion", "%s is not supported; use batch/v1", describeValue(v))
	}
	var msg proto.Message
	switch kind {
	case "CronJob":
		msg = &pb.CronJob{}
	case "Job":
		msg = &pb.Job{}
	case pb.KindSecret:
		msg = &pb.Secret{}
	default:
		if v := lookup(m, "kind"); v == nil {
			d.problem("kind", "required: CronJob, Job or Secret")
		} else {
			d.problem("kind", "%s is not supported; use CronJob, Job or Secret", describeValue(v))
		}
		return
	}
	if len(d.objProbs) > 0 {
		return
	}

	tree := d.walkMessage("", m, msg.ProtoReflect().Descriptor())
	if len(d.objProbs) > 0 {
		return
	}
	js, err := json.Marshal(tree)
	if err != nil {
		d.problem("(object)", "cannot encode: %v", err)
		return
	}
	if err := protojson.Unmarshal(js, msg); err != nil {
		d.problem("(object)", "%v", err)
		return
	}
	if ns := lookupNamespace(m); d.opts.EnforceNamespace && ns != "" && ns != d.opts.Namespace {
		d.problem("metadata.namespace", "%q does not match the namespace %q given (-n); pass -n %s or leave the namespace out of the manifest", ns, d.opts.Namespace, ns)
		return
	}
	switch o := msg.(type) {
	case *pb.CronJob:
		o.Metadata = d.namespaced(o.Metadata)
		d.resources = append(d.resources, &pb.Resource{Kind: &pb.Resource_CronJob{CronJob: o}})
	case *pb.Job:
		o.Metadata = d.namespaced(o.Metadata)
		d.resources = append(d.resources, &pb.Resource{Kind: &pb.Resource_Job{Job: o}})
	case *pb.Secret:
		o.Metadata = d.namespaced(o.Metadata)
		d.resources = append(d.resources, &pb.Resource{Kind: &pb.Resource_Secret{Secret: o}})
	}
}

// lookupNamespace is the metadata.namespace a manifest sets, or "".
func lookupNamespace(m yaml.MapSlice) string {
	meta, _ := lookup(m, "metadata").(yaml.MapSlice)
	ns, _ := lookup(meta, "namespace").(string)
	return ns
}

func (d *manifestDecoder) namespaced(m *pb.ObjectMeta) *pb.ObjectMeta {
	if m == nil {
		m = &pb.ObjectMeta{}
	}
	if m.Namespace == "" {
		m.Namespace = d.opts.Namespace
	}
	if m.Namespace == "" {
		m.Namespace = scheduler.DefaultNamespace
	}
	return m
}

const objectMetaName protoreflect.FullName = "raftcron.v1.ObjectMeta"

// readOnlyMeta are ObjectMeta fields the server sets (raftcron's, and
// Kubernetes' bookkeeping that `kubectl get -o yaml` prints); they are
// dropped on input so that exported objects apply back.
var readOnlyMeta = map[string]bool{"resourceVersion": true, "uid": true, "generation": true, "creationTimestamp": true,
	"managedFields": true, "selfLink": true}

// walkMessage checks a YAML mapping against a message descriptor and returns
// the JSON tree protojson takes: unknown and unsupported keys reported (or
// dropped with a warning), nulls dropped, scalars type-checked.
func (d *manifestDecoder) walkMessage(path string, m yaml.MapSlice, md protoreflect.MessageDescriptor) map[string]any {
	out := make(map[string]any, len(m))
	seen := make(map[string]bool, len(m))
	for _, item := range m {
		key, ok := item.Key.(string)
		if !ok {
			d.problem(joinPath(path, fmt.Sprint(item.Key)), "keys must be strings, got %s", describe(item.Key))
			continue
		}
		fp := joinPath(path, key)
		if seen[key] {
			d.problem(fp, "duplicate key")
			continue
		}
		seen[key] = true
		if path == "" && key == "status" {
			continue // written by raftcron, never by the user
		}
		if md.FullName() == objectMetaName && readOnlyMeta[key] {
			continue
		}
		fd := md.Fields().ByJSONName(key)
		if fd == nil {
			d.unknownField(fp, key, item.Value, md, m)
			continue
		}
		if item.Value == nil {
			continue // null: unset, as in Kubernetes
		}
		if v, ok := d.walkField(fp, item.Value, fd); ok {
			out[key] = v
		}
	}
	return out
}

func (d *manifestDecoder) unknownField(fp, key string, value any, md protoreflect.MessageDescriptor, parent yaml.MapSlice) {
	if known := kubernetesOnlyFields[md.FullName()]; known[key] {
		def, hasDefault := kubernetesDefaults[md.FullName()][key]
		if hasDefault && def.is(value, parent) {
			return // Kubernetes' default, as `kubectl get -o yaml` prints it: no effect here
		}
		if isEmpty(value) {
			if value != nil {
				d.warnings = append(d.warnings, fmt.Sprintf("%s: %s: field not supported by raftcron; empty, ignored", d.label, fp))
			}
			return
		}
		if d.opts.IgnoreUnsupported {
			d.warnings = append(d.warnings, fmt.Sprintf("%s: %s: field not supported by raftcron; ignored", d.label, fp))
			return
		}
		if hasDefault {
			d.problem(fp, "field not supported by raftcron; only Kubernetes' default (%s) is accepted, got %s", def.text, describe(value))
			return
		}
		d.problem(fp, "field not supported by raftcron%s", unsupportedHint[md.FullName()])
		return
	}
	if d.opts.IgnoreUnsupported {
		d.warnings = append(d.warnings, fmt.Sprintf("%s: %s: unknown field; ignored", d.label, fp))
		return
	}
	if s := suggest(key, md); s != "" {
		d.problem(fp, "unknown field (did you mean %q?)", s)
		return
	}
	d.problem(fp, "unknown field")
}

// walkField converts one field's YAML value to its JSON form.
func (d *manifestDecoder) walkField(fp string, v any, fd protoreflect.FieldDescriptor) (any, bool) {
	switch {
	case fd.IsMap():
		m, ok := v.(yaml.MapSlice)
		if !ok {
			d.problem(fp, "must be a mapping of strings to strings, got %s", describe(v))
			return nil, false
		}
		out := make(map[string]any, len(m))
		for _, item := range m {
			k, ok := item.Key.(string)
			if !ok {
				d.problem(joinPath(fp, fmt.Sprint(item.Key)), "keys must be strings, got %s (quote it)", describe(item.Key))
				continue
			}
			if _, dup := out[k]; dup {
				d.problem(joinPath(fp, k), "duplicate key")
				continue
			}
			if item.Value == nil {
				continue
			}
			if x, ok := d.walkScalar(joinPath(fp, k), item.Value, fd.MapValue(), isQuantityMap(fd)); ok {
				out[k] = x
			}
		}
		return out, true
	case fd.IsList():
		l, ok := v.([]any)
		if !ok {
			d.problem(fp, "must be a list, got %s", describe(v))
			return nil, false
		}
		out := make([]any, 0, len(l))
		for i, e := range l {
			ep := fmt.Sprintf("%s[%d]", fp, i)
			if e == nil {
				d.problem(ep, "must not be null")
				continue
			}
			if x, ok := d.walkSingle(ep, e, fd); ok {
				out = append(out, x)
			}
		}
		return out, true
	default:
		return d.walkSingle(fp, v, fd)
	}
}

func (d *manifestDecoder) walkSingle(fp string, v any, fd protoreflect.FieldDescriptor) (any, bool) {
	if fd.Kind() == protoreflect.MessageKind {
		if fd.Message().FullName() == "google.protobuf.Timestamp" {
			s, ok := v.(string)
			if !ok {
				d.problem(fp, "must be an RFC 3339 time string, got %s", describe(v))
				return nil, false
			}
			return s, true
		}
		m, ok := v.(yaml.MapSlice)
		if !ok {
			d.problem(fp, "must be a mapping, got %s", describe(v))
			return nil, false
		}
		return d.walkMessage(fp, m, fd.Message()), true
	}
	return d.walkScalar(fp, v, fd, false)
}

// walkScalar type-checks a scalar. Quantities (resources.limits/requests)
// may be written as numbers, as Kubernetes allows ("cpu: 1").
func (d *manifestDecoder) walkScalar(fp string, v any, fd protoreflect.FieldDescriptor, quantity bool) (any, bool) {
	switch fd.Kind() {
	case protoreflect.StringKind:
		switch x := v.(type) {
		case string:
			return x, true
		case int, int64, uint64, float64:
			if quantity {
				return fmt.Sprint(x), true
			}
		}
		d.problem(fp, "must be a string, got %s (quote it)", describe(v))
	case protoreflect.BytesKind:
		// Secret data: base64, as in Kubernetes.
		x, ok := v.(string)
		if !ok {
			d.problem(fp, "must be a base64 string, got %s (quote it)", describe(v))
			return nil, false
		}
		if x == pb.Redacted {
			d.problem(fp, "the value is %s (as get prints it); give the real value, base64-encoded, or use stringData", pb.Redacted)
			return nil, false
		}
		if _, err := base64.StdEncoding.DecodeString(x); err != nil {
			d.problem(fp, "is not valid base64: %v", err)
			return nil, false
		}
		return x, true
	case protoreflect.BoolKind:
		if b, ok := v.(bool); ok {
			return b, true
		}
		d.problem(fp, "must be true or false, got %s", describe(v))
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		if n, ok := integer(v); ok {
			if n < math.MinInt32 || n > math.MaxInt32 {
				d.problem(fp, "%d is out of range", n)
				return nil, false
			}
			return n, true
		}
		d.problem(fp, "must be an integer, got %s", describe(v))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		if n, ok := integer(v); ok {
			return n, true
		}
		d.problem(fp, "must be an integer, got %s", describe(v))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		if n, ok := integer(v); ok && n >= 0 {
			return n, true
		}
		d.problem(fp, "must be a non-negative integer, got %s", describe(v))
	default:
		d.problem(fp, "fields of type %s cannot be set in a manifest", fd.Kind())
	}
	return nil, false
}

func integer(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case uint64:
		if x > math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), true
		}
	}
	return 0, false
}

func isQuantityMap(fd protoreflect.FieldDescriptor) bool {
	return fd.ContainingMessage().FullName() == "raftcron.v1.ResourceRequirements"
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case yaml.MapSlice:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

// describe names a YAML value's type for an error message.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("string %q", x)
	case bool:
		return fmt.Sprintf("boolean %v", x)
	case int, int64, uint64:
		return fmt.Sprintf("number %v", x)
	case float64:
		return fmt.Sprintf("number %v", x)
	case yaml.MapSlice, map[any]any:
		return "a mapping"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%T", v)
}

func describeValue(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return describe(v)
}

func lookup(m yaml.MapSlice, key string) any {
	for _, it := range m {
		if k, ok := it.Key.(string); ok && k == key {
			return it.Value
		}
	}
	return nil
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// suggest returns the field name closest to a mistyped key, if one is close.
func suggest(key string, md protoreflect.MessageDescriptor) string {
	best, bestDist := "", 3
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		name := fields.Get(i).JSONName()
		if dist := editDistance(strings.ToLower(key), strings.ToLower(name)); dist < bestDist {
			best, bestDist = name, dist
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// EncodeManifest renders a CronJob or Job in the manifest shape: protojson
// with lowerCamel names and unset fields left out, as YAML (format "yaml" or
// "") or indented JSON ("json"). DecodeManifests takes the output back.
func EncodeManifest(res *pb.Resource, format string) ([]byte, error) {
	var msg proto.Message
	switch k := res.GetKind().(type) {
	case *pb.Resource_CronJob:
		c := proto.Clone(k.CronJob).(*pb.CronJob)
		if c.ApiVersion == "" {
			c.ApiVersion = scheduler.DefaultAPIVersion
		}
		if c.Kind == "" {
			c.Kind = "CronJob"
		}
		msg = c
	case *pb.Resource_Job:
		j := proto.Clone(k.Job).(*pb.Job)
		if j.ApiVersion == "" {
			j.ApiVersion = scheduler.DefaultAPIVersion
		}
		if j.Kind == "" {
			j.Kind = "Job"
		}
		msg = j
	case *pb.Resource_Secret:
		sec := proto.Clone(k.Secret).(*pb.Secret)
		sec.ApiVersion, sec.Kind = pb.SecretAPIVersion, pb.KindSecret
		msg = sec
	default:
		return nil, fmt.Errorf("encode manifest: resource is neither a CronJob, a Job nor a Secret")
	}
	js, err := protojson.MarshalOptions{}.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	if sec, ok := msg.(*pb.Secret); ok {
		// Whatever the server sent, a Secret's values print as REDACTED.
		if js, err = redactSecretJSON(js, sec); err != nil {
			return nil, fmt.Errorf("encode manifest: %w", err)
		}
	}
	switch format {
	case "json":
		var buf bytes.Buffer
		if err := json.Indent(&buf, js, "", "  "); err != nil {
			return nil, fmt.Errorf("encode manifest: %w", err)
		}
		buf.WriteByte('\n')
		return buf.Bytes(), nil
	case "yaml", "":
		y, err := sigsyaml.JSONToYAML(js)
		if err != nil {
			return nil, fmt.Errorf("encode manifest: %w", err)
		}
		return y, nil
	default:
		return nil, fmt.Errorf("encode manifest: unknown format %q (want yaml or json)", format)
	}
}

// redactSecretJSON replaces every data value of a Secret's JSON form with
// REDACTED (DecodeManifests refuses that value back).
func redactSecretJSON(js []byte, sec *pb.Secret) ([]byte, error) {
	if len(sec.GetData()) == 0 {
		return js, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(js, &obj); err != nil {
		return nil, err
	}
	data := make(map[string]string, len(sec.GetData()))
	for k := range sec.GetData() {
		data[k] = pb.Redacted
	}
	b, err := json.Marshal(data)
	if err != nil {
		return nil, err
	}
	obj["data"] = b
	return json.Marshal(obj)
}

// kubernetesOnlyFields are the Kubernetes fields of each message that
// raftcron has no field for: they say "not supported by raftcron", while any
// other missing key says "unknown field".
var kubernetesOnlyFields = map[protoreflect.FullName]map[string]bool{
	"raftcron.v1.ObjectMeta": set("generateName", "deletionTimestamp",
		"deletionGracePeriodSeconds", "ownerReferences", "finalizers"),
	"raftcron.v1.JobSpec": set("successPolicy", "backoffLimitPerIndex", "maxFailedIndexes",
		"selector", "manualSelector", "podReplacementPolicy", "managedBy"),
	"raftcron.v1.PodSpec": set("initContainers", "ephemeralContainers", "activeDeadlineSeconds",
		"dnsPolicy", "serviceAccountName", "serviceAccount", "automountServiceAccountToken",
		"nodeName", "hostIPC", "shareProcessNamespace", "securityContext", "imagePullSecrets",
		"hostname", "subdomain", "affinity", "schedulerName", "tolerations", "hostAliases",
		"priorityClassName", "priority", "dnsConfig", "readinessGates", "runtimeClassName",
		"enableServiceLinks", "preemptionPolicy", "overhead", "topologySpreadConstraints",
		"setHostnameAsFQDN", "os", "hostUsers", "schedulingGates", "resourceClaims", "resources"),
	"raftcron.v1.Volume": set("emptyDir", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo",
		"secret", "nfs", "iscsi", "glusterfs", "persistentVolumeClaim", "rbd", "flexVolume",
		"cinder", "cephfs", "flocker", "downwardAPI", "fc", "azureFile", "configMap",
		"vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk", "projected",
		"portworxVolume", "scaleIO", "storageos", "csi", "ephemeral", "image"),
	"raftcron.v1.Container": set("ports", "envFrom", "resizePolicy", "restartPolicy",
		"volumeDevices", "livenessProbe", "readinessProbe", "startupProbe", "lifecycle",
		"terminationMessagePath", "terminationMessagePolicy", "stdin", "stdinOnce", "tty"),
	"raftcron.v1.EnvVarSource":         set("fieldRef", "resourceFieldRef", "configMapKeyRef"),
	"raftcron.v1.ResourceRequirements": set("claims"),
	"raftcron.v1.VolumeMount":          set("recursiveReadOnly", "subPath", "mountPropagation", "subPathExpr"),
	"raftcron.v1.SecurityContext": set("seLinuxOptions", "windowsOptions",
		"procMount", "seccompProfile", "appArmorProfile"),
}

// kubernetesDefault is the value Kubernetes gives a field raftcron has no
// field for, where that value changes nothing here. Objects exported with
// `kubectl get -o yaml` carry these; they apply without a word, while any
// other value stays an error.
type kubernetesDefault struct {
	text string                                 // for the error message
	is   func(v any, parent yaml.MapSlice) bool // v is the default
}

func defaultValue(want any) kubernetesDefault {
	return kubernetesDefault{text: describeValue(want), is: func(v any, _ yaml.MapSlice) bool { return v == want }}
}

// emptyDefault: {} (or []), as `securityContext: {}` is printed.
var emptyDefault = kubernetesDefault{text: "empty", is: func(v any, _ yaml.MapSlice) bool { return isEmpty(v) }}

var kubernetesDefaults = map[protoreflect.FullName]map[string]kubernetesDefault{
	"raftcron.v1.PodSpec": {
		"dnsPolicy":             defaultValue("ClusterFirst"),
		"schedulerName":         defaultValue("default-scheduler"),
		"securityContext":       emptyDefault,
		"hostIPC":               defaultValue(false),
		"shareProcessNamespace": defaultValue(false),
		"setHostnameAsFQDN":     defaultValue(false),
		"enableServiceLinks":    defaultValue(true),
	},
	"raftcron.v1.Container": {
		"terminationMessagePath":   defaultValue("/dev/termination-log"),
		"terminationMessagePolicy": defaultValue("File"),
		"stdin":                    defaultValue(false),
		"stdinOnce":                defaultValue(false),
		"tty":                      defaultValue(false),
	},
	"raftcron.v1.VolumeMount": {
		"mountPropagation": defaultValue("None"),
	},
	"raftcron.v1.JobSpec": {
		"manualSelector": defaultValue(false),
		// TerminatingOrFailed, or Failed with a podFailurePolicy: a retry
		// here always starts after the attempt before it has ended.
		"podReplacementPolicy": {text: `"TerminatingOrFailed" ("Failed" with a podFailurePolicy)`, is: func(v any, parent yaml.MapSlice) bool {
			if lookup(parent, "podFailurePolicy") != nil {
				return v == "Failed"
			}
			return v == "TerminatingOrFailed" || v == "Failed"
		}},
		// The selector Kubernetes generates for a Job: its own controller-uid.
		"selector": {text: "the generated controller-uid selector", is: func(v any, parent yaml.MapSlice) bool {
			if b, _ := lookup(parent, "manualSelector").(bool); b {
				return false
			}
			sel, ok := v.(yaml.MapSlice)
			if !ok || len(sel) != 1 {
				return false
			}
			ml, ok := lookup(sel, "matchLabels").(yaml.MapSlice)
			if !ok || len(ml) == 0 {
				return false
			}
			for _, it := range ml {
				if k, _ := it.Key.(string); k != "batch.kubernetes.io/controller-uid" && k != "controller-uid" {
					return false
				}
			}
			return true
		}},
	},
}

var unsupportedHint = map[protoreflect.FullName]string{
	"raftcron.v1.Volume":          " (raftcron supports hostPath volumes only)",
	"raftcron.v1.SecurityContext": " (privileged, runAsUser, runAsGroup, runAsNonRoot, readOnlyRootFilesystem, allowPrivilegeEscalation and capabilities are)",
}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}
